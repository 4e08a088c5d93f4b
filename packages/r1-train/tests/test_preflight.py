"""Preflight: what can fail without a model fails before one loads, with the fix and exit code."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import huggingface_hub
import pytest

from r1_train import preflight
from r1_train.cli import main, parse_command
from r1_train.errors import MissingExtraError, PreflightError, ServiceUnavailableError


def _configs(tmp_path: Path, *flags: str, stage: str = "grpo"):
    argv = [
        "--dataset_name",
        "d",
        "--output_dir",
        str(tmp_path / "o"),
        "--use_cpu",
        "true",
        "--bf16",
        "false",
        "--report_to",
        "none",
        *flags,
    ]
    return parse_command(stage, argv).configs  # type: ignore[arg-type]


def test_missing_extras_name_the_pip_install(tmp_path, monkeypatch):
    # Nothing of vLLM, W&B, DeepSpeed or Liger is installed in the test environment.
    _, training, _ = _configs(
        tmp_path, "--use_vllm", "true", "--report_to", "wandb", "--use_liger_kernel", "true"
    )
    monkeypatch.setenv("ACCELERATE_USE_DEEPSPEED", "true")
    with pytest.raises(MissingExtraError) as info:
        preflight.check_extras(training)
    message = str(info.value)
    assert 'pip install "r1-train[vllm,wandb,deepspeed,liger]"' in message
    assert "vllm (use_vllm is true)" in message
    assert "accelerate was launched with a DeepSpeed config" in message


def test_no_extra_needed_by_default(tmp_path):
    _, training, _ = _configs(tmp_path)
    assert preflight.required_extras(training) == {}
    preflight.check_extras(training)


def test_model_local_directory(tmp_path, tiny_model_dir):
    preflight.check_model(
        SimpleNamespace(model_name_or_path=str(tiny_model_dir), model_revision="main")
    )
    with pytest.raises(PreflightError, match="no such directory, and not a Hub id"):
        preflight.check_model(
            SimpleNamespace(model_name_or_path=str(tmp_path / "nope" / "x"), model_revision="main")
        )
    (tmp_path / "empty").mkdir()
    with pytest.raises(PreflightError, match=r"holds no config\.json"):
        preflight.check_model(
            SimpleNamespace(model_name_or_path=str(tmp_path / "empty"), model_revision="main")
        )


def test_uncached_hub_id_offline_is_an_error_without_a_request(monkeypatch):
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(PreflightError, match="not in the local Hub cache and HF_HUB_OFFLINE"):
        preflight.check_model(
            SimpleNamespace(model_name_or_path="org/not-cached-model", model_revision="main")
        )


def test_unreachable_hub_is_a_service_error(monkeypatch):
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # nothing listens on port 9
    with pytest.raises(
        ServiceUnavailableError, match=r"cannot reach the Hub at http://127.0.0.1:9"
    ):
        preflight.check_model(
            SimpleNamespace(model_name_or_path="org/not-cached-model", model_revision="main")
        )


def test_push_with_unreachable_hub_fails_before_loading(tmp_path, monkeypatch):
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")
    _, training, _ = _configs(tmp_path, "--push_to_hub", "true", "--hub_model_id", "org/m")
    with pytest.raises(ServiceUnavailableError, match="would fail at the first save"):
        preflight.check_hub(training)
    _, quiet, _ = _configs(tmp_path)
    preflight.check_hub(quiet)  # no push, no Hub needed


def test_unknown_benchmark_launcher_fails_before_training(tmp_path, monkeypatch):
    monkeypatch.setenv("R1_BENCHMARK_LAUNCHER", "no-such-launcher")
    _, training, _ = _configs(
        tmp_path, "--callbacks", "benchmark_on_save", "--benchmarks", "aime24"
    )
    with pytest.raises(PreflightError, match=r"benchmarks=\['aime24'\].*no-such-launcher"):
        preflight.check_launcher(training)
    _, bad, _ = _configs(tmp_path, "--callbacks", "push_to_hub")
    with pytest.raises(PreflightError, match=r"callbacks=\['push_to_hub'\]: unknown"):
        preflight.check_launcher(bad)


def test_every_reward_column_entry_names_a_real_reward():
    from r1_rewards import REWARD_NAMES

    assert set(preflight.REWARD_COLUMNS) <= set(REWARD_NAMES)


def test_missing_columns_are_named_with_their_reader(tmp_path):
    from datasets import Dataset, DatasetDict

    script, training, _ = _configs(
        tmp_path, "--dataset_prompt_column", "problem", "--reward_funcs", "accuracy", "format"
    )
    good = DatasetDict({"train": Dataset.from_dict({"problem": ["1+1"], "solution": ["2"]})})
    preflight.check_columns("grpo", good, script, training)
    bad = DatasetDict({"train": Dataset.from_dict({"problem": ["1+1"], "answer": ["2"]})})
    with pytest.raises(
        PreflightError, match=r"lacks column\(s\) 'solution' \(read by the accuracy"
    ):
        preflight.check_columns("grpo", bad, script, training)


def test_cli_exit_codes(tmp_path, capsys, monkeypatch):
    base = [
        "--dataset_name",
        "d",
        "--output_dir",
        str(tmp_path / "o"),
        "--use_cpu",
        "true",
        "--bf16",
        "false",
        "--report_to",
        "none",
    ]
    # 2: configuration (a model path that does not exist), before anything loads.
    assert main(["sft", *base, "--model_name_or_path", str(tmp_path / "none" / "m")]) == 2
    assert "no such directory" in capsys.readouterr().err
    # 2: a missing extra.
    assert main(["grpo", *base, "--model_name_or_path", str(tmp_path), "--use_vllm", "true"]) == 2
    assert 'pip install "r1-train[vllm]"' in capsys.readouterr().err
    # 3: the Hub is needed (the model is not cached) and unreachable.
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")
    assert main(["sft", *base, "--model_name_or_path", "org/uncached"]) == 3
    # 2: a flag no config knows.
    assert main(["sft", *base, "--no_such_flag", "1"]) == 2
    assert "no_such_flag" in capsys.readouterr().err
