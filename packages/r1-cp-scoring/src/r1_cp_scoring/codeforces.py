"""Codeforces scoring (open-r1/codeforces schema): official + generated tests, checkers.

A submission is compiled once (C++) and run on the problem's `official_tests` plus its
generated tests (`$CF_TESTS_FOLDER/test_cases_{contest:04d}.parquet`, as open-r1 ships
them), `test_batch_size` at a time. An output passes when its whitespace-separated tokens
equal the expected ones (Codeforces' default comparison), or, when the problem has a
`generated_checker`, when the checker accepts it: the checker runs as
`checker.py INPUT CORRECT_OUTPUT CONTESTANT_OUTPUT` and accepts by printing `1` (or
`100`) and exiting 0. Scores are open-r1's: no tests -> None (not a coding problem), no
code -> -1.0, compile error -> -0.1, else `pass_fail` (1.0 / 0.0), `partial` (fraction
passed) or `weighted_sum` (pass_fail + 0.1 x fraction passed). In `pass_fail` mode the
first failing batch stops the run, as in open-r1: the rest cannot change the score.

A broken harness is an error, never a score: a checker that does not parse, or a
`$CF_TESTS_FOLDER` that does not exist, raises `HarnessError`; a sandbox failure raises
`GradingUnavailableError` (the reward turns it into None).

Data flow: a row of open-r1/codeforces + code + language -> tests (official + parquet)
-> one sandbox run per test (binary from the shared build cache) -> token compare or
checker run -> `CFReport` -> `score_submission`'s float (the reward) or the CLI's JSON.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from r1_cp_scoring._programs import builds_for, check_not_se, default_sandbox, digest, run_sync
from r1_cp_scoring.batching import batches, check_batch_size
from r1_cp_scoring.errors import (
    ConfigError,
    HarnessError,
    MissingExtraError,
    PistonError,
)
from r1_sandbox import Artifact, Job, RunResult, Sandbox, Status, flags_for

logger = logging.getLogger(__name__)

ScoringMode = Literal["pass_fail", "partial", "weighted_sum"]
SCORING_MODES = ("pass_fail", "partial", "weighted_sum")
_LANGUAGES = {"python": "python", "python3": "python", "py": "python", "cpp": "cpp", "c++": "cpp"}
_CHECKER_ARGS = "input.txt correct_output.txt contestant_output.txt"


def tokens_equal(actual: str, expected: str) -> bool:
    """Codeforces' default comparison: the same whitespace-separated tokens.

    >>> tokens_equal("1 2\\n3 \\n", "1\\n2 3")
    True
    >>> tokens_equal("1 2", "1 2 3")
    False
    """
    return actual.split() == expected.split()


def normalize_language(language: str | None) -> str:
    """'python' or 'cpp' for open-r1's spellings; ConfigError otherwise."""
    key = (language or "").strip().lower()
    if key not in _LANGUAGES:
        raise ConfigError(f"submission_language={language!r}: must be 'python' or 'cpp'")
    return _LANGUAGES[key]


# -- generated tests ------------------------------------------------------------------------


@functools.lru_cache(maxsize=32)
def _contest_tests(path: str, mtime: float) -> dict[str, list[dict[str, str]]]:
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise MissingExtraError("reading generated tests (parquet)", "parquet") from None
    table = pq.read_table(path, columns=["problem_id", "input", "output"]).to_pydict()
    grouped: dict[str, list[dict[str, str]]] = {}
    for pid, inp, out in zip(table["problem_id"], table["input"], table["output"], strict=True):
        grouped.setdefault(str(pid), []).append({"input": inp, "output": out})
    return grouped


async def get_generated_tests(problem_id: str) -> list[dict[str, str]]:
    """The generated tests of `problem_id` ("1234/A"); [] without $CF_TESTS_FOLDER or file.

    A coroutine, as open-r1's is (`await get_generated_tests(pid)`); the parquet file is
    read in a thread so that a grader's event loop keeps serving other submissions.
    """
    return await asyncio.to_thread(get_generated_tests_sync, problem_id)


def get_generated_tests_sync(problem_id: str) -> list[dict[str, str]]:
    """`get_generated_tests` for callers without an event loop (the CLI, `problem_tests`)."""
    folder = os.environ.get("CF_TESTS_FOLDER")
    if not folder:
        return []
    if not os.path.isdir(folder):
        raise HarnessError(
            f"CF_TESTS_FOLDER={folder!r} is not a directory; download the generated tests of "
            "open-r1/codeforces there, or unset it to grade on the official tests only"
        )
    if "/" not in str(problem_id):
        return []  # not a Codeforces id (a single test sent to the Piston server)
    contest = str(problem_id).split("/")[0]
    try:
        path = os.path.join(folder, f"test_cases_{int(contest):04d}.parquet")
    except ValueError:
        raise ConfigError(f"id={problem_id!r}: expected 'CONTEST/INDEX' such as '1234/A'") from None
    if not os.path.exists(path):
        return []
    return list(_contest_tests(path, os.path.getmtime(path)).get(str(problem_id), []))


