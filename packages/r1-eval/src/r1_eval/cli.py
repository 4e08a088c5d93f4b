"""`r1-eval`: run the R1 benchmarks, list them, compare runs, upload per-sample details.

    r1-eval run MODEL --tasks math_500,aime24 [--backend transformers|vllm|endpoint]
        [--base-url URL] [--n N] [--temperature T] [--top-p P] [--max-new-tokens M]
        [--system-prompt S] [--dataset TASK=PATH ...] [--limit N] [--seed S]
        [--output-dir DIR] [--push-details-to-hub REPO]
    r1-eval list
    r1-eval prompts TASK --dataset PATH --output PATH [--system-prompt S]
    r1-eval compare DIR [DIR ...] [--plot PNG]
    r1-eval upload-details DIR --repo ID

The flags of `run` are generated from `EvalConfig` (one copy of each help text).
`--help` and `list` never import lighteval (20-50 s): everything heavy is imported inside
`main` of the command that needs it. Exit codes: 0 done, 1 the evaluation finished
incomplete, 2 usage or configuration error, 3 a server the run needs was unavailable.

`prompts` writes each row of a local file with the chat messages the task would send the
model for it (`prompt`), so a training set can use the evaluation's own prompt.

Data flow: argv -> `EvalConfig` -> `runner.run_evaluation` -> DIR/summary.json, lighteval's
results and details -> a table on stdout.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import sys
import types
import typing
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from r1_eval.config import EvalConfig
from r1_eval.errors import EvalError, EvalJobError, ServiceUnavailableError

# Fields of EvalConfig with a spelling of their own on the command line.
_FLAG_NAMES = {"datasets": "--dataset"}


def _field_type(field: dataclasses.Field[Any]) -> Any:
    hints = typing.get_type_hints(EvalConfig)
    hint = hints[field.name]
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    if typing.get_origin(hint) in (typing.Union, types.UnionType) and len(args) == 1:
        hint = args[0]
    return hint


def _parse_dataset(text: str) -> tuple[str, str]:
    task, sep, value = text.partition("=")
    if not sep or not task or not value:
        raise argparse.ArgumentTypeError(f"{text!r}: expected TASK=PATH_OR_HUB_ID")
    return task, value


def make_run_parser(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add `run`'s arguments, one per EvalConfig field, to `parser`."""
    for field in dataclasses.fields(EvalConfig):
        help_text = field.metadata.get("help", "")
        hint = _field_type(field)
        if field.name == "model":
            parser.add_argument("model", help=help_text)
            continue
        flag = _FLAG_NAMES.get(field.name, "--" + field.name.replace("_", "-"))
        if field.name == "tasks":
            parser.add_argument(flag, required=True, help=help_text)
        elif field.name == "datasets":
            parser.add_argument(
                flag,
                dest="datasets",
                action="append",
                type=_parse_dataset,
                default=[],
                metavar="TASK=PATH",
                help=help_text,
            )
        elif hint is bool:
            parser.add_argument(flag, action="store_true", help=help_text)
        else:
            kind = hint if hint in (int, float) else str
            default = field.default if field.default is not dataclasses.MISSING else None
            parser.add_argument(
                flag,
                type=kind,
                default=default,
                choices=field.metadata.get("choices"),
                help=f"{help_text} (default: {default})",
            )
    parser.add_argument(
        "--quiet", action="store_true", help="Only warnings and the final table on the terminal."
    )
    return parser


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="r1-eval",
        description="The DeepSeek-R1 benchmarks (AIME, MATH-500, GPQA-Diamond, LiveCodeBench) "
        "on lighteval: offline-safe, pass@k over n samples, graded without hangs.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    make_run_parser(commands.add_parser("run", help="Evaluate a model; writes DIR/summary.json."))
    commands.add_parser("list", help="The tasks, their data sets, metrics and defaults.")
    prompts = commands.add_parser(
        "prompts",
        help="Each row of a local file with the chat messages TASK sends the model for it.",
    )
    prompts.add_argument("task", help="A task of `r1-eval list`, e.g. math_500.")
    prompts.add_argument(
        "--dataset", required=True, help="Local JSON lines / parquet in the task's columns."
    )
    prompts.add_argument("--output", required=True, help="JSON lines: the rows plus `prompt`.")
    prompts.add_argument(
        "--system-prompt", default=None, help="As `r1-eval run --system-prompt`: first message."
    )
    compare = commands.add_parser("compare", help="pass@1 of several runs: table and PNG.")
    compare.add_argument("dirs", nargs="+", help="Output directories of `r1-eval run`.")
    compare.add_argument("--plot", default=None, help="PNG path (default: DIR0/compare.png).")
    upload = commands.add_parser("upload-details", help="Push per-sample details to the Hub.")
    upload.add_argument("dir", help="Output directory of `r1-eval run`.")
    upload.add_argument("--repo", required=True, help="Hub data set id, e.g. org/details.")
    upload.add_argument("--private", action="store_true", help="Create the repo private.")
    return parser


