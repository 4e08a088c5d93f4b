"""The tiny task's teacher writes correct, well-formed R1 traces."""

from __future__ import annotations

import re

from r1_rewards import accuracy_reward, format_reward
from r1_train.tiny.addition import (
    Problem,
    make_problems,
    rl_rows,
    sft_rows,
    split_problems,
    teacher_trace,
)


def test_teacher_traces_are_correct_and_in_r1_format():
    problems = make_problems(200, seed=3, digits=(1, 3))
    traces = [teacher_trace(p) for p in problems]
    assert format_reward(traces) == [1.0] * len(traces)
    assert accuracy_reward(traces, solution=[p.answer for p in problems]) == [1.0] * len(traces)


def test_each_column_line_adds_the_right_digits_with_the_carry():
    trace = teacher_trace(Problem(999, 1))
    lines = trace.split("\n")[1:-4]
    assert lines == ["9+1=10 c1", "9+0+1=10 c1", "9+0+1=10 c1", "1"]
    for line in lines[:-1]:
        terms, total = re.match(r"([\d+]+)=(\d+)", line).groups()
        assert sum(int(t) for t in terms.split("+")) == int(total)


def test_stages_get_disjoint_problems():
    sft, grpo, held_out = split_problems(0, 300, 200, 100, digits=(2, 2))
    assert len(set(sft) | set(grpo) | set(held_out)) == 600


def test_rl_rows_carry_only_the_gold_answer():
    (row,) = rl_rows([Problem(12, 30)])
    assert row == {"prompt": [{"role": "user", "content": "Add 12 and 30."}], "solution": "42"}
    (sft,) = sft_rows([Problem(12, 30)])
    assert sft["completion"][0]["content"].endswith("\\boxed{42}\n</answer>")
