"""Length-aware rewards: against overthinking (Kimi k1.5, 2.3.3; Demystifying Long CoT, 3.2).

Long chains of thought help up to a point; past it the model "overthinks", spending
tokens without gaining accuracy. Two shapings from the literature, as open-r1 has them:

- `len_reward` (Kimi k1.5): within a batch, lambda = 0.5 - (len - min) / (max - min);
  correct answers get lambda (short ones up to +0.5), wrong ones min(0, lambda), so a
  wrong answer never profits from being short but a long wrong one is penalised more.
- `get_cosine_scaled_reward` (Yeo et al., 2025): the reward follows a cosine of
  len / max_len from its "short" value to its "long" value; correct answers decay from
  max_value_correct to min_value_correct, wrong ones rise from min_value_wrong to
  max_value_wrong, so when wrong, thinking longer is the lesser evil.

Length is counted in characters by default, as open-r1 does, or in tokens
(`unit="tokens"`, from the `completion_ids` TRL passes), which is what the papers mean.
Correctness comes from the same worker pool as the accuracy reward, with the settings
open-r1 uses for these two rewards (LaTeX-only gold, verify(answer, gold)).

Data flow: completions (+ `solution`, + `completion_ids` for tokens) -> correctness from
the math pool and a length each -> one float each -> the trainer's weighted reward sum.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any, Literal

from r1_rewards._completions import column, completion_texts, named_partial
from r1_rewards.math_accuracy import grade
from r1_rewards.outcomes import record
from r1_rewards.verdicts import Reason, Verdict

Unit = Literal["chars", "tokens"]


def _lengths(texts: list[str], unit: Unit, kwargs: dict[str, Any], reward: str) -> list[int]:
    if unit == "chars":
        return [len(t) for t in texts]
    if unit == "tokens":
        ids = column(kwargs, "completion_ids", len(texts), f"{reward}(unit='tokens')")
        return [len(i) for i in ids]
    raise ValueError(f"unit={unit!r} is not one of 'chars', 'tokens'")


def _correctness(
    texts: Sequence[str], golds: Sequence[str], timeout: float | None
) -> list[tuple[Reason, str | None]]:
    """(Reason, extracted answer) per completion, graded as open-r1's length rewards grade."""
    return grade(texts, golds, mode="length", timeout=timeout)


def len_reward_details(
    completions: Sequence[Any],
    solution: Sequence[str] | None = None,
    *,
    unit: Unit = "chars",
    timeout: float | None = None,
    **kwargs: Any,
) -> list[Verdict]:
    """`len_reward` with each score's reason (the length reward is relative to its batch)."""
    texts = completion_texts(completions)
    golds = column({**kwargs, "solution": solution}, "solution", len(texts), "len_reward")
    lengths = _lengths(texts, unit, kwargs, "len_reward")
    graded = _correctness(texts, golds, timeout)
    if not lengths:
        return []
    shortest, longest = min(lengths), max(lengths)
    verdicts: list[Verdict] = []
    for length, (reason, answer) in zip(lengths, graded, strict=True):
        if shortest == longest:
            score = 0.0
        else:
            lam = 0.5 - (length - shortest) / (longest - shortest)
            # An unparseable gold counts as correct (as in open-r1); a timeout, a crash or
            # a verify error is no verdict, hence no credit.
            ok = reason in (Reason.CORRECT, Reason.GOLD_UNPARSEABLE)
            score = float(lam if ok else min(0.0, lam))
        detail = f"length {length} {unit} in [{shortest}, {longest}]"
        verdicts.append(Verdict(score, reason, answer, detail))
    return verdicts


def len_reward(
    completions: Sequence[Any],
    solution: Sequence[str] | None = None,
    *,
    unit: Unit = "chars",
    timeout: float | None = None,
    **kwargs: Any,
) -> list[float]:
    """Kimi k1.5 length reward: short correct answers up to +0.5, long wrong ones down to -0.5.

    Samples whose gold cannot be parsed count as correct (as in open-r1). When every
    completion has the same length, all rewards are 0.0.
    """
    verdicts = len_reward_details(completions, solution, unit=unit, timeout=timeout, **kwargs)
    record("len_reward", verdicts)
    return [float(v.score or 0.0) for v in verdicts]


def get_len_reward(
    unit: Unit = "chars", timeout: float | None = None
) -> Callable[..., list[float]]:
    """`len_reward` counting `unit` ("chars" or "tokens"), picklable, same name."""
    if unit not in ("chars", "tokens"):
        raise ValueError(f"unit={unit!r} is not one of 'chars', 'tokens'")
    return named_partial(len_reward, unit=unit, timeout=timeout)


