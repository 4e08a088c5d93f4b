"""Distinct interpreted programs of one `run_batch` sharing a sandbox: no program can
change another's verdict.

Each attack runs as program A right before an honest program B in one chunk (a backend
with `concurrency=1` puts the whole batch in one sandbox); B's verdict and output must be
those of B run alone.
"""

from __future__ import annotations

import pytest

from r1_sandbox import Job, LocalSandbox, Status

# The honest program: it sees whatever an earlier program left behind (processes, files,
# System V segments) and needs 150 MB of its 256 MB limit, whatever came before it.
HONEST = """
import os, sys
data = sys.stdin.read().strip()
others = [p for p in os.listdir("/proc") if p.isdigit() and int(p) not in (1, os.getpid(), os.getppid())]
left = sorted(os.listdir(".")) + sorted(os.listdir("/tmp")) + sorted(os.listdir("/dev/shm"))
with open("/proc/sysvipc/shm") as fh:
    segments = len(fh.read().splitlines()) - 1
import ctypes
queue = ctypes.CDLL(None).mq_open(b"/left", os.O_RDONLY) >= 0  # a POSIX message queue
block = bytearray(150 << 20)
print(data, len(others), left, segments, queue)
"""

LEAVE = """
import ctypes, os
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        import time
        time.sleep(30)
    os._exit(0)
for path in ["left", "/tmp/left", "/dev/shm/left"]:
    open(path, "w").write("x")
os.makedirs("/tmp/locked/deeper")
open("/tmp/locked/deeper/f", "w").write("x")
os.chmod("/tmp/locked/deeper", 0)
os.chmod("/tmp/locked", 0)
libc = ctypes.CDLL(None, use_errno=True)
libc.shmat.restype = ctypes.c_void_p
size = 200 << 20
shm = libc.shmget(0, ctypes.c_size_t(size), 0o1600)  # IPC_PRIVATE, IPC_CREAT | 0600
addr = libc.shmat(shm, None, 0)
if addr not in (None, ctypes.c_void_p(-1).value):
    ctypes.memset(addr, 1, size)  # its pages are charged to the run's memory
libc.semget(0, 1, 0o1600)
libc.msgget(0, 0o1600)
assert libc.mq_open(b"/left", os.O_CREAT | os.O_RDWR, 0o600, None) >= 0
print("left", shm)
"""

FLOOD = """
import sys
while True:
    sys.stdout.write("x" * 65536)
"""

KILL_RUNNER = """
import os, signal
os.kill(os.getppid(), signal.SIGKILL)
"""

SPY = """
import os
seen = []
for name in ["fd/0", "mem", "environ", "fd/1"]:
    try:
        with open(f"/proc/{os.getppid()}/{name}", "rb") as fh:
            seen.append(fh.read(4096))
    except OSError as exc:
        seen.append(type(exc).__name__)
forged = "0" * 32 + " W10="  # a report of no tests, behind a guessed secret
for target in [f"/proc/{os.getppid()}/fd/1", "/proc/1/fd/1"]:
    try:
        with open(target, "w") as fh:
            fh.write(forged + "\\n")
    except OSError:
        pass
print(forged)
print(seen)
"""

TAMPER = {
    "nice": "import os\nos.setpriority(os.PRIO_PROCESS, os.getppid(), 19)\n",
    "prlimit": (
        "import os, resource\n"
        "resource.prlimit(os.getppid(), resource.RLIMIT_CPU, (1, 1))\n"
        "resource.prlimit(os.getppid(), resource.RLIMIT_NOFILE, (64, 64))\n"
    ),
}


@pytest.fixture(scope="module")
def box():
    sandbox = LocalSandbox(concurrency=1)
    if not sandbox._runs_sources_in_turn():
        sandbox.close()
        pytest.skip(f"no contained local sandbox here: {sandbox.refusal}")
    yield sandbox
    sandbox.close()


@pytest.fixture
def sandboxes(box, monkeypatch):
    """The backend, and a list that counts its sandboxes (one per `_execute`)."""
    started: list[str] = []
    original = box._execute

    async def counted(job, *args, **kwargs):
        started.append(job.language)
        return await original(job, *args, **kwargs)

    monkeypatch.setattr(box, "_execute", counted)
    return box, started


