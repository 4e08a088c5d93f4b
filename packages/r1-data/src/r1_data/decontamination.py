"""Benchmark decontamination by word n-gram overlap (s1, arXiv 2501.19393; open-r1's
`scripts/decontaminate.py`), with the same flags and >= 10x the speed.

The method: lowercase a text and collapse its whitespace, cut it into word 8-grams; a
training row is contaminated for a benchmark when any of its 8-grams is an 8-gram of any
problem of that benchmark. Each benchmark gets a flag column `contaminated_<name>`;
cleanup drops the flagged rows and the flag columns.

open-r1 builds, per benchmark, a dict from n-gram *strings*, then for every training row
and every benchmark again normalises the row, joins its n-grams into new strings and looks
each up: the row is re-tokenised once per benchmark and every n-gram is a fresh string
object. Here a row is tokenised once and each of its n-grams becomes a 64-bit integer:

1. words -> 64-bit hashes with one `map(hash, words)` (C speed);
2. every window of n word hashes -> one polynomial hash, vectorised with numpy over all
   rows of a chunk at once (n multiply-adds over an array, not a Python loop per n-gram);
3. a bitmap prefilter (one bit per hash bucket of all benchmark n-grams, a few MB) drops
   almost every window in one vectorised lookup; the few survivors are looked up in a
   dict `hash -> bitmask of benchmarks` (all benchmarks in one pass);
4. a hit is confirmed by comparing the actual word tuples with the benchmark's, so a
   64-bit collision can never flag a clean row: the flags are *identical* to open-r1's,
   which `reference_flags` (the straightforward method) checks in the tests;
5. chunks of rows run in a process pool (each worker builds its own copy of the small
   benchmark index, so no hash seed has to be shared between processes).

Data flow: training rows (generated traces or a hub data set) + benchmark problems (hub
ids or local files) -> `contamination_flags` -> `contaminated_<name>` columns ->
optional cleanup -> the decontaminated data set written for SFT / pass-rate filtering.
"""

from __future__ import annotations

import functools
import logging
import multiprocessing
import os
import threading
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from r1_data.errors import DataInputError

if TYPE_CHECKING:
    from datasets import Dataset

logger = logging.getLogger(__name__)

# An odd 64-bit multiplier for the polynomial window hash (the golden-ratio constant:
# its bits are well mixed, so windows that differ in one word land far apart).
_MULTIPLIER = np.uint64(0x9E3779B97F4A7C15)
# Rows per task of the process pool: large enough that numpy's per-call overhead and the
# pickling of a task are amortised, small enough that a chunk's arrays stay in cache-ish
# tens of MB.
_CHUNK_ROWS = 4096
# Below this many rows a pool costs more (start-up, index rebuilt per worker) than it saves.
_MIN_ROWS_FOR_POOL = 20_000


@dataclass(frozen=True)
class Benchmark:
    """A benchmark to decontaminate against: its flag name and its problem texts."""

    name: str
    problems: Sequence[str]

    def __post_init__(self) -> None:
        if not self.name or not self.name.replace("_", "").replace("-", "").isalnum():
            raise DataInputError(
                f"benchmark name={self.name!r}: use letters, digits, '_' or '-' "
                "(it becomes the column contaminated_<name>)"
            )


# open-r1's benchmark list: name -> (hub id, config, split, problem column). LiveCodeBench
# is a script data set that `datasets` >= 4 no longer runs; its v4 and v5 releases
# (open-r1's `version_tag="v4_v5"`) are read as the JSON-lines files of that repository.
DEFAULT_BENCHMARKS: dict[str, tuple[str, str | None, str, str]] = {
    "aime_2024": ("HuggingFaceH4/aime_2024", None, "train", "problem"),
    "aime_2025": ("yentinglin/aime_2025", None, "train", "problem"),
    "math_500": ("HuggingFaceH4/MATH-500", None, "test", "problem"),
    "gpqa": ("Idavidrein/gpqa", "gpqa_diamond", "train", "Question"),
    "lcb": ("livecodebench/code_generation_lite", None, "train", "question_content"),
}
_DEFAULT_LOAD_KWARGS: dict[str, dict[str, object]] = {
    "lcb": {
        "data_files": [
            "hf://datasets/livecodebench/code_generation_lite/test4.jsonl",
            "hf://datasets/livecodebench/code_generation_lite/test5.jsonl",
        ]
    },
}


