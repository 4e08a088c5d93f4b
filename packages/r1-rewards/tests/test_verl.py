"""The verl adapter: same verdicts as accuracy_reward, a float for every sample."""

from __future__ import annotations

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
