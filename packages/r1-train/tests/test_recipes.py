"""Every recipe under recipes/ parses with the parser `r1-train` uses, on the hardware it names.

A recipe is only useful if `r1-train sft|grpo --config recipe.yaml` accepts it: TRL's parser
rejects keys no dataclass owns, so a field renamed or dropped upstream (TRL, transformers)
fails here instead of at the start of a paid GPU job.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import transformers
import trl
import yaml

from r1_rewards import REWARD_NAMES
from r1_train.configs import (
    GRPOConfig,
    GRPOScriptArguments,
    ScriptArguments,
    SFTConfig,
)

RECIPES = Path(__file__).resolve().parents[3] / "recipes"

# The number of training processes each recipe is sized for (recipes/README.md): GRPO's
# batch arithmetic (completions per step divisible by num_generations) only holds there.
# The 1.5B demos train on 7 GPUs and leave the 8th to `trl vllm-serve`.
WORLD_SIZE = {
    "OpenR1-Distill-7B/sft/config_distill.yaml": 8,
    "OlympicCoder-7B/sft/config_v00.00.yaml": 8,
    "OlympicCoder-32B/sft/config_v00.00.yaml": 128,
    "Qwen2.5-1.5B-Instruct/grpo/config_demo.yaml": 7,
    "Qwen2.5-1.5B-Instruct/grpo/config_demo_code.yaml": 7,
    "Qwen2.5-1.5B-Instruct/grpo/config_demo_code_ioi.yaml": 7,
    "Qwen2.5-Coder-7B-Instruct/grpo/config_codeforces.yaml": 8,
    "DeepSeek-R1-Distill-Qwen-1.5B/grpo/config_demo.yaml": 8,
}

TRAINING_RECIPES = sorted(
    str(p.relative_to(RECIPES))
    for p in RECIPES.glob("*/*/*.yaml")
    if p.parent.name in ("sft", "grpo")
)


def _parse(relpath: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *extra: str):
    grpo = relpath.split("/")[1] == "grpo"
    types = (
        (GRPOScriptArguments, GRPOConfig, trl.ModelConfig)
        if grpo
        else (ScriptArguments, SFTConfig, trl.ModelConfig)
    )
    monkeypatch.setattr(
        transformers.TrainingArguments,
        "world_size",
        property(lambda self: WORLD_SIZE[relpath]),
    )
    # This machine has no GPU: use_cpu lets the bf16 recipes through transformers' device
    # check; every other value is the recipe's own.
    args = ["--config", str(RECIPES / relpath), "--use_cpu", "true", *extra]
    config = yaml.safe_load((RECIPES / relpath).read_text())
    if "output_dir" not in config:
        args += ["--output_dir", str(tmp_path / "out")]
    return trl.TrlParser(types).parse_args_and_config(args=args), config


def test_every_open_r1_training_recipe_is_here() -> None:
    assert set(TRAINING_RECIPES) == set(WORLD_SIZE)


@pytest.mark.parametrize("relpath", TRAINING_RECIPES)
def test_training_recipe_parses_with_its_values(
    relpath: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (script_args, training_args, model_args), raw = _parse(relpath, tmp_path, monkeypatch)
    assert script_args.dataset_name == raw["dataset_name"]
    assert model_args.model_name_or_path == raw["model_name_or_path"]
    assert model_args.dtype == "bfloat16"
    assert training_args.learning_rate == raw["learning_rate"]
    assert training_args.seed == 42
    # transformers 5 reads a warmup_steps below 1 as a ratio; the recipe must keep it so.
    assert 0 < training_args.warmup_steps < 1
    if "system_prompt" in raw:
        assert training_args.system_prompt.startswith("You are a helpful AI Assistant")
    if "chat_template" in raw:
        assert "{%" in training_args.chat_template


@pytest.mark.parametrize("relpath", [r for r in TRAINING_RECIPES if "/grpo/" in r])
def test_grpo_recipe_rewards_exist_and_match_weights(
    relpath: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (script_args, training_args, _), raw = _parse(relpath, tmp_path, monkeypatch)
    assert script_args.reward_funcs == raw["reward_funcs"]
    assert set(script_args.reward_funcs) <= set(REWARD_NAMES)
    assert len(training_args.reward_weights) == len(script_args.reward_funcs)
    assert training_args.generation_batch_size % training_args.num_generations == 0


def test_grpo_recipe_sized_for_7_gpus_does_not_fit_one() -> None:
    """The world-size table above matters: on one process the code demo's batch breaks."""
    relpath = "Qwen2.5-1.5B-Instruct/grpo/config_demo_code.yaml"
    with pytest.raises(ValueError, match="num_generations"):
        trl.TrlParser((GRPOScriptArguments, GRPOConfig, trl.ModelConfig)).parse_args_and_config(
            args=["--config", str(RECIPES / relpath), "--use_cpu", "true"]
        )


