"""Trainer callbacks of open-r1: push each checkpoint to a Hub branch, benchmark each one.

A long SFT or GRPO run is judged by its benchmark curve, not its loss. open-r1 pushes every
saved checkpoint to its own Hub branch (`<hub_model_revision>-step-000000050`) and, once the
upload is done, submits evaluation jobs for it on Slurm. Here the push and the evaluation
are two callbacks, and "submit evaluation jobs" is a pluggable launcher looked up by name:
`log` (the default: says what it would run), `r1-eval` (runs `r1-eval run` on the
checkpoint in a background process), `subprocess` (a command template of yours, `r1-eval
run` when none is set), and whatever other packages register under the entry-point group
`r1_train.benchmark_launchers` (r1-slurm registers `slurm`), found without r1-train
importing them. The trainer never waits: the push runs in huggingface_hub's background
thread, the launcher is called from that thread when the upload finishes, and r1-eval runs
as its own process (it is never imported here: lighteval takes 20-50 s to import).

The launcher is chosen by `R1_BENCHMARK_LAUNCHER` (default `log`); the `subprocess`
launcher's template by `R1_BENCHMARK_COMMAND`, e.g.
`r1-eval run {local_path} --tasks {benchmarks} --output-dir evals/{step}`; extra flags of
the `r1-eval` launcher by `R1_EVAL_ARGS` (e.g. `--n 4 --backend vllm`). Environment
variables, because a launcher is a property of the cluster the run is on, not of the recipe.

Data flow: Trainer.on_save (main process) -> `checkpoint-<step>` in output_dir -> (push to
Hub branch) -> `BenchmarkJob` -> launcher -> evaluation jobs outside the training process.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import shlex
import subprocess
import sys
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from transformers import TrainerCallback, TrainerControl, TrainerState, TrainingArguments

logger = logging.getLogger(__name__)

__all__ = [
    "CALLBACKS",
    "BenchmarkJob",
    "BenchmarkOnSaveCallback",
    "PushToHubRevisionCallback",
    "get_benchmark_launcher",
    "get_callbacks",
    "make_r1_eval_launcher",
    "make_subprocess_launcher",
    "r1_eval_command",
    "register_benchmark_launcher",
]

LAUNCHER_ENV = "R1_BENCHMARK_LAUNCHER"
COMMAND_ENV = "R1_BENCHMARK_COMMAND"
EVAL_ARGS_ENV = "R1_EVAL_ARGS"
# Packages add launchers here (pyproject: [project.entry-points."r1_train.benchmark_launchers"]
# slurm = "r1_slurm.launcher:launch"); each is a callable taking a `BenchmarkJob`.
ENTRY_POINT_GROUP = "r1_train.benchmark_launchers"


@dataclass(frozen=True)
class BenchmarkJob:
    """One checkpoint to evaluate, as handed to a launcher.

    Attributes:
        checkpoint: what an evaluator loads: the local `checkpoint-<step>` folder, or
            `repo_id@revision` once it has been pushed to the Hub.
        local_path: the `checkpoint-<step>` folder on this machine.
        benchmarks: names from `training_args.benchmarks` (e.g. `lcb_v4`, `aime24`).
        step: the trainer's global step.
        hub_model_id, hub_revision: set when the checkpoint was pushed.
        system_prompt: the prompt the model was trained with, for chat benchmarks.
        model_config: TRL's `ModelConfig` of the run (dtype, attention...).
    """

    checkpoint: str
    local_path: str
    benchmarks: list[str]
    step: int
    hub_model_id: str | None = None
    hub_revision: str | None = None
    system_prompt: str | None = None
    model_config: Any = field(default=None, compare=False, repr=False)


BenchmarkLauncher = Callable[[BenchmarkJob], Any]

_LAUNCHERS: dict[str, BenchmarkLauncher] = {}
_LAUNCHERS_LOCK = threading.Lock()


def register_benchmark_launcher(name: str, fn: BenchmarkLauncher) -> None:
    """Make `fn` the launcher called `name`; a later registration of the same name wins."""
    if not name or not callable(fn):
        raise ValueError(
            f"register_benchmark_launcher({name!r}, {fn!r}): need a name and a callable"
        )
    with _LAUNCHERS_LOCK:
        _LAUNCHERS[name] = fn


def _entry_points() -> dict[str, Any]:
    from importlib.metadata import entry_points

    return {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}


def get_benchmark_launcher(name: str | None = None) -> BenchmarkLauncher:
    """The launcher called `name`, else the one named by `R1_BENCHMARK_LAUNCHER`, else `log`.

    Registered launchers come first, then those of installed packages' entry points
    (group `r1_train.benchmark_launchers`), loaded on first use and registered.
    """
    name = name or os.environ.get(LAUNCHER_ENV) or "log"
    with _LAUNCHERS_LOCK:
        launcher = _LAUNCHERS.get(name)
    if launcher is not None:
        return launcher
    discovered = _entry_points()
    if name in discovered:
        try:
            launcher = discovered[name].load()
        except Exception as error:
            raise ValueError(
                f"benchmark launcher {name!r} (entry point {discovered[name].value}) "
                f"failed to load: {type(error).__name__}: {error}"
            ) from error
        if not callable(launcher):
            raise ValueError(
                f"benchmark launcher {name!r} (entry point {discovered[name].value}) is not "
                "callable; it must take a BenchmarkJob"
            )
        register_benchmark_launcher(name, launcher)
        return launcher
    with _LAUNCHERS_LOCK:
        valid = ", ".join(sorted(set(_LAUNCHERS) | set(discovered)))
    raise ValueError(
        f"benchmark launcher {name!r} is not registered; valid: {valid} "
        f"(set {LAUNCHER_ENV}, register one with register_benchmark_launcher, or install a "
        f"package with an {ENTRY_POINT_GROUP!r} entry point)"
    )


def _log_launcher(job: BenchmarkJob) -> None:
    # The default does nothing but say what would run: a laptop run must not submit jobs.
    logger.info(
        "Would benchmark %s (step %d) on %s; register a launcher (%s=subprocess|slurm) to run it",
        job.checkpoint,
        job.step,
        ", ".join(job.benchmarks) or "no benchmarks",
        LAUNCHER_ENV,
    )


def make_subprocess_launcher(template: str) -> BenchmarkLauncher:
    """A launcher that starts `template` as a process per checkpoint (not waited for).

    The template is split like a shell line (no shell runs it) and `{checkpoint}`,
    `{benchmarks}` (comma-separated), `{step}` and `{local_path}` are filled in each word.
    The launcher returns the `subprocess.Popen`.
    """
    argv_template = shlex.split(template)
    if not argv_template:
        raise ValueError(f"{COMMAND_ENV}={template!r}: empty command template")

    def launch(job: BenchmarkJob) -> subprocess.Popen[bytes]:
        values = {
            "checkpoint": job.checkpoint,
            "benchmarks": ",".join(job.benchmarks),
            "step": job.step,
            "local_path": job.local_path,
        }
        try:
            argv = [word.format(**values) for word in argv_template]
        except (KeyError, IndexError) as error:
            raise ValueError(
                f"{COMMAND_ENV}={template!r}: unknown placeholder {error}; "
                "use {checkpoint}, {benchmarks}, {step}, {local_path}"
            ) from None
        logger.info("Starting benchmark of step %d: %s", job.step, shlex.join(argv))
        return subprocess.Popen(argv)

    return launch


def _eval_output_dir(job: BenchmarkJob) -> str:
    # Beside the checkpoints: <output_dir>/evals/checkpoint-<step>, one run per checkpoint,
    # so that `r1-eval compare <output_dir>/evals/*` draws the run's benchmark curve.
    return str(Path(job.local_path).parent / "evals" / f"checkpoint-{job.step}")


def r1_eval_command(job: BenchmarkJob, extra_args: str | None = None) -> list[str]:
    """The `r1-eval run` command line for `job` (its local checkpoint, its benchmarks).

    `extra_args` (default `$R1_EVAL_ARGS`) are appended as shell words, e.g. `--n 4` or
    `--dataset math_500=data/math.jsonl`. r1-eval runs under this interpreter, so the
    training environment's r1-eval is the one that runs.
    """
    argv = [
        sys.executable,
        "-m",
        "r1_eval.cli",
        "run",
        job.local_path,
        "--tasks",
        ",".join(job.benchmarks),
        "--output-dir",
        _eval_output_dir(job),
    ]
    if job.system_prompt:
        argv += ["--system-prompt", job.system_prompt]
    extra = os.environ.get(EVAL_ARGS_ENV, "") if extra_args is None else extra_args
    return argv + shlex.split(extra)


def make_r1_eval_launcher(extra_args: str | None = None) -> BenchmarkLauncher:
    """A launcher that starts `r1-eval run` on each checkpoint (not waited for).

    The process's output goes to `<output_dir>/evals/checkpoint-<step>/r1-eval.log`; the
    launcher returns the `subprocess.Popen`. r1-eval is an optional companion package:
    without it the launch fails with the install command (and the training goes on).
    """

    def launch(job: BenchmarkJob) -> subprocess.Popen[bytes]:
        if importlib.util.find_spec("r1_eval") is None:
            raise RuntimeError(
                "the r1-eval benchmark launcher needs r1-eval in the training environment: "
                "pip install r1-eval"
            )
        argv = r1_eval_command(job, extra_args)
        log_dir = Path(_eval_output_dir(job))
        log_dir.mkdir(parents=True, exist_ok=True)
        logger.info("Starting r1-eval on step %d: %s", job.step, shlex.join(argv))
        with (log_dir / "r1-eval.log").open("ab") as log:
            return subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)

    return launch


def _r1_eval_launcher(job: BenchmarkJob) -> subprocess.Popen[bytes]:
    return make_r1_eval_launcher()(job)


def _subprocess_launcher(job: BenchmarkJob) -> subprocess.Popen[bytes]:
    template = os.environ.get(COMMAND_ENV)
    if not template:
        # Out of the box the subprocess launcher runs r1-eval on the local checkpoint.
        return _r1_eval_launcher(job)
    return make_subprocess_launcher(template)(job)


register_benchmark_launcher("log", _log_launcher)
register_benchmark_launcher("r1-eval", _r1_eval_launcher)
register_benchmark_launcher("subprocess", _subprocess_launcher)


def _launch(launcher: BenchmarkLauncher, job: BenchmarkJob) -> Any:
    # Runs in huggingface_hub's upload thread or in on_save: an exception here would be lost
    # (thread) or kill a healthy training run (on_save). Log it and go on.
    try:
        return launcher(job)
    except Exception:
        logger.exception("Benchmark launcher failed for %s", job.checkpoint)
        return None


class BenchmarkOnSaveCallback(TrainerCallback):
    """Hand every checkpoint saved on the main process, with `benchmarks`, to a launcher."""

    def __init__(self, model_config: Any = None, launcher: BenchmarkLauncher | str | None = None):
        self.model_config = model_config
        self._launcher = launcher
        self.launched: list[Any] = []  # what each launch returned (a Popen, a job id, ...)

    def _resolve(self) -> BenchmarkLauncher:
        if callable(self._launcher):
            return self._launcher
        return get_benchmark_launcher(self._launcher)

    def on_save(
        self,
        args: TrainingArguments,
        state: TrainerState,
        control: TrainerControl,
        **kwargs: Any,
    ) -> None:
        if not state.is_world_process_zero:
            return
        benchmarks = list(getattr(args, "benchmarks", None) or [])
        if not benchmarks:
            return
        path = str(Path(str(args.output_dir)) / f"checkpoint-{state.global_step}")
        job = BenchmarkJob(
            checkpoint=path,
            local_path=path,
            benchmarks=benchmarks,
            step=state.global_step,
            system_prompt=getattr(args, "system_prompt", None),
            model_config=self.model_config,
        )
        self.launched.append(_launch(self._resolve(), job))


class PushToHubRevisionCallback(TrainerCallback):
    """Push each checkpoint to branch `<hub_model_revision>-step-<step:09d>`, then benchmark it.

    Optimiser and scheduler states (`*.pt`) stay local: they double the upload and nobody
    evaluates them. When the upload finishes, the pushed revision and `benchmarks` go to
    the launcher (none when `benchmarks` is empty).
    """

    def __init__(self, model_config: Any = None, launcher: BenchmarkLauncher | str | None = None):
        self.model_config = model_config
        self._launcher = launcher
        self.futures: list[Future[Any]] = []

    def on_save(
        self,
        args: TrainingArguments,
        state: TrainerState,
        control: TrainerControl,
        **kwargs: Any,
    ) -> None:
        if not state.is_world_process_zero:
            return
        from r1_train.hub import push_to_hub_revision

        step = state.global_step
        local_path = str(Path(str(args.output_dir)) / f"checkpoint-{step}")
        # A plain namespace, not dataclasses.replace(args) or a new config: both re-run
        # TrainingArguments.__post_init__, which re-initialises the distributed state in
        # the middle of a multi-process run.
        base_revision = getattr(args, "hub_model_revision", None) or "main"
        target: Any = SimpleNamespace(
            hub_model_id=args.hub_model_id,
            hub_model_revision=f"{base_revision}-step-{step:09d}",
            output_dir=local_path,
            overwrite_hub_revision=getattr(args, "overwrite_hub_revision", False),
        )
        future = push_to_hub_revision(target, extra_ignore_patterns=["*.pt"])
        self.futures.append(future)

        benchmarks = list(getattr(args, "benchmarks", None) or [])
        if not benchmarks:
            return
        launcher = (
            self._launcher if callable(self._launcher) else get_benchmark_launcher(self._launcher)
        )
        job = BenchmarkJob(
            checkpoint=f"{target.hub_model_id}@{target.hub_model_revision}",
            local_path=local_path,
            benchmarks=benchmarks,
            step=step,
            hub_model_id=target.hub_model_id,
            hub_revision=target.hub_model_revision,
            system_prompt=getattr(args, "system_prompt", None),
            model_config=self.model_config,
        )

        def after_push(done: Future[Any]) -> None:
            if done.exception() is not None:
                logger.error("Not benchmarking step %d: its push failed", step)
                return
            _launch(launcher, job)

        future.add_done_callback(after_push)


CALLBACKS: dict[str, Callable[..., TrainerCallback]] = {
    "push_to_hub_revision": PushToHubRevisionCallback,
    "benchmark_on_save": BenchmarkOnSaveCallback,
}


def get_callbacks(train_config: Any, model_config: Any) -> list[TrainerCallback]:
    """The callbacks named in `train_config.callbacks`, built with the run's model config."""
    callbacks = []
    for name in getattr(train_config, "callbacks", None) or []:
        if name not in CALLBACKS:
            raise ValueError(
                f"callbacks: {name!r} is not a callback; valid: {', '.join(CALLBACKS)}"
            )
        callbacks.append(CALLBACKS[name](model_config))
    return callbacks
