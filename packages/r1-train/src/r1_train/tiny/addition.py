"""The tiny recipe's task and its teacher: column addition with checkable answers.

DeepSeek-R1 distils long chains of thought from a strong teacher (R1 itself, 800k
samples) into small students, and then reinforces with rule-based rewards on problems
whose answers a program can check. The tiny recipe keeps both moves and shrinks
everything else: the problems are sums of two multi-digit numbers, the "teacher" is this
module, which writes each solution as a worked column addition in the R1 format
(`<think>` reasoning `</think>` then an `<answer>` with a boxed result), and the checker
is r1-rewards' math accuracy, as in a real run.

Why addition: the answer is verifiable, the reasoning has real intermediate steps (one
per column, with a carry) whose errors the student makes and RL can fix, and a model of
0.1 M parameters learns it in seconds on a CPU. The traces are short on purpose so that
GRPO's sampling (the expensive part) stays cheap.

Data flow: a seeded RNG -> problems -> (a) SFT rows `{prompt, completion}` with teacher
traces, (b) GRPO rows `{prompt, solution}` with only the gold answer, (c) held-out rows
for the greedy evaluation; every set is drawn from disjoint problems.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

# The prompt a user of the tiny model sees; short, because every token is sampled G times.
PROMPT = "Add {a} and {b}."


@dataclass(frozen=True)
class Problem:
    a: int
    b: int

    @property
    def prompt(self) -> str:
        return PROMPT.format(a=self.a, b=self.b)

    @property
    def answer(self) -> str:
        return str(self.a + self.b)


def teacher_trace(problem: Problem) -> str:
    """The teacher's solution: one line per column, units first, then the boxed sum.

    >>> print(teacher_trace(Problem(57, 68)))
    <think>
    7+8=15 c1
    5+6+1=12 c1
    1
    </think>
    <answer>
    \\boxed{125}
    </answer>
    """
    a, b = str(problem.a), str(problem.b)
    width = max(len(a), len(b))
    a, b = a.zfill(width), b.zfill(width)
    lines, carry = [], 0
    for da, db in zip(reversed(a), reversed(b), strict=True):
        total = int(da) + int(db) + carry
        terms = f"{da}+{db}" + (f"+{carry}" if carry else "")
        carry = total // 10
        lines.append(f"{terms}={total} c{carry}" if carry else f"{terms}={total}")
    if carry:
        lines.append(str(carry))
    steps = "\n".join(lines)
    return f"<think>\n{steps}\n</think>\n<answer>\n\\boxed{{{problem.answer}}}\n</answer>"


def make_problems(n: int, seed: int, digits: tuple[int, int] = (2, 3)) -> list[Problem]:
    """`n` distinct problems whose operands have between digits[0] and digits[1] digits."""
    rng = random.Random(seed)
    lo, hi = 10 ** (digits[0] - 1), 10 ** digits[1] - 1
    seen: set[Problem] = set()
    out: list[Problem] = []
    while len(out) < n:
        p = Problem(rng.randint(lo, hi), rng.randint(lo, hi))
        if p not in seen:
            seen.add(p)
            out.append(p)
    return out


def split_problems(
    seed: int, n_sft: int, n_grpo: int, n_eval: int, digits: tuple[int, int] = (2, 3)
) -> tuple[list[Problem], list[Problem], list[Problem]]:
    """Disjoint SFT, GRPO and held-out evaluation problems (no leak between stages)."""
    problems = make_problems(n_sft + n_grpo + n_eval, seed, digits)
    return (
        problems[:n_sft],
        problems[n_sft : n_sft + n_grpo],
        problems[n_sft + n_grpo :],
    )


def sft_rows(problems: list[Problem]) -> list[dict[str, object]]:
    """Conversational prompt/completion rows: TRL's SFT trains on the completion only."""
    return [
        {
            "prompt": [{"role": "user", "content": p.prompt}],
            "completion": [{"role": "assistant", "content": teacher_trace(p)}],
        }
        for p in problems
    ]


def rl_rows(problems: list[Problem]) -> list[dict[str, object]]:
    """Prompt/solution rows: GRPO sees only the gold answer, never a trace."""
    return [
        {"prompt": [{"role": "user", "content": p.prompt}], "solution": p.answer} for p in problems
    ]


def corpus(problems: list[Problem]) -> list[str]:
    """Text the tiny tokenizer is trained on: prompts and teacher traces."""
    return [text for p in problems for text in (p.prompt, teacher_trace(p))]
