"""IOI scoring with CMS semantics: tests -> subtasks -> problem (open-r1's API, r1's engine).

A subtask scores the minimum over its tests times its points (one wrong test loses the
whole subtask, as in IOI since 2017); the problem scores the sum over its subtasks. A
test shared by several subtasks runs once (`test_case_run_cache`), and inside a subtask
tests run `test_batch_size` at a time with early stop at the first zero, because a
failing submission usually fails early and the rest of its tests cannot change a
minimum of 0. The names (`score_subtask`, `score_subtasks`, `SubtaskResult`,
`TestResult`, `add_includes`, `load_ioi_tests`) and rows are open-r1's, so its callers
work unchanged; the `client` may be an r1-sandbox backend (the default: local, compile
once), open-r1-style Piston client (the `cms_ioi` package contract) or Morph client.

Fixed from open-r1: `test_batch_size=-1` runs every test at once (it ran none);
`score_subtasks(skip_mode=...)` maps the flag to a batch size instead of passing the
bool as one; a Morph client is called through its own method (`execute`); a test named
in `test_names` but absent from the tests is a `HarnessError`, not a KeyError.

Data flow: rows of `open-r1/ioi` (+ tests inline or from `open-r1/ioi-test-cases`) and a
C++ submission -> `score_subtasks` -> one `Verdict` per distinct test (cms.CMSJudge, or a
Piston/Morph request) -> `SubtaskResult`s -> `.score` ([0, 1], the reward) and
`.weighted_score` (points, the CLI's total).
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, cast

from r1_cp_scoring._programs import default_sandbox, run_sync
from r1_cp_scoring.batching import batches, check_batch_size
from r1_cp_scoring.cms import IOITask, Verdict, judge_for
from r1_cp_scoring.errors import (
    ConfigError,
    HarnessError,
    MissingExtraError,
    PistonError,
)
from r1_sandbox import Sandbox

logger = logging.getLogger(__name__)

#: Worst first: a subtask shows the worst status among its tests (CMS and open-r1 order).
STATUS_PRIORITY = {"CE": -1, "RE": 0, "WA": 1, "MLE": 2, "TLE": 3, "PA": 4, "AC": 5, "SKIPPED": 999}


@dataclass
class TestResult:
    """The outcome of one test: score in [0, 1], CMS status, and the judge's message."""

    __test__ = False  # not a pytest class, despite the name

    test_name: str
    score: float = 0.0
    status: str = "SKIPPED"
    feedback: str | None = None


@dataclass
class SubtaskResult:
    """A subtask's tests; its score is the minimum test score, rounded as the row says."""

    problem: str | None = None
    subtask: str | None = None
    points: float = 0.0
    score_precision: int = 2
    test_results: list[TestResult] = field(default_factory=list)

    @property
    def status(self) -> str:
        """The worst status among the tests ("SKIPPED" when none ran)."""
        if not self.test_results:
            return "SKIPPED"
        return min((t.status for t in self.test_results), key=lambda s: STATUS_PRIORITY[s])

    @property
    def score(self) -> float:
        """min over tests, in [0, 1] (the reward of `ioi_code_reward`)."""
        if not self.test_results:
            return 0.0
        return round(min(t.score for t in self.test_results), self.score_precision)

    @property
    def weighted_score(self) -> float:
        """The subtask's points earned: min over tests x points."""
        if not self.test_results:
            return 0.0
        return round(min(t.score for t in self.test_results) * self.points, self.score_precision)

    def to_dict(self) -> dict[str, Any]:
        return {
            "problem": self.problem,
            "subtask": self.subtask,
            "score": self.score,
            "weighted_score": self.weighted_score,
            "points": self.points,
            "score_precision": self.score_precision,
            "status": self.status,
            "test_results": [asdict(t) for t in self.test_results],
        }


def add_includes(code: str, problem_id: str) -> str:
    """Prepend `bits/stdc++.h`, the task header and `using namespace std;` where missing.

    Models forget the task's header and `std::`; a correct algorithm should not score a
    compile error for it.

    >>> print(add_includes("int f(){return 1;}", "nile"))
    #include <bits/stdc++.h>
    #include "nile.h"
    using namespace std;
    int f(){return 1;}
    """
    if not code:
        return code
    header = "#include <bits/stdc++.h>\n"
    include = f'#include "{problem_id}.h"'
    if include not in code:
        header += include + "\n"
    if "using namespace std;" not in code and "std::" not in code:
        header += "using namespace std;\n"
    return header + code


@functools.lru_cache(maxsize=16)
def _tests_of_year(year: int) -> dict[str, dict[str, tuple[str, str]]]:
    try:
        from datasets import load_dataset
    except ImportError:
        raise MissingExtraError("loading open-r1/ioi-test-cases", "hub") from None
    rows = load_dataset("open-r1/ioi-test-cases", name=str(year), split="train")
    tests: dict[str, dict[str, tuple[str, str]]] = {}
    # A Dataset iterates as dicts of its columns; its stubs only say "mapping or slice".
    for row in cast("Iterable[dict[str, str]]", rows):
        tests.setdefault(row["problem_id"], {})[row["test_name"]] = (
            row["test_input"],
            row["test_output"],
        )
    return tests


