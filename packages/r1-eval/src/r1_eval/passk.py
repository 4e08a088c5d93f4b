"""pass@k over n samples: the unbiased estimator of Chen et al. 2021 (Codex paper, 2.1).

DeepSeek-R1 reports pass@1 as the mean correctness of n samples per problem (temperature
0.6, top_p 0.95), because greedy decoding of a long-reasoning model is both worse and more
variable. With c correct among n samples, the chance that at least one of k samples drawn
without replacement is correct is 1 - C(n-c, k) / C(n, k); averaged over problems it is an
unbiased estimate of pass@k for every k <= n, from the same n samples. It is computed as
a product (no huge binomials), exactly as lighteval's `PassAtK` and LiveCodeBench compute it.

The standard error is the one of a mean over problems: the sample standard deviation of
the per-problem values divided by sqrt(problems) (0 for a single problem). It measures how
much the score would move on another draw of problems of the same kind, which is what two
checkpoints' scores are compared against.

Data flow: verdicts per sample (grading.py) -> c per problem -> pass@k per problem ->
mean and standard error per k -> summary.json.
"""

from __future__ import annotations

import math
from collections.abc import Sequence


def pass_at_k(n: int, c: int, k: int) -> float:
    """Probability that at least one of k of the n samples (c of them correct) is correct.

    >>> pass_at_k(4, 1, 1), pass_at_k(4, 1, 2), pass_at_k(4, 0, 4), pass_at_k(4, 3, 2)
    (0.25, 0.5, 0.0, 1.0)
    """
    if not 0 <= c <= n:
        raise ValueError(f"c={c}: must be between 0 and n={n}")
    if not 1 <= k <= n:
        raise ValueError(f"k={k}: must be between 1 and n={n}")
    if n - c < k:
        return 1.0
    product = 1.0
    for i in range(n - c + 1, n + 1):
        product *= 1.0 - k / i
    return 1.0 - product


def mean_and_stderr(values: Sequence[float]) -> tuple[float, float]:
    """Mean of `values` and its standard error (sample std / sqrt(len)).

    >>> mean_and_stderr([1.0, 0.0])
    (0.5, 0.5)
    """
    if not values:
        raise ValueError("no values: a task with no problems has no score")
    mean = sum(values) / len(values)
    if len(values) == 1:
        return mean, 0.0
    variance = sum((v - mean) ** 2 for v in values) / (len(values) - 1)
    return mean, math.sqrt(variance / len(values))


def pass_at_k_table(correct: Sequence[int], n: int) -> dict[str, float]:
    """`pass@k` and `pass@k_stderr` for every k <= n, from the correct count per problem.

    >>> table = pass_at_k_table([1, 4], n=4)
    >>> table["pass@1"], table["pass@4"]
    (0.625, 1.0)
    """
    table: dict[str, float] = {}
    for k in range(1, n + 1):
        mean, stderr = mean_and_stderr([pass_at_k(n, c, k) for c in correct])
        table[f"pass@{k}"] = mean
        table[f"pass@{k}_stderr"] = stderr
    return table
