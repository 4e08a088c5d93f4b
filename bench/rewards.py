"""Benchmark: r1's accuracy_reward against open-r1's sequential math-verify loop.

Both sides grade the same GRPO-shaped batches (groups of G completions sharing one prompt
and one gold answer), measured in the same run on the same machine:

- baseline: open-r1's `accuracy_reward` loop, i.e. for every completion `parse(gold)`,
  `parse(completion)` with open-r1's extraction config, `verify(gold, answer)`, one after
  the other in this process, with math-verify's default (alarm) timeouts;
- r1: `r1_rewards.accuracy_reward` (worker pool, warm, deduplicated, 5 s hard limit).

Completions are synthetic but shaped like R1 rollouts: a <think> block of 0.3-20 k
characters with inline math, then a boxed answer that is right (in several equivalent
forms), wrong (one of a few distractors per group), or missing. The 64 and 512 batches
also carry adversarial items: a power tower, 400 nested fractions, a 1 MB completion and
20,000 unclosed boxes. Every batch is fresh (new numbers), so no cache carries over.

Run: `uv run python bench/rewards.py [--quick]`.
"""

from __future__ import annotations

import argparse
import logging
import random
import statistics
import time
import warnings

from latex2sympy2_extended import NormalizationConfig
from math_verify import LatexExtractionConfig, parse, verify

from r1_rewards import accuracy_reward

ADVERSARIAL = [
    r"\boxed{9^{9^{9^9}}}",
    r"\boxed{" + r"\frac{1}{" * 400 + "2" + "}" * 400 + "}",
    "<think>" + "word $x+1$ " * 100_000 + r"</think> \boxed{1}",
    r"\boxed{" * 20_000,
]
TIMEOUT_S = 5.0


def _answer_config() -> list[LatexExtractionConfig]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        normalization = NormalizationConfig(
            nits=False,
            malformed_operators=False,
            basic_latex=True,
            equations=True,
            boxed="all",
            units=True,
        )
    return [
        LatexExtractionConfig(
            normalization_config=normalization,
            boxed_match_priority=0,
            try_extract_without_anchor=False,
        )
    ]


def baseline(texts: list[str], golds: list[str]) -> list[float | None]:
    """open-r1's accuracy_reward, minus its prints."""
    config = _answer_config()
    rewards: list[float | None] = []
    for text, gold in zip(texts, golds, strict=True):
        gold_parsed = parse(gold, extraction_mode="first_match")
        if not gold_parsed:
            rewards.append(None)
            continue
        answer = parse(text, extraction_config=config, extraction_mode="first_match")
        try:
            rewards.append(float(verify(gold_parsed, answer)))
        except Exception:
            rewards.append(None)
    return rewards


def _problem(rng: random.Random) -> tuple[str, list[str], list[str]]:
    """A gold answer, equivalent right answers, and wrong distractors."""
    kind = rng.randrange(4)
    if kind == 0:
        n = rng.randint(10, 10_000)
        return f"${n}$", [str(n), f"{n}.0"], [str(n + d) for d in (1, -1, 10)]
    if kind == 1:
        p, q = rng.randint(1, 97), rng.randint(101, 997)
        return (
            rf"$\frac{{{p}}}{{{q}}}$",
            [rf"\frac{{{p}}}{{{q}}}", rf"\dfrac{{{p * 2}}}{{{q * 2}}}"],
            [rf"\frac{{{p + 1}}}{{{q}}}", rf"\frac{{{q}}}{{{p}}}"],
        )
    if kind == 2:
        a, b = rng.randint(2, 9), rng.choice([2, 3, 5, 6, 7])
        return (
            rf"${a}\sqrt{{{b}}}$",
            [rf"{a}\sqrt{{{b}}}", rf"\sqrt{{{a * a * b}}}"],
            [rf"{a + 1}\sqrt{{{b}}}", rf"{a}\sqrt{{{b + 1}}}"],
        )
    k = rng.randint(2, 12)
    return rf"$\frac{{\pi}}{{{k}}}$", [rf"\frac{{\pi}}{{{k}}}"], [rf"\frac{{\pi}}{{{k + 1}}}", "1"]


