"""Real jobs on the test cluster (conftest.slurm_cluster), run to completion, outputs checked.

One tiny CPU training run carries the expensive part: it is submitted first (`training`),
requeued with `scontrol requeue` once its first checkpoint is on disk, and runs on while
the sandbox-worker, serve and generate jobs come and go. Its final save then feeds the
benchmark launcher. Servers are `tests/fake_openai.py` under vLLM's command line, so no
GPU or model download is needed; the GPUs the jobs ask for are the cluster's fake ones.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.metadata
import importlib.util
import json
import os
import shlex
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import pytest

from r1_slurm.cli import main
from r1_slurm.submission import job_state, wait_for

# The training job starts twice on two shared cores: minutes, not the default 300 s.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(1200)]

FAKE_OPENAI = Path(__file__).with_name("fake_openai.py")
# Few steps: on a loaded 2-core machine a tiny step can take seconds, and the job starts twice.
MAX_STEPS = 12
SAVE_STEPS = 4


def submit(argv: list[str], capsys: pytest.CaptureFixture) -> list[str]:
    """`r1-slurm submit ...`; the job ids it printed, sbatch's way."""
    capsys.readouterr()
    assert main(["submit", *argv]) == 0, capsys.readouterr().err
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines and all(line.startswith("Submitted batch job ") for line in lines), out
    return [line.split()[-1] for line in lines]


def log_of(job_id: str) -> str:
    path = Path(job_state(job_id)["StdOut"])
    return path.read_text(errors="replace") if path.exists() else "(no log)"


def finished(job_id: str, timeout: float = 900) -> dict[str, str]:
    info = wait_for(job_id, timeout=timeout)
    assert info["JobState"] == "COMPLETED", f"{info['JobState']}:\n{log_of(job_id)[-4000:]}"
    return info


@pytest.fixture(scope="module")
def site_file(tmp_path_factory: pytest.TempPathFactory, slurm_cluster) -> Path:
    root = tmp_path_factory.mktemp("site")
    path = root / "r1-slurm.toml"
    path.write_text(
        f'[slurm]\ngpus_per_node = 0\ntime = "00:30:00"\n'
        f'[paths]\nlog_dir = "{root / "logs"}"\n'
        f'[commands]\nvllm = "{sys.executable} {FAKE_OPENAI}"\nserver_timeout = 120\n'
    )
    return path


@pytest.fixture(autouse=True)
def _env(site_file: Path, tmp_path_factory: pytest.TempPathFactory, monkeypatch) -> None:
    monkeypatch.setenv("R1_SLURM_SITE", str(site_file))
    monkeypatch.setenv("R1_SLURM_STATE_DIR", str(site_file.parent / "state"))


@dataclass
class Training:
    job_id: str
    output_dir: Path
    first_checkpoint: Path
    requeued: threading.Event
    first_checkpoint_mtime: int = 0
    error: BaseException | None = None

    def wait_requeued(self) -> None:
        assert self.requeued.wait(900), "the training job was never requeued"
        if self.error is not None:
            raise self.error


