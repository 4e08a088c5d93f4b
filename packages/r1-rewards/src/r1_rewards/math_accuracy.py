"""Math accuracy: the verifiable reward at the heart of R1-Zero and R1 (DeepSeek-R1, 2.2.2).

DeepSeek-R1 trains reasoning with rule-based rewards only: a completion earns 1 when its
final answer (here the last `\\boxed{}`) is mathematically equal to the reference, 0
otherwise. A learned reward model is avoided on purpose: the policy would learn to hack
it. Equality is decided by math-verify (LaTeX -> sympy, then symbolic and numeric
comparison), with exactly the extraction settings open-r1 uses, so results match open-r1.

What changes is where the work happens. A batch is deduplicated, grouped by gold answer
and spread over a pool of worker processes (`_math_pool.py`), each item under a hard
timeout; this makes the reward correct from any thread, immune to adversarial LaTeX, and
faster than a sequential loop on large GRPO batches.

Data flow: completions (strings or chat messages) and the dataset's `solution` column ->
(text, gold) pairs -> worker pool -> 1.0 / 0.0 per completion, None where the gold cannot
be parsed -> the trainer, which turns them into group-relative advantages.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

from r1_rewards._completions import column, completion_texts, named_partial
from r1_rewards._math_pool import MathPool, default_pool
from r1_rewards._math_worker import Graded
from r1_rewards.outcomes import record
from r1_rewards.verdicts import Reason, Verdict


def default_timeout() -> float:
    """Hard limit per item in seconds: R1_REWARDS_MATH_TIMEOUT, else 5 (open-r1's alarm)."""
    return float(os.environ.get("R1_REWARDS_MATH_TIMEOUT", "5"))


def grade(
    texts: Sequence[str],
    golds: Sequence[str],
    *,
    mode: str = "accuracy",
    timeout: float | None = None,
    pool: MathPool | None = None,
) -> list[Graded]:
    """(Reason, extracted answer) for each (text, gold) pair; used by every math-based reward."""
    if len(texts) != len(golds):
        raise ValueError(f"{len(texts)} completions but {len(golds)} gold answers")
    limit = default_timeout() if timeout is None else float(timeout)
    if limit <= 0:
        raise ValueError(f"timeout={timeout!r}: the per-item limit must be positive seconds")
    pairs = [(str(t), "" if g is None else str(g)) for t, g in zip(texts, golds, strict=True)]
    return (pool or default_pool()).run(mode, pairs, limit)


# The accuracy score of each reason: open-r1 skips (None) a sample whose gold does not
# parse or whose verify raised; a timeout or a crash gives no credit.
_ACCURACY: dict[Reason, float | None] = {
    Reason.CORRECT: 1.0,
    Reason.WRONG: 0.0,
    Reason.NO_ANSWER: 0.0,
    Reason.TIMED_OUT: 0.0,
    Reason.WORKER_CRASHED: 0.0,
    Reason.GOLD_UNPARSEABLE: None,
    Reason.VERIFY_ERROR: None,
}


def math_verdicts(
    texts: Sequence[str], golds: Sequence[str], *, timeout: float | None = None
) -> list[Verdict]:
    """`math_details` for a batch of plain strings (graded in parallel, in order)."""
    return [
        Verdict(_ACCURACY[reason], reason, answer)
        for reason, answer in grade(texts, golds, mode="accuracy", timeout=timeout)
    ]


def math_details(text: str, gold: str, *, timeout: float | None = None) -> Verdict:
    """The accuracy verdict of one completion: score, reason and the extracted answer.

    >>> v = math_details(r"so the answer is $\\boxed{\\frac{1}{2}}$", "0.5")
    >>> v.score, v.reason, v.extracted
    (1.0, <Reason.CORRECT: 'correct'>, '\\\\frac{1}{2}')
    """
    return math_verdicts([text], [gold], timeout=timeout)[0]


def math_scores(
    texts: Sequence[str], golds: Sequence[str], *, timeout: float | None = None
) -> list[float | None]:
    """Per-sample accuracy for a batch of plain strings: 1.0, 0.0, or None (bad gold)."""
    return [v.score for v in math_verdicts(texts, golds, timeout=timeout)]


def math_score(text: str, gold: str, *, timeout: float | None = None) -> float | None:
    """Accuracy of one completion against one gold answer: 1.0, 0.0, or None (bad gold).

    The per-sample form for other RL frameworks; bounded by `timeout` seconds like the
    batched reward, and safe to call from any thread.

    >>> math_score(r"so the answer is $\\boxed{\\frac{1}{2}}$", "0.5")
    1.0
    """
    return math_details(text, gold, timeout=timeout).score


def accuracy_reward(
    completions: Sequence[Any],
    solution: Sequence[str] | None = None,
    *,
    timeout: float | None = None,
    **kwargs: Any,
) -> list[float | None]:
    """1.0 when the completion's final answer equals the gold `solution`, else 0.0.

    None when the gold cannot be parsed: TRL then leaves the sample out of the reward.
    `timeout` bounds each item (default: `default_timeout()`); set it with
    `get_accuracy_reward(timeout=...)` when the trainer calls the reward.
    """
    texts = completion_texts(completions)
    golds = column({**kwargs, "solution": solution}, "solution", len(texts), "accuracy_reward")
    verdicts = math_verdicts(texts, golds, timeout=timeout)
    record("accuracy_reward", verdicts)
    return [v.score for v in verdicts]


def get_accuracy_reward(timeout: float | None = None) -> Callable[..., list[float | None]]:
    """`accuracy_reward` with its own per-item timeout in seconds (picklable, same name)."""
    return named_partial(accuracy_reward, timeout=timeout)
