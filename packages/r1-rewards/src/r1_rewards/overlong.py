"""Soft overlong punishment (DAPO, section 3.4, equation 13).

Completions cut off at the generation limit are usually graded wrong, which tells the
policy nothing about length: the cut was arbitrary. DAPO adds a length-aware penalty: 0
up to `max_completion_len - soft_punish_cache` tokens, then falling linearly to -1 at
`max_completion_len`, and -1 beyond. The policy learns to finish before the hard limit
instead of being truncated. Lengths are token counts, read from the `completion_ids` that
TRL passes to every reward function.

Data flow: token ids of each completion (from the trainer's rollout) -> one float per
completion in [-1, 0] -> added, weighted, to the other rewards before group advantages.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from r1_rewards.errors import RewardInputError
from r1_rewards.outcomes import record
from r1_rewards.verdicts import Reason, Verdict


def overlong_details(length: int, max_completion_len: int, soft_punish_cache: int) -> Verdict:
    """`overlong_score` with the token count behind it."""
    expected = max_completion_len - soft_punish_cache
    if length <= expected:
        score = 0.0
    elif length <= max_completion_len:
        score = (expected - length) / soft_punish_cache
    else:
        score = -1.0
    detail = f"{length} tokens; penalty from {expected}, -1 past {max_completion_len}"
    return Verdict(score, Reason.MEASURED, detail=detail)


def overlong_score(length: int, max_completion_len: int, soft_punish_cache: int) -> float:
    """The DAPO penalty for a completion of `length` tokens."""
    return float(overlong_details(length, max_completion_len, soft_punish_cache).score or 0.0)


class _SoftOverlongPunishment:
    """Picklable DAPO overlong penalty (`__name__` as in open-r1)."""

    __name__ = "soft_overlong_punishment_reward"

    def __init__(self, max_completion_len: int, soft_punish_cache: int) -> None:
        self.max_completion_len = max_completion_len
        self.soft_punish_cache = soft_punish_cache

    def __call__(
        self, completion_ids: Sequence[Sequence[int]] | None = None, **kwargs: Any
    ) -> list[float]:
        if completion_ids is None:
            raise RewardInputError(
                "soft_overlong_punishment_reward counts tokens and needs `completion_ids` "
                "(TRL passes them to every reward function)"
            )
        verdicts = [
            overlong_details(len(ids), self.max_completion_len, self.soft_punish_cache)
            for ids in completion_ids
        ]
        record(self.__name__, verdicts)
        return [float(v.score or 0.0) for v in verdicts]

    def __repr__(self) -> str:
        return (
            f"soft_overlong_punishment_reward(max_completion_len={self.max_completion_len}, "
            f"soft_punish_cache={self.soft_punish_cache})"
        )


def get_soft_overlong_punishment(
    max_completion_len: int, soft_punish_cache: int
) -> Callable[..., list[float]]:
    """DAPO's soft overlong punishment over the last `soft_punish_cache` tokens.

    Raises:
        ValueError: a negative cache, a cache larger than `max_completion_len`, or a
            non-positive `max_completion_len`.
    """
    if max_completion_len <= 0:
        raise ValueError(
            f"max_completion_len={max_completion_len!r}: must be a positive token count"
        )
    if not 0 <= soft_punish_cache <= max_completion_len:
        raise ValueError(
            f"soft_punish_cache={soft_punish_cache!r}: must lie in [0, max_completion_len="
            f"{max_completion_len}] (the penalty ramps over the last soft_punish_cache tokens)"
        )
    return _SoftOverlongPunishment(max_completion_len, soft_punish_cache)
