"""An adapter for verl's custom reward functions.

verl calls a user reward as `compute_score(data_source, solution_str, ground_truth,
extra_info=None)` per sample (`custom_reward_function.path` / `.name` in its config), or
with lists when a batch reward manager is used. Both route to the same bounded, parallel
math grading as `accuracy_reward`, so a verl run gets the same verdicts as a TRL run.
verl needs a number for every sample, so an ungradable gold scores 0.0 here (TRL's None
would mean "skip").

Usage in a verl config:

    custom_reward_function:
      path: <site-packages>/r1_rewards/verl.py
      name: compute_score          # or compute_score_batch with the batch reward manager
      reward_kwargs:
        math_timeout: 5            # seconds per item (optional)

The per-item time limit comes from `reward_kwargs` (verl passes them as keywords), or
per sample from `extra_info["math_timeout"]`, which wins; without either, the default
(`R1_REWARDS_MATH_TIMEOUT`, else 5 s).

Data flow: verl's decoded response and the data set's ground truth -> math pool ->
float score -> verl's token-level reward tensor (at the last response token).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from r1_rewards.math_accuracy import math_scores


def compute_score(
    data_source: str,
    solution_str: str,
    ground_truth: str,
    extra_info: dict[str, Any] | None = None,
    *,
    math_timeout: float | None = None,
    **kwargs: Any,
) -> float:
    """1.0 when `solution_str`'s final answer equals `ground_truth`, else 0.0."""
    return compute_score_batch(
        [data_source], [solution_str], [ground_truth], [extra_info], math_timeout=math_timeout
    )[0]


def compute_score_batch(
    data_sources: Sequence[str],
    solution_strs: Sequence[str],
    ground_truths: Sequence[str],
    extra_infos: Sequence[dict[str, Any] | None] | None = None,
    *,
    math_timeout: float | None = None,
    **kwargs: Any,
) -> list[float]:
    """`compute_score` for a whole batch at once (verl's batch reward manager).

    Samples are graded together, one call per distinct time limit.
    """
    n = len(solution_strs)
    infos = list(extra_infos) if extra_infos is not None else [None] * n
    limits: list[float | None] = []
    for info in infos:
        own = info.get("math_timeout") if isinstance(info, dict) else None
        limits.append(float(own) if own is not None else math_timeout)
    scores: list[float] = [0.0] * n
    for limit in dict.fromkeys(limits):
        rows = [i for i in range(n) if limits[i] == limit]
        graded = math_scores(
            [solution_strs[i] for i in rows], [str(ground_truths[i]) for i in rows], timeout=limit
        )
        for i, score in zip(rows, graded, strict=True):
            scores[i] = 0.0 if score is None else score
    return scores
