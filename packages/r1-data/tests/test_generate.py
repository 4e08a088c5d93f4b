"""Generation against a real HTTP server on 127.0.0.1: faults, retries, resume, errors."""

from __future__ import annotations

import json
import re

import pytest

from r1_data.chat_client import EndpointConfig
from r1_data.errors import DataInputError, EndpointError
from r1_data.generation import GenerateConfig, failed_path, generate_sync, row_key
from r1_data.journal import Journal


@pytest.fixture
def prompts(tmp_path, write_jsonl):
    return write_jsonl(
        tmp_path / "prompts.jsonl", [{"id": i, "problem": f"problem {i}"} for i in range(12)]
    )


def config(prompts, out, url, **kw):
    kw.setdefault("progress", False)
    kw.setdefault("backoff", 0.01)
    return GenerateConfig(
        dataset=str(prompts),
        prompt_column="problem",
        output=out,
        base_urls=[url],
        model="teacher",
        **kw,
    )


def test_every_prompt_once_with_all_generations(prompts, tmp_path, openai_server, read_jsonl):
    out = tmp_path / "out.jsonl"
    report = generate_sync(
        config(
            prompts,
            out,
            openai_server.url,
            num_generations=3,
            temperature=0.6,
            top_p=0.95,
            max_tokens=64,
            prompt_template="Solve: {prompt} \\boxed{{}}",
        )
    )
    rows = read_jsonl(out)
    assert report.generated == 12 and report.complete
    assert sorted(r["id"] for r in rows) == list(range(12))
    for row in rows:
        assert row["problem"] == f"problem {row['id']}"  # input columns are kept
        assert len(row["generations"]) == 3 and len(set(row["generations"])) == 3
        assert row["finish_reasons"] == ["stop"] * 3
        assert all(u["completion_tokens"] > 0 for u in row["usage"])
    body = openai_server.bodies[0]
    assert [m["role"] for m in body["messages"]] == ["user"]
    assert re.fullmatch(r"Solve: problem \d+ \\boxed\{\}", body["messages"][0]["content"])
    assert (body["temperature"], body["top_p"], body["max_tokens"], body["model"]) == (
        0.6,
        0.95,
        64,
        "teacher",
    )
    assert not failed_path(out).exists()


def test_unset_sampling_fields_are_left_to_the_server(prompts, tmp_path, openai_server):
    generate_sync(config(prompts, tmp_path / "o.jsonl", openai_server.url, end=1))
    assert set(openai_server.bodies[0]) == {"model", "messages"}


@pytest.mark.parametrize("fault", ["500", "429", "timeout", "malformed", "no_choices", "drop"])
def test_transient_faults_are_retried(fault, prompts, tmp_path, openai_server, read_jsonl):
    openai_server.faults = {"problem 3": [fault, fault], "problem 7": [fault]}
    out = tmp_path / "out.jsonl"
    report = generate_sync(
        config(prompts, out, openai_server.url, num_generations=2, timeout=1.0, max_retries=3)
    )
    assert report.complete and report.generated == 12
    assert report.retries >= 3
    rows = {r["id"]: r for r in read_jsonl(out)}
    assert len(rows) == 12 and all(len(r["generations"]) == 2 for r in rows.values())


def test_row_failing_all_retries_is_reported_then_retried_by_next_run(
    prompts, tmp_path, openai_server, read_jsonl
):
    openai_server.faults = {"problem 5": ["500"] * 3}
    out = tmp_path / "out.jsonl"
    cfg = config(prompts, out, openai_server.url, max_retries=1)
    first = generate_sync(cfg)
    assert (first.generated, first.failed) == (11, 1)
    assert "problem 5" not in out.read_text()
    listed = [json.loads(line) for line in failed_path(out).read_text().splitlines()]
    assert len(listed) == 1 and "500" in listed[0]["error"]
    assert "run the same command again" in first.summary()
    # The server has recovered (its fault plan is spent): the rerun does only that row.
    second = generate_sync(cfg)
    assert (second.generated, second.already_done, second.failed) == (1, 11, 0)
    assert sorted(r["id"] for r in read_jsonl(out)) == list(range(12))
    assert not failed_path(out).exists()


def test_client_errors_are_not_retried(prompts, tmp_path, openai_server):
    openai_server.faults = {"problem 2": ["400", "400"]}
    report = generate_sync(config(prompts, tmp_path / "o.jsonl", openai_server.url, max_retries=5))
    assert report.failed == 1
    assert openai_server.attempts["problem 2"] == 1


def test_wrong_model_stops_the_run(prompts, tmp_path, openai_server):
    openai_server.faults = {"problem": ["404"]}
    with pytest.raises(EndpointError, match=r"404.*check --model"):
        generate_sync(config(prompts, tmp_path / "o.jsonl", openai_server.url, max_concurrency=2))
    # It stopped instead of trying every row.
    assert sum(openai_server.attempts.values()) < 12


def test_unreachable_endpoint_fails_fast(prompts, tmp_path, free_port_url):
    with pytest.raises(
        EndpointError, match=r"cannot reach any endpoint.*is the inference server running"
    ):
        generate_sync(config(prompts, tmp_path / "o.jsonl", free_port_url))


def test_requests_rotate_over_base_urls_and_skip_a_dead_one(
    prompts, tmp_path, openai_server, free_port_url, read_jsonl
):
    out = tmp_path / "out.jsonl"
    report = generate_sync(
        GenerateConfig(
            dataset=str(prompts),
            prompt_column="problem",
            output=out,
            base_urls=[free_port_url, openai_server.url],
            model="teacher",
            progress=False,
            backoff=0.01,
            max_retries=4,
        )
    )
    assert report.complete and len(read_jsonl(out)) == 12
    assert report.retries > 0  # the requests sent to the dead URL went to the live one


