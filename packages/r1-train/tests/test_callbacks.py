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
    r1_eval_command,
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


def test_r1_eval_command_evaluates_the_local_checkpoint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("R1_EVAL_ARGS", "--n 4 --dataset 'math_500=my data/m.jsonl'")
    ckpt = str(tmp_path / "run" / "checkpoint-30")
    job = BenchmarkJob(
        checkpoint="org/m@v-step-30", local_path=ckpt, benchmarks=["math_500", "lcb_v4"],
        step=30, system_prompt="Think first.",
    )  # fmt: skip
    assert r1_eval_command(job) == [
        sys.executable, "-m", "r1_eval.cli", "run", ckpt,
        "--tasks", "math_500,lcb_v4",
        "--output-dir", str(tmp_path / "run" / "evals" / "checkpoint-30"),
        "--system-prompt", "Think first.",
        "--n", "4", "--dataset", "math_500=my data/m.jsonl",
    ]  # fmt: skip


def test_subprocess_launcher_runs_r1_eval_without_a_template(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import r1_train.callbacks as callbacks

    started: list[list[str]] = []

    class FakePopen:
        def __init__(self, argv: list[str], **kwargs: object) -> None:
            started.append(argv)

    monkeypatch.delenv("R1_BENCHMARK_COMMAND", raising=False)
    monkeypatch.delenv("R1_EVAL_ARGS", raising=False)
    monkeypatch.setattr(callbacks.subprocess, "Popen", FakePopen)
    ckpt = str(tmp_path / "run" / "checkpoint-2")
    job = BenchmarkJob(checkpoint=ckpt, local_path=ckpt, benchmarks=["aime24"], step=2)
    for name in ("subprocess", "r1-eval"):
        get_benchmark_launcher(name)(job)
    assert started == [r1_eval_command(job)] * 2
    assert started[0][2:5] == ["r1_eval.cli", "run", ckpt]
    assert (tmp_path / "run" / "evals" / "checkpoint-2").is_dir()  # where its log goes


def test_launchers_are_discovered_through_entry_points(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A package registers a launcher in pyproject; r1-train finds it without importing it."""
    (tmp_path / "fake_cluster_launcher.py").write_text(
        "SEEN = []\ndef launch(job):\n    SEEN.append(job.step)\n    return 'job-42'\n"
    )
    dist = tmp_path / "fake_cluster_launcher-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: fake-cluster-launcher\nVersion: 0.1\n"
    )
    (dist / "entry_points.txt").write_text(
        "[r1_train.benchmark_launchers]\nfake-cluster = fake_cluster_launcher:launch\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("R1_BENCHMARK_LAUNCHER", "fake-cluster")
    assert "fake_cluster_launcher" not in sys.modules  # nothing imported until asked for
    callback = BenchmarkOnSaveCallback()
    callback.on_save(
        _config(tmp_path, benchmarks=["aime24"]), TrainerState(global_step=9), TrainerControl()
    )
    assert callback.launched == ["job-42"]
    assert sys.modules["fake_cluster_launcher"].SEEN == [9]
    with pytest.raises(ValueError, match=r"'nope' is not registered; valid: .*fake-cluster"):
        get_benchmark_launcher("nope")


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


@pytest.mark.slow
@pytest.mark.timeout(1200)  # a training step, then an r1-eval process (imports lighteval)
def test_tiny_training_run_benchmarks_each_checkpoint_with_r1_eval(
    tiny_model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A real Trainer saves a checkpoint; the r1-eval launcher evaluates it in its own process."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, Trainer

    data = tmp_path / "math.jsonl"
    data.write_text(
        "".join(
            json.dumps({"problem": f"What is {a}+{a}?", "answer": str(2 * a)}) + "\n"
            for a in range(3)
        )
    )
    monkeypatch.setenv(
        "R1_EVAL_ARGS",
        f"--dataset math_500={data} --n 2 --max-new-tokens 8 --quiet --grading-workers 1",
    )
    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    ids = torch.randint(0, model.config.vocab_size, (4, 12))
    args = _config(
        tmp_path,
        benchmarks=["math_500"],
        max_steps=1,
        save_steps=1,
        save_strategy="steps",
        per_device_train_batch_size=4,
        logging_strategy="no",
    )
    callback = BenchmarkOnSaveCallback(launcher="r1-eval")
    trainer = Trainer(
        model=model,
        args=args,
        train_dataset=[{"input_ids": row, "labels": row} for row in ids],
        # Saved into each checkpoint (as `r1-train sft` does): the evaluator loads it.
        processing_class=AutoTokenizer.from_pretrained(tiny_model_dir),
        callbacks=[callback],
    )
    trainer.train()
    (proc,) = callback.launched
    evals = tmp_path / "run" / "evals" / "checkpoint-1"
    assert proc.wait(timeout=900) == 0, (evals / "r1-eval.log").read_text()[-3000:]
    summary = json.loads((evals / "summary.json").read_text())
    assert summary["model"] == str(tmp_path / "run" / "checkpoint-1")
    task = summary["tasks"]["math_500"]
    assert task["n"] == 2 and task["problems"] == 3 and task["samples"] == 6
    assert 0.0 <= task["pass@1"] <= 1.0