def test_codeforces_recipe_wires_callbacks_and_hub_revision(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    relpath = "Qwen2.5-Coder-7B-Instruct/grpo/config_codeforces.yaml"
    (script_args, training_args, _), _ = _parse(relpath, tmp_path, monkeypatch)
    assert training_args.callbacks == ["push_to_hub_revision"]
    assert training_args.benchmarks == ["lcb_v4"]
    assert training_args.hub_model_revision == "v01.00"
    assert training_args.loss_type == "dr_grpo"
    assert training_args.mask_truncated_completions is True
    assert script_args.code_eval_test_batch_size == -1
    assert script_args.code_eval_scoring_mode == "weighted_sum"


def test_cli_flag_overrides_recipe(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    relpath = "Qwen2.5-1.5B-Instruct/grpo/config_demo.yaml"
    (_, training_args, _), _ = _parse(relpath, tmp_path, monkeypatch, "--learning_rate", "3e-6")
    assert training_args.learning_rate == 3e-6


@pytest.mark.parametrize("name", ["config_demo.yaml", "filter_dapo.yaml", "filter_python.yaml"])
def test_dataset_filtering_recipe(name: str, tmp_path: Path) -> None:
    """Filtering recipes parse as open-r1's pass-rate script read them, and fit r1-data's."""
    from dataclasses import dataclass

    from r1_data.filtering import PassRateConfig

    @dataclass
    class PassRateScriptArguments(GRPOScriptArguments):
        output_dataset_name: str | None = None
        pass_rate_min: float = 0.1
        pass_rate_max: float = 0.9
        dataset_split: str = "train"

    path = RECIPES / "dataset_filtering" / name
    script_args, training_args, model_args = trl.TrlParser(
        (PassRateScriptArguments, GRPOConfig, trl.ModelConfig)
    ).parse_args_and_config(
        args=["--config", str(path), "--use_cpu", "true", "--output_dir", str(tmp_path)]
    )
    assert set(script_args.reward_funcs) <= set(REWARD_NAMES)
    # The same window must be one r1-data's pass-rate accepts (0 <= min < max <= 1).
    cfg = PassRateConfig(
        dataset=script_args.dataset_name,
        prompt_column=script_args.dataset_prompt_column,
        output=tmp_path / "journal.jsonl",
        model=model_args.model_name_or_path,
        base_urls=["http://127.0.0.1:1/v1"],
        reward_funcs=script_args.reward_funcs,
        pass_rate_min=script_args.pass_rate_min,
        pass_rate_max=script_args.pass_rate_max,
        num_generations=training_args.num_generations,
    )
    assert cfg.pass_rate_min < cfg.pass_rate_max


ACCELERATE_KEYS = {
    "compute_environment",
    "distributed_type",
    "num_processes",
    "num_machines",
    "machine_rank",
    "mixed_precision",
    "main_training_function",
    "use_cpu",
}


@pytest.mark.parametrize(
    ("name", "distributed_type"),
    [("ddp", "MULTI_GPU"), ("zero2", "DEEPSPEED"), ("zero3", "DEEPSPEED"), ("fsdp", "FSDP")],
)
def test_accelerate_config(name: str, distributed_type: str) -> None:
    path = RECIPES / "accelerate_configs" / f"{name}.yaml"
    config = yaml.safe_load(path.read_text())
    assert set(config) >= ACCELERATE_KEYS
    assert config["distributed_type"] == distributed_type
    assert config["num_processes"] == 8
    assert config["mixed_precision"] == "bf16"
    if distributed_type == "DEEPSPEED":
        assert config["deepspeed_config"]["zero_stage"] == int(name[-1])
    if distributed_type == "FSDP":
        assert config["fsdp_config"]["fsdp_sharding_strategy"] == "FULL_SHARD"

    # accelerate's own loader: what `accelerate launch --config_file` reads.
    from accelerate.commands.config.config_args import load_config_from_file

    loaded = load_config_from_file(str(path))
    assert loaded.distributed_type.value == distributed_type
    assert loaded.num_processes == 8


@pytest.mark.parametrize("relpath", TRAINING_RECIPES)
def test_training_recipe_has_no_key_r1_train_rejects(relpath: str) -> None:
    """`r1-train sft|grpo` is stricter than TRL on unknown keys; every recipe passes it."""
    from r1_train.cli import read_recipe

    _, warnings = read_recipe(str(RECIPES / relpath), relpath.split("/")[1])  # type: ignore[arg-type]
    assert warnings == []


# --- The algorithm under every recipe is open-r1's -------------------------------------
#
# What open-r1 got when its recipe did not name a field: the defaults of its pins, read
# from their source.
#   TRL v0.18.0, trl/trainer/grpo_config.py (GRPOConfig):
#     https://github.com/huggingface/trl/blob/v0.18.0/trl/trainer/grpo_config.py
#   TRL v0.18.0, trl/trainer/sft_config.py (SFTConfig):
#     https://github.com/huggingface/trl/blob/v0.18.0/trl/trainer/sft_config.py
#   transformers v4.52.3, src/transformers/training_args.py (TrainingArguments)
#   open-r1, src/open_r1/configs.py (its GRPOConfig sets num_completions_to_print=0)
TRL_0_18_GRPO: dict[str, object] = {
    "beta": 0.04,
    "loss_type": "bnpo",
    "scale_rewards": True,
    "epsilon": 0.2,
    "epsilon_high": None,  # None: the same as epsilon (read in GRPOTrainer.__init__)
    "delta": None,
    "num_iterations": 1,
    "num_generations": 8,
    "temperature": 1.0,
    "top_p": 1.0,
    "top_k": None,  # None: no top-k cut
    "min_p": None,
    "repetition_penalty": 1.0,
    "use_vllm": False,
    "vllm_mode": "server",
    "max_prompt_length": 512,
    "max_completion_length": 256,
    "mask_truncated_completions": False,
    "reward_weights": None,
    "sync_ref_model": False,
    "disable_dropout": False,
    "learning_rate": 1e-6,
    "num_completions_to_print": 0,  # open-r1's configs.py, over TRL's None
}
# Behaviours TRL 0.18 had without a field, in the TRL 1.16 field that now controls them.
TRL_0_18_IMPLICIT: dict[str, object] = {
    "vllm_importance_sampling_correction": False,  # no IS correction of vLLM samples in 0.18
    "use_bias_correction_kl": False,  # 0.18's per-token k3 KL, not times the ratio
    "importance_sampling_level": "token",  # 0.18's ratio is per token
    "multi_objective_aggregation": "sum_then_normalize",  # weighted sum, then group advantages
    "top_entropy_quantile": 1.0,  # every token in the loss
    "entropy_coef": 0.0,  # no entropy bonus
    "use_adaptive_entropy": False,
    "off_policy_mask_threshold": None,
}
TRL_0_18_SFT: dict[str, object] = {
    "learning_rate": 2e-5,
    "max_length": 1024,
    "packing": False,
    "padding_free": False,
    "completion_only_loss": None,
    "dataset_text_field": "text",
    "eos_token": None,
    # transformers 4.52.3's default; only SFT reads it (GRPOTrainer normalises its own loss).
    "average_tokens_across_devices": False,
}
TRANSFORMERS_4_52: dict[str, object] = {
    "weight_decay": 0.0,
    "adam_beta1": 0.9,
    "adam_beta2": 0.999,
    "adam_epsilon": 1e-8,
    "max_grad_norm": 1.0,
    "lr_scheduler_type": "linear",
    "lr_scheduler_kwargs": None,  # {} in 4.52, None in 5: no extra arguments either way
    "warmup_ratio": 0.0,
    "num_train_epochs": 3.0,
    "max_steps": -1,
    "gradient_accumulation_steps": 1,
    "per_device_train_batch_size": 8,
    "seed": 42,
    "label_smoothing_factor": 0.0,
}

# The GRPO fields whose TRL default moved between 0.18 and 1.16 (or that 1.16 added with a
# default 0.18 did not have): every GRPO recipe names each one.
MOVED_GRPO = (
    "beta",
    "loss_type",
    "scale_rewards",
    "vllm_mode",
    "max_prompt_length",
    "max_completion_length",
    "vllm_importance_sampling_correction",
    "use_bias_correction_kl",
    "top_k",
    "num_completions_to_print",
    # unchanged, pinned all the same: they define the clipped objective and the sampling
    "epsilon",
    "epsilon_high",
    "num_iterations",
    "temperature",
    "top_p",
)
MOVED_SFT = ("average_tokens_across_devices",)

# Recipes that opt into a newer algorithm than open-r1's: {recipe: {field: value}}. Each
# must say "opts into" in a comment. None does today.
NEWER_ALGORITHM: dict[str, dict[str, object]] = {}

OPEN_R1_FIXTURES = Path(__file__).parent / "fixtures" / "open_r1"


def resolve_under_open_r1(stage: str, recipe: dict[str, object]) -> dict[str, object]:
    """What open-r1's recipe resolved to on TRL 0.18, written in TRL 1.16's spelling."""
    table = {**TRANSFORMERS_4_52, **(TRL_0_18_GRPO if stage == "grpo" else TRL_0_18_SFT)}
    if stage == "grpo":
        table.update(TRL_0_18_IMPLICIT)
    resolved = {key: recipe.get(key, default) for key, default in table.items()}
    # 1.16 spells the same behaviour differently.
    resolved["warmup_steps"] = resolved.pop("warmup_ratio")
    if stage == "grpo":
        scale = resolved["scale_rewards"]
        resolved["scale_rewards"] = {True: "group", False: "none"}.get(scale, scale)  # type: ignore[call-overload]
        resolved["top_k"] = resolved["top_k"] or 0
        resolved["epsilon_high"] = resolved["epsilon_high"] or resolved["epsilon"]
    resolved["lr_scheduler_kwargs"] = resolved["lr_scheduler_kwargs"] or None
    return resolved


def resolved_fields(stage: str, training_args: object) -> dict[str, object]:
    """The same fields read back from a resolved r1 config."""
    table = {**TRANSFORMERS_4_52, **(TRL_0_18_GRPO if stage == "grpo" else TRL_0_18_SFT)}
    if stage == "grpo":
        table.update(TRL_0_18_IMPLICIT)
    names = [("warmup_steps" if k == "warmup_ratio" else k) for k in table]
    out: dict[str, object] = {}
    for name in names:
        value = getattr(training_args, name)
        out[name] = getattr(value, "value", value)  # enums (lr_scheduler_type) as strings
    if stage == "grpo":
        out["epsilon_high"] = out["epsilon_high"] or out["epsilon"]
    out["lr_scheduler_kwargs"] = out["lr_scheduler_kwargs"] or None
    return out


def _resolve(path: Path, relpath: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    from r1_train.cli import parse_command

    monkeypatch.setattr(
        transformers.TrainingArguments, "world_size", property(lambda self: WORLD_SIZE[relpath])
    )
    stage = relpath.split("/")[1]
    argv = ["--config", str(path), "--use_cpu", "true", "--output_dir", str(tmp_path / "o")]
    return parse_command(stage, argv)  # type: ignore[arg-type]


@pytest.mark.parametrize("relpath", TRAINING_RECIPES)
def test_recipe_resolves_to_open_r1s_algorithm(
    relpath: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Field by field, r1's recipe resolves to what open-r1's resolved to on TRL 0.18."""
    stage = relpath.split("/")[1]
    open_r1 = yaml.safe_load((OPEN_R1_FIXTURES / relpath).read_text())
    expected = resolve_under_open_r1(stage, open_r1)
    expected.update(NEWER_ALGORITHM.get(relpath, {}))
    parsed = _resolve(RECIPES / relpath, relpath, monkeypatch, tmp_path)
    got = resolved_fields(stage, parsed.configs.training_args)
    assert {k: v for k, v in got.items() if v != expected[k]} == {}
    assert parsed.warnings == []  # r1's recipes use TRL 1.x's names only


@pytest.mark.parametrize("relpath", TRAINING_RECIPES)
def test_unchanged_open_r1_recipe_loads_and_resolves_to_its_algorithm(
    relpath: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """open-r1's own file, old keys and all, runs open-r1's algorithm under r1-train."""
    stage = relpath.split("/")[1]
    path = OPEN_R1_FIXTURES / relpath
    open_r1 = yaml.safe_load(path.read_text())
    parsed = _resolve(path, relpath, monkeypatch, tmp_path)
    got = resolved_fields(stage, parsed.configs.training_args)
    expected = resolve_under_open_r1(stage, open_r1)
    assert {k: v for k, v in got.items() if v != expected[k]} == {}
    assert parsed.configs.model_args.dtype == open_r1["torch_dtype"]
    # One warning line per old key, each saying what to write instead.
    old = [
        k
        for k in open_r1
        if k in ("torch_dtype", "warmup_ratio", "overwrite_output_dir", "vllm_device")
    ]
    assert len(parsed.warnings) == len(old)
    assert all("\n" not in w for w in parsed.warnings)
    assert any("write `dtype: bfloat16` instead" in w for w in parsed.warnings)


@pytest.mark.parametrize("relpath", TRAINING_RECIPES)
def test_recipe_pins_every_field_whose_default_moved(relpath: str) -> None:
    """The recipe names each field itself, with a comment, instead of trusting a default."""
    text = (RECIPES / relpath).read_text()
    lines = text.splitlines()
    moved = MOVED_GRPO if "/grpo/" in relpath else MOVED_SFT
    for key in moved:
        index = next((i for i, line in enumerate(lines) if line.startswith(f"{key}:")), None)
        assert index is not None, f"{relpath} does not pin {key}"
        assert lines[index - 1].startswith("#"), f"{relpath}: {key} has no comment"
    if relpath in NEWER_ALGORITHM:
        assert "opts into" in text


def test_trl_defaults_still_differ_from_open_r1s() -> None:
    """Why the pins exist: TRL 1.x's own defaults are another algorithm (guards the table)."""
    trl_grpo = trl.GRPOConfig(output_dir="o", use_cpu=True, bf16=False)
    assert (trl_grpo.beta, trl_grpo.loss_type, trl_grpo.vllm_mode) == (0.0, "dapo", "colocate")
    assert not hasattr(trl_grpo, "max_prompt_length")
    ours = GRPOConfig(output_dir="o", use_cpu=True, bf16=False)
    expected = resolve_under_open_r1("grpo", {})
    got = resolved_fields("grpo", ours)
    # r1-train's own defaults are open-r1's too, so an open-r1 file that is silent on a
    # field still runs open-r1's algorithm.
    assert {k: v for k, v in got.items() if v != expected[k]} == {}
