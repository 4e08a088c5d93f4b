"""`r1-data`: the data stages of the R1 recipe from the command line.

    r1-data generate       reasoning traces from OpenAI-compatible servers (resumable)
    r1-data decontaminate  flag or drop rows that share word 8-grams with benchmarks
    r1-data pass-rate      keep problems a model solves sometimes, not always or never
    r1-data mix            build a dataset mixture from a YAML file

The flags of `generate` and `decontaminate` are a contract: SLURM scripts and clusters call
them, and open-r1's spellings (`--ngram_size`, `--hf-dataset`, ...) work as well. Each
flag is generated from a field of the stage's config dataclass (`GenerateConfig`,
`DecontaminateConfig`, `PassRateConfig`), which holds its default and help once. Every
command reads its inputs before doing any work, so a missing column, an unreadable file
or an unreachable endpoint ends the run in seconds with one line on stderr.

Exit status (r1's convention): 0 done; 1 the job ran and some rows failed after every
retry (rerun the same command: it retries exactly those); 2 a usage, input or
configuration error; 3 a service (the model endpoint, the Hub) cannot be used.

Data flow: argv (a preset or recipe file first, then flags) -> a config dataclass
(validated) -> the stage's function in `r1_data` -> files on disk, optionally the Hub,
and a summary on stdout.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from r1_data._flags import Formatter, add_flags, config_kwargs
from r1_data.errors import (
    DataError,
    DataInputError,
    EndpointError,
    HubError,
    MissingExtraError,
)
from r1_data.presets import PRESETS

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_UNAVAILABLE = 3

COMMANDS = ("generate", "decontaminate", "pass-rate", "mix")


@dataclass
class GenerateOptions:
    """The flags of `generate` that choose how it runs, beside its `GenerateConfig`."""

    engine: Literal["native", "distilabel"] = field(
        default="native",
        metadata={
            "help": "native: r1-data's resumable asyncio client; distilabel: open-r1's "
            "pipeline (pip install 'r1-data[distilabel]'; not resumable row by row)"
        },
    )
    preset: str | None = field(
        default=None,
        metadata={
            "help": "start from a named set of defaults; open-r1: the sampling, prompt and "
            "concurrency of open-r1's generate_reason_data.py (flags given still win)",
            "choices": tuple(PRESETS),
            "metavar": "NAME",
        },
    )


@dataclass
class PassRateOptions:
    """The flag of `pass-rate` that reads a recipe file before the other flags."""

    config: str | None = field(
        default=None,
        metadata={
            "help": "an open-r1 pass-rate filtering recipe (YAML, as in "
            "recipes/dataset_filtering/); its values are defaults that flags override",
            "metavar": "RECIPE.yaml",
        },
    )


@dataclass
class MixOptions:
    """The flags of `mix`."""

    config: Path = field(
        metadata={
            "help": "the mixture YAML (a dataset_mixture, or a recipe holding one)",
            "metavar": "mixture.yaml",
        }
    )
    output: Path = field(metadata={"help": "folder for save_to_disk", "metavar": "DIR"})


_INPUT = ("dataset", "split", "dataset_config", "prompt_column")
_RESUME = ("uuid_column", "start", "end")
_ENDPOINT = (
    "base_urls",
    "model",
    "max_concurrency",
    "timeout",
    "max_retries",
    "backoff",
    "api_key",
)
_SAMPLING = ("temperature", "top_p", "max_tokens", "prompt_template", "system_prompt")
_HUB = ("push_to_hub", "private")
# The older spelling of --dataset-config, kept for existing scripts (pass-rate's --config
# is its recipe file, as in TRL).
_OLD_CONFIG_FLAG = {"dataset_config": ("--config",)}


def _add_generation_groups(
    parser: argparse.ArgumentParser, cls: type, defaults: Mapping[str, Any], aliases: Any = None
) -> None:
    """The flags `generate` and `pass-rate` share, grouped as a person reads them."""
    add_flags(
        parser.add_argument_group("input"), cls, only=_INPUT, defaults=defaults, aliases=aliases
    )
    add_flags(
        parser.add_argument_group("resume and chunking"), cls, only=_RESUME, defaults=defaults
    )
    add_flags(parser.add_argument_group("endpoint"), cls, only=_ENDPOINT, defaults=defaults)
    add_flags(parser.add_argument_group("sampling"), cls, only=_SAMPLING, defaults=defaults)
    add_flags(parser.add_argument_group("hub"), cls, only=_HUB, defaults=defaults)


def make_parser(defaults: Mapping[str, Mapping[str, Any]] | None = None) -> argparse.ArgumentParser:
    """The `r1-data` parser; `defaults[command]` replaces field defaults (preset, recipe)."""
    from r1_data.decontamination import DEFAULT_BENCHMARKS, DecontaminateConfig
    from r1_data.filtering import PassRateConfig
    from r1_data.generation import GenerateConfig

    defaults = defaults or {}
    parser = argparse.ArgumentParser(
        prog="r1-data",
        description=(__doc__ or "").split("\n\nData flow")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, help_text: str, description: str) -> argparse.ArgumentParser:
        return commands.add_parser(
            name,
            help=help_text,
            description=description,
            formatter_class=Formatter,
            allow_abbrev=False,
        )

    gen = command(
        "generate",
        "reasoning traces from OpenAI-compatible servers (resumable)",
        "Send every prompt to /v1/chat/completions N times and append\n"
        "{**row, generations, finish_reasons, api_metadata, usage} rows to OUT.jsonl\n"
        "(api_metadata: the server's token counts, open-r1's key; usage: the same).\n\n"
        "Kill it at any moment and run the same command again: rows already in OUT are\n"
        "skipped (by --uuid-column, else a hash of the prompt), a torn last line is cut,\n"
        "and rows that failed after all retries are generated again. Exit status 1 means\n"
        "some rows failed (listed in OUT.failed.jsonl): rerun to retry them.",
    )
    gen_defaults = defaults.get("generate", {})
    _add_generation_groups(gen, GenerateConfig, gen_defaults, aliases=_OLD_CONFIG_FLAG)
    add_flags(
        gen, GenerateConfig, only=("output", "num_generations", "progress"), defaults=gen_defaults
    )
    add_flags(gen, GenerateOptions)

    dec = command(
        "decontaminate",
        "flag or drop rows that share word n-grams with benchmarks",
        "open-r1's decontamination: lowercase, collapse whitespace, word n-grams; a row\n"
        "is contaminated for a benchmark when any of its n-grams is one of that\n"
        "benchmark's. Adds a boolean column contaminated_<name> per benchmark, or with\n"
        "--cleanup drops the flagged rows (and the flag columns). Every input column is\n"
        "kept. Without --benchmark, open-r1's five: " + ", ".join(DEFAULT_BENCHMARKS) + ";\n"
        "each must load (GPQA is gated on the Hub), or be named in --skip-benchmark.",
    )
    add_flags(
        dec, DecontaminateConfig, defaults=defaults.get("decontaminate"), aliases=_OLD_CONFIG_FLAG
    )

    pr = command(
        "pass-rate",
        "keep problems a model solves sometimes, not always or never",
        "Generate N completions per problem, score them with r1-rewards functions and\n"
        "journal every row to OUT.jsonl with pass_rate_rewards ({reward: [N scores]})\n"
        "and pass_rate (the mean of all gradable scores). Once every row is in, the rows\n"
        "with MIN < pass_rate < MAX go to --filtered-output. Resumable like generate;\n"
        "--start/--end split the work over jobs (one OUT per chunk). --config reads\n"
        "open-r1's filtering recipes (model_name_or_path -> --model, dataset_name ->\n"
        "--dataset, max_completion_length -> --max-tokens, ...); flags override it.",
    )
    add_flags(pr, PassRateOptions)
    pr_defaults = defaults.get("pass-rate", {})
    _add_generation_groups(pr, PassRateConfig, pr_defaults)
    add_flags(
        pr.add_argument_group("scoring"),
        PassRateConfig,
        only=(
            "output",
            "filtered_output",
            "num_generations",
            "reward_funcs",
            "reward_args",
            "pass_rate_min",
            "pass_rate_max",
            "progress",
        ),
        defaults=pr_defaults,
    )

    mix = command(
        "mix",
        "build a dataset mixture from a YAML file",
        "Build open-r1's dataset_mixture (a YAML file holding it, or a whole recipe with\n"
        "a dataset_mixture: key) and save it as a data set folder, with\n"
        "mixture_report.json (rows per source). Sources are hub ids or local files.",
    )
    add_flags(mix, MixOptions)
    return parser


def _command_defaults(argv: list[str]) -> dict[str, dict[str, Any]]:
    """What `--preset` (generate) or `--config` (pass-rate) put under the flags given."""
    name = next((a for a in argv if a in COMMANDS), None)
    if name not in ("generate", "pass-rate"):
        return {}
    pre = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    pre.add_argument("--preset")
    pre.add_argument("--config")
    known, _ = pre.parse_known_args(argv[argv.index(name) + 1 :])
    if name == "generate" and known.preset in PRESETS:
        return {"generate": dict(PRESETS[known.preset])}
    if name == "pass-rate" and known.config:
        from r1_data.filtering import load_pass_rate_recipe

        return {"pass-rate": load_pass_rate_recipe(known.config)}
    return {}


def _push(path: Path | str, repo_id: str, private: bool) -> None:
    from r1_data.sources import load_source, push_dataset

    push_dataset(load_source(str(path)), repo_id, private=private)
    print(f"pushed {path} to {repo_id}" + (" (private)" if private else ""))


def _run_generate(args: argparse.Namespace, defaults: Mapping[str, Any]) -> int:
    from r1_data.generation import GenerateConfig, generate_sync

    cfg = GenerateConfig(**config_kwargs(args, GenerateConfig, defaults))
    if args.engine == "distilabel":
        from r1_data.distilabel_pipeline import run_distilabel

        run_distilabel(cfg)
        print(f"distilabel pipeline finished -> {cfg.output}")
    else:
        report = generate_sync(cfg)
        print(report.summary())
        if not report.complete:
            # A partial output on the hub would look finished; the rerun pushes it whole.
            return EXIT_FAILED
    if cfg.push_to_hub:
        # Both engines finish with OUT.jsonl on disk; `--push-to-hub` holds for either.
        _push(cfg.output, cfg.push_to_hub, cfg.private)
    return EXIT_OK


def _run_decontaminate(args: argparse.Namespace, defaults: Mapping[str, Any]) -> int:
    from r1_data.decontamination import DecontaminateConfig, decontaminate, parse_benchmark_spec
    from r1_data.sources import load_source, push_dataset, require_columns, write_dataset

    cfg = DecontaminateConfig(**config_kwargs(args, DecontaminateConfig, defaults))
    # Read and check everything before the long part starts.
    for spec in cfg.benchmarks:
        parse_benchmark_spec(spec)
    ds = load_source(cfg.dataset, cfg.dataset_config, split=cfg.split)
    require_columns(ds, [cfg.problem_column], cfg.dataset)
    benchmarks = cfg.load_benchmarks()
    result, report = decontaminate(
        ds,
        cfg.problem_column,
        benchmarks,
        ngram_size=cfg.ngram_size,
        cleanup=cfg.cleanup,
        num_proc=cfg.num_proc,
        progress=cfg.progress,
    )
    targets = []
    if cfg.output is not None:
        write_dataset(result, cfg.output)
        targets.append(str(cfg.output))
    if cfg.push_to_hub is not None:
        push_dataset(result, cfg.push_to_hub, private=cfg.private)
        targets.append(f"{cfg.push_to_hub} on the Hub" + (" (private)" if cfg.private else ""))
    print(report.summary() + f" -> {' and '.join(targets)}")
    return EXIT_OK


def _run_pass_rate(args: argparse.Namespace, defaults: Mapping[str, Any]) -> int:
    from r1_data.filtering import PassRateConfig, pass_rate_sync

    kwargs = config_kwargs(args, PassRateConfig, defaults)
    if args.reward_args and "reward_args" in defaults:
        # Flags add to the recipe's reward settings rather than dropping them.
        kwargs["reward_args"] = {**defaults["reward_args"], **kwargs["reward_args"]}
    cfg = PassRateConfig(**kwargs)
    report = pass_rate_sync(cfg)
    print(report.summary())
    if not report.generation.complete:
        return EXIT_FAILED
    if cfg.push_to_hub and cfg.filtered_output is not None:
        _push(cfg.filtered_output, cfg.push_to_hub, cfg.private)
    return EXIT_OK


def _run_mix(args: argparse.Namespace, defaults: Mapping[str, Any]) -> int:
    import json

    from r1_data.mixture import build_mixture, load_mixture_yaml

    options = MixOptions(**config_kwargs(args, MixOptions))
    mixture = load_mixture_yaml(options.config)
    result, report = build_mixture(mixture)
    options.output.mkdir(parents=True, exist_ok=True)
    result.save_to_disk(str(options.output))
    report_path = options.output / "mixture_report.json"
    report_path.write_text(json.dumps(report.to_dict(), indent=2) + "\n")
    print(report.table())
    print(f"saved to {options.output}")
    return EXIT_OK


def _exit_status(exc: DataError) -> int:
    if isinstance(exc, EndpointError | HubError):
        return EXIT_UNAVAILABLE
    if isinstance(exc, DataInputError | MissingExtraError):
        return EXIT_USAGE
    return EXIT_FAILED


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    name = next((a for a in argv if a in COMMANDS), "r1-data")
    try:
        defaults = _command_defaults(argv)
    except DataError as exc:
        print(f"r1-data {name}: error: {exc}", file=sys.stderr)
        return _exit_status(exc)
    args = make_parser(defaults).parse_args(argv)
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
        return runners[args.command](args, defaults.get(args.command, {}))
    except DataError as exc:
        print(f"r1-data {args.command}: error: {exc}", file=sys.stderr)
        return _exit_status(exc)
    except KeyboardInterrupt:
        print(
            f"r1-data {args.command}: interrupted; run the same command again to resume",
            file=sys.stderr,
        )
        return 130


if __name__ == "__main__":
    sys.exit(main())
