"""accuracy_reward, len_reward and the cosine reward: open-r1's verdicts, from any caller.

The verdicts come from math-verify with open-r1's exact settings; the tables pin cases
from open-r1's tests plus regressions of our own, one comment per row where it matters.
"""

from __future__ import annotations

import math
import pickle
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from r1_rewards import (
    accuracy_reward,
    cosine_scaled_score,
    get_accuracy_reward,
    get_cosine_scaled_reward,
    get_len_reward,
    len_reward,
    math_score,
    math_scores,
)
from r1_rewards.errors import RewardInputError

FRAC = r"\frac{63}{400}"


@pytest.mark.parametrize(
    ("text", "gold", "expected"),
    [
        (r"\boxed{\frac{63}{400}}", FRAC, 1.0),
        (r"\boxed{\frac{64}{400}}", FRAC, 0.0),
        (r"\boxed{3}", "6", 0.0),  # gold without LaTeX
        (r"$\boxed{0.1575}$", FRAC, 1.0),  # a decimal equals the fraction
        (r"so $x = \boxed{3}$", "3", 1.0),  # an equation around the box
        (r"The answer is $\boxed{\dfrac{1}{2}}$", "0.5", 1.0),
        (r"I think it's 42 but no box", "42", 0.0),  # no anchor: nothing extracted
        ("", "42", 0.0),  # an empty completion
        (r"\boxed{x^2+2x+1}", r"$(x+1)^2$", 1.0),  # symbolic equality
    ],
)
def test_accuracy_reward(fmt, text, gold, expected):
    assert accuracy_reward(fmt([text]), [gold]) == [expected]


def test_unparseable_gold_gives_none_so_trl_skips_it(fmt):
    assert accuracy_reward(fmt([r"\boxed{answer}"]), ["unparseable_latex"]) == [None]
    assert math_score(r"\boxed{1}", "") is None


def test_batch_keeps_order_and_duplicates(fmt):
    texts = [r"\boxed{\frac{63}{400}}", r"\boxed{\frac{64}{400}}"] * 20 + [r"\boxed{7}"]
    golds = [FRAC] * 40 + ["7"]
    assert accuracy_reward(fmt(texts), golds) == [1.0, 0.0] * 20 + [1.0]


def test_accuracy_reward_checks_its_columns():
    with pytest.raises(RewardInputError, match="'solution' has 1 values for 2 completions"):
        accuracy_reward(["a", "b"], ["1"])
    with pytest.raises(RewardInputError, match="solution"):
        accuracy_reward(["a"], None)


def test_right_answer_from_worker_threads():
    """math-verify 0.5.2 scores everything False off the main thread; the pool does not."""
    texts = [r"\boxed{\frac{63}{400}}", r"\boxed{\frac{64}{400}}", r"\boxed{2}"]
    golds = [FRAC, FRAC, "2"]
    with ThreadPoolExecutor(max_workers=4) as threads:
        futures = [threads.submit(math_scores, texts, golds) for _ in range(8)]
        results = [f.result(timeout=120) for f in futures]
    assert all(r == [1.0, 0.0, 1.0] for r in results)
    box: list[float | None] = []
    thread = threading.Thread(target=lambda: box.append(math_score(r"\boxed{5}", "5")))
    thread.start()
    thread.join(timeout=120)
    assert box == [1.0]


def test_get_accuracy_reward_keeps_the_name_and_pickles():
    reward = get_accuracy_reward(timeout=30)
    assert reward.__name__ == "accuracy_reward"
    clone = pickle.loads(pickle.dumps(reward))
    assert clone([r"\boxed{4}"], ["4"]) == [1.0]


def _pad(text: str, length: int) -> str:
    return text + " " * (length - len(text))


@pytest.mark.parametrize(
    ("text", "length", "expected"),
    [
        (r"\boxed{\frac{63}{400}}", 20, 0.943),  # short and right: near the top
        (r"\boxed{\frac{63}{400}}", 80, 0.547),  # long and right: near the bottom
        (r"\boxed{\frac{64}{400}}", 20, -0.942),  # short and wrong: the worst
        (r"\boxed{\frac{64}{400}}", 80, -0.547),  # long and wrong: less bad
    ],
)
def test_cosine_scaled_reward(fmt, text, length, expected):
    reward = get_cosine_scaled_reward(
        min_value_wrong=-1.0,
        max_value_wrong=-0.5,
        min_value_correct=0.5,
        max_value_correct=1.0,
        max_len=100,
    )
    assert reward(fmt([_pad(text, length)]), [FRAC])[0] == pytest.approx(expected, abs=5e-3)


def test_cosine_holds_its_long_value_past_max_len():
    # open-r1 lets the cosine turn back up past max_len; r1 holds the end value.
    assert cosine_scaled_score(200, True, max_len=100) == pytest.approx(0.5)
    assert cosine_scaled_score(200, False, max_len=100) == pytest.approx(-0.5)
    assert cosine_scaled_score(0, True, max_len=100) == pytest.approx(1.0)


