"""Shared fixtures: completions in both of TRL's formats."""

from __future__ import annotations

import pytest


def as_chat(texts: list[str]) -> list[list[dict[str, str]]]:
    return [[{"role": "assistant", "content": t}] for t in texts]


@pytest.fixture(params=["standard", "conversational"])
def fmt(request: pytest.FixtureRequest):
    """Wraps texts the way TRL would pass them: plain strings or chat messages."""
    if request.param == "standard":
        return list
    return as_chat
