"""Configs of `r1-train sft` / `r1-train grpo`: open-r1's fields and algorithm on TRL 1.x.

A recipe is one YAML file read by TRL's parser into three dataclasses: the script
arguments (data and rewards), the trainer config (TRL's `SFTConfig` / `GRPOConfig` plus
open-r1's extras for callbacks, benchmarks and hub revisions) and TRL's `ModelConfig`.
The help text lives once, in each field's metadata, as TRL does; the reward options live
once, in `r1_rewards.RewardArgs`, which `GRPOScriptArguments` inherits.

Why the defaults are not TRL 1.x's: open-r1 pins TRL 0.18, and between 0.18 and 1.16 TRL
changed its GRPO defaults (KL coefficient 0.04 -> 0.0, loss bnpo -> dapo, vLLM server ->
colocate, the 512-token prompt cap removed, completions 256 -> 512 tokens, an importance
correction of vLLM's sampling and of the KL term switched on). A recipe written for open-r1
that does not name those fields would silently run a different algorithm. So the fields
below default to what open-r1 resolved under TRL 0.18 (`OPEN_R1_GRPO_DEFAULTS`, read from
TRL v0.18.0's `trl/trainer/grpo_config.py`); a run that wants the newer algorithm says so
(`loss_type: dapo`, `beta: 0.0`, ...). `max_prompt_length` is kept as a field of r1's own:
TRL 1.x dropped it, so r1's GRPO trainer cuts prompts itself (`grpo.R1GRPOTrainer`).

Fixed against open-r1's `configs.py` (see the package README): the cosine default
`cosine_min_value_wrong` (-1.0, below `cosine_max_value_wrong`), router URLs reaching the
code rewards, local sandboxes by default, token units in the help of the length fields
(all in `RewardArgs`); a mixture validated when the config is built.

Data flow: recipe YAML (through `open_r1_compat` for open-r1's old keys) + CLI flags ->
TrlParser -> these dataclasses -> `preflight` -> `sft.main` / `grpo.main`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import trl

from r1_data.mixture import DatasetMixtureConfig
from r1_rewards import RewardArgs

# open-r1's GRPO algorithm as TRL 0.18 resolved it, written in TRL 1.x's spelling, for the
# fields whose default moved since. Source: TRL v0.18.0, trl/trainer/grpo_config.py
# (beta=0.04, loss_type="bnpo", scale_rewards=True, vllm_mode="server",
# max_prompt_length=512, max_completion_length=256; no vLLM importance-sampling correction
# and a KL term without the importance ratio, since neither existed in 0.18), and open-r1's
# src/open_r1/configs.py (num_completions_to_print=0, wandb_log_unique_prompts=True).
OPEN_R1_GRPO_DEFAULTS: dict[str, Any] = {
    "beta": 0.04,
    "loss_type": "bnpo",
    "scale_rewards": "group",
    "vllm_mode": "server",
    "max_prompt_length": 512,
    "max_completion_length": 256,
    "vllm_importance_sampling_correction": False,
    "use_bias_correction_kl": False,
    "num_completions_to_print": 0,
    "log_unique_prompts": True,
}

# transformers 4.52.3 (open-r1's pin) did not average token counts across devices; 5.x does,
# which changes how each rank's tokens weigh in the SFT loss.
OPEN_R1_SFT_DEFAULTS: dict[str, Any] = {"average_tokens_across_devices": False}


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
            # Parsed from YAML as a dict, kept as the validated config r1-data reads.
            self.dataset_mixture = DatasetMixtureConfig.from_dict(self.dataset_mixture)  # type: ignore[assignment]


@dataclass
class GRPOScriptArguments(ScriptArguments, RewardArgs):
    """Script arguments of GRPO: the data set, plus every reward option of `RewardArgs`.

    The reward fields (`reward_funcs`, `cosine_*`, `code_provider`, ...) are inherited, not
    copied: `r1_rewards.RewardArgs` is their one definition, help text and validation.
    """

    def __post_init__(self) -> None:
        ScriptArguments.__post_init__(self)
        RewardArgs.__post_init__(self)


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
        default="main",
        metadata={
            "help": "Hub branch the push_to_hub_revision callback pushes checkpoints to "
            "(`<revision>-step-<step>`); checked before training when the run pushes."
        },
    )
    overwrite_hub_revision: bool = field(
        default=False,
        metadata={"help": "Allow pushing over a Hub branch that already holds a model."},
    )
    wandb_entity: str | None = field(default=None, metadata={"help": "W&B entity of the run."})
    wandb_project: str | None = field(default=None, metadata={"help": "W&B project of the run."})
    wandb_run_group: str | None = field(default=None, metadata={"help": "W&B group of the run."})


@dataclass
class SFTConfig(trl.SFTConfig, OpenR1Extras):
    """TRL's SFTConfig plus open-r1's extras, with transformers 4.52's loss averaging."""

    average_tokens_across_devices: bool = field(
        default=OPEN_R1_SFT_DEFAULTS["average_tokens_across_devices"],
        metadata={
            "help": "Normalise the loss by the token count summed over all devices (transformers "
            "5's default) instead of per device. Default false: open-r1's transformers 4.52.3."
        },
    )


