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

    from r1_data.pass_rate import PassRateConfig

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
    from r1_train.cli import _config_classes, check_yaml_keys

    check_yaml_keys(str(RECIPES / relpath), _config_classes(relpath.split("/")[1]))
