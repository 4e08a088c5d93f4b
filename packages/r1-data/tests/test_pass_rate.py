"""Pass-rate filtering: real r1-rewards scoring of completions from a real HTTP server."""

from __future__ import annotations

import re

import pytest

from r1_data.errors import DataInputError
from r1_data.filtering import PassRateConfig, mean_reward, pass_rate_sync

N = 4


@pytest.fixture
def problems(tmp_path, write_jsonl):
    rows = [
        {"id": i, "problem": f"What is {i} plus zero?", "solution": f"${i}$"} for i in range(10)
    ]
    return write_jsonl(tmp_path / "problems.jsonl", rows)


def solve_some(prompt: str, n: int) -> str:
    """Generation n of problem i is right for n <= i % 5: pass rates 0, 1/4, ..., 1."""
    i = int(re.search(r"What is (\d+)", prompt).group(1))
    answer = i if n <= i % 5 else i + 100
    return f"<think>\nadding\n</think>\n<answer>\n\\boxed{{{answer}}}\n</answer>"


def config(problems, tmp_path, url, **kw):
    kw.setdefault("progress", False)
    return PassRateConfig(
        dataset=str(problems),
        prompt_column="problem",
        output=tmp_path / "rates.jsonl",
        base_urls=[url],
        model="policy",
        num_generations=N,
        uuid_column="id",
        **kw,
    )


@pytest.mark.slow
def test_keeps_rows_strictly_between_min_and_max(problems, tmp_path, openai_server, read_jsonl):
    openai_server.responder = solve_some
    report = pass_rate_sync(
        config(problems, tmp_path, openai_server.url, pass_rate_min=0.1, pass_rate_max=0.9)
    )
    rows = {r["id"]: r for r in read_jsonl(tmp_path / "rates.jsonl")}
    assert len(rows) == 10
    for i, row in rows.items():
        assert row["pass_rate_rewards"]["accuracy_reward"] == [
            1.0 if n <= i % 5 else 0.0 for n in range(1, N + 1)
        ]
        assert row["pass_rate"] == (i % 5) / N if i % 5 < N else 1.0
        assert len(row["generations"]) == N
    kept = read_jsonl(tmp_path / "rates.filtered.jsonl")
    assert sorted(r["id"] for r in kept) == [i for i in range(10) if i % 5 in (1, 2, 3)]
    assert (report.scored_rows, report.kept) == (10, 6)


@pytest.mark.slow
def test_several_rewards_are_kept_apart(problems, tmp_path, openai_server, read_jsonl):
    openai_server.responder = solve_some
    pass_rate_sync(
        config(problems, tmp_path, openai_server.url, reward_funcs=["accuracy", "format"], end=3)
    )
    rows = {r["id"]: r for r in read_jsonl(tmp_path / "rates.jsonl")}
    assert sorted(rows) == [0, 1, 2]
    row = rows[1]
    # Each function's scores stay with their own name (open-r1 reshapes and mixes them).
    assert row["pass_rate_rewards"]["format_reward"] == [1.0] * N
    assert row["pass_rate_rewards"]["accuracy_reward"] == [1.0, 0.0, 0.0, 0.0]
    assert row["pass_rate"] == pytest.approx((1 + N) / (2 * N))


@pytest.mark.slow
def test_chunks_resume_independently(problems, tmp_path, openai_server, read_jsonl):
    openai_server.responder = solve_some
    first = pass_rate_sync(config(problems, tmp_path, openai_server.url, start=0, end=5))
    again = pass_rate_sync(config(problems, tmp_path, openai_server.url, start=0, end=5))
    assert (
        first.generation.generated,
        again.generation.generated,
        again.generation.already_done,
    ) == (5, 0, 5)
    assert len(read_jsonl(tmp_path / "rates.jsonl")) == 5


def test_unknown_reward_name_lists_valid_ones(problems, tmp_path, openai_server):
    with pytest.raises(DataInputError, match=r"unknown reward name.*accuracy"):
        pass_rate_sync(config(problems, tmp_path, openai_server.url, reward_funcs=["acuracy"]))


def test_missing_reward_column_is_one_clear_error(tmp_path, openai_server, write_jsonl):
    data = write_jsonl(tmp_path / "p.jsonl", [{"id": 1, "problem": "What is 1 plus zero?"}])
    openai_server.responder = solve_some
    with pytest.raises(DataInputError, match=r"cannot score the generations.*solution"):
        pass_rate_sync(config(data, tmp_path, openai_server.url))


@pytest.mark.parametrize(("lo", "hi"), [(0.5, 0.5), (-0.1, 0.5), (0.2, 1.5)])
def test_bad_window(problems, tmp_path, lo, hi):
    with pytest.raises(DataInputError, match="need 0 <= min < max <= 1"):
        config(problems, tmp_path, "http://127.0.0.1:1/v1", pass_rate_min=lo, pass_rate_max=hi)


def test_mean_ignores_ungradable_and_nan():
    assert mean_reward({"a": [1.0, float("nan"), None, 0.0]}) == 0.5
