"""Configs of `r1-train sft` / `r1-train grpo`: open-r1's fields on TRL's dataclasses.

A recipe is one YAML file read by TRL's parser into three dataclasses: the script
arguments (data and rewards), the trainer config (TRL's `SFTConfig` / `GRPOConfig` plus
open-r1's extras for callbacks, benchmarks and hub revisions) and TRL's `ModelConfig`.
The field names are open-r1's, so its recipes parse unchanged; the help text lives once,
in each field's metadata, as TRL does.

Fixed here, against open-r1's `configs.py` (see the package README):
- `cosine_min_value_wrong` defaulted to 0.0, above `cosine_max_value_wrong` (-0.5): a
  short wrong answer then scored *higher* than a long wrong one, the opposite of the
  cosine reward's purpose (Kimi 1.5 / "Demystifying long CoT"). The default is -1.0.
- `e2b_router_url` / `morph_router_url` never reached the code rewards there; here
  `get_reward_funcs` passes them on.
- `code_provider` defaulted to E2B (an account) and `ioi_provider` to Piston (a fleet);
  both default to r1's local sandbox.
- `max_completion_len` / `soft_punish_cache` said "characters" but count tokens.
- `wandb_log_unique_prompts` is gone: nothing read it (TRL 1.x dropped it too), and a
  field that does nothing is a setting a user believes in for no reason.
- A mixture is validated when the config is built (r1-data's `DatasetMixtureConfig`),
  with the field and the bad value in the message, not when the data set loads.

Data flow: recipe YAML + CLI flags -> TrlParser -> these dataclasses -> `sft.main` /
`grpo.main` (data via r1-data, rewards via r1-rewards, trainer via TRL).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import trl

from r1_data.mixture import DatasetMixtureConfig
from r1_rewards import REWARD_NAMES


@dataclass
class ScriptArguments(trl.ScriptArguments):
    """TRL's script arguments, with an optional mixture instead of one data set."""

    dataset_name: str | None = field(
        default=None,
        metadata={"help": "Hub id or local path of the data set; omit when using dataset_mixture."},
    )
    dataset_mixture: dict[str, Any] | None = field(
        default=None,
        metadata={
            "help": "A mixture of sources: {datasets: [{id, config, split, columns, weight}], "
            "seed, test_split_size}. A weight is the fraction of that source's rows kept "
            "(above 1 repeats rows)."
        },
    )
    dataset_prompt_column: str = field(
        default="prompt", metadata={"help": "Column holding the user prompt."}
    )

    def __post_init__(self) -> None:
        if self.dataset_name is None and self.dataset_mixture is None:
            raise ValueError(
                "Either `dataset_name` or `dataset_mixture` must be provided "
                "(a hub id or local path, or a mixture of sources)"
            )
        if self.dataset_mixture is not None and not isinstance(
            self.dataset_mixture, DatasetMixtureConfig
        ):
            self.dataset_mixture = DatasetMixtureConfig.from_dict(self.dataset_mixture)


