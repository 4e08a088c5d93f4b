"""The `slurm` benchmark launcher of r1-train's callbacks: one evaluation job per checkpoint.

open-r1 benchmarks every pushed checkpoint by submitting evaluation jobs from inside the
training run. r1-train's `BenchmarkOnSaveCallback` and `PushToHubRevisionCallback` hand a
`BenchmarkJob` to a launcher found by name (`R1_BENCHMARK_LAUNCHER=slurm`); this module is
that launcher, registered through the entry point group `r1_train.benchmark_launchers`,
so r1-train never imports r1-slurm and r1-slurm never imports r1-train (the job is read
by attribute: `checkpoint`, `local_path`, `benchmarks`, `step`).

The evaluation job is `r1-slurm submit evaluate` with the run's site file
(`R1_SLURM_SITE`, else `./r1-slurm.toml`), and three environment variables, since a
launcher is a property of the cluster, not of the recipe: `R1_SLURM_EVAL_BACKEND`
(vllm, the default; or endpoint / transformers), `R1_SLURM_EVAL_BASE_URL` (for endpoint)
and `R1_SLURM_EVAL_ARGS` (further `r1-eval run` flags, split like a shell line).

Data flow: Trainer.on_save -> BenchmarkJob -> `launch` -> EvaluateSpec -> sbatch ->
job id (kept by the callback in `launched`) -> `<run>/evals/checkpoint-<step>/`.
"""

from __future__ import annotations

import logging
import os
import shlex
from pathlib import Path
from typing import Any

from r1_slurm.render import render_evaluate
from r1_slurm.site import load_site
from r1_slurm.specs import EvaluateSpec, JobOptions
from r1_slurm.submission import submit

logger = logging.getLogger(__name__)

# open-r1's benchmark names (training_args.benchmarks) -> r1-eval's task names.
BENCHMARK_TASKS = {
    "aime24": "aime24",
    "aime25": "aime25",
    "math_500": "math_500",
    "gpqa": "gpqa:diamond",
    "lcb": "lcb:codegeneration",
    "lcb_v4": "lcb:codegeneration_v4",
}


def evaluate_spec(job: Any) -> EvaluateSpec:
    """The evaluation of one `BenchmarkJob` (duck-typed) as an `EvaluateSpec`."""
    local = Path(job.local_path)
    # A checkpoint on a shared file system is read in place; otherwise the pushed revision.
    model = str(local.resolve()) if local.is_dir() else job.checkpoint
    tasks = ",".join(BENCHMARK_TASKS.get(str(b), str(b)) for b in job.benchmarks)
    backend = os.environ.get("R1_SLURM_EVAL_BACKEND", "vllm")
    return EvaluateSpec(
        model=model,
        tasks=tasks,
        backend=backend,  # type: ignore[arg-type]  # validated by EvaluateSpec
        base_url=os.environ.get("R1_SLURM_EVAL_BASE_URL"),
        output_dir=str(local.parent / "evals" / f"checkpoint-{job.step}"),
        extra=shlex.split(os.environ.get("R1_SLURM_EVAL_ARGS", "")),
    )


def launch(job: Any) -> str:
    """Submit the evaluation job of a checkpoint; its SLURM job id."""
    spec = evaluate_spec(job)
    stem = Path(job.local_path).parent.name or "run"
    options = JobOptions(job_name=f"r1-eval-{stem}-step-{job.step}")
    submitted = submit(render_evaluate(spec, load_site(), options))
    logger.info(
        "Benchmarking step %d (%s) in SLURM job %s, log %s",
        job.step,
        spec.tasks,
        submitted.job_id,
        submitted.log,
    )
    return submitted.job_id