def problem_tests(problem: Mapping[str, Any]) -> list[dict[str, str]]:
    """Official tests followed by generated ones."""
    official = list(problem.get("official_tests") or [])
    return official + get_generated_tests_sync(str(problem.get("id", "")))


async def _all_tests(problem: Mapping[str, Any]) -> list[dict[str, str]]:
    """`problem_tests`, awaited: the graders run in an event loop."""
    official = list(problem.get("official_tests") or [])
    return official + await get_generated_tests(str(problem.get("id", "")))


# -- one test ------------------------------------------------------------------------------


@dataclass
class CFTestResult:
    """The outcome of one test."""

    __test__ = False

    index: int
    passed: bool = False
    status: str = "SKIPPED"  # AC, WA, TLE, MLE, RE, CE, SKIPPED
    detail: str = ""


@dataclass
class CFReport:
    """Everything the grader learnt about one submission."""

    compiled: bool = True
    compile_message: str = ""
    tests: list[CFTestResult] = field(default_factory=list)

    @property
    def passed(self) -> int:
        return sum(t.passed for t in self.tests)

    def score(self, mode: ScoringMode, no_compile_reward: float = -0.1) -> float | None:
        """The score in `mode` (None when there are no tests)."""
        if not self.tests:
            return None
        if not self.compiled:
            return no_compile_reward
        fraction = self.passed / len(self.tests)
        pass_fail = 1.0 if self.passed == len(self.tests) else 0.0
        if mode == "pass_fail":
            return pass_fail
        if mode == "partial":
            return fraction
        return pass_fail + 0.1 * fraction

    def to_dict(self) -> dict[str, Any]:
        return {
            "compiled": self.compiled,
            "compile_message": self.compile_message,
            "passed": self.passed,
            "tests": [asdict(t) for t in self.tests],
        }


