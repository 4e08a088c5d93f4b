"""Fixtures: tiny local copies of every task's data set, a tiny Qwen2 on disk, offline env."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

# The tests' helper modules (data, fake server) sit beside this file.
sys.path.insert(0, str(Path(__file__).parent))

from r1_eval_testdata import (
    AIME_ROWS,
    GPQA_ROWS,
    LCB_ROWS,
    MATH_ROWS,
    write_jsonl,
)


@pytest.fixture(scope="session")
def task_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One small local copy per task, in the hub data set's columns (file or directory)."""
    root = tmp_path_factory.mktemp("eval-data")
    return {
        "math_500": write_jsonl(root / "math_500.jsonl", MATH_ROWS),
        "aime24": write_jsonl(root / "aime24" / "train.jsonl", AIME_ROWS),  # a directory
        "aime25": write_jsonl(root / "aime25.jsonl", AIME_ROWS),
        "gpqa:diamond": write_jsonl(root / "gpqa.jsonl", GPQA_ROWS),
        "lcb:codegeneration": write_jsonl(root / "lcb.jsonl", LCB_ROWS),
        "lcb:codegeneration_v4": write_jsonl(root / "lcb_v4.jsonl", LCB_ROWS),
    }


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """r1-train's tiny Qwen2 (0.14 M parameters) with its tokenizer, saved to disk."""
    from r1_train.tiny.addition import corpus, make_problems
    from r1_train.tiny.tiny_model import tiny_qwen2, train_tokenizer

    path = tmp_path_factory.mktemp("tiny-qwen2")
    tokenizer = train_tokenizer(corpus(make_problems(300, seed=1)))
    tiny_qwen2(tokenizer, seed=0).save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path
