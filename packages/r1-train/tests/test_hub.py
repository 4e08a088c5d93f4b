"""Hub helpers against a fake Hub on 127.0.0.1: the real huggingface_hub client talks HTTP to it.

The fake is r1-test-support's `FakeHub` (shared with r1-data's tests): repos in memory,
`repos[repo_id]["branches"][branch]` holding `{path: bytes}`. `FakeHub` and `fake_hub` are
re-exported here for test_callbacks.py, which loads this module by path.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from r1_test_support import FakeHub, fake_hub
from r1_train.hub import (
    HubRevisionError,
    check_hub_revision_exists,
    get_gpu_count_for_vllm,
    get_param_count_from_repo_id,
    push_to_hub_revision,
)

__all__ = ["FakeHub", "fake_hub"]  # the fixture is used by name; test_callbacks reads both


def _output_dir(tmp_path: Path) -> Path:
    out = tmp_path / "run"
    (out / "checkpoint-5").mkdir(parents=True)
    (out / "checkpoint-5" / "model.safetensors").write_bytes(b"old")
    (out / "config.json").write_text('{"model_type": "qwen2"}')
    (out / "model.safetensors").write_bytes(b"weights")
    (out / "README.md").write_text("# card")
    (out / "rng_state.pth").write_bytes(b"rng")
    (out / "trainer_log.txt").write_text("log")
    return out


def _args(out: Path, **kw: Any) -> SimpleNamespace:
    base = {
        "hub_model_id": "org/tiny-r1",
        "hub_model_revision": "v00.00",
        "output_dir": str(out),
        "push_to_hub_revision": True,
        "overwrite_hub_revision": False,
    }
    return SimpleNamespace(**{**base, **kw})


def test_push_creates_repo_branch_from_first_commit_and_uploads(
    fake_hub: FakeHub, tmp_path: Path
) -> None:
    out = _output_dir(tmp_path)
    future = push_to_hub_revision(_args(out), extra_ignore_patterns=["*.txt"])
    future.result(timeout=30)

    repo = fake_hub.repos["org/tiny-r1"]
    assert repo["branch_from"]["v00.00"] == repo["commits"][0]
    assert set(repo["branches"]["v00.00"]) == {"config.json", "model.safetensors", "README.md"}
    assert repo["branches"]["v00.00"]["model.safetensors"] == b"weights"
    assert repo["branches"]["main"] == {}  # main untouched


def test_push_refuses_existing_revision_unless_overwrite(fake_hub: FakeHub, tmp_path: Path) -> None:
    out = _output_dir(tmp_path)
    push_to_hub_revision(_args(out)).result(timeout=30)
    with pytest.raises(HubRevisionError, match=r"v00\.00.*overwrite_hub_revision"):
        push_to_hub_revision(_args(out))

    (out / "config.json").write_text('{"model_type": "qwen2", "v": 2}')
    push_to_hub_revision(_args(out, overwrite_hub_revision=True)).result(timeout=30)
    assert b'"v": 2' in fake_hub.repos["org/tiny-r1"]["branches"]["v00.00"]["config.json"]


def test_push_needs_a_repo_id(tmp_path: Path) -> None:
    with pytest.raises(HubRevisionError, match="hub_model_id=None"):
        push_to_hub_revision(_args(tmp_path, hub_model_id=None))


def test_check_hub_revision_exists(fake_hub: FakeHub, tmp_path: Path) -> None:
    out = _output_dir(tmp_path)
    assert check_hub_revision_exists(_args(out)) is False  # no repo yet
    fake_hub.create("org/tiny-r1")
    assert check_hub_revision_exists(_args(out)) is False  # no branch yet

    # A branch without a model card: a crashed run, reusable.
    fake_hub.repos["org/tiny-r1"]["branches"]["v00.00"] = {"config.json": b"{}"}
    fake_hub.repos["org/tiny-r1"]["heads"]["v00.00"] = "0" * 40
    assert check_hub_revision_exists(_args(out)) is False

    fake_hub.repos["org/tiny-r1"]["branches"]["v00.00"]["README.md"] = b"# card"
    with pytest.raises(HubRevisionError, match="already holds a model"):
        check_hub_revision_exists(_args(out))
    assert check_hub_revision_exists(_args(out, overwrite_hub_revision=True)) is True
    assert check_hub_revision_exists(_args(out, push_to_hub_revision=False)) is True


def _safetensors(tensors: dict[str, tuple[str, list[int]]]) -> bytes:
    sizes = {"BF16": 2, "F32": 4}
    header: dict[str, Any] = {"__metadata__": {"format": "pt"}}
    offset = 0
    for name, (dtype, shape) in tensors.items():
        n = sizes[dtype]
        for d in shape:
            n *= d
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + n]}
        offset += n
    raw = json.dumps(header).encode()
    return struct.pack("<Q", len(raw)) + raw + b"\0" * offset


def test_param_count_from_safetensors_metadata(fake_hub: FakeHub) -> None:
    # The name says 7b; the header says 4*8 + 16 = 48 (over two dtypes): the header wins.
    fake_hub.create("org/model-7b")
    fake_hub.repos["org/model-7b"]["branches"]["main"]["model.safetensors"] = _safetensors(
        {"w": ("BF16", [4, 8]), "b": ("F32", [16])}
    )
    assert get_param_count_from_repo_id("org/model-7b") == 48


@pytest.mark.parametrize(
    ("repo_id", "expected"),
    [
        ("Qwen/Qwen2.5-1.5B-Instruct", 1_500_000_000),
        ("deepseek-ai/DeepSeek-R1-Distill-Qwen-7B", 7_000_000_000),
        ("mistralai/Mixtral-8x7B-v0.1", 56_000_000_000),
        ("HuggingFaceTB/SmolLM2-135M", 135_000_000),
        ("org/llama-3-70b-and-8b", 70_000_000_000),
        ("open-r1/OlympicCoder-v00.00", -1),
        ("gpt2", -1),
    ],
)
def test_param_count_from_name_when_hub_has_none(
    fake_hub: FakeHub, repo_id: str, expected: int
) -> None:
    assert get_param_count_from_repo_id(repo_id) == expected


@pytest.mark.parametrize(
    ("heads", "num_gpus", "expected"),
    [(28, 8, 4), (32, 8, 8), (12, 8, 4), (40, 8, 8), (14, 8, 2), (25, 8, 1), (32, 6, 4)],
)
def test_gpu_count_for_vllm(tmp_path: Path, heads: int, num_gpus: int, expected: int) -> None:
    (tmp_path / "config.json").write_text(
        json.dumps({"model_type": "qwen2", "num_attention_heads": heads, "hidden_size": heads * 8})
    )
    assert get_gpu_count_for_vllm(str(tmp_path), num_gpus=num_gpus) == expected
