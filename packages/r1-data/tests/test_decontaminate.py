"""Decontamination: identical flags to the straightforward method, on tricky and random data."""

from __future__ import annotations

import random
import subprocess
import sys

import numpy as np
import pytest

from r1_data.decontamination import (
    Benchmark,
    NgramIndex,
    _ngram_hashes,
    _tokenize,
    contamination_flags,
    decontaminate,
    parse_benchmark_spec,
    reference_flags,
)
from r1_data.errors import DataInputError

BENCH = Benchmark(
    "aime",
    [
        "Find the number of ordered pairs of positive integers whose product is 2024.",
        "Let  ABC be a TRIANGLE\twith sides 13, 14 and 15; find its area in square units.",
        "short problem",
    ],
)

# (text, contaminated?, why it is here)
CASES = [
    (
        "find the number of ordered pairs of positive integers whose product is 2024.",
        True,
        "an exact copy, lowercased",
    ),
    (
        "Please FIND the number of ordered pairs of positive integers whose   product\nis 7",
        True,
        "case and whitespace differ; the 8-gram 'find ... product' still matches",
    ),
    ("let abc be a triangle with sides 13, 14 and 15", True, "tab and double space collapsed"),
    (
        "count of ordered pairs of positive integers whose sum is 2024.",
        False,
        "only 7 consecutive words match",
    ),
    ("short problem", False, "a benchmark text under 8 words has no n-grams"),
    ("", False, "empty"),
    (None, False, "missing text counts as empty"),
    (
        "find the number of ordered pairs of positive integers",
        True,
        "exactly one matching 8-gram (9 words)",
    ),
    (
        "Find the number of ordered pairs of positive integers\u2003whose",
        True,
        "an em space is whitespace to str.split, as in the reference",
    ),
    (
        "the number of ordered pairs of positive integers,",
        False,
        "punctuation is part of the word: 'integers,' is not 'integers'",
    ),
]


def test_tricky_cases_match_the_reference_and_the_truth():
    texts = [c[0] for c in CASES]
    fast = contamination_flags(texts, [BENCH], num_proc=1)["aime"]
    assert fast == reference_flags(texts, [BENCH])["aime"]
    assert fast == [c[1] for c in CASES], [
        c[2] for c, f in zip(CASES, fast, strict=True) if f != c[1]
    ]


def test_ngrams_never_span_two_rows():
    # The two rows end and start with halves of a benchmark 8-gram; the fast path hashes
    # all rows as one array, so this is where it could go wrong.
    texts = ["something about find the number of", "ordered pairs of positive integers"]
    assert contamination_flags(texts, [BENCH], num_proc=1)["aime"] == [False, False]


# --- corpus ---
def _random_corpus(seed: int, rows: int):
    rng = random.Random(seed)
    vocab = [f"w{i}" for i in range(300)] + ["The", "THE", "the", "x=1", "ünïcode"]

    def text(k):
        seps = [" ", "  ", "\n", "\t"]
        return "".join(rng.choice(vocab) + rng.choice(seps) for _ in range(k))

    benches = [Benchmark(f"b{j}", [text(rng.randint(3, 60)) for _ in range(40)]) for j in range(3)]
    texts = []
    for _ in range(rows):
        t = text(rng.randint(0, 50))
        if rng.random() < 0.2:  # plant a span of a benchmark problem of random length
            words = rng.choice(rng.choice(benches).problems).split()
            a = rng.randint(0, max(0, len(words) - 1))
            t += " " + " ".join(words[a : a + rng.randint(5, 12)]).upper() + " " + text(3)
        texts.append(t)
    return texts, benches


# --- corpus ---


@pytest.mark.parametrize("ngram_size", [1, 3, 8])
def test_random_corpus_identical_to_reference(ngram_size):
    texts, benches = _random_corpus(ngram_size, 3000)
    fast = contamination_flags(texts, benches, ngram_size=ngram_size, num_proc=1)
    ref = reference_flags(texts, benches, ngram_size=ngram_size)
    assert fast == ref
    assert 0 < sum(ref["b0"]) < len(texts)  # the corpus exercises both outcomes


@pytest.mark.slow
def test_process_pool_gives_the_same_flags(monkeypatch):
    import r1_data.decontamination as module

    # The pytest process has threads, so this is the path that pickles chunks.
    monkeypatch.setattr(module, "_can_fork", lambda: False)
    texts, benches = _random_corpus(11, 30_000)  # above the pool threshold
    assert contamination_flags(texts, benches, num_proc=2) == reference_flags(texts, benches)


