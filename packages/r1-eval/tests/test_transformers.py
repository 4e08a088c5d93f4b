"""The transformers backend end to end on the CPU: r1-train's tiny Qwen2 on tiny local
copies of all six tasks, in one `r1-eval run` (one lighteval import)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from r1_eval_testdata import AIME_ROWS, GPQA_ROWS, LCB_ROWS, MATH_ROWS

from r1_eval import TASKS

ROWS = {
    "math_500": MATH_ROWS,
    "aime24": AIME_ROWS,
    "aime25": AIME_ROWS,
    "gpqa:diamond": GPQA_ROWS,
    "lcb:codegeneration": LCB_ROWS,
    "lcb:codegeneration_v4": LCB_ROWS,
}
N = 2


@pytest.fixture(scope="module")
def tiny_run(
    tiny_model_dir: Path, task_files: dict[str, Path], tmp_path_factory: pytest.TempPathFactory
) -> dict:
    out = tmp_path_factory.mktemp("transformers") / "out"
    argv = [
        sys.executable, "-m", "r1_eval.cli", "run", str(tiny_model_dir), "--tasks", "all",
        "--n", str(N), "--max-new-tokens", "12", "--output-dir", str(out), "--quiet",
    ]  # fmt: skip
    for task, path in task_files.items():
        # aime24 is given as a directory (hub layout), the others as single files.
        argv += ["--dataset", f"{task}={path.parent if task == 'aime24' else path}"]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=1200)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    return {"out": out, "proc": proc, "summary": json.loads((out / "summary.json").read_text())}


@pytest.mark.slow
@pytest.mark.timeout(1500)  # one lighteval import and run, on a shared CPU
def test_every_task_runs_on_the_cpu_and_is_summarised(tiny_run: dict, tiny_model_dir: Path) -> None:
    summary = tiny_run["summary"]
    assert summary["model"] == str(tiny_model_dir) and summary["backend"] == "transformers"
    assert list(summary["tasks"]) == list(TASKS)  # "all", in the table's order
    for name, entry in summary["tasks"].items():
        assert entry["n"] == N, name
        assert entry["problems"] == len(ROWS[name]), name
        assert entry["samples"] == N * len(ROWS[name]), name
        assert 0.0 <= entry["pass@1"] <= 1.0 and entry["pass@1_stderr"] >= 0.0
        assert set(entry) >= {"pass@1", "pass@1_stderr", "pass@2", "pass@2_stderr"}
        assert entry["failed_requests"] == 0 and entry["ungraded_problems"] == 0
        assert Path(entry["details_file"]).exists() and Path(entry["results_file"]).exists()


@pytest.mark.slow
@pytest.mark.timeout(1500)  # one lighteval import and run, on a shared CPU
def test_summary_agrees_with_the_per_sample_details(tiny_run: dict) -> None:
    """lighteval's details parquet holds each problem's pass@1: their mean is the summary's."""
    import pyarrow.parquet as pq

    for name, entry in tiny_run["summary"]["tasks"].items():
        rows = pq.read_table(entry["details_file"]).to_pylist()
        assert len(rows) == entry["problems"]
        values = [r["metric"]["pass@1"] for r in rows]
        assert sum(values) / len(values) == pytest.approx(entry["pass@1"]), name
        assert all(len(r["model_response"]["text"]) == N for r in rows), name


@pytest.mark.slow
@pytest.mark.timeout(1500)  # one lighteval import and run, on a shared CPU
def test_compare_draws_the_runs(tiny_run: dict, tmp_path: Path) -> None:
    from r1_eval.cli import main

    png = tmp_path / "curve.png"
    assert main(["compare", str(tiny_run["out"]), str(tiny_run["out"]), "--plot", str(png)]) == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.slow
@pytest.mark.timeout(1500)  # one lighteval import and run, on a shared CPU
def test_every_prompt_reaches_the_model_whole(tiny_run: dict, tiny_model_dir: Path) -> None:
    # lighteval 0.13 cuts a prompt to --max-new-tokens tokens (12 here) from the left when
    # that limit is in its generation settings; r1-eval takes it out.
    import pyarrow.parquet as pq
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    entry = tiny_run["summary"]["tasks"]["math_500"]
    for row in pq.read_table(entry["details_file"]).to_pylist():
        seen = tokenizer.decode(row["model_response"]["input_tokens"])
        assert row["doc"]["query"] in seen
        assert len(row["model_response"]["input_tokens"]) > 12


@pytest.mark.slow
@pytest.mark.timeout(1500)
def test_prompts_writes_the_messages_that_run_sends(
    tiny_run: dict, task_files: dict[str, Path], tmp_path: Path
) -> None:
    import pyarrow.parquet as pq

    out = tmp_path / "prompts.jsonl"
    argv = [sys.executable, "-m", "r1_eval.cli", "prompts", "math_500",
            "--dataset", str(task_files["math_500"]), "--output", str(out)]  # fmt: skip
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=1200)
    assert proc.returncode == 0, proc.stderr[-2000:]
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["problem"] for r in rows] == [r["problem"] for r in MATH_ROWS]
    details = tiny_run["summary"]["tasks"]["math_500"]["details_file"]
    sent = sorted(r["doc"]["query"] for r in pq.read_table(details).to_pylist())
    assert all(len(r["prompt"]) == 1 and r["prompt"][0]["role"] == "user" for r in rows)
    assert sorted(r["prompt"][0]["content"] for r in rows) == sent
