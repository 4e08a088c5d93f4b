"""N-gram repetition penalty (Yeo et al. 2025, "Demystifying Long CoT", appendix C.2).

Long chains of thought trained with RL can collapse into loops: the same sentence again
and again until the length limit. The penalty is the share of repeated n-grams, scaled to
`max_penalty` (<= 0): 1 - unique / total n-grams. A text shorter than one n-gram, or
empty, is not penalised. Words are split on whitespace (and lower-cased) for English, and
with jieba for Chinese, where words are not separated by spaces (extra `r1-rewards[zh]`).

Data flow: completions from the rollout -> words -> n-gram counts -> a float in
[max_penalty, 0] each -> the trainer's weighted reward sum.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Literal

from r1_rewards._completions import completion_texts
from r1_rewards.errors import MissingExtraError
from r1_rewards.outcomes import record
from r1_rewards.verdicts import Reason, Verdict

Language = Literal["en", "zh"]


def _words(text: str, language: Language) -> list[str]:
    if language == "en":
        return text.lower().split()
    import jieba

    return list(jieba.cut(text))


def repetition_details(
    text: str, ngram_size: int, max_penalty: float, language: Language = "en"
) -> Verdict:
    """`repetition_score` with the n-gram counts behind it."""
    if text == "":
        return Verdict(0.0, Reason.MEASURED, detail="empty text")
    words = _words(text, language)
    total = len(words) - ngram_size + 1
    if total <= 0:
        return Verdict(0.0, Reason.MEASURED, detail=f"shorter than one {ngram_size}-gram")
    unique = len({tuple(words[i : i + ngram_size]) for i in range(total)})
    detail = f"{unique} distinct of {total} {ngram_size}-grams"
    return Verdict((1 - unique / total) * max_penalty, Reason.MEASURED, detail=detail)


def repetition_score(
    text: str, ngram_size: int, max_penalty: float, language: Language = "en"
) -> float:
    """(1 - unique n-grams / n-grams) * max_penalty; 0.0 for texts shorter than one n-gram."""
    return float(repetition_details(text, ngram_size, max_penalty, language).score or 0.0)


class _RepetitionPenaltyReward:
    """Picklable repetition penalty with its parameters (`__name__` as in open-r1)."""

    __name__ = "repetition_penalty_reward"

    def __init__(self, ngram_size: int, max_penalty: float, language: Language) -> None:
        self.ngram_size = ngram_size
        self.max_penalty = max_penalty
        self.language: Language = language

    def __call__(self, completions: Sequence[Any], **kwargs: Any) -> list[float]:
        verdicts = [
            repetition_details(t, self.ngram_size, self.max_penalty, self.language)
            for t in completion_texts(completions)
        ]
        record(self.__name__, verdicts)
        return [float(v.score or 0.0) for v in verdicts]

    def __repr__(self) -> str:
        return (
            f"repetition_penalty_reward(ngram_size={self.ngram_size}, "
            f"max_penalty={self.max_penalty}, language={self.language!r})"
        )


def get_repetition_penalty_reward(
    ngram_size: int, max_penalty: float, language: Language = "en"
) -> Callable[..., list[float]]:
    """Penalty for repeated n-grams, from 0 (no repeats) down to `max_penalty`.

    Raises:
        ValueError: `max_penalty` positive, `ngram_size` below 1, or an unknown language.
        MissingExtraError: `language="zh"` without jieba installed.
    """
    if max_penalty > 0:
        raise ValueError(f"max_penalty {max_penalty} should not be positive")
    if ngram_size < 1:
        raise ValueError(f"ngram_size={ngram_size!r}: an n-gram needs at least one word")
    if language == "zh":
        try:
            import jieba  # noqa: F401
        except ImportError as error:
            raise MissingExtraError("get_repetition_penalty_reward(language='zh')", "zh") from error
    elif language != "en":
        raise ValueError(
            f"language={language!r}: word splitting exists for 'en' and 'zh'; for another "
            "language, split the text into words yourself and call repetition_score"
        )
    return _RepetitionPenaltyReward(ngram_size, max_penalty, language)
