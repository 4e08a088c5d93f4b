"""Grading the samples of a benchmark: lighteval's verdicts, without its hangs.

lighteval grades inside the evaluation process, one sample after another: math answers
with sympy under `signal.alarm` (which cannot stop work done in C: one `9^{9^{9^9}}` stalls
the whole evaluation), LiveCodeBench programs with `exec` in a forked child of the
evaluator, protected by a `reliability_guard` that the program itself can undo. Here:

- math and multiple-choice answers go to r1-rewards' `MathPool`, whose workers run
  lighteval's own extraction and comparison (`_grade_worker.py`), every sample under a hard
  wall-clock limit (a stuck sample is killed and counted as wrong, the rest go on), spread
  over the cores, each problem's gold extracted once and each distinct answer graded once;
- programs run in r1-sandbox (the local bubblewrap sandbox by default, any backend of
  `r1_sandbox.get_sandbox`), on every test of the problem, compared as LiveCodeBench
  compares (line by line after stripping, numbers as decimals; call-based problems by the
  returned JSON value). A sandbox failure (`SE`) leaves the sample ungraded, never wrong.

Data flow: lighteval's docs and model responses (after the run, in `_compute_metrics`) ->
one verdict per sample (1, 0, or None: could not grade) -> `passk.pass_at_k` per problem ->
lighteval's results, the details parquet and `summary.json`.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from r1_rewards._math_pool import TIMED_OUT, MathPool

logger = logging.getLogger(__name__)

# The worker bootstrap: r1-rewards' pool protocol, r1-eval's worker.
_BOOTSTRAP = (
    "import sys, json; sys.path[:0] = json.loads(sys.argv[4]); "
    "from r1_eval._grade_worker import main; "
    "main(int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]))"
)

# Hard wall-clock limit per sample. The pool hands its workers (limit - 0.5) // 2 whole
# seconds for lighteval's own alarms, so 11 s gives them lighteval's default of 5 s: a slow
# but finite parse reaches the verdict lighteval would reach, only a runaway one is killed.
DEFAULT_MATH_TIMEOUT_S = 11.0
# LiveCodeBench's limit per test (lighteval's `codegen_metrics(timeout=6)`).
DEFAULT_CODE_TIMEOUT_S = 6.0


class ExtractiveMatchPool(MathPool):
    """r1-rewards' bounded, self-healing worker pool, running lighteval's verdicts."""

    def _spawn(self) -> Any:
        # Same process set-up as MathPool._spawn (fresh interpreter, own session, two
        # pipes), different worker module.
        from multiprocessing.connection import Connection

        from r1_rewards._math_pool import _Worker

        p2c_r, p2c_w = os.pipe()
        c2p_r, c2p_w = os.pipe()
        proc = subprocess.Popen(
            [
                sys.executable,
                "-c",
                _BOOTSTRAP,
                str(p2c_r),
                str(c2p_w),
                str(self.memory_mb),
                json.dumps([p for p in sys.path if p]),
            ],
            pass_fds=(p2c_r, c2p_w),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            start_new_session=True,
        )
        os.close(p2c_r)
        os.close(c2p_w)
        os.set_inheritable(p2c_w, False)
        os.set_inheritable(c2p_r, False)
        return _Worker(
            proc=proc,
            inbox=Connection(p2c_w, readable=False),
            outbox=Connection(c2p_r, writable=False),
        )


@dataclass(frozen=True)
class Problem:
    """The gold side of one problem, as lighteval's prompt function made it."""

    choices: list[str]
    gold_index: int | list[int]
    specific: dict[str, Any] | None = None


class ExtractiveGrader:
    """lighteval's extractive match (`math` or `letters`) over a bounded process pool."""

    def __init__(
        self,
        metric: str,
        *,
        timeout: float = DEFAULT_MATH_TIMEOUT_S,
        workers: int | None = None,
        pool: MathPool | None = None,
    ) -> None:
        from r1_eval._grade_worker import METRICS

        if metric not in METRICS:
            raise ValueError(f"metric={metric!r}: must be one of {METRICS}")
        if timeout <= 0:
            raise ValueError(f"timeout={timeout!r}: must be positive seconds")
        self.metric = metric
        self.timeout = float(timeout)
        self._pool = pool or ExtractiveMatchPool(workers=workers)
        self.timed_out = 0

    def grade(
        self, problems: Sequence[Problem], samples: Sequence[Sequence[str]]
    ) -> list[list[int | None]]:
        """One verdict per sample of each problem: 1, 0, or None (could not grade)."""
        pairs: list[tuple[str, str]] = []
        for problem, texts in zip(problems, samples, strict=True):
            spec = json.dumps(
                {
                    "metric": self.metric,
                    "choices": list(problem.choices),
                    "gold_index": problem.gold_index,
                },
                sort_keys=True,
            )
            pairs.extend((text or "", spec) for text in texts)
        outcomes = self._pool.run("accuracy", pairs, self.timeout) if pairs else []
        verdicts: list[int | None] = []
        for outcome in outcomes:
            if outcome == TIMED_OUT:
                self.timed_out += 1
                verdicts.append(0)  # lighteval's alarm scores a timed-out comparison False
            else:
                verdicts.append(None if outcome is None else int(outcome))
        out: list[list[int | None]] = []
        start = 0
        for texts in samples:
            out.append(verdicts[start : start + len(texts)])
            start += len(texts)
        return out

    def close(self) -> None:
        self._pool.close()


# -- LiveCodeBench -----------------------------------------------------------------------