def load_ioi_tests(year: int, problem_id: str) -> dict[str, tuple[str, str]]:
    """The tests of one problem from the Hub data set `open-r1/ioi-test-cases` (cached)."""
    return _tests_of_year(int(year)).get(problem_id, {})


def subtask_tests(subtask: Mapping[str, Any]) -> dict[str, tuple[str, str]]:
    """{test name: (input, output)} of a row: inline (dict or list in test_names order) or Hub."""
    names = list(subtask.get("test_names") or [])
    inline = subtask.get("test_cases")
    if inline is None:
        tests = load_ioi_tests(subtask["year"], subtask["id"])
    elif isinstance(inline, Mapping):
        tests = {str(k): (str(v[0]), str(v[1])) for k, v in inline.items()}
    else:
        if len(inline) != len(names):
            raise HarnessError(
                f"{subtask.get('id')} subtask {subtask.get('subtask')}: {len(inline)} test_cases "
                f"for {len(names)} test_names"
            )
        tests = {name: (str(c[0]), str(c[1])) for name, c in zip(names, inline, strict=True)}
    missing = [n for n in names if n not in tests]
    if missing:
        raise HarnessError(
            f"{subtask.get('id')} subtask {subtask.get('subtask')}: tests {missing[:5]} are "
            "named in test_names but have no input/output"
        )
    return tests


# -- running one test on each kind of client ----------------------------------------------


def cms_ioi_request(
    subtask: Mapping[str, Any], submission: str, test_input: str, test_output: str | None
) -> dict[str, Any]:
    """The body open-r1 sends to the `cms_ioi` Piston package for one test."""
    files = [
        {"name": f"graders/{str(subtask['id']).lower()}.cpp", "content": submission},
        {"name": "input.txt", "content": test_input},
    ]
    if test_output:
        files.append({"name": "correct_output.txt", "content": test_output})
    task = IOITask.from_row(subtask)
    files += [{"name": k, "content": v} for k, v in task.grader_files.items()]
    return {
        "files": files,
        # The package enforces the real limit; this is Piston's hard stop behind it.
        "run_timeout": round((task.time_limit + 3) * 1000),
        "run_memory_limit": task.memory_limit,
    }


def status_from_feedback(score: float, feedback: str) -> str:
    """The CMS status of a (score, message) pair as the `cms_ioi` package reports it."""
    if score >= 1.0:
        return "AC"
    if score > 0.0:
        return "PA"
    for marker, status in (
        ("Compilation error", "CE"),
        ("Memory limit exceeded", "MLE"),
        ("Time limit exceeded", "TLE"),
        ("Output isn't correct", "WA"),
    ):
        if marker in feedback:
            return status
    return "RE"


def piston_verdict(response: Mapping[str, Any]) -> Verdict:
    """Read a `cms_ioi` answer: the score on stdout, the message on stderr."""
    if "message" in response:
        raise PistonError(f"Piston refused the run: {response['message']}")
    compiled = response.get("compile") or {}
    if compiled.get("code") not in (None, 0):
        message = f"Compilation error exit code {compiled['code']}\n{compiled.get('stderr', '')}"
        return Verdict(0.0, "CE", message)
    run = response.get("run")
    if not isinstance(run, Mapping):
        raise PistonError(f"Piston answered without a run: {dict(response)}")
    stdout, stderr = run.get("stdout") or "", run.get("stderr") or ""
    if run.get("code") == 1 and "MemoryError" in stderr:
        return Verdict(0.0, "MLE", "Memory limit exceeded")
    if stdout.strip():
        try:
            score = float(stdout.split()[0])
        except ValueError:
            raise PistonError(f"the cms_ioi package printed {stdout[:80]!r}") from None
        return Verdict(score, status_from_feedback(score, stderr), stderr)
    if run.get("signal") == "SIGKILL":
        return Verdict(0.0, "TLE", "Time limit exceeded")
    raise PistonError(
        f"cms_ioi run ended without a score: code={run.get('code')} signal={run.get('signal')} "
        f"stderr={stderr[-300:]!r}"
    )


async def evaluate_test(
    client: Any,
    subtask: Mapping[str, Any],
    submission: str,
    test_input: str,
    test_output: str,
) -> Verdict:
    """One test on `client`: an r1-sandbox backend, a Piston client or a Morph client."""
    if client is None:
        client = default_sandbox()
    if isinstance(client, Sandbox):
        return await judge_for(client).evaluate(
            IOITask.from_row(subtask), submission, test_input, test_output
        )
    request = cms_ioi_request(subtask, submission, test_input, test_output)
    if hasattr(client, "send_execute"):
        return piston_verdict(await client.send_execute(request))
    if hasattr(client, "execute"):
        raw_score, feedback = await client.execute(request)
        score = float(raw_score)
        return Verdict(score, status_from_feedback(score, feedback), feedback)
    raise ConfigError(
        f"client={type(client).__name__}: pass an r1-sandbox backend, a PistonClient or a "
        "MorphCloudExecutionClient (or None for the local sandbox)"
    )


