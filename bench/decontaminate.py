"""Benchmark: r1-data's decontamination against the straightforward n-gram method.

Both sides flag the same synthetic training set against the same five benchmark-sized
problem sets, in the same run on the same machine:

- baseline: `r1_data.decontamination.reference_flags`, open-r1's algorithm written plainly
  (per benchmark a set of n-gram strings; per row, normalise, join its 8-grams, look each
  up), single process;
- r1: `r1_data.decontamination.contamination_flags` (hashed n-grams, vectorised windows,
  bitmap prefilter, exact confirmation), with 1 process and with 2.

The training set has 100,000 problems of 20-200 words (mean ~100) drawn from a Zipf
vocabulary of 30,000 words with punctuation and mixed case, 1% of them carrying a span of
6-40 words copied from a benchmark problem (so some are contaminated and some, with
fewer than 8 shared words, are not). The benchmarks mirror the sizes of the real ones:
AIME 2024 and 2025 (30 problems each, ~120 words), MATH-500 (500, ~70 words),
GPQA-Diamond (198, ~160 words), LiveCodeBench v4-v5 (880, ~350 words).

The flags of every configuration are checked equal to the baseline's before any time is
reported. Run: `uv run python bench/decontaminate.py [--rows N] [--procs 2]`.
"""

from __future__ import annotations

import argparse
import itertools
import os
import random
import time

from r1_data.decontamination import Benchmark, contamination_flags, reference_flags

# name -> (problems, mean words per problem), after the real benchmarks.
BENCHMARK_SHAPES = {
    "aime_2024": (30, 120),
    "aime_2025": (30, 120),
    "math_500": (500, 70),
    "gpqa": (198, 160),
    "lcb": (880, 350),
}


class _Text:
    """Random prose-like text over a Zipf vocabulary."""

    def __init__(self, seed: int, vocab_size: int = 30_000) -> None:
        self.rng = random.Random(seed)
        self.vocab = [f"w{i}" for i in range(vocab_size)]
        self.cum_weights = list(itertools.accumulate(1.0 / (i + 1) for i in range(vocab_size)))

    def words(self, k: int) -> list[str]:
        out = self.rng.choices(self.vocab, cum_weights=self.cum_weights, k=k)
        for i in range(0, k, 9):  # sentence starts and punctuation, as real problems have
            out[i] = out[i].capitalize()
            out[min(k - 1, i + 8)] += self.rng.choice(".,;?")
        return out


def make_data(rows: int, seed: int = 0) -> tuple[list[str], list[Benchmark], int]:
    text = _Text(seed)
    rng = text.rng
    benchmarks = [
        Benchmark(
            name, [" ".join(text.words(max(8, int(rng.gauss(mean, mean / 3))))) for _ in range(n)]
        )
        for name, (n, mean) in BENCHMARK_SHAPES.items()
    ]
    texts, planted = [], 0
    for _ in range(rows):
        words = text.words(rng.randint(20, 200))
        if rng.random() < 0.01:
            source = rng.choice(rng.choice(benchmarks).problems).split()
            span = rng.randint(6, 40)
            start = rng.randint(0, max(0, len(source) - span))
            at = rng.randint(0, len(words))
            words[at:at] = [
                w.upper() if rng.random() < 0.3 else w for w in source[start : start + span]
            ]
            planted += 1
        sep = rng.choice([" ", "  ", "\n"])
        texts.append(sep.join(words))
    return texts, benchmarks, planted


def timed(fn, *args, **kwargs):
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return time.perf_counter() - start, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--procs", type=int, default=2, help="processes of the parallel run")
    parser.add_argument("--ngram-size", type=int, default=8)
    args = parser.parse_args()

    t_data, (texts, benchmarks, planted) = timed(make_data, args.rows)
    words = sum(len(t.split()) for t in texts)
    bench_grams = sum(len(p.split()) for b in benchmarks for p in b.problems)
    print(
        f"data: {len(texts):,} rows, {words:,} words, {planted} with a planted span; "
        f"benchmarks: {', '.join(f'{b.name}={len(b.problems)}' for b in benchmarks)} "
        f"({bench_grams:,} words); built in {t_data:.1f}s; {os.cpu_count()} CPUs"
    )

    t_ref, ref = timed(reference_flags, texts, benchmarks, args.ngram_size)
    runs = [("r1, 1 process", 1), (f"r1, {args.procs} processes", args.procs)]
    results = []
    for label, procs in runs:
        seconds, flags = timed(
            contamination_flags, texts, benchmarks, args.ngram_size, num_proc=procs
        )
        if flags != ref:
            diff = {k: sum(a != b for a, b in zip(flags[k], ref[k], strict=True)) for k in ref}
            raise SystemExit(f"{label}: flags differ from the baseline: {diff}")
        results.append((label, seconds))

    flagged = ", ".join(f"{name}={sum(col)}" for name, col in ref.items())
    print(f"flagged (identical in every run): {flagged}\n")
    print(f"{'implementation':<28}{'seconds':>9}{'rows/s':>12}{'vs baseline':>13}")
    print(
        f"{'baseline (straightforward)':<28}{t_ref:>9.2f}{len(texts) / t_ref:>12,.0f}{'1.0x':>13}"
    )
    for label, seconds in results:
        print(f"{label:<28}{seconds:>9.2f}{len(texts) / seconds:>12,.0f}{t_ref / seconds:>12.1f}x")


if __name__ == "__main__":
    main()