# The modules LiveCodeBench makes available to every solution without an import (its
# runner prepends a block of star-imports); solutions written for it rely on them.
_PRELUDE_MODULES = [
    *("string", "re", "datetime", "collections", "heapq", "bisect", "copy", "math"),
    *("random", "statistics", "itertools", "functools", "operator", "io", "sys", "json"),
]
_PRELUDE = (
    "\n".join(f"from {m} import *" for m in _PRELUDE_MODULES)
    + "\nimport "
    + ", ".join(_PRELUDE_MODULES)
    + "\nfrom typing import *\n"
    + "sys.setrecursionlimit(50000)\n"
)

# Appended to a call-based (LeetCode) solution: read one JSON value per input line, call
# the method, print the JSON of what it returned. The judge compares that value.
_CALL_HARNESS = """

def __r1_eval_call():
    import json as _json, sys as _sys
    _args = [_json.loads(line) for line in _sys.stdin.read().split("\\n") if line.strip()]
    _holder = Solution() if "Solution" in globals() else None
    _fn = getattr(_holder, {fn!r}) if _holder is not None else globals()[{fn!r}]
    _out = _fn(*_args)
    if isinstance(_out, tuple):
        _out = list(_out)
    _sys.stdout.write("\\n__R1_EVAL_RESULT__" + _json.dumps(_out))

__r1_eval_call()
"""


def extract_code(text: str) -> str:
    """The last fenced block of a completion, as LiveCodeBench extracts it ("" if none)."""
    lines = text.split("\n")
    fences = [i for i, line in enumerate(lines) if "```" in line]
    if len(fences) < 2:
        return ""
    return "\n".join(lines[fences[-2] + 1 : fences[-1]])


def _stripped_lines(text: str) -> list[str]:
    return [line.strip() for line in text.strip().split("\n")]


def _as_decimals(line: str) -> list[Any] | None:
    from decimal import Decimal, InvalidOperation

    try:
        return [Decimal(word) for word in line.split()]
    except (InvalidOperation, ValueError):
        return None


def stdio_output_matches(output: str, expected: str) -> bool:
    """LiveCodeBench's comparison: same stripped lines, or the same numbers line by line."""
    got, want = _stripped_lines(output), _stripped_lines(expected)
    if len(got) != len(want):
        return False
    for a, b in zip(got, want, strict=True):
        if a == b:
            continue
        da, db = _as_decimals(a), _as_decimals(b)
        if da is None or db is None or da != db:
            return False
    return True


class CodeGrader:
    """LiveCodeBench's verdict (every test passes) with programs run in r1-sandbox."""

    def __init__(
        self,
        sandbox: Any = None,
        *,
        timeout: float = DEFAULT_CODE_TIMEOUT_S,
        memory_mb: int = 1024,
    ) -> None:
        self._sandbox = sandbox
        self.timeout = timeout
        self.memory_mb = memory_mb
        self.sandbox_errors = 0

    def _box(self) -> Any:
        if self._sandbox is None:
            from r1_sandbox import get_sandbox

            self._sandbox = get_sandbox(os.environ.get("R1_EVAL_SANDBOX", "local"))
        return self._sandbox

    def _program(self, text: str, tests: dict[str, Any]) -> str | None:
        code = extract_code(text or "")
        if not code.strip():
            return None
        fn_name = tests.get("fn_name")
        return _PRELUDE + code + (_CALL_HARNESS.format(fn=fn_name) if fn_name else "")

    def _verdict(self, results: Sequence[Any], tests: dict[str, Any]) -> int | None:
        from r1_sandbox import Status

        fn_name = tests.get("fn_name")
        for result, expected in zip(results, tests["outputs"], strict=True):
            if result.status is Status.SE:
                self.sandbox_errors += 1
                logger.warning("sandbox error while grading a program: %s", result.message)
                return None
            if result.status is not Status.OK:
                return 0
            if fn_name:
                marker = result.stdout.rfind("__R1_EVAL_RESULT__")
                if marker < 0:
                    return 0
                try:
                    value = json.loads(result.stdout[marker + len("__R1_EVAL_RESULT__") :])
                    if value != json.loads(expected):
                        return 0
                except json.JSONDecodeError:
                    return 0
            elif not stdio_output_matches(result.stdout, expected):
                return 0
        return 1

    def grade(
        self, problems: Sequence[Problem], samples: Sequence[Sequence[str]]
    ) -> list[list[int | None]]:
        """One verdict per sample: 1 when the program passes every test, 0, or None (SE)."""
        from r1_sandbox import Job

        jobs: list[Any] = []
        spans: list[list[tuple[int, int] | None]] = []  # per problem, per sample: job range
        for problem, texts in zip(problems, samples, strict=True):
            tests = problem.specific or {"inputs": [], "outputs": []}
            row: list[tuple[int, int] | None] = []
            for text in texts:
                program = self._program(text, tests)
                if program is None:
                    row.append(None)
                    continue
                first = len(jobs)
                jobs.extend(
                    Job(program, "python", stdin, {}, self.timeout, self.memory_mb)
                    for stdin in tests["inputs"]
                )
                row.append((first, len(jobs)))
            spans.append(row)
        results = self._box().run_batch_sync(jobs) if jobs else []
        out: list[list[int | None]] = []
        for problem, row in zip(problems, spans, strict=True):
            tests = problem.specific or {"inputs": [], "outputs": []}
            out.append(
                [
                    0 if span is None else self._verdict(results[span[0] : span[1]], tests)
                    for span in row
                ]
            )
        return out

    def close(self) -> None:
        if self._sandbox is not None:
            self._sandbox.close()
