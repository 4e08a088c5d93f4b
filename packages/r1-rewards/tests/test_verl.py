"""The verl adapter: same verdicts as accuracy_reward, a float for every sample."""

from __future__ import annotations

import pytest

from r1_rewards import verl
from r1_rewards.verl import compute_score, compute_score_batch


def test_compute_score_per_sample():
    assert compute_score("openai/gsm8k", r"so \boxed{72}", "72") == 1.0
    assert compute_score("lighteval/MATH", r"\boxed{\frac{1}{3}}", r"$\frac{1}{2}$") == 0.0
    # verl needs a number: an unparseable gold is 0.0, not None
    assert compute_score("x", r"\boxed{1}", "not math", extra_info={"split": "train"}) == 0.0


def test_compute_score_batch():
    scores = compute_score_batch(
        ["a", "a", "b"],
        [r"\boxed{2}", r"\boxed{3}", r"\boxed{\sqrt{4}}"],
        ["2", "2", "2"],
        [None, {"math_timeout": 3}, {}],
    )
    assert scores == [1.0, 0.0, 1.0]
    assert all(isinstance(s, float) for s in scores)


@pytest.fixture
def limits_seen(monkeypatch):
    """The per-item limits the adapter hands to the math grader, one per call."""
    seen: list[tuple[int, float | None]] = []
    real = verl.math_scores

    def spy(texts, golds, *, timeout=None):
        seen.append((len(texts), timeout))
        return real(texts, golds, timeout=timeout)

    monkeypatch.setattr(verl, "math_scores", spy)
    return seen


def test_the_time_limit_reaches_the_grader(limits_seen):
    # From verl's reward_kwargs (keywords), per sample from extra_info (which wins), or
    # the default (None) for samples with neither.
    compute_score("a", r"\boxed{2}", "2", math_timeout=7)
    compute_score("a", r"\boxed{2}", "2", {"math_timeout": 3})
    compute_score_batch(
        ["a"] * 3,
        [r"\boxed{2}"] * 3,
        ["2"] * 3,
        [None, {"math_timeout": 2}, {"math_timeout": 2}],
    )
    assert limits_seen == [(1, 7), (1, 3.0), (1, None), (2, 2.0)]


def test_reward_kwargs_of_verl_are_accepted():
    # verl merges `reward_kwargs` into the call; unknown ones must not break the call.
    assert compute_score("a", r"\boxed{2}", "2", None, math_timeout=30, other="x") == 1.0
