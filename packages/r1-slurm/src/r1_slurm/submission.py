"""Talking to SLURM: sbatch, scontrol, scancel, and a journal of the jobs r1-slurm submitted.

Only the client tools every cluster has are used, and only what works without accounting:
states come from `scontrol show job` (which knows a job until `MinJobAge` after its end),
not from `sacct`, which needs slurmdbd. Each submission is appended to a journal
(`$R1_SLURM_STATE_DIR/jobs.jsonl`, default `~/.local/state/r1-slurm/`) with its kind, name
and log path, so `status`, `logs` and `cancel` work on "my jobs" by default and `logs`
finds a log after SLURM has forgotten the job. The rendered script is kept beside the log
(`<log_dir>/<name>-<jobid>.sbatch`): what ran is what you can read.

Data flow: `render.Rendered` -> `submit` (sbatch --parsable) -> job id (+ journal line)
-> `job_state` / `log_file` / `cancel` for the CLI.
"""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from r1_slurm.errors import SlurmUnavailableError, SubmitError
from r1_slurm.render import Rendered

logger = logging.getLogger(__name__)

STATE_ENV = "R1_SLURM_STATE_DIR"
# What sbatch and friends print when the controller is down or unreachable.
_UNAVAILABLE = re.compile(
    r"Unable to contact slurm controller|Socket timed out|Connection refused|"
    r"Could not establish a configuration source|Zero Bytes were transmitted",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class SubmittedJob:
    """One line of the journal."""

    job_id: str
    kind: str
    name: str
    log: str
    script: str
    submitted_at: float
    workdir: str


def state_dir() -> Path:
    if os.environ.get(STATE_ENV):
        return Path(os.environ[STATE_ENV])
    base = Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state")
    return base / "r1-slurm"


def run_tool(argv: list[str], *, input: str | None = None, timeout: float = 60) -> str:
    """Run a SLURM client tool; its stdout, or the error that says what went wrong."""
    try:
        done = subprocess.run(
            argv, input=input, capture_output=True, text=True, timeout=timeout, check=False
        )
    except FileNotFoundError:
        raise SlurmUnavailableError(
            f"{argv[0]} not found on PATH: run r1-slurm on a machine with the SLURM client "
            "tools (a login node), or use --dry-run to print the script"
        ) from None
    except subprocess.TimeoutExpired:
        raise SlurmUnavailableError(
            f"{argv[0]} did not answer within {timeout:.0f} s: is slurmctld up?"
        ) from None
    if done.returncode != 0:
        message = (done.stderr or done.stdout).strip()
        error = SlurmUnavailableError if _UNAVAILABLE.search(message) else SubmitError
        raise error(f"{' '.join(argv[:2])}: {message or f'exit status {done.returncode}'}")
    return done.stdout


def submit(rendered: Rendered, *, extra_args: list[str] | None = None) -> SubmittedJob:
    """sbatch the script; keep it beside its log and record the job in the journal."""
    log_dir = Path(rendered.log).parent
    log_dir.mkdir(parents=True, exist_ok=True)  # SLURM does not create it; a job would die
    # The script goes on stdin: SLURM keeps its own copy (a requeued job reruns that one),
    # and the copy a person reads is written beside the log once the job id is known.
    out = run_tool(["sbatch", "--parsable", *(extra_args or [])], input=rendered.script)
    job_id = out.strip().split(";")[0]
    if not job_id.isdigit():
        raise SubmitError(f"sbatch answered {out.strip()!r}, not a job id")
    script = log_dir / f"{rendered.name}-{job_id}.sbatch"
    script.write_text(rendered.script)
    job = SubmittedJob(
        job_id=job_id,
        kind=rendered.kind,
        name=rendered.name,
        log=rendered.log.replace("%x", rendered.name).replace("%j", job_id),
        script=str(script),
        submitted_at=time.time(),
        workdir=str(Path.cwd()),
    )
    journal = state_dir() / "jobs.jsonl"
    journal.parent.mkdir(parents=True, exist_ok=True)
    with journal.open("a") as f:
        f.write(json.dumps(asdict(job)) + "\n")
    logger.info("submitted %s as job %s (log %s)", rendered.name, job_id, job.log)
    return job


def journal(*, workdir_only: bool = False) -> list[SubmittedJob]:
    """Every job r1-slurm recorded, oldest first."""
    path = state_dir() / "jobs.jsonl"
    if not path.is_file():
        return []
    jobs = []
    for line in path.read_text().splitlines():
        try:
            jobs.append(SubmittedJob(**json.loads(line)))
        except (ValueError, TypeError):
            continue  # a torn line from a crash mid-write: skip it, keep the others
    if workdir_only:
        jobs = [j for j in jobs if j.workdir == str(Path.cwd())]
    return jobs


def find_job(job_id: str) -> SubmittedJob | None:
    return next((j for j in reversed(journal()) if j.job_id == job_id), None)


def job_state(job_id: str) -> dict[str, str]:
    """`scontrol show job` as a dict (JobState, NodeList, RunTime, Restarts, ExitCode, ...).

    Empty when SLURM no longer knows the job (it ended more than MinJobAge ago).
    """
    try:
        out = run_tool(["scontrol", "show", "job", "-o", job_id])
    except SubmitError as exc:
        if "Invalid job id" in str(exc):
            return {}
        raise
    return dict(re.findall(r"(\w+)=(\S*)", out.splitlines()[0] if out.strip() else ""))


def wait_for(
    job_id: str,
    states: tuple[str, ...] = ("COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL"),
    *,
    timeout: float = 600,
    poll: float = 1.0,
) -> dict[str, str]:
    """Poll until the job is in one of `states`; its last `scontrol` record."""
    deadline = time.monotonic() + timeout
    while True:
        info = job_state(job_id)
        if info.get("JobState") in states:
            return info
        if time.monotonic() > deadline:
            raise TimeoutError(
                f"job {job_id} still {info.get('JobState', 'unknown')} after {timeout:.0f} s"
            )
        time.sleep(poll)


def log_file(job_id: str) -> Path | None:
    """Where the job's log is: the journal's record, else what scontrol says (StdOut)."""
    job = find_job(job_id)
    if job is not None:
        return Path(job.log)
    info = job_state(job_id)
    return Path(info["StdOut"]) if info.get("StdOut") else None


def cancel(job_ids: list[str]) -> None:
    run_tool(["scancel", *job_ids])
