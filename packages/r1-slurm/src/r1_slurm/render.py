"""sbatch scripts from templates: open-r1's slurm/ files, with the cluster taken out.

Each job kind has a jinja2 template under `templates/` that extends `base.sbatch.j2`
(the `#SBATCH` header, `set -eo pipefail`, the environment of submission, a start line in
the log). Everything the job can know before it starts (node counts, process counts,
explicit parallelism, ports, the command lines) is worked out here, in Python, and rendered as
literals; the script computes only what SLURM decides at run time (node names, job id,
restart count). So `--dry-run` shows the real numbers, and a test can assert on them.

Values reach the shell through the `q` filter (`shlex.quote`) or as positional arguments
of `bash -c`, never spliced into a quoted string: a recipe path with a space or a quote
cannot break a line. `StrictUndefined` makes a missing value an error at render time.

Data flow: a spec (`specs`) + the site (`site`) -> a template context -> `Rendered`
(script text, job name, log path) -> `submission.submit` or stdout (`--dry-run`).
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
import yaml

from r1_slurm import __version__
from r1_slurm.errors import SlurmConfigError
from r1_slurm.site import SiteConfig, environment_lines
from r1_slurm.specs import (
    EvaluateSpec,
    GenerateSpec,
    JobOptions,
    SandboxWorkersSpec,
    ServeSpec,
    TrainSpec,
)

ACCELERATE_CONFIGS = ("zero3", "zero2", "fsdp", "ddp")
LOG_NAME = "%x-%j.log"


@dataclass(frozen=True)
class Rendered:
    """A rendered job: the script, its name and where its log goes (`%x`/`%j` unexpanded)."""

    kind: str
    name: str
    script: str
    log: str


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("r1_slurm", "templates"),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
        # bash's `${#array[@]}` would open a jinja2 comment.
        comment_start_string="{##",
        comment_end_string="##}",
    )
    env.filters["q"] = lambda value: shlex.quote(str(value))
    env.filters["qjoin"] = lambda values: shlex.join(str(v) for v in values)
    return env


_ENV = _environment()


def _directives(
    site: SiteConfig,
    *,
    name: str,
    nodes: int,
    gpus: int,
    log: str,
    exclusive: bool,
    cpus_per_task: int | None = None,
) -> list[str]:
    lines = [f"--job-name={name}", f"--nodes={nodes}", "--ntasks-per-node=1"]
    if gpus:
        lines.append(site.gpu_request.format(gpus=gpus))
    cpus = cpus_per_task if cpus_per_task is not None else site.cpus_per_task
    if cpus:
        lines.append(f"--cpus-per-task={cpus}")
    if site.mem is not None:
        lines.append(f"--mem={site.mem}")
    if exclusive:
        lines.append("--exclusive")
    for option in ("partition", "account", "qos", "time"):
        value = getattr(site, option)
        if value:
            lines.append(f"--{option}={value}")
    lines += [f"--output={log}", f"--error={log}"]
    lines += site.sbatch_options
    for line in lines:
        if "\n" in line or "#" in line:
            raise SlurmConfigError(f"#SBATCH {line!r}: one line without '#' expected")
    return lines


def log_path(site: SiteConfig) -> str:
    """Absolute `%x-%j.log` pattern in the site's log_dir (relative to the current directory)."""
    return str((Path.cwd() / site.log_dir / LOG_NAME).resolve())


def _render(
    template: str,
    kind: str,
    site: SiteConfig,
    options: JobOptions,
    *,
    name: str,
    nodes: int = 1,
    gpus: int = 0,
    exclusive: bool | None = None,
    cpus_per_task: int | None = None,
    description: str,
    **context: Any,
) -> Rendered:
    site = site.replace(
        partition=options.partition, time=options.time, account=options.account, qos=options.qos
    )
    name = options.job_name or name
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.+:@=-]*", name):
        raise SlurmConfigError(
            f"job name {name!r}: letters, digits and _.+:@=- only (it names log files)"
        )
    log = log_path(site)
    directives = _directives(
        site,
        name=name,
        nodes=nodes,
        gpus=gpus,
        log=log,
        exclusive=site.exclusive and gpus > 0 if exclusive is None else exclusive,
        cpus_per_task=cpus_per_task,
    )
    script = _ENV.get_template(template).render(
        kind=kind,
        description=description,
        version=__version__,
        directives=directives,
        workdir=str(Path.cwd()),
        env_lines=environment_lines(site, options.env_setup),
        log_dir=str(Path(log).parent),
        server_timeout=site.server_timeout,
        **context,
    )
    return Rendered(kind=kind, name=name, script=script, log=log)


