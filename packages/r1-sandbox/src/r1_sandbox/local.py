"""The local backend: each run in fresh Linux namespaces under a syscall filter, no Docker.

Threat model: the program is written by a policy that is rewarded for passing, so it is
a smart adversary of the judge, not a buggy program (SPEC section 9).

Guarantees (bwrap, libseccomp and a C compiler present, as root or as a normal user;
each one is a hostile test in tests/test_containment.py or tests/test_hardening.py):
- no network: a new network namespace per run, so not even the host's loopback;
- no host files: the root is a read-only tmpfs with the system directories (/usr, /lib,
  ...) bound read-only, a fresh size-capped tmpfs as cwd (`/sandbox`), `/tmp` and
  `/dev/shm`; no home, no host /tmp, no /etc;
- no host environment: the environment is cleared and set to PATH, HOME, LANG, TMPDIR;
- no signals to host processes: a new PID namespace (host PIDs are invisible) and an
  unprivileged uid (root callers drop to nobody before entering);
- a syscall filter (`_seccomp.POLICY`): no tracing, no cross-process memory, no nested
  namespaces, mounts, keyrings, bpf, perf, userfaultfd, io_uring, kexec or modules, and
  no other syscall ABI (i386, x32);
- forced teardown: when a run ends (exit, limit, cancellation) its init, PID 1 of the
  namespace, is SIGKILLed from outside through a pidfd, so every process of the run dies
  whatever it did (setsid, double fork; it may not trace the init), and its cgroups are
  emptied and removed; if the caller dies, `--die-with-parent` does the same;
- verdicts from metadata only: the init reports the program's wait status (exit code and
  signal apart), the run's CPU time and peak RSS on a pipe the program cannot reach;
  bwrap's JSON status tells a failed setup (SE) from a program's failure; cgroup OOM
  events, the init's CPU accounting and the supervisor's clock give MLE and TLE. Nothing
  the program prints changes its status;
- bounded: RLIMIT_NPROC (fork bombs), RLIMIT_CPU per process and the CPU time of the
  whole run (enforced by the init), memory (a per-run cgroup where the cgroup tree is
  writable, RLIMIT_AS per process otherwise), file sizes, no core dumps, tmpfs sizes in
  bytes and in files (`scratch_inodes`, enforced by the init);
  stdout is cut at `output_limit` (OLE); with the cgroup cpu controller, one CPU per run;
- fail closed: if a mechanism is missing every run is `SE` naming it and the fix;
  `isolation="none"` (no containment at all) must be asked for, and warns on every run.

Not guaranteed:
- a kernel exploit through an allowed syscall;
- without a writable cgroup tree: memory of a whole process tree (bounded per process,
  worst case `max_processes x memory_mb`) and a CPU share per run;
- read access to the system directories (/usr, /lib): programs can read installed
  software, which is what lets them run at all.

C and C++ are compiled inside the same kind of sandbox, under the compile limits
(`compile_timeout`, `compile_memory_mb`), with the binary kept in a host directory that is
then bound read-only into each run: compile once, run many. A built `Artifact` (from any
backend's `build`) is stored once as a content-addressed host file (`_BinaryCache`) and
bound read-only the same way, rather than shipped as base64 text as remote backends do.

Data flow: `Job` -> [compile in a sandbox -> binary in a private host dir] -> bwrap argv
+ the init's job -> `_process.execute` in a worker thread -> verdict from the init's
report, bwrap's status, cgroup events and the clock -> `RunResult`.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import dataclasses
import functools
import hashlib
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

from r1_sandbox import _cgroup, _containment, _init, _warm
from r1_sandbox._process import Channels, Outcome, execute, spawn, supervise
from r1_sandbox.artifacts import STACK_PROLOGUE, Artifact
from r1_sandbox.base import Sandbox
from r1_sandbox.errors import BackendConfigError, ContainmentUnavailableError
from r1_sandbox.languages import Language, get_language
from r1_sandbox.result import (
    DEFAULT_OUTPUT_LIMIT,
    Job,
    RunResult,
    Status,
)

logger = logging.getLogger(__name__)
# How far below the limit a kernel SIGXCPU may land, in CPU seconds (a few ticks).
_CPU_TICK_SLACK_S = 0.1

Isolation = Literal["auto", "strict", "none"]
_T = TypeVar("_T")

# Memory of bwrap and the init, charged to the run's cgroup beside the program's.
_OVERHEAD_MB = 8


@dataclass
class _Build:
    """A compiled program: its private host directory and its binary."""

    directory: str
    binary: str


class _BinaryCache:
    """Built programs as host files, content-addressed, bound read-only into runs.

    The directory and its files belong to the caller (mode 0o711 and 0o555): a run's uid
    can execute a binary but neither change nor replace it, and the bind is read-only on
    top. An execute-only binary (an IOI manager) is stored apart at mode 0o111: nobody can
    read it, so the kernel starts it non-dumpable. At most `keep` idle binaries stay (a
    checker or a manager serves every test of a problem); one in use is never removed.
    """

    def __init__(self, keep: int = 256) -> None:
        self.keep = keep
        self.directory = tempfile.mkdtemp(prefix="r1-sandbox-bin-")
        os.chmod(self.directory, 0o711)
        self._users: collections.OrderedDict[str, int] = collections.OrderedDict()
        self._lock = threading.Lock()

    def acquire(self, artifact: Artifact, *, exec_only: bool = False) -> str:
        """The host path of `artifact`'s binary, written on first use; call `release` after."""
        name = hashlib.sha256(artifact.binary).hexdigest() + ("-x" if exec_only else "")
        path = os.path.join(self.directory, name)
        with self._lock:
            if name in self._users:
                self._users[name] += 1
                self._users.move_to_end(name)
                return path
            fd, tmp = tempfile.mkstemp(dir=self.directory)
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(artifact.binary)
                os.chmod(tmp, 0o111 if exec_only else 0o555)
                os.replace(tmp, path)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                raise
            self._users[name] = 1
            return path

    def release(self, path: str) -> None:
        with self._lock:
            name = os.path.basename(path)
            self._users[name] -= 1
            idle = [n for n, users in self._users.items() if users == 0]
            for stale in idle[: max(0, len(self._users) - self.keep)]:
                del self._users[stale]
                with contextlib.suppress(OSError):
                    os.unlink(os.path.join(self.directory, stale))

    def clear(self) -> None:
        with self._lock:
            self._users.clear()
        shutil.rmtree(self.directory, ignore_errors=True)


