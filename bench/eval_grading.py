"""Benchmark: r1-eval's grading of a math benchmark against lighteval's own metric.

Both sides grade the same outputs, measured in the same run on the same machine:
500 MATH-style problems x 4 samples (pass@1 over n=4, as `r1-eval run --n 4` grades them).

- baseline: lighteval's `Metrics.pass_at_k_math` (n=4), called as lighteval's
  `apply_metric` calls it: `metric.compute_sample(doc=..., model_response=...)` for one
  problem after another, in one process, with lighteval's own (alarm) timeouts;
- r1-eval: `ExtractiveGrader("math")`, the same extraction and comparison in r1-rewards'
  worker pool (one worker per core, lighteval's 5 s alarms inside, a 30 s hard limit per
  sample), timed cold (workers started inside the timing) and warm.

Completions are synthetic but shaped like R1 outputs: a <think> block with stray inline
math, then a final answer that is right (in one of several equivalent forms), wrong, or
missing; the 4 samples of a problem often agree, as a trained model's do. A few samples
are adversarial: a power tower, 400 nested fractions, 20,000 unclosed boxes, a 200 kB
completion. The per-problem pass@1 of both sides must be identical (checked).

The baseline runs in a child process with a wall-clock cap, so that a sample that hangs
lighteval cannot hang the benchmark: it is then reported as "> cap".

Run: `uv run python bench/eval_grading.py [--quick] [--workers 2]`.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import time
from typing import Any

N_SAMPLES = 4
ADVERSARIAL = [
    r"so the answer is $\boxed{9^{9^{9^{9}}}}$",
    r"$\boxed{" + r"\frac{1}{" * 400 + "2" + "}" * 400 + "}$",
    r"\boxed{" * 20_000,
    "<think>" + "we try $x+1$ and $y-2$. " * 8_000 + r"</think> $\boxed{1}$",
]


def _gold_and_forms(rng: random.Random) -> tuple[str, list[str], list[str]]:
    """A gold answer, equivalent ways to write it, and wrong answers."""
    kind = rng.randrange(5)
    a, b = rng.randint(1, 60), rng.randint(2, 30)
    if kind == 0:
        return str(a * b), [str(a * b), f"{a * b}.0"], [str(a * b + 1), str(a * b - b)]
    if kind == 1:
        return (
            rf"\frac{{{a}}}{{{b}}}",
            [rf"\frac{{{a}}}{{{b}}}", rf"\frac{{{2 * a}}}{{{2 * b}}}", rf"{a}/{b}"],
            [rf"\frac{{{b}}}{{{a + 1}}}", str(a + b)],
        )
    if kind == 2:
        return (
            rf"{a}\sqrt{{{b}}}",
            [rf"{a}\sqrt{{{b}}}", rf"\sqrt{{{b}}} \cdot {a}"],
            [rf"{a}\sqrt{{{b + 1}}}", str(a)],
        )
    if kind == 3:
        return (
            rf"x^2 + {2 * a}x + {a * a}",
            [rf"(x+{a})^2", rf"x^2 + {2 * a}x + {a * a}"],
            [rf"(x-{a})^2", rf"x^2 + {a}x"],
        )
    return (
        rf"({a}, {b})",
        [rf"({a}, {b})", rf"({a},{b})"],
        [rf"({b}, {a})" if a != b else rf"({a}, {b + 1})", str(a)],
    )


def _completion(rng: random.Random, answer: str | None) -> str:
    thinking = " ".join(
        f"Let $y = {rng.randint(1, 99)}$, then ${rng.randint(1, 9)}y + {rng.randint(1, 9)}$."
        for _ in range(rng.randint(2, 30))
    )
    if answer is None:
        return f"<think>{thinking}</think> I could not finish the computation."
    style = rng.randrange(3)
    if style == 0:
        return f"<think>{thinking}</think> The answer is $\\boxed{{{answer}}}$."
    if style == 1:
        return (
            f"<think>{thinking}</think> Therefore, the final answer is: "
            f"$\\boxed{{{answer}}}$. I hope it is correct"
        )
    return f"<think>{thinking}</think> So we get ${answer}$ as the final answer."


def make_problems(count: int, seed: int = 0) -> list[tuple[str, list[str]]]:
    """(gold as lighteval's MATH prompt holds it, n completions) per problem."""
    rng = random.Random(seed)
    problems = []
    for i in range(count):
        gold, right, wrong = _gold_and_forms(rng)
        # A model's samples cluster: usually one or two distinct final answers per problem.
        pool = [rng.choice(right), rng.choice(wrong), None]
        weights = [rng.random() * 3, rng.random(), 0.2]
        samples = [_completion(rng, rng.choices(pool, weights)[0]) for _ in range(N_SAMPLES)]
        if i % 100 == 50:
            samples[rng.randrange(N_SAMPLES)] = ADVERSARIAL[(i // 100) % len(ADVERSARIAL)]
        problems.append((f"ANSWER: The result is $\\boxed{{{gold}}}$.", samples))
    return problems


def _lighteval_baseline(problems: list[tuple[str, list[str]]], out: Any) -> None:
    import logging

    logging.disable(logging.WARNING)  # lighteval warns per unextracted prediction
    from lighteval.metrics.metrics import Metrics
    from lighteval.models.model_output import ModelResponse
    from lighteval.tasks.requests import Doc

    metric = Metrics.pass_at_k_math(sample_params={"k": 1, "n": N_SAMPLES})
    docs = [Doc(query="", choices=[gold], gold_index=0) for gold, _ in problems]
    responses = [ModelResponse(text=list(samples)) for _, samples in problems]
    start = time.perf_counter()
    scores = [
        metric.compute_sample(doc=doc, model_response=response)[metric.metric_name]
        for doc, response in zip(docs, responses, strict=True)
    ]
    out.put((time.perf_counter() - start, [float(s) for s in scores]))


def run_baseline(
    problems: list[tuple[str, list[str]]], cap_s: float
) -> tuple[float, list[float]] | None:
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_lighteval_baseline, args=(problems, queue))
    proc.start()
    deadline = time.monotonic() + cap_s + 120  # + lighteval's import
    while time.monotonic() < deadline:
        try:
            result = queue.get(timeout=1)
            proc.join()
            return result
        except Exception:
            if not proc.is_alive():
                return None
    proc.kill()
    return None


def run_r1_eval(
    problems: list[tuple[str, list[str]]], workers: int
) -> tuple[float, float, list[float], int]:
    from r1_eval.grading import ExtractiveGrader, Problem
    from r1_eval.passk import pass_at_k

    grader = ExtractiveGrader("math", workers=workers)
    items = [Problem([gold], 0) for gold, _ in problems]
    samples = [s for _, s in problems]
    try:
        start = time.perf_counter()
        verdicts = grader.grade(items, samples)
        cold = time.perf_counter() - start
        # Warm: the same pool, fresh verdicts (workers' caches cleared by new texts).
        shuffled = [[t + " " for t in s] for s in samples]
        start = time.perf_counter()
        grader.grade(items, shuffled)
        warm = time.perf_counter() - start
    finally:
        grader.close()
    scores = [pass_at_k(len(v), sum(x or 0 for x in v), 1) for v in verdicts]
    return cold, warm, scores, grader.timed_out


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100 problems instead of 500")
    parser.add_argument("--workers", type=int, default=None, help="grading processes")
    parser.add_argument("--cap", type=float, default=1800.0, help="baseline cap, seconds")
    args = parser.parse_args()
    count = 100 if args.quick else 500
    workers = args.workers or min(8, len(os.sched_getaffinity(0)))
    problems = make_problems(count)
    adversarial = sum(1 for _, s in problems for t in s if t in ADVERSARIAL)

    baseline = run_baseline(problems, args.cap)
    cold, warm, ours, timed_out = run_r1_eval(problems, workers)

    print(
        f"{count} problems x {N_SAMPLES} samples ({adversarial} adversarial), "
        f"{workers} grading workers, {len(os.sched_getaffinity(0))} cores"
    )
    print(f"{'grader':<44} {'seconds':>8} {'speed-up':>9} {'pass@1':>7}")
    if baseline is None:
        print(f"{'lighteval pass_at_k_math, sequential':<44} {'> cap':>8}")
        base_s = None
    else:
        base_s, theirs = baseline
        print(
            f"{'lighteval pass_at_k_math, sequential':<44} {base_s:8.2f} {'1.00x':>9} "
            f"{sum(theirs) / count:7.4f}"
        )
    for label, seconds in (
        ("r1-eval pool, cold (workers start inside)", cold),
        ("r1-eval pool, warm", warm),
    ):
        ratio = f"{base_s / seconds:.2f}x" if base_s else "-"
        print(f"{label:<44} {seconds:8.2f} {ratio:>9} {sum(ours) / count:7.4f}")
    print(f"samples killed at the hard limit: {timed_out}")
    if baseline is not None:
        mismatches = [i for i, (a, b) in enumerate(zip(theirs, ours, strict=True)) if a != b]
        print(
            f"per-problem pass@1 identical: {not mismatches}"
            + (f" (differ at {mismatches[:10]})" if mismatches else "")
        )


if __name__ == "__main__":
    main()
