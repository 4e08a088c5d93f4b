"""Shared fixtures: completions in both of TRL's formats; a math limit for loaded machines."""

from __future__ import annotations

import os

import pytest

# Verdict tests assert what math-verify decides, not how fast: under the default 5 s limit
# a symbolic comparison can run out of time on a loaded machine and read as wrong. Tests
# of the limits themselves pass their own `timeout`.
os.environ.setdefault("R1_REWARDS_MATH_TIMEOUT", "60")


def as_chat(texts: list[str]) -> list[list[dict[str, str]]]:
    return [[{"role": "assistant", "content": t}] for t in texts]


@pytest.fixture(params=["standard", "conversational"])
def fmt(request: pytest.FixtureRequest):
    """Wraps texts the way TRL would pass them: plain strings or chat messages."""
    if request.param == "standard":
        return list
    return as_chat
