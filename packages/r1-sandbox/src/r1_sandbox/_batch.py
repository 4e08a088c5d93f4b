"""Many runs, one sandbox: a judge-side runner that runs programs' tests in turn.

A sandboxed run pays its setup (namespaces, mounts, cgroup, init) once; a contest program
has tens to hundreds of tests of a millisecond each, and a code reward's batch hundreds of
short Python programs, so one sandbox per run makes the setup the whole cost. Instead one
job carries `RUNNER`, a small Python program that runs inside the contained sandbox and
executes a list of entries one after the other. Each entry names its program (a built
binary, for `Sandbox.run_inputs(artifact, inputs)`; or an interpreted source with files
of its own, for `Sandbox.run_batch` of distinct programs) and gets
- its own limits: RLIMIT_CPU (soft and hard) and a wall clock; memory as a run of its own
  meets it, from the run's cgroup (an OOM kill) and its peak (below);
- a fresh `/sandbox`, where a run of its own runs, holding a pristine copy of its program
  (`./prog`, mode 0500, for a binary) and files, written from the runner's memory;
- the start a run of its own gets from r1's init: every signal at its default (CPython
  ignores SIGPIPE and SIGXFSZ, and ignoring survives an exec), none blocked, no core
  dumps, the run's RLIMIT_FSIZE. It is started with posix_spawn (a vfork: a fork of the
  runner's interpreter costs more than a tiny test), the runner's own soft CPU limit set
  to the test's for the spawn, so the child is born with it, and the child's hard one
  lowered right after with prlimit (which also undoes a raise it made in that instant).
  glibc's posix_spawn leaves its two internal signals (32, 33) ignored in the child;
  glibc in the program installs its own handlers when it uses them;
- its own verdict from metadata only: the wait status, the CPU time and peak RSS of
  `wait4` (the runner is the subreaper, so orphans are reaped and counted), its clock; it
  ends when its program exits, as a run of its own ends when the init reaps it;
- no survivor: after each entry the runner sends SIGKILL to every process it may signal
  (`kill(-1)`, which spares only itself and the namespace's init; forks cannot race it)
  until none is left, empties `/sandbox`, `/tmp`, `/dev/shm` and `/dev/mqueue` (opening
  up directories made unreadable), and removes every System V IPC object of the
  sandbox's namespace.

After a test that timed out the runner stops and reports the tests that ran (the last
record is that test's): the caller runs the rest in sandboxes side by side, up to its
concurrency (`Sandbox._run_in_turn`), so a program that times out on every test costs about
what a sandbox per test costs, and one that never does, a single sandbox's setup.

The runner is judge-side code and kept out of the programs' reach as the IOI launcher
is: it makes itself non-dumpable before reading anything (no ptrace, no /proc/<pid>/mem
or fd, and the local backend's seccomp filter denies tracing anyway), reads every input
into memory before any test starts, and reports behind a per-call secret that only it
knows. Anything else on the run's stdout is ignored. If the report is missing or does
not fit (a program killed the runner, flooded the output, or the image has no python3),
the caller falls back to one sandbox per run, so a hostile program can make grading
slower, never wrong. The runner only runs inside r1's own init (`GUARD`): on a hosted VM
(E2B, MorphCloud) or uncontained (`isolation="none"`) its sweep would reach processes and
files that are not the batch's, so there every run is on its own.

Distinct programs in one sandbox are as far apart as the tests of one artifact, and that
separation was already built for an adversary (a test that could leave state for the
next could learn or fake answers). What program A, run before B, can and cannot do:
- leave processes, files (anywhere writable), System V segments, semaphores or queues,
  POSIX message queues: all gone before B starts, and the runner checks that they are,
  else it stops;
- read B's source, input or files: they exist only in the runner's memory (non-dumpable)
  until B's turn; A's stdin is a pipe of its own;
- forge B's record: the report is one line behind a 128-bit secret read from the runner's
  stdin before A started; A's stdout is a pipe the runner reads; A cannot write the run's;
- change what B inherits from the runner (its rlimits by `prlimit`, its niceness,
  scheduling policy or CPU affinity, all open to a program of the same uid): the runner
  compares them after each entry with their values at its start, and stops if any moved;
- kill, stop or stall the runner (same uid): the report is then missing or late, and
  every program runs in a sandbox of its own;
- take B's time or memory: each entry has its own clock and CPU limit, and the cgroup
  is sized for the largest entry plus the runner; the whole run's limits are the sum of
  the entries' times and the largest memory, plus slack.
POSIX message queues are removed too: the local backend mounts the IPC namespace's own
mqueue file system at `/dev/mqueue`, which the runner empties with the scratch
directories.

Memory verdicts match a run of its own: no per-entry RLIMIT_DATA (an allocation refused
early would end as RE, where alone the cgroup's OOM kill is MLE); the run's cgroup holds
the largest entry's limit plus the runner (`RUNNER_MB` and what it holds), each entry's
processes are the OOM killer's first choice (`oom_score_adj` 1000), and an entry is MLE
if it was SIGKILLed while the kernel's OOM-kill count rose, or if its peak RSS passed its
limit (alone, the cgroup would have stopped it there). Not the same: the peak is that
of the entry's largest process, not the cgroup's peak of the whole tree, so several
processes of one entry that each stay under the limit are bounded together only by the
batch's cgroup.

Data flow: a binary + inputs + files + limits (`batch_job`), or interpreted `Job`s
(`sources_job`) -> one backend run of `RUNNER` as a Python program (a warm spare where
the backend keeps one; stdin = secret + JSON of the entries) -> the runner's report ->
`read_report` / `result_of` -> one `RunResult` per entry, in order.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
import signal
from collections.abc import Mapping, Sequence
from typing import Any

from r1_sandbox.artifacts import STACK_PROLOGUE
from r1_sandbox.languages import get_language
from r1_sandbox.result import Job, RunResult, Status

#: Seconds of the runner's own work per test (copy, spawn, wipe) in the whole-run limit.
PER_TEST_SLACK_S = 0.5
#: Memory of the runner itself (python3) on top of the largest test's limit.
RUNNER_MB = 64
#: Copies of the entries' JSON the runner may hold at once (text, parsed, decoded files).
PAYLOAD_COPIES = 3

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
import base64, ctypes, errno, json, os, resource, select, selectors, shutil, signal, sys, time
libc = ctypes.CDLL(None, use_errno=True)
libc.prctl(4, 0, 0, 0, 0)   # PR_SET_DUMPABLE 0: no ptrace, no /proc/<pid>/mem, fd, environ
libc.prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER: orphans come back to be reaped
resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # for every test, as for a run of its own
# CPython ignores SIGPIPE and SIGXFSZ, and ignoring is inherited through exec: a program
# must start as under r1's init, with every signal at its default.
DEFAULTS = (signal.SIGPIPE, signal.SIGXFSZ, signal.SIGXCPU)
# While it spawns a test, the runner's own soft CPU limit is the test's (see `launch`).
signal.signal(signal.SIGXCPU, lambda *_: None)
nonce = sys.stdin.buffer.readline().strip().decode()
spec = json.loads(sys.stdin.buffer.read())
programs = [
    (p["argv"], [(n, base64.b64decode(c)) for n, c in p["files"]], set(p.get("exec", ())),
     bool(p.get("stack")))
    for p in spec["programs"]
]
del spec["programs"]
limit = spec["output_limit"]
me = os.getpid()
ROOTS = [os.getcwd(), "/tmp", "/dev/shm", "/dev/mqueue"]  # the last: POSIX message queues
# Built programs bound read-only into /sandbox (`keep`): the same for every entry, and
# nothing an entry can change or remove.
KEEP = set(spec.get("keep", ()))

def wipe():
    # True if there was anything to remove (and so something to check for afterwards).
    found = False
    for root in ROOTS:
        try:
            names = os.listdir(root)
        except OSError:
            continue
        for name in names:
            if root == ROOTS[0] and name in KEEP:
                continue
            found = True
            path = os.path.join(root, name)
            try:
                if os.path.isdir(path) and not os.path.islink(path):
                    # A program may leave directories it made unreadable or unwritable:
                    # they are ours too (one uid), so open them up on the way down.
                    os.chmod(path, 0o700)
                    for top, dirs, _ in os.walk(path):
                        for d in dirs:
                            try:
                                os.chmod(os.path.join(top, d), 0o700, follow_symlinks=False)
                            except OSError:
                                pass
                    shutil.rmtree(path, ignore_errors=True)
                else:
                    os.unlink(path)
            except OSError:
                pass
    return found

def ipc_ids():
    # System V IPC objects outlive their creator (the IPC namespace is the sandbox's):
    # a segment left behind would hold memory, and a queue data, into the next test.
    found = []
    for kind in ("shm", "msg", "sem"):
        try:
            with open("/proc/sysvipc/" + kind) as fh:
                rows = fh.read().splitlines()[1:]
        except OSError:
            continue
        found += [(kind, int(row.split()[1])) for row in rows if row.strip()]
    return found

def drop_ipc(ids):
    for kind, ident in ids:
        if kind == "shm":
            libc.shmctl(ident, 0, None)  # IPC_RMID
        elif kind == "msg":
            libc.msgctl(ident, 0, None)
        else:
            libc.semctl(ident, 0, 0)

RLIMITS = sorted(getattr(resource, n) for n in dir(resource) if n.startswith("RLIMIT_"))
CPU, STACK = resource.RLIMIT_CPU, resource.RLIMIT_STACK

def own_state():
    # What a program of the same uid may change in the runner, and its successors inherit:
    # rlimits (prlimit), niceness (setpriority), scheduling policy and CPU affinity.
    return (
        [resource.getrlimit(r) for r in RLIMITS],
        os.getpriority(os.PRIO_PROCESS, 0),
        os.sched_getscheduler(0),
        sorted(os.sched_getaffinity(0)),
    )

def names(root):
    try:
        found = os.listdir(root)
    except OSError:
        return []
    return [n for n in found if n not in KEEP] if root == ROOTS[0] else found

def clean():
    # Nothing of a finished test may reach the next one; if something does, stop with no
    # report at all: the caller then runs every test in a sandbox of its own. Every
    # process is dead by now, so what a first look finds empty stays empty.
    dirty = wipe()
    ids = ipc_ids()
    drop_ipc(ids)
    if dirty and any(names(root) for root in ROOTS):
        sys.exit(4)
    if (ids and ipc_ids()) or own_state() != state:
        sys.exit(4)

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

def oom_kills():
    # The kernel's count of OOM kills: the sandbox's cgroup (the whole run) is the only
    # memory bound of a test, so a kill during one is that test's memory limit.
    try:
        with open("/proc/vmstat") as fh:
            for line in fh:
                if line.startswith("oom_kill "):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return None

def launch(argv, fds, cpu, stack):
    # The pid of one test's program, started in `.` with its limits; None if it cannot
    # be executed. posix_spawn (a vfork) costs a fraction of a fork of this interpreter.
    # A child inherits its rlimits at birth, so the runner's own soft limits are the
    # test's while it spawns (soft only: it can put them back), and the child's hard CPU
    # limit is lowered right after with prlimit, which also undoes anything it did to its
    # soft ones meanwhile.
    actions = [(os.POSIX_SPAWN_DUP2, fd, i) for i, fd in enumerate(fds)]
    saved = [(r, resource.getrlimit(r)) for r in (CPU, STACK)]
    try:
        resource.setrlimit(CPU, (cpu, saved[0][1][1]))
        if stack:  # a built program, as CMS runs it: deep recursion
            resource.setrlimit(STACK, (saved[1][1][1], saved[1][1][1]))
        pid = os.posix_spawnp(argv[0], argv, os.environ, file_actions=actions, setsigdef=DEFAULTS)
    except OSError as exc:
        if exc.errno in (errno.EAGAIN, errno.ENOMEM):
            raise  # the runner's trouble, not the program's: no report, each test alone
        return None  # ENOENT, ENOEXEC, EACCES: what the exec of a run of its own says too
    finally:
        for r, value in saved:
            resource.setrlimit(r, value)
    try:
        resource.prlimit(pid, CPU, (cpu, cpu + 1))
    except ProcessLookupError:
        pass  # it has already exited: there is nothing left to bound
    try:
        # If the sandbox runs out of memory, the kernel must pick the test, not the runner.
        with open(f"/proc/{pid}/oom_score_adj", "w") as fh:
            fh.write("1000")
    except OSError:
        pass  # gone already, or an unreadable (non-dumpable) binary: its /proc is not ours
    return pid

state = own_state()
clean()
results = []
for test in spec["tests"]:
    argv, extra, executable, stack = programs[test["program"]]
    extra = extra + [(n, base64.b64decode(c)) for n, c in test.get("files", ())]
    # Every test runs where a run of its own would: in /sandbox (emptied by `clean`), with
    # a pristine copy of its program and files from the runner's memory.
    for name, content in extra:
        os.makedirs(os.path.dirname(name) or ".", exist_ok=True)
        with open(name, "wb") as fh:
            fh.write(content)
        if name in executable:
            os.chmod(name, 0o500)
    timeout = test["timeout"]
    cpu = max(1, int(-(-timeout // 1)))  # whole seconds, rounded up
    r_in, w_in = os.pipe()
    r_out, w_out = os.pipe()
    r_err, w_err = os.pipe()
    # Children's peak RSS so far: orphans reaped below count only if they go above it.
    prior_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    kills = oom_kills()
    start = time.monotonic()
    pid = launch(argv, (r_in, w_out, w_err), cpu, stack)
    for fd in (r_in, w_out, w_err):
        os.close(fd)
    if pid is None:
        os.close(w_in); os.close(r_out); os.close(r_err)
        results.append({"exit": None, "signal": None, "wall": 0.0, "cpu": 0.0, "rss_kb": 0,
                        "timed_out": False, "overflow": False, "exec_failed": True,
                        "oom": False, "stdout": "", "stderr": ""})
        clean()
        continue
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
    overflow = timed_out = exited = False
    status = rusage = None
    sent = 0
    try:
        pidfd = os.pidfd_open(pid)
    except (AttributeError, OSError):
        pidfd = None
    if pidfd is not None:
        # The test ends when its program does, as a run of its own ends when the init
        # reaps it: a background process holding stdout must not stretch it to a TLE.
        sel.register(pidfd, selectors.EVENT_READ, "exit")

    def take(key):
        global overflow
        chunk = os.read(key.fd, 65536)
        if not chunk:
            sel.unregister(key.fd); os.close(key.fd)
            return
        buf = bufs[key.data]
        buf += chunk
        if len(buf) > limit:
            del buf[limit:]
            if key.data == "out":
                overflow = True

    while any(k.data in ("out", "err") for k in sel.get_map().values()):
        left = timeout - (time.monotonic() - start)
        if left <= 0:
            timed_out = True
            break
        for key, _ in sel.select(min(left, 0.5)):
            if key.data == "exit":
                exited = True
            elif key.data == "in":
                try:
                    sent += os.write(w_in, data[sent:sent + 65536])
                except OSError:
                    sent = len(data)
                if sent >= len(data):
                    sel.unregister(w_in); os.close(w_in)
            else:
                take(key)
        if overflow or exited:
            break
    if not timed_out and not overflow:
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
    wall = time.monotonic() - start
    if status is None:
        os.kill(pid, signal.SIGKILL)
        _, status, rusage = os.wait4(pid, 0)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    kill_all()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if pidfd is not None:
        sel.unregister(pidfd); os.close(pidfd)
    if not timed_out and not overflow:
        # Every writer is dead now: what is left in the pipes is the test's last output.
        if sent < len(data):
            sel.unregister(w_in); os.close(w_in)
        while sel.get_map() and not overflow:
            ready = sel.select(1.0)  # a writer the sweep could not kill: keep what came
            if not ready:
                break
            for key, _ in ready:
                take(key)
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
        "wall": wall, "cpu": cpu,
        "rss_kb": max(rusage.ru_maxrss, after.ru_maxrss if after.ru_maxrss > prior_kb else 0),
        "timed_out": timed_out, "overflow": overflow, "exec_failed": False,
        # Read again only where it can matter: a SIGKILL the runner did not send.
        "oom": kills is not None and os.WIFSIGNALED(status) and os.WTERMSIG(status) == 9
               and not (timed_out or overflow) and (oom_kills() or 0) > kills,
        "stdout": base64.b64encode(bytes(bufs["out"])).decode(),
        "stderr": base64.b64encode(bytes(bufs["err"][-limit:])).decode(),
    })
    clean()
    if timed_out:
        # Report what ran: the caller spreads the rest over sandboxes side by side, so that
        # tests that all time out do not wait behind one another in this one.
        break
sys.stdout.write(nonce + " " + base64.b64encode(json.dumps(results).encode()).decode() + "\n")
"""
)


