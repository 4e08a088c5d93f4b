"""Warm sandboxes: a contained run started before its job arrives.

Most of the fixed cost of a short run is creating the namespaces and mounts (~10 ms on a
small VM) and starting bwrap and the init. A warm spare pays that ahead of time, while
the previous run executes: it is an ordinary single-use run (fresh namespaces, fresh
tmpfs, its own init) whose init blocks on its job pipe. When a job comes, the job (limits
and files, the program's source among them) goes down that pipe and the init does
exactly what it does for a cold run: writes the files, sets the rlimits, forks and execs
`python3 main.py`. A cold run is the same thing with the pipe written at once, so a
warm spare and a cold run differ only in when bwrap started: the program sees the same
argv, files, environment, limits and a fresh interpreter (an earlier design ran the code
inside a pre-started interpreter, which `open(__file__)` and `sys.modules` could tell
apart). Nothing is shared between runs: a spare serves one job and dies.

Differences from a cold start: none the program can see; the wall time (`time_s`) and
the CPU limit count from the hand-over.

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
