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
) -> float:
    """1.0 when `solution_str`'s final answer equals `ground_truth`, else 0.0."""
    return compute_score_batch([data_source], [solution_str], [ground_truth], [extra_info])[0]


def compute_score_batch(
    data_sources: Sequence[str],
    solution_strs: Sequence[str],
    ground_truths: Sequence[str],
    extra_infos: Sequence[dict[str, Any] | None] | None = None,
) -> list[float]:
    """`compute_score` for a whole batch at once (verl's batch reward manager)."""
    timeout = None
    if extra_infos:
        # A per-batch time limit may ride along in extra_info (`math_timeout`, seconds).
        limits = [e.get("math_timeout") for e in extra_infos if isinstance(e, dict)]
        timeout = next((float(t) for t in limits if t is not None), None)
    scores = math_scores(list(solution_strs), [str(g) for g in ground_truths], timeout=timeout)
    return [0.0 if s is None else s for s in scores]
