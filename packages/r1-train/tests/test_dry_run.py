"""`r1-train sft|grpo --config FILE --dry-run`: every resolved field as YAML, nothing loaded."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import yaml

from r1_train.cli import main
from r1_train.configs import GRPOConfig, GRPOScriptArguments

FIXTURES = Path(__file__).parent / "fixtures" / "open_r1"


def test_dry_run_prints_every_field_as_yaml_and_loads_nothing(capsys, monkeypatch, tmp_path):
    import transformers

    # A model and a data set that do not exist: a dry run must not try to load them.
    loaded: list[str] = []
    monkeypatch.setattr(
        transformers.AutoModelForCausalLM, "from_pretrained", lambda *a, **k: loaded.append("m")
    )
    monkeypatch.setattr(
        transformers.AutoTokenizer, "from_pretrained", lambda *a, **k: loaded.append("t")
    )
    monkeypatch.setattr(transformers.TrainingArguments, "world_size", property(lambda self: 7))
    recipe = FIXTURES / "Qwen2.5-1.5B-Instruct" / "grpo" / "config_demo.yaml"
    code = main(
        [
            "grpo",
            "--config",
            str(recipe),
            "--use_cpu",
            "true",
            "--output_dir",
            str(tmp_path),
            "--model_name_or_path",
            "no-such-org/no-such-model",
            "--dataset_name",
            "no/such-data",
            "--learning_rate",
            "3e-6",
            "--dry-run",
        ]
    )
    captured = capsys.readouterr()
    assert code == 0
    assert loaded == []
    document = yaml.safe_load(captured.out)
    assert list(document) == ["GRPOScriptArguments", "GRPOConfig", "ModelConfig"]
    assert set(document["GRPOConfig"]) == {f.name for f in dataclasses.fields(GRPOConfig)}
    assert set(document["GRPOScriptArguments"]) == {
        f.name for f in dataclasses.fields(GRPOScriptArguments)
    }
    grpo = document["GRPOConfig"]
    assert grpo["learning_rate"] == 3e-6  # the flag over the YAML
    assert (grpo["beta"], grpo["loss_type"], grpo["vllm_mode"]) == (0.04, "bnpo", "server")
    assert grpo["max_prompt_length"] == 512 and grpo["warmup_steps"] == 0.1
    assert grpo["hub_token"] is None
    assert document["ModelConfig"]["dtype"] == "bfloat16"
    # The rename warnings go to stderr, one line each; stdout stays pure YAML.
    warnings = [line for line in captured.err.splitlines() if "warning:" in line]
    assert len(warnings) == 3  # torch_dtype, overwrite_output_dir, warmup_ratio
    assert all(line.startswith("r1-train grpo: warning: ") for line in warnings)


def test_dry_run_of_sft(capsys, tmp_path):
    code = main(
        [
            "sft",
            "--dataset_name",
            "d",
            "--output_dir",
            str(tmp_path),
            "--use_cpu",
            "true",
            "--dry-run",
        ]
    )
    assert code == 0
    document = yaml.safe_load(capsys.readouterr().out)
    assert document["SFTConfig"]["average_tokens_across_devices"] is False
    assert document["ScriptArguments"]["dataset_name"] == "d"
