"""Many tests, one sandbox: a judge-side runner that runs one artifact's tests in turn.

A sandboxed run pays its setup (namespaces, mounts, cgroup, init) once; a contest program
has tens to hundreds of tests of a millisecond each, so one sandbox per test makes the
setup the whole cost. `Sandbox.run_inputs(artifact, inputs)` instead sends one job: the
artifact, and `RUNNER`, a small Python program that runs inside the contained sandbox and
executes the tests one after the other, each with
- its own limits (RLIMIT_CPU, RLIMIT_DATA, RLIMIT_FSIZE set in the child) and wall clock;
- a fresh scratch directory holding a pristine copy of the binary and of the caller's
  files (read from the runner's memory each time), so nothing a test wrote or changed
  reaches the next one;
- its own verdict from metadata only: the wait status, the CPU time and peak RSS of
  `wait4` (the runner is the subreaper, so orphans are reaped and counted), its clock;
- no survivor: after each test the runner sends SIGKILL to every process it may signal
  (`kill(-1)`, which spares only itself and the namespace's init; forks cannot race it)
  until none is left, then empties `/sandbox`, `/tmp` and `/dev/shm`.

The runner is judge-side code and kept out of the programs' reach as the IOI launcher
is: it makes itself non-dumpable before reading anything (no ptrace, no /proc/<pid>/mem
or fd, and the local backend's seccomp filter denies tracing anyway), reads every input
into memory before any test starts, and reports behind a per-call secret that only it
knows. Anything else on the run's stdout is ignored. If the report is missing or does
not fit (a program killed the runner, flooded the output, or the image has no python3),
`run_inputs` falls back to one sandbox per test, so a hostile program can make its own
grading slower, never wrong. The runner only runs inside r1's own init (`GUARD`): on a
hosted VM (E2B, MorphCloud) or uncontained (`isolation="none"`) its sweep would reach
processes and files that are not the batch's, so there every test runs on its own.

Not guaranteed: memory is bounded per test by RLIMIT_DATA and for the whole sandbox by the
backend (the run's cgroup on local); a test whose allocation was refused by the rlimit
may end as RE, where a run of its own would be MLE by an OOM kill.

Data flow: `Artifact` + inputs + files + limits -> `batch_job` (the binary placed as `./prog`,
`python3 runner.py`, stdin = secret + JSON of the tests) -> one backend run -> the
runner's report -> `results_from_report` -> one `RunResult` per input, in order.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
import signal
from collections.abc import Mapping, Sequence
from typing import Any

from r1_sandbox.result import Job, RunResult, Status

#: Seconds of the runner's own work per test (copy, spawn, wipe) in the whole-run limit.
PER_TEST_SLACK_S = 0.5
#: Memory of the runner itself (python3) on top of the largest test's limit.
RUNNER_MB = 64

#: The runner's first lines. Its sweep (`kill(-1)`, emptying the scratch, `/tmp` and
#: `/dev/shm`) is only safe as the sole tenant of a fresh PID namespace whose PID 1 is r1's
#: init: anywhere else (a host with `isolation="none"`, a hosted VM, a bare `python3
#: runner.py`) it would kill and delete what is not the batch's. There it exits 3 before
#: touching anything, and `run_inputs` runs one sandbox per test instead.
GUARD = r"""
import sys
try:
    with open("/proc/1/cmdline", "rb") as fh:
        contained = fh.read().split(b"\0", 1)[0] == b"/.r1-init"
except OSError:
    contained = False
if not contained:
    sys.exit(3)
"""

RUNNER = (
    GUARD
    + r"""
import base64, ctypes, json, os, resource, select, selectors, shutil, signal, sys, time
libc = ctypes.CDLL(None, use_errno=True)
libc.prctl(4, 0, 0, 0, 0)   # PR_SET_DUMPABLE 0: no ptrace, no /proc/<pid>/mem, fd, environ
libc.prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER: orphans come back to be reaped
nonce = sys.stdin.buffer.readline().strip().decode()
spec = json.loads(sys.stdin.buffer.read())
with open("prog", "rb") as fh:
    binary = fh.read()
argv = spec["argv"]
extra = [(n, base64.b64decode(c)) for n, c in spec["files"]]
limit = spec["output_limit"]
me = os.getpid()
ROOTS = [os.getcwd(), "/tmp", "/dev/shm"]

