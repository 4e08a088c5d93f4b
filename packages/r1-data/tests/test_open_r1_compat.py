"""open-r1's invocations, output keys and recipe files work on r1-data's commands.

Each test runs what an open-r1 user already has (the flags of open-r1's
scripts/decontaminate.py, src/open_r1/generate.py and scripts/generate_reason_data.py, the
recipes of recipes/dataset_filtering/) against the local OpenAI-compatible server and the
fake Hub, and checks what open-r1 would have produced or refused.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from r1_data.cli import main

RECIPES = Path(__file__).resolve().parents[3] / "recipes" / "dataset_filtering"
AIME = "Find the number of ordered pairs of positive integers whose product is 2024 exactly."

# The LFS upload of huggingface_hub (the fake serves no Xet) uses an argument httpx
# deprecated; pushes of parquet shards go through it.
_LFS_WARNING = "ignore:Use 'content=<...>' to upload raw bytes:DeprecationWarning"


@pytest.fixture
def problems(tmp_path, write_jsonl):
    rows = [
        {"id": 0, "problem": f"copied: {AIME.lower()}", "solution": "1"},
        {
            "id": 1,
            "problem": "a clean problem about the area of a circle of radius two",
            "solution": "2",
        },
        {"id": 2, "problem": "another clean problem about seven blue marbles", "solution": "3"},
    ]
    return write_jsonl(tmp_path / "train.jsonl", rows)


def _jsonl(rows: list[dict]) -> bytes:
    return "".join(json.dumps(r) + "\n" for r in rows).encode()


# ----------------------------------------------------------------- decontaminate


def test_decontaminate_takes_open_r1s_flag_spellings(problems, tmp_path, write_jsonl, read_jsonl):
    bench = write_jsonl(tmp_path / "aime.jsonl", [{"problem": AIME}])
    out = tmp_path / "clean.jsonl"
    # open-r1: `--ngram_size 8 --problem_column problem --cleanup`.
    argv = [
        "decontaminate",
        "--dataset",
        str(problems),
        "--split",
        "train",
        "--ngram_size",
        "8",
        "--problem_column",
        "problem",
        "--cleanup",
        "--benchmark",
        f"aime={bench}",
        "--output",
        str(out),
        "--no-progress",
    ]
    assert main(argv) == 0
    assert [r["id"] for r in read_jsonl(out)] == [1, 2]
    # --problem_column defaults to `problem`, as in open-r1.
    argv.remove("--problem_column")
    argv.remove("problem")
    assert main(argv) == 0


@pytest.fixture
def default_benchmarks_on_hub(fake_hub):
    """open-r1's default benchmarks on the fake Hub, except GPQA (gated on the real Hub)."""
    for repo, filename in [
        ("HuggingFaceH4/aime_2024", "train.jsonl"),
        ("yentinglin/aime_2025", "train.jsonl"),
        ("HuggingFaceH4/MATH-500", "test.jsonl"),
    ]:
        fake_hub.create(repo, "dataset")
        fake_hub.commit(repo, {filename: _jsonl([{"problem": AIME}])}, repo_type="dataset")
    lcb = "livecodebench/code_generation_lite"
    fake_hub.create(lcb, "dataset")
    fake_hub.commit(
        lcb,
        {
            "test4.jsonl": _jsonl([{"question_content": "read n and print the sum of 1..n"}]),
            "test5.jsonl": _jsonl([{"question_content": "read a string and reverse it"}]),
        },
        repo_type="dataset",
    )
    return fake_hub


def test_a_default_benchmark_that_cannot_load_is_an_error_unless_skipped_by_name(
    problems, tmp_path, default_benchmarks_on_hub, read_jsonl, capsys
):
    out = tmp_path / "flags.jsonl"
    argv = ["decontaminate", "--dataset", str(problems), "--output", str(out), "--no-progress"]
    # Before: gpqa was skipped with a warning and the run "succeeded" on four benchmarks.
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "default benchmark gpqa could not be loaded" in err
    assert "--skip-benchmark gpqa" in err
    assert not out.exists()

    assert main([*argv, "--skip-benchmark", "gpqa"]) == 0
    rows = read_jsonl(out)
    flags = sorted(k for k in rows[0] if k.startswith("contaminated_"))
    assert flags == [
        "contaminated_aime_2024",
        "contaminated_aime_2025",
        "contaminated_lcb",
        "contaminated_math_500",
    ]
    assert [r["contaminated_aime_2024"] for r in rows] == [True, False, False]

    assert main([*argv, "--skip-benchmark", "gqpa"]) == 2
    assert "not default benchmarks; they are aime_2024" in capsys.readouterr().err


