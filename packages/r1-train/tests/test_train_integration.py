"""`r1-train sft` and `r1-train grpo` end to end on a tiny model and a local data set."""

from __future__ import annotations

import json

import pytest

from r1_train.cli import main

CPU = ["--use_cpu", "true", "--bf16", "false", "--report_to", "none", "--seed", "0"]


@pytest.mark.slow
def test_sft_trains_saves_and_resumes(tmp_path, tiny_model_dir, addition_jsonl):
    out = tmp_path / "sft"
    argv = [
        "sft",
        "--model_name_or_path",
        str(tiny_model_dir),
        "--dataset_name",
        str(addition_jsonl),
        "--output_dir",
        str(out),
        "--max_steps",
        "4",
        "--per_device_train_batch_size",
        "8",
        "--save_strategy",
        "steps",
        "--save_steps",
        "2",
        "--logging_steps",
        "1",
        "--max_length",
        "128",
        *CPU,
    ]
    assert main(argv) == 0
    assert (out / "model.safetensors").exists() and (out / "README.md").exists()
    assert json.loads((out / "config.json").read_text())["use_cache"] is True
    assert (out / "checkpoint-4").is_dir()
    # Launched again with more steps, it resumes from checkpoint-4 instead of restarting.
    assert main([*argv[: -len(CPU) - 2], "--max_length", "128", *CPU, "--max_steps", "6"]) == 0
    state = json.loads((out / "trainer_state.json").read_text())
    assert state["global_step"] == 6
    logged_steps = [h["step"] for h in state["log_history"] if "loss" in h]
    assert logged_steps == [1, 2, 3, 4, 5, 6]


@pytest.mark.slow
def test_grpo_trains_with_r1_rewards(tmp_path, tiny_model_dir, addition_jsonl):
    out = tmp_path / "grpo"
    argv = [
        "grpo",
        "--model_name_or_path",
        str(tiny_model_dir),
        "--dataset_name",
        str(addition_jsonl),
        "--dataset_prompt_column",
        "problem",
        "--system_prompt",
        "Think, then answer.",
        "--reward_funcs",
        "accuracy",
        "format",
        "tag_count",
        "--reward_weights",
        "1",
        "0.5",
        "0.5",
        "--output_dir",
        str(out),
        "--max_steps",
        "2",
        "--per_device_train_batch_size",
        "8",
        "--num_generations",
        "4",
        "--max_completion_length",
        "16",
        "--logging_steps",
        "1",
        "--save_strategy",
        "no",
        *CPU,
    ]
    assert main(argv) == 0
    state = json.loads((out / "trainer_state.json").read_text())
    logged = [h for h in state["log_history"] if "rewards/accuracy_reward/mean" in h]
    assert len(logged) == 2
    assert {"rewards/format_reward/mean", "rewards/tag_count_reward/mean"} <= set(logged[0])
    # The share of samples each reward could not grade reaches the trainer's metrics.
    for name in ("accuracy_reward", "format_reward", "tag_count_reward"):
        assert 0.0 <= logged[0][f"rewards/{name}/ungraded"] <= 1.0
    assert logged[0]["rewards/format_reward/ungraded"] == 0.0
    assert (out / "model.safetensors").exists()


def test_missing_prompt_column_fails_before_loading_the_model(
    tmp_path, tiny_model_dir, addition_jsonl, monkeypatch, capsys
):
    import r1_train.models

    def no_loading(*args, **kwargs):
        raise AssertionError("the model was loaded")

    monkeypatch.setattr(r1_train.models, "get_model", no_loading)
    monkeypatch.setattr(r1_train.models, "get_tokenizer", no_loading)
    argv = [
        "grpo",
        "--model_name_or_path",
        str(tiny_model_dir),
        "--dataset_name",
        str(addition_jsonl),
        "--dataset_prompt_column",
        "question",
        "--output_dir",
        str(tmp_path / "o"),
        *CPU,
    ]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "lacks column(s) 'question' (read by dataset_prompt_column)" in err
    assert "['problem', 'solution', 'messages']" in err


@pytest.mark.slow
def test_sft_with_lora_saves_an_adapter(tmp_path, tiny_model_dir, addition_jsonl):
    out = tmp_path / "lora"
    argv = [
        "sft",
        "--model_name_or_path",
        str(tiny_model_dir),
        "--dataset_name",
        str(addition_jsonl),
        "--output_dir",
        str(out),
        "--max_steps",
        "2",
        "--per_device_train_batch_size",
        "4",
        "--use_peft",
        "true",
        "--lora_r",
        "4",
        "--lora_alpha",
        "8",
        "--lora_target_modules",
        "q_proj",
        "v_proj",
        "--save_strategy",
        "no",
        *CPU,
    ]
    assert main(argv) == 0
    adapter = json.loads((out / "adapter_config.json").read_text())
    assert adapter["r"] == 4 and set(adapter["target_modules"]) == {"q_proj", "v_proj"}
    assert not (out / "model.safetensors").exists()  # only the adapter is saved


@pytest.mark.slow
def test_grpo_runs_under_accelerate_launch(tmp_path, tiny_model_dir, addition_jsonl):
    import subprocess
    import sys
    from pathlib import Path

    accelerate = Path(sys.executable).with_name("accelerate")
    out = tmp_path / "accel"
    cmd = [
        str(accelerate),
        "launch",
        "--num_processes",
        "1",
        "--num_machines",
        "1",
        "--mixed_precision",
        "no",
        "--dynamo_backend",
        "no",
        "--cpu",
        "-m",
        "r1_train.cli",
        "grpo",
        "--model_name_or_path",
        str(tiny_model_dir),
        "--dataset_name",
        str(addition_jsonl),
        "--dataset_prompt_column",
        "problem",
        "--reward_funcs",
        "accuracy",
        "format",
        "--output_dir",
        str(out),
        "--max_steps",
        "1",
        "--per_device_train_batch_size",
        "4",
        "--num_generations",
        "4",
        "--max_completion_length",
        "8",
        "--save_strategy",
        "no",
        *CPU,
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert (out / "model.safetensors").exists()
