"""Benchmark: grading a 50-test IOI problem locally, compile once against compile per test.

open-r1's `cms_ioi` Piston package compiles the submission (with the task's grader) for
every test it runs; r1-cp-scoring compiles it once per submission and ships the binary
to each test's sandbox. Both sides run here on the same local sandbox, in the same run,
with the same 50 tests (a Batch task with a grader and header, all tests in one subtask,
no early stop, all tests in parallel up to the CPU count):

- compile once, tests in one sandbox: `score_subtask` on the shared judge (one compile,
  then the 50 runs inside one sandbox, `Sandbox.run_inputs`);
- compile once, one sandbox per test: the judge's `evaluate` per test (one compile, 50
  sandboxes), the path before the batch runner;
- compile per test: the same judge logic with a fresh build cache per test (50 compiles,
  50 runs), which is what a per-test Piston request costs.

Then an IOI Communication task (the test suite's `guess`: a manager and the contestant
over FIFOs, started by the judge's launcher), as many tests, after its one compile: one
sandbox per test (`evaluate` each) against `evaluate_many` (the launcher's runs in turn
in shared sandboxes, `Sandbox.run_inputs` with `artifacts=`).

Reported: wall seconds, tests per second, compiles. Run: `uv run python bench/cp_scoring.py`.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
from pathlib import Path

from r1_cp_scoring import CMSJudge, IOITask, add_includes, score_subtask
from r1_cp_scoring.cms import judge_for
from r1_sandbox import LocalSandbox

HEADER = "#include <vector>\nlong long total(std::vector<int> v);\n"
GRADER = r"""
#include "bench.h"
#include <cstdio>
#include <vector>
int main() {
    int n; if (scanf("%d", &n) != 1) return 1;
    std::vector<int> v(n);
    for (int i = 0; i < n; i++) scanf("%d", &v[i]);
    printf("%lld\n", total(v));
}
"""
SOLUTION = "long long total(std::vector<int> v){long long s=0;for(int x:v)s+=x;return s;}"


def problem(n_tests: int) -> dict:
    rng = random.Random(0)
    tests = {}
    for i in range(n_tests):
        values = [rng.randint(-(10**9), 10**9) for _ in range(rng.randint(1, 2000))]
        tests[f"t{i:02d}"] = [f"{len(values)}\n{' '.join(map(str, values))}\n", f"{sum(values)}\n"]
    return {
        "id": "bench",
        "year": 2099,
        "subtask": "1",
        "score": 100,
        "score_precision": 2,
        "test_names": list(tests),
        "test_cases": tests,
        "time_limit": 2.0,
        "memory_limit": 256,
        "grader_files": [["graders/grader.cpp", GRADER], ["graders/bench.h", HEADER]],
    }


async def compile_once(box: LocalSandbox, row: dict, code: str) -> tuple[float, int, float]:
    judge = judge_for(box)
    before = judge.compiles
    start = time.perf_counter()
    result = await score_subtask(box, row, code, None, -1, early_stop=False)
    return time.perf_counter() - start, judge.compiles - before, result.score


async def one_sandbox_per_test(box: LocalSandbox, row: dict, code: str) -> tuple[float, int, float]:
    """Compiled once, each test in a sandbox of its own (the path before the batch runner)."""
    task = IOITask.from_row(row)
    judge = CMSJudge(box)
    start = time.perf_counter()
    verdicts = await asyncio.gather(
        *(judge.evaluate(task, code, *row["test_cases"][name]) for name in row["test_names"])
    )
    score = min(v.score for v in verdicts)
    return time.perf_counter() - start, judge.compiles, score


async def compile_per_test(box: LocalSandbox, row: dict, code: str) -> tuple[float, int, float]:
    task = IOITask.from_row(row)
    start = time.perf_counter()
    judges = [CMSJudge(box) for _ in row["test_names"]]
    verdicts = await asyncio.gather(
        *(
            judge.evaluate(task, code, *row["test_cases"][name])
            for judge, name in zip(judges, row["test_names"], strict=True)
        )
    )
    score = min(v.score for v in verdicts)
    return time.perf_counter() - start, sum(j.compiles for j in judges), score


def communication_problem(n_tests: int) -> dict:
    """The test suite's IOI Communication task (`guess`: manager + stub over FIFOs)."""
    from problems import guess_rows

    rng = random.Random(1)
    row = dict(guess_rows()[0])
    cases = {f"c{i:02d}": [f"1000 {rng.randint(1, 1000)}\n", ""] for i in range(n_tests)}
    row.update(test_names=list(cases), test_cases=cases)
    return row


def communication(box: LocalSandbox, n_tests: int) -> list[tuple[str, float]]:
    """Communication tests after the one compile: a sandbox each, or in turn (run_inputs)."""
    # One definition of the task, shared with the test suite.
    sys.path.insert(0, str(Path(__file__).parents[1] / "packages/r1-cp-scoring/tests"))
    from problems import GUESS_BINARY

    row = communication_problem(n_tests)
    code = add_includes(GUESS_BINARY, "guess")
    task = IOITask.from_row(row)
    judge = judge_for(box)
    asyncio.run(judge.evaluate(task, code, *row["test_cases"]["c00"]))  # compile, cached
    rows = []
    for name in ("one sandbox per test", "in turn (run_inputs)"):
        start = time.perf_counter()
        if name.startswith("one"):
            cases = row["test_cases"]
            verdicts = asyncio.run(_gather(judge.evaluate(task, code, *cases[n]) for n in cases))
        else:
            tests = list(row["test_cases"].values())
            verdicts = asyncio.run(judge.evaluate_many(task, code, tests))
        assert all(v.score == 1.0 for v in verdicts), f"{name}: {verdicts[:2]}"
        rows.append((name, time.perf_counter() - start))
    return rows


async def _gather(coros):
    return await asyncio.gather(*coros)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tests", type=int, default=50)
    args = parser.parse_args()
    row = problem(args.tests)
    code = add_includes(SOLUTION, "bench")
    with LocalSandbox() as box:
        rows = []
        modes = (
            ("compile per test", compile_per_test),
            ("compile once, one sandbox per test", one_sandbox_per_test),
            ("compile once, tests in one sandbox (run_inputs)", compile_once),
        )
        for name, fn in modes:
            seconds, compiles, score = asyncio.run(fn(box, row, code))
            assert score == 1.0, f"{name}: the accepted submission scored {score}"
            rows.append((name, seconds, compiles))
        comm = communication(box, args.tests)
    base = rows[0][1]
    print(f"{args.tests} tests, {box.concurrency} runs at once\n")
    print("| mode | compiles | wall s | tests/s | speed-up |")
    print("|---|---|---|---|---|")
    for name, seconds, compiles in rows:
        print(
            f"| {name} | {compiles} | {seconds:.2f} | {args.tests / seconds:.1f} | "
            f"{base / seconds:.1f}x |"
        )
    print(f"\nIOI Communication (manager + contestant), {args.tests} tests, after the compile\n")
    print("| mode | wall s | tests/s | speed-up |")
    print("|---|---|---|---|")
    for name, seconds in comm:
        speed_up = comm[0][1] / seconds
        print(f"| {name} | {seconds:.2f} | {args.tests / seconds:.1f} | {speed_up:.2f}x |")


if __name__ == "__main__":
    main()
