"""The `r1-train` command: `sft`, `grpo` and `quickstart`.

`r1-train sft|grpo --config recipe.yaml [--field value ...]` parses like open-r1's
scripts (TRL's `TrlParser`: the YAML first, then flags override it) and runs unchanged
under `accelerate launch --config_file recipes/accelerate_configs/zero3.yaml
-m r1_train.cli grpo --config ...`. Unlike TRL, a YAML key that no config knows is an
error listing the valid ones: a misspelt `learning_rat` would otherwise train with the
default and nobody would notice.

`r1-train quickstart` is the tiny end-to-end R1 run (`r1_train.tiny.quickstart`): every
stage through its real command, no GPU, no download, a few minutes on two cores.

Heavy modules (torch, transformers, TRL) are imported inside the commands, so
`r1-train --help` answers at once.

Data flow: argv -> (YAML + flags) -> config dataclasses -> `sft.main` / `grpo.main` /
`run_quickstart` -> output_dir.
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path
from typing import Any

STAGES = ("sft", "grpo")


def _config_classes(stage: str) -> tuple[type, type, type]:
    from trl import ModelConfig

    from r1_train.configs import GRPOConfig, GRPOScriptArguments, ScriptArguments, SFTConfig

    if stage == "sft":
        return ScriptArguments, SFTConfig, ModelConfig
    return GRPOScriptArguments, GRPOConfig, ModelConfig


def check_yaml_keys(path: str, classes: tuple[type, ...]) -> None:
    """Reject YAML keys that no config dataclass declares, naming the valid ones."""
    import yaml

    try:
        raw = yaml.safe_load(Path(path).read_text())
    except OSError as exc:
        raise SystemExit(f"r1-train: cannot read config {path!r}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise SystemExit(f"r1-train: {path} is not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise SystemExit(f"r1-train: {path} must be a mapping of field: value")
    valid = {f.name for cls in classes for f in dataclasses.fields(cls)} | {"env"}
    unknown = sorted(set(raw) - valid)
    if unknown:
        import difflib

        hints = []
        for key in unknown:
            close = difflib.get_close_matches(key, valid, n=1)
            hints.append(f"{key} (did you mean {close[0]}?)" if close else key)
        raise SystemExit(
            f"r1-train: {path}: unknown field(s): {', '.join(hints)}. The valid fields are "
            f"those of {', '.join(c.__name__ for c in classes)} (see `r1-train "
            f"{'grpo' if 'GRPO' in classes[1].__name__ else 'sft'} --help`)."
        )


def parse_stage(stage: str, argv: list[str]) -> tuple[Any, Any, Any]:
    """Parse a stage's argv (`--config` YAML, then flags) into its three configs."""
    from trl import TrlParser

    classes = _config_classes(stage)
    if "--config" in argv:
        index = argv.index("--config")
        if index + 1 >= len(argv):
            raise SystemExit("r1-train: --config needs a path")
        check_yaml_keys(argv[index + 1], classes)
    parser = TrlParser(classes, prog=f"r1-train {stage}")
    try:
        return tuple(parser.parse_args_and_config(args=argv))  # type: ignore[return-value]
    except ValueError as exc:
        # Config validation errors (__post_init__) name the field; show them without a trace.
        raise SystemExit(f"r1-train {stage}: {exc}") from None


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


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    usage = (
        "usage: r1-train {sft,grpo,quickstart} ...\n\n"
        "  sft         distil: supervised fine-tuning on reasoning traces (--config recipe.yaml)\n"
        "  grpo        reinforce: GRPO with r1-rewards (--config recipe.yaml)\n"
        "  quickstart  the whole recipe on a tiny model on the CPU, in a few minutes\n\n"
        "`r1-train COMMAND --help` lists every field; recipes live in recipes/."
    )
    if not argv or argv[0] in ("-h", "--help"):
        print(usage)
        return 0
    command, rest = argv[0], argv[1:]
    if command == "quickstart":
        return _quickstart(rest)
    if command not in STAGES:
        print(f"r1-train: unknown command {command!r}\n\n{usage}", file=sys.stderr)
        return 2
    script_args, training_args, model_args = parse_stage(command, rest)
    if command == "sft":
        from r1_train.sft import main as run
    else:
        from r1_train.grpo import main as run
    run(script_args, training_args, model_args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