def test_duplicate_prompts_are_generated_once(tmp_path, openai_server, write_jsonl, read_jsonl):
    data = write_jsonl(
        tmp_path / "d.jsonl", [{"problem": "same"}, {"problem": "same"}, {"problem": "other"}]
    )
    out = tmp_path / "out.jsonl"
    report = generate_sync(config(data, out, openai_server.url))
    assert (report.generated, report.duplicates) == (2, 1)
    assert sorted(r["problem"] for r in read_jsonl(out)) == ["other", "same"]


def test_uuid_column_keys_the_resume(prompts, tmp_path, openai_server, read_jsonl):
    out = tmp_path / "out.jsonl"
    generate_sync(config(prompts, out, openai_server.url, uuid_column="id", end=5))
    report = generate_sync(config(prompts, out, openai_server.url, uuid_column="id"))
    assert (report.already_done, report.generated) == (5, 7)
    assert sorted(r["id"] for r in read_jsonl(out)) == list(range(12))


def test_chunking_with_start_and_end(prompts, tmp_path, openai_server, read_jsonl):
    out = tmp_path / "out.jsonl"
    generate_sync(config(prompts, out, openai_server.url, start=4, end=8))
    assert sorted(r["id"] for r in read_jsonl(out)) == [4, 5, 6, 7]


def test_chat_message_prompts_and_system_prompt(tmp_path, openai_server, write_jsonl):
    data = write_jsonl(tmp_path / "d.jsonl", [{"messages": [{"role": "user", "content": "hi"}]}])
    generate_sync(
        GenerateConfig(
            dataset=str(data),
            prompt_column="messages",
            output=tmp_path / "o.jsonl",
            base_urls=[openai_server.url],
            model="teacher",
            system_prompt="Think.",
            progress=False,
        )
    )
    assert openai_server.bodies[0]["messages"] == [
        {"role": "system", "content": "Think."},
        {"role": "user", "content": "hi"},
    ]


def test_missing_prompt_column(prompts, tmp_path, openai_server):
    cfg = GenerateConfig(
        dataset=str(prompts),
        prompt_column="question",
        output=tmp_path / "o.jsonl",
        base_urls=[openai_server.url],
        model="teacher",
    )
    with pytest.raises(DataInputError, match="no column 'question'; it has id, problem"):
        generate_sync(cfg)


@pytest.mark.parametrize(
    ("field", "value", "match"),
    [
        ("num_generations", 0, "num_generations=0"),
        ("max_concurrency", 0, "max_concurrency=0"),
        ("top_p", 1.5, "top_p=1.5"),
        ("prompt_template", "no placeholder", "must contain {prompt}"),
        ("prompt_template", "{prompt} {other}", "only {prompt}"),
        ("base_urls", ["localhost:8000"], "must start with http"),
        ("end", -1, "end=-1"),
    ],
)
def test_config_validation_names_field_and_value(prompts, tmp_path, field, value, match):
    kw = {
        "dataset": str(prompts),
        "prompt_column": "problem",
        "output": tmp_path / "o.jsonl",
        "base_urls": ["http://127.0.0.1:1/v1"],
        "model": "m",
        field: value,
    }
    with pytest.raises(DataInputError, match=match):
        GenerateConfig(**kw)


def test_endpoint_config_reads_api_key_from_env(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    assert EndpointConfig(base_urls="http://x/v1/", model="m").api_key == "sk-test"
    assert EndpointConfig(base_urls="http://x/v1/", model="m").base_urls == ["http://x/v1"]


# ---------------------------------------------------------------------- the journal


def test_journal_cuts_a_torn_last_line_and_keeps_complete_rows(tmp_path):
    path = tmp_path / "j.jsonl"
    path.write_bytes(b'{"k": "a"}\n{"k": "b"}\n{"k": "c", "generations": ["half')
    with Journal.open(path, key=lambda r: r["k"]) as journal:
        assert journal.done == {"a", "b"}
        assert journal.repaired_bytes == len(b'{"k": "c", "generations": ["half')
        journal.append({"k": "c"}, "c")
    assert path.read_text() == '{"k": "a"}\n{"k": "b"}\n{"k": "c"}\n'


def test_journal_cuts_an_invalid_newline_terminated_last_line(tmp_path):
    path = tmp_path / "j.jsonl"
    path.write_bytes(b'{"k": "a"}\n{"k": \n')
    with Journal.open(path, key=lambda r: r["k"]) as journal:
        assert journal.done == {"a"}
    assert path.read_bytes() == b'{"k": "a"}\n'


def test_journal_refuses_a_damaged_middle_line(tmp_path):
    path = tmp_path / "j.jsonl"
    path.write_bytes(b'{"k": "a"}\nGARBAGE\n{"k": "b"}\n')
    with pytest.raises(DataInputError, match=r"j.jsonl:2: not a complete JSON row"):
        Journal.open(path, key=lambda r: r["k"])


def test_row_key_is_the_uuid_or_a_prompt_hash():
    assert row_key({"id": 7, "p": "x"}, "p", "id") == "7"
    a = row_key({"p": "x"}, "p", None)
    assert a == row_key({"p": "x", "other": 1}, "p", None) != row_key({"p": "y"}, "p", None)
    assert a != row_key({"p": "x"}, "p", None, template="Q: {prompt}")