def _completion(rng: random.Random, answer: str | None) -> str:
    steps = rng.choice([3, 10, 40, 40, 120, 400])
    lines = [
        f"Step {i}: we have $a_{i} = {rng.randint(1, 99)} + \\frac{{{rng.randint(1, 9)}}}"
        f"{{{rng.randint(2, 9)}}}$, so we continue with the next term."
        for i in range(steps)
    ]
    tail = "I could not finish." if answer is None else f"The answer is $\\boxed{{{answer}}}$."
    return "<think>\n" + "\n".join(lines) + "\n</think>\n" + tail


def make_batch(size: int, group: int, adversarial: int, seed: int) -> tuple[list[str], list[str]]:
    rng = random.Random(seed)
    texts: list[str] = []
    golds: list[str] = []
    while len(texts) < size:
        gold, rights, wrongs = _problem(rng)
        for _ in range(min(group, size - len(texts))):
            roll = rng.random()
            answer = (
                rng.choice(rights) if roll < 0.5 else rng.choice(wrongs) if roll < 0.9 else None
            )
            texts.append(_completion(rng, answer))
            golds.append(gold)
    for i, bad in enumerate(ADVERSARIAL[:adversarial]):
        texts[(i * 97 + 5) % size] = bad
    return texts, golds


def _time(fn, *args) -> tuple[float, list]:
    start = time.perf_counter()
    result = fn(*args)
    return time.perf_counter() - start, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="one repetition per size")
    args = parser.parse_args()
    logging.disable(logging.WARNING)  # math-verify logs every timeout with the whole input

    def r1(texts: list[str], golds: list[str]) -> list[float | None]:
        return accuracy_reward(texts, golds, timeout=TIMEOUT_S)

    r1([r"\boxed{1}"] * 4, ["1"] * 4)  # start the pool: it lives for the whole RL run

    # (batch size, group size, adversarial items, repetitions)
    shapes = [(8, 8, 0, 7), (64, 16, 0, 3), (64, 16, 1, 3), (512, 16, 0, 2), (512, 16, 4, 2)]
    rows = []
    seed = 0
    for size, group, adversarial, reps in shapes:
        base_times, r1_times = [], []
        for _ in range(1 if args.quick else reps):
            seed += 1
            texts, golds = make_batch(size, group, adversarial, seed)
            tb, expected = _time(baseline, texts, golds)
            tr, got = _time(r1, texts, golds)
            mismatches = sum(a != b for a, b in zip(expected, got, strict=True))
            base_times.append(tb)
            r1_times.append(tr)
        b, r = statistics.median(base_times), statistics.median(r1_times)
        rows.append((size, group, adversarial, b, r, b / r, mismatches))

    # The adversarial items alone: what they cost each side.
    texts = ADVERSARIAL[:]
    golds = ["$3$"] * len(texts)
    tb, _ = _time(baseline, texts, golds)
    tr, _ = _time(r1, texts, golds)

    header = ("batch", 6), ("group", 7), ("advers.", 9), ("baseline s", 12), ("r1 s", 9)
    print("".join(f"{name:>{width}}" for name, width in header) + f"{'speedup':>9}{'diff':>6}")
    for size, group, adversarial, b, r, ratio, mismatches in rows:
        print(
            f"{size:>6}{group:>7}{adversarial:>9}{b:>12.3f}{r:>9.3f}{ratio:>8.2f}x{mismatches:>6}"
        )
    print(
        f"\n4 adversarial items alone: baseline {tb:.2f} s, r1 {tr:.2f} s "
        f"(per-item limit {TIMEOUT_S:.0f} s)"
    )
    print(
        "diff: items where r1 and the baseline disagree (adversarial items the baseline "
        "grades after its own timeouts, r1 after its kill, agree at 0.0)"
    )


if __name__ == "__main__":
    main()
