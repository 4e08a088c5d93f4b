"""Small copies of every task's data set, in the hub data sets' columns."""

from __future__ import annotations

import base64
import json
import pickle
import zlib
from pathlib import Path

# Problems whose right answers the fake endpoint knows (see test_endpoint.py).
MATH_ROWS = [
    {"problem": "What is 2+2?", "solution": "$2+2=\\boxed{4}$", "answer": "4"},
    {
        "problem": "Simplify 6/8.",
        "solution": "$\\frac{6}{8}=\\boxed{\\frac{3}{4}}$",
        "answer": "\\frac{3}{4}",
    },
    {"problem": "What is 10-3?", "solution": "$\\boxed{7}$", "answer": "7"},
    {"problem": "Solve x+1=3 for x.", "solution": "$x=\\boxed{2}$", "answer": "2"},
]
AIME_ROWS = [
    {"problem": "Find the remainder of 2024 divided by 1000.", "answer": "24"},
    {"problem": "How many primes are below 20?", "answer": "8"},
]
GPQA_ROWS = [
    {
        "Question": "Which particle carries the electromagnetic force?",
        "Correct Answer": "Photon",
        "Incorrect Answer 1": "Gluon",
        "Incorrect Answer 2": "W boson",
        "Incorrect Answer 3": "Graviton",
    },
    {
        "Question": "What is the chemical symbol of sodium?",
        "Correct Answer": "Na",
        "Incorrect Answer 1": "So",
        "Incorrect Answer 2": "Sd",
        "Incorrect Answer 3": "Nm",
    },
]


def encode_private_tests(tests: list[dict]) -> str:
    """LiveCodeBench's encoding of private tests: base64(zlib(pickle(json)))."""
    return base64.b64encode(zlib.compress(pickle.dumps(json.dumps(tests)))).decode()


LCB_ROWS = [
    {
        "question_content": "Read two integers a and b from one line and print a+b.",
        "starter_code": "",
        "public_test_cases": json.dumps([{"input": "1 2\n", "output": "3\n", "testtype": "stdin"}]),
        "private_test_cases": encode_private_tests(
            [
                {"input": "5 7\n", "output": "12\n", "testtype": "stdin"},
                {"input": "-4 4\n", "output": "0\n", "testtype": "stdin"},
            ]
        ),
        "metadata": json.dumps({}),
    },
    {
        "question_content": "Given a list nums, return the largest element.",
        "starter_code": "class Solution:\n    def largest(self, nums: List[int]) -> int:\n        ",
        "public_test_cases": json.dumps(
            [{"input": "[1, 5, 3]", "output": "5", "testtype": "functional"}]
        ),
        "private_test_cases": encode_private_tests(
            [{"input": "[-2, -9]", "output": "-2", "testtype": "functional"}]
        ),
        "metadata": json.dumps({"func_name": "largest"}),
    },
]


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path
