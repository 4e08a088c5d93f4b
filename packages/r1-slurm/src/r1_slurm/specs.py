"""What each job kind needs: one dataclass per `r1-slurm submit` command.

A field, its default, its help text and its choices are written once, here; the CLI's
flags are generated from these dataclasses (`add_arguments`), the way TRL's parser reads
`metadata["help"]`. Validation lives in `__post_init__` and names the field, the value
and the rule, so a bad flag fails before anything is rendered or submitted.

Data flow: flags (or the benchmark launcher) -> a spec -> `render.render_*` -> an sbatch
script.
"""

from __future__ import annotations

import argparse
import dataclasses
import types
import typing
from dataclasses import dataclass, field
from typing import Any, Literal

from r1_slurm.errors import SlurmConfigError


def _f(help: str, default: Any = None, *, positional: bool = False) -> Any:
    metadata = {"help": help, "positional": positional}
    return field(default=default, metadata=metadata)


@dataclass
class JobOptions:
    """The SLURM request shared by every job kind (flags win over the site file)."""

    partition: str | None = _f("partition (default: the site file's, else the cluster's)")
    time: str | None = _f("time limit, e.g. 12:00:00 (default: the site file's)")
    account: str | None = _f("account to charge (default: the site file's)")
    qos: str | None = _f("quality of service (default: the site file's)")
    job_name: str | None = _f("job name (default: r1-<kind>-<what>)")
    env_setup: str | None = _f(
        "a shell file sourced at the start of the job, after the site's modules and setup"
    )


@dataclass
class TrainSpec:
    """`r1-slurm submit train`: open-r1's train.slurm, for any cluster."""

    stage: Literal["sft", "grpo"] = _f("the r1-train stage", "sft")
    config: str = _f("the recipe YAML (as for `r1-train STAGE --config`)", "")
    accelerate_config: str = _f(
        "zero3, zero2, fsdp, ddp (recipes/accelerate_configs/NAME.yaml), a YAML path, or "
        "none (plain `accelerate launch` flags; what a CPU job uses)",
        "zero3",
    )
    nodes: int = _f("nodes in all, training and vLLM together", 1)
    gpus_per_node: int | None = _f("GPUs per node; 0 trains on the CPU (default: the site's)")
    vllm_nodes: int | None = _f(
        "nodes that serve `trl vllm-serve` (default: 1 when the recipe sets use_vllm with "
        "vllm_mode server, else 0)"
    )
    vllm_tp: int = _f("tensor parallelism of the vLLM server", 1)
    vllm_dp: int | None = _f("data parallelism of the vLLM server (default: GPUs / tp)")
    vllm_port: int = _f("port of the vLLM server", 8000)
    overrides: list[str] = field(
        default_factory=list,
        metadata={
            "help": "training flags after `--`, passed to r1-train (e.g. -- --learning_rate 1e-5)",
            "positional": False,
        },
    )

    def __post_init__(self) -> None:
        _check_choice("stage", self.stage, ("sft", "grpo"))
        if not self.config:
            raise SlurmConfigError("--config: a recipe YAML is required")
        _check_min("nodes", self.nodes, 1)
        _check_min("vllm_tp", self.vllm_tp, 1)
        _check_min("vllm_port", self.vllm_port, 1)
        if self.gpus_per_node is not None:
            _check_min("gpus_per_node", self.gpus_per_node, 0)
        if self.vllm_nodes is not None:
            _check_min("vllm_nodes", self.vllm_nodes, 0)
            if self.vllm_nodes >= self.nodes:
                raise SlurmConfigError(
                    f"--vllm-nodes {self.vllm_nodes} with --nodes {self.nodes}: at least one "
                    "node must train; raise --nodes or lower --vllm-nodes"
                )
            if self.vllm_nodes > 1:
                raise SlurmConfigError(
                    f"--vllm-nodes {self.vllm_nodes}: TRL's trainer talks to one vLLM server "
                    "(vllm_server_host), so one node serves; use --vllm-tp / --vllm-dp to "
                    "spread it over that node's GPUs"
                )
        if self.vllm_dp is not None:
            _check_min("vllm_dp", self.vllm_dp, 1)


