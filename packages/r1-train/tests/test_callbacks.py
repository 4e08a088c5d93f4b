"""Callbacks driven by real TrainingArguments / TrainerState, pushing to the fake Hub of test_hub."""

from __future__ import annotations

import importlib.util
import json
import sys
import threading
from pathlib import Path

import pytest
from transformers import TrainerControl, TrainerState

from r1_train.callbacks import (
    BenchmarkJob,
    BenchmarkOnSaveCallback,
    PushToHubRevisionCallback,
    get_benchmark_launcher,
    get_callbacks,
    make_subprocess_launcher,
    register_benchmark_launcher,
)
from r1_train.configs import GRPOConfig, SFTConfig

# The fake Hub lives in test_hub.py; one copy of it, loaded by path (tests are not a package).
_spec = importlib.util.spec_from_file_location(
    "_r1_train_test_hub", Path(__file__).with_name("test_hub.py")
)
_test_hub = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_test_hub)
fake_hub = _test_hub.fake_hub
FakeHub = _test_hub.FakeHub


def _config(tmp_path: Path, **kw) -> SFTConfig:
    return SFTConfig(output_dir=str(tmp_path / "run"), use_cpu=True, report_to="none", **kw)


def _checkpoint(tmp_path: Path, step: int) -> Path:
    ckpt = tmp_path / "run" / f"checkpoint-{step}"
    ckpt.mkdir(parents=True)
    (ckpt / "config.json").write_text(json.dumps({"model_type": "qwen2"}))
    (ckpt / "model.safetensors").write_bytes(b"weights")
    (ckpt / "optimizer.pt").write_bytes(b"adam")
    (ckpt / "scheduler.pt").write_bytes(b"sched")
    (ckpt / "rng_state.pth").write_bytes(b"rng")
    return ckpt


def test_get_callbacks_by_name(tmp_path: Path) -> None:
    config = _config(tmp_path, callbacks=["push_to_hub_revision", "benchmark_on_save"])
    callbacks = get_callbacks(config, model_config="model-config")
    assert [type(c) for c in callbacks] == [PushToHubRevisionCallback, BenchmarkOnSaveCallback]
    assert callbacks[0].model_config == "model-config"
    assert get_callbacks(_config(tmp_path), None) == []


def test_get_callbacks_unknown_name_lists_valid_ones(tmp_path: Path) -> None:
    config = _config(tmp_path, callbacks=["push_to_hub"])
    with pytest.raises(
        ValueError, match=r"'push_to_hub'.*valid: push_to_hub_revision, benchmark_on_save"
    ):
        get_callbacks(config, None)


def test_benchmark_on_save_hands_checkpoint_to_launcher(tmp_path: Path) -> None:
    jobs: list[BenchmarkJob] = []
    args = _config(tmp_path, benchmarks=["aime24", "math_500"], system_prompt="Think first.")
    callback = BenchmarkOnSaveCallback(model_config="mc", launcher=jobs.append)
    callback.on_save(args, TrainerState(global_step=20), TrainerControl())

    (job,) = jobs
    assert job.checkpoint == str(tmp_path / "run" / "checkpoint-20")
    assert job.benchmarks == ["aime24", "math_500"]
    assert job.step == 20
    assert job.system_prompt == "Think first."
    assert job.model_config == "mc"


def test_benchmark_on_save_only_on_main_process_and_with_benchmarks(tmp_path: Path) -> None:
    jobs: list[BenchmarkJob] = []
    callback = BenchmarkOnSaveCallback(launcher=jobs.append)
    state = TrainerState(global_step=5)
    state.is_world_process_zero = False
    callback.on_save(_config(tmp_path, benchmarks=["aime24"]), state, TrainerControl())
    callback.on_save(_config(tmp_path), TrainerState(global_step=5), TrainerControl())
    assert jobs == []


