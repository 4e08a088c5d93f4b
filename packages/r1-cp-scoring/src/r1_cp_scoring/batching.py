"""Test batches with early stop: the grading schedule of open-r1, without its two defects.

A grader runs a submission's tests `test_batch_size` at a time and stops at the first
batch with a failure: a wrong or slow program usually fails early, so most of a large
test set never runs. open-r1 has the idea but two bugs that grade whole runs as zero:
its `batched(items, -1)` returns the items themselves, which its callers then iterate as
if each were a batch of (index, name) pairs, so `test_batch_size=-1` ("all at once")
runs nothing; and `score_subtasks` passes its boolean `skip_mode` as the batch size.
Here `-1` (or `0`) means one batch with everything, and a bool is rejected.

Data flow: the test list of a subtask or problem -> `batches(tests, size)` -> lists of
tests run concurrently by the graders, the loop breaking at the first failing batch.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import islice
from typing import TypeVar

from r1_cp_scoring.errors import ConfigError

T = TypeVar("T")


def check_batch_size(test_batch_size: object) -> int:
    """`test_batch_size` as an int, refusing bools and values below -1.

    >>> check_batch_size(-1)
    -1
    """
    if isinstance(test_batch_size, bool) or not isinstance(test_batch_size, int):
        raise ConfigError(
            f"test_batch_size={test_batch_size!r}: must be an int >= 1 (tests run at once "
            "before checking for a failure), or -1 / 0 for all tests in one batch"
        )
    if test_batch_size < -1:
        raise ConfigError(f"test_batch_size={test_batch_size}: must be >= 1, or -1 / 0 for all")
    return test_batch_size


def batches(items: Iterable[T], test_batch_size: int) -> Iterator[list[T]]:
    """Consecutive lists of `test_batch_size` items; one list of all when it is -1 or 0.

    >>> list(batches("abcde", 2))
    [['a', 'b'], ['c', 'd'], ['e']]
    >>> list(batches("abc", -1))
    [['a', 'b', 'c']]
    """
    size = check_batch_size(test_batch_size)
    it = iter(items)
    if size < 1:
        everything = list(it)
        if everything:
            yield everything
        return
    while chunk := list(islice(it, size)):
        yield chunk