@pytest.mark.filterwarnings(_LFS_WARNING)
def test_decontaminate_pushes_like_open_r1_and_privately_when_asked(
    problems, tmp_path, fake_hub, write_jsonl
):
    bench = write_jsonl(tmp_path / "aime.jsonl", [{"problem": AIME}])
    base = ["decontaminate", "--dataset", str(problems), "--benchmark", f"aime={bench}"]
    # open-r1's --new_dataset_name, no local output: the Hub is the output.
    assert main([*base, "--new_dataset_name", "org/public", "--no-progress"]) == 0
    assert main([*base, "--push-to-hub", "org/secret", "--private", "--no-progress"]) == 0
    assert fake_hub.repo("org/public", "dataset")["private"] is False
    assert fake_hub.repo("org/secret", "dataset")["private"] is True
    # Neither --output nor a Hub repo: nowhere to write is a usage error, before any work.
    assert main([*base, "--no-progress"]) == 2


# ---------------------------------------------------------------------- generate


def _generate(problems, out, url, *extra):
    return [
        "generate",
        "--hf-dataset",  # open-r1's src/open_r1/generate.py
        str(problems),
        "--hf-dataset-split",
        "train",
        "--prompt-column",
        "problem",
        "--output",
        str(out),
        "--vllm-server-url",
        url,
        "--model",
        "teacher",
        "--backoff",
        "0",
        "--no-progress",
        *extra,
    ]


def test_generate_takes_open_r1s_flags_and_keeps_api_metadata(
    problems, tmp_path, openai_server, read_jsonl
):
    out = tmp_path / "traces.jsonl"
    assert main(_generate(problems, out, openai_server.url, "--max-new-tokens", "64")) == 0
    rows = read_jsonl(out)
    assert len(rows) == 3
    for row in rows:
        # open-r1's key for the server's token counts, one per generation.
        (meta,) = row["api_metadata"]
        assert meta["completion_tokens"] > 0 and meta == row["usage"][0]
    assert {b["max_tokens"] for b in openai_server.bodies} == {64}


def test_open_r1_preset_sends_open_r1s_defaults_and_flags_still_win(
    problems, tmp_path, openai_server, read_jsonl
):
    out = tmp_path / "preset.jsonl"
    assert main(_generate(problems, out, openai_server.url, "--preset", "open-r1")) == 0
    rows = read_jsonl(out)
    assert all(len(r["generations"]) == 4 for r in rows)  # generate_reason_data.py: 4
    body = openai_server.bodies[0]
    assert (body["temperature"], body["top_p"], body["max_tokens"]) == (0.6, 0.95, 16384)
    assert body["messages"][-1]["content"].startswith(
        "You will be given a problem. Please reason step by step, and put your final "
        "answer within \\boxed{}:\n"
    )

    openai_server.bodies.clear()
    out2 = tmp_path / "preset2.jsonl"
    argv = _generate(problems, out2, openai_server.url, "--preset", "open-r1")
    assert main([*argv, "--num-generations", "1", "--temperature", "1.0"]) == 0
    assert all(len(r["generations"]) == 1 for r in read_jsonl(out2))
    assert {b["temperature"] for b in openai_server.bodies} == {1.0}
    assert {b["top_p"] for b in openai_server.bodies} == {0.95}


@pytest.mark.filterwarnings(_LFS_WARNING)
def test_generate_push_is_private_only_when_asked(problems, tmp_path, openai_server, fake_hub):
    url = openai_server.url
    assert main(_generate(problems, tmp_path / "a.jsonl", url, "--push-to-hub", "org/a")) == 0
    # open-r1's generate.py spelling of the repo flag, with its --private.
    argv = _generate(problems, tmp_path / "b.jsonl", url, "--hf-output-dataset", "org/b")
    assert main([*argv, "--private"]) == 0
    assert fake_hub.repo("org/a", "dataset")["private"] is False
    assert fake_hub.repo("org/b", "dataset")["private"] is True


# ---------------------------------------------------------------------- pass-rate