class _LocalRunner:
    """Runs one submission's tests on an r1-sandbox backend."""

    def __init__(self, box: Sandbox, problem: Mapping[str, Any], code: str, language: str):
        self.box, self.problem, self.code, self.language = box, problem, code, language
        self.time_limit = float(problem.get("time_limit") or 2.0)
        self.memory_mb = int(float(problem.get("memory_limit") or 256))
        self.file_mode = str(problem.get("input_mode") or "stdio") == "file"
        self.checker = problem.get("generated_checker") or None

    async def prepare(self) -> Artifact | None:
        """Compile the submission (cached) and validate the checker."""
        if self.checker:
            await _validate_checker(self.box, self.checker)
        if self.language != "cpp":
            return None
        built = await builds_for(self.box).build(
            {"main.cpp": self.code}, ["main.cpp"], flags_for("cpp", "codeforces")
        )
        if not built.ok:
            return built
        self.binary = built
        return None

    def _file_mode_job(self, stdin: str) -> Job:
        """A Python submission in file mode: input.txt in, output.txt out (not stdout)."""
        script = _file_mode("python3 main.py")
        files = {"input.txt": stdin, "main.py": self.code}
        return Job(script, "bash", "", files, self.time_limit, self.memory_mb)

    async def _run(self, stdin: str) -> RunResult:
        limits = {"timeout": self.time_limit, "memory_mb": self.memory_mb}
        if self.language == "cpp" and not self.file_mode:
            return await self.box.run(self.binary, stdin=stdin, **limits)
        if self.language == "python" and not self.file_mode:
            return await self.box.run(self.code, "python", stdin=stdin, **limits)
        if self.language == "python":
            return await self.box.run_job(self._file_mode_job(stdin))
        return await self.box.run(
            _file_mode("./prog"),
            "bash",
            artifacts={"prog": self.binary},
            files={"input.txt": stdin},
            **limits,
        )

    async def test(self, index: int, case: Mapping[str, str]) -> CFTestResult:
        return (await self._judge_all([(index, case)], [await self._run(_input(case))]))[0]

    async def tests(self, batch: list[tuple[int, Mapping[str, str]]]) -> list[CFTestResult]:
        """A batch of tests, sharing sandboxes where the backend allows it: a C++ stdio
        program's runs (`run_inputs` of the binary; in file mode, of a script beside it),
        a Python program's (`run_inputs` of its source, or `run_batch` of its file-mode
        jobs), and the checker's runs."""
        if len(batch) < 2:
            return [await self.test(i, t) for i, t in batch]
        inputs = [_input(case) for _, case in batch]
        limits = {"timeout": self.time_limit, "memory_mb": self.memory_mb}
        if self.language == "cpp" and not self.file_mode:
            results = await self.box.run_inputs(self.binary, inputs, **limits)
        elif self.language == "python" and not self.file_mode:
            results = await self.box.run_inputs(self.code, inputs, language="python", **limits)
        elif self.language == "python":
            results = await self.box.run_batch([self._file_mode_job(s) for s in inputs])
        else:
            results = await self.box.run_inputs(
                _file_mode("./prog"),
                [""] * len(inputs),
                language="bash",
                artifacts={"prog": self.binary},
                input_files=[{"input.txt": s} for s in inputs],
                **limits,
            )
        return await self._judge_all(batch, results)

    async def _judge_all(
        self, batch: list[tuple[int, Mapping[str, str]]], runs: list[RunResult]
    ) -> list[CFTestResult]:
        """Verdicts of a batch's runs; the checker's runs of those that ran go together."""
        out: list[CFTestResult | None] = [None] * len(batch)
        checked: list[int] = []
        for k, ((index, case), run) in enumerate(zip(batch, runs, strict=True)):
            result = check_not_se(run, f"test {index}")
            if result.status is not Status.OK:
                out[k] = CFTestResult(index, False, str(result.status), result.message)
            elif not self.checker:
                ok = tokens_equal(result.stdout, str(case.get("output", "")))
                out[k] = CFTestResult(index, ok, "AC" if ok else "WA")
            else:
                checked.append(k)
        jobs = [self._checker_job(batch[k][1], runs[k].stdout) for k in checked]
        verdicts = await self.box.run_batch(jobs) if jobs else []
        for k, verdict in zip(checked, verdicts, strict=True):
            out[k] = self._checked(batch[k][0], verdict)
        return [r for r in out if r is not None]

    def _checker_job(self, case: Mapping[str, str], output: str) -> Job:
        files = {
            "checker.py": str(self.checker),
            "input.txt": _input(case),
            "correct_output.txt": str(case.get("output", "")),
            "contestant_output.txt": output,
        }
        script = f"exec python3 checker.py {_CHECKER_ARGS}\n"
        return Job(script, "bash", "", files, max(10.0, 2 * self.time_limit), 1024)

    def _checked(self, index: int, run: RunResult) -> CFTestResult:
        verdict = check_not_se(run, f"the checker on test {index}")
        ok = verdict.status is Status.OK and verdict.stdout.strip() in ("1", "100")
        if verdict.status is not Status.OK:
            logger.warning(
                "checker of %s rejected test %d by failing: %s %s",
                self.problem.get("id"),
                index,
                verdict.status,
                verdict.stderr[-300:],
            )
        return CFTestResult(index, ok, "AC" if ok else "WA", verdict.stderr.strip()[-300:])


def _file_mode(command: str) -> str:
    """The bash script of a file-mode test: input.txt in, output.txt out (not stdout)."""
    return f"{command} >/dev/null\nrc=$?\ncat output.txt 2>/dev/null\nexit $rc\n"


def _input(case: Mapping[str, str]) -> str:
    return str(case.get("input", ""))


_VALID_CHECKERS: set[str] = set()


async def _validate_checker(box: Sandbox, checker: str) -> None:
    """A checker that does not even parse is the problem's fault: HarnessError, once."""
    key = digest("checker", checker)
    if key in _VALID_CHECKERS:
        return
    parsed = check_not_se(
        await box.run(
            "import ast, sys\nast.parse(open('checker.py').read(), 'checker.py')\n",
            "python",
            files={"checker.py": checker},
            timeout=10.0,
            memory_mb=1024,
        ),
        "the checker's syntax check",
    )
    if parsed.status is not Status.OK:
        raise HarnessError(f"the problem's checker does not compile:\n{parsed.stderr[-1000:]}")
    _VALID_CHECKERS.add(key)


# -- the Piston `codeforces` package ---------------------------------------------------------


def codeforces_request(
    problem: Mapping[str, Any], code: str, language: str, test: Mapping[str, str]
) -> tuple[dict[str, Any], str]:
    """The body and language open-r1 sends to the `codeforces` Piston package."""
    files = [{"name": f"main.{language}", "content": code}]
    if problem.get("generated_checker"):
        files.append({"name": "checker.py", "content": problem["generated_checker"]})
    config = {
        "TIME_LIMIT": problem.get("time_limit"),
        "MEMORY_LIMIT": problem.get("memory_limit"),
        "INPUT_MODE": problem.get("input_mode"),
    }
    files += [
        {"name": "input.txt", "content": str(test.get("input", ""))},
        {"name": "correct_output.txt", "content": str(test.get("output", ""))},
        {"name": "grader_config", "content": "\n".join(f"{k}={v}" for k, v in config.items())},
    ]
    body = {"files": files, "run_timeout": (float(problem.get("time_limit") or 2) + 10) * 1000}
    return body, "cf_python3" if language == "python" else "c++17"


