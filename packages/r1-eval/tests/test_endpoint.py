"""The endpoint backend end to end: `r1-eval run` against an OpenAI-compatible server on
127.0.0.1 whose answers are known, so summary.json's pass@1 and pass@k are exact.

One `r1-eval run` process covers three tasks (math, multiple choice, code) to pay for
one lighteval import; the scenario includes a request that fails once (retried, then
graded) and a problem whose request always fails (counted, left out, exit code 1).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from math import comb
from pathlib import Path

import pytest
from r1_eval_fake_openai import fake_openai
from r1_eval_testdata import GPQA_ROWS, LCB_ROWS, MATH_ROWS, write_jsonl

N = 4
UNANSWERABLE = "What is the last digit of pi?"

# Per math problem: the n completions the server returns (correct ones marked by comment).
MATH_ANSWERS = {
    "What is 2+2?": ["so $\\boxed{4}$"] * 4,  # c=4
    "Simplify 6/8.": [
        "The fraction is $\\boxed{\\frac{3}{4}}$.",  # correct
        "Therefore, the final answer is: $\\boxed{0.75}$. I hope it is correct",  # correct
        "$\\boxed{\\frac{6}{7}}$",
        "$\\boxed{9^{9^{9^{9^{9}}}}}$",  # adversarial: must be graded (wrong), not hang
    ],
    "What is 10-3?": ["$\\boxed{7}$", "$\\boxed{8}$", "$\\boxed{6}$", "I do not know."],  # c=1
    "Solve x+1=3 for x.": ["$\\boxed{3}$"] * 4,  # c=0
}
MATH_CORRECT = [4, 2, 1, 0]

SUM_OK = "```python\na, b = map(int, input().split())\nprint(a + b)\n```"
SUM_WRONG = "```python\na, b = map(int, input().split())\nprint(a - b)\n```"
SUM_BROKEN = "```python\nprint(int(input().split()[0]) +\n```"
LARGEST_OK = (
    "```python\nclass Solution:\n    def largest(self, nums: List[int]) -> int:\n"
    "        return max(nums)\n```"
)
LARGEST_WRONG = (
    "```python\nclass Solution:\n    def largest(self, nums):\n        return nums[0]\n```"
)
LCB_ANSWERS = {
    "print a+b": [SUM_OK, SUM_WRONG, "Here it is:\n" + SUM_OK, SUM_BROKEN],  # c=2
    "largest element": [LARGEST_OK, LARGEST_OK, LARGEST_WRONG, "no code at all"],  # c=2
}
LCB_CORRECT = [2, 2]


def _gpqa_answers(prompt: str) -> list[str]:
    row = next(r for r in GPQA_ROWS if r["Question"] in prompt)
    letters = dict(re.findall(r"^([A-D])\) (.*)$", prompt, flags=re.M))
    right = next(k for k, v in letters.items() if v == row["Correct Answer"])
    wrong = next(k for k in "ABCD" if k != right)
    if row is GPQA_ROWS[0]:
        return [f"Thinking...\nAnswer: {right}"] * 4  # c=4
    return [f"Answer: {right}", f"Answer: {wrong}", f"Answer: {wrong}", f"Answer: {right}"]


GPQA_CORRECT = [4, 2]


def answer(prompt: str, n: int, attempt: int) -> list[str] | int:
    assert n == N, f"the server was asked for n={n}"
    if UNANSWERABLE in prompt:
        return 503
    if "What is 10-3?" in prompt and attempt == 1:
        return 500  # transient: retried with backoff, then answered
    for key, texts in MATH_ANSWERS.items():
        if key in prompt:
            return texts
    for key, texts in LCB_ANSWERS.items():
        if key in prompt:
            return texts
    return _gpqa_answers(prompt)


def expected(correct: list[int], k: int) -> float:
    return sum(1 - comb(N - c, k) / comb(N, k) for c in correct) / len(correct)


@pytest.fixture(scope="module")
def endpoint_run(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("endpoint")
    math_rows = [*MATH_ROWS, {"problem": UNANSWERABLE, "solution": "$\\boxed{3}$", "answer": "3"}]
    data = {
        "math_500": write_jsonl(root / "math.jsonl", math_rows),
        "gpqa": write_jsonl(root / "gpqa.jsonl", GPQA_ROWS),
        "lcb": write_jsonl(root / "lcb" / "test.jsonl", LCB_ROWS),
    }
    out = root / "out"
    with fake_openai(answer) as server:
        argv = [
            sys.executable, "-m", "r1_eval.cli", "run", "known-answers",
            "--backend", "endpoint", "--base-url", server["base_url"],
            "--tasks", "math_500,gpqa,lcb", "--n", str(N), "--max-new-tokens", "256",
            "--max-retries", "3", "--output-dir", str(out), "--quiet",
        ]  # fmt: skip
        for task, path in data.items():
            argv += ["--dataset", f"{task}={path}"]
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=900, env={**os.environ})
    summary_path = out / "summary.json"
    assert summary_path.exists(), proc.stdout + proc.stderr
    return {
        "proc": proc,
        "out": out,
        "summary": json.loads(summary_path.read_text()),
        "requests": server["requests"],
    }


@pytest.mark.slow
def test_exact_pass_at_k_for_math(endpoint_run: dict) -> None:
    task = endpoint_run["summary"]["tasks"]["math_500"]
    assert task["n"] == N and task["problems"] == 4 and task["samples"] == 16
    assert task["correct"] == sum(MATH_CORRECT)
    for k in range(1, N + 1):
        assert task[f"pass@{k}"] == pytest.approx(expected(MATH_CORRECT, k), abs=1e-12)
    assert task["pass@1"] == pytest.approx(0.4375)
    per_problem = [c / N for c in MATH_CORRECT]
    mean = sum(per_problem) / 4
    stderr = (sum((p - mean) ** 2 for p in per_problem) / 3 / 4) ** 0.5
    assert task["pass@1_stderr"] == pytest.approx(stderr)


@pytest.mark.slow
def test_exact_pass_at_k_for_gpqa_letters(endpoint_run: dict) -> None:
    task = endpoint_run["summary"]["tasks"]["gpqa"]  # named as on the command line
    assert task["task"] == "gpqa:diamond" and task["problems"] == 2
    for k in range(1, N + 1):
        assert task[f"pass@{k}"] == pytest.approx(expected(GPQA_CORRECT, k), abs=1e-12)


@pytest.mark.slow
def test_exact_pass_at_k_for_code_run_in_the_sandbox(endpoint_run: dict) -> None:
    task = endpoint_run["summary"]["tasks"]["lcb"]
    assert task["task"] == "lcb:codegeneration" and task["problems"] == 2
    assert task["sandbox_errors"] == 0
    for k in range(1, N + 1):
        assert task[f"pass@{k}"] == pytest.approx(expected(LCB_CORRECT, k), abs=1e-12)


@pytest.mark.slow
def test_failed_requests_are_retried_counted_and_never_scored(endpoint_run: dict) -> None:
    proc, summary = endpoint_run["proc"], endpoint_run["summary"]
    task = summary["tasks"]["math_500"]
    # The always-failing problem: counted, out of the score, and the run says so (exit 1).
    assert task["failed_requests"] == 1 and task["ungraded_problems"] == 1
    assert proc.returncode == 1, proc.stderr[-3000:]
    assert "1 failed request" in proc.stderr
    # The transient failure of "10-3" was retried and then graded (its c=1 is in the score).
    assert summary["tasks"]["gpqa"]["failed_requests"] == 0


@pytest.mark.slow
def test_lighteval_results_and_details_are_written_beside_the_summary(endpoint_run: dict) -> None:
    out: Path = endpoint_run["out"]
    summary = endpoint_run["summary"]
    assert summary["model"] == "known-answers" and summary["backend"] == "endpoint"
    results = [json.loads(p.read_text()) for p in out.glob("results/**/results_*.json")]
    assert len(results) == 3  # one lighteval pipeline per task
    by_task = {k: v for r in results for k, v in r["results"].items() if k != "all"}
    assert by_task["math_500|0"]["pass@1"] == pytest.approx(0.4375)
    details = sorted(out.glob("details/**/*.parquet"))
    assert len(details) == 3
    assert "task" in endpoint_run["proc"].stdout and "math_500" in endpoint_run["proc"].stdout