# ------------------------------------------------------------- the method, as specified


def normalize_string(text: str) -> str:
    """Lowercase and collapse every run of whitespace to one space.

    >>> normalize_string("  Find  ALL\\n\\tx ")
    'find all x'
    """
    return " ".join(text.lower().split())


def word_ngrams(text: str, n: int) -> list[str]:
    """The word n-grams of a normalised text, as strings.

    >>> word_ngrams("a b c d", 3)
    ['a b c', 'b c d']
    """
    words = text.split()
    return [" ".join(words[i : i + n]) for i in range(len(words) - n + 1)]


def reference_flags(
    texts: Sequence[str | None], benchmarks: Sequence[Benchmark], ngram_size: int = 8
) -> dict[str, list[bool]]:
    """The straightforward single-process method (open-r1's algorithm): per benchmark a
    set of n-gram strings, then per row its n-gram strings looked up one by one.

    Kept as the specification `contamination_flags` must match, and as the baseline of
    `bench/decontaminate.py`.
    """
    flags: dict[str, list[bool]] = {}
    for bench in benchmarks:
        lookup: set[str] = set()
        for problem in bench.problems:
            lookup.update(word_ngrams(normalize_string(problem or ""), ngram_size))
        flags[bench.name] = [
            any(g in lookup for g in set(word_ngrams(normalize_string(t or ""), ngram_size)))
            for t in texts
        ]
    return flags


# ------------------------------------------------------------------ the fast version


# The highest code point `str.isspace` accepts (U+3000 IDEOGRAPHIC SPACE); a test checks
# every code point, so a Unicode update that adds a higher one fails loudly.
_MAX_SPACE = 0x3000


