"""Shared fixtures: one real local sandbox per test module (probing bwrap costs a run)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from r1_sandbox import LocalSandbox


@pytest.fixture(scope="module")
def sandbox() -> Iterator[LocalSandbox]:
    box = LocalSandbox(concurrency=4)
    yield box
    box.close()