@dataclass
class GenerateSpec:
    """`r1-slurm submit generate`: a vLLM (or SGLang) server, then `r1-data generate`."""

    model: str = _f("the teacher model the server loads", "", positional=True)
    dataset: str = _f("the prompts: hub id or local file (r1-data generate --dataset)", "")
    prompt_column: str = _f("column with the prompt", "prompt")
    output: str = _f("the JSONL written and resumed (r1-data generate --output)", "")
    split: str = _f("split of --dataset", "train")
    num_generations: int = _f("completions per prompt", 1)
    engine: Literal["vllm", "sglang"] = _f("the inference server", "vllm")
    tp: int | None = _f("tensor parallelism of the server (default: all GPUs of the node)")
    port: int = _f("port of the server on the node", 8000)
    gpus_per_node: int | None = _f("GPUs of the node (default: the site's)")
    extra: list[str] = field(
        default_factory=list,
        metadata={
            "help": "flags after `--`, passed to r1-data generate (e.g. -- --temperature 0.6)",
            "positional": False,
        },
    )

    def __post_init__(self) -> None:
        for name in ("model", "dataset", "output"):
            if not getattr(self, name):
                raise SlurmConfigError(f"--{name.replace('_', '-')}: required")
        _check_choice("engine", self.engine, ("vllm", "sglang"))
        _check_min("num_generations", self.num_generations, 1)
        _check_min("port", self.port, 1)
        if self.tp is not None:
            _check_min("tp", self.tp, 1)


@dataclass
class EvaluateSpec:
    """`r1-slurm submit evaluate`: `r1-eval run` on vLLM, an endpoint or transformers."""

    model: str = _f("the model: hub id or a checkpoint folder", "", positional=True)
    tasks: str = _f("comma-separated r1-eval tasks, e.g. aime24,math_500", "")
    backend: Literal["vllm", "endpoint", "transformers"] = _f(
        "vllm (in the job, on its GPUs), endpoint (an OpenAI-compatible server), transformers",
        "vllm",
    )
    base_url: str | None = _f("OpenAI API root for --backend endpoint")
    dataset: list[str] = field(
        default_factory=list,
        metadata={
            "help": "NAME=PATH: a local copy of a task's data set (repeatable)",
            "positional": False,
        },
    )
    n: int | None = _f("samples per problem (default: r1-eval's)")
    output_dir: str | None = _f("results go here (default: evals/<model name>)")
    parallel: Literal["auto", "data", "tensor"] = _f(
        "vLLM parallelism: auto leaves it to r1-eval on the node (open-r1's rule: tensor "
        "parallel from 30B parameters, else data parallel over the GPUs)",
        "auto",
    )
    gpus_per_node: int | None = _f("GPUs of the node (default: the site's; 0 for endpoint)")
    extra: list[str] = field(
        default_factory=list,
        metadata={"help": "flags after `--`, passed to r1-eval run", "positional": False},
    )

    def __post_init__(self) -> None:
        if not self.model:
            raise SlurmConfigError("MODEL: required")
        if not self.tasks:
            raise SlurmConfigError("--tasks: required, e.g. --tasks aime24,math_500")
        _check_choice("backend", self.backend, ("vllm", "endpoint", "transformers"))
        _check_choice("parallel", self.parallel, ("auto", "data", "tensor"))
        if self.backend == "endpoint" and not self.base_url:
            raise SlurmConfigError("--backend endpoint needs --base-url URL")
        for item in self.dataset:
            if "=" not in item:
                raise SlurmConfigError(f"--dataset {item!r}: expected NAME=PATH")
        if self.n is not None:
            _check_min("n", self.n, 1)


