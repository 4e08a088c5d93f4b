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
from r1_rewards.outcomes import record
from r1_rewards.verdicts import Reason, Verdict

# re.MULTILINE makes `$` match before any newline, as in open-r1: text after the closing
# </answer> on later lines is tolerated. Kept for identical scores.
_TEMPLATE = re.compile(
    r"^<think>\n.*?\n</think>\n<answer>\n.*?\n</answer>$", re.DOTALL | re.MULTILINE
)
_STEP = re.compile(r"(Step \d+:|^\d+\.|\n-|\n\*|First,|Second,|Next,|Finally,)")
_STEPS_FOR_FULL_CREDIT = 3
_TAGS = ("<think>\n", "\n</think>\n", "\n<answer>\n", "\n</answer>")


def _scored(name: str, verdicts: list[Verdict]) -> list[float]:
    record(name, verdicts)
    return [float(v.score or 0.0) for v in verdicts]


def format_details(text: str) -> Verdict:
    """`format_score` with its reason (template matched or not)."""
    if _TEMPLATE.match(text):
        return Verdict(1.0, Reason.MATCHED)
    return Verdict(0.0, Reason.NOT_MATCHED)


def format_score(text: str) -> float:
    """1.0 when `text` follows `<think>\\n...\\n</think>\\n<answer>\\n...\\n</answer>`."""
    return float(format_details(text).score or 0.0)


def format_reward(completions: Sequence[Any], **kwargs: Any) -> list[float]:
    """Checks the reasoning is inside <think></think> and the answer inside <answer></answer>."""
    return _scored("format_reward", [format_details(t) for t in completion_texts(completions)])


def tag_count_details(text: str) -> Verdict:
    """`tag_count_score` with the tags it found exactly once."""
    found = [tag for tag in _TAGS if text.count(tag) == 1]
    detail = f"{len(found)} of {len(_TAGS)} tags exactly once: {[t.strip() for t in found]}"
    return Verdict(0.25 * len(found), Reason.MEASURED, detail=detail)


def tag_count_score(text: str) -> float:
    """0.25 for each of the four tags of the template that appears exactly once."""
    return float(tag_count_details(text).score or 0.0)


def tag_count_reward(completions: Sequence[Any], **kwargs: Any) -> list[float]:
    """Partial credit for the template's tags: 0.25 per tag present exactly once."""
    return _scored(
        "tag_count_reward", [tag_count_details(t) for t in completion_texts(completions)]
    )


def reasoning_steps_details(text: str) -> Verdict:
    """`reasoning_steps_score` with the number of step markers found."""
    steps = len(_STEP.findall(text))
    score = min(1.0, steps / _STEPS_FOR_FULL_CREDIT)
    return Verdict(score, Reason.MEASURED, detail=f"{steps} step markers")


def reasoning_steps_score(text: str) -> float:
    """min(1, number of step markers / 3)."""
    return float(reasoning_steps_details(text).score or 0.0)


def reasoning_steps_reward(completions: Sequence[Any], **kwargs: Any) -> list[float]:
    """Rewards explicit step-by-step structure; 3 or more markers earn 1.0."""
    return _scored(
        "reasoning_steps_reward",
        [reasoning_steps_details(t) for t in completion_texts(completions)],
    )


def code_format_details(text: str, language: str) -> Verdict:
    """`code_format_score` with its reason."""
    pattern = (
        rf"^<think>\n.*?\n</think>\n<answer>\n.*?```{re.escape(language)}.*?```.*?\n</answer>$"
    )
    if re.match(pattern, text, re.DOTALL | re.MULTILINE):
        return Verdict(1.0, Reason.MATCHED, detail=f"language {language}")
    return Verdict(0.0, Reason.NOT_MATCHED, detail=f"language {language}")


def code_format_score(text: str, language: str) -> float:
    """1.0 for the template with a ```language fenced block inside the answer."""
    return float(code_format_details(text, language).score or 0.0)


class _CodeFormatReward:
    """Picklable `code_format_reward` bound to a default language."""

    __name__ = "code_format_reward"

    def __init__(self, language: str) -> None:
        self.language = language
        self.__doc__ = code_format_score.__doc__

    def details(self, completions: Sequence[Any], **kwargs: Any) -> list[Verdict]:
        """The reward with each score's reason."""
        texts = completion_texts(completions)
        # A `language` column lets one run mix languages; otherwise the factory's default.
        languages = kwargs.get("language") or [self.language] * len(texts)
        return [
            code_format_details(t, lang or self.language)
            for t, lang in zip(texts, languages, strict=True)
        ]

    def __call__(self, completions: Sequence[Any], **kwargs: Any) -> list[float]:
        return _scored(self.__name__, self.details(completions, **kwargs))

    def __repr__(self) -> str:
        return f"code_format_reward(language={self.language!r})"


def get_code_format_reward(language: str = "python") -> Callable[..., list[float]]:
    """Format reward for code answers in `language` (a fenced block inside <answer>).

    `language` is the default: a `language` column in the data set, when present, sets
    each sample's language instead.
    """
    return _CodeFormatReward(language)
