"""Format rewards: teach the R1 output template (DeepSeek-R1, 2.2.1 and 2.2.2).

R1-Zero's template asks the model to reason inside `<think>...</think>` and answer inside
`<answer>...</answer>`; a format reward, beside the accuracy reward, is what makes a base
model adopt that structure under RL, which in turn lets the accuracy reward find the
answer. The functions here are open-r1's, pattern for pattern, so scores are identical:

- `format_reward`: 1.0 for the exact template (newline after each opening tag), else 0.0;
- `tag_count_reward`: 0.25 per correctly placed tag, a denser signal early in training,
  when the strict template is almost never produced in full;
- `reasoning_steps_reward`: rewards visible step structure ("Step 1:", numbered lists,
  "First,"), full marks from 3 steps;
- `get_code_format_reward`: the template with a fenced code block of the right language
  in the answer (per-sample language from a `language` column when there is one).

Data flow: completions from the rollout -> regular expressions -> one float each -> the
weighted reward sum the trainer turns into advantages.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from r1_rewards._completions import completion_texts

# re.MULTILINE makes `$` match before any newline, as in open-r1: text after the closing
# </answer> on later lines is tolerated. Kept for identical scores.
_TEMPLATE = re.compile(
    r"^<think>\n.*?\n</think>\n<answer>\n.*?\n</answer>$", re.DOTALL | re.MULTILINE
)
_STEP = re.compile(r"(Step \d+:|^\d+\.|\n-|\n\*|First,|Second,|Next,|Finally,)")
_STEPS_FOR_FULL_CREDIT = 3


def format_score(text: str) -> float:
    """1.0 when `text` follows `<think>\\n...\\n</think>\\n<answer>\\n...\\n</answer>`."""
    return 1.0 if _TEMPLATE.match(text) else 0.0


def format_reward(completions: Sequence[Any], **kwargs: Any) -> list[float]:
    """Checks the reasoning is inside <think></think> and the answer inside <answer></answer>."""
    return [format_score(t) for t in completion_texts(completions)]


def tag_count_score(text: str) -> float:
    """0.25 for each of the four tags of the template that appears exactly once."""
    score = 0.0
    for tag in ("<think>\n", "\n</think>\n", "\n<answer>\n", "\n</answer>"):
        if text.count(tag) == 1:
            score += 0.25
    return score


def tag_count_reward(completions: Sequence[Any], **kwargs: Any) -> list[float]:
    """Partial credit for the template's tags: 0.25 per tag present exactly once."""
    return [tag_count_score(t) for t in completion_texts(completions)]


def reasoning_steps_score(text: str) -> float:
    """min(1, number of step markers / 3)."""
    return min(1.0, len(_STEP.findall(text)) / _STEPS_FOR_FULL_CREDIT)


def reasoning_steps_reward(completions: Sequence[Any], **kwargs: Any) -> list[float]:
    """Rewards explicit step-by-step structure; 3 or more markers earn 1.0."""
    return [reasoning_steps_score(t) for t in completion_texts(completions)]


def code_format_score(text: str, language: str) -> float:
    """1.0 for the template with a ```language fenced block inside the answer."""
    pattern = (
        rf"^<think>\n.*?\n</think>\n<answer>\n.*?```{re.escape(language)}.*?```.*?\n</answer>$"
    )
    return 1.0 if re.match(pattern, text, re.DOTALL | re.MULTILINE) else 0.0


class _CodeFormatReward:
    """Picklable `code_format_reward` bound to a default language."""

    __name__ = "code_format_reward"

    def __init__(self, language: str) -> None:
        self.language = language
        self.__doc__ = code_format_score.__doc__

    def __call__(self, completions: Sequence[Any], **kwargs: Any) -> list[float]:
        texts = completion_texts(completions)
        # A `language` column lets one run mix languages; otherwise the factory's default.
        languages = kwargs.get("language") or [self.language] * len(texts)
        return [
            code_format_score(t, lang or self.language)
            for t, lang in zip(texts, languages, strict=True)
        ]

    def __repr__(self) -> str:
        return f"code_format_reward(language={self.language!r})"


def get_code_format_reward(language: str = "python") -> Callable[..., list[float]]:
    """Format reward for code answers in `language` (a fenced block inside <answer>)."""
    return _CodeFormatReward(language)