def config_from_args(args: argparse.Namespace) -> EvalConfig:
    values = {f.name: getattr(args, f.name) for f in dataclasses.fields(EvalConfig)}
    values["datasets"] = dict(args.datasets or [])
    return EvalConfig(**values)


def format_table(summary: dict[str, Any]) -> str:
    """The summary as a plain-text table: one row per task."""
    rows = [("task", "pass@1", "stderr", "n", "problems", "failed", "ungraded")]
    for name, entry in summary["tasks"].items():
        p1, se = entry.get("pass@1"), entry.get("pass@1_stderr")
        rows.append(
            (
                name,
                "-" if p1 is None else f"{p1:.4f}",
                "-" if se is None else f"{se:.4f}",
                str(entry["n"]),
                str(entry["problems"]),
                str(entry["failed_requests"]),
                str(entry["ungraded_problems"]),
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _run(args: argparse.Namespace) -> int:
    try:
        config = config_from_args(args)
    except (EvalError, ValueError) as error:
        print(f"r1-eval run: {error}", file=sys.stderr)
        return 2
    logging.basicConfig(
        level=logging.WARNING if args.quiet else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    from r1_eval.runner import run_evaluation

    code = 0
    try:
        summary = run_evaluation(config)
    except EvalJobError as error:
        print(f"r1-eval run: {error}", file=sys.stderr)
        import json

        summary = json.loads((Path(config.output_dir) / "summary.json").read_text())
        code = 1
    except ServiceUnavailableError as error:
        print(f"r1-eval run: {error}", file=sys.stderr)
        return 3
    except EvalError as error:
        print(f"r1-eval run: {error}", file=sys.stderr)
        return 2
    print(format_table(summary))
    print(f"summary: {Path(config.output_dir) / 'summary.json'}")
    if config.push_details_to_hub:
        from r1_eval.upload import upload_details

        url = upload_details(config.output_dir, config.push_details_to_hub)
        print(f"details: {url}")
    return code


def _list() -> int:
    from r1_eval.tasks import (
        DEFAULT_MAX_NEW_TOKENS,
        DEFAULT_TEMPERATURE,
        DEFAULT_TOP_P,
        TASKS,
    )

    print(
        f"defaults: temperature {DEFAULT_TEMPERATURE}, top_p {DEFAULT_TOP_P}, "
        f"max_new_tokens {DEFAULT_MAX_NEW_TOKENS}, n 1 (pass@1 over n samples)"
    )
    for spec in TASKS.values():
        aliases = f" (alias: {', '.join(spec.aliases)})" if spec.aliases else ""
        print(f"\n{spec.name}{aliases}: {spec.description}")
        print(f"  data:    {spec.hf_repo} [{spec.hf_subset}] split {spec.split}")
        print(f"  columns: {', '.join(spec.columns + spec.optional_columns)}")
        print(f"  metric:  {spec.metric}")
    return 0


def _prompts(args: argparse.Namespace) -> int:
    import json

    from r1_eval.local_data import read_task_rows
    from r1_eval.tasks import resolve_task

    try:
        spec = resolve_task(args.task)
        rows = read_task_rows(spec, args.dataset)
    except (EvalError, FileNotFoundError) as error:
        print(f"r1-eval prompts: {error}", file=sys.stderr)
        return 2
    from r1_eval.prompts import task_messages

    messages = task_messages(spec.name, rows, args.system_prompt)
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8") as sink:
        for row, prompt in zip(rows, messages, strict=True):
            sink.write(json.dumps({**row, "prompt": prompt}, ensure_ascii=False, default=str))
            sink.write("\n")
    print(f"{len(rows)} {spec.name} prompts -> {out}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = make_parser()
    args = parser.parse_args(argv)
    if args.command == "list":
        return _list()
    if args.command == "run":
        return _run(args)
    if args.command == "prompts":
        return _prompts(args)
    if args.command == "compare":
        from r1_eval.compare import comparison_table, load_runs, plot

        try:
            runs = load_runs(args.dirs)
            print(comparison_table(runs))
            out = plot(runs, args.plot or Path(args.dirs[0]) / "compare.png")
        except (FileNotFoundError, EvalError) as error:
            print(f"r1-eval compare: {error}", file=sys.stderr)
            return 2
        print(f"plot: {out}")
        return 0
    if args.command == "upload-details":
        from r1_eval.upload import upload_details

        try:
            url = upload_details(args.dir, args.repo, private=args.private)
        except EvalError as error:
            print(f"r1-eval upload-details: {error}", file=sys.stderr)
            return 2
        print(url)
        return 0
    parser.error(f"unknown command {args.command}")  # pragma: no cover
    return 2


if __name__ == "__main__":
    sys.exit(main())
