"""r1-slurm: the DeepSeek-R1 recipe on any SLURM cluster.

`r1-slurm submit train|generate|evaluate|serve|sandbox-workers` renders an sbatch script
from a template (open-r1's slurm/ files with the cluster taken out: partition, modules,
environment and GPU syntax come from `r1-slurm.toml` or flags) and submits it; `status`,
`logs` and `cancel` follow the jobs it submitted. The same renderers are a Python API.

Data flow: flags / site file -> specs -> `render_*` -> sbatch script -> `submit` -> job id.
"""

__version__ = "0.1.0"

from r1_slurm.errors import SlurmConfigError, SlurmError, SlurmUnavailableError, SubmitError
from r1_slurm.render import (
    Rendered,
    render_evaluate,
    render_generate,
    render_sandbox_workers,
    render_serve,
    render_train,
)
from r1_slurm.site import SiteConfig, load_site
from r1_slurm.specs import (
    EvaluateSpec,
    GenerateSpec,
    JobOptions,
    SandboxWorkersSpec,
    ServeSpec,
    TrainSpec,
)
from r1_slurm.submission import SubmittedJob, cancel, job_state, submit, wait_for

__all__ = [
    "__version__",
    # what a job needs
    "EvaluateSpec",
    "GenerateSpec",
    "JobOptions",
    "SandboxWorkersSpec",
    "ServeSpec",
    "TrainSpec",
    # the cluster's conventions
    "SiteConfig",
    "load_site",
    # scripts
    "Rendered",
    "render_evaluate",
    "render_generate",
    "render_sandbox_workers",
    "render_serve",
    "render_train",
    # SLURM
    "SubmittedJob",
    "cancel",
    "job_state",
    "submit",
    "wait_for",
    # errors
    "SlurmConfigError",
    "SlurmError",
    "SlurmUnavailableError",
    "SubmitError",
]