def test_default_launcher_logs_what_it_would_run(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("R1_BENCHMARK_LAUNCHER", raising=False)
    callback = BenchmarkOnSaveCallback()
    with caplog.at_level("INFO", logger="r1_train.callbacks"):
        callback.on_save(
            _config(tmp_path, benchmarks=["lcb_v4"]), TrainerState(global_step=3), TrainerControl()
        )
    assert "checkpoint-3" in caplog.text and "lcb_v4" in caplog.text


def test_launcher_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[int] = []
    register_benchmark_launcher("test-recorder", lambda job: seen.append(job.step))
    monkeypatch.setenv("R1_BENCHMARK_LAUNCHER", "test-recorder")
    get_benchmark_launcher()(BenchmarkJob(checkpoint="c", local_path="c", benchmarks=["b"], step=7))
    assert seen == [7]
    with pytest.raises(ValueError, match=r"'slurmm' is not registered; valid: .*log.*subprocess"):
        get_benchmark_launcher("slurmm")


def test_subprocess_launcher_runs_the_template(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "eval.json"
    script = "import json, sys; json.dump(sys.argv[1:], open(sys.argv[1], 'w'))"
    monkeypatch.setenv("R1_BENCHMARK_LAUNCHER", "subprocess")
    monkeypatch.setenv(
        "R1_BENCHMARK_COMMAND",
        f'{sys.executable} -c "{script}" {out} {{checkpoint}} {{benchmarks}} step={{step}}',
    )
    callback = BenchmarkOnSaveCallback()
    callback.on_save(
        _config(tmp_path, benchmarks=["aime24", "gpqa"]),
        TrainerState(global_step=40),
        TrainerControl(),
    )
    (proc,) = callback.launched
    assert proc.wait(timeout=30) == 0
    assert json.loads(out.read_text()) == [
        str(out),
        str(tmp_path / "run" / "checkpoint-40"),
        "aime24,gpqa",
        "step=40",
    ]


def test_subprocess_launcher_errors_are_clear(monkeypatch: pytest.MonkeyPatch) -> None:
    job = BenchmarkJob(checkpoint="c", local_path="c", benchmarks=[], step=1)
    with pytest.raises(ValueError, match=r"unknown placeholder 'model'"):
        make_subprocess_launcher("eval {model}")(job)
    monkeypatch.delenv("R1_BENCHMARK_COMMAND", raising=False)
    with pytest.raises(ValueError, match="R1_BENCHMARK_COMMAND"):
        get_benchmark_launcher("subprocess")(job)


def test_push_to_hub_revision_callback_pushes_checkpoint_then_benchmarks(
    fake_hub: FakeHub, tmp_path: Path
) -> None:
    _checkpoint(tmp_path, 10)
    launched = threading.Event()
    jobs: list[BenchmarkJob] = []

    def launcher(job: BenchmarkJob) -> None:
        # Called only once the push is done: the branch must already hold the weights.
        assert "model.safetensors" in fake_hub.repos["org/tiny"]["branches"][job.hub_revision]
        jobs.append(job)
        launched.set()

    args = GRPOConfig(
        output_dir=str(tmp_path / "run"),
        use_cpu=True,
        report_to="none",
        hub_model_id="org/tiny",
        hub_model_revision="v01.00",
        benchmarks=["lcb_v4"],
        per_device_train_batch_size=8,
        num_generations=8,
    )
    callback = PushToHubRevisionCallback(model_config="mc", launcher=launcher)
    callback.on_save(args, TrainerState(global_step=10), TrainerControl())
    callback.futures[0].result(timeout=30)
    assert launched.wait(timeout=30)

    branch = fake_hub.repos["org/tiny"]["branches"]["v01.00-step-000000010"]
    assert set(branch) == {"config.json", "model.safetensors"}  # no optimizer/scheduler/rng
    (job,) = jobs
    assert job.checkpoint == "org/tiny@v01.00-step-000000010"
    assert job.local_path == str(tmp_path / "run" / "checkpoint-10")
    assert job.benchmarks == ["lcb_v4"] and job.step == 10


def test_push_callback_skips_other_processes(tmp_path: Path) -> None:
    state = TrainerState(global_step=10)
    state.is_world_process_zero = False
    callback = PushToHubRevisionCallback()
    # Would fail loudly (no hub_model_id, offline) if it tried to push.
    callback.on_save(_config(tmp_path), state, TrainerControl())
    assert callback.futures == []


@pytest.mark.slow
def test_real_trainer_calls_benchmark_launcher_on_each_save(
    tiny_model_dir: Path, tmp_path: Path
) -> None:
    """A real transformers Trainer on the tiny Qwen2: every save reaches the launcher."""
    import torch
    from transformers import AutoModelForCausalLM, Trainer

    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    ids = torch.randint(0, model.config.vocab_size, (8, 12))
    rows = [{"input_ids": row, "labels": row} for row in ids]
    jobs: list[BenchmarkJob] = []
    args = _config(
        tmp_path,
        benchmarks=["aime24"],
        max_steps=2,
        save_steps=1,
        save_strategy="steps",
        per_device_train_batch_size=4,
        logging_strategy="no",
    )
    trainer = Trainer(
        model=model,
        args=args,
        train_dataset=rows,
        callbacks=[BenchmarkOnSaveCallback(launcher=jobs.append)],
    )
    trainer.train()
    assert [job.step for job in jobs] == [1, 2]
    for job in jobs:
        assert (Path(job.local_path) / "model.safetensors").exists()