async def _piston_test(
    client: Any,
    problem: Mapping[str, Any],
    code: str,
    language: str,
    index: int,
    test: Mapping[str, str],
) -> CFTestResult:
    body, piston_language = codeforces_request(problem, code, language, test)
    answer = await client.send_execute(body, language=piston_language)
    if not isinstance(answer, Mapping) or "message" in answer:
        raise PistonError(f"Piston refused the run: {answer}")
    if (answer.get("compile") or {}).get("code") not in (None, 0):
        return CFTestResult(index, False, "CE", str(answer["compile"].get("stderr", "")))
    run = answer.get("run") or {}
    ok = run.get("code") == 0 and str(run.get("stdout", "")).strip() in ("1", "100")
    return CFTestResult(index, ok, "AC" if ok else "WA", str(run.get("stderr", ""))[-300:])


# -- grading ---------------------------------------------------------------------------------


async def grade_submission(
    client: Any,
    problem: Mapping[str, Any],
    submission: str,
    submission_language: str = "cpp",
    *,
    test_batch_size: int = 1,
    early_stop: bool = True,
) -> CFReport:
    """Run a non-empty submission on the problem's tests; stops at a failing batch if asked."""
    language = normalize_language(submission_language)
    size = check_batch_size(test_batch_size)
    tests = await _all_tests(problem)
    report = CFReport(tests=[CFTestResult(i) for i in range(len(tests))])
    if not tests:
        return report
    if client is None:
        client = default_sandbox()
    if isinstance(client, Sandbox):
        runner = _LocalRunner(client, problem, submission, language)
        failed = await runner.prepare()
        if failed is not None:
            report.compiled, report.compile_message = False, failed.message
            return report
        run_batch: Any = runner.tests
    elif hasattr(client, "send_execute"):

        async def on_piston(batch: list[tuple[int, Mapping[str, str]]]) -> list[CFTestResult]:
            return list(
                await asyncio.gather(
                    *(_piston_test(client, problem, submission, language, i, t) for i, t in batch)
                )
            )

        run_batch = on_piston
    else:
        raise ConfigError(
            f"client={type(client).__name__}: pass an r1-sandbox backend or a PistonClient"
        )
    for batch in batches(list(enumerate(tests)), size):
        results = await run_batch(list(batch))
        for r in results:
            report.tests[r.index] = r
        if any(r.status == "CE" for r in results):
            report.compiled = False
            report.compile_message = next(r.detail for r in results if r.status == "CE")
            return report
        if early_stop and not all(r.passed for r in results):
            break
    return report


async def score_submission(
    client: Any,
    problem_data: Mapping[str, Any],
    submission: str,
    test_batch_size: int = 1,
    scoring_mode: ScoringMode = "weighted_sum",
    no_compile_reward: float = -0.1,
    no_submission_reward: float = -1.0,
    submission_language: str = "cpp",
) -> float | None:
    """open-r1's Codeforces score of `submission` (see the module docstring for values)."""
    if scoring_mode not in SCORING_MODES:
        raise ConfigError(f"scoring_mode={scoring_mode!r}: must be one of {SCORING_MODES}")
    check_batch_size(test_batch_size)
    if not await _all_tests(problem_data):
        return None
    if not submission:
        return no_submission_reward
    report = await grade_submission(
        client,
        problem_data,
        submission,
        submission_language,
        test_batch_size=test_batch_size,
        early_stop=scoring_mode == "pass_fail",
    )
    return report.score(scoring_mode, no_compile_reward)


def grade_submission_sync(
    client: Any,
    problem: Mapping[str, Any],
    submission: str,
    submission_language: str = "cpp",
    *,
    test_batch_size: int = 1,
    early_stop: bool = True,
) -> CFReport:
    """`grade_submission` for sync callers."""
    return run_sync(
        grade_submission(
            client,
            problem,
            submission,
            submission_language,
            test_batch_size=test_batch_size,
            early_stop=early_stop,
        ),
        client,
    )


def score_submission_sync(
    client: Any,
    problem_data: Mapping[str, Any],
    submission: str,
    test_batch_size: int = 1,
    scoring_mode: ScoringMode = "weighted_sum",
    no_compile_reward: float = -0.1,
    no_submission_reward: float = -1.0,
    submission_language: str = "cpp",
) -> float | None:
    """`score_submission` for sync callers."""
    return run_sync(
        score_submission(
            client,
            problem_data,
            submission,
            test_batch_size,
            scoring_mode,
            no_compile_reward,
            no_submission_reward,
            submission_language,
        ),
        client,
    )