def test_cosine_counts_tokens_when_asked():
    reward = get_cosine_scaled_reward(max_len=100, unit="tokens")
    text = r"\boxed{\frac{63}{400}}"
    assert reward([text], [FRAC], completion_ids=[[1] * 100])[0] == pytest.approx(0.5)
    assert reward([text], [FRAC], completion_ids=[[1] * 0])[0] == pytest.approx(1.0)
    with pytest.raises(RewardInputError, match="completion_ids"):
        reward([text], [FRAC])
    with pytest.raises(ValueError, match="unit='bytes'"):
        get_cosine_scaled_reward(unit="bytes")


def test_cosine_unparseable_gold_scores_one():
    assert get_cosine_scaled_reward()([r"\boxed{1}"], ["not math"]) == [1.0]


RIGHT, WRONG = r"\boxed{\frac{63}{400}}", r"\boxed{\frac{64}{400}}"
LONGER = "  " + "x" * 10


def test_len_reward_equal_lengths_give_zero(fmt):
    assert len_reward(fmt([RIGHT, WRONG]), [FRAC, FRAC]) == [0.0, 0.0]


def test_len_reward_prefers_short_correct_answers(fmt):
    rewards = len_reward(fmt([RIGHT, RIGHT + LONGER]), [FRAC, FRAC])
    assert rewards[0] == pytest.approx(0.5)
    assert rewards[0] > rewards[1]


def test_len_reward_wrong_answers_never_positive(fmt):
    rewards = len_reward(fmt([WRONG, WRONG + LONGER]), [FRAC, FRAC])
    assert rewards[0] <= 0.0 and rewards[1] <= 0.0
    assert rewards[0] > rewards[1]


def test_len_reward_mixed(fmt):
    r = len_reward(fmt([RIGHT, RIGHT + LONGER, WRONG, WRONG + LONGER]), [FRAC] * 4)
    assert r[0] > 0.0
    assert r[2] > r[1] >= r[3]
    assert r[2] <= 0.0 and r[3] <= 0.0
    assert r[0] > r[1] and r[2] > r[3]
    # the exact Kimi k1.5 values: lambda = 0.5 - (len - min) / (max - min)
    assert r == pytest.approx([0.5, -0.5, 0.0, -0.5])


def test_len_reward_unparseable_gold_counts_as_correct(fmt):
    rewards = len_reward(fmt([r"\boxed{answer}", r"\boxed{answer} " + "x" * 10]), ["nope"] * 2)
    assert rewards[0] == pytest.approx(0.5)
    assert rewards[0] > rewards[1]


def test_len_reward_in_tokens():
    reward = get_len_reward(unit="tokens")
    assert reward.__name__ == "len_reward"
    ids = [[1] * 10, [1] * 30]
    # Same text, different token counts: only the ids matter.
    assert reward([RIGHT, RIGHT], [FRAC, FRAC], completion_ids=ids) == [0.5, -0.5]
    assert len_reward([], []) == []


def test_cosine_score_formula_matches_the_paper_shape():
    for length in range(0, 101, 10):
        progress = math.cos(length / 100 * math.pi)
        expected = 0.5 + 0.5 * (1.0 - 0.5) * (1.0 + progress)
        assert cosine_scaled_score(length, True, max_len=100) == pytest.approx(expected)


# -- verdicts that depend on the math-verify release (README, "Version truth") ----------
# Measured with bench/math_verify_versions.py against math-verify 0.5.2 (open-r1's and
# lighteval's pin) and 0.9.0. The workspace locks 0.5.2 for lighteval; CI also tests
# r1-rewards alone on the newest release, so each row states both verdicts.


def _math_verify_release() -> tuple[int, ...]:
    from importlib.metadata import version

    return tuple(int(p) for p in version("math-verify").split(".")[:2])


# (completion, gold, accuracy at 0.5.2, accuracy at 0.9)
VERSION_TABLE = [
    # "50%" also reads as 50 in newer releases.
    (r"The answer is $\boxed{50\%}$", "50", 0.0, 1.0),
    (r"The answer is $\boxed{50}$", r"$50\%$", 0.0, 1.0),
    # A decimal precise enough to round to the constant.
    (r"The answer is $\boxed{\pi}$", "3.141592653589793", 0.0, 1.0),
    (r"The answer is $\boxed{3.14159265}$", r"$\pi$", 0.0, 1.0),
    # A plus-minus is expanded into the set of its two values.
    (r"So $\boxed{-1}$ and $\boxed{1}$.", r"$\pm 1$", 0.0, 1.0),
    (r"So $\boxed{\pm 1}$.", r"$-1, 1$", 0.0, 1.0),
    # Controls that both releases agree on.
    (r"The answer is $\boxed{25\%}$", r"$25\%$", 1.0, 1.0),
    (r"The answer is $\boxed{3.14159}$", r"$\pi$", 0.0, 0.0),
    (r"So $\boxed{2}$ and $\boxed{1}$.", r"$1, 2$", 1.0, 1.0),
]


@pytest.mark.parametrize(("text", "gold", "old", "new"), VERSION_TABLE)
def test_verdicts_of_each_math_verify_release(text, gold, old, new):
    release = _math_verify_release()
    if release[:2] == (0, 5):
        expected = old
    elif release >= (0, 9):
        expected = new
    else:
        pytest.skip(f"math-verify {release} was not measured")
    assert math_score(text, gold) == expected