def _encoded(files: Mapping[str, str | bytes]) -> list[list[str]]:
    Job("", files=files)  # the same rules for file names as a run of its own
    return [
        [name, base64.b64encode(c.encode() if isinstance(c, str) else c).decode()]
        for name, c in files.items()
    ]


def batch_job(
    binary: bytes,
    inputs: Sequence[str],
    *,
    timeout: float,
    memory_mb: int,
    argv: Sequence[str],
    output_limit: int,
    files: Mapping[str, str | bytes] | None = None,
    input_files: Sequence[Mapping[str, str | bytes]] | None = None,
) -> tuple[str, float, int, str]:
    """(stdin, whole-run timeout, whole-run memory, secret) of one built program's tests.

    `RUNNER` is the run's Python program. Each test gets a fresh copy of `binary` as
    `./prog` (mode 0500, from the runner's memory) and of `files`, beside it, and its own
    `input_files[i]` (a checker's input, answer and output), if given.
    """
    extra = dict(files or {})
    extra.pop("prog", None)
    program = {
        "argv": ["./prog", *argv],
        "files": [*_encoded(extra), ["prog", base64.b64encode(binary).decode()]],
        "exec": ["prog"],
        "stack": True,
    }
    tests = _tests(inputs, timeout, memory_mb, input_files)
    return _spec([program], tests, output_limit)