@dataclass
class ServeSpec:
    """`r1-slurm submit serve`: an OpenAI-compatible server with a health check."""

    model: str = _f("the model the server loads", "", positional=True)
    engine: Literal["vllm", "sglang"] = _f("the inference server", "vllm")
    port: int = _f("port on the node", 8000)
    host: str = _f("address the server binds on the node", "0.0.0.0")
    tp: int | None = _f("tensor parallelism (default: all GPUs of the node)")
    gpus_per_node: int | None = _f("GPUs of the node (default: the site's)")
    extra: list[str] = field(
        default_factory=list,
        metadata={"help": "flags after `--`, passed to the server", "positional": False},
    )

    def __post_init__(self) -> None:
        if not self.model:
            raise SlurmConfigError("MODEL: required")
        _check_choice("engine", self.engine, ("vllm", "sglang"))
        _check_min("port", self.port, 1)
        if self.tp is not None:
            _check_min("tp", self.tp, 1)


@dataclass
class SandboxWorkersSpec:
    """`r1-slurm submit sandbox-workers N`: Piston-compatible graders as SLURM jobs."""

    count: int = _f("how many workers (one job each)", 1, positional=True)
    base_port: int = _f("port of the first worker; worker i listens on base_port + i", 2000)
    host: str = _f(
        "address each worker binds on its node (0.0.0.0: reachable from the training nodes)",
        "0.0.0.0",
    )
    concurrency: int | None = _f("runs at once per worker (default: the CPUs of the job)")
    cpus_per_task: int | None = _f("CPUs per worker (default: the site's)")

    def __post_init__(self) -> None:
        _check_min("count", self.count, 1)
        _check_min("base_port", self.base_port, 1)
        if self.base_port + self.count - 1 > 65535:
            raise SlurmConfigError(
                f"--base-port {self.base_port} with {self.count} workers runs past port 65535"
            )


def _check_min(name: str, value: int, low: int) -> None:
    if value < low:
        raise SlurmConfigError(f"--{name.replace('_', '-')} {value}: must be >= {low}")


def _check_choice(name: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise SlurmConfigError(
            f"--{name.replace('_', '-')} {value!r}: must be one of {', '.join(choices)}"
        )


# --- flags from fields -------------------------------------------------------------------


def add_arguments(
    parser: argparse.ArgumentParser | argparse._ArgumentGroup,
    cls: type,
    *,
    skip: tuple[str, ...] = (),
) -> None:
    """One flag per field of `cls` (`--field-name`), typed, with the field's help text."""
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        if f.name in skip:
            continue
        hint = hints[f.name]
        kwargs: dict[str, Any] = {"help": f.metadata["help"]}
        args = typing.get_args(hint)
        origin = typing.get_origin(hint)
        if origin in (typing.Union, types.UnionType):
            hint = next(a for a in args if a is not type(None))
            origin, args = typing.get_origin(hint), typing.get_args(hint)
        if origin is Literal:
            kwargs["choices"] = list(args)
        elif origin is list:
            kwargs["action"] = "append"
            kwargs["metavar"] = f.name.upper()
        elif hint is bool:
            kwargs["action"] = argparse.BooleanOptionalAction
        else:
            kwargs["type"] = hint
        if f.default is not dataclasses.MISSING and f.default not in (None, "", False):
            kwargs["help"] += f" (default: {f.default})"
        if f.metadata.get("positional"):
            parser.add_argument(f.name, metavar=f.name.upper(), **kwargs)
        else:
            kwargs["default"] = None  # "not given": the dataclass default applies
            parser.add_argument(f"--{f.name.replace('_', '-')}", dest=f.name, **kwargs)


def from_namespace(cls: type, namespace: argparse.Namespace, **extra: Any) -> Any:
    """Build `cls` from the flags that were given; the rest keep their defaults."""
    values = {
        f.name: getattr(namespace, f.name)
        for f in dataclasses.fields(cls)
        if getattr(namespace, f.name, None) is not None
    }
    values.update({k: v for k, v in extra.items() if v is not None})
    return cls(**values)
