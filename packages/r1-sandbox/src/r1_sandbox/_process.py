"""Run one command to completion with a deadline, capped output and its resource usage.

`subprocess.run` cannot do three things a judge needs: stop reading a flood at a cap and
kill the writer at once (it buffers everything, then times out), report the child's CPU
time and peak memory (it waits with `waitpid`, which drops `rusage`), and notice the exit
of the child separately from the end of its pipes (a grandchild may keep them open). So
this is a small `select` loop over the two pipes, stdin and a pidfd, reaping with
`os.wait4`. It runs in a worker thread; the async API awaits it.

Data flow: argv + stdin bytes + limits (from `LocalSandbox`) -> a process in its own
session -> `Outcome` (exit status, capped stdout/stderr, wall and CPU time, peak RSS).
"""

from __future__ import annotations

import contextlib
import errno
import os
import selectors
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

# After the child exits, its pipes may still be held by a grandchild (only outside bwrap,
# where nothing kills the rest of the tree); wait this long for EOF, then stop reading.
_DRAIN_GRACE_S = 0.2
_CHUNK = 1 << 16


@dataclass
class Outcome:
    """What happened to one process."""

    returncode: int | None  # exit status, or -signal
    stdout: bytes
    stderr: bytes
    wall_s: float
    cpu_s: float
    max_rss_kb: int
    timed_out: bool = False
    stdout_overflow: bool = False
    spawn_error: str = ""
    cgroup_peak_mb: float | None = None  # the run's whole tree, where a cgroup measured it
    cgroup_oom: bool = False


def _kill(proc: subprocess.Popen[bytes]) -> None:
    # The child leads its own session: the group holds everything it started (outside
    # bwrap); inside bwrap, killing the outer bwrap kills the whole PID namespace.
    # os.kill, not proc.kill: Popen polls (and so reaps) first, losing the rusage.
    for kill in (os.killpg, os.kill):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            kill(proc.pid, signal.SIGKILL)


def spawn(
    argv: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    cwd: str | None = None,
    pass_fds: Sequence[int] = (),
    user: int | None = None,
    group: int | None = None,
) -> subprocess.Popen[bytes]:
    """Start `argv` in its own session with piped stdin, stdout and stderr."""
    return subprocess.Popen(
        list(argv),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=dict(env) if env is not None else None,
        cwd=cwd,
        pass_fds=tuple(pass_fds),
        start_new_session=True,
        user=user,
        group=group,
        extra_groups=[] if user is not None else None,
    )


def discard(proc: subprocess.Popen[bytes]) -> None:
    """Kill and reap a process that will not be supervised (a spare warm sandbox)."""
    _kill(proc)
    os.waitpid(proc.pid, 0)
    proc.returncode = -signal.SIGKILL
    for stream in (proc.stdin, proc.stdout, proc.stderr):
        with contextlib.suppress(OSError):
            if stream is not None:
                stream.close()


def execute(
    argv: Sequence[str],
    *,
    stdin: bytes = b"",
    env: Mapping[str, str] | None = None,
    cwd: str | None = None,
    timeout: float,
    output_limit: int,
    pass_fds: Sequence[int] = (),
    user: int | None = None,
    group: int | None = None,
    cancel_fd: int | None = None,
) -> Outcome:
    """Run `argv` until it exits, `timeout` wall seconds pass, or stdout passes the cap.

    `cancel_fd`: when it becomes readable (the caller was cancelled), the run is killed.
    """
    start = time.monotonic()
    try:
        proc = spawn(argv, env=env, cwd=cwd, pass_fds=pass_fds, user=user, group=group)
    except OSError as exc:
        return Outcome(None, b"", b"", 0.0, 0.0, 0, spawn_error=f"cannot start {argv[0]}: {exc}")
    return supervise(
        proc,
        stdin=stdin,
        timeout=timeout,
        output_limit=output_limit,
        start=start,
        cancel_fd=cancel_fd,
    )


def supervise(
    proc: subprocess.Popen[bytes],
    *,
    stdin: bytes,
    timeout: float,
    output_limit: int,
    start: float,
    cancel_fd: int | None = None,
) -> Outcome:
    """Feed, read and time a started process until it exits, times out or floods.

    A readable `cancel_fd` kills it at once (its caller was cancelled), as a timeout does.
    """
    deadline = start + timeout
    assert proc.stdin and proc.stdout and proc.stderr
    out = bytearray()
    err = bytearray()
    timed_out = overflow = False
    status: int | None = None
    rusage = None
    pidfd = os.pidfd_open(proc.pid)
    sel = selectors.DefaultSelector()
    try:
        sel.register(proc.stdout, selectors.EVENT_READ, "out")
        sel.register(proc.stderr, selectors.EVENT_READ, "err")
        sel.register(pidfd, selectors.EVENT_READ, "exit")
        if cancel_fd is not None:
            sel.register(cancel_fd, selectors.EVENT_READ, "cancel")
        pending = memoryview(stdin)
        if pending:
            os.set_blocking(proc.stdin.fileno(), False)
            sel.register(proc.stdin, selectors.EVENT_WRITE, "in")
        else:
            proc.stdin.close()
        exited_at: float | None = None
        streams = 2
        while streams:
            now = time.monotonic()
            if exited_at is None and now >= deadline:
                timed_out = True
                break
            if exited_at is not None and now >= exited_at + _DRAIN_GRACE_S:
                break
            wait = (deadline if exited_at is None else exited_at + _DRAIN_GRACE_S) - now
            for key, _ in sel.select(max(wait, 0.0)):
                what = key.data
                if what == "cancel":
                    timed_out = True
                    streams = 0
                    break
                if what == "in":
                    try:
                        written = os.write(proc.stdin.fileno(), pending[:_CHUNK])
                        pending = pending[written:]
                    except OSError as exc:  # the program closed stdin or exited: fine
                        if exc.errno not in (errno.EPIPE, errno.EAGAIN):
                            raise
                        if exc.errno == errno.EPIPE:
                            pending = pending[:0]
                    if not pending:
                        sel.unregister(proc.stdin)
                        proc.stdin.close()
                elif what == "exit":
                    sel.unregister(pidfd)
                    exited_at = time.monotonic()
                else:
                    chunk = os.read(key.fd, _CHUNK)
                    if not chunk:
                        sel.unregister(key.fileobj)
                        streams -= 1
                        continue
                    buf = out if what == "out" else err
                    room = output_limit - len(buf)
                    if room > 0:
                        buf += chunk[:room]
                    if what == "out" and len(chunk) > room:
                        # A flood: stop it now rather than let it fill a pipe forever.
                        overflow = True
                        streams = 0
                        break
        if not timed_out and not overflow and exited_at is None:
            # Pipes closed but the child may still run (e.g. closed its stdout): wait for
            # its pidfd alone.
            with contextlib.suppress(KeyError, ValueError):
                sel.unregister(proc.stdin)
            ready = sel.select(max(deadline - time.monotonic(), 0.0))
            if not ready or any(key.data == "cancel" for key, _ in ready):
                timed_out = True
    finally:
        sel.close()
        _kill(proc)
        _, status, rusage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        os.close(pidfd)
        for stream in (proc.stdin, proc.stdout, proc.stderr):
            with contextlib.suppress(OSError):
                stream.close()
    return Outcome(
        returncode=proc.returncode,
        stdout=bytes(out),
        stderr=bytes(err),
        wall_s=time.monotonic() - start,
        cpu_s=rusage.ru_utime + rusage.ru_stime,
        max_rss_kb=rusage.ru_maxrss,
        timed_out=timed_out,
        stdout_overflow=overflow,
    )