class LocalSandbox(Sandbox):
    """Runs programs on this machine, each in its own bubblewrap sandbox.

    Args:
        concurrency: runs at once (default: the number of CPUs).
        isolation: "auto" (default) contains every run, and answers `SE` naming what is
            missing where containment cannot be set up; "strict" raises
            `ContainmentUnavailableError` at construction instead; "none" runs programs
            uncontained (rlimits, clean env and scratch cwd only), for debugging, with a
            warning on every run.
        output_limit: bytes kept per stream; stdout beyond it is OLE.
        max_processes: RLIMIT_NPROC of a run (processes and threads).
        scratch_mb: size of each writable tmpfs of a run (`/sandbox`, `/tmp`, `/dev/shm`).
        scratch_inodes: files and directories a run may create on them, all together
            (checked every 50 ms by the run's init; beyond it the run is stopped, OLE).
        compile_timeout: wall and CPU time of the whole compile, whatever the job's limits.
        compile_memory_mb: memory of the compiler, whatever the job's limits.
        warm_python: spare sandboxes started ahead for Python jobs (see
            `r1_sandbox._warm`); 0 starts every run cold.
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
        scratch_inodes: int = 16384,
        compile_timeout: float = 30.0,
        compile_memory_mb: int = 2048,
        warm_python: int = 2,
    ) -> None:
        super().__init__(concurrency or os.cpu_count() or 2)
        if isolation not in ("auto", "strict", "none"):
            raise BackendConfigError(f"isolation={isolation!r}: must be 'auto', 'strict' or 'none'")
        if output_limit < 1 or max_processes < 1 or scratch_mb < 1 or scratch_inodes < 1:
            raise BackendConfigError(
                "output_limit, max_processes, scratch_mb and scratch_inodes must be >= 1"
            )
        if not compile_timeout > 0 or compile_memory_mb < 1:
            raise BackendConfigError(
                f"compile_timeout={compile_timeout!r}, compile_memory_mb={compile_memory_mb!r}: "
                "must be > 0"
            )
        self.isolation = isolation
        self.output_limit = output_limit
        self.max_processes = max_processes
        self.scratch_mb = scratch_mb
        self.scratch_inodes = scratch_inodes
        self.compile_timeout = compile_timeout
        self.compile_memory_mb = compile_memory_mb
        found = _containment.probe()
        #: Why every run is refused (fail closed), or "" when runs are contained.
        self.refusal = ""
        if isolation == "none":
            found = dataclasses.replace(
                found,
                bwrap=None,
                cgroups=None,
                problems=("isolation='none': programs run UNCONTAINED",),
            )
        elif found.problems:
            self.refusal = (
                "local sandbox containment is not available, so nothing was run (pass "
                "isolation='none' to run programs uncontained): " + "; ".join(found.problems)
            )
            if isolation == "strict":
                raise ContainmentUnavailableError(
                    "strict isolation is not available: " + "; ".join(found.problems)
                )
        self.containment = found
        self._contained = isolation != "none" and found.isolated
        self.warm_python = warm_python if self._contained else 0
        self._spares: collections.deque[_warm.WarmSandbox] = collections.deque()
        self._spares_lock = threading.Lock()
        self._closed = False
        self._executor = ThreadPoolExecutor(self.concurrency, thread_name_prefix="r1-sandbox")
        # Spares are started here, beside the runs. One long-lived thread: a spare's bwrap
        # dies with the thread that started it (its parent-death signal).
        self._refiller = ThreadPoolExecutor(1, thread_name_prefix="r1-sandbox-spares")
        self._root = tempfile.mkdtemp(prefix="r1-sandbox-")
        self._chown(self._root)
        self._binaries = _BinaryCache()

    # -- plumbing -----------------------------------------------------------------------

    def _chown(self, path: str) -> None:
        if self.containment.run_as is not None:
            os.chown(path, self.containment.run_as, self.containment.run_as)

    async def _in_thread(self, call: Callable[..., _T]) -> _T:
        """Run `call` in a worker; if this task is cancelled, the run is killed first."""
        loop = asyncio.get_running_loop()
        cancel_r, cancel_w = os.pipe()

        def close(_: object = None) -> None:
            os.close(cancel_r)
            os.close(cancel_w)

        future = loop.run_in_executor(self._executor, functools.partial(call, cancel_fd=cancel_r))
        try:
            return await asyncio.shield(future)
        except asyncio.CancelledError:
            os.write(cancel_w, b"x")  # the worker kills the run and returns
            await asyncio.wait({future})
            raise
        finally:
            if future.done():
                close()
            else:
                future.add_done_callback(close)

    def _job_bytes(self, files: Mapping[str, str | bytes]) -> dict[str, bytes]:
        return {n: c.encode() if isinstance(c, str) else c for n, c in files.items()}

    def _address_limit(self, memory_mb: int) -> int:
        # With a cgroup the whole tree is bounded and an OOM kill is a clear MLE; without
        # one, RLIMIT_AS is all there is.
        return 0 if self.containment.cgroups is not None else memory_mb << 20

    def _argv(
        self,
        run: Sequence[str],
        channels: Channels,
        *,
        ro_files: Mapping[str, str] | None = None,
        bind_rw: str | None = None,
        early: str | None = None,
    ) -> list[str]:
        c = self.containment
        assert c.bwrap is not None and c.init is not None
        return [
            *_containment.bwrap_argv(
                c.bwrap,
                scratch_bytes=self.scratch_mb << 20,
                init=c.init,
                fds=channels.fds(),
                workdir=bind_rw,
                ro_files=dict(ro_files or {}),
                early=early,
            ),
            *run,
        ]

    async def _spawn(
        self,
        run: Sequence[str],
        *,
        files: Mapping[str, str | bytes],
        stdin: str,
        timeout: float,
        memory_mb: int,
        ro_files: Mapping[str, str] | None = None,
        bind_rw: str | None = None,
        early: str | None = None,
    ) -> Outcome:
        if not self._contained:
            return await self._spawn_uncontained(
                run,
                files=files,
                stdin=stdin,
                timeout=timeout,
                memory_mb=memory_mb,
                ro_files=ro_files,
                bind_rw=bind_rw,
            )
        assert self.containment.seccomp is not None
        channels = Channels(self.containment.seccomp)
        cgroup = self._cgroup(memory_mb)
        try:
            argv = self._argv(run, channels, ro_files=ro_files, bind_rw=bind_rw, early=early)
            if cgroup is not None:
                argv = cgroup.wrap(argv)
            job = _init.job_header(
                cpu_s=timeout,
                memory_bytes=self._address_limit(memory_mb),
                file_bytes=self.scratch_mb << 20,
                max_processes=self.max_processes,
                files=self._job_bytes(files),
                max_inodes=self.scratch_inodes,
            )
            outcome = await self._in_thread(
                functools.partial(
                    execute,
                    argv,
                    stdin=stdin.encode(),
                    env={},
                    timeout=timeout,
                    output_limit=self.output_limit,
                    pass_fds=channels.passed(),
                    user=self.containment.run_as,
                    group=self.containment.run_as,
                    channels=channels,
                    job=job,
                    cgroup=cgroup,
                )
            )
            if cgroup is not None:
                outcome.cgroup_peak_mb = cgroup.peak_mb()
                outcome.cgroup_oom = cgroup.oom_killed()
            return outcome
        finally:
            channels.close()
            if cgroup is not None:
                cgroup.kill()
                cgroup.remove()

    async def _spawn_uncontained(
        self,
        run: Sequence[str],
        *,
        files: Mapping[str, str | bytes],
        stdin: str,
        timeout: float,
        memory_mb: int,
        ro_files: Mapping[str, str] | None,
        bind_rw: str | None,
    ) -> Outcome:
        """isolation='none': rlimits, a clean environment and a private cwd, nothing more."""
        logger.warning(
            "r1-sandbox: isolation='none': running a program UNCONTAINED (it can read host "
            "files, reach the network and signal your processes)"
        )
        limits = _containment.rlimit_argv(
            self.containment.prlimit,
            cpu_s=timeout,
            memory_mb=memory_mb,
            # Outside a user namespace RLIMIT_NPROC counts all of the uid's processes.
            max_processes=None,
            file_mb=self.scratch_mb,
        )
        scratch = cwd = bind_rw
        if cwd is None:
            scratch = cwd = tempfile.mkdtemp(dir=self._root)
            self._chown(scratch)
        for name, content in self._job_bytes(files).items():
            path = os.path.join(cwd, name)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "wb") as fh:
                fh.write(content)
            self._chown(path)
        for host, name in (ro_files or {}).items():
            shutil.copy2(host, os.path.join(cwd, name))
        try:
            return await self._in_thread(
                functools.partial(
                    execute,
                    [*limits, *run],
                    stdin=stdin.encode(),
                    env=_containment.SANDBOX_ENV,
                    cwd=cwd,
                    timeout=timeout,
                    output_limit=self.output_limit,
                    user=self.containment.run_as,
                    group=self.containment.run_as,
                )
            )
        finally:
            if bind_rw is None and scratch is not None:
                shutil.rmtree(scratch, ignore_errors=True)

    def _cgroup(self, memory_mb: int) -> _cgroup.RunCgroup | None:
        cgroups = self.containment.cgroups
        if cgroups is None:
            return None
        return cgroups.create(
            memory_bytes=self._tree_memory(memory_mb),
            max_pids=self.max_processes + 4,  # + sh/bwrap, the init
            owner=self.containment.run_as,
        )

    def _tree_memory(self, memory_mb: int) -> int:
        # The whole run, its tmpfs files included (as isolate counts them), plus bwrap's
        # and the init's own pages.
        return (memory_mb + _OVERHEAD_MB) << 20

    # -- warm Python sandboxes -----------------------------------------------------------

    def _spawn_spare(self) -> _warm.WarmSandbox | None:
        c = self.containment
        assert c.seccomp is not None
        channels = Channels(c.seccomp)
        python = get_language("python")
        argv = self._argv(python.run, channels, early=python.source)
        cgroup = self._cgroup(self.compile_memory_mb)  # narrowed to the job's at hand-over
        if cgroup is not None:
            argv = cgroup.wrap(argv)
        try:
            proc = spawn(argv, env={}, pass_fds=channels.passed(), user=c.run_as, group=c.run_as)
        except OSError:
            channels.close()
            if cgroup is not None:
                cgroup.remove()
            return None
        finally:
            channels.close_passed()
        return _warm.WarmSandbox(proc, channels, cgroup)

    def _take_spare(self) -> _warm.WarmSandbox | None:
        """A live spare, or None to run cold; the pool is refilled beside the run."""
        taken = None
        with self._spares_lock:
            while self._spares and taken is None:
                spare = self._spares.popleft()
                if spare.alive():
                    taken = spare
                else:
                    spare.drop()
            if not self._closed:
                self._refiller.submit(self._refill)
        return taken

    def _refill(self) -> None:
        with self._spares_lock:
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

    def _run_warm(self, job: Job, *, cancel_fd: int | None = None) -> Outcome | None:
        spare = self._take_spare()
        if spare is None:
            return None
        if spare.cgroup is not None:
            try:
                spare.cgroup.set_memory(self._tree_memory(job.memory_mb))
                spare.cgroup.reset_peak()
            except OSError:
                spare.drop()
                return None
        files = {**job.files, get_language("python").source: job.code}
        header = _init.job_header(
            cpu_s=job.timeout,
            memory_bytes=self._address_limit(job.memory_mb),
            file_bytes=self.scratch_mb << 20,
            max_processes=self.max_processes,
            files=self._job_bytes(files),
            max_inodes=self.scratch_inodes,
        )
        try:
            outcome = supervise(
                spare.proc,
                stdin=job.stdin.encode(),
                timeout=job.timeout,
                output_limit=self.output_limit,
                start=time.monotonic(),
                channels=spare.channels,
                job=header,
                cancel_fd=cancel_fd,
                cgroup=spare.cgroup,
            )
            if spare.cgroup is not None:
                outcome.cgroup_peak_mb = spare.cgroup.peak_mb()
                outcome.cgroup_oom = spare.cgroup.oom_killed()
        finally:
            spare.channels.close()
            if spare.cgroup is not None:
                spare.cgroup.kill()
                spare.cgroup.remove()
        return outcome

    # -- compile once -------------------------------------------------------------------

    async def _compile(self, job: Job, lang: Language) -> _Build | RunResult:
        assert lang.compile is not None and lang.binary is not None
        if self.refusal:
            return RunResult.system_error(self.refusal)
        directory = tempfile.mkdtemp(dir=self._root)
        self._chown(directory)
        outcome = await self._spawn(
            lang.compile,
            files={**job.files, lang.source: job.code},
            stdin="",
            timeout=self.compile_timeout,
            memory_mb=self.compile_memory_mb,
            bind_rw=directory,
        )
        binary = os.path.join(directory, lang.binary)
        verdict = self._verdict(
            outcome, self.compile_timeout, self.compile_memory_mb, what="the compiler"
        )
        if verdict.status is Status.OK and os.path.exists(binary):
            return _Build(directory, binary)
        shutil.rmtree(directory, ignore_errors=True)
        if verdict.status is Status.SE:
            return verdict
        limits = {
            Status.TLE: f"compile time limit {self.compile_timeout:g}s",
            Status.MLE: f"compile memory limit {self.compile_memory_mb} MB",
            Status.OLE: f"compiler output passed {self.output_limit} bytes",
        }
        why = limits.get(verdict.status)
        return dataclasses.replace(
            verdict,
            status=Status.CE,
            message=f"the compiler exceeded the {why}" if why else verdict.stderr[-4000:],
        )

    # -- verdicts -----------------------------------------------------------------------

    def _verdict(
        self, outcome: Outcome, timeout: float, memory_mb: int, *, what: str = "the program"
    ) -> RunResult:
        """The status from metadata only: never from what the program wrote."""
        stdout = outcome.stdout.decode("utf-8", "replace")
        stderr = outcome.stderr.decode("utf-8", "replace")
        if outcome.spawn_error:
            return RunResult.system_error(outcome.spawn_error)
        if outcome.cancelled:
            return RunResult.system_error("the run was cancelled")
        report = outcome.report
        if self._contained:
            rc = None
            if report is not None:
                rc = report.exit_code if report.signal is None else -report.signal
            memory: float | None = round(outcome.max_rss_kb / 1024, 2) if report else None
        else:
            rc = outcome.returncode
            # wait4's peak covers the launcher too, which inherits this process's peak at
            # exec (vfork): only a peak above ours is the program's.
            own_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            memory = round(outcome.max_rss_kb / 1024, 2) if outcome.max_rss_kb > own_kb else None
        if outcome.cgroup_peak_mb is not None:
            memory = outcome.cgroup_peak_mb  # the whole tree, and only the tree
        cpu = round(outcome.cpu_s, 4)
        message = ""
        if outcome.stdout_overflow:
            status, message = Status.OLE, f"stdout passed {self.output_limit} bytes"
        elif report is not None and report.fs_limit:
            status = Status.OLE
            message = f"more than {self.scratch_inodes} new files on the sandbox's file systems"
        elif (
            outcome.timed_out
            or (report is not None and report.cpu_limit)
            or outcome.cpu_s >= timeout
            or (not self._contained and rc == -signal.SIGXCPU)
            # The kernel's RLIMIT_CPU counts in scheduler ticks and can fire a few ms before
            # the precise rusage total reaches the limit. A SIGXCPU that comes at the limit is
            # the limit; one the program raises early itself stays RE (it gains nothing: TLE
            # is no better a verdict).
            or (rc == -signal.SIGXCPU and outcome.cpu_s >= timeout - _CPU_TICK_SLACK_S)
        ):
            status, message = Status.TLE, f"time limit {timeout:g}s"
        elif outcome.cgroup_oom:
            # The kernel killed something in the run's tree to hold its memory limit.
            status, message = Status.MLE, f"memory limit {memory_mb} MB (OOM kill)"
        elif self._contained and report is None:
            code = outcome.bwrap.get("exit-code")
            if code is None:
                # bwrap never started the init: its own error is all that is on stderr.
                return RunResult.system_error(f"sandbox setup failed: {stderr.strip()[-2000:]}")
            if isinstance(code, int) and 120 <= code <= 126:
                return RunResult.system_error(f"the sandbox's init failed (exit {code})")
            status, message = Status.RE, f"the run's init was killed (bwrap status {code})"
        elif report is not None and report.exec_errno:
            return RunResult.system_error(
                f"cannot execute {what}: {os.strerror(report.exec_errno)}"
            )
        elif rc == 0:
            status = Status.OK
        elif (memory or 0) >= 0.95 * memory_mb:
            status, message = Status.MLE, f"memory limit {memory_mb} MB"
        else:
            status = Status.RE
            if rc is not None and rc < 0:
                try:
                    message = f"killed by {signal.Signals(-rc).name}"
                except ValueError:
                    message = f"killed by signal {-rc}"
            else:
                message = f"exit {rc}"
        return RunResult(
            status=status,
            exit_code=rc,
            stdout=stdout,
            stderr=stderr,
            time_s=round(outcome.wall_s, 4),
            memory_mb=memory,
            message=message,
            cpu_s=cpu,
        )

    async def _execute(
        self, job: Job, lang: Language, ro_files: Mapping[str, str] | None = None
    ) -> RunResult:
        # Python only: a compiled program starts in about a millisecond, so a warm spare
        # saves little there (measured in bench/sandbox.py).
        if self.warm_python and lang.name == "python":
            warm = await self._in_thread(functools.partial(self._run_warm, job))
            if warm is not None:
                return self._verdict(warm, job.timeout, job.memory_mb)
        files = dict(job.files)
        if not lang.compiled:
            files[lang.source] = job.code
        outcome = await self._spawn(
            lang.run,
            files=files,
            stdin=job.stdin,
            timeout=job.timeout,
            memory_mb=job.memory_mb,
            ro_files=ro_files,
            # The same start as a warm spare's (the interpreter first, then its script).
            early=lang.source if lang.name == "python" else None,
        )
        return self._verdict(outcome, job.timeout, job.memory_mb)

    # -- the backend API ----------------------------------------------------------------

    async def _run_job(self, job: Job) -> RunResult:
        if self.refusal:
            return RunResult.system_error(self.refusal)
        lang = get_language(job.language)
        if not lang.compiled:
            return await self._execute(job, lang)
        build = await self._compile(job, lang)
        if isinstance(build, RunResult):
            return build
        try:
            return await self._execute(job, lang, {build.binary: os.path.basename(build.binary)})
        finally:
            shutil.rmtree(build.directory, ignore_errors=True)

    def _runs_sources_in_turn(self) -> bool:
        # The runner refuses anywhere but under r1's init; uncontained it would sweep the host.
        return self._contained and not self.refusal

    def _binds_placed_read_only(self) -> bool:
        return self._runs_sources_in_turn()  # contained: `_run_placed` binds (`--ro-bind`)

    async def _run_placed(
        self, job: Job, artifacts: Mapping[str, Artifact], exec_only: frozenset[str]
    ) -> RunResult:
        """Built programs bound read-only into the run as `./name`, not shipped as text."""
        if self.refusal:
            return RunResult.system_error(self.refusal)
        lang = get_language(job.language)
        job = dataclasses.replace(job, code=STACK_PROLOGUE + job.code)
        async with self._slot():
            try:
                binds = {
                    self._binaries.acquire(a, exec_only=name in exec_only): name
                    for name, a in artifacts.items()
                }
            except OSError as exc:
                return RunResult.system_error(f"cannot store a built program: {exc}")
            try:
                return await self._guarded(self._execute(job, lang, binds), "a built program")
            finally:
                for path in binds:
                    self._binaries.release(path)

    async def aclose(self) -> None:
        with self._spares_lock:
            self._closed = True
            spares, self._spares = list(self._spares), collections.deque()
        self._refiller.shutdown(wait=True, cancel_futures=True)
        with self._spares_lock:
            spares += list(self._spares)
            self._spares.clear()
        for spare in spares:
            spare.drop()
        self._executor.shutdown(wait=False, cancel_futures=True)
        with contextlib.suppress(OSError):
            shutil.rmtree(self._root)
        self._binaries.clear()