@dataclass
class GRPOConfig(trl.GRPOConfig, OpenR1Extras):
    """TRL's GRPOConfig plus open-r1's extras; algorithmic defaults are open-r1's (TRL 0.18)."""

    beta: float = field(
        default=OPEN_R1_GRPO_DEFAULTS["beta"],
        metadata={
            "help": "KL coefficient. Default 0.04, open-r1's (TRL 0.18); TRL 1.x defaults to 0.0, "
            "which also skips loading the reference model."
        },
    )
    loss_type: str = field(
        default=OPEN_R1_GRPO_DEFAULTS["loss_type"],
        metadata={
            "help": "How token losses are aggregated: grpo, bnpo, dr_grpo, dapo, cispo, sapo, "
            "luspo or vespo (see TRL). Default bnpo, open-r1's (TRL 0.18); TRL 1.x: dapo."
        },
    )
    vllm_mode: str = field(
        default=OPEN_R1_GRPO_DEFAULTS["vllm_mode"],
        metadata={
            "help": "With use_vllm: 'server' (a separate `trl vllm-serve` / `vllm serve` process) "
            "or 'colocate' (vLLM inside each training process). Default server, open-r1's."
        },
    )
    max_prompt_length: int | None = field(
        default=OPEN_R1_GRPO_DEFAULTS["max_prompt_length"],
        metadata={
            "help": "Prompts longer than this many tokens (after the chat template) keep their "
            "last tokens, as TRL 0.18 did; None keeps them whole. Default 512, open-r1's. TRL 1.x "
            "has no such field; r1's GRPO trainer applies it."
        },
    )
    max_completion_length: int | None = field(
        default=OPEN_R1_GRPO_DEFAULTS["max_completion_length"],
        metadata={
            "help": "Maximum tokens of a completion. Default 256, open-r1's (TRL 0.18); TRL 1.x "
            "defaults to 512."
        },
    )
    vllm_importance_sampling_correction: bool = field(
        default=OPEN_R1_GRPO_DEFAULTS["vllm_importance_sampling_correction"],
        metadata={
            "help": "Reweight the loss by the ratio of trainer to vLLM log-probabilities (TRL 1.x, "
            "default true there). Default false: TRL 0.18 had no such correction."
        },
    )
    use_bias_correction_kl: bool = field(
        default=OPEN_R1_GRPO_DEFAULTS["use_bias_correction_kl"],
        metadata={
            "help": "Multiply the KL term by the importance ratio (TRL 1.x, default true there; "
            "changes the gradient whenever beta != 0). Default false: TRL 0.18's KL."
        },
    )
    num_completions_to_print: int | None = field(
        default=OPEN_R1_GRPO_DEFAULTS["num_completions_to_print"],
        metadata={
            "help": "Completions printed at each logging step with log_completions; None prints "
            "all of them. Default 0, open-r1's."
        },
    )
    log_unique_prompts: bool = field(
        default=OPEN_R1_GRPO_DEFAULTS["log_unique_prompts"],
        metadata={
            "help": "Log each prompt once in the completions table (open-r1's "
            "wandb_log_unique_prompts, default true there)."
        },
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.max_prompt_length is not None and self.max_prompt_length < 1:
            raise ValueError(
                f"max_prompt_length={self.max_prompt_length!r}: must be a positive number of "
                "tokens, or None to keep prompts whole"
            )


ModelConfig = trl.ModelConfig
