"""The site file `r1-slurm.toml`: everything that differs from one cluster to the next.

open-r1's scripts hard-code one cluster (`--gres=gpu:8`, partition `hopper-prod`,
`module load cuda/12.4`, a venv at `openr1/bin/activate`). Here those are fields of one
dataclass, read from an optional TOML file and overridden by flags, so the templates hold
no cluster at all. The file is found at `--site FILE`, else `$R1_SLURM_SITE`, else
`./r1-slurm.toml`; without one, the defaults suit a cluster with `--gres` GPUs and the
job runs in the Python environment `r1-slurm` itself runs in.

The TOML groups fields in four tables, `[slurm]`, `[environment]`, `[paths]` and
`[commands]`; an unknown table or key is an error listing the valid ones (a misspelt
`partiton` would otherwise submit to the default partition and nobody would notice).

Data flow: r1-slurm.toml + flags -> `SiteConfig` -> `environment_lines` and the sbatch
header of every rendered script.
"""

from __future__ import annotations

import dataclasses
import os
import re
import shlex
import shutil
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from r1_slurm.errors import SlurmConfigError

SITE_ENV = "R1_SLURM_SITE"
SITE_FILE = "r1-slurm.toml"


def _f(section: str, help: str, default: Any = None) -> Any:
    metadata = {"section": section, "help": help}
    return field(default=default, metadata=metadata)


@dataclass
class SiteConfig:
    """One cluster's conventions. Every field has a default; see `examples/r1-slurm.toml`."""

    # [slurm]: the request.
    partition: str | None = _f("slurm", "partition (-p); none: the cluster's default")
    account: str | None = _f("slurm", "account (-A) charged for the jobs")
    qos: str | None = _f("slurm", "quality of service (--qos)")
    time: str | None = _f("slurm", "time limit, e.g. 2-00:00:00; none: the partition's")
    gpus_per_node: int = _f("slurm", "GPUs on a node, used by training and servers", 8)
    gpu_request: str = _f(
        "slurm",
        "the #SBATCH option that asks for {gpus} GPUs per node, e.g. --gpus-per-node={gpus} "
        "or --gres=gpu:h100:{gpus}",
        "--gres=gpu:{gpus}",
    )
    cpus_per_task: int | None = _f("slurm", "CPUs per task (one task per node)")
    mem: str | None = _f("slurm", "memory per node, e.g. 0 (all) or 512G")
    exclusive: bool = _f("slurm", "ask for whole nodes for GPU jobs (--exclusive)", True)
    sbatch_options: list[str] = field(
        default_factory=list,
        metadata={
            "section": "slurm",
            "help": "further #SBATCH options, e.g. ['--constraint=h100', '--reservation=r1']",
        },
    )
    # [environment]: what runs before the commands.
    modules: list[str] = field(
        default_factory=list,
        metadata={"section": "environment", "help": "modules loaded first (`module load ...`)"},
    )
    setup: list[str] = field(
        default_factory=list,
        metadata={
            "section": "environment",
            "help": "shell lines run after the modules, before activation",
        },
    )
    activate: str = _f(
        "environment",
        "the Python environment of the job: auto (the one r1-slurm runs in: its virtualenv, "
        "else `uv run` in the current project), uv, none, or a virtualenv path",
        "auto",
    )
    env: dict[str, str] = field(
        default_factory=dict,
        metadata={"section": "environment", "help": "variables exported in every job"},
    )
    # [paths]
    log_dir: str = _f(
        "paths",
        "where job logs (%x-%j.log) and the submitted scripts go; relative to the directory "
        "of submission",
        "logs/slurm",
    )
    hf_home: str | None = _f("paths", "HF_HOME of the jobs (the Hugging Face cache)")
    cache_dir: str | None = _f(
        "paths",
        "one shared cache root: XDG_CACHE_HOME, TRITON_CACHE_DIR and VLLM_CACHE_ROOT go under it",
    )
    # [commands]: how servers start, for sites that wrap them.
    vllm: str = _f("commands", "the vLLM OpenAI server, called as `<vllm> MODEL ...`", "vllm serve")
    sglang: str = _f(
        "commands",
        "the SGLang server, called as `<sglang> --model-path MODEL ...`",
        "python -m sglang.launch_server",
    )
    trl_vllm: str = _f("commands", "TRL's weight-syncing vLLM server for GRPO", "trl vllm-serve")
    server_timeout: int = _f(
        "commands", "seconds a server may take to answer its health check", 1800
    )

    def __post_init__(self) -> None:
        if self.gpus_per_node < 0:
            raise SlurmConfigError(f"gpus_per_node={self.gpus_per_node}: must be >= 0")
        if "{gpus}" not in self.gpu_request:
            raise SlurmConfigError(
                f"gpu_request={self.gpu_request!r}: must contain {{gpus}}, "
                "e.g. --gres=gpu:{gpus} or --gpus-per-node={gpus}"
            )
        if self.server_timeout < 1:
            raise SlurmConfigError(f"server_timeout={self.server_timeout}: must be >= 1 s")
        activate_ok = self.activate in ("auto", "uv", "none") or self.activate.startswith(
            ("/", "~", ".")
        )
        if not activate_ok:
            raise SlurmConfigError(
                f"activate={self.activate!r}: use auto, uv, none or a virtualenv path "
                "(absolute, ~ or ./relative)"
            )
        for name in ("partition", "account", "qos", "time", "mem", "gpu_request"):
            _check_directive(name, getattr(self, name))
        for option in self.sbatch_options:
            _check_directive("sbatch_options", option)
        for key in self.env:
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key):
                raise SlurmConfigError(f"env: {key!r} is not a shell variable name")

    def replace(self, **overrides: Any) -> SiteConfig:
        """A copy with the flags that were given (None means: keep the site's value)."""
        given = {k: v for k, v in overrides.items() if v is not None}
        return dataclasses.replace(self, **given)


