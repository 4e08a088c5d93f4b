"""Running a job through a hosted VM's shell: the part E2B and MorphCloud have in common.

Both services give a fresh Linux VM with a "run this shell command" call, and neither can
feed stdin to a program or bound its memory by itself. So a job becomes two shell
commands: one that writes the files (base64, so any bytes survive quoting) and compiles,
one that runs the program under `ulimit -v` and `timeout -s KILL` with stdin from a file
and its output to files, then prints at most `output_limit` bytes of each and a last
status line on stderr. The verdict is read from that line, as the local backend reads it
from `wait4`.

Data flow: `Job` -> setup command (files, compile) -> run command -> (exit code, stdout,
stderr, marker) -> `RunResult`. `run_inputs` of source code (and so `run_batch` for jobs
sharing a compiled program) uses one VM: set up and compile once, then one run command
per input; of a built `Artifact`, the base class's batch runner (binary shipped as text).
The subclass supplies `_open`, `_exec` and `_close`.
"""

from __future__ import annotations

import abc
import base64
import re
import shlex
import time
from collections.abc import Mapping, Sequence
from typing import Any

from r1_sandbox.base import Sandbox
from r1_sandbox.languages import Language, get_language
from r1_sandbox.result import (
    DEFAULT_OUTPUT_LIMIT,
    Job,
    RunResult,
    Status,
)

_WORKDIR = "/tmp/r1-job"
_MARKER = "__R1_STATUS__"
_MARKER_RE = re.compile(rf"\n?{_MARKER} rc=(-?\d+) out=(\d+) ms=(\d+)\n?$")
_MEMORY_MARKERS = ("MemoryError", "std::bad_alloc", "Cannot allocate memory")


def setup_command(job: Job, lang: Language) -> str:
    """Shell command writing the job's files and stdin, then compiling if needed."""
    files: dict[str, str | bytes] = {**job.files, lang.source: job.code, ".stdin": job.stdin}
    parts = [f"rm -rf {_WORKDIR} && mkdir -p {_WORKDIR} && cd {_WORKDIR}"]
    for name, content in files.items():
        data = content.encode() if isinstance(content, str) else content
        b64 = base64.b64encode(data).decode()
        quoted = shlex.quote(name)
        parts.append(f'mkdir -p "$(dirname {quoted})" && echo {b64} | base64 -d > {quoted}')
    if lang.compile:
        parts.append(" ".join(shlex.quote(a) for a in lang.compile))
    return " && ".join(parts)


def run_command(job: Job, lang: Language, output_limit: int, *, write_stdin: bool = False) -> str:
    """Shell command running the program with its limits, output capped, status last.

    `write_stdin`: first replace `.stdin` with this job's (later inputs of one program).
    """
    program = " ".join(shlex.quote(a) for a in lang.run)
    stdin = base64.b64encode(job.stdin.encode()).decode()
    refill = f"echo {stdin} | base64 -d > .stdin && " if write_stdin else ""
    kb = job.memory_mb * 1024
    secs = f"{job.timeout:g}"
    return (
        f"cd {_WORKDIR} && {refill}start=$(date +%s%N); "
        f"( ulimit -v {kb}; exec timeout -s KILL {secs} {program} < .stdin > .out 2> .err ); "
        "rc=$?; "
        f"end=$(date +%s%N); head -c {output_limit} .out; head -c {output_limit} .err >&2; "
        f'printf "\\n{_MARKER} rc=%s out=%s ms=%s\\n" "$rc" "$(stat -c %s .out)" '
        f'"$(( (end - start) / 1000000 ))" >&2'
    )


