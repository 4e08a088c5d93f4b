"""pass@k: the unbiased estimator against brute force over every k-subset of the samples."""

from __future__ import annotations

from itertools import combinations
from math import comb

import pytest

from r1_eval import mean_and_stderr, pass_at_k, pass_at_k_table


@pytest.mark.parametrize("n", [1, 2, 4, 7])
def test_estimator_equals_the_fraction_of_k_subsets_with_a_correct_sample(n: int) -> None:
    for c in range(n + 1):
        samples = [1] * c + [0] * (n - c)
        for k in range(1, n + 1):
            subsets = list(combinations(samples, k))
            brute = sum(any(s) for s in subsets) / len(subsets)
            assert pass_at_k(n, c, k) == pytest.approx(brute, abs=1e-12)
            assert pass_at_k(n, c, k) == pytest.approx(1 - comb(n - c, k) / comb(n, k))


def test_pass_at_1_is_the_mean_correctness() -> None:
    table = pass_at_k_table([3, 1, 0, 4], n=4)
    assert table["pass@1"] == pytest.approx((0.75 + 0.25 + 0 + 1) / 4)
    assert table["pass@4"] == pytest.approx(0.75)
    assert set(table) == {f"pass@{k}{s}" for k in range(1, 5) for s in ("", "_stderr")}


def test_stderr_is_the_standard_error_of_the_mean_over_problems() -> None:
    mean, se = mean_and_stderr([0.0, 1.0, 1.0, 0.0])
    assert mean == 0.5 and se == pytest.approx((1 / 3) ** 0.5 / 2)
    assert mean_and_stderr([0.3]) == (0.3, 0.0)


def test_bad_counts_are_refused() -> None:
    with pytest.raises(ValueError, match="k=5"):
        pass_at_k(4, 1, 5)
    with pytest.raises(ValueError, match="c=5"):
        pass_at_k(4, 5, 1)
