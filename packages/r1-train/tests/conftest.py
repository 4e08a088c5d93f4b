"""Fixtures: a tiny Qwen2 checkpoint and small data sets made on the spot (no hub)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("WANDB_MODE", "disabled")


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A saved 0.14 M Qwen2 with the tiny recipe's tokenizer: a `model_name_or_path`."""
    from r1_train.tiny.addition import corpus, make_problems
    from r1_train.tiny.tiny_model import tiny_qwen2, train_tokenizer

    path = tmp_path_factory.mktemp("tiny-qwen2")
    tokenizer = train_tokenizer(corpus(make_problems(300, seed=1)))
    model = tiny_qwen2(tokenizer, seed=0)
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


@pytest.fixture(scope="session")
def addition_jsonl(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Rows with a plain-text `problem`, a gold `solution` and SFT `messages`."""
    from r1_train.tiny.addition import make_problems, teacher_trace

    path = tmp_path_factory.mktemp("data") / "addition.jsonl"
    with path.open("w") as f:
        for p in make_problems(64, seed=2, digits=(2, 2)):
            f.write(
                json.dumps(
                    {
                        "problem": p.prompt,
                        "solution": p.answer,
                        "messages": [
                            {"role": "user", "content": p.prompt},
                            {"role": "assistant", "content": teacher_trace(p)},
                        ],
                    }
                )
                + "\n"
            )
    return path
