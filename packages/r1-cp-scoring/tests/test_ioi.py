import asyncio
import sys

import pytest
from problems import (
    GUESS_BINARY,
    GUESS_LINEAR,
    SUMPAIR_SUBMISSIONS,
    guess_rows,
    sumpair_rows,
)

from r1_cp_scoring import (
    ConfigError,
    HarnessError,
    add_includes,
    score_subtask,
    score_subtasks,
    total_points,
)
from r1_cp_scoring.cms import judge_for


def grade(box, code, rows, **kwargs):
    return asyncio.run(score_subtasks(box, rows, add_includes(code, rows[0]["id"]), **kwargs))


# name, expected points, expected status of subtasks 0..3 (why each row is here in problems.py)
SUMPAIR_TABLE = [
    ("accepted", 100.0, ["AC", "AC", "AC", "AC"]),
    ("overflow", 40.0, ["AC", "AC", "AC", "WA"]),
    ("too_slow", 40.0, ["AC", "AC", "AC", "TLE"]),
    ("too_much_memory", 40.0, ["AC", "AC", "AC", "MLE"]),
    ("crashing", 70.0, ["AC", "AC", "RE", "AC"]),
    ("not_compiling", 0.0, ["CE", "CE", "CE", "CE"]),
]


@pytest.mark.slow
@pytest.mark.parametrize(("name", "points", "statuses"), SUMPAIR_TABLE)
def test_batch_task_scores_match_hand_computed_points(box, name, points, statuses):
    code, expected = SUMPAIR_SUBMISSIONS[name]
    assert expected == points
    results = grade(box, code, sumpair_rows())
    assert total_points(results) == points
    assert [r.status for r in results] == statuses
    # The reward's value is the per-subtask [0, 1] minimum.
    assert [r.score for r in results] == [1.0 if s == "AC" else 0.0 for s in statuses]


def test_submission_is_compiled_once_and_shared_tests_run_once(box):
    judge = judge_for(box)
    before = judge.compiles
    code = add_includes(SUMPAIR_SUBMISSIONS["accepted"][0] + "\n// once", "sumpair")
    cache = {}
    rows = sumpair_rows()
    results = [asyncio.run(score_subtask(box, row, code, cache, 2)) for row in rows]
    assert judge.compiles - before == 1
    assert sorted(cache) == sorted({n for row in rows for n in row["test_names"]})
    assert results[1].test_results[0] is results[2].test_results[0]  # test 0-01, run once
    assert results[3].to_dict()["weighted_score"] == 60.0


def test_early_stop_skips_the_rest_of_a_failing_subtask(box):
    code = add_includes(SUMPAIR_SUBMISSIONS["overflow"][0], "sumpair")
    row = sumpair_rows()[3]
    stopped = asyncio.run(score_subtask(box, row, code, None, 1))
    assert [t.status for t in stopped.test_results] == ["AC", "WA", "SKIPPED"]
    full = asyncio.run(score_subtask(box, row, code, None, 1, early_stop=False))
    assert [t.status for t in full.test_results] == ["AC", "WA", "WA"]


def test_batch_size_minus_one_runs_every_test(box):
    # open-r1 ran no test at all with -1 and scored the subtask 0.
    code = add_includes(SUMPAIR_SUBMISSIONS["accepted"][0], "sumpair")
    result = asyncio.run(score_subtask(box, sumpair_rows()[2], code, None, -1))
    assert [t.status for t in result.test_results] == ["AC"] * 4
    assert result.score == 1.0


def test_a_bool_is_not_a_batch_size(box):
    with pytest.raises(ConfigError, match="test_batch_size=True"):
        asyncio.run(score_subtask(box, sumpair_rows()[1], "int x;", None, True))


def test_no_code_scores_zero_without_running():
    results = asyncio.run(score_subtasks(object(), sumpair_rows(), ""))
    assert [r.status for r in results] == ["SKIPPED"] * 4
    assert total_points(results) == 0.0


def test_a_named_test_without_data_is_a_harness_error(box):
    row = dict(sumpair_rows()[1], test_names=["0-01", "9-99"])
    with pytest.raises(HarnessError, match="9-99"):
        asyncio.run(score_subtask(box, row, "int x;", None, 1))


@pytest.mark.slow
@pytest.mark.parametrize(
    ("code", "points", "statuses"),
    [
        (GUESS_BINARY, 100.0, ["AC", "AC"]),
        # Linear search needs up to n queries: fine for n = 10, over 20 for n = 10^6.
        (GUESS_LINEAR, 50.0, ["AC", "WA"]),
        # Never answers: the pair is stopped at the time limit.
        ("int guess(int n){volatile int k=0;while(true)k++;}", 0.0, ["TLE", "TLE"]),
    ],
)
def test_communication_task_runs_manager_and_contestant_over_fifos(box, code, points, statuses):
    results = grade(box, code, guess_rows())
    assert total_points(results) == points
    assert [r.status for r in results] == statuses
    if code == GUESS_LINEAR:
        assert results[1].test_results[1].feedback == "Too many queries"


