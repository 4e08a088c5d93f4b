"""Verdicts and outcome counts: why each sample scored what it did, and how many were not
graded, per reward, for the trainer's metrics."""

from __future__ import annotations

import threading

import pytest

from r1_rewards import (
    Outcome,
    Reason,
    Verdict,
    accuracy_reward,
    cosine_scaled_details,
    format_details,
    get_cosine_scaled_reward,
    len_reward,
    math_details,
    overlong_details,
    reasoning_steps_details,
    record_outcomes,
    repetition_details,
    tag_count_details,
    tag_count_reward,
)
from r1_rewards.math_accuracy import math_verdicts

POW_TOWER = r"\boxed{9^{9^{9^9}}}"


@pytest.mark.parametrize(
    ("text", "gold", "score", "reason", "extracted"),
    [
        (r"so $\boxed{\frac{1}{2}}$", "0.5", 1.0, Reason.CORRECT, r"\frac{1}{2}"),
        (r"so $\boxed{3}$", "4", 0.0, Reason.WRONG, "3"),
        ("no anchor, no box: 42", "42", 0.0, Reason.NO_ANSWER, None),
        (r"\boxed{1}", "unparseable_latex", None, Reason.GOLD_UNPARSEABLE, None),
    ],
)
def test_math_details_say_why(text, gold, score, reason, extracted):
    verdict = math_details(text, gold)
    assert (verdict.score, verdict.reason, verdict.extracted) == (score, reason, extracted)


def test_a_timed_out_item_is_its_own_reason_and_outcome():
    # The limit is well below what the power tower needs, and the item is alone in its
    # batch: it times out (or, where sympy gives up first, is wrong); never credit.
    (verdict,) = math_verdicts([POW_TOWER], ["3"], timeout=1)
    assert verdict.score == 0.0
    assert verdict.reason in (Reason.TIMED_OUT, Reason.WRONG)
    if verdict.reason is Reason.TIMED_OUT:
        assert verdict.outcome is Outcome.TIMED_OUT


def test_outcomes_follow_reasons():
    assert Verdict(None, Reason.GOLD_UNPARSEABLE).outcome is Outcome.UNGRADED
    assert Verdict(0.0, Reason.TIMED_OUT).outcome is Outcome.TIMED_OUT
    assert Verdict(0.0, Reason.WORKER_CRASHED).outcome is Outcome.CRASHED
    assert Verdict(0.0, Reason.WRONG).outcome is Outcome.GRADED
    assert Verdict(None, Reason.SANDBOX_ERROR).outcome is Outcome.UNGRADED


def test_text_reward_details():
    good = "<think>\nx\n</think>\n<answer>\n1\n</answer>"
    assert format_details(good).reason is Reason.MATCHED
    assert format_details("x").reason is Reason.NOT_MATCHED
    assert tag_count_details(good).score == 1.0
    assert "2 step markers" in reasoning_steps_details("Step 1: a Step 2: b").detail
    verdict = repetition_details("a a a", 2, -1.0)
    assert verdict.score == pytest.approx(-0.5) and "1 distinct of 2" in verdict.detail
    assert overlong_details(90, 100, 20).score == pytest.approx(-0.5)
    cosine = cosine_scaled_details(r"\boxed{\frac{1}{2}}", r"$\frac{1}{2}$", max_len=100)
    assert cosine.reason is Reason.CORRECT and cosine.extracted == r"\frac{1}{2}"


def test_record_outcomes_counts_per_reward_and_outcome():
    texts = [r"\boxed{2}", r"\boxed{3}", r"\boxed{2}"]
    golds = ["2", "2", "unparseable_latex"]
    with record_outcomes() as counts:
        assert accuracy_reward(texts, golds) == [1.0, 0.0, None]
        tag_count_reward(texts)
        len_reward(texts, golds)
        get_cosine_scaled_reward()(texts, golds)
    assert counts[("accuracy_reward", Outcome.GRADED)] == 2
    assert counts[("accuracy_reward", Outcome.UNGRADED)] == 1
    assert counts[("tag_count_reward", Outcome.GRADED)] == 3
    # len and cosine parse golds as LaTeX only (as open-r1): "2" does not parse there,
    # so every sample falls back to open-r1's neutral value, and is counted as ungraded.
    assert counts[("len_reward", Outcome.UNGRADED)] == 3
    assert counts[("cosine_scaled_reward", Outcome.UNGRADED)] == 3
    # Nothing is counted once the block is closed.
    accuracy_reward(texts, golds)
    assert counts[("accuracy_reward", Outcome.GRADED)] == 2


def test_record_outcomes_sees_calls_from_other_threads():
    with record_outcomes() as counts:
        thread = threading.Thread(target=lambda: tag_count_reward(["a", "b"]))
        thread.start()
        thread.join(60)
    assert counts[("tag_count_reward", Outcome.GRADED)] == 2