def _check_directive(name: str, value: str | None) -> None:
    # sbatch reads `#SBATCH` lines itself, one per line, with no shell quoting.
    if value is not None and (not str(value).strip() or re.search(r"[\n\r#]", str(value))):
        raise SlurmConfigError(
            f"{name}={value!r}: an #SBATCH value must be one non-empty line without '#'"
        )


def site_fields() -> dict[str, dataclasses.Field[Any]]:
    return {f.name: f for f in dataclasses.fields(SiteConfig)}


def find_site_file(explicit: str | os.PathLike[str] | None = None) -> Path | None:
    """`explicit`, else `$R1_SLURM_SITE`, else `./r1-slurm.toml` when it exists."""
    if explicit:
        return Path(explicit)
    if os.environ.get(SITE_ENV):
        return Path(os.environ[SITE_ENV])
    local = Path(SITE_FILE)
    return local if local.is_file() else None


def load_site(path: str | os.PathLike[str] | None = None) -> SiteConfig:
    """Read the site file (see `find_site_file`); the defaults when there is none."""
    found = find_site_file(path)
    if found is None:
        return SiteConfig()
    try:
        raw = tomllib.loads(found.read_text())
    except OSError as exc:
        raise SlurmConfigError(f"site file {found}: cannot read it ({exc.strerror})") from None
    except tomllib.TOMLDecodeError as exc:
        raise SlurmConfigError(f"site file {found}: not valid TOML: {exc}") from None
    fields = site_fields()
    sections = sorted({f.metadata["section"] for f in fields.values()})
    values: dict[str, Any] = {}
    for section, table in raw.items():
        if section not in sections or not isinstance(table, dict):
            raise SlurmConfigError(
                f"site file {found}: unknown table [{section}]; valid: "
                + ", ".join(f"[{s}]" for s in sections)
            )
        for key, value in table.items():
            known = fields.get(key)
            if known is None or known.metadata["section"] != section:
                valid = [n for n, f in fields.items() if f.metadata["section"] == section]
                raise SlurmConfigError(
                    f"site file {found}: unknown key {key!r} in [{section}]; valid: "
                    + ", ".join(valid)
                )
            values[key] = value
    try:
        return SiteConfig(**values)
    except TypeError as exc:
        raise SlurmConfigError(f"site file {found}: {exc}") from None


def environment_lines(site: SiteConfig, env_setup: str | None = None) -> list[str]:
    """Shell lines that put a job in the environment it was submitted from.

    Order: modules, the site's setup lines, `--env-setup FILE` (sourced), the Python
    environment, then the exported variables and caches.
    """
    lines = [f"module load {shlex.join(site.modules)}"] if site.modules else []
    lines += site.setup
    if env_setup:
        lines.append(f"source {shlex.quote(str(Path(env_setup).expanduser().resolve()))}")
    lines += _activation(site.activate)
    exports = dict(site.env)
    if site.hf_home:
        exports.setdefault("HF_HOME", site.hf_home)
    if site.cache_dir:
        root = site.cache_dir.rstrip("/")
        exports.setdefault("XDG_CACHE_HOME", root)
        exports.setdefault("TRITON_CACHE_DIR", f"{root}/triton")
        exports.setdefault("VLLM_CACHE_ROOT", f"{root}/vllm")
    lines += [f"export {key}={shlex.quote(str(value))}" for key, value in exports.items()]
    return lines


def _venv_lines(venv: str) -> list[str]:
    # Not `source bin/activate`: these two lines are all it does that matters, and they
    # work under `set -u` and with any shell's activate script missing.
    return [
        f"export VIRTUAL_ENV={shlex.quote(venv)}",
        'export PATH="$VIRTUAL_ENV/bin:$PATH"',
        "unset PYTHONHOME",
    ]


def _activation(activate: str) -> list[str]:
    if activate == "none":
        return []
    if activate == "auto":
        if sys.prefix != sys.base_prefix:
            return _venv_lines(sys.prefix)
        if os.environ.get("VIRTUAL_ENV"):
            return _venv_lines(os.environ["VIRTUAL_ENV"])
        if shutil.which("uv"):
            activate = "uv"
        else:
            return []
    if activate == "uv":
        # `uv run` once, at the start: every srun step then inherits one resolved PATH,
        # instead of each node syncing the project at the same time.
        project = shlex.quote(str(Path.cwd()))
        return [
            f"R1_PYTHON_BIN=$(uv run --frozen --project {project} python -c "
            "'import os, sys; print(os.path.dirname(sys.executable))')",
            'export PATH="$R1_PYTHON_BIN:$PATH"',
        ]
    return _venv_lines(str(Path(activate).expanduser().resolve()))
