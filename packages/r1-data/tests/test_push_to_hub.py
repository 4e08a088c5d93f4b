"""`r1-data generate --push-to-hub`: generated rows reach the Hub whole, as a dataset repo.

The generation runs against the local OpenAI-compatible server of conftest.py and the push
goes through the real `datasets` / `huggingface_hub` clients to a fake Hub on 127.0.0.1
(`fake_hub`), so what is checked is what the Hub would receive: the repo type, the parquet
shard and dataset card, every row of OUT.jsonl inside the shard, and `load_source(REPO)`
reading the same rows back. A run with failed rows must push nothing, since a partial data
set on the Hub looks finished to whoever loads it; `--engine distilabel` must push as well
(it used to return before the push, silently ignoring the flag).

The legacy LFS upload of huggingface_hub (the fake serves no Xet storage) builds its PUT
with an httpx argument httpx has deprecated; that one warning is let through here.
"""

from __future__ import annotations

import io
import json

import pytest

from r1_data.cli import main
from r1_data.sources import load_source

pytestmark = pytest.mark.filterwarnings(
    "ignore:Use 'content=<...>' to upload raw bytes:DeprecationWarning"
)

REPO = "org/r1-traces"
SHARD = "data/train-00000-of-00001.parquet"


@pytest.fixture
def prompts(tmp_path, write_jsonl):
    rows = [{"id": i, "problem": f"problem {i}"} for i in range(7)]
    # Non-ASCII text and a nested answer must survive JSONL -> parquet unchanged.
    rows.append({"id": 7, "problem": "Trouver x tel que x² = 4, réponse en \\boxed{}"})
    return write_jsonl(tmp_path / "prompts.jsonl", rows)


def _argv(prompts, out, url, *extra):
    return [
        "generate",
        "--dataset",
        str(prompts),
        "--prompt-column",
        "problem",
        "--output",
        str(out),
        "--base-url",
        url,
        "--model",
        "teacher",
        "--num-generations",
        "2",
        "--backoff",
        "0",
        "--no-progress",
        "--push-to-hub",
        REPO,
        *extra,
    ]


def _hub_rows(fake_hub) -> list[dict]:
    import pyarrow.parquet as pq

    files = fake_hub.files(REPO, "dataset")
    return pq.read_table(io.BytesIO(files[SHARD])).to_pylist()


def _by_id(rows: list[dict]) -> list[dict]:
    return sorted(rows, key=lambda r: r["id"])


def test_push_uploads_every_generated_row_to_a_dataset_repo(
    prompts, tmp_path, openai_server, fake_hub, read_jsonl, capsys
):
    out = tmp_path / "out.jsonl"
    assert main(_argv(prompts, out, openai_server.url)) == 0
    assert f"pushed {out} to {REPO}" in capsys.readouterr().out

    # A dataset repo, not a model repo of the same name.
    assert list(fake_hub.repos) == [f"datasets/{REPO}"]
    files = fake_hub.files(REPO, "dataset")
    assert set(files) == {"README.md", SHARD}

    local = read_jsonl(out)
    hub = _hub_rows(fake_hub)
    assert len(hub) == len(local) == 8
    assert _by_id(hub) == _by_id(local)  # every column of every row, byte for byte
    for row in hub:
        assert len(row["generations"]) == 2
        assert row["generations"][0].startswith(f"<think>about {row['problem']}</think>")
    card = files["README.md"].decode()
    assert "num_examples: 8" in card and "path: data/train-*" in card
    # The next stage reads it back by hub id, through the real `load_dataset`.
    assert _by_id(load_source(REPO).to_list()) == _by_id(local)


def test_push_after_a_resumed_run_replaces_the_shard(
    prompts, tmp_path, openai_server, fake_hub, read_jsonl
):
    out = tmp_path / "out.jsonl"
    argv = _argv(prompts, out, openai_server.url)
    assert main(argv) == 0
    assert main(argv) == 0  # nothing left to generate; the same rows are pushed again
    repo = fake_hub.repo(REPO, "dataset")
    assert len(repo["commits"]) == 3  # the empty first commit, then one commit per push
    assert set(fake_hub.files(REPO, "dataset")) == {"README.md", SHARD}
    assert _by_id(_hub_rows(fake_hub)) == _by_id(read_jsonl(out))
    assert len(load_source(REPO)) == 8  # not twice over


def test_incomplete_run_pushes_nothing(prompts, tmp_path, openai_server, fake_hub, capsys):
    openai_server.faults = {"problem 3": ["500"] * 10}
    out = tmp_path / "out.jsonl"
    assert main(_argv(prompts, out, openai_server.url, "--max-retries", "1")) == 1
    assert "pushed" not in capsys.readouterr().out
    assert fake_hub.repos == {}
    assert not any(path.startswith("/api/") for _, path in fake_hub.requests)

    # The rerun retries the failed row, then pushes all of them.
    openai_server.faults = {}
    assert main(_argv(prompts, out, openai_server.url)) == 0
    assert sorted(r["id"] for r in _hub_rows(fake_hub)) == list(range(8))


def test_distilabel_engine_pushes_too(prompts, tmp_path, openai_server, fake_hub, monkeypatch):
    # The pipeline itself needs the distilabel extra and worker processes; stand in for it
    # with what it leaves behind (OUT.jsonl in distilabel's columns) to test the push.
    import r1_data.distilabel_pipeline

    def fake_run(cfg):
        rows = [{"problem": f"problem {i}", "generation": f"answer {i}"} for i in range(3)]
        cfg.output.write_text("".join(json.dumps(r) + "\n" for r in rows))

    monkeypatch.setattr(r1_data.distilabel_pipeline, "run_distilabel", fake_run)
    out = tmp_path / "distilabel.jsonl"
    assert main(_argv(prompts, out, openai_server.url, "--engine", "distilabel")) == 0
    assert [r["generation"] for r in _hub_rows(fake_hub)] == ["answer 0", "answer 1", "answer 2"]