# --- train ------------------------------------------------------------------------------


def _read_recipe(path: str) -> dict[str, Any]:
    try:
        raw = yaml.safe_load(Path(path).read_text())
    except OSError as exc:
        raise SlurmConfigError(f"--config {path}: cannot read it ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        raise SlurmConfigError(f"--config {path}: not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise SlurmConfigError(f"--config {path}: must be a mapping of field: value")
    return raw


def _override(overrides: list[str], key: str) -> str | None:
    """The last value of `--key value` or `--key=value` in the training overrides."""
    found = None
    for i, word in enumerate(overrides):
        if word == f"--{key}" and i + 1 < len(overrides):
            found = overrides[i + 1]
        elif word.startswith(f"--{key}="):
            found = word.split("=", 1)[1]
    return found


def _truthy(value: Any) -> bool:
    return str(value).lower() in ("1", "true", "yes")


def _accelerate_config_file(name: str) -> str | None:
    if name == "none":
        return None
    if name in ACCELERATE_CONFIGS:
        path = Path("recipes/accelerate_configs") / f"{name}.yaml"
        if not path.is_file():
            raise SlurmConfigError(
                f"--accelerate-config {name}: {path} not found under {Path.cwd()}; submit from "
                "the r1 checkout, or give the YAML's path"
            )
        return str(path.resolve())
    path = Path(name)
    if not path.is_file():
        raise SlurmConfigError(
            f"--accelerate-config {name!r}: not a file; use {', '.join(ACCELERATE_CONFIGS)}, "
            "none, or a path"
        )
    return str(path.resolve())


def render_train(spec: TrainSpec, site: SiteConfig, options: JobOptions | None = None) -> Rendered:
    """open-r1's train.slurm: the last node serves vLLM (GRPO, server mode), the rest train."""
    options = options or JobOptions()
    recipe = _read_recipe(spec.config)
    get = lambda key: _override(spec.overrides, key) or recipe.get(key)  # noqa: E731
    server_mode = _truthy(get("use_vllm")) and str(get("vllm_mode") or "") == "server"
    vllm_nodes = spec.vllm_nodes if spec.vllm_nodes is not None else int(server_mode)
    if vllm_nodes and spec.stage != "grpo":
        raise SlurmConfigError(
            f"--vllm-nodes {vllm_nodes} with --stage {spec.stage}: only GRPO generates with vLLM"
        )
    if vllm_nodes >= spec.nodes:
        raise SlurmConfigError(
            f"the recipe uses a vLLM server (use_vllm, vllm_mode: server), which takes a node "
            f"of its own, and --nodes is {spec.nodes}: use --nodes {vllm_nodes + 1} or more, "
            "or --vllm-nodes 0 with -- --vllm_mode colocate"
        )
    model = get("model_name_or_path")
    if vllm_nodes and not model:
        raise SlurmConfigError(f"--config {spec.config}: model_name_or_path is needed for vLLM")
    gpus = site.gpus_per_node if spec.gpus_per_node is None else spec.gpus_per_node
    train_nodes = spec.nodes - vllm_nodes
    procs_per_node = max(gpus, 1)
    vllm_dp = spec.vllm_dp or max(gpus // spec.vllm_tp, 1)
    if vllm_nodes and gpus and spec.vllm_tp * vllm_dp > gpus:
        raise SlurmConfigError(
            f"--vllm-tp {spec.vllm_tp} x --vllm-dp {vllm_dp} needs {spec.vllm_tp * vllm_dp} "
            f"GPUs; a node has {gpus}"
        )

    accelerate = []
    config_file = _accelerate_config_file(spec.accelerate_config)
    if config_file:
        accelerate += ["--config_file", config_file]
    if not gpus:
        accelerate += ["--cpu", "--mixed_precision", "no"]
    accelerate += [
        "--num_machines", str(train_nodes),
        "--num_processes", str(train_nodes * procs_per_node),
        "--dynamo_backend", "no",
    ]  # fmt: skip
    if train_nodes > 1:
        # Ranks meet at the first node; c10d tolerates nodes that start a little apart.
        accelerate += ["--rdzv_backend", "c10d"]
    trainer = ["-m", "r1_train.cli", spec.stage, "--config", str(Path(spec.config).resolve())]
    trainer += spec.overrides
    if vllm_nodes and not server_mode:
        trainer += ["--use_vllm", "true", "--vllm_mode", "server"]

    vllm = None
    if vllm_nodes:
        vllm = [*shlex.split(site.trl_vllm), "--model", str(model)]
        if get("model_revision"):
            vllm += ["--revision", str(get("model_revision"))]
        vllm += [
            "--tensor_parallel_size", str(spec.vllm_tp),
            "--data_parallel_size", str(vllm_dp),
            "--host", "0.0.0.0",
            "--port", str(spec.vllm_port),
        ]  # fmt: skip
    name = f"r1-train-{spec.stage}-{_short(Path(spec.config).stem)}"
    return _render(
        "train.sbatch.j2",
        "train",
        site,
        options,
        name=name,
        nodes=spec.nodes,
        gpus=gpus,
        description=f"r1-train {spec.stage} --config {spec.config} on {spec.nodes} node(s)",
        train_nodes=train_nodes,
        vllm_nodes=vllm_nodes,
        vllm=vllm,
        vllm_port=spec.vllm_port,
        accelerate=accelerate,
        trainer=trainer,
    )


# --- servers ----------------------------------------------------------------------------


def server_command(
    site: SiteConfig,
    engine: str,
    model: str,
    *,
    host: str,
    port: int,
    tp: int,
    dp: int = 1,
    extra: list[str] | None = None,
) -> list[str]:
    """The argv of an OpenAI-compatible vLLM or SGLang server."""
    if engine == "vllm":
        argv = [*shlex.split(site.vllm), model, "--host", host, "--port", str(port)]
        argv += ["--tensor-parallel-size", str(tp)]
        if dp > 1:
            argv += ["--data-parallel-size", str(dp)]
    else:
        argv = [*shlex.split(site.sglang), "--model-path", model, "--host", host]
        argv += ["--port", str(port), "--tp", str(tp)]
        if dp > 1:
            argv += ["--dp", str(dp)]
    return argv + list(extra or [])


def _short(model: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.+-]", "-", Path(model.rstrip("/")).name)[:60] or "model"


def render_serve(spec: ServeSpec, site: SiteConfig, options: JobOptions | None = None) -> Rendered:
    """A server job that writes its endpoint to `<log_dir>/<name>-<jobid>.endpoint` once healthy."""
    options = options or JobOptions()
    gpus = site.gpus_per_node if spec.gpus_per_node is None else spec.gpus_per_node
    argv = server_command(
        site, spec.engine, spec.model, host=spec.host, port=spec.port, tp=spec.tp or max(gpus, 1),
        extra=spec.extra,
    )  # fmt: skip
    local = "127.0.0.1" if spec.host in ("0.0.0.0", "::") else spec.host
    return _render(
        "serve.sbatch.j2",
        "serve",
        site,
        options,
        name=f"r1-serve-{_short(spec.model)}",
        gpus=gpus,
        description=f"{spec.engine} serving {spec.model} on port {spec.port}",
        server=argv,
        health_url=f"http://{local}:{spec.port}/health",
        public_host="" if spec.host in ("0.0.0.0", "::") else spec.host,
        port=spec.port,
        model=spec.model,
    )


def render_generate(
    spec: GenerateSpec, site: SiteConfig, options: JobOptions | None = None
) -> Rendered:
    """open-r1's generate.slurm: a server on the node, then `r1-data generate` against it."""
    options = options or JobOptions()
    gpus = site.gpus_per_node if spec.gpus_per_node is None else spec.gpus_per_node
    argv = server_command(
        site, spec.engine, spec.model, host="127.0.0.1", port=spec.port, tp=spec.tp or max(gpus, 1)
    )
    client = [
        "r1-data", "generate",
        "--dataset", spec.dataset,
        "--split", spec.split,
        "--prompt-column", spec.prompt_column,
        "--output", str(Path(spec.output).resolve()),
        "--num-generations", str(spec.num_generations),
        "--base-url", f"http://127.0.0.1:{spec.port}/v1",
        "--model", spec.model,
        "--no-progress",
        *spec.extra,
    ]  # fmt: skip
    return _render(
        "generate.sbatch.j2",
        "generate",
        site,
        options,
        name=f"r1-generate-{_short(spec.model)}",
        gpus=gpus,
        description=f"r1-data generate with {spec.model} on {spec.dataset}",
        server=argv,
        health_url=f"http://127.0.0.1:{spec.port}/health",
        client=client,
    )


# --- evaluate ---------------------------------------------------------------------------


def evaluate_parallelism(spec: EvaluateSpec, gpus: int) -> tuple[int, int] | None:
    """(tensor, data) parallel sizes for an explicit `--parallel`; None for `auto`.

    `auto` is r1-eval's to decide, on the node: `r1_eval.vllm_server.choose_parallelism`
    (open-r1's rule) needs the model's size and attention heads and the GPUs SLURM gave the
    job, and one rule in one place cannot drift from the other.
    """
    if spec.parallel == "auto":
        return None
    if gpus <= 1:
        return 1, 1
    return (gpus, 1) if spec.parallel == "tensor" else (1, gpus)


def render_evaluate(
    spec: EvaluateSpec, site: SiteConfig, options: JobOptions | None = None
) -> Rendered:
    """`r1-eval run` as a job: on the job's GPUs (vLLM), or against an endpoint."""
    options = options or JobOptions()
    if spec.gpus_per_node is not None:
        gpus = spec.gpus_per_node
    else:
        gpus = site.gpus_per_node if spec.backend == "vllm" else 0
    output_dir = spec.output_dir or str(Path("evals") / _short(spec.model))
    argv = ["r1-eval", "run", spec.model, "--tasks", spec.tasks, "--backend", spec.backend]
    if spec.base_url:
        argv += ["--base-url", spec.base_url]
    for item in spec.dataset:
        name, _, path = item.partition("=")
        argv += ["--dataset", f"{name}={Path(path).resolve() if Path(path).exists() else path}"]
    if spec.n is not None:
        argv += ["--n", str(spec.n)]
    argv += ["--output-dir", str(Path(output_dir).resolve())]
    sizes = evaluate_parallelism(spec, gpus) if spec.backend == "vllm" else None
    if sizes is not None:
        argv += ["--tensor-parallel-size", str(sizes[0]), "--data-parallel-size", str(sizes[1])]
    argv += spec.extra
    return _render(
        "evaluate.sbatch.j2",
        "evaluate",
        site,
        options,
        name=f"r1-eval-{_short(spec.model)}",
        gpus=gpus,
        description=f"r1-eval {spec.tasks} on {spec.model} ({spec.backend})",
        command=argv,
    )


# --- sandbox workers ----------------------------------------------------------------------


def render_sandbox_workers(
    spec: SandboxWorkersSpec, site: SiteConfig, options: JobOptions | None = None
) -> list[Rendered]:
    """One job per worker, named `piston-worker-<port>`: what `PISTON_ENDPOINTS=slurm` lists."""
    options = options or JobOptions()
    if options.job_name:
        raise SlurmConfigError(
            "--job-name: sandbox workers are named piston-worker-<port>, which is how "
            "PISTON_ENDPOINTS=slurm finds them; choose --base-port instead"
        )
    jobs = []
    for i in range(spec.count):
        port = spec.base_port + i
        argv = ["r1-cp-scoring", "piston-server", "--host", spec.host, "--port", str(port)]
        if spec.concurrency:
            argv += ["--concurrency", str(spec.concurrency)]
        jobs.append(
            _render(
                "sandbox_worker.sbatch.j2",
                "sandbox-worker",
                site,
                options,
                name=f"piston-worker-{port}",
                exclusive=False,
                cpus_per_task=spec.cpus_per_task,
                description=f"a Piston-compatible grader on port {port}",
                command=argv,
                port=port,
            )
        )
    return jobs