@pytest.fixture(scope="module")
def tiny_recipe(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An SFT recipe on r1-train's tiny Qwen2 and column-addition traces (no download)."""
    from r1_train.tiny.addition import corpus, make_problems, teacher_trace
    from r1_train.tiny.tiny_model import tiny_qwen2, train_tokenizer

    root = tmp_path_factory.mktemp("tiny")
    tokenizer = train_tokenizer(corpus(make_problems(300, seed=1)))
    tiny_qwen2(tokenizer, seed=0).save_pretrained(root / "model")
    tokenizer.save_pretrained(root / "model")
    with (root / "addition.jsonl").open("w") as f:
        for p in make_problems(64, seed=2, digits=(2, 2)):
            messages = [{"role": "user", "content": p.prompt},
                        {"role": "assistant", "content": teacher_trace(p)}]  # fmt: skip
            f.write(json.dumps({"messages": messages}) + "\n")
    recipe = root / "sft.yaml"
    recipe.write_text(
        f"model_name_or_path: {root / 'model'}\n"
        f"dataset_name: {root / 'addition.jsonl'}\n"
        f"output_dir: {root / 'out'}\n"
        f"max_steps: {MAX_STEPS}\nsave_strategy: steps\nsave_steps: {SAVE_STEPS}\n"
        "per_device_train_batch_size: 4\nmax_length: 96\nlogging_steps: 1\n"
        "learning_rate: 3.0e-3\nlr_scheduler_type: constant\n"
        "use_cpu: true\nbf16: false\nreport_to: none\nseed: 0\n"
    )
    return recipe


@pytest.fixture(scope="module")
def training(tiny_recipe: Path, site_file: Path) -> Iterator[Training]:
    """The tiny SFT job, submitted, then requeued once its first checkpoint is saved."""
    env = {
        **os.environ,
        "R1_SLURM_SITE": str(site_file),
        "R1_SLURM_STATE_DIR": str(site_file.parent / "state"),
    }
    argv = ["submit", "train", "--stage", "sft", "--config", str(tiny_recipe),
            "--accelerate-config", "none", "--job-name", "tiny-sft"]  # fmt: skip
    out = subprocess.run(
        [sys.executable, "-m", "r1_slurm.cli", *argv],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    ).stdout
    assert out.startswith("Submitted batch job "), out
    job_id = out.split()[-1]
    output_dir = Path(str(tiny_recipe.parent / "out"))
    training = Training(
        job_id, output_dir, output_dir / f"checkpoint-{SAVE_STEPS}", threading.Event()
    )
    # The requeue happens in the background, so the other jobs run while this one trains.
    thread = threading.Thread(target=_requeue_after_first_checkpoint, args=(training,), daemon=True)
    thread.start()
    yield training
    thread.join(timeout=60)


def _requeue_after_first_checkpoint(training: Training) -> None:
    job_id, first = training.job_id, training.first_checkpoint
    try:
        started = time.monotonic()
        while not (first / "trainer_state.json").exists():
            state = job_state(job_id).get("JobState")
            assert state in ("PENDING", "RUNNING", "CONFIGURING"), f"{state}\n{log_of(job_id)}"
            assert time.monotonic() - started < 600, log_of(job_id)
            time.sleep(0.2)
        time.sleep(0.5)  # let the checkpoint's last files land
        training.first_checkpoint_mtime = (first / "trainer_state.json").stat().st_mtime_ns
        # Preemption, as SLURM does it: the job goes back to the queue and starts again from
        # its script. Without StartTime=now it would wait out SLURM's 120 s requeue hold.
        subprocess.run(["scontrol", "requeue", job_id], check=True, capture_output=True)
        deadline = time.monotonic() + 120
        while job_state(job_id).get("JobState") != "PENDING":
            assert time.monotonic() < deadline, job_state(job_id)
            time.sleep(0.2)
        # slurmd revoked the first run's credential at the requeue, and its check is
        # `created <= revoked` in whole seconds: a start within the same second is killed as
        # "Job credential revoked" (JobState FAILED). Three seconds put the new one past it,
        # on a loaded node too.
        time.sleep(3)
        subprocess.run(
            ["scontrol", "update", f"jobid={job_id}", "StartTime=now"],
            check=True,
            capture_output=True,
        )
    except BaseException as exc:
        training.error = exc
    finally:
        training.requeued.set()


def test_sandbox_workers_answer_through_piston_endpoints_slurm(
    training: Training, capsys, monkeypatch, free_ports
) -> None:
    from r1_cp_scoring import get_piston_client_from_env

    base = free_ports(2)
    ids = submit(["sandbox-workers", "2", "--base-port", str(base), "--host", "127.0.0.1"], capsys)
    assert len(ids) == 2
    for job_id in ids:
        assert wait_for(job_id, ("RUNNING",), timeout=120)["JobName"].startswith("piston-worker-")
    monkeypatch.setenv("PISTON_ENDPOINTS", "slurm")

    async def ask() -> tuple[list[str], list[dict]]:
        client = get_piston_client_from_env()
        try:
            answers = []
            for endpoint in sorted(client.base_endpoints):
                one = type(client)([endpoint], base_delay=1.0)
                try:
                    answers.append(await one.send_execute(
                        {"files": [{"content": "print(6 * 7)"}]}, "python", max_retries=20
                    ))  # fmt: skip
                finally:
                    await one.aclose()
            return client.base_endpoints, answers
        finally:
            await client.aclose()

    try:
        endpoints, answers = asyncio.run(ask())
        node = job_state(ids[0])["NodeList"]
        assert sorted(endpoints) == [f"http://{node}:{base}/api/v2",
                                     f"http://{node}:{base + 1}/api/v2"]  # fmt: skip
        assert [a["run"]["stdout"] for a in answers] == ["42\n", "42\n"]
    finally:
        capsys.readouterr()
        assert main(["cancel", *ids]) == 0
    for job_id in ids:
        assert wait_for(job_id, timeout=60)["JobState"] == "CANCELLED"


def test_serve_waits_for_health_prints_the_endpoint_and_gets_its_gpus(
    training: Training, tmp_path: Path, capsys, monkeypatch, free_ports
) -> None:
    import urllib.request

    record = tmp_path / "server.jsonl"
    monkeypatch.setenv("FAKE_OPENAI_RECORD", str(record))
    port = free_ports(1)
    capsys.readouterr()
    argv = ["submit", "serve", "tiny-model", "--port", str(port), "--host", "127.0.0.1",
            "--gpus-per-node", "2", "--wait", "--wait-timeout", "180"]  # fmt: skip
    assert main(argv) == 0, capsys.readouterr().err
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("Submitted batch job ")
    job_id = out[0].split()[-1]
    try:
        assert out[1] == f"http://127.0.0.1:{port}/v1"
        with urllib.request.urlopen(f"{out[1]}/models", timeout=10) as r:
            assert json.load(r)["data"][0]["id"] == "tiny-model"
        # The site's GPU syntax (--gres=gpu:2) reached SLURM, and SLURM gave both fake GPUs.
        (started,) = [json.loads(line) for line in record.read_text().splitlines()]
        assert started["cuda_visible_devices"] == "0,1"
        assert started["argv"][:3] == ["tiny-model", "--host", "127.0.0.1"]
        assert "--tensor-parallel-size" in started["argv"]
        assert "serving tiny-model at" in log_of(job_id)
        capsys.readouterr()
        assert main(["status", job_id, "--json"]) == 0
        row = json.loads(capsys.readouterr().out)
        assert row["state"] == "RUNNING" and row["kind"] == "serve"
    finally:
        assert main(["cancel", job_id]) == 0
    assert wait_for(job_id, timeout=60)["JobState"] == "CANCELLED"


def test_generate_runs_r1_data_against_its_own_server(
    training: Training, tmp_path: Path, capsys, free_ports
) -> None:
    prompts = tmp_path / "prompts.jsonl"
    prompts.write_text("".join(json.dumps({"problem": f"What is {i} + 1?"}) + "\n"
                               for i in range(5)))  # fmt: skip
    output = tmp_path / "traces.jsonl"
    (job_id,) = submit(["generate", "teacher", "--dataset", str(prompts), "--prompt-column",
                        "problem", "--output", str(output), "--num-generations", "2",
                        "--port", str(free_ports(1)), "--", "--max-concurrency", "4"],
                       capsys)  # fmt: skip
    finished(job_id, timeout=300)
    rows = [json.loads(line) for line in output.read_text().splitlines()]
    assert sorted(r["problem"] for r in rows) == sorted(f"What is {i} + 1?" for i in range(5))
    assert all(len(r["generations"]) == 2 and "\\boxed{42}" in r["generations"][0] for r in rows)
    assert "generation finished" in log_of(job_id)


@pytest.mark.skipif(
    importlib.util.find_spec("r1_eval") is None,
    reason="r1-eval is not installed (pip install r1-eval); test_render checks the script",
)
def test_evaluate_runs_r1_eval_against_an_endpoint(tmp_path: Path, capsys, monkeypatch) -> None:
    import http.server

    monkeypatch.syspath_prepend(str(FAKE_OPENAI.parent))
    # The job runs where it was submitted, and lighteval leaves a .litellm_cache/ there.
    monkeypatch.chdir(tmp_path)
    from fake_openai import make_handler

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), make_handler("tiny"))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    data = tmp_path / "math_500.jsonl"
    data.write_text("".join(
        json.dumps({"problem": f"What is 6 x 7? ({i})", "solution": "\\boxed{42}", "answer": "42"})
        + "\n" for i in range(3)
    ))  # fmt: skip
    out = tmp_path / "evals"
    try:
        (job_id,) = submit(["evaluate", "tiny", "--tasks", "math_500", "--backend", "endpoint",
                            "--base-url", f"http://127.0.0.1:{server.server_port}/v1",
                            "--dataset", f"math_500={data}", "--n", "1", "--output-dir", str(out)],
                           capsys)  # fmt: skip
        finished(job_id, timeout=600)
    finally:
        server.shutdown()
        server.server_close()
    summary = json.loads((out / "summary.json").read_text())
    assert summary["tasks"]["math_500"]["pass@1"] == pytest.approx(1.0)