async def evaluate_tests(
    client: Any, subtask: Mapping[str, Any], submission: str, tests: list[tuple[str, str]]
) -> list[Verdict]:
    """Several tests on `client`; on an r1-sandbox backend, their runs share one sandbox."""
    if client is None:
        client = default_sandbox()
    if isinstance(client, Sandbox):
        task = IOITask.from_row(subtask)
        return await judge_for(client).evaluate_many(task, submission, list(tests))
    return list(
        await asyncio.gather(*(evaluate_test(client, subtask, submission, *t) for t in tests))
    )


# -- subtasks -------------------------------------------------------------------------------


async def score_subtask(
    client: Any,
    subtask: Mapping[str, Any],
    submission: str,
    test_case_run_cache: dict[str, TestResult] | None = None,
    test_batch_size: int = 1,
    *,
    early_stop: bool = True,
) -> SubtaskResult:
    """Grade one subtask row; tests already in `test_case_run_cache` are not rerun.

    `test_batch_size` tests run at once, then the loop stops if one scored 0 (`-1`: all
    at once); `early_stop=False` runs every test whatever happens (full feedback).
    """
    size = check_batch_size(test_batch_size)
    names = [str(n) for n in subtask.get("test_names") or []]
    cache = test_case_run_cache
    result = SubtaskResult(
        problem=subtask.get("id"),
        subtask=subtask.get("subtask"),
        points=float(subtask.get("score") or 0.0),
        # `or 2` would turn a precision of 0 (whole points) into 2.
        score_precision=2
        if subtask.get("score_precision") is None
        else int(subtask["score_precision"]),
        test_results=[
            cache[n] if cache is not None and n in cache else TestResult(test_name=n) for n in names
        ],
    )
    # No code: nothing to run. A cached zero already decides the minimum.
    if not submission or (
        early_stop and any(t.status != "SKIPPED" and t.score == 0.0 for t in result.test_results)
    ):
        return result
    todo = [(i, n) for i, n in enumerate(names) if cache is None or n not in cache]
    if not todo:
        return result
    tests = subtask_tests(subtask)
    for batch in batches(todo, size):
        verdicts = await evaluate_tests(client, subtask, submission, [tests[n] for _, n in batch])
        for (i, name), v in zip(batch, verdicts, strict=True):
            test = TestResult(name, v.score, v.status, v.feedback)
            result.test_results[i] = test
            if cache is not None:
                cache[name] = test
        if early_stop and any(v.score == 0.0 for v in verdicts):
            break
    return result


async def score_subtasks(
    client: Any,
    subtasks: Sequence[Mapping[str, Any]],
    submission: str,
    skip_mode: bool = True,
    *,
    test_batch_size: int | None = None,
) -> list[SubtaskResult]:
    """Grade every subtask of a problem, each shared test once.

    `skip_mode` (open-r1's flag): True runs test by test and stops at a subtask's first
    failure (cheap, for training); False runs each subtask's tests all at once, without
    early stop (full feedback, for evaluation). `test_batch_size` overrides the size.
    """
    if test_batch_size is None:
        test_batch_size = 1 if skip_mode else -1
    cache: dict[str, TestResult] = {}
    return [
        await score_subtask(
            client, subtask, submission, cache, test_batch_size, early_stop=bool(skip_mode)
        )
        for subtask in subtasks
    ]


def score_subtask_sync(
    client: Any,
    subtask: Mapping[str, Any],
    submission: str,
    test_case_run_cache: dict[str, TestResult] | None = None,
    test_batch_size: int = 1,
    *,
    early_stop: bool = True,
) -> SubtaskResult:
    """`score_subtask` for sync callers."""
    return run_sync(
        score_subtask(
            client,
            subtask,
            submission,
            test_case_run_cache,
            test_batch_size,
            early_stop=early_stop,
        ),
        client,
    )


def score_subtasks_sync(
    client: Any,
    subtasks: Sequence[Mapping[str, Any]],
    submission: str,
    skip_mode: bool = True,
    *,
    test_batch_size: int | None = None,
) -> list[SubtaskResult]:
    """`score_subtasks` for sync callers."""
    return run_sync(
        score_subtasks(client, subtasks, submission, skip_mode, test_batch_size=test_batch_size),
        client,
    )


def total_points(results: Sequence[SubtaskResult]) -> float:
    """The problem's score in points: the sum of the subtasks' weighted scores."""
    return round(sum(r.weighted_score for r in results), 6)
