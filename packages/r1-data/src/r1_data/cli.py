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
from typing import Any

from r1_data.errors import DataError, DataInputError

EXIT_BAD_INPUT = 2
EXIT_INCOMPLETE = 3


class _Formatter(argparse.RawDescriptionHelpFormatter):
    """Descriptions kept as written; a flag's default shown when it has a real one."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if (
            "default" not in text
            and action.default not in (None, False, [], argparse.SUPPRESS)
            and action.option_strings
        ):
            text += " (default: %(default)s)"
        return text


def _add_resume_flags(parser: argparse.ArgumentParser) -> None:
    """Row identity and chunking, shared by the resumable commands (generate, pass-rate)."""
    parser.add_argument(
        "--uuid-column",
        default=None,
        metavar="COL",
        help="column identifying a row for resume (default: hash of the prompt)",
    )
    parser.add_argument(
        "--start",
        metavar="N",
        type=int,
        default=None,
        help="first row of the split to do (chunking)",
    )
    parser.add_argument(
        "--end", metavar="N", type=int, default=None, help="row after the last to do (chunking)"
    )


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
        metavar="K",
        type=int,
        default=64,
        help="requests in flight at once, all servers together",
    )
    g.add_argument(
        "--timeout",
        metavar="SECONDS",
        type=float,
        default=900.0,
        help="seconds one request may take",
    )
    g.add_argument(
        "--max-retries",
        metavar="R",
        type=int,
        default=5,
        help="retries of a failed request (500s, timeouts, dropped connections)",
    )
    g.add_argument(
        "--backoff",
        metavar="SECONDS",
        type=float,
        default=1.0,
        help="base of the exponential backoff between retries, seconds",
    )
    g.add_argument(
        "--api-key",
        metavar="KEY",
        default=None,
        help="Bearer token (default: $OPENAI_API_KEY, else EMPTY)",
    )
    s = p.add_argument_group("sampling")
    s.add_argument(
        "--temperature",
        metavar="T",
        type=float,
        default=None,
        help="sampling temperature (default: the server's)",
    )
    s.add_argument(
        "--top-p",
        metavar="P",
        type=float,
        default=None,
        help="nucleus sampling (default: the server's)",
    )
    s.add_argument(
        "--max-tokens",
        metavar="M",
        type=int,
        default=None,
        help="completion token limit (default: the server's)",
    )
    s.add_argument(
        "--prompt-template",
        metavar="T",
        default="{prompt}",
        help="str.format template with {prompt}; literal braces as {{ }} (e.g. \\boxed{{}})",
    )
    s.add_argument(
        "--system-prompt",
        metavar="TEXT",
        default=None,
        help="a system message sent before each prompt",
    )


def _add_input_flags(p: argparse.ArgumentParser, column_flag: str, column_help: str) -> None:
    g = p.add_argument_group("input")
    g.add_argument(
        "--dataset",
        required=True,
        metavar="PATH_OR_ID",
        help="hub id, or a local .jsonl/.json/.parquet/.csv file or saved data set folder",
    )
    g.add_argument(
        "--split", metavar="S", default="train", help="split, with slicing such as train[:1000]"
    )
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
    _add_resume_flags(gen)
    gen.add_argument(
        "--output",
        required=True,
        type=Path,
        metavar="OUT.jsonl",
        help="the JSONL written and resumed",
    )
    gen.add_argument(
        "--num-generations", metavar="N", type=int, default=1, help="completions per prompt"
    )
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

    dec = commands.add_parser(
        "decontaminate",
        help="flag or drop rows that share word n-grams with benchmarks",
        formatter_class=_Formatter,
        description=(
            "open-r1's decontamination: lowercase, collapse whitespace, word n-grams; a row\n"
            "is contaminated for a benchmark when any of its n-grams is one of that\n"
            "benchmark's. Adds a boolean column contaminated_<name> per benchmark, or with\n"
            "--cleanup drops the flagged rows (and the flag columns). Every input column is\n"
            "kept. Without --benchmark, open-r1's five: " + ", ".join(_default_benchmarks()) + "\n"
            "(those the hub serves; each skipped one is logged)."
        ),
    )
    _add_input_flags(dec, "--problem-column", "column with the problem text")
    dec.add_argument(
        "--output",
        required=True,
        metavar="OUT",
        help="OUT.jsonl or OUT.parquet is written as that file, anything else as a saved "
        "data set folder",
    )
    dec.add_argument(
        "--benchmark",
        dest="benchmarks",
        action="append",
        default=None,
        metavar="NAME=PATH_OR_ID[:COLUMN]",
        help="a benchmark to check against (repeatable); COLUMN defaults to problem",
    )
    dec.add_argument("--ngram-size", metavar="N", type=int, default=8, help="words per n-gram")
    dec.add_argument(
        "--cleanup", action="store_true", help="drop contaminated rows and the flag columns"
    )
    dec.add_argument(
        "--num-proc",
        metavar="N",
        type=int,
        default=None,
        help="worker processes (default: up to 8 CPUs)",
    )
    dec.add_argument("--no-progress", action="store_true", help="no progress bar")

    pr = commands.add_parser(
        "pass-rate",
        help="keep problems a model solves sometimes, not always or never",
        formatter_class=_Formatter,
        description=(
            "Generate N completions per problem, score them with r1-rewards functions and\n"
            "journal every row to OUT.jsonl with pass_rate_rewards ({reward: [N scores]})\n"
            "and pass_rate (the mean of all gradable scores). Once every row is in, the rows\n"
            "with MIN < pass_rate < MAX go to --filtered-output. Resumable like generate;\n"
            "--start/--end split the work over jobs (one OUT per chunk)."
        ),
    )
    _add_input_flags(pr, "--prompt-column", "column with the problem text (or chat messages)")
    _add_resume_flags(pr)
    pr.add_argument(
        "--output",
        required=True,
        type=Path,
        metavar="OUT.jsonl",
        help="every scored row (the resumable journal)",
    )
    pr.add_argument(
        "--filtered-output",
        type=Path,
        default=None,
        metavar="PATH.jsonl",
        help="kept rows (default: OUT with .filtered.jsonl)",
    )
    pr.add_argument(
        "--num-generations", metavar="N", type=int, default=8, help="completions per problem"
    )
    pr.add_argument(
        "--reward",
        dest="rewards",
        action="append",
        default=None,
        metavar="NAME",
        help="r1-rewards function name, repeatable (default: accuracy, which reads the "
        "solution column)",
    )
    pr.add_argument(
        "--reward-arg",
        dest="reward_args",
        action="append",
        default=[],
        metavar="FIELD=VALUE",
        help="an r1_rewards.RewardArgs field, e.g. code_provider=local (repeatable)",
    )
    pr.add_argument(
        "--pass-rate-min",
        metavar="MIN",
        type=float,
        default=0.1,
        help="keep rows with mean reward above this",
    )
    pr.add_argument(
        "--pass-rate-max",
        metavar="MAX",
        type=float,
        default=0.9,
        help="keep rows with mean reward below this",
    )
    _add_endpoint_flags(pr)
    pr.add_argument("--no-progress", action="store_true", help="no progress bar")

    mix = commands.add_parser(
        "mix",
        help="build a dataset mixture from a YAML file",
        formatter_class=_Formatter,
        description=(
            "Build open-r1's dataset_mixture (a YAML file holding it, or a whole recipe with\n"
            "a dataset_mixture: key) and save it as a data set folder, with\n"
            "mixture_report.json (rows per source). Sources are hub ids or local files."
        ),
    )
    mix.add_argument(
        "--config", required=True, type=Path, metavar="mixture.yaml", help="the mixture YAML"
    )
    mix.add_argument(
        "--output", required=True, type=Path, metavar="DIR", help="folder for save_to_disk"
    )
    return parser


def _default_benchmarks() -> list[str]:
    from r1_data.decontaminate import DEFAULT_BENCHMARKS

    return list(DEFAULT_BENCHMARKS)


def _run_decontaminate(args: argparse.Namespace) -> int:
    from r1_data.decontaminate import (
        decontaminate,
        load_benchmarks,
        load_default_benchmarks,
        parse_benchmark_spec,
    )
    from r1_data.sources import load_source, write_dataset

    if args.ngram_size < 1:
        raise DataInputError(f"--ngram-size {args.ngram_size}: must be >= 1")
    # Read and check everything before the long part starts.
    specs = dict(parse_benchmark_spec(spec) for spec in args.benchmarks or [])
    ds = load_source(args.dataset, args.config, split=args.split)
    from r1_data.sources import require_columns

    require_columns(ds, [args.problem_column], args.dataset)
    benchmarks = load_benchmarks(specs) if specs else load_default_benchmarks()
    result, report = decontaminate(
        ds,
        args.problem_column,
        benchmarks,
        ngram_size=args.ngram_size,
        cleanup=args.cleanup,
        num_proc=args.num_proc,
        progress=not args.no_progress,
    )
    write_dataset(result, args.output)
    print(report.summary() + f" -> {args.output}")
    return 0


def _parse_reward_args(pairs: list[str]) -> dict[str, object]:
    import dataclasses

    from r1_rewards import RewardArgs

    fields = {f.name: f for f in dataclasses.fields(RewardArgs)}
    out: dict[str, object] = {}
    for pair in pairs:
        name, sep, raw = pair.partition("=")
        if not sep or name not in fields:
            raise DataInputError(
                f"--reward-arg {pair!r}: expected FIELD=VALUE with FIELD one of {', '.join(fields)}"
            )
        # RewardArgs postpones its annotations: the type is a string such as "float | None".
        annotation = str(fields[name].type)
        value: object = raw
        try:
            if raw.lower() in ("none", "null") and "None" in annotation:
                value = None
            elif annotation == "bool":
                value = raw.lower() in ("1", "true", "yes")
            elif annotation.startswith("float"):
                value = float(raw)
            elif annotation.startswith("int"):
                value = int(raw)
        except ValueError:
            raise DataInputError(f"--reward-arg {pair!r}: {name} takes {annotation}") from None
        out[name] = value
    return out


def _generation_options(args: argparse.Namespace) -> dict[str, Any]:
    """The flags `generate` and `pass-rate` share, as keywords of their configs."""
    return dict(
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


def _run_pass_rate(args: argparse.Namespace) -> int:
    from r1_data.pass_rate import PassRateConfig, pass_rate

    cfg = PassRateConfig(
        **_generation_options(args),
        filtered_output=args.filtered_output,
        reward_funcs=args.rewards or ["accuracy"],
        reward_args=_parse_reward_args(args.reward_args),
        pass_rate_min=args.pass_rate_min,
        pass_rate_max=args.pass_rate_max,
    )
    report = pass_rate(cfg)
    print(report.summary())
    return 0 if report.generation.complete else EXIT_INCOMPLETE


def _run_mix(args: argparse.Namespace) -> int:
    import json

    from r1_data.mixture import build_mixture, load_mixture_yaml

    mixture = load_mixture_yaml(args.config)
    result, report = build_mixture(mixture)
    args.output.mkdir(parents=True, exist_ok=True)
    result.save_to_disk(str(args.output))
    (args.output / "mixture_report.json").write_text(json.dumps(report.to_dict(), indent=2) + "\n")
    print(report.table())
    print(f"saved to {args.output}")
    return 0


def _run_generate(args: argparse.Namespace) -> int:
    from r1_data.generate import GenerateConfig, generate

    cfg = GenerateConfig(**_generation_options(args))
    if args.engine == "distilabel":
        from r1_data.distilabel_pipeline import run_distilabel

        run_distilabel(cfg)
        print(f"distilabel pipeline finished -> {cfg.output}")
    else:
        report = generate(cfg)
        print(report.summary())
        if not report.complete:
            # A partial output on the hub would look finished; the rerun pushes it whole.
            return EXIT_INCOMPLETE
    if args.push_to_hub:
        # Both engines finish with OUT.jsonl on disk; `--push-to-hub` holds for either.
        from r1_data.sources import load_source

        load_source(str(cfg.output)).push_to_hub(args.push_to_hub)
        print(f"pushed {cfg.output} to {args.push_to_hub}")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = make_parser().parse_args(argv)
    # r1-data's own progress at INFO; libraries only when they warn.
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    logging.getLogger("r1_data").setLevel(logging.DEBUG if args.verbose else logging.INFO)
    runners = {
        "generate": _run_generate,
        "decontaminate": _run_decontaminate,
        "pass-rate": _run_pass_rate,
        "mix": _run_mix,
    }
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