def test_a_misspelt_boolean_reward_arg_is_an_error(problems, tmp_path, openai_server, capsys):
    argv = [
        "pass-rate",
        "--dataset",
        str(problems),
        "--prompt-column",
        "problem",
        "--output",
        str(tmp_path / "rates.jsonl"),
        "--base-url",
        openai_server.url,
        "--model",
        "policy",
        "--no-progress",
    ]
    # Before: "ture" silently became False.
    assert main([*argv, "--reward-arg", "enforce_same_language=ture"]) == 2
    err = capsys.readouterr().err
    assert "enforce_same_language='ture': expected a boolean (true or false)" in err
    assert openai_server.bodies == []  # refused before any request
    assert main([*argv, "--reward-arg", "enforce_same_language=False"]) == 0


@pytest.mark.parametrize(
    ("pairs", "expected"),
    [
        (["enforce_same_language=TRUE"], {"enforce_same_language": True}),
        (["enforce_same_language=0"], {"enforce_same_language": False}),
        (["e2b_router_url=none"], {"e2b_router_url": None}),
        (["cosine_max_len=512", "math_timeout=2.5"], {"cosine_max_len": 512, "math_timeout": 2.5}),
    ],
)
def test_reward_arg_values_take_their_fields_types(pairs, expected):
    from r1_data.filtering import reward_args_from_strings

    assert reward_args_from_strings(pairs) == expected


@pytest.mark.parametrize("pair", ["enforce_same_language=ture", "cosine_max_len=1e3", "nope=1"])
def test_bad_reward_arg_values_are_refused(pair):
    from r1_data.errors import DataInputError
    from r1_data.filtering import reward_args_from_strings

    with pytest.raises(DataInputError, match="--reward-arg"):
        reward_args_from_strings([pair])


def test_pass_rate_reads_an_open_r1_filtering_recipe(problems, tmp_path, openai_server, read_jsonl):
    # open-r1's keys and layout (recipes/dataset_filtering/config_demo.yaml), our values.
    recipe = tmp_path / "filter.yaml"
    recipe.write_text(
        "model_name_or_path: teacher\n"
        "model_revision: main\n"
        "torch_dtype: bfloat16\n"
        "attn_implementation: flash_attention_2\n"
        f"dataset_name: {problems}\n"
        "dataset_prompt_column: problem\n"
        "system_prompt: Think, then answer.\n"
        "max_completion_length: 256\n"
        "num_generations: 2\n"
        "temperature: 0.7\n"
        "top_p: 0.95\n"
        "reward_funcs:\n- accuracy\n"
        "reward_weights:\n- 1.0\n"
        "pass_rate_min: 0.2\n"
        "pass_rate_max: 0.8\n"
    )
    out = tmp_path / "rates.jsonl"
    argv = ["pass-rate", "--config", str(recipe), "--base-url", openai_server.url]
    assert main([*argv, "--output", str(out), "--no-progress", "--top-p", "0.5"]) == 0
    rows = read_jsonl(out)
    assert len(rows) == 3 and all(len(r["generations"]) == 2 for r in rows)
    body = openai_server.bodies[0]
    assert body["model"] == "teacher"
    assert body["messages"][0] == {"role": "system", "content": "Think, then answer."}
    assert (body["max_tokens"], body["temperature"], body["top_p"]) == (256, 0.7, 0.5)
    assert set(rows[0]["pass_rate_rewards"]) == {"accuracy_reward"}


@pytest.mark.filterwarnings(_LFS_WARNING)
def test_pass_rate_pushes_the_kept_rows_as_open_r1_pushes_its_filtered_set(
    problems, tmp_path, openai_server, fake_hub, read_jsonl
):
    import io

    import pyarrow.parquet as pq

    # Two of three answers right for the first problem: pass rate 2/3, kept.
    openai_server.responder = lambda prompt, n: "\\boxed{1}" if n <= 2 else "\\boxed{9}"
    out = tmp_path / "rates.jsonl"
    argv = [
        "pass-rate",
        "--dataset",
        str(problems),
        "--prompt-column",
        "problem",
        "--output",
        str(out),
        "--base-url",
        openai_server.url,
        "--model",
        "policy",
        "--num-generations",
        "3",
        "--push-to-hub",
        "org/kept",
        "--private",
        "--no-progress",
    ]
    assert main(argv) == 0
    kept = read_jsonl(tmp_path / "rates.filtered.jsonl")
    repo = fake_hub.repo("org/kept", "dataset")
    assert repo["private"] is True
    (shard,) = [p for p in fake_hub.files("org/kept", "dataset") if p.endswith(".parquet")]
    pushed = pq.read_table(io.BytesIO(fake_hub.files("org/kept", "dataset")[shard])).to_pylist()
    assert sorted(r["id"] for r in pushed) == sorted(r["id"] for r in kept) == [0]


