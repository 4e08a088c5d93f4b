"""A subtask row's `score_precision` is honoured as given, 0 included (issue 11)."""

import asyncio

import pytest
from problems import sumpair_rows

from r1_cp_scoring import score_subtask


@pytest.mark.parametrize(("given", "expected"), [(0, 0), (3, 3), (None, 2)])
def test_score_precision_of_the_row_is_kept(given, expected):
    row = dict(sumpair_rows()[1], score_precision=given)
    # No submission: nothing runs, the result still carries the row's rounding.
    result = asyncio.run(score_subtask(None, row, ""))
    assert result.score_precision == expected