@pytest.mark.slow
def test_communication_tests_in_turn_get_the_verdicts_they_get_alone(box):
    # Eight tests of one subtask at once, on a sandbox of concurrency 1: they run in turn
    # in one sandbox (manager and contestant bound read-only, as alone).
    from r1_sandbox import LocalSandbox

    row = dict(guess_rows()[0])
    cases = [[f"{n} {k}\n", ""] for n, k in [(10, 3), (10**6, 765432)] * 4]
    row.update(test_names=[f"t{i}" for i in range(len(cases))], test_cases=cases, time_limit=0.5)
    never = "int guess(int n){volatile int k=0;while(true)k++;}"
    with LocalSandbox(concurrency=1) as own:
        for code in (GUESS_BINARY, GUESS_LINEAR, never):
            alone = [
                t.status
                for t in asyncio.run(
                    score_subtask(box, row, add_includes(code, "guess"), early_stop=False)
                ).test_results
            ]
            in_turn = [
                t.status
                for t in asyncio.run(
                    score_subtask(
                        own, row, add_includes(code, "guess"), test_batch_size=-1, early_stop=False
                    )
                ).test_results
            ]
            assert in_turn == alone, (code, alone, in_turn)
    assert alone == ["TLE"] * 8


CHECKER = r"""
#include <cstdio>
int main(int argc, char** argv) {
    FILE* c = fopen(argv[2], "r"); FILE* o = fopen(argv[3], "r");
    long long want, got;
    fscanf(c, "%lld", &want);
    if (fscanf(o, "%lld", &got) != 1) { printf("0\n"); fprintf(stderr, "translate:wrong\n"); return 0; }
    if (got == want) { printf("1\n"); fprintf(stderr, "translate:success\n"); }
    else if (got - want == 1 || want - got == 1) { printf("0.5\n"); fprintf(stderr, "translate:partial\n"); }
    else { printf("0\n"); fprintf(stderr, "translate:wrong\n"); }
    return 0;
}
"""


@pytest.mark.slow
def test_checker_gives_partial_scores_with_cms_messages(box):
    rows = [
        dict(r, grader_files=[*r["grader_files"], ["checker/checker.cpp", CHECKER]])
        for r in sumpair_rows()[:2]
    ]
    off_by_one = "long long total(std::vector<int> v){long long s=1;for(int x:v)s+=x;return s;}"
    results = grade(box, off_by_one, rows)
    assert [r.status for r in results] == ["PA", "PA"]
    assert results[1].score == 0.5 and results[1].weighted_score == 5.0
    assert results[1].test_results[0].feedback == "Output is partially correct"


@pytest.mark.slow
def test_checker_runs_in_turn_give_the_scores_they_give_alone(box):
    # Every test of a subtask at once: the submission's runs, then the checker's, each in
    # turn in shared sandboxes (the checker's files per test: `input_files`).
    rows = [
        dict(r, grader_files=[*r["grader_files"], ["checker/checker.cpp", CHECKER]])
        for r in sumpair_rows()
    ]
    off_by_one = "long long total(std::vector<int> v){long long s=1;for(int x:v)s+=x;return s;}"
    accepted = SUMPAIR_SUBMISSIONS["accepted"][0]
    for code in (off_by_one, accepted):
        alone = grade(box, code, rows, test_batch_size=1)
        in_turn = grade(box, code, rows, test_batch_size=-1)
        assert [(r.status, r.score) for r in in_turn] == [(r.status, r.score) for r in alone]
        feedback = [[t.feedback for t in r.test_results] for r in in_turn]
        assert feedback == [[t.feedback for t in r.test_results] for r in alone]
    assert total_points(in_turn) == 100.0


def test_a_checker_that_does_not_compile_is_a_harness_error(box):
    rows = [
        dict(r, grader_files=[*r["grader_files"], ["checker/checker.cpp", "int main( {"]])
        for r in sumpair_rows()[:1]
    ]
    with pytest.raises(HarnessError, match=r"checker\.cpp does not compile"):
        grade(box, SUMPAIR_SUBMISSIONS["accepted"][0], rows)


def test_tests_not_inline_come_from_the_hub_data_set(box, monkeypatch):
    import types

    from problems import SUMPAIR_TESTS

    from r1_cp_scoring.ioi import _tests_of_year

    calls = []

    def load_dataset(path, name=None, split=None):
        calls.append((path, name, split))
        return [
            {"problem_id": "sumpair", "test_name": n, "test_input": i, "test_output": o}
            for n, (i, o) in SUMPAIR_TESTS.items()
        ]

    fake = types.ModuleType("datasets")
    fake.load_dataset = load_dataset
    monkeypatch.setitem(sys.modules, "datasets", fake)
    _tests_of_year.cache_clear()
    rows = [{k: v for k, v in row.items() if k != "test_cases"} for row in sumpair_rows()[:3]]
    try:
        results = grade(box, SUMPAIR_SUBMISSIONS["accepted"][0], rows)
    finally:
        _tests_of_year.cache_clear()
    assert [r.status for r in results] == ["AC", "AC", "AC"]
    assert calls == [("open-r1/ioi-test-cases", "2099", "train")]  # one load per year
