"""`r1-eval upload-details`: a run's per-sample details to a Hub data set (open-r1 upload_details).

open-r1's `scripts/upload_details.py` pushes lighteval's details parquet files to the Hub
so that every completion and its score can be browsed. Here the parquet files that
lighteval wrote under DIR/details/ go to a data set repo, one folder per task (a data set
config each, declared in the README), with summary.json beside them; one commit.

Data flow: DIR/details/<model>/<date>/details_<task>|0_<date>.parquet + DIR/summary.json ->
one commit to the data set repo -> its URL.
"""

from __future__ import annotations

import re
from pathlib import Path

from r1_eval.errors import EvalError


def _config_name(parquet: Path) -> str:
    # details_<task>|<fewshot>_<date>.parquet -> <task>, in the Hub's config-name alphabet.
    stem = parquet.stem.removeprefix("details_")
    task = stem.split("|")[0]
    return re.sub(r"[^A-Za-z0-9_-]+", "_", task)


def upload_details(run_dir: str | Path, repo_id: str, *, private: bool = False) -> str:
    """Upload a run's details and summary to data set `repo_id`; returns the repo URL."""
    from huggingface_hub import CommitOperationAdd, HfApi

    root = Path(run_dir)
    files = sorted(root.glob("details/**/*.parquet"))
    if not files:
        raise EvalError(f"{root}: no details parquet under details/ (is it an r1-eval run?)")
    api = HfApi()
    api.create_repo(repo_id, repo_type="dataset", private=private, exist_ok=True)
    configs: dict[str, list[str]] = {}
    operations = []
    for file in files:
        name = _config_name(file)
        target = f"{name}/{file.name.replace('|', '_')}"
        configs.setdefault(name, []).append(target)
        operations.append(CommitOperationAdd(path_in_repo=target, path_or_fileobj=str(file)))
    card = ["---", "configs:"]
    for name, paths in configs.items():
        card += [f"- config_name: {name}", "  data_files:", "  - split: latest", "    path:"]
        card += [f"    - {p}" for p in paths]
    card += ["---", "", f"Per-sample details of an r1-eval run ({len(files)} file(s)).", ""]
    operations.append(
        CommitOperationAdd(path_in_repo="README.md", path_or_fileobj="\n".join(card).encode())
    )
    summary = root / "summary.json"
    if summary.exists():
        operations.append(
            CommitOperationAdd(path_in_repo="summary.json", path_or_fileobj=str(summary))
        )
    api.create_commit(repo_id, operations, commit_message="r1-eval details", repo_type="dataset")
    return f"{api.endpoint}/datasets/{repo_id}"