@pytest.mark.parametrize("name", ["config_demo.yaml", "filter_dapo.yaml", "filter_python.yaml"])
def test_every_filtering_recipe_of_the_repo_loads(name):
    from r1_data.filtering import load_pass_rate_recipe

    values = load_pass_rate_recipe(RECIPES / name)
    assert values["model"] and values["dataset"] and values["reward_funcs"]
    assert values["num_generations"] == 8 and "max_tokens" in values
    if name == "filter_python.yaml":
        assert values["reward_args"] == {"e2b_router_url": "ip-10-53-85-92:8000"}
    if name == "filter_dapo.yaml":
        # No dataset_prompt_column: open-r1's GRPOScriptArguments default, `prompt`.
        assert values["prompt_column"] == "prompt"
        assert "start" not in values


def test_an_unknown_recipe_key_is_an_error_listing_the_valid_ones(tmp_path, capsys):
    recipe = tmp_path / "bad.yaml"
    recipe.write_text("model_name_or_path: m\npass_rate_mni: 0.1\n")
    assert main(["pass-rate", "--config", str(recipe)]) == 2
    err = capsys.readouterr().err
    assert "unknown key 'pass_rate_mni'" in err and "pass_rate_min" in err


# ---------------------------------------------------------------------- distilabel


def test_distilabel_pipeline_takes_the_system_prompt_and_every_base_url():
    pytest.importorskip("distilabel", reason="the distilabel extra is not installed")
    from r1_data.distilabel_pipeline import build_distilabel_pipeline

    rows = [{"problem": f"p{i}"} for i in range(5)]
    pipeline = build_distilabel_pipeline(
        model="teacher",
        base_url=["http://127.0.0.1:1/v1", "http://127.0.0.1:2/v1"],
        prompt_column="problem",
        system_prompt="Think first.",
        rows=rows,
    )
    steps = [pipeline.dag.get_step(name)["step"] for name in pipeline.dag]
    tasks = [s for s in steps if type(s).__name__ == "TextGeneration"]
    loaders = [s for s in steps if type(s).__name__ == "LoadDataFromDicts"]
    assert sorted(t.llm.base_url for t in tasks) == [
        "http://127.0.0.1:1/v1",
        "http://127.0.0.1:2/v1",
    ]
    assert {t.system_prompt for t in tasks} == {"Think first."}
    # Every row goes to exactly one server.
    shares = [[r["problem"] for r in loader.data] for loader in loaders]
    assert sorted(p for share in shares for p in share) == [f"p{i}" for i in range(5)]
    assert all(shares)


@pytest.mark.slow
def test_distilabel_engine_sends_the_system_prompt_to_every_server(
    tmp_path, openai_server, write_jsonl, read_jsonl
):
    pytest.importorskip("distilabel", reason="the distilabel extra is not installed")
    import subprocess
    import sys

    data = write_jsonl(tmp_path / "p.jsonl", [{"problem": f"p{i}"} for i in range(4)])
    out = tmp_path / "d.jsonl"
    # One server under two names: the Host header tells which base URL a request used.
    second = openai_server.url.replace("127.0.0.1", "localhost")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "r1_data.cli",
            "generate",
            "--engine",
            "distilabel",
            "--dataset",
            str(data),
            "--prompt-column",
            "problem",
            "--output",
            str(out),
            "--base-url",
            openai_server.url,
            "--base-url",
            second,
            "--model",
            "teacher",
            "--system-prompt",
            "Think first.",
        ],
        capture_output=True,
        text=True,
        timeout=240,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert sorted(r["problem"] for r in read_jsonl(out)) == ["p0", "p1", "p2", "p3"]
    assert {b["messages"][0]["content"] for b in openai_server.bodies} == {"Think first."}
    assert {h.split(":")[0] for h in openai_server.hosts} == {"127.0.0.1", "localhost"}
