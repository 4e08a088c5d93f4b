import asyncio

import pytest
from problems import anypair_problem

from r1_cp_scoring import HarnessError, grade_submission, score_submission, tokens_equal
from r1_cp_scoring.codeforces import get_generated_tests, get_generated_tests_sync

CPP_OK = '#include <cstdio>\nint main(){int s;scanf("%d",&s);printf("%d %d\\n",s/2,s-s/2);}'
PY_OK = "s = int(input())\nprint(0, s)"  # a different valid answer than the expected one
PY_WRONG_ON_7 = "s = int(input())\nprint(1, s) if s == 7 else print(0, s)"
CPP_CE = "int main(){return x;}"


def score(box, problem, code, language, mode="weighted_sum", **kw):
    return asyncio.run(
        score_submission(box, problem, code, scoring_mode=mode, submission_language=language, **kw)
    )


@pytest.mark.parametrize(
    ("code", "language", "mode", "expected"),
    [
        (CPP_OK, "cpp", "pass_fail", 1.0),
        (CPP_OK, "cpp", "weighted_sum", 1.1),
        (PY_OK, "python", "partial", 1.0),
        (PY_WRONG_ON_7, "python", "pass_fail", 0.0),
        (PY_WRONG_ON_7, "python", "partial", 0.75),  # 3 of 4 tests
        (PY_WRONG_ON_7, "python", "weighted_sum", 0.075),
        (CPP_CE, "cpp", "weighted_sum", -0.1),
        ("", "cpp", "weighted_sum", -1.0),
    ],
)
def test_scoring_modes_with_a_checker(box, code, language, mode, expected):
    assert score(box, anypair_problem(), code, language, mode) == pytest.approx(expected)


def test_no_tests_is_not_graded(box):
    assert score(box, dict(anypair_problem(), official_tests=[]), CPP_OK, "cpp") is None


def test_without_checker_tokens_are_compared(box):
    problem = dict(anypair_problem(), generated_checker=None)
    spaced = "s = int(input())\nprint(s // 2)\nprint('  ', s - s // 2, ' ')"
    swapped = "s = int(input())\nprint(s - s // 2, s // 2)"  # valid, but not the expected tokens
    full = {"test_batch_size": -1, "early_stop": False}
    report = asyncio.run(grade_submission(box, problem, spaced, "python", **full))
    assert [t.passed for t in report.tests] == [True] * 4
    report = asyncio.run(grade_submission(box, problem, swapped, "python", **full))
    assert [t.passed for t in report.tests] == [False, True, True, False]
    assert tokens_equal("2\n3  \n", "2 3")


def test_time_and_memory_limits_fail_the_test(box):
    problem = dict(anypair_problem(), memory_limit=64.0)
    slow = "while True:\n    pass"
    hungry = "x = bytearray(512 * 1024 * 1024)\nprint(len(x))"
    slow_report = asyncio.run(grade_submission(box, problem, slow, "python"))
    assert slow_report.tests[0].status == "TLE"
    assert [t.status for t in slow_report.tests[1:]] == ["SKIPPED"] * 3  # early stop
    assert asyncio.run(grade_submission(box, problem, hungry, "python")).tests[0].status == "MLE"


def test_a_checker_that_does_not_parse_is_an_error_not_a_score(box):
    with pytest.raises(HarnessError, match="checker does not compile"):
        score(box, dict(anypair_problem(), generated_checker="def broken(:\n"), PY_OK, "python")


def test_generated_tests_come_from_the_contest_parquet(box, tmp_path, monkeypatch):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    table = pa.table(
        {"problem_id": ["9999/A", "9999/B"], "input": ["9\n", "1\n"], "output": ["4 5\n", "x\n"]}
    )
    pq.write_table(table, tmp_path / "test_cases_9999.parquet")
    monkeypatch.setenv("CF_TESTS_FOLDER", str(tmp_path))
    # A coroutine, as open-r1's `get_generated_tests` is; the sync twin reads the same.
    assert asyncio.run(get_generated_tests("9999/A")) == [{"input": "9\n", "output": "4 5\n"}]
    assert get_generated_tests_sync("9999/A") == [{"input": "9\n", "output": "4 5\n"}]
    assert asyncio.run(get_generated_tests("1234/A")) == []  # no file for that contest
    report = asyncio.run(grade_submission(box, anypair_problem(), PY_OK, "python"))
    assert len(report.tests) == 5 and report.passed == 5


def test_a_missing_tests_folder_is_an_error(monkeypatch, tmp_path):
    monkeypatch.setenv("CF_TESTS_FOLDER", str(tmp_path / "nowhere"))
    with pytest.raises(HarnessError, match="CF_TESTS_FOLDER"):
        asyncio.run(get_generated_tests("9999/A"))
    with pytest.raises(HarnessError, match="CF_TESTS_FOLDER"):
        get_generated_tests_sync("9999/A")
    monkeypatch.delenv("CF_TESTS_FOLDER")
    assert asyncio.run(get_generated_tests("9999/A")) == []


def test_file_mode_reads_input_txt_and_writes_output_txt(box):
    problem = dict(anypair_problem(), input_mode="file", generated_checker=None)
    code = (
        '#include <cstdio>\nint main(){FILE*i=fopen("input.txt","r");'
        'FILE*o=fopen("output.txt","w");int s;fscanf(i,"%d",&s);'
        'printf("noise on stdout\\n");fprintf(o,"%d %d\\n",s/2,s-s/2);}'
    )
    report = asyncio.run(grade_submission(box, problem, code, "cpp", test_batch_size=-1))
    assert [t.passed for t in report.tests] == [True, True, True, True]


CPP_FILE_MODE = (
    '#include <cstdio>\nint main(){FILE*i=fopen("input.txt","r");'
    'FILE*o=fopen("output.txt","w");int s;fscanf(i,"%d",&s);'
    'printf("noise on stdout\\n");fprintf(o,"%d %d\\n",s/2,s-s/2);}'
)
PY_FILE_MODE = (
    "s = int(open('input.txt').read())\nprint('noise')\n"
    "open('output.txt', 'w').write(f'{s // 2} {s - s // 2}\\n')"
)


@pytest.mark.parametrize(
    ("code", "language", "variant"),
    [
        (PY_WRONG_ON_7, "python", {}),  # the checker's runs share sandboxes too
        (PY_OK, "python", {"generated_checker": None}),
        (PY_FILE_MODE, "python", {"input_mode": "file"}),
        ("x = bytearray(512 * 1024 * 1024)\nprint(len(x))", "python", {"memory_limit": 64.0}),
        (CPP_OK, "cpp", {}),
        (CPP_FILE_MODE, "cpp", {"input_mode": "file", "generated_checker": None}),
    ],
    ids=["checker", "tokens", "file-mode", "memory", "cpp", "cpp-file-mode"],
)
def test_a_batch_of_tests_gets_the_verdicts_of_tests_run_one_by_one(box, code, language, variant):
    problem = dict(anypair_problem(), **variant)
    tests = {}
    for size in (1, -1):
        report = asyncio.run(
            grade_submission(box, problem, code, language, test_batch_size=size, early_stop=False)
        )
        tests[size] = [(t.passed, t.status) for t in report.tests]
    assert tests[-1] == tests[1], tests