def verdict(job: Job, rc: int, stdout: str, stderr: str, output_limit: int) -> RunResult:
    """Read the status line of `run_command` into a `RunResult`."""
    match = _MARKER_RE.search(stderr)
    if match is None:
        return RunResult.system_error(
            f"the sandbox did not finish the run (exit {rc}): {stderr[-500:]}"
        )
    stderr = stderr[: match.start()]
    code, size, ms = (int(g) for g in match.groups())
    time_s = ms / 1000
    if code in (124, 137) and time_s >= job.timeout * 0.95:
        status, message = Status.TLE, f"time limit {job.timeout:g}s"
    elif size > output_limit:
        status, message = Status.OLE, f"stdout passed {output_limit} bytes"
    elif code == 0:
        status, message = Status.OK, ""
    elif any(m in stderr for m in _MEMORY_MARKERS):
        status, message = Status.MLE, f"memory limit {job.memory_mb} MB"
    else:
        status, message = Status.RE, f"exit {code}"
    if code > 128:
        code = 128 - code  # the shell's 128+N back to -N, as the local backend reports
    return RunResult(status, code, stdout, stderr, time_s, None, message)


class RemoteShellSandbox(Sandbox):
    """A backend whose unit is a hosted VM with a shell (E2B, MorphCloud)."""

    def __init__(self, concurrency: int, output_limit: int = DEFAULT_OUTPUT_LIMIT) -> None:
        super().__init__(concurrency)
        self.output_limit = output_limit

    @abc.abstractmethod
    async def _open(self, job: Job) -> Any:
        """Start a VM for `job`."""

    @abc.abstractmethod
    async def _exec(self, vm: Any, command: str, timeout: float) -> tuple[int, str, str]:
        """Run a shell command in the VM: (exit code, stdout, stderr)."""

    @abc.abstractmethod
    async def _close(self, vm: Any) -> None:
        """Stop the VM; must not raise."""

    async def _prepare(self, vm: Any, job: Job, lang: Language) -> RunResult | None:
        started = time.monotonic()
        rc, out, err = await self._exec(vm, setup_command(job, lang), timeout=120)
        if rc != 0:
            if lang.compiled:
                text = err + out
                return RunResult(
                    Status.CE, rc, "", text, time.monotonic() - started, None, text[-4000:]
                )
            return RunResult.system_error(f"could not write the files (exit {rc}): {err[-500:]}")
        return None

    async def _run_one(
        self, vm: Any, job: Job, lang: Language, *, write_stdin: bool = False
    ) -> RunResult:
        command = run_command(job, lang, self.output_limit, write_stdin=write_stdin)
        rc, out, err = await self._exec(vm, command, timeout=job.timeout + 30)
        return verdict(job, rc, out, err, self.output_limit)

    async def _run_source_inputs(
        self,
        code: str,
        lang: Language,
        inputs: Sequence[str],
        *,
        files: Mapping[str, str | bytes],
        timeout: float,
        memory_mb: int,
    ) -> list[RunResult]:
        """Source code: one VM for all inputs, files written and compiled once, one run
        command per input. (A built `Artifact` takes the base class's batch runner, shipped.)"""
        jobs = [Job(code, lang.name, s, files, timeout, memory_mb) for s in inputs]
        async with self._slot():
            try:
                vm = await self._open(jobs[0])
            except Exception as exc:
                failed = RunResult.system_error(
                    f"{self.name}: could not start a sandbox: {type(exc).__name__}: {exc}"
                )
                return [failed] * len(jobs)
            try:
                prepared = await self._prepare(vm, jobs[0], lang)
                if prepared is not None:
                    return [prepared] * len(jobs)
                results = []
                for i, job in enumerate(jobs):
                    try:
                        results.append(await self._run_one(vm, job, lang, write_stdin=i > 0))
                    except Exception as exc:
                        results.append(
                            RunResult.system_error(f"{self.name}: {type(exc).__name__}: {exc}")
                        )
                return results
            finally:
                await self._close(vm)

    async def _run_job(self, job: Job) -> RunResult:
        lang = get_language(job.language)
        try:
            vm = await self._open(job)
        except Exception as exc:
            return RunResult.system_error(
                f"{self.name}: could not start a sandbox: {type(exc).__name__}: {exc}"
            )
        try:
            failed = await self._prepare(vm, job, lang)
            return failed or await self._run_one(vm, job, lang)
        except Exception as exc:
            return RunResult.system_error(f"{self.name}: {type(exc).__name__}: {exc}")
        finally:
            await self._close(vm)
