"""Judge-side code out of the contestant's reach: attacks by hostile submissions.

Each attack is a wrong solution that tries to score anyway by reaching the judge: an IOI
Communication contestant that writes a full score into every stdout it can open under
`/proc` (the manager's, the namespace init's), or reads the hidden answer out of the
manager's memory through `/proc/<pid>/mem` or ptrace; a Codeforces submission that leaves
a process behind to forge the checker's answer. On the code before the launcher, the three
IOI attacks scored 100 points (as root: the memory read and ptrace; as an unprivileged
user: all three); each must score 0 now.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

import pytest
from problems import GUESS_BINARY, anypair_problem, guess_rows

from r1_cp_scoring import add_includes, score_submission, score_subtasks, total_points
from r1_cp_scoring.cms import launcher_report
from r1_sandbox import LocalSandbox, _batch

# Writes "1" (a full score) and CMS's success message into every fd 1 / fd 2 it can open
# under /proc: on the old script that included the manager's stdout, which is the run's.
FORGE_STDOUT = r"""
#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>
#include <cstdio>
#include <cstdlib>
int guess(int n) {
    DIR* d = opendir("/proc");
    int me = getpid();
    while (struct dirent* e = readdir(d)) {
        if (atoi(e->d_name) <= 0 || atoi(e->d_name) == me) continue;
        char path[300];
        snprintf(path, sizeof path, "/proc/%s/fd/1", e->d_name);
        int fd = open(path, O_WRONLY);
        if (fd >= 0) { write(fd, "1\n", 2); close(fd); }
        snprintf(path, sizeof path, "/proc/%s/fd/2", e->d_name);
        fd = open(path, O_WRONLY);
        if (fd >= 0) { write(fd, "translate:success\n", 18); close(fd); }
    }
    return n + 1;  // never the hidden number
}
"""

# Reads the test input ("n secret") out of the manager's stdin buffer in its memory.
READ_MANAGER_MEMORY = r"""
#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>
static int from_manager(int pid, int n) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/maps", pid);
    FILE* maps = fopen(path, "r");
    if (!maps) return -1;
    snprintf(path, sizeof path, "/proc/%d/mem", pid);
    int mem = open(path, O_RDONLY);
    if (mem < 0) { fclose(maps); return -1; }
    char want[32];
    int len = snprintf(want, sizeof want, "%d ", n);
    char line[512];
    while (fgets(line, sizeof line, maps)) {
        unsigned long lo, hi; char perms[8];
        if (sscanf(line, "%lx-%lx %7s", &lo, &hi, perms) != 3 || perms[0] != 'r' || perms[1] != 'w')
            continue;
        std::vector<char> buf(hi - lo);
        ssize_t got = pread(mem, buf.data(), buf.size(), lo);
        for (ssize_t i = 0; i + len + 1 < got; i++) {
            if (memcmp(&buf[i], want, len) == 0 && buf[i + len] >= '1' && buf[i + len] <= '9') {
                int secret = atoi(&buf[i + len]);
                if (secret >= 1 && secret <= n) { close(mem); fclose(maps); return secret; }
            }
        }
    }
    close(mem); fclose(maps);
    return -1;
}
int guess(int n) {
    DIR* d = opendir("/proc");
    while (struct dirent* e = readdir(d)) {
        int pid = atoi(e->d_name);
        if (pid <= 0 || pid == getpid()) continue;
        char path[64], comm[64] = {0};
        snprintf(path, sizeof path, "/proc/%d/comm", pid);
        FILE* f = fopen(path, "r");
        if (!f) continue;
        fgets(comm, sizeof comm, f);
        fclose(f);
        if (strncmp(comm, "manager", 7) != 0) continue;
        int secret = from_manager(pid, n);
        if (secret > 0) return secret;
    }
    return n + 1;  // never the hidden number
}
"""


# The same, through ptrace: attach to the manager and peek its writable memory word by word.
PTRACE_MANAGER = (
    READ_MANAGER_MEMORY.replace(
        "#include <vector>",
        "#include <vector>\n#include <sys/ptrace.h>\n#include <sys/wait.h>\n#include <cerrno>",
    )
    .replace(
        """    snprintf(path, sizeof path, "/proc/%d/mem", pid);
    int mem = open(path, O_RDONLY);
    if (mem < 0) { fclose(maps); return -1; }""",
        """    if (ptrace(PTRACE_ATTACH, pid, nullptr, nullptr) != 0) { fclose(maps); return -1; }
    int st; waitpid(pid, &st, __WALL);
    int mem = -1;""",
    )
    .replace(
        """        ssize_t got = pread(mem, buf.data(), buf.size(), lo);""",
        """        ssize_t got = 0;
        for (unsigned long a = lo; a + sizeof(long) <= hi; a += sizeof(long)) {
            errno = 0;
            long word = ptrace(PTRACE_PEEKDATA, pid, (void*)a, nullptr);
            if (errno) break;
            memcpy(&buf[a - lo], &word, sizeof word);
            got = a + sizeof(long) - lo;
        }""",
    )
    .replace(
        "if (secret >= 1 && secret <= n) { close(mem); fclose(maps); return secret; }",
        "if (secret >= 1 && secret <= n) { ptrace(PTRACE_DETACH, pid, nullptr, nullptr);"
        " fclose(maps); return secret; }",
    )
    .replace(
        "    close(mem); fclose(maps);\n    return -1;",
        "    (void)mem; ptrace(PTRACE_DETACH, pid, nullptr, nullptr); fclose(maps);\n    return -1;",
    )
)


def grade(box, code, test_batch_size=None):
    # None: open-r1's default, one test at a time (a sandbox each); -1: every test of a
    # subtask at once, in turn in one sandbox (the batch runner, through run_inputs): on
    # a sandbox of concurrency 1, so that no chunk is a single test, and checked to be so.
    rows = guess_rows()
    code = add_includes(code, rows[0]["id"])
    if test_batch_size is None:
        return asyncio.run(score_subtasks(box, rows, code))
    reports: list[bool] = []
    read_report = _batch.read_report

    def spy(stdout, nonce, count):
        records = read_report(stdout, nonce, count)
        reports.append(count > 1 and records is not None)
        return records

    _batch.read_report = spy
    try:
        with LocalSandbox(concurrency=1) as own:
            results = asyncio.run(score_subtasks(own, rows, code, test_batch_size=-1))
    finally:
        _batch.read_report = read_report
    assert reports and all(reports), reports  # the subtask of two tests ran in turn
    return results


#: Both ways a Communication subtask's tests run: alone, and in turn in one sandbox.
BATCH_SIZES = pytest.mark.parametrize("batch", [None, -1], ids=["alone", "in-turn"])


ATTACKS = {
    "forge-stdout": FORGE_STDOUT,
    "read-manager-memory": READ_MANAGER_MEMORY,
    "ptrace-manager": PTRACE_MANAGER,
}

# Run as nobody by the system's Python with this environment's packages: the sandbox's
# pipes then belong to the same uid as the sandboxed program, which changes what it can
# open under /proc (as root they belong to root and the sandbox cannot reopen them).
_AS_NOBODY = """
import asyncio, json, site, sys
site.addsitedir(sys.argv[1])
sys.path.insert(0, sys.argv[2])
from problems import guess_rows
from r1_cp_scoring import add_includes, score_subtasks, total_points
from r1_sandbox import LocalSandbox
code = open(sys.argv[3]).read()
batch = json.loads(sys.argv[4])
rows = guess_rows()
with LocalSandbox(concurrency=1 if batch else None) as box:
    results = asyncio.run(
        score_subtasks(box, rows, add_includes(code, "guess"), test_batch_size=batch)
    )