@pytest.mark.slow
def test_forked_pool_gives_the_same_flags():
    # A fresh single-threaded interpreter takes the fork path (workers inherit the texts).
    code = f"""
import random
import r1_data.decontamination as m
from r1_data.decontamination import Benchmark
assert m._can_fork()
exec(open({__file__!r}).read().split("# --- corpus ---")[1])
texts, benches = _random_corpus(12, 30_000)
assert m.contamination_flags(texts, benches, num_proc=2) == m.reference_flags(texts, benches)
print("ok")
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-2000:]


def test_whitespace_table_covers_every_code_point_str_split_splits_on():
    import r1_data.decontamination as module

    spaces = [c for c in range(0x110000) if chr(c).isspace()]
    assert max(spaces) <= module._MAX_SPACE
    assert np.flatnonzero(module._whitespace_table()).tolist() == spaces


def test_a_hash_collision_never_flags_a_clean_row():
    index = NgramIndex([BENCH], 8)
    clean = "completely unrelated words that form one single clean eight gram"
    (h, *_), _ = _ngram_hashes(_tokenize([clean]), 8)
    # Pretend the clean window's hash collides with the benchmark's first n-gram.
    index.keys = np.array([h], dtype=np.uint64)
    index.window_of = np.array([0])
    index.bench_of = np.array([0])
    index.bitmap[:] = True
    assert index.flags([clean]).tolist() == [[False]]


def test_dataset_flags_cleanup_and_columns_kept():
    import datasets

    ds = datasets.Dataset.from_dict(
        {
            "problem": [c[0] for c in CASES],
            "solution": [str(i) for i in range(len(CASES))],
        }
    )
    other = Benchmark("math_500", ["let abc be a triangle with sides 13, 14 and 15"])
    flagged, report = decontaminate(ds, "problem", [BENCH, other])
    assert flagged.column_names == [
        "problem",
        "solution",
        "contaminated_aime",
        "contaminated_math_500",
    ]
    assert flagged["contaminated_aime"] == [c[1] for c in CASES]
    assert report.flagged == {"aime": 5, "math_500": 1}
    cleaned, report = decontaminate(ds, "problem", [BENCH, other], cleanup=True)
    assert cleaned.column_names == ["problem", "solution"]
    assert len(cleaned) == report.rows_kept == len(CASES) - 5
    # Re-running cleanup on flagged output honours and drops the old flag columns.
    again, _ = decontaminate(flagged, "problem", [other], cleanup=True)
    assert again.column_names == ["problem", "solution"] and len(again) == len(CASES) - 5


def test_bad_inputs():
    import datasets

    ds = datasets.Dataset.from_dict({"problem": [1, 2]})
    with pytest.raises(DataInputError, match="holds int, not text"):
        decontaminate(ds, "problem", [BENCH])
    with pytest.raises(DataInputError, match="no column 'question'"):
        decontaminate(ds, "question", [BENCH])
    with pytest.raises(DataInputError, match="ngram_size=0"):
        contamination_flags(["x"], [BENCH], ngram_size=0)
    with pytest.raises(DataInputError, match="repeat"):
        contamination_flags(["x"], [BENCH, BENCH])
    with pytest.raises(DataInputError, match="name='a b'"):
        Benchmark("a b", [])


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("aime=bench/aime.jsonl", ("aime", ("bench/aime.jsonl", None, None, "problem"))),
        ("gpqa=Idavidrein/gpqa:Question", ("gpqa", ("Idavidrein/gpqa", None, None, "Question"))),
        ("web=http://host/x.jsonl", ("web", ("http://host/x.jsonl", None, None, "problem"))),
    ],
)
def test_benchmark_specs(spec, expected):
    assert parse_benchmark_spec(spec) == expected


def test_bad_benchmark_spec():
    with pytest.raises(DataInputError, match="NAME=PATH_OR_ID"):
        parse_benchmark_spec("just-a-path.jsonl")


def test_unicode_edge_cases_match_the_reference():
    # Each text is here because the fast path works on code points, not on str.split():
    texts = [
        "İSTANBUL İs a city where many people live and work every day",  # lower() grows İ to 2 code points
        "ΟΔΟΣ ΟΔΟΣ ΟΔΟΣ final sigma rule changes the lowercase Σ form here",  # context-dependent lower()
        "a\x1cb\x1dc\x1ed\x1fe f g h i j k",  # separators that str.split() treats as whitespace
        "nul\x00inside a word stays one word in both methods one two",  # NUL is not whitespace
        "lone \ud800 surrogate is a word of its own here one two three",  # not valid UTF-8
        "ideographic\u3000space and\u2028line separator split words too ok",
        "\u200bzero width space is not whitespace for python at all ok ok",
    ]
    bench = Benchmark(
        "b",
        [
            "i̇stanbul i̇s a city where many people live and work",
            "οδοσ οδοσ οδος final sigma rule changes the",
            "a b c d e f g h",
            "nul\x00inside a word stays one word in both methods",
            "lone \ud800 surrogate is a word of its own",
            "ideographic space and line separator split words too",
            "\u200bzero width space is not whitespace for python",
        ],
    )
    fast = contamination_flags(texts, [bench], num_proc=1)["b"]
    assert fast == reference_flags(texts, [bench])["b"]
    assert any(fast) and not all(fast)  # both outcomes are exercised
