"""The `r1-train` command: `sft`, `grpo` and `quickstart`.

`r1-train sft|grpo --config recipe.yaml [--field value ...]` parses like open-r1's
scripts (TRL's parser: the YAML first, then flags override it) and runs unchanged under
`accelerate launch --config_file recipes/accelerate_configs/zero3.yaml -m r1_train.cli
grpo --config ...`. open-r1's old keys and flags (`torch_dtype`, `warmup_ratio`, ...) are
mapped by `open_r1_compat`, one warning line each on stderr. Unlike TRL, a key that no
config knows is an error naming the closest valid one: a misspelt `learning_rat` would
otherwise train with the default and nobody would notice. `--dry-run` prints every field
of each resolved config as YAML on stdout and exits without loading anything.

`r1-train quickstart` is the tiny end-to-end R1 run (`r1_train.tiny.quickstart`): every
stage through its real command, no GPU, no download, a few minutes on two cores; its flags
are generated from `QuickstartConfig`.

Exit codes: 0 done, 1 the job failed, 2 usage or configuration error (including a missing
extra), 3 a required service (the Hub) unavailable. Heavy modules (torch, transformers,
TRL) are imported inside the commands, so `r1-train --help` answers at once.

Data flow: argv -> (YAML + flags, old keys mapped) -> config dataclasses -> `--dry-run`
YAML, or `sft.main` / `grpo.main` (preflight, then training) / `run_quickstart` ->
output_dir.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import sys
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from r1_train.errors import ConfigError, TrainError

if TYPE_CHECKING:
    from trl import ModelConfig, TrlParser

    from r1_train.training import StageName, StageScriptArgs, TrainConfig

logger = logging.getLogger(__name__)

STAGES: tuple[StageName, ...] = ("sft", "grpo")
DESCRIPTIONS = {
    "sft": "distil: supervised fine-tuning on reasoning traces (--config recipe.yaml)",
    "grpo": "reinforce: GRPO with r1-rewards (--config recipe.yaml)",
    "quickstart": "the whole recipe on a tiny model on the CPU, in a few minutes",
}


@dataclass
class CommandArguments:
    """Flags of `r1-train sft|grpo` that are not fields of a training config."""

    dry_run: bool = field(
        default=False,
        metadata={
            "help": "Print every field of each resolved config as YAML on stdout and exit 0, "
            "without loading a model, a tokenizer or a data set."
        },
    )


class StageConfigs(NamedTuple):
    """The three configs of a stage, as its `main` takes them."""

    script_args: StageScriptArgs
    training_args: TrainConfig
    model_args: ModelConfig


@dataclass
class ParsedCommand:
    """A parsed `r1-train sft|grpo` command line."""

    configs: StageConfigs
    command: CommandArguments
    warnings: list[str]


def config_classes(stage: StageName) -> tuple[Any, Any, Any]:
    """The script-arguments, trainer-config and model-config classes of a stage."""
    from trl import ModelConfig

    from r1_train.configs import GRPOConfig, GRPOScriptArguments, ScriptArguments, SFTConfig

    if stage == "sft":
        return ScriptArguments, SFTConfig, ModelConfig
    return GRPOScriptArguments, GRPOConfig, ModelConfig


def make_parser(stage: StageName) -> TrlParser:
    """The parser of `r1-train sft` or `r1-train grpo`, generated from the config dataclasses."""
    from trl import TrlParser

    classes: list[Any] = [*config_classes(stage), CommandArguments]
    return TrlParser(
        classes,
        prog=f"r1-train {stage}",
        description=DESCRIPTIONS[stage] + ". Every field can be set in the YAML or as a flag; "
        "open-r1's old key names are accepted with a warning.",
    )


def _valid_keys(stage: StageName) -> set[str]:
    classes = (*config_classes(stage), CommandArguments)
    return {f.name for cls in classes for f in dataclasses.fields(cls)}


def _split_config(argv: list[str]) -> tuple[str | None, list[str]]:
    rest: list[str] = []
    path = None
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--config":
            if i + 1 >= len(argv):
                raise ConfigError("--config needs a path")
            path, i = argv[i + 1], i + 2
            continue
        if arg.startswith("--config="):
            path = arg.split("=", 1)[1]
        else:
            rest.append(arg)
        i += 1
    return path, rest


def read_recipe(path: str, stage: StageName) -> tuple[dict[str, Any], list[str]]:
    """A recipe's YAML, in TRL 1.x's key names, and the warning lines of mapped keys.

    Raises:
        ConfigError: unreadable or non-mapping YAML, an unknown key (with a hint), or an
            open-r1 key that has no equivalent any more.
    """
    import yaml

    from r1_train.open_r1_compat import translate_mapping

    try:
        raw = yaml.safe_load(Path(path).read_text())
    except OSError as exc:
        raise ConfigError(f"cannot read config {path!r}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path} is not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path} must be a mapping of field: value")
    env = raw.pop("env", None)
    if env is not None:
        if not isinstance(env, dict):
            raise ConfigError(f"{path}: env must be a mapping of VARIABLE: value")
        for key, value in env.items():
            os.environ[str(key)] = str(value)
    try:
        return translate_mapping(raw, _valid_keys(stage), source=path)
    except ConfigError as error:
        if "unknown field" not in str(error):
            raise
        names = ", ".join(cls.__name__ for cls in config_classes(stage))
        raise ConfigError(
            f"{error}. The valid fields are those of {names} (`r1-train {stage} --help` lists them)"
        ) from None


def parse_command(stage: StageName, argv: list[str]) -> ParsedCommand:
    """Parse a stage's argv (`--config` YAML, then flags) into its configs.

    Raises:
        ConfigError: a bad recipe or an invalid field value (the message names the field).
        SystemExit: argparse's own usage errors (exit 2) and `--help` (exit 0).
    """
    from r1_train.open_r1_compat import translate_argv

    path, rest = _split_config(argv)
    warnings: list[str] = []
    defaults: dict[str, Any] = {}
    if path is not None:
        defaults, warnings = read_recipe(path, stage)
    rest, flag_warnings = translate_argv(rest, _valid_keys(stage))
    warnings += flag_warnings
    parser = make_parser(stage)
    if defaults:
        parser.set_defaults_with_config(**defaults)
    try:
        script_args, training_args, model_args, command = parser.parse_args_into_dataclasses(
            args=rest
        )
    except ValueError as exc:
        # Validation in __post_init__ (ours and TRL's) names the field.
        raise ConfigError(str(exc)) from None
    return ParsedCommand(StageConfigs(script_args, training_args, model_args), command, warnings)


def parse_stage(stage: StageName, argv: list[str]) -> StageConfigs:
    """The three configs of a stage's argv; mapped-key warnings go to the log."""
    parsed = parse_command(stage, argv)
    for line in parsed.warnings:
        logger.warning(line)
    return parsed.configs


