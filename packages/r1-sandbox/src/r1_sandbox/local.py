"""The local backend: each run in fresh Linux namespaces with rlimits, no account, no Docker.

Guarantees (with bwrap and prlimit present, as root or as a normal user):
- no network: a new network namespace per run, so not even the host's loopback (the
  program can only talk to itself on its own private `lo`);
- no host files: the root is an empty tmpfs with the system directories (/usr, /lib, ...)
  bound read-only, a fresh size-capped tmpfs as cwd (`/sandbox`) and as `/tmp`; no home,
  no host /tmp, no /etc;
- no host environment: the environment is cleared and set to PATH, HOME, LANG, TMPDIR;
- no signals to host processes: a new PID namespace (host PIDs are invisible) and an
  unprivileged uid (root callers drop to nobody before entering);
- bounded resources: RLIMIT_NPROC (fork bombs), RLIMIT_AS (memory), RLIMIT_CPU,
  RLIMIT_FSIZE, no core dumps, and tmpfs sizes; stdout is cut at `output_limit` (OLE);
  where the cgroup tree is writable (root on cgroup v1, or a delegated v2 subtree), a
  per-run memory + pids cgroup bounds the whole process tree and measures its peak;
- nothing left behind: the run is PID 1's child in its namespace, so when it ends or is
  killed every process it started dies with it (`--die-with-parent` covers the judge).

Not guaranteed:
- kernel attack surface: there is no seccomp filter; a kernel exploit escapes;
- memory of a whole process tree without a writable cgroup tree: RLIMIT_AS bounds each
  process, so the worst case is `max_processes x memory_mb`;
- read access to the system directories (/usr, /lib): programs can read installed
  software, which is what lets them run at all;
- without bwrap or prlimit (logged loudly once) the items above that need them.

C and C++ are compiled inside the same sandbox (a compiler given hostile source may
`#include` any file it can see), with the binary kept in a host directory that is then
bound read-only into each run: compile once, run many.

Data flow: `Job` -> [compile in a sandbox -> binary in a private host dir] -> bwrap argv
-> `_process.execute` in a worker thread -> verdict from exit status, rusage and
limits -> `RunResult`.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import functools
import logging
import os
import resource
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Literal, TypeVar

from r1_sandbox import _cgroup, _containment, _warm
from r1_sandbox._process import Outcome, execute, spawn, supervise
from r1_sandbox.base import Sandbox
from r1_sandbox.errors import BackendConfigError, ContainmentUnavailableError
from r1_sandbox.languages import Language, get_language
from r1_sandbox.result import (
    DEFAULT_MEMORY_MB,
    DEFAULT_OUTPUT_LIMIT,
    DEFAULT_TIMEOUT_S,
    Job,
    RunResult,
    Status,
)

logger = logging.getLogger(__name__)

Isolation = Literal["auto", "strict", "none"]
T = TypeVar("T")

# Signs that a run died of its memory limit rather than a bug (with RLIMIT_AS, allocation
# fails inside the program, which then reports it its own way).
_MEMORY_MARKERS = ("MemoryError", "std::bad_alloc", "Cannot allocate memory", "out of memory")


@dataclass
class _Build:
    """A compiled program: its private host directory and its binary."""

    directory: str
    binary: str


class LocalSandbox(Sandbox):
    """Runs programs on this machine, each in its own bubblewrap sandbox.

    Args:
        concurrency: runs at once (default: the number of CPUs).
        isolation: "auto" uses every mechanism found and logs loudly what is missing;
            "strict" raises `ContainmentUnavailableError` instead; "none" runs without
            namespaces (rlimits, clean env and scratch cwd only), for debugging.
        output_limit: bytes kept per stream; stdout beyond it is OLE.
        max_processes: RLIMIT_NPROC of a run (processes and threads).
        scratch_mb: size of the run's writable tmpfs (cwd and /tmp each).
        compile_timeout, compile_memory_mb: limits of the compiler.
        warm_python: spare sandboxes with a started interpreter kept ready for Python
            jobs (see `r1_sandbox._warm`); 0 starts every run cold.
    """

    name = "local"

    def __init__(
        self,
        *,
        concurrency: int | None = None,
        isolation: Isolation = "auto",
        output_limit: int = DEFAULT_OUTPUT_LIMIT,
        max_processes: int = 64,
        scratch_mb: int = 64,
        compile_timeout: float = 30.0,
        compile_memory_mb: int = 2048,
        warm_python: int = 2,
    ) -> None:
        super().__init__(concurrency or os.cpu_count() or 2)
        if isolation not in ("auto", "strict", "none"):
            raise BackendConfigError(f"isolation={isolation!r}: must be 'auto', 'strict' or 'none'")
        if output_limit < 1 or max_processes < 1 or scratch_mb < 1:
            raise BackendConfigError("output_limit, max_processes and scratch_mb must be >= 1")
        self.isolation = isolation
        self.output_limit = output_limit
        self.max_processes = max_processes
        self.scratch_mb = scratch_mb
        self.compile_timeout = compile_timeout
        self.compile_memory_mb = compile_memory_mb
        found = _containment.probe()
        if isolation == "none":
            found = _containment.Containment(
                bwrap=None,
                run_as=found.run_as,
                prlimit=found.prlimit,
                problems=("isolation='none': no namespaces",),
            )
        elif isolation == "strict" and found.problems:
            raise ContainmentUnavailableError(
                "strict isolation is not available: " + "; ".join(found.problems)
            )
        self.containment = found
        self.warm_python = warm_python if found.bwrap else 0
        self._spares: collections.deque[_warm.WarmSandbox] = collections.deque()
        self._spares_lock = threading.Lock()
        self._closed = False
        self._executor = ThreadPoolExecutor(self.concurrency, thread_name_prefix="r1-sandbox")
        self._root = tempfile.mkdtemp(prefix="r1-sandbox-")
        self._chown(self._root)

    # -- plumbing -----------------------------------------------------------------------

    def _chown(self, path: str) -> None:
        if self.containment.run_as is not None:
            os.chown(path, self.containment.run_as, self.containment.run_as)

    async def _in_thread(self, argv: list[str], **kwargs: object) -> Outcome:
        call = functools.partial(
            execute,
            argv,
            output_limit=self.output_limit,
            user=self.containment.run_as,
            group=self.containment.run_as,
            **kwargs,  # type: ignore[arg-type]
        )
        return await self._cancellable(lambda fd: call(cancel_fd=fd))

    async def _cancellable(self, call: Callable[[int], T]) -> T:
        """`call(cancel_fd)` in the worker pool; cancelling the caller kills the run.

        A worker thread cannot be cancelled, so the run watches a pipe: on cancellation
        a byte is written to it, the supervisor kills the run, and this coroutine waits
        for the kill and the reaping before it lets the cancellation through (the caller's
        cleanup, a scratch directory or a cgroup, then finds nothing running).
        """
        read, write = os.pipe()
        future = asyncio.get_running_loop().run_in_executor(self._executor, call, read)
        finished = False
        try:
            result = await asyncio.shield(future)
            finished = True
            return result
        except asyncio.CancelledError:
            os.write(write, b"x")
            with contextlib.suppress(Exception):
                await future
            finished = True
            raise
        finally:
            os.close(write)
            if finished or future.done():
                os.close(read)

    def _command(
        self,
        run: Sequence[str],
        *,
        files: Mapping[str, str | bytes],
        build: _Build | None,
        bind_rw: str | None,
        cpu_s: float,
        memory_mb: int,
    ) -> tuple[list[str], list[int], str | None]:
        """argv, the fds to pass, and the host cwd (only without bwrap)."""
        c = self.containment
        limits = _containment.rlimit_argv(
            c.prlimit,
            cpu_s=cpu_s,
            memory_mb=memory_mb,
            # Outside a user namespace RLIMIT_NPROC counts all of the uid's processes.
            max_processes=self.max_processes if c.bwrap else None,
            file_mb=self.scratch_mb,
        )
        fds: list[int] = []
        if c.bwrap is None:
            return [*limits, *run], fds, bind_rw
        argv = _containment.base_argv(c.bwrap, tmp_bytes=self.scratch_mb << 20)
        if bind_rw is not None:
            argv += ["--bind", bind_rw, _containment.WORKDIR]
        else:
            argv += ["--size", str(self.scratch_mb << 20), "--tmpfs", _containment.WORKDIR]
        for name, content in files.items():
            # Each file is copied in from a memfd: a writable private copy, no host path.
            fd = os.memfd_create(name.replace("/", "_"), 0)
            os.write(fd, content.encode() if isinstance(content, str) else content)
            os.lseek(fd, 0, os.SEEK_SET)
            fds.append(fd)
            argv += ["--file", str(fd), f"{_containment.WORKDIR}/{name}"]
        if build is not None:
            argv += [
                "--ro-bind",
                build.binary,
                f"{_containment.WORKDIR}/{os.path.basename(build.binary)}",
            ]
        argv += ["--chdir", _containment.WORKDIR, "--", *limits, *run]
        return argv, fds, None

    async def _spawn(
        self,
        run: Sequence[str],
        *,
        files: Mapping[str, str | bytes],
        stdin: str,
        timeout: float,
        memory_mb: int,
        build: _Build | None = None,
        bind_rw: str | None = None,
    ) -> Outcome:
        argv, fds, cwd = self._command(
            run, files=files, build=build, bind_rw=bind_rw, cpu_s=timeout, memory_mb=memory_mb
        )
        scratch = None
        if self.containment.bwrap is None and cwd is None:
            # Without namespaces the best we can do is a fresh private cwd.
            scratch = cwd = tempfile.mkdtemp(dir=self._root)
            self._chown(scratch)
            for name, content in files.items():
                path = os.path.join(scratch, name)
                os.makedirs(os.path.dirname(path), exist_ok=True)
                with open(path, "wb") as fh:
                    fh.write(content.encode() if isinstance(content, str) else content)
            if build is not None:
                shutil.copy2(build.binary, scratch)
        cgroup = self._cgroup(memory_mb)
        if cgroup is not None:
            argv = cgroup.wrap(argv)
        try:
            outcome = await self._in_thread(
                argv,
                stdin=stdin.encode(),
                env=_containment.SANDBOX_ENV if self.containment.bwrap is None else {},
                cwd=cwd,
                timeout=timeout,
                pass_fds=fds,
            )
            if cgroup is not None:
                outcome.cgroup_peak_mb = cgroup.peak_mb()
                outcome.cgroup_oom = cgroup.oom_killed()
            return outcome
        finally:
            for fd in fds:
                os.close(fd)
            if scratch is not None:
                shutil.rmtree(scratch, ignore_errors=True)
            if cgroup is not None:
                cgroup.remove()

    def _cgroup(self, memory_mb: int) -> _cgroup.RunCgroup | None:
        cgroups = self.containment.cgroups
        if cgroups is None:
            return None
        return cgroups.create(
            memory_bytes=self._tree_memory(memory_mb),
            max_pids=self.max_processes + 4,  # + sh/bwrap, bwrap's init
            owner=self.containment.run_as,
        )

    def _tree_memory(self, memory_mb: int) -> int:
        # The program's limit, plus what its tmpfs files may hold and bwrap's own pages.
        return (memory_mb + 2 * self.scratch_mb + 16) << 20

    # -- warm Python sandboxes -----------------------------------------------------------

    def _spawn_spare(self) -> _warm.WarmSandbox | None:
        c = self.containment
        assert c.bwrap is not None
        read, write = os.pipe()
        argv = _containment.base_argv(c.bwrap, tmp_bytes=self.scratch_mb << 20)
        argv += ["--size", str(self.scratch_mb << 20), "--tmpfs", _containment.WORKDIR]
        argv += ["--chdir", _containment.WORKDIR, "--", "python3", "-c", _warm.LOADER, str(read)]
        cgroup = self._cgroup(self.compile_memory_mb)  # narrowed to the job's at hand-over
        if cgroup is not None:
            argv = cgroup.wrap(argv)
        try:
            proc = spawn(argv, env={}, pass_fds=[read], user=c.run_as, group=c.run_as)
        except OSError:
            os.close(write)
            if cgroup is not None:
                cgroup.remove()
            return None
        finally:
            os.close(read)
        return _warm.WarmSandbox(proc, write, cgroup)

    def _take_spare(self) -> _warm.WarmSandbox | None:
        """A live spare (refilling the pool behind it), or None to run cold."""
        taken = None
        with self._spares_lock:
            while self._spares and taken is None:
                spare = self._spares.popleft()
                if spare.alive():
                    taken = spare
                else:
                    spare.drop()
            missing = 0 if self._closed else self.warm_python - len(self._spares)
        for _ in range(missing):
            fresh = self._spawn_spare()
            if fresh is None:
                break
            with self._spares_lock:
                if self._closed:
                    fresh.drop()
                    break
                self._spares.append(fresh)
        return taken

    def _run_warm(self, job: Job, cancel_fd: int | None = None) -> Outcome | None:
        spare = self._take_spare()
        if spare is None:
            return None
        limits = _warm.rlimits(
            memory_mb=job.memory_mb, max_processes=self.max_processes, file_mb=self.scratch_mb
        )
        if spare.cgroup is not None:
            try:
                spare.cgroup.set_memory(self._tree_memory(job.memory_mb))
            except OSError:
                spare.drop()
                return None
        files = {
            name: content.encode() if isinstance(content, str) else content
            for name, content in job.files.items()
        }
        start = time.monotonic()
        sent = spare.hand_over(cpu_s=job.timeout, limits=limits, files=files, code=job.code)
        if not sent:
            spare.drop()
            return None
        outcome = supervise(
            spare.proc,
            stdin=job.stdin.encode(),
            timeout=job.timeout,
            output_limit=self.output_limit,
            start=start,
            cancel_fd=cancel_fd,
        )
        if spare.cgroup is not None:
            outcome.cgroup_peak_mb = spare.cgroup.peak_mb()
            outcome.cgroup_oom = spare.cgroup.oom_killed()
            spare.cgroup.remove()
        return outcome

    # -- compile once -------------------------------------------------------------------

    async def _compile(self, job: Job, lang: Language) -> _Build | RunResult:
        assert lang.compile is not None and lang.binary is not None
        directory = tempfile.mkdtemp(dir=self._root)
        self._chown(directory)
        files = {**job.files, lang.source: job.code}
        if self.containment.bwrap is None:
            for name, content in files.items():
                path = os.path.join(directory, name)
                os.makedirs(os.path.dirname(path), exist_ok=True)
                with open(path, "wb") as fh:
                    fh.write(content.encode() if isinstance(content, str) else content)
                self._chown(path)
            files = {}
        outcome = await self._spawn(
            lang.compile,
            files=files,
            stdin="",
            timeout=self.compile_timeout,
            memory_mb=self.compile_memory_mb,
            bind_rw=directory,
        )
        binary = os.path.join(directory, lang.binary)
        if outcome.spawn_error:
            shutil.rmtree(directory, ignore_errors=True)
            return RunResult.system_error(outcome.spawn_error)
        if outcome.returncode != 0 or not os.path.exists(binary):
            shutil.rmtree(directory, ignore_errors=True)
            why = "compilation timed out" if outcome.timed_out else ""
            text = outcome.stderr.decode("utf-8", "replace")
            return RunResult(
                status=Status.CE,
                exit_code=outcome.returncode,
                stderr=text,
                time_s=outcome.wall_s,
                message=why or text[-4000:],
            )
        return _Build(directory, binary)

    # -- verdicts -----------------------------------------------------------------------

    def _verdict(self, outcome: Outcome, timeout: float, memory_mb: int) -> RunResult:
        stdout = outcome.stdout.decode("utf-8", "replace")
        stderr = outcome.stderr.decode("utf-8", "replace")
        rc = outcome.returncode
        if self.containment.bwrap and rc is not None and 128 < rc < 128 + signal.NSIG:
            rc = 128 - rc  # bwrap's init reports a signal death as 128+N, as shells do
        # wait4's peak RSS covers the whole tree, including the launcher, which inherits
        # this process's peak at exec (vfork). Only a peak above ours is the program's.
        own_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        memory = round(outcome.max_rss_kb / 1024, 2) if outcome.max_rss_kb > own_kb else None
        if outcome.cgroup_peak_mb is not None:
            memory = outcome.cgroup_peak_mb  # the whole tree, and only the tree
        message = ""
        if outcome.spawn_error:
            return RunResult.system_error(outcome.spawn_error)
        if outcome.stdout_overflow:
            status, message = Status.OLE, f"stdout passed {self.output_limit} bytes"
        elif outcome.timed_out or outcome.cpu_s >= timeout or rc == -signal.SIGXCPU:
            status, message = Status.TLE, f"time limit {timeout:g}s"
        elif outcome.cgroup_oom:
            # The kernel killed something in the run's tree to hold its memory limit.
            status, message = Status.MLE, f"memory limit {memory_mb} MB (OOM kill)"
        elif rc == 0:
            status = Status.OK
        elif rc == 1 and stderr.startswith("bwrap:"):
            status, message = Status.SE, stderr.strip()
        elif any(m in stderr for m in _MEMORY_MARKERS) or (memory or 0) >= 0.95 * memory_mb:
            status, message = Status.MLE, f"memory limit {memory_mb} MB"
        else:
            status = Status.RE
            message = f"killed by {signal.Signals(-rc).name}" if rc and rc < 0 else f"exit {rc}"
        return RunResult(
            status=status,
            exit_code=rc,
            stdout=stdout,
            stderr=stderr,
            time_s=round(outcome.wall_s, 4),
            memory_mb=memory,
            message=message,
        )

    async def _execute(self, job: Job, lang: Language, build: _Build | None) -> RunResult:
        # Python only: a compiled program starts in about a millisecond, so a warm spare
        # would add an interpreter start to each run instead of hiding one (measured in
        # bench/sandbox.py: C++ batches ran ~1.5x slower through spares).
        if self.warm_python and lang.name == "python":
            warm = await self._cancellable(functools.partial(self._run_warm, job))
            if warm is not None:
                return self._verdict(warm, job.timeout, job.memory_mb)
        files = dict(job.files)
        if build is None:
            files[lang.source] = job.code
        outcome = await self._spawn(
            lang.run,
            files=files,
            stdin=job.stdin,
            timeout=job.timeout,
            memory_mb=job.memory_mb,
            build=build,
        )
        return self._verdict(outcome, job.timeout, job.memory_mb)

    # -- the backend API ----------------------------------------------------------------

    async def _run_job(self, job: Job) -> RunResult:
        lang = get_language(job.language)
        if not lang.compiled:
            return await self._execute(job, lang, None)
        build = await self._compile(job, lang)
        if isinstance(build, RunResult):
            return build
        try:
            return await self._execute(job, lang, build)
        finally:
            shutil.rmtree(build.directory, ignore_errors=True)

    async def run_inputs(
        self,
        code: str,
        language: str,
        stdins: Sequence[str],
        *,
        files: Mapping[str, str | bytes] | None = None,
        timeout: float = DEFAULT_TIMEOUT_S,
        memory_mb: int = DEFAULT_MEMORY_MB,
    ) -> list[RunResult]:
        """Run one program on many inputs; C and C++ are compiled once for all of them."""
        lang = get_language(language)
        jobs = [Job(code, language, s, files or {}, timeout, memory_mb) for s in stdins]
        if not lang.compiled or not jobs:
            return await super().run_inputs(
                code, language, stdins, files=files, timeout=timeout, memory_mb=memory_mb
            )
        async with self._slot():
            build = await self._guarded(self._compile(jobs[0], lang), "a compile")  # type: ignore[arg-type]
        if isinstance(build, RunResult):
            return [build] * len(jobs)
        try:

            async def one(job: Job) -> RunResult:
                async with self._slot():
                    return await self._guarded(self._execute(job, lang, build), "a run")

            return list(await asyncio.gather(*(one(j) for j in jobs)))
        finally:
            shutil.rmtree(build.directory, ignore_errors=True)

    async def aclose(self) -> None:
        with self._spares_lock:
            self._closed = True
            spares, self._spares = list(self._spares), collections.deque()
        for spare in spares:
            spare.drop()
        self._executor.shutdown(wait=False, cancel_futures=True)
        with contextlib.suppress(OSError):
            shutil.rmtree(self._root)
