"""Shared fixtures: offline hub settings and small data sets written to tmp files.

The hub-loading code stays real, but nothing may reach the network: the offline switches
are set before `datasets` is imported, and again on its config in case another test
module imported it first.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

os.environ["HF_DATASETS_OFFLINE"] = "1"
os.environ["HF_HUB_OFFLINE"] = "1"

import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _offline(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    import datasets.config

    monkeypatch.setattr(datasets.config, "HF_DATASETS_OFFLINE", True, raising=False)
    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", True, raising=False)
    # A private cache: tests never see, nor leave, cached arrow files of other runs.
    cache = tmp_path_factory.mktemp("hf-cache")
    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", cache, raising=False)


def _write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def _read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line]


# Helpers as fixtures: with --import-mode=importlib test modules cannot import conftest.
@pytest.fixture
def write_jsonl():
    return _write_jsonl


@pytest.fixture
def read_jsonl():
    return _read_jsonl