print(json.dumps({"points": total_points(results), "statuses": [r.status for r in results]}))
"""


def _grade_as_nobody(code: str, batch: int | None = None) -> dict:
    system_python = "/usr/bin/python3"
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    if os.geteuid() != 0 or not shutil.which("setpriv") or not os.path.exists(system_python):
        pytest.skip("needs root, setpriv and a system python3 to drop to nobody")
    probe = subprocess.run(
        [system_python, "-c", "import sys; print(f'{sys.version_info[0]}.{sys.version_info[1]}')"],
        capture_output=True,
        text=True,
        check=False,
    )
    if probe.stdout.strip() != version:
        pytest.skip(f"the system python3 is not {version}: this environment's wheels won't load")
    purelib = sysconfig.get_paths()["purelib"]
    readable = subprocess.run(
        ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", system_python, "-c",
         "import site, sys; site.addsitedir(sys.argv[1]); import r1_cp_scoring", purelib],
        capture_output=True,
        check=False,
        cwd="/",
    )  # fmt: skip
    if readable.returncode != 0:
        pytest.skip(
            f"nobody cannot read this environment ({purelib}): clone the repository under a "
            "directory every user may enter to run the unprivileged attacks"
        )
    with tempfile.TemporaryDirectory() as scratch:
        os.chmod(scratch, 0o755)
        (Path(scratch) / "run.py").write_text(_AS_NOBODY)
        (Path(scratch) / "attack.cpp").write_text(code)
        for name in ("run.py", "attack.cpp"):
            os.chmod(Path(scratch) / name, 0o644)
        proc = subprocess.run(
            [
                "setpriv",
                "--reuid=65534",
                "--regid=65534",
                "--clear-groups",
                "env",
                f"HOME={scratch}",
                f"TMPDIR={scratch}",
                system_python,
                f"{scratch}/run.py",
                sysconfig.get_paths()["purelib"],
                str(Path(__file__).parent),
                f"{scratch}/attack.cpp",
                json.dumps(batch),
            ],
            capture_output=True,
            text=True,
            timeout=600,
            cwd=scratch,
            check=False,
        )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.slow
@pytest.mark.parametrize("attack", ATTACKS.values(), ids=ATTACKS.keys())
@BATCH_SIZES
def test_a_contestant_cannot_reach_the_manager(box, attack, batch):
    results = grade(box, attack, batch)
    assert total_points(results) == 0.0
    assert all(r.status in ("WA", "RE") for r in results), [r.status for r in results]


@pytest.mark.slow
@pytest.mark.parametrize("attack", ATTACKS.values(), ids=ATTACKS.keys())
@BATCH_SIZES
def test_a_contestant_cannot_reach_the_manager_as_an_unprivileged_user(attack, batch):
    outcome = _grade_as_nobody(attack, batch)
    assert outcome["points"] == 0.0, outcome
    assert set(outcome["statuses"]) <= {"WA", "RE"}, outcome  # graded, not a compile error


@pytest.mark.slow
@BATCH_SIZES
def test_an_honest_contestant_still_scores_full(box, batch):
    assert total_points(grade(box, GUESS_BINARY, batch)) == 100.0


def test_only_the_line_behind_the_nonce_is_the_managers():
    import base64
    import json

    real = {"manager_exit": 0, "stdout": "0\n", "stderr": "translate:wrong\n"}
    forged = dict(real, stdout="1\n")

    def line(nonce: str, report: dict) -> str:
        return nonce + " " + base64.b64encode(json.dumps(report).encode()).decode()

    stdout = "\n".join(["1", line("guessed", forged), line("n0nce", real), "1", "garbage"])
    assert launcher_report(stdout, "n0nce") == real
    assert launcher_report("1\ntranslate:success\n", "n0nce") is None
    assert launcher_report("n0nce !!notbase64", "n0nce") is None


# A Codeforces submission that prints a wrong answer and leaves a process behind that
# keeps writing "1" (an accepting checker's answer) into every stdout it can open.
CF_LINGERING_FORGER = r"""
import os, time
if os.fork() == 0:
    os.setsid()
    end = time.time() + 20
    while time.time() < end:
        for pid in os.listdir("/proc"):
            if pid.isdigit() and int(pid) != os.getpid():
                try:
                    with open(f"/proc/{pid}/fd/1", "w") as out:
                        out.write("1\n")
                except OSError:
                    pass
        time.sleep(0.01)
    os._exit(0)
print(0, 0)
"""


@pytest.mark.slow
def test_a_codeforces_submission_cannot_reach_the_checker(box):
    """The checker runs in a sandbox of its own, after the submission's run is torn down."""
    problem = anypair_problem()
    score = asyncio.run(
        score_submission(
            box, problem, CF_LINGERING_FORGER, scoring_mode="partial", submission_language="python"
        )
    )
    assert score == 0.25  # only "0 0" for the input 0 is right