def honest() -> Job:
    return Job(HONEST, stdin="SECRET-B", timeout=10, memory_mb=256)


def alone(box: LocalSandbox) -> tuple[Status, str]:
    result = box.run_sync(HONEST, stdin="SECRET-B", timeout=10, memory_mb=256)
    assert result.status is Status.OK, result
    assert result.stdout == "SECRET-B 0 ['main.py'] 0 False\n", result
    return result.status, result.stdout


def test_distinct_programs_share_one_sandbox_each_with_its_own_limits(sandboxes):
    box, started = sandboxes
    jobs = [
        Job("print(input()[::-1])", stdin="abc", timeout=5),
        Job("while True: pass", timeout=0.5),
        Job("import sys; sys.exit(125)", timeout=5),  # its exit code, not a failed exec
        Job("echo $(cat d.txt) > d.txt; cat d.txt", "bash", files={"d.txt": "mine"}),
        Job("print(open('d.txt').read())", files={"d.txt": "pristine"}),
        Job("x = bytearray(300 << 20)", memory_mb=64),
        Job("x = bytearray(300 << 20); print('fits')", memory_mb=512),
    ]
    results = box.run_batch_sync(jobs)
    # The chunk in one sandbox up to the timeout; the runner then stops and reports, and
    # the rest go on in another one (side by side with more, at a larger concurrency).
    assert len(started) == 2
    assert [r.status for r in results] == [
        Status.OK,
        Status.TLE,
        Status.RE,
        Status.OK,
        Status.OK,
        Status.MLE,  # past its own 64 MB, as alone (the chunk's cgroup holds 512 MB)
        Status.OK,
    ]
    assert results[0].stdout == "cba\n" and results[2].exit_code == 125
    assert results[3].stdout == "mine\n" and results[4].stdout == "pristine\n"
    assert results[6].stdout == "fits\n"


def test_what_a_program_leaves_behind_never_reaches_the_next(sandboxes):
    box, started = sandboxes
    expected = alone(box)
    started.clear()
    a, b = box.run_batch_sync([Job(LEAVE, timeout=10, memory_mb=256), honest()])
    assert a.status is Status.OK and a.stdout.startswith("left"), a
    assert (b.status, b.stdout) == expected, b
    assert started == ["python"]  # cleaned up in place: no fallback was needed


def test_a_flood_of_output_is_the_flooders_verdict_only(box):
    expected = alone(box)
    a, b = box.run_batch_sync([Job(FLOOD, timeout=5), honest()])
    assert a.status is Status.OLE, a
    assert (b.status, b.stdout) == expected, b


def test_killing_the_runner_only_costs_a_sandbox_per_program(sandboxes):
    box, started = sandboxes
    expected = alone(box)
    started.clear()
    _, b = box.run_batch_sync([Job(KILL_RUNNER, timeout=5), honest()])
    assert (b.status, b.stdout) == expected, b
    assert len(started) == 3  # the chunk, then each program on its own


def test_a_program_can_neither_read_anothers_input_nor_forge_its_report(sandboxes):
    box, started = sandboxes
    expected = alone(box)
    started.clear()
    a, b = box.run_batch_sync([Job(SPY, timeout=5), honest()])
    assert a.status is Status.OK, a
    assert "SECRET-B" not in a.stdout and "PermissionError" in a.stdout, a
    assert (b.status, b.stdout) == expected, b
    assert started == ["python"]


@pytest.mark.parametrize("attack", sorted(TAMPER))
def test_tampering_with_the_runner_makes_every_program_run_alone(sandboxes, attack):
    box, started = sandboxes
    expected = alone(box)
    started.clear()
    _, b = box.run_batch_sync([Job(TAMPER[attack], timeout=5), honest()])
    assert (b.status, b.stdout) == expected, b
    assert len(started) == 3


def test_uncontained_batches_run_each_program_on_its_own():
    box = LocalSandbox(isolation="none")
    try:
        assert not box._runs_sources_in_turn()
        results = box.run_batch_sync([Job("print(1)"), Job("print(2)"), Job("print(3)")])
    finally:
        box.close()
    assert [r.stdout for r in results] == ["1\n", "2\n", "3\n"]
