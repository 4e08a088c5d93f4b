"""Warm sandboxes: a contained run started before its job arrives.

Most of the fixed cost of a short Python run is creating the namespaces and mounts
(~10 ms on a small VM), starting bwrap and the init, and starting CPython (~15 ms). A
warm spare pays all of it ahead of time, while the previous run executes: it is an
ordinary single-use run (fresh namespaces, fresh tmpfs, its own init) whose init has
already started `python3 main.py` with `main.py` a FIFO, on which the interpreter
blocks, and waits on its job pipe. When a job comes, the init writes the files, sets the
program's rlimits (`prlimit`), puts the real `main.py` in the FIFO's place and feeds the
code through the FIFO. A cold Python run goes exactly the same way with the job sent at
once, so a warm spare and a cold run differ only in when they started: the program sees
the same argv, `/proc/self/cmdline`, files (its own source among them), environment,
limits, fds and a fresh interpreter that has run nothing but its own start-up (an
earlier design ran the code inside a pre-started interpreter, which `open(__file__)`,
`sys.modules` and the stack could tell apart). Nothing is shared between runs: a spare
serves one job and dies.

Differences from a cold start: none the program can see but time; the wall time
(`time_s`) counts from the hand-over (the interpreter's start is not in it, its CPU time
is in `cpu_s`, as in a cold run).

Data flow: `LocalSandbox` keeps `warm_python` spares -> a Python job takes one -> the job
down the init's pipe -> `_process.supervise` as for any run.
"""

from __future__ import annotations

import contextlib
import os
import subprocess

from r1_sandbox._cgroup import RunCgroup
from r1_sandbox._process import Channels, discard


class WarmSandbox:
    """One spare sandbox: its bwrap process, its private fds and its cgroups."""

    def __init__(
        self, proc: subprocess.Popen[bytes], channels: Channels, cgroup: RunCgroup | None = None
    ) -> None:
        self.proc = proc
        self.channels = channels
        self.cgroup = cgroup

    def alive(self) -> bool:
        """Whether the spare is still waiting (checked without reaping it)."""
        try:
            info = os.waitid(os.P_PID, self.proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        except ChildProcessError:
            return False
        return info is None

    def drop(self) -> None:
        """Kill an unused spare and everything it holds."""
        self.channels.close_ctrl()  # EOF: the init exits
        if self.cgroup is not None:
            self.cgroup.kill()
        discard(self.proc)
        self.channels.close()
        if self.cgroup is not None:
            self.cgroup.remove()

    def close_quietly(self) -> None:
        with contextlib.suppress(OSError):
            self.channels.close()