def _tests(
    inputs: Sequence[str],
    timeout: float,
    memory_mb: int,
    input_files: Sequence[Mapping[str, str | bytes]] | None,
) -> list[dict[str, Any]]:
    if input_files is not None and len(input_files) != len(inputs):
        raise ValueError(f"input_files: {len(input_files)} mappings for {len(inputs)} inputs")
    tests: list[dict[str, Any]] = [
        {"program": 0, "stdin": s, "timeout": timeout, "memory_mb": memory_mb} for s in inputs
    ]
    for test, own in zip(tests, input_files or (), strict=False):
        test["files"] = _encoded(own)
    return tests


def sources_job(jobs: Sequence[Job], output_limit: int) -> tuple[str, float, int, str]:
    """(stdin, whole-run timeout, whole-run memory, secret) of interpreted `jobs` run in turn.

    `RUNNER` itself is the run's Python program. Each job is its own program: its source
    and files are written into its own fresh directory, and it runs under its own limits.
    """
    programs, tests = [], []
    for i, job in enumerate(jobs):
        lang = get_language(job.language)
        if lang.compiled:
            raise ValueError(f"sources_job: {lang.name} is compiled; build it (run_inputs)")
        programs.append(
            {"argv": list(lang.run), "files": _encoded({**job.files, lang.source: job.code})}
        )
        tests.append(
            {"program": i, "stdin": job.stdin, "timeout": job.timeout, "memory_mb": job.memory_mb}
        )
    return _spec(programs, tests, output_limit)