def test_two_node_train_job_serves_vllm_on_one_node_and_trains_on_the_other(
    tmp_path: Path, site_file: Path, slurm_cluster, capsys, monkeypatch, free_ports
) -> None:
    if len(slurm_cluster.nodes) < 2:
        pytest.skip("the hostname does not resolve to 127.0.0.1: the test cluster has one node")
    # Stand-ins for accelerate and TRL's vLLM server (tests/stubs), first on the PATH that
    # sbatch hands to the job; srun, scontrol and the node split are SLURM's own.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("accelerate", "trl"):
        (bin_dir / tool).symlink_to(Path(__file__).parent / "stubs" / tool)
    monkeypatch.setenv("PATH", f"{bin_dir}:{Path(sys.executable).parent}:{os.environ['PATH']}")
    record = tmp_path / "record.jsonl"
    monkeypatch.setenv("FAKE_RECORD", str(record))
    site = tmp_path / "two-nodes.toml"
    site.write_text(
        site_file.read_text().replace("[paths]", '[environment]\nactivate = "none"\n[paths]')
    )
    recipe = tmp_path / "grpo.yaml"
    recipe.write_text("model_name_or_path: tiny\nuse_vllm: true\nvllm_mode: server\n")
    port = free_ports(1)
    (job_id,) = submit(["train", "--stage", "grpo", "--config", str(recipe), "--nodes", "2",
                        "--accelerate-config", "none", "--vllm-port", str(port),
                        "--site", str(site)], capsys)  # fmt: skip
    info = finished(job_id, timeout=300)
    nodes = info["NodeList"]
    records = [json.loads(line) for line in record.read_text().splitlines()]
    (server,) = [r for r in records if r["tool"] == "trl"]
    (launch,) = [r for r in records if r["tool"] == "accelerate"]
    assert {server["node"], launch["node"]} == set(slurm_cluster.nodes), nodes
    a = launch["argv"]
    assert launch["procid"] == "0" and a[a.index("--machine_rank") + 1] == "0"
    assert a[a.index("--num_machines") + 1] == "1"
    assert a[a.index("--main_process_ip") + 1] == launch["node"]
    assert a[a.index("--vllm_server_host") + 1] == server["node"]
    assert a[a.index("--vllm_server_port") + 1] == str(port)


