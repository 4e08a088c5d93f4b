"""`r1-eval upload-details` against a fake Hub at its HTTP boundary (r1-test-support)."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from r1_eval.cli import main
from r1_test_support import fake_hub  # noqa: F401  (the fixture)
from r1_test_support.fake_hub import FakeHub

DATE = "2026-12-01T10-00-00.000000"

# huggingface_hub's LFS upload hands httpx raw bytes as `data=`, which httpx deprecates.
pytestmark = pytest.mark.filterwarnings(
    "ignore:Use 'content=<...>' to upload raw bytes:DeprecationWarning"
)


def _run_dir(root: Path) -> Path:
    """What `r1-eval run` leaves: lighteval's details parquet per task, and summary.json."""
    details = root / "details" / "ckpt" / DATE
    details.mkdir(parents=True)
    for task, n_rows in (("math_500", 3), ("gpqa:diamond", 2)):
        table = pa.table(
            {
                "doc": [json.dumps({"query": f"q{i}"}) for i in range(n_rows)],
                "metric": [{"pass@1": float(i % 2)} for i in range(n_rows)],
            }
        )
        pq.write_table(table, details / f"details_{task}|0_{DATE}.parquet")
    (root / "summary.json").write_text(json.dumps({"model": "ckpt", "tasks": {}}))
    return root


def test_upload_details_pushes_one_config_per_task(
    fake_hub: FakeHub,  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture,
) -> None:
    run = _run_dir(tmp_path / "run")
    assert main(["upload-details", str(run), "--repo", "org/r1-details", "--private"]) == 0
    assert capsys.readouterr().out.strip().endswith("/datasets/org/r1-details")

    repo = fake_hub.repo("org/r1-details", repo_type="dataset")
    assert repo["private"] is True
    files = fake_hub.files("org/r1-details", repo_type="dataset")
    assert set(files) == {
        "README.md",
        "summary.json",
        f"math_500/details_math_500_0_{DATE}.parquet",
        f"gpqa_diamond/details_gpqa_diamond_0_{DATE}.parquet",
    }
    readme = files["README.md"].decode()
    assert "config_name: math_500" in readme and "config_name: gpqa_diamond" in readme

    # Read back with the real client, as a user browsing the details would.
    from datasets import load_dataset

    rows = load_dataset("org/r1-details", "math_500", split="latest")
    assert rows.num_rows == 3 and rows[1]["metric"] == {"pass@1": 1.0}


def test_upload_without_details_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    assert main(["upload-details", str(tmp_path), "--repo", "org/x"]) == 2
    assert "no details parquet" in capsys.readouterr().err