def _stage(stage: StageName, argv: list[str]) -> int:
    parsed = parse_command(stage, argv)
    for line in parsed.warnings:
        print(f"r1-train {stage}: warning: {line}", file=sys.stderr)
    if parsed.command.dry_run:
        from r1_train.training import configs_yaml

        sys.stdout.write(configs_yaml(*parsed.configs))
        return 0
    if stage == "sft":
        from r1_train.sft import main as run
    else:
        from r1_train.grpo import main as run
    run(*parsed.configs)  # type: ignore[arg-type]  # the stage's classes match its main
    return 0


def _quickstart(argv: list[str]) -> int:
    from r1_train.tiny.quickstart import (
        QuickstartError,
        config_from_args,
        make_parser,
        run_quickstart,
    )

    config = config_from_args(make_parser().parse_args(argv))
    print("r1 quickstart: distil, then reinforce (DeepSeek-R1), on a tiny model on the CPU")
    print(f"every stage below is a command of its own; logs and outputs in {config.output_dir}/")
    try:
        result = run_quickstart(config, report=lambda line: print(line, flush=True))
    except QuickstartError as exc:
        print(f"r1-train quickstart: {exc}", file=sys.stderr)
        return 1
    print(result.report)
    return 0


def overview() -> str:
    """`r1-train --help`: the commands, one line each."""
    lines = [f"  {name:<11} {text}" for name, text in DESCRIPTIONS.items()]
    return (
        "usage: r1-train {sft,grpo,quickstart} ...\n\n"
        + "\n".join(lines)
        + "\n\n`r1-train COMMAND --help` lists every field; recipes live in recipes/.\n"
        "`r1-train sft|grpo --config FILE --dry-run` prints the resolved configs.\n\n"
        "exit codes: 0 done, 1 the job failed, 2 usage or configuration error, "
        "3 a required service unavailable"
    )


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(overview())
        return 0
    command, rest = argv[0], argv[1:]
    if command not in (*STAGES, "quickstart"):
        print(f"r1-train: unknown command {command!r}\n\n{overview()}", file=sys.stderr)
        return 2
    try:
        if command == "quickstart":
            return _quickstart(rest)
        return _stage(typing.cast("StageName", command), rest)
    except TrainError as error:
        print(f"r1-train {command}: error: {error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print(f"r1-train {command}: interrupted", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
