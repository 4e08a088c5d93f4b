"""Counting outcomes per reward: how many samples were ungraded or timed out in a batch.

TRL logs the mean of each reward, which hides the samples it skipped (None) and those a
grader gave up on (a timeout scores 0.0, like a wrong answer). A run where half the math
items time out looks like a run that learns slowly. `record_outcomes()` lets a trainer
see the difference without changing the reward functions' TRL signature: while the block
is open, every reward call adds one count per sample to `{(reward_name, outcome): n}`,
keyed by the reward's `__name__` (the name TRL logs it under) and an `Outcome`.

Process-wide on purpose: trainers call rewards from worker threads, which a context
variable would not reach; every open recorder sees every call, from any thread.

    with record_outcomes() as counts:
        rewards = [f(completions, **columns) for f in reward_funcs]
    ungraded = counts[("accuracy_reward", Outcome.UNGRADED)] / len(completions)

Data flow: each batch reward's verdicts -> `record(name, verdicts)` -> every open
recorder's Counter -> the trainer's `rewards/<name>/ungraded`, `/timed_out` metrics.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Generator, Iterable
from contextlib import contextmanager

from r1_rewards.verdicts import Outcome, Verdict

_active: list[Counter[tuple[str, Outcome]]] = []
_lock = threading.Lock()


@contextmanager
def record_outcomes() -> Generator[Counter[tuple[str, Outcome]], None, None]:
    """Count `(reward_name, Outcome)` per sample of every reward called inside the block.

    >>> from r1_rewards import format_reward
    >>> with record_outcomes() as counts:
    ...     _ = format_reward(["<think>\\nx\\n</think>\\n<answer>\\n1\\n</answer>", "no"])
    >>> counts[("format_reward", Outcome.GRADED)]
    2
    """
    counts: Counter[tuple[str, Outcome]] = Counter()
    with _lock:
        _active.append(counts)
    try:
        yield counts
    finally:
        with _lock:
            _active.remove(counts)


def record(reward_name: str, verdicts: Iterable[Verdict]) -> None:
    """Add one count per verdict to every open recorder (nothing to do when none is open)."""
    if not _active:
        return
    batch = Counter((reward_name, v.outcome) for v in verdicts)
    with _lock:
        for counts in _active:
            counts.update(batch)