def placed_job(
    code: str,
    inputs: Sequence[str],
    *,
    files: Mapping[str, str | bytes],
    timeout: float,
    memory_mb: int,
    placed: Sequence[str],
    output_limit: int,
    input_files: Sequence[Mapping[str, str | bytes]] | None = None,
) -> tuple[str, dict[str, str], str, float, int, str]:
    """(script, files, stdin, whole-run timeout, whole-run memory, secret) of a bash
    script's runs beside built programs (a Communication task's manager and contestant).

    The run is a bash job that starts the runner, so that the backend places the built
    programs as it places them for a run of its own (local: bound read-only as
    `./name`); the runner keeps those names (`placed`) through its sweeps, and every
    test gets the script, as `main.sh`, and `files` afresh beside them.
    """
    lang = get_language("bash")
    program = {
        "argv": list(lang.run),
        "files": _encoded({**files, lang.source: STACK_PROLOGUE + code}),
    }
    tests = _tests(inputs, timeout, memory_mb, input_files)
    stdin, whole_s, whole_mb, nonce = _spec([program], tests, output_limit, keep=placed)
    return "exec python3 runner.py\n", {"runner.py": RUNNER}, stdin, whole_s, whole_mb, nonce


def _spec(
    programs: list[dict[str, Any]],
    tests: list[dict[str, Any]],
    output_limit: int,
    keep: Sequence[str] = (),
) -> tuple[str, float, int, str]:
    nonce = secrets.token_hex(16)
    payload = json.dumps(
        {"output_limit": output_limit, "programs": programs, "tests": tests, "keep": list(keep)}
    )
    whole_timeout = sum(t["timeout"] + PER_TEST_SLACK_S for t in tests) + 5.0
    # The runner holds every entry's input and files (the JSON text, then decoded): large
    # tests must not push it over its own memory. Outputs past RUNNER_MB would not fit the
    # run's output limit as a report anyway.
    held_mb = (PAYLOAD_COPIES * len(payload)) >> 20
    whole_memory = max((t["memory_mb"] for t in tests), default=0) + RUNNER_MB + held_mb
    return nonce + "\n" + payload, whole_timeout, whole_memory, nonce


