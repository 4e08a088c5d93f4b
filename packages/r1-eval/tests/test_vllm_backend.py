"""The `vllm` backend without a GPU: r1-eval's own code against a stand-in `vllm` executable.

What is r1-eval's here is real: finding `vllm` on the PATH, choosing tensor and data
parallel sizes from the checkpoint (open-r1's rule), starting `vllm serve`, waiting for
/health, evaluating through the OpenAI API under the served name, and stopping the server.
The stand-in (`r1_eval_fake_vllm.py`) only replaces the model server itself.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from r1_eval_testdata import MATH_ROWS, write_jsonl

FAKE_VLLM = Path(__file__).with_name("r1_eval_fake_vllm.py")


def _checkpoint(root: Path, parameters: int, heads: int) -> Path:
    """A model directory whose safetensors header declares `parameters` (no weights)."""
    root.mkdir(parents=True)
    (root / "config.json").write_text(json.dumps({"num_attention_heads": heads}))
    header = json.dumps(
        {"w": {"dtype": "BF16", "shape": [parameters], "data_offsets": [0, 0]}}
    ).encode()
    (root / "model.safetensors").write_bytes(len(header).to_bytes(8, "little") + header)
    return root


@pytest.fixture
def fake_vllm_on_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    exe = bin_dir / "vllm"
    exe.write_text(f'#!/bin/sh\nexec {sys.executable} {FAKE_VLLM} "$@"\n')
    exe.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    record = tmp_path / "vllm.jsonl"
    monkeypatch.setenv("FAKE_VLLM_RECORD", str(record))
    monkeypatch.setenv(
        "FAKE_VLLM_ANSWERS", json.dumps({r["problem"]: r["answer"] for r in MATH_ROWS})
    )
    return record


def _flag(argv: list[str], name: str) -> str:
    return argv[argv.index(name) + 1]


def test_parallel_sizes_follow_open_r1_on_eight_gpus(
    tmp_path: Path, fake_vllm_on_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import torch

    from r1_eval.config import EvalConfig
    from r1_eval.vllm_server import VLLMServer

    monkeypatch.setattr(torch.cuda, "device_count", lambda: 8)
    big = _checkpoint(tmp_path / "big", 32_000_000_000, heads=28)
    small = _checkpoint(tmp_path / "small", 7_000_000_000, heads=28)
    # 32B: tensor parallel, cut from 8 to 4 GPUs so that the 28 heads divide evenly.
    argv = VLLMServer.for_config(
        EvalConfig(model=str(big), tasks=["math_500"], backend="vllm")
    ).argv
    assert (_flag(argv, "--tensor-parallel-size"), _flag(argv, "--data-parallel-size")) == (
        "4",
        "1",
    )
    argv = VLLMServer.for_config(
        EvalConfig(model=str(small), tasks=["math_500"], backend="vllm")
    ).argv
    assert (_flag(argv, "--tensor-parallel-size"), _flag(argv, "--data-parallel-size")) == (
        "1",
        "8",
    )
    assert argv[0] == str(tmp_path / "bin" / "vllm") and argv[1:3] == ["serve", str(small)]


@pytest.mark.slow
@pytest.mark.timeout(900)  # one lighteval import and run, on a shared CPU
def test_run_with_backend_vllm_serves_evaluates_and_stops(
    tmp_path: Path, fake_vllm_on_path: Path
) -> None:
    model = _checkpoint(tmp_path / "model", 1_500_000_000, heads=12)
    data = write_jsonl(tmp_path / "math.jsonl", MATH_ROWS)
    out = tmp_path / "out"
    argv = [sys.executable, "-m", "r1_eval.cli", "run", str(model), "--backend", "vllm",
            "--tasks", "math_500", "--dataset", f"math_500={data}", "--n", "2",
            "--max-new-tokens", "64", "--output-dir", str(out), "--quiet",
            "--grading-timeout", "120"]  # fmt: skip
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=800)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    summary = json.loads((out / "summary.json").read_text())
    task = summary["tasks"]["math_500"]
    assert task["pass@1"] == pytest.approx(1.0) and task["problems"] == len(MATH_ROWS)
    (started,) = [json.loads(line) for line in fake_vllm_on_path.read_text().splitlines()]
    assert started["argv"][:2] == ["serve", str(model)]
    assert _flag(started["argv"], "--served-model-name") == "r1-eval-model"
    # Stopped at the end: the server's process is gone, not left holding a GPU.
    assert not Path(f"/proc/{started['pid']}").exists() or (
        Path(f"/proc/{started['pid']}/stat").read_text().split()[2] == "Z"
    )
