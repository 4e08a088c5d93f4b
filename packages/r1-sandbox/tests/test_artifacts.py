"""Build once, run many: `Sandbox.build` -> `Artifact` -> `run(artifact)` on the local backend."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from r1_sandbox import Artifact, LocalSandbox, Status, flags_for
from r1_sandbox.errors import UnsupportedLanguageError

TWICE = """
#include <cstdio>
int twice(int x);
int main() {
  int x; if (scanf("%d", &x) != 1) return 3;
#ifdef ONLINE_JUDGE
  printf("judge %d\\n", twice(x));
#else
  printf("plain %d\\n", twice(x));
#endif
}
"""
LIB = "int twice(int x) { return 2 * x; }\n"


def test_several_units_with_a_judges_flags_build_once_and_run_many(sandbox):
    sources = {"main.cpp": TWICE, "lib.cpp": LIB, "notes.txt": "not a unit"}
    built = sandbox.build_sync(
        sources, "cpp", flags_for("cpp", "codeforces"), units=["main.cpp", "lib.cpp"]
    )
    assert isinstance(built, Artifact) and built.ok and built.binary
    outs = [sandbox.run_sync(built, stdin=str(i), timeout=2) for i in (1, 2, 3)]
    assert [(r.status, r.stdout) for r in outs] == [
        (Status.OK, "judge 2\n"),
        (Status.OK, "judge 4\n"),
        (Status.OK, "judge 6\n"),
    ]
    plain = sandbox.build_sync(sources, "c++", units=["main.cpp", "lib.cpp"])
    assert sandbox.run_sync(plain, stdin="5").stdout == "plain 10\n"
    assert plain.digest != built.digest  # flags are part of what was built


def test_a_compile_error_is_a_result_with_the_compilers_message(sandbox):
    built = sandbox.build_sync("int main() { return undeclared; }", "cpp")
    assert built.status is Status.CE and not built.ok
    assert "undeclared" in built.message and "error" in built.message
    ran = sandbox.run_sync(built, stdin="")
    assert ran.status is Status.CE and "undeclared" in ran.message


def test_a_run_of_an_artifact_keeps_its_own_verdicts(sandbox):
    built = sandbox.build_sync(
        "#include <cstdlib>\nint main(int argc, char** argv){ return std::atoi(argv[1]); }", "cpp"
    )
    assert sandbox.run_sync(built, argv=["0"]).status is Status.OK
    failed = sandbox.run_sync(built, argv=["7"])
    assert (failed.status, failed.exit_code) == (Status.RE, 7)
    spin = sandbox.build_sync("int main(){ for(;;); }", "cpp")
    assert sandbox.run_sync(spin, timeout=0.5).status is Status.TLE


def test_artifacts_are_placed_beside_a_script(sandbox):
    double = sandbox.build_sync(
        '#include <cstdio>\nint main(){int x;scanf("%d",&x);printf("%d",2*x);}', "cpp"
    )
    square = sandbox.build_sync(
        '#include <cstdio>\nint main(){int x;scanf("%d",&x);printf("%d",x*x);}', "cpp"
    )
    result = sandbox.run_sync(
        "./square < input.txt | ./double\n",
        "bash",
        files={"input.txt": "3"},
        artifacts={"double": double, "square": square},
    )
    assert (result.status, result.stdout) == (Status.OK, "18")
    with pytest.raises(UnsupportedLanguageError, match="bash"):
        sandbox.run_sync("print(1)", "python", artifacts={"double": double})


def test_interpreted_languages_and_unknown_judges_are_refused(sandbox):
    with pytest.raises(UnsupportedLanguageError, match="interpreted"):
        sandbox.build_sync("print(1)", "python")
    with pytest.raises(UnsupportedLanguageError, match="judge='icpc'"):
        flags_for("cpp", "icpc")


@pytest.mark.slow
def test_a_build_obeys_its_compile_limits():
    # The compile is a sandboxed run: `#include "/dev/zero"` stops at the build's limits.
    box = LocalSandbox(concurrency=1)
    try:
        built = box.build_sync(
            '#include "/dev/zero"\nint main() {}', "cpp", timeout=3, memory_mb=300
        )
    finally:
        box.close()
    assert built.status is Status.CE, built
    assert "3 s, 300 MB" in built.message


# ---- many tests, one sandbox (run_inputs) -------------------------------------------------------

VERDICTS = r"""
#include <cstdio>
#include <cstring>
#include <cstdlib>
int main() {
  char word[32] = {0};
  if (scanf("%31s", word) != 1) return 9;
  if (!strcmp(word, "ok")) { puts("fine"); return 0; }
  if (!strcmp(word, "exit")) return 3;
  if (!strcmp(word, "spin")) for (;;) {}
  if (!strcmp(word, "flood")) for (;;) fputs("xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", stdout);
  if (!strcmp(word, "abort")) abort();
  return 8;
}
"""

FRESH = r"""
#include <cstdio>
#include <cstring>
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cstdlib>
// "spawn": leave a detached sleeper and marker files behind, and overwrite our own binary;
// "look": report what survived from earlier tests.
int main() {
  char word[16] = {0};
  if (scanf("%15s", word) != 1) return 9;
  if (!strcmp(word, "spawn")) {
    if (fork() == 0) { setsid(); if (fork() == 0) { sleep(30); _exit(0); } _exit(0); }
    FILE* f;
    if ((f = fopen("marker", "w"))) fclose(f);
    if ((f = fopen("/tmp/marker", "w"))) fclose(f);
    if ((f = fopen("/dev/shm/marker", "w"))) fclose(f);
    chmod("prog", 0700);
    if ((f = fopen("prog", "w"))) { fputs("#!/bin/sh\necho tampered\n", f); fclose(f); }
    puts("spawned");
    return 0;
  }
  int others = 0;
  DIR* d = opendir("/proc");
  for (struct dirent* e; d && (e = readdir(d));) {
    int pid = atoi(e->d_name);
    if (pid > 1 && pid != getpid() && pid != getppid()) others++;
  }
  struct stat st;
  int files = !stat("marker", &st) + !stat("/tmp/marker", &st) + !stat("/dev/shm/marker", &st);
  printf("others=%d files=%d\n", others, files);
  return 0;
}
"""


def test_run_inputs_gives_each_test_its_own_verdict_in_order(sandbox):
    built = sandbox.build_sync(VERDICTS, "cpp")
    words = ["ok", "exit", "spin", "ok", "flood", "abort", "ok"]
    results = sandbox.run_inputs_sync(built, words, timeout=0.5, memory_mb=128)
    assert [r.status for r in results] == [
        Status.OK,
        Status.RE,
        Status.TLE,
        Status.OK,
        Status.OLE,
        Status.RE,
        Status.OK,
    ]
    assert results[0].stdout == "fine\n" and results[1].exit_code == 3
    assert results[5].exit_code == -6  # SIGABRT, from the wait status
    assert results[2].cpu_s is not None and results[2].cpu_s > 0  # metadata of the runner


def test_run_inputs_leaves_nothing_from_one_test_to_the_next(sandbox):
    built = sandbox.build_sync(FRESH, "cpp")
    results = sandbox.run_inputs_sync(built, ["spawn", "look", "spawn", "look"], timeout=5)
    assert [r.stdout for r in results] == [
        "spawned\n",
        "others=0 files=0\n",
        "spawned\n",
        "others=0 files=0\n",
    ]


def test_run_inputs_of_a_failed_build_is_its_compile_error(sandbox):
    built = sandbox.build_sync("int main(){ nope; }", "cpp")
    results = sandbox.run_inputs_sync(built, ["1", "2"])
    assert [r.status for r in results] == [Status.CE, Status.CE]
    assert "nope" in results[0].message


def test_run_inputs_places_the_callers_files_fresh_in_every_test(sandbox):
    reader = r"""
