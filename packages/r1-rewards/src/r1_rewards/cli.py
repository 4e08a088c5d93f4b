"""`r1-rewards score`: score a JSONL file of completions with any registered rewards.

The quickest way to see what a reward does to real model output, and to check a data
set before spending GPU hours on it: each row holds one completion (a string or chat
messages, column `completion` as in TRL's prompt-completion format) and the dataset
columns the rewards read (`solution` for the math rewards, `verification_info` for code,
`completion_ids` for token counts). Rows are scored in batches, as a trainer would call
the rewards; `len_reward` normalises lengths within each batch, as it does in training.

Exit codes (the workspace's convention): 0 scored (whatever the completions earned),
1 the job failed, 2 a usage, input or configuration error, 3 a required service (the math
worker processes, a sandbox) was unavailable.

Data flow: JSONL rows -> batches of (completions, columns) -> each reward function ->
rows with a `rewards` dict written to --out, and a summary table on stdout.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

from r1_rewards.errors import (
    MathWorkerError,
    MissingExtraError,
    RewardConfigError,
    RewardError,
    RewardInputError,
)


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="r1-rewards", description=(__doc__ or "").split("\n\n")[0]
    )
    commands = parser.add_subparsers(dest="command", required=True)
    score = commands.add_parser("score", help="score a JSONL file of completions")
    score.add_argument("file", type=Path, help="JSONL, one completion per row")
    score.add_argument(
        "--reward",
        default="accuracy,format,tag_count",
        help="comma-separated reward names (default: %(default)s); see --list",
    )
    score.add_argument(
        "--out",
        type=Path,
        help="where to write the rows with their rewards (default: FILE with .scored.jsonl)",
    )
    score.add_argument(
        "--set",
        dest="settings",
        action="append",
        default=[],
        metavar="FIELD=VALUE",
        help="a reward parameter, e.g. --set cosine_max_len=2000 (repeatable)",
    )
    score.add_argument("--completion-column", default="completion", help="default: %(default)s")
    score.add_argument("--batch-size", type=int, default=64, help="rows per reward call")
    score.add_argument("--list", action="store_true", help="list the reward names and exit")
    return parser


def _settings(pairs: list[str]) -> dict[str, Any]:
    from r1_rewards.config import RewardArgs, from_strings

    try:
        return from_strings(pairs, RewardArgs, exclude=("reward_funcs",))
    except RewardError as error:
        raise RewardConfigError(f"--set {error}") from None


def _read_rows(path: Path, completion_column: str) -> list[dict[str, Any]]:
    if not path.is_file():
        raise ValueError(f"{path}: no such file")
    rows = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as error:
                raise ValueError(f"{path}:{number}: not valid JSON ({error.msg})") from None
            if not isinstance(row, dict):
                raise ValueError(f"{path}:{number}: a row must be a JSON object")
            if completion_column not in row:
                raise ValueError(
                    f"{path}:{number}: no {completion_column!r} column "
                    f"(columns: {', '.join(row)}); see --completion-column"
                )
            rows.append(row)
    if not rows:
        raise ValueError(f"{path}: no rows")
    return rows


def _summary(names: list[str], scores: dict[str, list[float | None]]) -> str:
    header = f"{'reward':<34}{'mean':>9}{'min':>9}{'max':>9}{'scored':>8}{'None':>6}"
    lines = [header, "-" * len(header)]
    for name in names:
        # `+ 0.0` turns a -0.0 penalty into 0.0 for display.
        values = [v + 0.0 for v in scores[name] if v is not None]
        skipped = len(scores[name]) - len(values)
        if values:
            mean = math.fsum(values) / len(values)
            lines.append(
                f"{name:<34}{mean:>9.3f}{min(values):>9.3f}{max(values):>9.3f}"
                f"{len(values):>8}{skipped:>6}"
            )
        else:
            lines.append(f"{name:<34}{'-':>9}{'-':>9}{'-':>9}{0:>8}{skipped:>6}")
    return "\n".join(lines)


def score(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from r1_rewards.registry import REWARD_NAMES, get_reward_funcs

    if args.list:
        print("\n".join(REWARD_NAMES))
        return 0
    if args.batch_size < 1:
        raise ValueError(f"--batch-size {args.batch_size}: must be at least 1")
    names = [n.strip() for n in args.reward.split(",") if n.strip()]
    funcs = get_reward_funcs(reward_funcs=names, **_settings(args.settings))
    labels = [f.__name__ for f in funcs]
    rows = _read_rows(args.file, args.completion_column)
    out = args.out or args.file.with_suffix(".scored.jsonl")

    scores: dict[str, list[float | None]] = {label: [] for label in labels}
    columns = sorted({key for row in rows for key in row} - {args.completion_column})
    with tqdm(total=len(rows), unit="row", desc="scoring", file=sys.stderr) as progress:
        for start in range(0, len(rows), args.batch_size):
            batch = rows[start : start + args.batch_size]
            completions = [row[args.completion_column] for row in batch]
            kwargs = {c: [row.get(c) for row in batch] for c in columns}
            for label, func in zip(labels, funcs, strict=True):
                values = func(completions=completions, **kwargs)
                scores[label].extend(None if v is None else float(v) for v in values)
            progress.update(len(batch))

    with out.open("w", encoding="utf-8") as handle:
        for i, row in enumerate(rows):
            scored = {**row, "rewards": {label: scores[label][i] for label in labels}}
            handle.write(json.dumps(scored, ensure_ascii=False) + "\n")
    print(_summary(labels, scores))
    print(f"\n{len(rows)} rows scored -> {out}")
    return 0


def _exit_code(error: BaseException) -> int | None:
    """The exit code of an error by the convention, or None for an unexpected one."""
    if isinstance(error, RewardConfigError | RewardInputError | MissingExtraError):
        return 2
    if isinstance(error, MathWorkerError):
        return 3
    sandbox = sys.modules.get("r1_sandbox")
    if sandbox is not None:
        if isinstance(error, sandbox.ContainmentUnavailableError):
            return 3
        if isinstance(error, sandbox.SandboxError):
            return 2  # a backend that cannot be built as configured, an unknown language
    cp = sys.modules.get("r1_cp_scoring")
    if cp is not None:
        if isinstance(error, cp.GradingUnavailableError):
            return 3
        if isinstance(error, cp.ConfigError | cp.MissingExtraError):
            return 2
    if isinstance(error, RewardError):
        return 1
    if isinstance(error, ValueError | TypeError):
        return 2  # the file or a flag: what `score` checks before it grades anything
    return None


def main(argv: list[str] | None = None) -> int:
    args = make_parser().parse_args(argv)
    try:
        return score(args)
    except Exception as error:
        code = _exit_code(error)
        if code is None:
            raise
        print(f"r1-rewards: error: {error}", file=sys.stderr)
        return code


if __name__ == "__main__":
    sys.exit(main())
