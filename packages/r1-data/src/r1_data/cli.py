"""`r1-data`: the data stages of the R1 recipe from the command line.

    r1-data generate       reasoning traces from OpenAI-compatible servers (resumable)
    r1-data decontaminate  flag or drop rows that share word 8-grams with benchmarks
    r1-data pass-rate      keep problems a model solves sometimes, not always or never
    r1-data mix            build a dataset mixture from a YAML file

The flags of `generate` and `decontaminate` are a contract: SLURM scripts and clusters call
them. Every command reads its inputs before doing any work, so a missing column, an
unreadable file or an unreachable endpoint ends the run in seconds with one line on stderr
(exit status 2); a run with rows that failed after all retries exits with status 3 and
asks for a rerun, which retries exactly those rows.

Data flow: flags -> a config dataclass (validated) -> the stage's function in `r1_data`
-> files on disk and a summary on stdout.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from r1_data.errors import DataError

EXIT_BAD_INPUT = 2
EXIT_INCOMPLETE = 3


class _Formatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Defaults in the help, and descriptions kept as written."""


def _add_endpoint_flags(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("endpoint")
    g.add_argument(
        "--base-url",
        dest="base_urls",
        action="append",
        required=True,
        metavar="URL",
        help="OpenAI API root of a server, e.g. http://127.0.0.1:8000/v1; repeat for "
        "several servers (requests rotate over them, and a retry goes to the next one)",
    )
    g.add_argument("--model", required=True, help="the model name the server serves")
    g.add_argument(
        "--max-concurrency",
        type=int,
        default=64,
        help="requests in flight at once, all servers together",
    )
    g.add_argument("--timeout", type=float, default=900.0, help="seconds one request may take")
    g.add_argument(
        "--max-retries",
        type=int,
        default=5,
        help="retries of a failed request (500s, timeouts, dropped connections)",
    )
    g.add_argument(
        "--backoff",
        type=float,
        default=1.0,
        help="base of the exponential backoff between retries, seconds",
    )
    g.add_argument(
        "--api-key", default=None, help="Bearer token (default: $OPENAI_API_KEY, else EMPTY)"
    )
    s = p.add_argument_group("sampling")
    s.add_argument(
        "--temperature",
        type=float,
        default=None,
        help="sampling temperature (default: the server's)",
    )
    s.add_argument(
        "--top-p", type=float, default=None, help="nucleus sampling (default: the server's)"
    )
    s.add_argument(
        "--max-tokens",
        type=int,
        default=None,
        help="completion token limit (default: the server's)",
    )
    s.add_argument(
        "--prompt-template",
        default="{prompt}",
        help="str.format template with {prompt}; literal braces as {{ }} (e.g. \\boxed{{}})",
    )
    s.add_argument("--system-prompt", default=None, help="a system message sent before each prompt")


def _add_input_flags(p: argparse.ArgumentParser, column_flag: str, column_help: str) -> None:
    g = p.add_argument_group("input")
    g.add_argument(
        "--dataset",
        required=True,
        metavar="PATH_OR_ID",
        help="hub id, or a local .jsonl/.json/.parquet/.csv file or saved data set folder",
    )
    g.add_argument("--split", default="train", help="split, with slicing such as train[:1000]")
    g.add_argument("--config", default=None, help="hub config name of --dataset")
    g.add_argument(column_flag, required=True, metavar="COL", help=column_help)


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="r1-data",
        description=__doc__.split("\n\nData flow")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    gen = commands.add_parser(
        "generate",
        help="reasoning traces from OpenAI-compatible servers (resumable)",
        formatter_class=_Formatter,
        description=(
            "Send every prompt to /v1/chat/completions N times and append\n"
            "{**row, generations, finish_reasons, usage} rows to OUT.jsonl.\n\n"
            "Kill it at any moment and run the same command again: rows already in OUT are\n"
            "skipped (by --uuid-column, else a hash of the prompt), a torn last line is cut,\n"
            "and rows that failed after all retries are generated again. Exit status 3 means\n"
            "some rows failed (listed in OUT.failed.jsonl): rerun to retry them."
        ),
    )
    _add_input_flags(gen, "--prompt-column", "column with the prompt text (or chat messages)")
    gen.add_argument(
        "--uuid-column",
        default=None,
        metavar="COL",
        help="column identifying a row for resume (default: hash of the prompt)",
    )
    gen.add_argument(
        "--start", type=int, default=None, help="first row of the split to do (chunking)"
    )
    gen.add_argument("--end", type=int, default=None, help="row after the last to do (chunking)")
    gen.add_argument(
        "--output",
        required=True,
        type=Path,
        metavar="OUT.jsonl",
        help="the JSONL written and resumed",
    )
    gen.add_argument("--num-generations", type=int, default=1, help="completions per prompt")
    _add_endpoint_flags(gen)
    gen.add_argument(
        "--engine",
        choices=("native", "distilabel"),
        default="native",
        help="native: r1-data's resumable asyncio client; distilabel: open-r1's pipeline "
        "(pip install 'r1-data[distilabel]'; not resumable row by row)",
    )
    gen.add_argument(
        "--push-to-hub",
        default=None,
        metavar="REPO",
        help="push the finished output to this hub data set",
    )
    gen.add_argument("--no-progress", action="store_true", help="no progress bar")
    return parser


def _run_generate(args: argparse.Namespace) -> int:
    from r1_data.generate import GenerateConfig, generate

    cfg = GenerateConfig(
        dataset=args.dataset,
        split=args.split,
        config=args.config,
        prompt_column=args.prompt_column,
        output=args.output,
        base_urls=args.base_urls,
        model=args.model,
        num_generations=args.num_generations,
        max_concurrency=args.max_concurrency,
        temperature=args.temperature,
        top_p=args.top_p,
        max_tokens=args.max_tokens,
        prompt_template=args.prompt_template,
        system_prompt=args.system_prompt,
        uuid_column=args.uuid_column,
        start=args.start,
        end=args.end,
        timeout=args.timeout,
        max_retries=args.max_retries,
        backoff=args.backoff,
        api_key=args.api_key,
        progress=not args.no_progress,
    )
    if args.engine == "distilabel":
        from r1_data.distilabel_pipeline import run_distilabel

        run_distilabel(cfg)
        print(f"distilabel pipeline finished -> {cfg.output}")
        return 0
    report = generate(cfg)
    print(report.summary())
    if not report.complete:
        return EXIT_INCOMPLETE
    if args.push_to_hub:
        from r1_data.sources import load_source

        load_source(str(cfg.output)).push_to_hub(args.push_to_hub)
        print(f"pushed {cfg.output} to {args.push_to_hub}")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = make_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    runners = {"generate": _run_generate}
    try:
        return runners[args.command](args)
    except DataError as exc:
        print(f"r1-data {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print(
            f"r1-data {args.command}: interrupted; run the same command again to resume",
            file=sys.stderr,
        )
        return 130


if __name__ == "__main__":
    sys.exit(main())