#include <cstdio>
int main() {
  char buf[64] = {0};
  FILE* f = fopen("data.txt", "r");
  if (!f || !fgets(buf, sizeof buf, f)) return 4;
  fclose(f);
  printf("%s|", buf);
  if ((f = fopen("data.txt", "w"))) { fputs("changed", f); fclose(f); }  // not seen next time
  return 0;
}
"""
    built = sandbox.build_sync(reader, "cpp")
    results = sandbox.run_inputs_sync(built, ["", "", ""], files={"data.txt": "pristine"})
    assert [r.stdout for r in results] == ["pristine|"] * 3


def test_run_inputs_of_source_code_builds_once_or_runs_each_input(sandbox):
    cpp = '#include <cstdio>\nint main(){int x; scanf("%d",&x); printf("%d\\n", x + 1);}\n'
    results = sandbox.run_inputs_sync(cpp, ["1", "41"], language="cpp", timeout=2)
    assert [r.stdout for r in results] == ["2\n", "42\n"]
    py = sandbox.run_inputs_sync("print(int(input()) * 2)", ["3", "4"], timeout=5)
    assert [r.stdout for r in py] == ["6\n", "8\n"]
    with pytest.raises(UnsupportedLanguageError):
        sandbox.run_inputs_sync("print(1)", ["1"], argv=["x"])


TAMPER = r"""
#include <cstdio>
#include <sys/stat.h>
// Try to rewrite the program this run executes: it is bound read-only.
int main() {
  int changed = chmod("prog", 0777) == 0;
  FILE* f = fopen("prog", "w");
  if (f) { fputs("tampered", f); fclose(f); changed = 1; }
  printf("changed=%d\n", changed);
}
"""


def test_local_binds_a_built_program_read_only(sandbox):
    if not sandbox._contained:
        pytest.skip("uncontained: the program is copied, not bound")
    built = sandbox.build_sync(TAMPER, "cpp")
    first = sandbox.run_sync(built)
    assert first.stdout == "changed=0\n", first
    path = sandbox._binaries.acquire(built)
    try:
        st = os.stat(path)
        assert st.st_mode & 0o777 == 0o555 and st.st_uid == os.getuid()
        assert Path(path).read_bytes() == built.binary  # the host copy is intact
    finally:
        sandbox._binaries.release(path)
    assert sandbox.run_sync(built).stdout == "changed=0\n"


def test_the_batch_runner_refuses_to_sweep_outside_r1s_init():
    # kill(-1) and emptying /tmp are only safe as PID 1's sole tenant in r1's namespace.
    import subprocess
    import sys

    from r1_sandbox import _batch
    from r1_sandbox._containment import INIT_PATH

    assert INIT_PATH.encode() in _batch.GUARD.encode() and _batch.RUNNER.startswith(_batch.GUARD)
    assert subprocess.run([sys.executable, "-c", _batch.GUARD], check=False).returncode == 3


def test_uncontained_run_inputs_runs_each_test_on_its_own():
    box = LocalSandbox(isolation="none")
    try:
        built = box.build_sync(
            '#include <cstdio>\nint main(){int x; scanf("%d",&x); printf("%d\\n", -x);}\n',
            "cpp",
        )
        results = box.run_inputs_sync(built, ["1", "2", "3"], timeout=5)
    finally:
        box.close()
    assert [r.stdout for r in results] == ["-1\n", "-2\n", "-3\n"]


# What a test's program inherits in the batch runner must be what r1's init gives a run of
# its own: its parent, signal dispositions and blocked signals, and its limits.
INHERITED = r"""
#include <cstdio>
#include <cstring>
#include <unistd.h>
int main() {
  printf("ppid=%d\n", (int)getppid());
  char line[256];
  FILE* f = fopen("/proc/self/status", "r");
  while (f && fgets(line, sizeof line, f))
    if (!strncmp(line, "SigIgn", 6) || !strncmp(line, "SigBlk", 6)) fputs(line, stdout);
  f = fopen("/proc/self/limits", "r");
  while (f && fgets(line, sizeof line, f))
    if (strstr(line, "cpu time") || strstr(line, "data size") || strstr(line, "core file"))
      fputs(line, stdout);
}
"""


def _lines(text: str, key: str) -> list[str]:
    return [line for line in text.splitlines() if key in line]


#: glibc's two internal signals (32 and 33): its posix_spawn starts a child with them
#: ignored, and glibc in the new program installs its own handlers when it needs them.
GLIBC_INTERNAL = (1 << 31) | (1 << 32)


def _ignored(text: str) -> int:
    return int(_lines(text, "SigIgn")[0].split()[1], 16) & ~GLIBC_INTERNAL


def test_a_batched_test_inherits_what_a_run_of_its_own_does(sandbox):
    if not sandbox._contained:
        pytest.skip("uncontained: there is no batch runner")
    built = sandbox.build_sync(INHERITED, "cpp")
    alone = sandbox.run_sync(built, timeout=2, memory_mb=256)
    batched = sandbox.run_inputs_sync(built, ["", ""], timeout=2, memory_mb=256)
    # Both tests ran in one sandbox, under the runner (a run of its own: under the init).
    assert _lines(alone.stdout, "ppid") == ["ppid=1"]
    ppids = {_lines(r.stdout, "ppid")[0] for r in batched}
    assert len(ppids) == 1 and ppids != {"ppid=1"}, batched
    for r in batched:
        # CPython ignores SIGPIPE and SIGXFSZ; the program must not inherit that.
        assert _lines(r.stdout, "SigBlk") == _lines(alone.stdout, "SigBlk")
        assert _ignored(r.stdout) == _ignored(alone.stdout) == 0, (r.stdout, alone.stdout)
        # The soft CPU limit from birth, as the init sets it (the hard one, 3, is set just
        # after the spawn: see test_a_test_cannot_raise_its_own_cpu_limit).
        assert _lines(r.stdout, "cpu time")[0].split()[3] == "2", r.stdout
        assert _lines(r.stdout, "data size") == _lines(alone.stdout, "data size")
        assert _lines(r.stdout, "core file")[0].split()[4:6] == ["0", "0"]


MEMORY = {
    "vector past the limit": (
        "#include <vector>\n#include <cstdio>\n"
        'int main(){std::vector<char> v(400<<20, 1); printf("%d\\n", v[12345]);}\n'
    ),
    "malloc and touch in steps": (
        "#include <cstdlib>\n#include <cstring>\n#include <cstdio>\n"
        "int main(){for(int i=0;i<100;i++){char*p=(char*)malloc(16<<20);"
        'if(!p) return 7; memset(p,1,16<<20);} puts("done");}\n'
    ),
    "a large array that is touched": (
        "#include <cstdio>\nstatic char a[400<<20];\n"
        'int main(){for(long i=0;i<(400l<<20);i+=4096)a[i]=1; printf("%d\\n",a[4096]);}\n'
    ),
    "reserved but untouched": (
        "#include <cstdlib>\n#include <cstdio>\n"
        'int main(){char*p=(char*)malloc(400<<20); p[0]=1; printf("%d\\n", p[0]);}\n'
    ),
    "a SIGKILL of its own": "#include <csignal>\nint main(){ raise(SIGKILL); }\n",
    "within the limit": (
        "#include <vector>\n#include <cstdio>\n"
        'int main(){std::vector<char> v(100<<20, 1); printf("%d\\n", v[7]);}\n'
    ),
}


@pytest.mark.parametrize("case", sorted(MEMORY))
def test_memory_verdicts_in_a_batch_are_those_of_a_run_of_its_own(sandbox, case):
    # The batch's cgroup holds all its tests: a test's limit is read from its peak and
    # from OOM kills, never from an allocation refused early (which reads as RE).
    built = sandbox.build_sync(MEMORY[case], "cpp")
    alone = sandbox.run_sync(built, timeout=5, memory_mb=256)
    batched = sandbox.run_inputs_sync(built, ["", ""], timeout=5, memory_mb=256)
    assert [r.status for r in batched] == [alone.status] * 2, (alone, batched)


def test_python_memory_verdicts_in_a_batch_are_those_of_a_run_of_its_own(sandbox):
    from r1_sandbox import Job

    hog = "x = bytearray(400 << 20)\nprint(len(x))\n"
    alone = sandbox.run_sync(hog, timeout=5, memory_mb=128)
    jobs = [Job(hog, "python", "", {}, 5, 128)] * (2 * sandbox.concurrency)
    assert alone.status is Status.MLE
    assert {r.status for r in sandbox.run_batch_sync(jobs)} == {Status.MLE}


def test_a_binary_that_cannot_be_executed_is_a_system_error_per_test(sandbox):
    garbage = Artifact("cpp", Status.OK, b"\x7fELF not really a program")
    results = sandbox.run_inputs_sync(garbage, ["1", "2"], timeout=2)
    assert [r.status for r in results] == [Status.SE, Status.SE], results


RAISE_LIMITS = r"""
#include <cstdio>
#include <sys/resource.h>
#include <unistd.h>
// Raise the CPU limit at once, before the runner lowers the hard one after the spawn;
// then wait (up to 4 s) for its prlimit, which must undo the raise.
int main() {
  struct rlimit r;
  getrlimit(RLIMIT_CPU, &r);
  r.rlim_cur = r.rlim_max;  // as high as it may go, if the hard limit is still the runner's
  setrlimit(RLIMIT_CPU, &r);
  for (int i = 0; i < 4000 && r.rlim_max != 6; i++) {
    usleep(1000);
    getrlimit(RLIMIT_CPU, &r);
  }
  printf("cpu=%llu/%llu\n", (unsigned long long)r.rlim_cur, (unsigned long long)r.rlim_max);
}
"""


def test_a_test_cannot_raise_its_own_cpu_limit(sandbox):
    built = sandbox.build_sync(RAISE_LIMITS, "cpp")
    for r in sandbox.run_inputs_sync(built, ["", "", ""], timeout=5):
        # 5/6 if the prlimit came after the raise; 6/6 if before (soft up to hard is
        # allowed, as in a run of its own): never above the test's own hard limit.
        assert r.stdout in ("cpu=5/6\n", "cpu=6/6\n"), r


@contextlib.contextmanager
def _reports() -> Iterator[list[tuple[int, int]]]:
    """(entries asked, records read) of each batch report read meanwhile (0: none)."""
    from r1_sandbox import _batch

    seen: list[tuple[int, int]] = []
    read_report = _batch.read_report

    def spy(stdout, nonce, count):
        records = read_report(stdout, nonce, count)
        seen.append((count, len(records) if records else 0))
        return records

    _batch.read_report = spy
    try:
        yield seen
    finally:
        _batch.read_report = read_report


def test_run_inputs_of_a_script_beside_built_programs_shares_sandboxes(sandbox):
    # A Communication-style run: a bash script and two built programs, one exec-only.
    # In turn in one sandbox, every input still sees the programs bound read-only, the
    # exec-only one unreadable, and nothing a previous input left.
    built = sandbox.build_sync(INHERITED, "cpp")
    script = (
        'read word; ./prog | head -1; cat left 2>/dev/null; echo "$word" > left\n'
        "chmod 777 prog manager 2>/dev/null || echo fixed; test -r manager || echo unreadable\n"
    )
    words = [f"w{i}" for i in range(6)]
    with _reports() as reports:
        results = sandbox.run_inputs_sync(
            script,
            words,
            language="bash",
            artifacts={"prog": built, "manager": built},
            exec_only=("manager",),
            timeout=5,
        )
    if sandbox._contained:
        # in turn, not one sandbox per input
        assert reports and all(got for _, got in reports), reports
    for r in results:
        assert r.status is Status.OK, r
        lines = r.stdout.splitlines()
        assert lines[0].startswith("ppid="), r.stdout  # the bound program ran
        assert lines[1:] == ["fixed", "unreadable"], r.stdout
    with pytest.raises(UnsupportedLanguageError):
        sandbox.run_inputs_sync("print(1)", ["1"], artifacts={"prog": built})


CHECKS = r"""
#include <cstdio>
#include <cstring>
// A checker's shape: files named on the command line; it also leaves a file behind.
int main(int argc, char** argv) {
  char a[64] = {0}, b[64] = {0};
  FILE* f = fopen(argv[1], "r"); if (!f || !fgets(a, sizeof a, f)) return 3; fclose(f);
  f = fopen(argv[2], "r"); if (!f || !fgets(b, sizeof b, f)) return 4; fclose(f);
  printf("%s", strcmp(a, b) ? "differ" : "same");
  if (fopen("extra.txt", "r")) printf(" leftover");
  if ((f = fopen("extra.txt", "w"))) fclose(f);
  printf("\n");
}
"""


def test_run_inputs_gives_each_input_files_of_its_own(sandbox):
    built = sandbox.build_sync(CHECKS, "cpp")
    own = [
        {"a.txt": "1", "b.txt": "1"},
        {"a.txt": "1", "b.txt": "2"},
        {"a.txt": b"x", "b.txt": b"x"},
    ]
    results = sandbox.run_inputs_sync(
        built, ["", "", ""], argv=["a.txt", "b.txt"], input_files=own, timeout=5
    )
    assert [r.stdout for r in results] == ["same\n", "differ\n", "same\n"], results
    with pytest.raises(ValueError, match="2 mappings for 3 inputs"):
        sandbox.run_inputs_sync(built, ["", "", ""], input_files=own[:2])
    with pytest.raises(UnsupportedLanguageError):
        sandbox.run_inputs_sync("print(1)", ["1"], input_files=[{}])
    # A script beside the built program, each input with its own files (file-mode tests).
    beside = sandbox.run_inputs_sync(
        "./prog a.txt b.txt",
        ["", "", ""],
        language="bash",
        artifacts={"prog": built},
        input_files=own,
        timeout=5,
    )
    assert [r.stdout for r in beside] == ["same\n", "differ\n", "same\n"], beside


SPIN_OR_ECHO = r"""
#include <cstdio>
#include <cstring>
int main() {
  char w[16] = {0};
  if (scanf("%15s", w) == 1 && !strcmp(w, "spin")) { volatile long x = 0; for (;;) x++; }
  printf("%s\n", w);
}
"""


def test_tests_after_a_timeout_are_spread_over_sandboxes_side_by_side(sandbox):
    # The runner stops after a test that timed out and reports the tests that ran; the
    # rest go to sandboxes side by side, so timeouts do not queue behind one another.
    built = sandbox.build_sync(SPIN_OR_ECHO, "cpp")
    words = ["a", "spin", "b", "spin", "spin", "c", "d", "e"]
    with _reports() as lengths:
        results = sandbox.run_inputs_sync(built, words, timeout=0.5)
    assert [r.status for r in results] == [
        Status.TLE if w == "spin" else Status.OK for w in words
    ], results
    assert [r.stdout for r in results if r.status is Status.OK] == [
        "a\n",
        "b\n",
        "c\n",
        "d\n",
        "e\n",
    ]
    if sandbox._contained:
        assert lengths[0] == (8, 2), lengths  # "a", then the first "spin": stop, spread the rest
        assert all(got >= 1 for _, got in lengths), lengths
