"""The `_sync` twins of the graders: same answers as the async API, from any thread."""

import asyncio

import pytest
from problems import SUMPAIR_SUBMISSIONS, anypair_problem, sumpair_rows

from r1_cp_scoring import (
    add_includes,
    grade_submission_sync,
    score_submission,
    score_submission_sync,
    score_subtasks_sync,
)
from r1_cp_scoring.cms import IOITask, judge_for

PAIR = "s = int(input())\nprint(0, s) if s != 7 else print(9)"


def test_score_submission_sync_equals_the_async_score(box):
    problem = anypair_problem()
    want = asyncio.run(
        score_submission(box, problem, PAIR, scoring_mode="partial", submission_language="python")
    )
    got = score_submission_sync(
        box, problem, PAIR, scoring_mode="partial", submission_language="python"
    )
    assert got == want == 0.75
    report = grade_submission_sync(box, problem, PAIR, "python", early_stop=False)
    assert [t.passed for t in report.tests] == [True, True, True, False]


def test_sync_twins_work_inside_a_running_loop(box):
    """A notebook or an async trainer calling the sync twin: it runs on a helper thread."""

    async def caller() -> float | None:
        return score_submission_sync(
            box, anypair_problem(), PAIR, scoring_mode="partial", submission_language="python"
        )

    assert asyncio.run(caller()) == 0.75


@pytest.mark.slow
def test_ioi_sync_twins(box):
    rows = sumpair_rows()
    code = add_includes(SUMPAIR_SUBMISSIONS["overflow"][0], "sumpair")
    results = score_subtasks_sync(box, rows, code)
    assert [r.status for r in results] == ["AC", "AC", "AC", "WA"]
    verdict = judge_for(box).evaluate_sync(IOITask.from_row(rows[0]), code, "2\n1 2\n", "3\n")
    assert verdict.status == "AC"