def cosine_scaled_score(
    length: int,
    correct: bool,
    *,
    min_value_wrong: float = -1.0,
    max_value_wrong: float = -0.5,
    min_value_correct: float = 0.5,
    max_value_correct: float = 1.0,
    max_len: int = 1000,
) -> float:
    """The cosine-scaled reward of one completion of `length` units."""
    # open-r1 lets length / max_len run past 1, where the cosine turns back up and a
    # 2 * max_len answer scores like an empty one; past max_len the long value holds.
    cosine = math.cos(min(length / max_len, 1.0) * math.pi)
    if correct:
        short, long = max_value_correct, min_value_correct
    else:
        # Wrong: a short wrong answer is the worst outcome, a long one the least bad.
        short, long = min_value_wrong, max_value_wrong
    return float(long + 0.5 * (short - long) * (1.0 + cosine))


def _cosine_verdict(
    length: int, reason: Reason, answer: str | None, params: dict[str, Any]
) -> Verdict:
    detail = f"length {length} of max_len {params.get('max_len', 1000)}"
    if reason is Reason.GOLD_UNPARSEABLE:
        # An unparseable gold scores 1.0, as in open-r1 (the sample is not penalised).
        return Verdict(1.0, reason, answer, detail)
    score = cosine_scaled_score(length, reason is Reason.CORRECT, **params)
    return Verdict(score, reason, answer, detail)


def cosine_scaled_details(
    text: str,
    gold: str,
    *,
    length: int | None = None,
    timeout: float | None = None,
    **params: Any,
) -> Verdict:
    """The cosine-scaled verdict of one completion; `length` defaults to its characters.

    `params` are `cosine_scaled_score`'s (`min_value_wrong`, ..., `max_len`).
    """
    ((reason, answer),) = _correctness([text], [gold], timeout)
    return _cosine_verdict(len(text) if length is None else length, reason, answer, params)


class _CosineScaledReward:
    """Picklable cosine-scaled reward with its parameters (`__name__` as in open-r1)."""

    __name__ = "cosine_scaled_reward"

    def __init__(self, unit: Unit, timeout: float | None, **params: float) -> None:
        self.unit: Unit = unit
        self.timeout = timeout
        self.params = params

    def details(
        self, completions: Sequence[Any], solution: Sequence[str] | None = None, **kwargs: Any
    ) -> list[Verdict]:
        """The reward with each score's reason and extracted answer."""
        texts = completion_texts(completions)
        golds = column(
            {**kwargs, "solution": solution}, "solution", len(texts), "cosine_scaled_reward"
        )
        lengths = _lengths(texts, self.unit, kwargs, "cosine_scaled_reward")
        graded = _correctness(texts, golds, self.timeout)
        return [
            _cosine_verdict(length, reason, answer, self.params)
            for length, (reason, answer) in zip(lengths, graded, strict=True)
        ]

    def __call__(
        self, completions: Sequence[Any], solution: Sequence[str] | None = None, **kwargs: Any
    ) -> list[float]:
        verdicts = self.details(completions, solution, **kwargs)
        record(self.__name__, verdicts)
        return [float(v.score or 0.0) for v in verdicts]

    def __repr__(self) -> str:
        return f"cosine_scaled_reward(unit={self.unit!r}, {self.params})"


def get_cosine_scaled_reward(
    min_value_wrong: float = -1.0,
    max_value_wrong: float = -0.5,
    min_value_correct: float = 0.5,
    max_value_correct: float = 1.0,
    max_len: int = 1000,
    unit: Unit = "chars",
    timeout: float | None = None,
) -> Callable[..., list[float]]:
    """Cosine length scaling (Yeo et al. 2025, "Demystifying Long Chain-of-Thought").

    Raises:
        ValueError: `max_len` not positive, or `unit` not "chars"/"tokens".
    """
    if max_len <= 0:
        raise ValueError(f"max_len={max_len!r}: the length scale must be a positive count")
    if unit not in ("chars", "tokens"):
        raise ValueError(f"unit={unit!r} is not one of 'chars', 'tokens'")
    return _CosineScaledReward(
        unit,
        timeout,
        min_value_wrong=min_value_wrong,
        max_value_wrong=max_value_wrong,
        min_value_correct=min_value_correct,
        max_value_correct=max_value_correct,
        max_len=max_len,
    )
