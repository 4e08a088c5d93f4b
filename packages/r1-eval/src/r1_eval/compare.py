"""`r1-eval compare`: each task's pass@1 across runs, as a table and a PNG.

A training run is judged by its benchmark curve: the checkpoints of one run, each
evaluated into its own directory, side by side. Runs are read from their summary.json
only (no lighteval import), in the order given, labelled by directory name; the plot
draws one line per task with the standard error as error bars.

Data flow: DIR/summary.json of each run -> rows (run, task, pass@1, stderr) -> table on
stdout + PNG (matplotlib, the `plot` extra).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from r1_eval.errors import MissingExtraError


def load_runs(dirs: Sequence[str]) -> list[tuple[str, dict[str, Any]]]:
    """(label, summary) per directory, in order; a missing summary.json is named."""
    runs = []
    for d in dirs:
        path = Path(d) / "summary.json"
        if not path.exists():
            raise FileNotFoundError(f"{path}: not an r1-eval output directory (no summary.json)")
        runs.append((Path(d).resolve().name, json.loads(path.read_text())))
    return runs


def comparison_table(runs: Sequence[tuple[str, dict[str, Any]]]) -> str:
    tasks = list(dict.fromkeys(t for _, s in runs for t in s["tasks"]))
    header = ["run", *tasks]
    rows = [header]
    for label, summary in runs:
        row = [label]
        for task in tasks:
            entry = summary["tasks"].get(task)
            if not entry or entry.get("pass@1") is None:
                row.append("-")
            else:
                row.append(f"{entry['pass@1']:.4f} ± {entry['pass@1_stderr']:.4f}")
        rows.append(row)
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def plot(runs: Sequence[tuple[str, dict[str, Any]]], path: str | Path) -> Path:
    """A PNG with one line per task: pass@1 (± stderr) against the runs."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as error:
        raise MissingExtraError(
            'r1-eval compare draws with matplotlib: pip install "r1-eval[plot]"'
        ) from error
    labels = [label for label, _ in runs]
    tasks = list(dict.fromkeys(t for _, s in runs for t in s["tasks"]))
    fig, ax = plt.subplots(figsize=(max(6, len(labels) * 0.9), 4))
    for task in tasks:
        xs, ys, es = [], [], []
        for i, (_, summary) in enumerate(runs):
            entry = summary["tasks"].get(task)
            if entry and entry.get("pass@1") is not None:
                xs.append(i)
                ys.append(entry["pass@1"])
                es.append(entry.get("pass@1_stderr") or 0.0)
        ax.errorbar(xs, ys, yerr=es, marker="o", capsize=3, label=task)
    ax.set_xticks(range(len(labels)), labels, rotation=30, ha="right")
    ax.set_ylabel("pass@1")
    ax.set_ylim(0, 1)
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return out
