"""r1-eval's verdicts equal lighteval's own metric on the same outputs.

Each row is a real-looking completion (the shapes R1-style models produce: boxed answers,
"the final answer is", reasoning with stray numbers, equivalent forms, wrong answers,
empty output). lighteval's metric is called as lighteval calls it (`PassAtK.compute` on
one sample, in this process); r1-eval's goes through the bounded worker pool.
"""

from __future__ import annotations

import pytest

from r1_eval.grading import CodeGrader, ExtractiveGrader, Problem, stdio_output_matches

MATH_500_GOLD = "The sum is $\\frac{3}{4}+\\frac{1}{4}=\\boxed{1}$."

# (gold as the task's prompt function makes it, completion, why the row is here)
MATH_ROWS = [
    ("ANSWER: " + MATH_500_GOLD, "Adding, we get $\\boxed{1}$.", "boxed integer"),
    ("ANSWER: " + MATH_500_GOLD, "<think>3/4 + 1/4</think> The answer is 1.", "plain anchor"),
    ("ANSWER: " + MATH_500_GOLD, "So the total is $\\boxed{\\frac{4}{4}}$", "equivalent fraction"),
    (
        "ANSWER: " + MATH_500_GOLD,
        "Therefore, the final answer is: $\\boxed{2}$. I hope it is correct",
        "wrong",
    ),
    ("ANSWER: " + MATH_500_GOLD, "", "empty completion"),
    (
        "ANSWER: " + MATH_500_GOLD,
        "I tried 7 and 9 but the result is $1.0$",
        "decimal, stray numbers",
    ),
    ("24", "Therefore, the final answer is: $\\boxed{24}$. I hope it is correct", "aime integer"),
    ("24", "The remainder is $\\boxed{024}$", "leading zero"),
    ("24", "We find $2024 \\bmod 1000 = 24$, so $\\boxed{23}$", "last boxed wins over reasoning"),
    ("8", "There are eight primes, the answer is $8$.", "number after anchor"),
    ("\\frac{\\sqrt{3}}{2}", "$\\boxed{\\frac{\\sqrt3}{2}}$", "latex without braces"),
    ("\\frac{\\sqrt{3}}{2}", "$\\boxed{0.8660254}$", "decimal approximation"),
    ("(1, 2)", "The point is $\\boxed{(1,2)}$", "tuple"),
    ("x^2+2x+1", "Expanding gives $\\boxed{(x+1)^2}$", "expression equality"),
    ("\\{1,2\\}", "$\\boxed{\\{2, 1\\}}$", "set order"),
    ("10\\%", "So it is $\\boxed{10}$ percent", "percentage"),
    ("3", "$\\boxed{9^{9^{9^{9}}}}$", "adversarial power tower"),
    ("3", "\\boxed{" * 300 + "3", "adversarial unclosed boxes"),
]

GPQA_ROWS = [
    (2, "Thinking about gauge bosons...\nAnswer: C", "letter after anchor"),
    (2, "Answer: A", "wrong letter"),
    (0, "The correct option is (A).", "parenthesised letter"),
    (1, "I would say B", "bare letter"),
    (3, "", "empty"),
    (3, "answer: d", "lower case"),
]


def _lighteval_math_verdict(gold: str, text: str) -> int:
    from lighteval.metrics.metrics import Metrics
    from lighteval.models.model_output import ModelResponse
    from lighteval.tasks.requests import Doc

    fn = Metrics.pass_at_k_math.value.sample_level_fn
    fn.k, fn.n = 1, 1
    doc = Doc(query="", choices=[gold], gold_index=0)
    return int(fn.compute(doc=doc, model_response=ModelResponse(text=[text])))


def _lighteval_letter_verdict(gold_index: int, text: str) -> int:
    from lighteval.metrics.metrics import Metrics
    from lighteval.models.model_output import ModelResponse
    from lighteval.tasks.requests import Doc

    fn = Metrics.gpqa_instruct_pass_at_k.value.sample_level_fn
    fn.k, fn.n = 1, 1
    doc = Doc(query="", choices=list("ABCD"), gold_index=gold_index)
    return int(fn.compute(doc=doc, model_response=ModelResponse(text=[text])))


@pytest.mark.slow
@pytest.mark.timeout(900)  # one lighteval import and run, on a shared CPU
def test_math_verdicts_equal_lightevals_metric() -> None:
    grader = ExtractiveGrader("math", workers=2)
    try:
        ours = grader.grade(
            [Problem([gold], 0) for gold, _, _ in MATH_ROWS], [[text] for _, text, _ in MATH_ROWS]
        )
    finally:
        grader.close()
    theirs = [_lighteval_math_verdict(gold, text) for gold, text, _ in MATH_ROWS]
    table = [(why, o[0], t) for (_, _, why), o, t in zip(MATH_ROWS, ours, theirs, strict=True)]
    assert [o for _, o, _ in table] == [t for _, _, t in table], table
    assert sum(theirs) >= 6  # the table holds right answers, not only wrong ones


@pytest.mark.slow
@pytest.mark.timeout(900)  # one lighteval import and run, on a shared CPU
def test_letter_verdicts_equal_lightevals_metric() -> None:
    grader = ExtractiveGrader("letters", workers=1)
    try:
        ours = grader.grade(
            [Problem(list("ABCD"), gold) for gold, _, _ in GPQA_ROWS],
            [[text] for _, text, _ in GPQA_ROWS],
        )
    finally:
        grader.close()
    theirs = [_lighteval_letter_verdict(gold, text) for gold, text, _ in GPQA_ROWS]
    assert [o[0] for o in ours] == theirs, list(zip(GPQA_ROWS, ours, theirs, strict=True))


def test_a_hung_grade_is_wrong_after_its_timeout_and_the_rest_go_on() -> None:
    """A worker that never answers is killed at the hard limit; the others are graded."""
    grader = ExtractiveGrader("math", timeout=8.0, workers=1)
    try:
        # 2^(2^40) forces sympy to build a huge integer: the worker is killed, not waited for.
        problems = [Problem(["3"], 0), Problem(["3"], 0)]
        verdicts = grader.grade(problems, [["$\\boxed{2^{2^{40}}}$"], ["$\\boxed{3}$"]])
    finally:
        grader.close()
    assert verdicts == [[0], [1]]


def test_livecodebench_output_comparison() -> None:
    assert stdio_output_matches("3\n", "3")
    assert stdio_output_matches(" 1 2 \n3\n\n", "1 2\n3")
    assert stdio_output_matches("0.50\n", "0.5")  # numbers compare as decimals
    assert not stdio_output_matches("1\n2\n", "1")
    assert not stdio_output_matches("abc", "abd")


def test_code_grader_runs_programs_in_the_sandbox() -> None:
    tests = {"inputs": ["2\n", "5\n"], "outputs": ["4\n", "10\n"], "fn_name": None}
    grader = CodeGrader()
    try:
        verdicts = grader.grade(
            [Problem([""], 0, tests)],
            [
                [
                    "```python\nprint(int(input()) * 2)\n```",
                    "```python\nprint(int(input()) + 2)\n```",  # passes the first test only
                    "```python\nwhile True: pass\n```",  # TLE
                    "no code",
                ]
            ],
        )
    finally:
        grader.close()
    assert verdicts == [[1, 0, 0, 0]]
