"""Warm Python sandboxes: namespaces and interpreter started before the job arrives.

Most of a trivial Python run is fixed cost: creating the namespaces and mounts (~10 ms on
a small VM) and starting CPython (~10-15 ms). A warm sandbox pays both ahead of time,
while the previous run executes: it is an ordinary single-use sandbox (fresh namespaces,
fresh tmpfs, its own interpreter) whose interpreter waits on a private pipe for one job
(limits, files, then the code), writes the files, sets the rlimits inside the user
namespace as `prlimit` would, and executes the code as `__main__`, as `python3 main.py`
would. Nothing is shared between runs: a warm sandbox serves one job and dies, and a
fresh one is spawned to replace it. Compiled programs do not use spares: they start in
about a millisecond, so a spare would add an interpreter start instead of hiding one.

Differences from a cold start, all small: a Python program finds `json`, `resource` and
`traceback` already imported; the CPU limit and the wall time (`time_s`)
count from the hand-over; files are private copies, as in a cold run.

Data flow: `LocalSandbox` keeps `warm_python` spares -> a Python job takes one -> header,
files and code down the control pipe -> `_process.supervise` as for any run.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import subprocess

from r1_sandbox._cgroup import RunCgroup
from r1_sandbox._process import discard

# Runs inside the sandbox as `python3 -c LOADER FD`. Names it leaves in __main__ are
# removed before a Python program runs in that same namespace.
LOADER = r"""
import os, sys
def _r1_load():
    import json, resource
    fd = int(sys.argv[1])
    chunks = []
    while True:
        chunk = os.read(fd, 1 << 16)
        if not chunk:
            break
        chunks.append(chunk)
    os.close(fd)
    data = b"".join(chunks)
    if not data:
        os._exit(0)
    header, _, body = data.partition(b"\n")
    job = json.loads(header)
    used = resource.getrusage(resource.RUSAGE_SELF)
    cpu = int(used.ru_utime + used.ru_stime) + job["cpu"]
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    offset = 0
    for name, size, mode in job["files"]:
        folder = os.path.dirname(name)
        if folder:
            os.makedirs(folder, exist_ok=True)
        with open(name, "wb") as fh:
            fh.write(body[offset : offset + size])
        os.chmod(name, mode)
        offset += size
    for name, value in job["limits"].items():
        resource.setrlimit(getattr(resource, name), (value, value))
    sys.argv[:] = ["main.py"]
    sys.path[0] = os.getcwd()
    return body[offset:]
_r1_code = _r1_load()
del _r1_load
try:
    _r1_code = compile(_r1_code, os.path.join(os.getcwd(), "main.py"), "exec")
except SyntaxError as _r1_error:
    import traceback
    traceback.print_exception(type(_r1_error), _r1_error, None)
    sys.exit(1)
__file__ = os.path.join(os.getcwd(), "main.py")
del os, sys
try:
    exec(globals().pop("_r1_code"), globals())
except SystemExit:
    raise
except BaseException as _r1_error:
    import sys, traceback
    traceback.print_exception(type(_r1_error), _r1_error, _r1_error.__traceback__.tb_next)
    sys.exit(1)
"""


class WarmSandbox:
    """One spare sandbox: its process and the write end of its control pipe."""

    def __init__(
        self, proc: subprocess.Popen[bytes], control: int, cgroup: RunCgroup | None = None
    ) -> None:
        self.proc = proc
        self.control = control
        self.cgroup = cgroup

    def alive(self) -> bool:
        """Whether the spare is still waiting (checked without reaping it)."""
        try:
            info = os.waitid(os.P_PID, self.proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        except ChildProcessError:
            return False
        return info is None

    def hand_over(
        self,
        *,
        cpu_s: float,
        limits: dict[str, int],
        files: dict[str, bytes],
        code: str,
    ) -> bool:
        """Send the job; False if the spare died (the caller then runs it cold).

        `files` are written beside `main.py`, then `code` runs as `main.py`.
        """
        table = [[name, len(content), 0o644] for name, content in files.items()]
        header = {"cpu": max(1, int(cpu_s + 0.999)), "limits": limits, "files": table}
        payload = [json.dumps(header).encode(), b"\n", *files.values(), code.encode()]
        data = memoryview(b"".join(payload))
        try:
            while data:
                data = data[os.write(self.control, data) :]
        except OSError:
            return False
        finally:
            os.close(self.control)
        return True

    def drop(self) -> None:
        with contextlib.suppress(OSError):
            os.close(self.control)
        discard(self.proc)
        if self.cgroup is not None:
            self.cgroup.remove()


def rlimits(*, memory_mb: int, max_processes: int, file_mb: int) -> dict[str, int]:
    """The rlimits a warm sandbox sets, by `resource` name (the same as `prlimit`'s)."""
    return {
        "RLIMIT_AS": memory_mb << 20,
        "RLIMIT_FSIZE": file_mb << 20,
        "RLIMIT_CORE": 0,
        "RLIMIT_NOFILE": 256,
        "RLIMIT_NPROC": max_processes,
    }


assert all(hasattr(resource, name) for name in rlimits(memory_mb=1, max_processes=1, file_mb=1))