def test_train_job_requeued_resumes_from_its_checkpoint(training: Training, capsys) -> None:
    training.wait_requeued()
    info = finished(training.job_id)
    log = log_of(training.job_id)
    # Two runs in one appended log: the first was requeued, the second finished.
    assert "(train) run 1 on" in log and "(train) run 2 on" in log, log[-3000:]
    assert info["Restarts"] == "1"
    state = json.loads((training.output_dir / "trainer_state.json").read_text())
    assert state["global_step"] == MAX_STEPS
    assert (training.output_dir / "model.safetensors").exists()
    # Resumed, not restarted: the checkpoint saved before the requeue was never written again.
    after = (training.first_checkpoint / "trainer_state.json").stat().st_mtime_ns
    assert after == training.first_checkpoint_mtime
    capsys.readouterr()
    assert main(["logs", training.job_id, "--tail", "3"]) == 0
    assert "training finished" in capsys.readouterr().out


def test_benchmark_launcher_submits_an_evaluation_of_the_save(
    training: Training, monkeypatch, capsys
) -> None:
    from r1_train.callbacks import BenchmarkOnSaveCallback

    training.wait_requeued()
    finished(training.job_id)
    from r1_train.callbacks import get_benchmark_launcher

    (entry,) = importlib.metadata.entry_points(group="r1_train.benchmark_launchers", name="slurm")
    launch = entry.load()
    # Where r1-train discovers the entry point group, its own lookup must find this one; an
    # r1-train without that discovery raises ValueError, and the callback is given it below.
    with contextlib.suppress(ValueError):
        assert get_benchmark_launcher("slurm") is launch
    monkeypatch.setenv("R1_SLURM_EVAL_BACKEND", "endpoint")
    monkeypatch.setenv("R1_SLURM_EVAL_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("R1_SLURM_EVAL_ARGS", "--n 1")
    callback = BenchmarkOnSaveCallback(launcher=launch)
    args = SimpleNamespace(output_dir=str(training.output_dir), benchmarks=["aime24", "math_500"],
                           system_prompt=None)  # fmt: skip
    state = SimpleNamespace(is_world_process_zero=True, global_step=MAX_STEPS)
    callback.on_save(args, state, SimpleNamespace())
    (job_id,) = callback.launched
    assert job_id and job_id.isdigit()
    script = subprocess.run(["scontrol", "write", "batch_script", job_id, "-"],
                            capture_output=True, text=True, check=True).stdout  # fmt: skip
    checkpoint = training.output_dir / f"checkpoint-{MAX_STEPS}"
    command = next(line for line in script.splitlines() if line.startswith("r1-eval run"))
    assert shlex.split(command) == [
        "r1-eval", "run", str(checkpoint), "--tasks", "aime24,math_500", "--backend", "endpoint",
        "--base-url", "http://127.0.0.1:9/v1",
        "--output-dir", str(training.output_dir / "evals" / f"checkpoint-{MAX_STEPS}"), "--n", "1",
    ]  # fmt: skip
    assert job_state(job_id)["JobName"] == f"r1-eval-out-step-{MAX_STEPS}"
    assert main(["cancel", job_id]) == 0  # its endpoint is a closed port; the script was the point
    assert wait_for(job_id, timeout=120)["JobState"] in ("CANCELLED", "FAILED", "COMPLETED")