def read_report(stdout: str, nonce: str, count: int) -> list[Mapping[str, Any]] | None:
    """The runner's per-test records behind `nonce`, or None when there is no valid one.

    A report may stop short of `count`: the runner stops after a test that timed out,
    and that test is then the last record.
    """
    prefix = nonce + " "
    for line in reversed(stdout.splitlines()):
        if not line.startswith(prefix):
            continue
        try:
            records = json.loads(base64.b64decode(line[len(prefix) :], validate=True))
        except (binascii.Error, ValueError):
            continue
        if not isinstance(records, list) or not 1 <= len(records) <= count:
            continue
        if not all(isinstance(r, dict) for r in records):
            continue
        if len(records) == count or records[-1].get("timed_out") is True:
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
    elif record.get("exec_failed"):
        status, message = Status.SE, "the runner could not execute the program"
    elif record.get("oom") and sig == signal.SIGKILL:
        # A SIGKILL the runner did not send (no timeout, no overflow), during an OOM kill.
        status, message = Status.MLE, f"memory limit {memory_mb} MB (OOM kill)"
    elif memory > memory_mb:
        # The sandbox's cgroup holds the batch, not each test: alone, a run of this peak
        # would have been killed at its limit.
        status, message = Status.MLE, f"memory limit {memory_mb} MB"
    elif code == 0:
        status = Status.OK
    elif memory >= 0.95 * memory_mb:
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