def wipe():
    for root in ROOTS:
        try:
            names = os.listdir(root)
        except OSError:
            continue
        for name in names:
            path = os.path.join(root, name)
            try:
                if os.path.isdir(path) and not os.path.islink(path):
                    shutil.rmtree(path, ignore_errors=True)
                else:
                    os.unlink(path)
            except OSError:
                pass

def kill_all():
    # kill(-1) signals every process but this one and PID 1; it fails (ESRCH) once none
    # is left. Killed orphans are our children (subreaper): reap them as they die.
    for _ in range(100000):
        try:
            os.kill(-1, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            break
        try:
            while os.waitpid(-1, os.WNOHANG)[0]:
                pass
        except ChildProcessError:
            time.sleep(0.0005)  # zombies of someone else's: their reaper is dying too
    try:
        while True:
            os.waitpid(-1, 0)
    except ChildProcessError:
        pass

wipe()
results = []
for test in spec["tests"]:
    os.mkdir("t", 0o700)
    path = os.path.join("t", "prog")
    with open(path, "wb") as fh:
        fh.write(binary)
    os.chmod(path, 0o500)
    for name, content in extra:
        target = os.path.join("t", name)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, "wb") as fh:
            fh.write(content)
    timeout, memory = test["timeout"], test["memory_mb"] << 20
    r_in, w_in = os.pipe()
    r_out, w_out = os.pipe()
    r_err, w_err = os.pipe()
    start = time.monotonic()
    pid = os.fork()
    if pid == 0:
        try:
            os.chdir("t")
            os.dup2(r_in, 0); os.dup2(w_out, 1); os.dup2(w_err, 2)  # the rest is CLOEXEC
            cpu = max(1, int(-(-timeout // 1)))  # whole seconds, rounded up
            resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
            if memory:
                resource.setrlimit(resource.RLIMIT_DATA, (memory, memory))
            resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
            hard = resource.getrlimit(resource.RLIMIT_STACK)[1]
            resource.setrlimit(resource.RLIMIT_STACK, (hard, hard))  # as CMS: deep recursion
            os.execv("./prog", ["./prog", *argv])
        except BaseException:
            os._exit(125)
    for fd in (r_in, w_out, w_err):
        os.close(fd)
    data = test["stdin"].encode()
    sel = selectors.DefaultSelector()
    sel.register(r_out, selectors.EVENT_READ, "out")
    sel.register(r_err, selectors.EVENT_READ, "err")
    if data:
        os.set_blocking(w_in, False)
        sel.register(w_in, selectors.EVENT_WRITE, "in")
    else:
        os.close(w_in)
    bufs = {"out": bytearray(), "err": bytearray()}
    overflow = timed_out = False
    status = rusage = None
    sent = 0
    while sel.get_map():
        left = timeout - (time.monotonic() - start)
        if left <= 0:
            timed_out = True
            break
        for key, _ in sel.select(min(left, 0.5)):
            if key.data == "in":
                try:
                    sent += os.write(w_in, data[sent:sent + 65536])
                except OSError:
                    sent = len(data)
                if sent >= len(data):
                    sel.unregister(w_in); os.close(w_in)
                continue
            chunk = os.read(key.fd, 65536)
            if not chunk:
                sel.unregister(key.fd); os.close(key.fd)
                continue
            buf = bufs[key.data]
            buf += chunk
            if len(buf) > limit:
                del buf[limit:]
                if key.data == "out":
                    overflow = True
        if overflow:
            break
    if not timed_out and not overflow:
        try:
            pidfd = os.pidfd_open(pid)
        except (AttributeError, OSError):
            pidfd = None
        while True:
            _, st, ru = os.wait4(pid, os.WNOHANG)
            if _:
                status, rusage = st, ru
                break
            left = timeout - (time.monotonic() - start)
            if left <= 0:
                timed_out = True
                break
            if pidfd is not None:
                select.select([pidfd], [], [], left)  # readable when the test exits
            else:
                time.sleep(0.0005)
        if pidfd is not None:
            os.close(pidfd)
    wall = time.monotonic() - start
    if status is None:
        os.kill(pid, signal.SIGKILL)
        _, status, rusage = os.wait4(pid, 0)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    kill_all()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    for key in list(sel.get_map().values()):
        sel.unregister(key.fd)
        try:
            os.close(key.fd)
        except OSError:
            pass
    cpu = rusage.ru_utime + rusage.ru_stime
    cpu += (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    results.append({
        "exit": os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
        "signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
        "wall": wall, "cpu": cpu, "rss_kb": max(rusage.ru_maxrss, after.ru_maxrss),
        "timed_out": timed_out, "overflow": overflow,
        "stdout": base64.b64encode(bytes(bufs["out"])).decode(),
        "stderr": base64.b64encode(bytes(bufs["err"][-limit:])).decode(),
    })
    wipe()
sys.stdout.write(nonce + " " + base64.b64encode(json.dumps(results).encode()).decode() + "\n")
"""
)


def batch_job(
    inputs: Sequence[str],
    *,
    timeout: float,
    memory_mb: int,
    argv: Sequence[str],
    output_limit: int,
    files: Mapping[str, str | bytes] | None = None,
) -> tuple[str, dict[str, str], str, float, int, str]:
    """(script, files, stdin, whole-run timeout, whole-run memory, secret) of one batch.

    `files` are placed in every test's fresh directory, beside the program.
    """
    files = dict(files or {})
    Job("", files=files)  # the same rules for file names as a run of its own
    nonce = secrets.token_hex(16)
    spec: dict[str, Any] = {
        "argv": list(argv),
        "files": [
            [name, base64.b64encode(c.encode() if isinstance(c, str) else c).decode()]
            for name, c in files.items()
        ],
        "output_limit": output_limit,
        "tests": [{"stdin": s, "timeout": timeout, "memory_mb": memory_mb} for s in inputs],
    }
    stdin = nonce + "\n" + json.dumps(spec)
    whole_timeout = len(inputs) * (timeout + PER_TEST_SLACK_S) + 5.0
    script = "exec python3 runner.py\n"
    return script, {"runner.py": RUNNER}, stdin, whole_timeout, memory_mb + RUNNER_MB, nonce


def read_report(stdout: str, nonce: str, count: int) -> list[Mapping[str, Any]] | None:
    """The runner's per-test records behind `nonce`, or None when there is no valid one."""
    prefix = nonce + " "
    for line in reversed(stdout.splitlines()):
        if not line.startswith(prefix):
            continue
        try:
            records = json.loads(base64.b64decode(line[len(prefix) :], validate=True))
        except (binascii.Error, ValueError):
            continue
        if isinstance(records, list) and len(records) == count:
            return records
    return None


def result_of(record: Mapping[str, Any], timeout: float, memory_mb: int, limit: int) -> RunResult:
    """One test's `RunResult`, from the runner's metadata (never from the program's output)."""
    stdout = base64.b64decode(record["stdout"]).decode("utf-8", "replace")
    stderr = base64.b64decode(record["stderr"]).decode("utf-8", "replace")
    code, sig = record.get("exit"), record.get("signal")
    cpu = float(record.get("cpu") or 0.0)
    memory = round(int(record.get("rss_kb") or 0) / 1024, 2)
    rc = -sig if sig else code
    message = ""
    if record.get("overflow"):
        status, message = Status.OLE, f"stdout passed {limit} bytes"
    elif record.get("timed_out") or cpu >= timeout or sig == signal.SIGXCPU:
        status, message = Status.TLE, f"time limit {timeout:g}s"
    elif code == 125:
        status, message = Status.SE, "the runner could not execute the program"
    elif code == 0:
        status = Status.OK
    elif memory >= 0.95 * memory_mb or sig == signal.SIGKILL:
        # SIGKILL that the runner did not send (no timeout, no overflow): the OOM killer.
        status, message = Status.MLE, f"memory limit {memory_mb} MB"
    else:
        status = Status.RE
        if sig:
            try:
                message = f"killed by {signal.Signals(sig).name}"
            except ValueError:
                message = f"killed by signal {sig}"
        else:
            message = f"exit {code}"
    return RunResult(
        status=status,
        exit_code=rc,
        stdout=stdout,
        stderr=stderr,
        time_s=round(float(record.get("wall") or 0.0), 4),
        memory_mb=memory,
        message=message,
        cpu_s=round(cpu, 4),
    )
