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
- C++: 64 inputs of one program through `run_inputs` (compiled once) against the same
  number of bare runs of a binary compiled once.

Medians per run are reported; ratios are r1 / bare measured in this run.
Run: `uv run python bench/sandbox.py [--quick]`.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    args = parser.parse_args()
    n_seq = 30 if args.quick else 100
    n_batch = 64 if args.quick else 256
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
    cpp_results = box.run_inputs_sync(CPP, "cpp", inputs)
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

    box.close()
    shutil.rmtree(work)
    desc = box.containment.describe()
    print(
        f"local sandbox: {', '.join(desc['namespaces'])} namespaces; run as uid "
        f"{desc['run_as_uid']}; cgroups: {desc['cgroups'] or 'none'}; {workers} CPUs"
    )
    print(f"{'case':<46} {'bare':>12} {'r1 sandbox':>12} {'ratio':>7}")
    for case, bare, ours, ratio in rows:
        shown = "" if ratio != ratio else f"{ratio:.2f}x"
        print(f"{case:<46} {bare:>12} {ours:>12} {shown:>7}")


if __name__ == "__main__":
    main()
