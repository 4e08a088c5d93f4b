"""Pointing a benchmark at local files: `--dataset TASK=PATH` (offline by construction).

lighteval loads a task's data with `datasets.load_dataset(hf_repo, hf_subset)`. Offline,
or for a private copy, a task must read local files instead, and lighteval only accepts a
*directory* there (a single file path fails), with named subsets (GPQA's `gpqa_diamond`,
LiveCodeBench's `v4_v5`) declared in a README `configs:` block. So a local copy, file or
directory, JSON lines or parquet, is checked for the columns the task's prompt reads (a
missing one is named before any model loads) and rewritten as `<split>.jsonl` in a
directory of this run, read as the `default` subset. Anything that is not an existing path
is a hub data set id, passed through (it is the only case that reaches the network).

Data flow: `--dataset TASK=VALUE` -> `prepare_dataset` -> (repo or directory, subset) ->
`runner.build_task_config` -> lighteval's `load_dataset`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from r1_eval.errors import DatasetColumnError
from r1_eval.tasks import TaskSpec

_DATA_SUFFIXES = (".jsonl", ".json", ".parquet")


def _data_files(path: Path, split: str) -> list[Path]:
    if path.is_file():
        return [path]
    found = sorted(p for p in [*path.glob("*"), *path.glob("data/*")] if p.suffix in _DATA_SUFFIXES)
    if not found:
        raise FileNotFoundError(
            f"{path}: no .jsonl, .json or .parquet file in this directory (or its data/)"
        )
    # A directory laid out like the hub data set: keep the files of the task's split.
    of_split = [p for p in found if p.name.startswith(split)]
    return of_split or found


def _read_rows(files: list[Path]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for file in files:
        if file.suffix == ".parquet":
            import pyarrow.parquet as pq

            rows.extend(pq.read_table(file).to_pylist())
            continue
        text = file.read_text(encoding="utf-8")
        if file.suffix == ".json" and text.lstrip().startswith("["):
            rows.extend(json.loads(text))
        else:
            rows.extend(json.loads(line) for line in text.splitlines() if line.strip())
    return rows


def read_task_rows(spec: TaskSpec, value: str) -> list[dict[str, Any]]:
    """The rows of a local copy of `spec`'s data, checked for the columns its prompt reads.

    Raises:
        DatasetColumnError: a local file lacks one of `spec.columns`.
        FileNotFoundError: `value` is not a file, or a directory holds no data file.
    """
    path = Path(value).expanduser()
    if not path.exists():
        raise FileNotFoundError(f"{value}: no such file or directory")
    rows = _read_rows(_data_files(path, spec.split))
    if not rows:
        raise DatasetColumnError(f"{value}: no rows for task {spec.name}")
    present = set(rows[0])
    if spec.name == "math_500" and "solution" not in present and "answer" in present:
        # lighteval's MATH-500 prompt takes its gold from the `solution` column; a copy with
        # only the final `answer` (the hub data set has both) gets it boxed as the solution.
        for row in rows:
            row["solution"] = f"\\boxed{{{row['answer']}}}"
        present.add("solution")
    missing = [c for c in spec.columns if c not in present]
    if missing:
        raise DatasetColumnError(
            f"--dataset {spec.name}={value}: missing column(s) {', '.join(map(repr, missing))} "
            f"that the {spec.name} prompt reads; found {', '.join(sorted(present))}. "
            f"Expected the columns of {spec.hf_repo}: {', '.join(spec.columns)}"
        )
    for i, row in enumerate(rows):
        absent = [c for c in spec.columns if c not in row]
        if absent:
            raise DatasetColumnError(
                f"--dataset {spec.name}={value}: row {i} has no {', '.join(map(repr, absent))}"
            )
    return rows


def prepare_dataset(spec: TaskSpec, value: str, workdir: Path) -> tuple[str, str]:
    """(data set path or hub id, subset) for `spec`, from a `--dataset` value.

    Raises:
        DatasetColumnError: a local file lacks one of `spec.columns`.
        FileNotFoundError: a local directory holds no data file.
    """
    if not Path(value).expanduser().exists():
        return value, spec.hf_subset  # a hub id
    rows = read_task_rows(spec, value)
    target = workdir / spec.name.replace(":", "_")
    target.mkdir(parents=True, exist_ok=True)
    with (target / f"{spec.split}.jsonl").open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")
    return str(target), "default"
