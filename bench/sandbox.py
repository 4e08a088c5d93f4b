"""Benchmark: r1-sandbox's local sandbox against a bare `subprocess.run` of the same program.

What a code reward pays per test case is one sandboxed run, so the number that matters
is the overhead over simply starting the program. Both sides run the same trivial
program with the same interpreter, in the same process, one after the other:

- bare: `subprocess.run([python3, main.py], input=..., capture_output=True)` in a temp
  dir (no isolation at all);
- r1: `LocalSandbox.run_sync` (fresh user/PID/net/mount/IPC/UTS namespaces through bwrap,
  rlimits, a fresh tmpfs, output caps, rusage), sequentially, both with the default warm
  spare (namespaces and interpreter started while the previous run executes, see
  `r1_sandbox._warm`) and cold (`warm_python=0`: everything starts when the job arrives);
- batch throughput: 256 runs with the CPU count as concurrency, bare (a thread pool of
  `subprocess.run`) against `LocalSandbox.run_batch`;
- C++: 64 inputs of one source through `run_inputs` (built once) against the same
  number of bare runs of a binary compiled once;
- issue 10: one `build`, then its tests in one sandbox (`run_inputs`) or one sandbox per
  test (`run(artifact)`), against as many sequential bare runs of the prebuilt binary,
  for tiny tests and for tests of about 50 ms of CPU each.

Medians per run are reported; ratios are r1 / bare measured in this run.

What the hardening of issue 9 costs (own init, seccomp filter, kill from outside, cgroup
CPU bound, read-only root): `--before REV` extracts `r1_sandbox` as it was at git
revision REV (e.g. the commit before the hardening) and runs the whole benchmark with
it and with the current one in alternating fresh processes (`--rounds`, default 3), so
that the load of a shared machine hits both alike; it prints the median time per run of
each case and the cost, now / before - 1.

Run: `uv run python bench/sandbox.py [--quick] [--before REV [--rounds N]]`.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from r1_sandbox import Job, LocalSandbox, Status

PY = "import sys\nprint(sys.stdin.read().strip()[::-1])\n"
CPP = "#include <iostream>\nint main(){long x;std::cin>>x;std::cout<<x*x<<std::endl;}\n"


def timed(fn, n: int) -> list[float]:
    out = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def measure(quick: bool) -> tuple[list[tuple[str, str, str, float]], str]:
    """The table's rows (case, bare, r1, ratio) and a line describing the containment."""
    n_seq = 30 if quick else 100
    n_batch = 64 if quick else 256
    workers = os.cpu_count() or 2
    python = shutil.which("python3", path="/usr/local/bin:/usr/bin:/bin")  # what the sandbox runs
    assert python, "no python3 in /usr"
    work = Path(tempfile.mkdtemp(prefix="r1-bench-"))
    (work / "main.py").write_text(PY)
    (work / "main.cpp").write_text(CPP)
    subprocess.run(["g++", "-O2", "-o", "main", "main.cpp"], cwd=work, check=True)

    def bare_py(stdin: str = "hello") -> str:
        done = subprocess.run(
            [python, "main.py"], input=stdin, capture_output=True, text=True, cwd=work
        )
        return done.stdout

    def bare_cpp(stdin: str) -> str:
        done = subprocess.run(["./main"], input=stdin, capture_output=True, text=True, cwd=work)
        return done.stdout

    box = LocalSandbox(concurrency=workers)
    assert box.run_sync(PY, stdin="hello").stdout == bare_py() == "olleh\n"
    rows = []

    # 1. Per-run latency, sequential. Blocks of runs back to back (a warm spare must be
    # ready by the next run of its own block, so its start-up is not hidden in the other
    # side's time), rounds interleaved so machine drift hits every side alike.
    cold = LocalSandbox(concurrency=workers, warm_python=0)
    bare_t: list[float] = []
    warm_t: list[float] = []
    cold_t: list[float] = []
    block = 10
    for _ in range(max(1, n_seq // block)):
        bare_t += timed(bare_py, block)
        warm_t += timed(lambda: box.run_sync(PY, stdin="hello"), block)
        cold_t += timed(lambda: cold.run_sync(PY, stdin="hello"), block)
    cold.close()
    b = statistics.median(bare_t)
    for label, times in (("warm spare, default", warm_t), ("cold, warm_python=0", cold_t)):
        r = statistics.median(times)
        rows.append(
            (f"trivial Python, one run ({label})", f"{b * 1e3:.1f} ms", f"{r * 1e3:.1f} ms", r / b)
        )

    # 2. Batch throughput at the CPU count.
    stdins = [f"x{i}" for i in range(n_batch)]
    start = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        bare_out = list(pool.map(bare_py, stdins))
    bare_s = time.perf_counter() - start
    start = time.perf_counter()
    results = box.run_batch_sync([Job(PY, "python", s) for s in stdins])
    box_s = time.perf_counter() - start
    assert [r.stdout for r in results] == bare_out
    rows.append(
        (
            f"Python batch of {n_batch}, {workers} at once",
            f"{n_batch / bare_s:.0f} runs/s",
            f"{n_batch / box_s:.0f} runs/s",
            box_s / bare_s,
        )
    )

    # 3. C++: one compile, many inputs.
    n_cpp = n_batch // 4
    inputs = [str(i) for i in range(n_cpp)]
    start = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        bare_cpp_out = list(pool.map(bare_cpp, inputs))
    bare_s = time.perf_counter() - start
    start = time.perf_counter()
    cpp_results = box.run_inputs_sync(CPP, inputs, language="cpp")
    box_s = time.perf_counter() - start
    assert [r.stdout for r in cpp_results] == bare_cpp_out
    assert all(r.status is Status.OK for r in cpp_results)
    rows.append(
        (
            f"C++ {n_cpp} inputs (r1 compiles once; bare prebuilt)",
            f"{bare_s * 1e3:.0f} ms",
            f"{box_s * 1e3:.0f} ms",
            box_s / bare_s,
        )
    )
    start = time.perf_counter()
    box.run_sync(CPP, "cpp", stdin="3")
    rows.append(
        (
            "C++ compile + one run, r1",
            "",
            f"{(time.perf_counter() - start) * 1e3:.0f} ms",
            float("nan"),
        )
    )

    rows += _many_tests(box, work, quick)

    box.close()
    shutil.rmtree(work)
    desc = box.containment.describe()
    about = (
        f"local sandbox: {', '.join(desc['namespaces'])} namespaces; run as uid "
        f"{desc['run_as_uid']}; seccomp: {'yes' if desc.get('seccomp') else 'no'}; "
        f"cgroups: {desc['cgroups'] or 'none'}; {workers} CPUs"
    )
    return rows, about


SPIN = (
    "#include <iostream>\n#include <ctime>\nint main(){long x;std::cin>>x;"
    "std::clock_t end=std::clock()+CLOCKS_PER_SEC/20;volatile long s=0;"
    "while(std::clock()<end)s+=x;std::cout<<x<<std::endl;}\n"
)


def _many_tests(box: LocalSandbox, work: Path, quick: bool) -> list[tuple[str, str, str, float]]:
    """Issue 10's cases: one built program over many tests in one sandbox (`run_inputs`),
    against the same number of sequential bare runs of the prebuilt binary; and the same
    tests with one sandbox per test (`run(artifact)`, the path before the batch runner)."""
    rows = []
    (work / "spin.cpp").write_text(SPIN)
    subprocess.run(["g++", "-O2", "-o", "spin", "spin.cpp"], cwd=work, check=True)
    for label, code, binary, n in (
        ("tiny", CPP, "main", 64),
        ("~50 ms CPU", SPIN, "spin", 16 if quick else 32),
    ):
        inputs = [str(i) for i in range(n)]

        def bare(binary: str = binary, inputs: list[str] = inputs) -> list[str]:
            return [
                subprocess.run(
                    [f"./{binary}"], input=s, capture_output=True, text=True, cwd=work
                ).stdout
                for s in inputs
            ]

        built = box.build_sync(code, "cpp")
        assert built.ok, built.message
        start = time.perf_counter()
        expected = bare()
        bare_s = time.perf_counter() - start
        start = time.perf_counter()
        results = box.run_inputs_sync(built, inputs, timeout=5)
        tests_s = time.perf_counter() - start
        assert [r.stdout for r in results] == expected, results[:2]
        start = time.perf_counter()
        singles = [box.run_sync(built, stdin=s, timeout=5) for s in inputs]
        singles_s = time.perf_counter() - start
        assert [r.stdout for r in singles] == expected
        rows.append(
            (
                f"C++ {n} {label} tests, run_inputs (after build)",
                f"{bare_s * 1e3:.0f} ms",
                f"{tests_s * 1e3:.0f} ms",
                tests_s / bare_s,
            )
        )
        rows.append(
            (
                f"C++ {n} {label} tests, one sandbox each",
                f"{bare_s * 1e3:.0f} ms",
                f"{singles_s * 1e3:.0f} ms",
                singles_s / bare_s,
            )
        )
    return rows


def _rows_of(src: str | None, quick: bool) -> list[list[object]]:
    """The rows measured in a fresh process, with r1_sandbox from `src` (None: this one)."""
    env = dict(os.environ)
    if src is not None:
        env["PYTHONPATH"] = src
    done = subprocess.run(
        [sys.executable, __file__, "--json", *(["--quick"] if quick else [])],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout)["rows"]


def _seconds(text: str) -> float:
    """'12.5 ms' / '40 runs/s' -> seconds per run (runs/s inverted)."""
    value, unit = text.split()
    return {"ms": float(value) / 1e3, "runs/s": 1 / float(value)}[unit]


def _compare(rev: str, quick: bool, rounds: int) -> None:
    """Now and at `rev`, in alternating fresh processes; medians of each case's r1 time."""
    root = Path(__file__).resolve().parent.parent
    src = "packages/r1-sandbox/src"
    now: dict[str, list[float]] = {}
    then: dict[str, list[float]] = {}
    bare: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="r1-bench-before-") as tmp:
        archive = subprocess.run(
            ["git", "-C", str(root), "archive", rev, src], capture_output=True, check=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", tmp], input=archive, check=True)
        for _ in range(rounds):
            for store, where in ((now, None), (then, str(Path(tmp) / src))):
                for case, plain, ours, _ratio in _rows_of(where, quick):
                    store.setdefault(str(case), []).append(_seconds(str(ours)))
                    if plain:
                        bare.setdefault(str(case), []).append(_seconds(str(plain)))
    print(f"r1 sandbox now vs at {rev}: medians of {rounds} alternating rounds (per run)")
    print(f"{'case':<50} {'bare':>10} {'before':>10} {'now':>10} {'cost':>7}")
    for case, times in now.items():
        after = statistics.median(times)
        before = statistics.median(then.get(case, [float("nan")]))
        plain = f"{statistics.median(bare[case]) * 1e3:.1f} ms" if case in bare else ""
        print(
            f"{case:<50} {plain:>10} {before * 1e3:>7.1f} ms {after * 1e3:>7.1f} ms "
            f"{after / before - 1:>+7.0%}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    parser.add_argument("--before", metavar="REV", help="compare with r1_sandbox at this git rev")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds of --before")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON")
    args = parser.parse_args()
    if args.before:
        _compare(args.before, args.quick, args.rounds)
        return
    rows, about = measure(args.quick)
    if args.json:
        print(json.dumps({"rows": rows, "about": about}))
        return
    print(about)
    print(f"{'case':<50} {'bare':>11} {'r1 sandbox':>11} {'ratio':>7}")
    for case, bare, ours, ratio in rows:
        print(f"{case:<50} {bare:>11} {ours:>11} {_x(ratio):>7}")


def _x(ratio: float) -> str:
    return "" if ratio != ratio else f"{ratio:.2f}x"


if __name__ == "__main__":
    main()