@dataclass
class GRPOScriptArguments(ScriptArguments):
    """Script arguments of GRPO: which rewards, and their parameters (open-r1's names)."""

    reward_funcs: list[str] = field(
        default_factory=lambda: ["accuracy", "format", "tag_count"],
        metadata={"help": f"Reward functions, any of: {', '.join(REWARD_NAMES)}."},
    )
    cosine_min_value_wrong: float = field(
        default=-1.0, metadata={"help": "Cosine reward of the shortest wrong answer (the worst)."}
    )
    cosine_max_value_wrong: float = field(
        default=-0.5, metadata={"help": "Cosine reward of the longest wrong answer."}
    )
    cosine_min_value_correct: float = field(
        default=0.5, metadata={"help": "Cosine reward of the longest correct answer."}
    )
    cosine_max_value_correct: float = field(
        default=1.0, metadata={"help": "Cosine reward of the shortest correct answer (the best)."}
    )
    cosine_max_len: int = field(
        default=1000, metadata={"help": "Length at which the cosine schedule ends."}
    )
    repetition_n_grams: int = field(
        default=3, metadata={"help": "n of the n-grams counted by the repetition penalty."}
    )
    repetition_max_penalty: float = field(
        default=-1.0, metadata={"help": "Penalty of a fully repetitive completion (<= 0)."}
    )
    repetition_language: Literal["en", "zh"] = field(
        default="en", metadata={"help": "Word segmentation of the repetition penalty."}
    )
    code_language: str = field(
        default="python",
        metadata={
            "help": "Language of the code format reward and of code_reward.",
            "choices": ["python", "javascript", "r", "java", "bash", "cpp"],
        },
    )
    code_eval_test_batch_size: int = field(
        default=1,
        metadata={
            "help": "Tests run in parallel per submission before checking for a failure "
            "(a failure stops the rest)."
        },
    )
    code_eval_scoring_mode: Literal["pass_fail", "partial", "weighted_sum"] = field(
        default="weighted_sum", metadata={"help": "Codeforces scoring of cf_code."}
    )
    parallel_code_exec_per_proc: int = field(
        default=2, metadata={"help": "Concurrent sandbox runs per training process."}
    )
    e2b_router_url: str | None = field(
        default=None, metadata={"help": "URL of an `r1-sandbox router --backend e2b`."}
    )
    morph_router_url: str | None = field(
        default=None, metadata={"help": "URL of an `r1-sandbox router --backend morph`."}
    )
    code_provider: str = field(
        default="local",
        metadata={
            "help": "Where code rewards run.",
            "choices": ["local", "e2b", "morph", "piston"],
        },
    )
    ioi_provider: str = field(
        default="local",
        metadata={"help": "Where IOI grading runs.", "choices": ["local", "piston", "morph"]},
    )
    enforce_same_language: bool = field(
        default=False,
        metadata={"help": "Score 0 when a completion's code is not in the expected language."},
    )
    max_completion_len: int = field(
        default=16384, metadata={"help": "Soft overlong punishment: the hard limit, in tokens."}
    )
    soft_punish_cache: int = field(
        default=4096,
        metadata={"help": "Soft overlong punishment: the penalty ramps over these last tokens."},
    )
    length_unit: Literal["chars", "tokens"] = field(
        default="chars", metadata={"help": "How the length and cosine rewards count length."}
    )
    math_timeout: float | None = field(
        default=None, metadata={"help": "Hard limit per math item in seconds (default 5)."}
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        unknown = [name for name in self.reward_funcs if name not in REWARD_NAMES]
        if unknown:
            raise ValueError(
                f"reward_funcs={unknown!r}: unknown reward(s); valid: {', '.join(REWARD_NAMES)}"
            )


@dataclass
class OpenR1Extras:
    """The fields open-r1 adds to both trainer configs, declared once for both."""

    benchmarks: list[str] = field(
        default_factory=list,
        metadata={"help": "Benchmarks to run on each saved checkpoint and after training."},
    )
    callbacks: list[str] = field(
        default_factory=list,
        metadata={"help": "Callbacks by name: push_to_hub_revision, benchmark_on_save."},
    )
    chat_template: str | None = field(
        default=None, metadata={"help": "A Jinja chat template replacing the tokenizer's."}
    )
    system_prompt: str | None = field(
        default=None,
        metadata={
            "help": "System prompt: prepended to every GRPO prompt; used by benchmarks of "
            "SFT checkpoints."
        },
    )
    hub_model_revision: str | None = field(
        default="main", metadata={"help": "Hub branch the model is pushed to."}
    )
    overwrite_hub_revision: bool = field(
        default=False, metadata={"help": "Allow pushing over an existing Hub branch."}
    )
    push_to_hub_revision: bool = field(
        default=False, metadata={"help": "Push each checkpoint to a Hub branch."}
    )
    wandb_entity: str | None = field(default=None, metadata={"help": "W&B entity of the run."})
    wandb_project: str | None = field(default=None, metadata={"help": "W&B project of the run."})
    wandb_run_group: str | None = field(default=None, metadata={"help": "W&B group of the run."})


@dataclass
class SFTConfig(trl.SFTConfig, OpenR1Extras):
    """TRL's SFTConfig plus open-r1's callbacks, benchmarks, hub revision and W&B fields."""


@dataclass
class GRPOConfig(trl.GRPOConfig, OpenR1Extras):
    """TRL's GRPOConfig plus open-r1's callbacks, benchmarks, hub revision and W&B fields."""


ModelConfig = trl.ModelConfig
