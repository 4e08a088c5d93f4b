"""Pass-rate filtering: keep the problems a model solves sometimes (open-r1's
`scripts/pass_rate_filtering/compute_pass_rate.py`).

GRPO learns only from groups whose rewards differ: a problem the policy always solves, or
never does, gives every completion the same reward, a zero advantage and no gradient.
So before RL, sample N completions per problem from (a model like) the policy, score them
with the training rewards, and keep the rows whose mean reward lies strictly between
`pass_rate_min` and `pass_rate_max` (open-r1's strict test).

Differences from open-r1, all deliberate:
- completions come from an OpenAI-compatible endpoint (`r1_data.generation`) instead of an
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
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from r1_data.errors import DataInputError
from r1_data.generation import GenerateConfig, GenerationReport, build_messages, generate
from r1_data.journal import read_rows

logger = logging.getLogger(__name__)

# Columns the generator adds or TRL never passes to rewards as dataset columns.
_NOT_REWARD_COLUMNS = frozenset(
    {
        "prompt",
        "completion",
        "completion_ids",
        "generations",
        "finish_reasons",
        "api_metadata",
        "usage",
    }
)


def reward_args_from_strings(pairs: list[str]) -> dict[str, Any]:
    """`--reward-arg FIELD=VALUE` strings -> `r1_rewards.RewardArgs` keywords.

    r1-rewards' one parser (`r1_rewards.from_strings`, also behind `r1-rewards score
    --set`): each value takes its field's type, and a boolean is true/false (yes/no, 1/0,
    on/off) and nothing else, since a typo that silently read as False (`x=ture`) would
    change what the rewards grade. `reward_funcs` has its own flag (`--reward`).

    >>> reward_args_from_strings(["enforce_same_language=true", "math_timeout=none"])
    {'enforce_same_language': True, 'math_timeout': None}
    """
    from r1_rewards import RewardConfigError, from_strings

    try:
        return from_strings(pairs, exclude=["reward_funcs"])
    except RewardConfigError as exc:
        raise DataInputError(f"--reward-arg {exc}") from exc


@dataclass(kw_only=True)
class PassRateConfig(GenerateConfig):
    """`GenerateConfig` plus which rewards to score with and the pass-rate window.

    `num_generations` defaults to 8 here (open-r1's filtering recipes sample 8).
    """

    num_generations: int = field(
        default=8, metadata=GenerateConfig.__dataclass_fields__["num_generations"].metadata
    )
    reward_funcs: list[str] = field(
        default_factory=lambda: ["accuracy"],
        metadata={
            "help": "r1-rewards function name, repeatable (default: accuracy, which reads the "
            "solution column)",
            "flag": "--reward",
            "metavar": "NAME",
        },
    )
    reward_args: dict[str, Any] = field(
        default_factory=dict,
        metadata={
            "help": "an r1_rewards.RewardArgs field, e.g. code_provider=local (repeatable)",
            "flag": "--reward-arg",
            "metavar": "FIELD=VALUE",
            "from_cli": reward_args_from_strings,
        },
    )
    pass_rate_min: float = field(
        default=0.1, metadata={"help": "keep rows with mean reward above this", "metavar": "MIN"}
    )
    pass_rate_max: float = field(
        default=0.9, metadata={"help": "keep rows with mean reward below this", "metavar": "MAX"}
    )
    filtered_output: str | Path | None = field(
        default=None,
        metadata={
            "help": "kept rows (default: OUT with .filtered.jsonl)",
            "metavar": "PATH.jsonl",
        },
    )

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


# open-r1's filtering recipes (recipes/dataset_filtering/, read by its
# scripts/pass_rate_filtering/compute_pass_rate.py through TRL's parser) -> PassRateConfig.
_RECIPE_KEYS = {
    "model_name_or_path": "model",
    "dataset_name": "dataset",
    "dataset_config": "dataset_config",
    "dataset_split": "split",
    "dataset_prompt_column": "prompt_column",
    "dataset_start_index": "start",
    "dataset_end_index": "end",
    "max_completion_length": "max_tokens",
}
# Keys that configure the model server or training, not this client: the server that
# answers --base-url was started with them (`vllm serve MODEL --revision ...`).
# `reward_weights` is read by nobody: the pass rate is the plain mean of every reward,
# as open-r1's nanmean over all functions.
_RECIPE_SERVER_KEYS = frozenset(
    {
        "model_revision",
        "torch_dtype",
        "dtype",
        "attn_implementation",
        "chat_template",
        "trust_remote_code",
        "reward_weights",
        "seed",
        "output_dataset_name",
    }
)


def load_pass_rate_recipe(path: str | Path) -> dict[str, Any]:
    """open-r1's pass-rate filtering recipe (YAML) -> `PassRateConfig` keywords.

    open-r1's keys are mapped (`model_name_or_path` -> `model`, `dataset_name` ->
    `dataset`, `max_completion_length` -> `max_tokens`, ...), `RewardArgs` fields go to
    `reward_args`, `PassRateConfig`'s own field names are taken as they are, and keys that
    configure the model server are logged and left out. `prompt_column` defaults to
    open-r1's `dataset_prompt_column` default, `prompt`. Any other key is an error that
    lists the valid ones. `base_urls` is not in open-r1's recipes: give `--base-url`.

    Raises:
        DataInputError: unreadable file, not a mapping, or an unknown key.
    """
    import dataclasses

    import yaml

    from r1_rewards import RewardArgs

    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise DataInputError(f"--config {path}: cannot read it ({exc})") from exc
    if not isinstance(raw, dict):
        raise DataInputError(f"--config {path}: expected a mapping of keys, got {raw!r:.80}")
    own = {f.name for f in dataclasses.fields(PassRateConfig)}
    reward_fields = {f.name for f in dataclasses.fields(RewardArgs)} - {"reward_funcs"}
    out: dict[str, Any] = {"prompt_column": "prompt"}
    reward_args: dict[str, Any] = {}
    ignored: list[str] = []
    for key, value in raw.items():
        if key in _RECIPE_KEYS:
            out[_RECIPE_KEYS[key]] = value
        elif key in own:
            out[key] = value
        elif key in reward_fields:
            reward_args[key] = value
        elif key in _RECIPE_SERVER_KEYS:
            ignored.append(key)
        else:
            valid = sorted({*_RECIPE_KEYS, *own, *reward_fields, *_RECIPE_SERVER_KEYS})
            raise DataInputError(
                f"--config {path}: unknown key {key!r}; valid keys are {', '.join(valid)}"
            )
    if reward_args:
        out["reward_args"] = {**out.get("reward_args", {}), **reward_args}
    if ignored:
        logger.info(
            "%s: %s configure the model server (or nothing, for reward_weights), "
            "not r1-data; start the server behind --base-url with them",
            path,
            ", ".join(ignored),
        )
    return out


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


async def pass_rate(cfg: PassRateConfig) -> PassRateReport:
    """Generate, score and journal every row of `cfg`, then write the kept rows.

    `pass_rate_sync` is the same for callers outside an event loop.
    """
    from r1_rewards import RewardError

    funcs = cfg.rewards()

    async def on_row(row: dict[str, Any]) -> dict[str, Any]:
        messages = build_messages(row[cfg.prompt_column], cfg.prompt_template, cfg.system_prompt)
        # Rewards block (the math pool, sandboxes); keep the event loop serving requests.
        try:
            return await asyncio.to_thread(score_row, row, funcs, messages)
        except RewardError as exc:
            raise DataInputError(f"cannot score the generations: {exc}") from exc

    generation = await generate(cfg, on_row=on_row)
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


def pass_rate_sync(cfg: PassRateConfig) -> PassRateReport:
    """`pass_rate` for callers outside an event loop (scripts, the CLI)."""
    return asyncio.run(pass_rate(cfg))


async def apass_rate(cfg: PassRateConfig) -> PassRateReport:
    """Deprecated name of the async `pass_rate` (r1's async functions carry no prefix)."""
    warnings.warn(
        "r1_data.apass_rate is deprecated: `await r1_data.pass_rate(cfg)`, or "
        "`r1_data.pass_rate_sync(cfg)` outside an event loop",
        DeprecationWarning,
        stacklevel=2,
    )
    return await pass_rate(cfg)