@functools.cache
def _whitespace_table() -> np.ndarray:
    """(_MAX_SPACE + 2,) bool: the code points `str.split()` splits on (`str.isspace`);
    the last entry stands for every code point above _MAX_SPACE (never whitespace)."""
    table = np.zeros(_MAX_SPACE + 2, dtype=bool)
    table[[c for c in range(_MAX_SPACE + 1) if chr(c).isspace()]] = True
    return table


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser, in place: spreads every input bit over the whole hash."""
    x ^= x >> np.uint64(30)
    x *= np.uint64(0xBF58476D1CE4E5B9)
    x ^= x >> np.uint64(27)
    x *= np.uint64(0x94D049BB133111EB)
    x ^= x >> np.uint64(31)
    return x


@dataclass
class _Tokens:
    """The words of a chunk of texts, as character spans of one joined string."""

    text: str  # the lowercased texts joined by single spaces
    starts: np.ndarray  # (words,) first code point of each word
    ends: np.ndarray  # (words,) one past the last code point
    row: np.ndarray  # (words,) the text each word belongs to

    def words(self, first: int, n: int) -> tuple[str, ...]:
        return tuple(
            self.text[s:e]
            for s, e in zip(
                self.starts[first : first + n].tolist(),
                self.ends[first : first + n].tolist(),
                strict=True,
            )
        )


def _tokenize(texts: Sequence[str | None]) -> _Tokens:
    """Lowercase and split every text on whitespace, without making a string per word.

    The texts are lowercased one by one (as the method does), joined by spaces (so no word
    spans two texts) and viewed as UTF-32 code points; word boundaries come from a
    whitespace table lookup, vectorised.
    """
    lowered = [(t or "").lower() for t in texts]
    text = " ".join(lowered)
    # surrogatepass: lone surrogates stay one code point each, as in the str.
    cp = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    space = _whitespace_table()[np.minimum(cp, _MAX_SPACE + 1)]  # (chars,)
    word = ~space
    begins = word.copy()
    begins[1:] &= space[:-1]
    finishes = word.copy()
    finishes[:-1] &= space[1:]
    starts = np.flatnonzero(begins)
    ends = np.flatnonzero(finishes) + 1
    row_start = np.zeros(len(lowered), dtype=np.int64)  # first code point of each text
    if len(lowered) > 1:
        row_start[1:] = np.cumsum(np.fromiter(map(len, lowered), np.int64, len(lowered)) + 1)[:-1]
    row = np.searchsorted(row_start, starts, side="right") - 1
    return _Tokens(text, starts, ends, row)


_BASE = 0x100000001B3  # the 64-bit FNV prime: odd (so invertible mod 2^64), bits well spread
_power_cache: list[np.ndarray] = []


def _powers(length: int) -> tuple[np.ndarray, np.ndarray]:
    """B^i and B^-i mod 2^64 for i < length, computed once per process and grown."""
    if not _power_cache or len(_power_cache[0]) < length:
        size = max(length, 1 << 22)
        powers = np.empty(size, dtype=np.uint64)
        powers[0] = 1
        np.cumprod(np.full(size - 1, _BASE, dtype=np.uint64), out=powers[1:])
        inverse = np.empty(size, dtype=np.uint64)
        inverse[0] = 1
        np.cumprod(np.full(size - 1, pow(_BASE, -1, 1 << 64), dtype=np.uint64), out=inverse[1:])
        _power_cache[:] = [powers, inverse]
    return _power_cache[0][:length], _power_cache[1][:length]


def _word_hashes(tokens: _Tokens) -> np.ndarray:
    """(words,) 64-bit hashes of the words: sum of code point * B^position, mixed.

    Prefix sums make every word's hash one subtraction and one multiplication by the
    inverse power of its start (B is odd, so invertible modulo 2^64): no loop per word.
    """
    cp = np.frombuffer(tokens.text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    chars = len(cp)
    powers, inverse_powers = _powers(chars + 1)
    prefix = np.zeros(chars + 1, dtype=np.uint64)
    # +1 so that a NUL character still counts; (chars,) terms summed with wrap-around.
    np.cumsum((cp.astype(np.uint64) + np.uint64(1)) * powers[:-1], out=prefix[1:])
    hashes = (prefix[tokens.ends] - prefix[tokens.starts]) * inverse_powers[tokens.starts]
    return _mix(hashes)


def _ngram_hashes(tokens: _Tokens, n: int) -> tuple[np.ndarray, np.ndarray]:
    """64-bit hashes of every n-word window inside one text, and each window's first word.

    Returns:
        (hashes, first word index), both of shape (windows,).
    """
    words = len(tokens.starts)
    if words < n:
        return np.empty(0, np.uint64), np.empty(0, np.int64)
    word_hash = _word_hashes(tokens)
    windows = words - n + 1
    h = word_hash[:windows].copy()  # (windows,)
    for k in range(1, n):
        h *= _MULTIPLIER
        h += word_hash[k : k + windows]
    inside = tokens.row[:windows] == tokens.row[n - 1 :]  # first and last word, same text
    return _mix(h[inside]), np.flatnonzero(inside)


class NgramIndex:
    """The n-grams of every benchmark: sorted hashes (each with its benchmark and window),
    a bitmap prefilter, and the benchmark words that confirm a hit."""

    def __init__(self, benchmarks: Sequence[Benchmark], ngram_size: int) -> None:
        self.names = [b.name for b in benchmarks]
        self.n = ngram_size
        self._tokens = [_tokenize(list(b.problems)) for b in benchmarks]
        hashes, bench, window = [], [], []
        for j, tokens in enumerate(self._tokens):
            h, first = _ngram_hashes(tokens, ngram_size)
            hashes.append(h)
            bench.append(np.full(len(h), j, dtype=np.int64))
            window.append(first)
        all_hashes = np.concatenate(hashes) if hashes else np.empty(0, np.uint64)
        order = np.argsort(all_hashes, kind="stable")
        self.keys = all_hashes[order]  # (benchmark windows,) sorted
        self.bench_of = np.concatenate(bench)[order] if bench else np.empty(0, np.int64)
        self.window_of = np.concatenate(window)[order] if window else np.empty(0, np.int64)
        # ~32 bits per benchmark n-gram keeps the prefilter's false-positive rate near 3%.
        bits = max(20, min(30, (len(self.keys) * 32).bit_length()))
        self.bitmap_mask = np.uint64((1 << bits) - 1)
        self.bitmap = np.zeros(1 << bits, dtype=bool)
        self.bitmap[self.keys & self.bitmap_mask] = True

    def flags(self, texts: Sequence[str | None]) -> np.ndarray:
        """(rows, benchmarks) booleans: row i shares an n-gram with benchmark j."""
        n = self.n
        out = np.zeros((len(texts), len(self.names)), dtype=bool)
        tokens = _tokenize(texts)
        hashes, first = _ngram_hashes(tokens, n)
        if not len(hashes) or not len(self.keys):
            return out
        # 1. bitmap: drops ~97% of clean windows with one gather.
        candidates = np.flatnonzero(self.bitmap[hashes & self.bitmap_mask])
        # 2. binary search: the benchmark windows with exactly this hash, [left, right).
        wanted = hashes[candidates]
        left = np.searchsorted(self.keys, wanted, side="left")
        right = np.searchsorted(self.keys, wanted, side="right")
        hit = right > left
        # 3. confirm each hit on the words: a 64-bit collision never flags a row.
        for i, lo, hi in zip(
            candidates[hit].tolist(), left[hit].tolist(), right[hit].tolist(), strict=True
        ):
            word = int(first[i])
            row = int(tokens.row[word])
            gram = None
            for k in range(lo, hi):
                j = int(self.bench_of[k])
                if out[row, j]:
                    continue
                gram = gram or tokens.words(word, n)
                if gram == self._tokens[j].words(int(self.window_of[k]), n):
                    out[row, j] = True
        return out


# What a worker process works on: the index and, when forked, the texts themselves.
_worker_state: tuple[NgramIndex, Sequence[str | None]] | None = None


def _init_worker(benchmarks: Sequence[Benchmark], ngram_size: int) -> None:
    global _worker_state
    _worker_state = (NgramIndex(benchmarks, ngram_size), [])


def _flags_of_texts(texts: Sequence[str | None]) -> np.ndarray:
    assert _worker_state is not None
    return _worker_state[0].flags(texts)


def _flags_of_range(bounds: tuple[int, int]) -> np.ndarray:
    assert _worker_state is not None
    index, texts = _worker_state
    return index.flags(texts[bounds[0] : bounds[1]])


def _can_fork() -> bool:
    """Fork shares the index and texts with the workers for free; only safe (and only
    warning-free on newer Pythons) while this process has a single thread."""
    return "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1


def contamination_flags(
    texts: Sequence[str | None],
    benchmarks: Sequence[Benchmark],
    ngram_size: int = 8,
    num_proc: int | None = None,
    progress: bool = False,
) -> dict[str, list[bool]]:
    """For each benchmark, whether each text shares a word n-gram with it.

    Identical to `reference_flags` (same normalisation, same n-grams, exact confirmation).

    Args:
        texts: the training problems; None counts as empty (never contaminated).
        num_proc: worker processes; default min(8, CPUs), and 1 for small inputs.
    """
    if ngram_size < 1:
        raise DataInputError(f"ngram_size={ngram_size!r}: must be >= 1")
    names = [b.name for b in benchmarks]
    if len(set(names)) != len(names):
        raise DataInputError(f"benchmark names {names} repeat; each needs its own column")
    if not benchmarks:
        return {}
    if num_proc is None:
        num_proc = min(8, os.cpu_count() or 1)
    if len(texts) < _MIN_ROWS_FOR_POOL:
        num_proc = 1
    from tqdm.auto import tqdm

    bar = tqdm(total=len(texts), unit="row", desc="decontaminate", disable=not progress)
    parts: list[np.ndarray] = []
    global _worker_state
    bounds = [(i, min(i + _CHUNK_ROWS, len(texts))) for i in range(0, len(texts), _CHUNK_ROWS)]
    if num_proc <= 1:
        index = NgramIndex(benchmarks, ngram_size)
        for a, b in bounds:
            parts.append(index.flags(texts[a:b]))
            bar.update(b - a)
    elif _can_fork():
        # Workers inherit the index and the texts: nothing is pickled but row ranges.
        _worker_state = (NgramIndex(benchmarks, ngram_size), texts)
        try:
            context = multiprocessing.get_context("fork")
            with ProcessPoolExecutor(num_proc, mp_context=context) as pool:
                for (a, b), part in zip(bounds, pool.map(_flags_of_range, bounds), strict=True):
                    parts.append(part)
                    bar.update(b - a)
        finally:
            _worker_state = None
    else:
        chunks = [texts[a:b] for a, b in bounds]
        with ProcessPoolExecutor(
            num_proc, initializer=_init_worker, initargs=(list(benchmarks), ngram_size)
        ) as pool:
            for chunk, part in zip(chunks, pool.map(_flags_of_texts, chunks), strict=True):
                parts.append(part)
                bar.update(len(chunk))
    bar.close()
    table = np.concatenate(parts) if parts else np.zeros((0, len(names)), dtype=bool)
    return {name: table[:, j].tolist() for j, name in enumerate(names)}


# ------------------------------------------------------------------ data set level


def load_benchmarks(
    specs: Mapping[str, tuple[str, str | None, str | None, str]],
    load_kwargs: Mapping[str, dict[str, object]] | None = None,
) -> list[Benchmark]:
    """Benchmarks from `name -> (path or hub id, config, split, column)`; each must load.

    `load_kwargs[name]` with `data_files` reads those JSON-lines files instead of the id.
    """
    from r1_data.sources import load_source, require_columns

    out = []
    for name, (source, config, split, column) in specs.items():
        kwargs = load_kwargs.get(name, {}) if load_kwargs else {}
        if "data_files" in kwargs:
            try:
                ds = load_source("json", None, split=split, **kwargs)
            except DataInputError as exc:
                reason = str(exc).split(": ", 1)[-1]
                raise DataInputError(f"cannot read {source!r}: {reason}") from exc
        else:
            ds = load_source(source, config, split=split)
        require_columns(ds, [column], f"benchmark {name} ({source})")
        out.append(Benchmark(name, [p if isinstance(p, str) else "" for p in ds[column]]))
        logger.info("benchmark %s: %d problems from %s", name, len(ds), source)
    return out


def load_default_benchmarks(skip: Sequence[str] = ()) -> list[Benchmark]:
    """open-r1's five benchmarks, but those named in `skip`; each of the others must load.

    A benchmark that cannot be loaded (GPQA is gated on the Hub; a machine may be offline)
    is an error, not a warning: a run that silently checked fewer benchmarks than asked
    looks like a clean decontamination. Skipping one is a choice the user writes down.

    Raises:
        DataInputError: a name in `skip` is not a default benchmark, every benchmark is
            skipped, or one that is not skipped cannot be loaded (all such are named).
    """
    from r1_data.errors import DataError

    unknown = [name for name in skip if name not in DEFAULT_BENCHMARKS]
    if unknown:
        raise DataInputError(
            f"skip_benchmarks={unknown!r}: not default benchmarks; they are "
            + ", ".join(DEFAULT_BENCHMARKS)
        )
    wanted = {name: spec for name, spec in DEFAULT_BENCHMARKS.items() if name not in skip}
    if not wanted:
        raise DataInputError(
            "every default benchmark is skipped: nothing to check against; give "
            "--benchmark NAME=PATH_OR_ID[:COLUMN]"
        )
    for name in skip:
        logger.warning(
            "default benchmark %s skipped as asked: rows are not checked against it", name
        )
    out, failures = [], []
    for name, spec in wanted.items():
        try:
            out.extend(load_benchmarks({name: spec}, _DEFAULT_LOAD_KWARGS))
        except DataError as exc:
            failures.append((name, exc))
    if failures:
        names = [name for name, _ in failures]
        reasons = "; ".join(
            f"{name} ({DEFAULT_BENCHMARKS[name][0]}): {exc}" for name, exc in failures
        )
        skip_flags = " ".join(f"--skip-benchmark {name}" for name in names)
        several = len(names) > 1
        raise DataInputError(
            f"default benchmark{'s' if several else ''} {', '.join(names)} could not be "
            f"loaded ({reasons}); pass {skip_flags} to decontaminate without "
            f"{'them' if several else 'it'}, or give a local copy as "
            "--benchmark NAME=PATH_OR_ID[:COLUMN]"
        )
    return out


@dataclass
class DecontaminationReport:
    """Rows flagged per benchmark, and what cleanup kept."""

    rows: int
    flagged: dict[str, int]
    rows_kept: int

    def summary(self) -> str:
        per = ", ".join(f"{name}={count}" for name, count in self.flagged.items())
        return f"{self.rows} rows; contaminated: {per}; kept {self.rows_kept}"


@dataclass(kw_only=True)
class DecontaminateConfig:
    """Everything `r1-data decontaminate` does; each field's help is its `metadata["help"]`.

    open-r1's flags (`--ngram_size`, `--problem_column`, `--new_dataset_name`) are
    accepted as they are written there; like open-r1, `problem_column` defaults to
    `problem` and the result can go to the Hub. Unlike open-r1, it can also stay on disk.
    """

    dataset: str = field(
        metadata={
            "help": "hub id, or a local .jsonl/.json/.parquet/.csv file or saved data set folder",
            "metavar": "PATH_OR_ID",
        }
    )
    problem_column: str = field(
        default="problem", metadata={"help": "column with the problem text", "metavar": "COL"}
    )
    output: str | None = field(
        default=None,
        metadata={
            "help": "OUT.jsonl or OUT.parquet is written as that file, anything else as a "
            "saved data set folder (needed unless --push-to-hub)",
            "metavar": "OUT",
        },
    )
    split: str = field(
        default="train",
        metadata={"help": "split, with slicing such as train[:1000]", "metavar": "S"},
    )
    dataset_config: str | None = field(
        default=None, metadata={"help": "hub config name of --dataset", "metavar": "NAME"}
    )
    benchmarks: list[str] = field(
        default_factory=list,
        metadata={
            "help": "a benchmark to check against instead of the defaults (repeatable); "
            "COLUMN defaults to problem",
            "flag": "--benchmark",
            "metavar": "NAME=PATH_OR_ID[:COLUMN]",
        },
    )
    skip_benchmarks: list[str] = field(
        default_factory=list,
        metadata={
            "help": "a default benchmark not to check against (repeatable), e.g. gpqa when "
            "its gated repo cannot be read; without it, a default that fails to load is an "
            "error",
            "flag": "--skip-benchmark",
            "metavar": "NAME",
        },
    )
    ngram_size: int = field(default=8, metadata={"help": "words per n-gram", "metavar": "N"})
    cleanup: bool = field(
        default=False, metadata={"help": "drop contaminated rows and the flag columns"}
    )
    num_proc: int | None = field(
        default=None,
        metadata={"help": "worker processes (default: up to 8 CPUs)", "metavar": "N"},
    )
    push_to_hub: str | None = field(
        default=None,
        metadata={
            "help": "push the result to this Hub data set",
            "aliases": ("--new-dataset-name",),  # open-r1's decontaminate.py
            "metavar": "REPO",
        },
    )
    private: bool = field(
        default=False, metadata={"help": "make the data set pushed by --push-to-hub private"}
    )
    progress: bool = field(
        default=True, metadata={"help": "no progress bar", "flag": "--no-progress"}
    )

    def __post_init__(self) -> None:
        if self.ngram_size < 1:
            raise DataInputError(f"ngram_size={self.ngram_size!r}: must be >= 1")
        if self.num_proc is not None and self.num_proc < 1:
            raise DataInputError(f"num_proc={self.num_proc!r}: must be >= 1")
        if self.output is None and self.push_to_hub is None:
            raise DataInputError(
                "output=None and push_to_hub=None: say where the result goes "
                "(--output OUT, --push-to-hub REPO, or both)"
            )
        if self.benchmarks and self.skip_benchmarks:
            raise DataInputError(
                f"skip_benchmarks={self.skip_benchmarks!r} with --benchmark: skipping names "
                "default benchmarks, which --benchmark replaces; give only the benchmarks to use"
            )

    def load_benchmarks(self) -> list[Benchmark]:
        """The benchmarks this run checks: those of `--benchmark`, else the defaults."""
        if self.benchmarks:
            return load_benchmarks(dict(parse_benchmark_spec(spec) for spec in self.benchmarks))
        return load_default_benchmarks(self.skip_benchmarks)


def decontaminate(
    ds: Dataset,
    problem_column: str,
    benchmarks: Sequence[Benchmark],
    ngram_size: int = 8,
    cleanup: bool = False,
    num_proc: int | None = None,
    progress: bool = False,
) -> tuple[Dataset, DecontaminationReport]:
    """Add `contaminated_<name>` columns to `ds`; with `cleanup`, drop flagged rows and the
    flag columns instead. Every input column is kept."""
    from r1_data.sources import require_columns

    require_columns(ds, [problem_column], "the data set")
    texts = ds[problem_column]
    bad = next((t for t in texts if t is not None and not isinstance(t, str)), None)
    if bad is not None:
        raise DataInputError(
            f"column {problem_column!r} holds {type(bad).__name__}, not text: {bad!r:.80}"
        )
    flags = contamination_flags(texts, benchmarks, ngram_size, num_proc, progress)
    flagged = {name: int(sum(col)) for name, col in flags.items()}
    for name, count in flagged.items():
        logger.info("contaminated_%s: %d of %d rows", name, count, len(ds))
    if cleanup:
        # As open-r1: every contaminated_* column counts, an earlier run's included, and
        # none is left in the output.
        old = [c for c in ds.column_names if c.startswith("contaminated_")]
        columns = list(flags.values()) + [ds[c] for c in old]
        keep = [i for i, row in enumerate(zip(*columns, strict=True)) if not any(row)]
        if not columns:
            keep = list(range(len(ds)))
        result = ds.select(keep).remove_columns(old) if old else ds.select(keep)
    else:
        result = ds
        for name, column in flags.items():
            col = f"contaminated_{name}"
            if col in result.column_names:
                result = result.remove_columns(col)
            result = result.add_column(col, column)
    return result, DecontaminationReport(len(ds), flagged, len(result))


def parse_benchmark_spec(spec: str) -> tuple[str, tuple[str, None, None, str]]:
    """`NAME=PATH_OR_ID[:COLUMN]` -> (name, (source, config, split, column)).

    >>> parse_benchmark_spec("aime=data/aime.jsonl:question")
    ('aime', ('data/aime.jsonl', None, None, 'question'))
    >>> parse_benchmark_spec("math=HuggingFaceH4/MATH-500")
    ('math', ('HuggingFaceH4/MATH-500', None, None, 'problem'))
    """
    name, sep, rest = spec.partition("=")
    if not sep or not name or not rest:
        raise DataInputError(f"--benchmark {spec!r}: expected NAME=PATH_OR_ID[:COLUMN]")
    source, column = rest, "problem"
    head, colon, tail = rest.rpartition(":")
    # A column is what follows the last colon, unless that colon belongs to the path
    # (a URL scheme, a Windows drive) or the whole thing is an existing file.
    if (
        colon
        and head
        and tail
        and "/" not in tail
        and "\\" not in tail
        and not os.path.exists(rest)
    ):
        source, column = head, tail
    Benchmark(name, [])  # validates the name
    return name, (source, None, None, column)
