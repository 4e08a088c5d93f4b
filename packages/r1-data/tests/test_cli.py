"""The command lines: the contract flags, outputs, and one clear line for bad inputs."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from r1_data.cli import main

AIME = [
    "Find the number of ordered pairs of positive integers whose product is 2024.",
    "Let ABC be a triangle with sides 13, 14 and 15; find its area in square units.",
]


@pytest.fixture
def problems(tmp_path, write_jsonl):
    rows = [
        {
            "problem": "find the number of ordered pairs of positive integers whose product is 7",
            "solution": "1",
        },
        {"problem": "A clean problem about a circle of radius two units", "solution": "2"},
        {
            "problem": "let abc be a triangle with sides 13, 14 and 15; find the angles",
            "solution": "3",
        },
    ]
    return write_jsonl(tmp_path / "train.jsonl", rows)


@pytest.fixture
def benchmark(tmp_path, write_jsonl):
    return write_jsonl(tmp_path / "aime.jsonl", [{"question": q} for q in AIME])


def _error_lines(err: str) -> list[str]:
    return [line for line in err.splitlines() if "error" in line.lower()]


def test_decontaminate_flags_every_format(problems, benchmark, tmp_path, capsys, read_jsonl):
    import datasets

    spec = f"aime={benchmark}:question"
    for out in ("flags.jsonl", "flags.parquet", "flags_dir"):
        code = main(
            [
                "decontaminate",
                "--dataset",
                str(problems),
                "--problem-column",
                "problem",
                "--output",
                str(tmp_path / out),
                "--benchmark",
                spec,
                "--benchmark",
                f"copy={benchmark}:question",
                "--no-progress",
            ]
        )
        assert code == 0
        path = tmp_path / out
        if out.endswith(".jsonl"):
            rows = read_jsonl(path)
        elif out.endswith(".parquet"):
            rows = datasets.Dataset.from_parquet(str(path)).to_list()
        else:
            rows = datasets.load_from_disk(str(path)).to_list()
        assert [r["contaminated_aime"] for r in rows] == [True, False, True]
        assert [r["contaminated_copy"] for r in rows] == [True, False, True]
        assert [r["solution"] for r in rows] == ["1", "2", "3"]  # every input column kept
    assert "contaminated: aime=2, copy=2; kept 3" in capsys.readouterr().out


def test_decontaminate_cleanup_and_ngram_size(problems, benchmark, tmp_path, read_jsonl):
    out = tmp_path / "clean.jsonl"
    assert (
        main(
            [
                "decontaminate",
                "--dataset",
                str(problems),
                "--problem-column",
                "problem",
                "--output",
                str(out),
                "--benchmark",
                f"aime={benchmark}:question",
                "--cleanup",
                "--no-progress",
            ]
        )
        == 0
    )
    assert read_jsonl(out) == [
        {"problem": "A clean problem about a circle of radius two units", "solution": "2"}
    ]
    # With 20-grams nothing is long enough to match.
    assert (
        main(
            [
                "decontaminate",
                "--dataset",
                str(problems),
                "--problem-column",
                "problem",
                "--output",
                str(out),
                "--benchmark",
                f"aime={benchmark}:question",
                "--ngram-size",
                "20",
                "--cleanup",
                "--no-progress",
            ]
        )
        == 0
    )
    assert len(read_jsonl(out)) == 3


def test_decontaminate_without_benchmarks_offline_says_what_to_do(problems, tmp_path, capsys):
    code = main(
        [
            "decontaminate",
            "--dataset",
            str(problems),
            "--problem-column",
            "problem",
            "--output",
            str(tmp_path / "o.jsonl"),
            "--no-progress",
        ]
    )
    err = capsys.readouterr().err
    assert code == 2
    # Each default that failed is named, with the flag that skips it and the local way.
    assert "default benchmarks aime_2024, aime_2025, math_500, gpqa, lcb could not" in err
    assert "--skip-benchmark gpqa" in err and "--benchmark NAME=PATH_OR_ID" in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--problem-column", "question"], "no column 'question'; it has problem, solution"),
        (["--benchmark", "aime=/nonexistent/aime.jsonl"], "cannot read"),
        (["--benchmark", "aime={bench}:prompt"], "benchmark aime"),
        (["--benchmark", "no-equals-sign"], "expected NAME=PATH_OR_ID[:COLUMN]"),
    ],
)
def test_decontaminate_bad_inputs_give_one_error_line(
    problems, benchmark, tmp_path, capsys, argv, message
):
    base = [
        "decontaminate",
        "--dataset",
        str(problems),
        "--problem-column",
        "problem",
        "--output",
        str(tmp_path / "o.jsonl"),
        "--benchmark",
        f"aime={benchmark}:question",
    ]
    argv = [a.replace("{bench}", str(benchmark)) for a in argv]
    if argv[0] == "--problem-column":
        base[4] = argv[1]
    else:
        base[-2:] = argv
    assert main(base) == 2
    err = capsys.readouterr().err
    assert len(_error_lines(err)) == 1 and message in err and "Traceback" not in err


def test_generate_cli_and_its_exit_codes(problems, tmp_path, openai_server, capsys, read_jsonl):
    out = tmp_path / "traces.jsonl"
    argv = [
        "generate",
        "--dataset",
        str(problems),
        "--split",
        "train",
        "--prompt-column",
        "problem",
        "--output",
        str(out),
        "--base-url",
        openai_server.url,
        "--model",
        "teacher",
        "--num-generations",
        "2",
        "--max-concurrency",
        "4",
        "--temperature",
        "0.7",
        "--top-p",
        "0.9",
        "--max-tokens",
        "100",
        "--prompt-template",
        "Q: {prompt}",
        "--uuid-column",
        "solution",
        "--no-progress",
    ]
    assert main(argv) == 0
    assert "3 rows generated, 0 already done, 0 failed" in capsys.readouterr().out
    assert sorted(r["solution"] for r in read_jsonl(out)) == ["1", "2", "3"]
    assert main(argv) == 0
    assert "0 rows generated, 3 already done" in capsys.readouterr().out
    # A row that fails every retry: the job failed (exit status 1), and a request to rerun.
    openai_server.faults = {"circle": ["500"] * 10}
    out.unlink()
    assert main([*argv, "--max-retries", "1", "--backoff", "0"]) == 1
    assert "run the same command again" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("change", "message", "status"),
    [
        ({"--prompt-column": "question"}, "no column 'question'", 2),
        ({"--dataset": "/nonexistent/prompts.jsonl"}, "cannot read", 2),
        # A service that cannot be used is 3, not a usage error (r1's exit-code convention).
        ({"--base-url": "UNREACHABLE"}, "cannot reach any endpoint", 3),
        ({"--num-generations": "0"}, "num_generations=0", 2),
    ],
)
def test_generate_bad_inputs_give_one_error_line(
    problems, tmp_path, free_port_url, capsys, change, message, status
):
    flags = {
        "--dataset": str(problems),
        "--prompt-column": "problem",
        "--output": str(tmp_path / "o.jsonl"),
        "--base-url": free_port_url,
        "--model": "teacher",
    }
    flags.update(change)
    if flags["--base-url"] == "UNREACHABLE" or "--base-url" not in change:
        flags["--base-url"] = free_port_url
    argv = ["generate", "--no-progress"] + [x for kv in flags.items() for x in kv]
    assert main(argv) == status
    err = capsys.readouterr().err
    assert len(_error_lines(err)) == 1 and message in err and "Traceback" not in err


def test_mix_cli_saves_dataset_and_report(tmp_path, write_jsonl, capsys):
    import datasets

    a = write_jsonl(tmp_path / "a.jsonl", [{"prompt": f"a{i}", "solution": "x"} for i in range(10)])
    b = write_jsonl(
        tmp_path / "b.jsonl", [{"prompt": f"b{i}", "solution": "y", "extra": 1} for i in range(4)]
    )
    cfg = tmp_path / "mixture.yaml"
    cfg.write_text(
        "datasets:\n"
        f"  - id: {a}\n    columns: [prompt, solution]\n    weight: 0.5\n"
        f"  - id: {b}\n    columns: [prompt, solution]\n    weight: 2\n"
        "seed: 1\ntest_split_size: 0.25\n"
    )
    assert main(["mix", "--config", str(cfg), "--output", str(tmp_path / "mixed")]) == 0
    ds = datasets.load_from_disk(str(tmp_path / "mixed"))
    assert set(ds) == {"train", "test"} and len(ds["train"]) + len(ds["test"]) == 5 + 8
    report = json.loads((tmp_path / "mixed" / "mixture_report.json").read_text())
    assert [s["rows_used"] for s in report["sources"]] == [5, 8]
    assert "result: train=9, test=4" in capsys.readouterr().out


def test_mix_cli_bad_yaml_is_one_line(tmp_path, capsys):
    cfg = tmp_path / "m.yaml"
    cfg.write_text("datasets:\n  - id: x\n    wieght: 1\n")
    assert main(["mix", "--config", str(cfg), "--output", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert len(_error_lines(err)) == 1 and "unknown key(s) ['wieght']" in err


@pytest.mark.slow
def test_pass_rate_cli(tmp_path, write_jsonl, openai_server, read_jsonl, capsys):
    data = write_jsonl(
        tmp_path / "p.jsonl", [{"id": i, "problem": f"q{i}", "solution": "$4$"} for i in range(3)]
    )
    openai_server.responder = lambda prompt, n: "\\boxed{4}" if n % 2 else "\\boxed{5}"
    out = tmp_path / "rates.jsonl"
    code = main(
        [
            "pass-rate",
            "--dataset",
            str(data),
            "--prompt-column",
            "problem",
            "--output",
            str(out),
            "--base-url",
            openai_server.url,
            "--model",
            "policy",
            "--num-generations",
            "4",
            "--reward",
            "accuracy",
            "--reward-arg",
            "math_timeout=10",
            "--pass-rate-min",
            "0.2",
            "--pass-rate-max",
            "0.8",
            "--uuid-column",
            "id",
            "--no-progress",
        ]
    )
    assert code == 0
    assert [r["pass_rate"] for r in read_jsonl(out)] == [0.5, 0.5, 0.5]
    assert len(read_jsonl(tmp_path / "rates.filtered.jsonl")) == 3
    assert "3 of 3 rows kept" in capsys.readouterr().out
    assert (
        main(
            [
                "pass-rate",
                "--dataset",
                str(data),
                "--prompt-column",
                "problem",
                "--output",
                str(out),
                "--base-url",
                openai_server.url,
                "--model",
                "policy",
                "--reward-arg",
                "nope=1",
            ]
        )
        == 2
    )


def test_help_of_every_command_runs_and_names_the_contract_flags():
    for command, flags in {
        "generate": [
            "--dataset",
            "--split",
            "--prompt-column",
            "--output",
            "--base-url",
            "--model",
            "--num-generations",
            "--max-concurrency",
            "--temperature",
            "--top-p",
            "--max-tokens",
            "--prompt-template",
            "--uuid-column",
        ],
        "decontaminate": [
            "--dataset",
            "--problem-column",
            "--output",
            "--benchmark",
            "--ngram-size",
            "--cleanup",
        ],
        "pass-rate": ["--start", "--end", "--pass-rate-min", "--pass-rate-max", "--reward"],
        "mix": ["--config", "--output"],
    }.items():
        done = subprocess.run(
            [sys.executable, "-m", "r1_data.cli", command, "--help"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0
        for flag in flags:
            assert flag in done.stdout, (command, flag)
