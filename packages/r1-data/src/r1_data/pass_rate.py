"""Pass-rate filtering: keep the problems a model solves sometimes (open-r1's
`scripts/pass_rate_filtering/compute_pass_rate.py`).

GRPO learns only from groups whose rewards differ: a problem the policy always solves, or
never does, gives every completion the same reward, a zero advantage and no gradient.
So before RL, sample N completions per problem from (a model like) the policy, score them
with the training rewards, and keep the rows whose mean reward lies strictly between
`pass_rate_min` and `pass_rate_max` (open-r1's strict test).

Differences from open-r1, all deliberate:
- completions come from an OpenAI-compatible endpoint (`r1_data.generate`) instead of an
  in-process vLLM, so the script needs no GPU stack and shares generation's retries and
  resume: each scored row is journaled, `--start/--end` chunks resume independently;
- rewards are kept per function (`pass_rate_rewards = {name: [N scores]}`); open-r1 stores
  one (N*F) tensor reshaped by N, which mixes functions and rows up when F > 1;
- a reward that could not grade (None) is left out of the mean, as open-r1's nanmean
  does; a row with no gradable reward at all has `pass_rate` None and is dropped.

Data flow: problems (with their reward columns, e.g. `solution`) -> N completions per
row from the endpoint -> r1-rewards functions -> `pass_rate_rewards`, `pass_rate` ->
OUT.jsonl (all rows, resumable) -> rows in (min, max) -> the filtered file for GRPO.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from r1_data.errors import DataInputError
from r1_data.generate import GenerateConfig, GenerationReport, agenerate, build_messages
from r1_data.journal import read_rows

logger = logging.getLogger(__name__)

# Columns the generator adds or TRL never passes to rewards as dataset columns.
_NOT_REWARD_COLUMNS = frozenset(
    {"prompt", "completion", "completion_ids", "generations", "finish_reasons", "usage"}
)


@dataclass
class PassRateConfig(GenerateConfig):
    """`GenerateConfig` plus which rewards to score with and the pass-rate window.

    Attributes:
        reward_funcs: r1-rewards registry names (`accuracy`, `format`, `code`, ...).
        reward_args: other `r1_rewards.RewardArgs` fields (e.g. `code_provider`).
        pass_rate_min, pass_rate_max: keep rows with min < mean reward < max.
        filtered_output: where the kept rows go; default OUT with `.filtered.jsonl`.
    """

    num_generations: int = 8
    reward_funcs: list[str] = field(default_factory=lambda: ["accuracy"])
    reward_args: dict[str, Any] = field(default_factory=dict)
    pass_rate_min: float = 0.1
    pass_rate_max: float = 0.9
    filtered_output: str | Path | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        if not 0 <= self.pass_rate_min < self.pass_rate_max <= 1:
            raise DataInputError(
                f"pass_rate_min={self.pass_rate_min!r}, pass_rate_max={self.pass_rate_max!r}: "
                "need 0 <= min < max <= 1 (rows with min < mean reward < max are kept)"
            )
        if not self.reward_funcs:
            raise DataInputError("reward_funcs=[]: name at least one reward (--reward accuracy)")
        self.filtered_output = Path(
            self.filtered_output
            if self.filtered_output is not None
            else Path(self.output).with_suffix(".filtered.jsonl")
        )
        if Path(self.filtered_output) == Path(self.output):
            raise DataInputError(
                f"filtered_output={str(self.filtered_output)!r} is the journal itself; "
                "give another path"
            )

    def rewards(self) -> list[Callable[..., list[float | None]]]:
        from r1_rewards import get_reward_funcs

        try:
            return get_reward_funcs(reward_funcs=list(self.reward_funcs), **self.reward_args)
        except (ValueError, TypeError) as exc:
            raise DataInputError(str(exc)) from exc


@dataclass
class PassRateReport:
    """The generation report plus what the filter kept."""

    generation: GenerationReport
    scored_rows: int = 0
    kept: int = 0
    unscored: int = 0
    filtered_output: Path | None = None

    def summary(self) -> str:
        text = self.generation.summary()
        if self.filtered_output is not None:
            text += (
                f"\npass rate: {self.kept} of {self.scored_rows} rows kept "
                f"({self.unscored} with no gradable reward) -> {self.filtered_output}"
            )
        return text


def mean_reward(rewards: dict[str, list[float | None]]) -> float | None:
    """The mean of every gradable reward of a row, all functions together.

    >>> mean_reward({"accuracy": [1.0, 0.0, None], "format": [1.0, 1.0, 1.0]})
    0.8
    >>> mean_reward({"accuracy": [None, None]}) is None
    True
    """
    values = [v for scores in rewards.values() for v in scores if v is not None]
    values = [v for v in values if not math.isnan(v)]
    return sum(values) / len(values) if values else None


def score_row(
    row: dict[str, Any],
    funcs: list[Callable[..., list[float | None]]],
    messages: list[dict[str, Any]],
) -> dict[str, Any]:
    """Add `pass_rate_rewards` and `pass_rate` to a generated row."""
    generations = row["generations"]
    n = len(generations)
    completions = [[{"role": "assistant", "content": g}] for g in generations]
    columns = {k: [v] * n for k, v in row.items() if k not in _NOT_REWARD_COLUMNS}
    rewards: dict[str, list[float | None]] = {}
    for func in funcs:
        name = getattr(func, "__name__", repr(func))
        scores = func(completions=completions, prompts=[messages] * n, **columns)
        rewards[name] = [None if s is None else float(s) for s in scores]
    return {**row, "pass_rate_rewards": rewards, "pass_rate": mean_reward(rewards)}


async def apass_rate(cfg: PassRateConfig) -> PassRateReport:
    """Generate, score and journal every row of `cfg`, then write the kept rows."""
    from r1_rewards import RewardError

    funcs = cfg.rewards()

    async def on_row(row: dict[str, Any]) -> dict[str, Any]:
        messages = build_messages(row[cfg.prompt_column], cfg.prompt_template, cfg.system_prompt)
        # Rewards block (the math pool, sandboxes); keep the event loop serving requests.
        try:
            return await asyncio.to_thread(score_row, row, funcs, messages)
        except RewardError as exc:
            raise DataInputError(f"cannot score the generations: {exc}") from exc

    generation = await agenerate(cfg, on_row=on_row)
    report = PassRateReport(generation)
    if not generation.complete:
        logger.warning("some rows failed; the filtered file is written once every row is in")
        return report
    report.filtered_output = write_filtered(cfg, report)
    return report


def write_filtered(cfg: PassRateConfig, report: PassRateReport) -> Path:
    """Copy the journal rows with min < pass_rate < max to `cfg.filtered_output`."""
    import json

    out = Path(cfg.filtered_output)  # type: ignore[arg-type]
    tmp = out.with_name(out.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        for row in read_rows(cfg.output):
            report.scored_rows += 1
            rate = row.get("pass_rate")
            if rate is None:
                report.unscored += 1
            elif cfg.pass_rate_min < rate < cfg.pass_rate_max:
                f.write(json.dumps(row, ensure_ascii=False) + "\n")
                report.kept += 1
    tmp.replace(out)  # readers never see a half-written filtered file
    return out


def pass_rate(cfg: PassRateConfig) -> PassRateReport:
    """Synchronous wrapper of `apass_rate`."""
    return asyncio.run(apass_rate(cfg))
