"""`r1-rewards score` on the example file shipped in the repository, and its errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from r1_rewards.cli import main

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "math_completions.jsonl"


def test_scores_the_shipped_example(tmp_path, capsys):
    out = tmp_path / "scored.jsonl"
    code = main(["score", str(EXAMPLE), "--reward", "accuracy,format,tag_count", "--out", str(out)])
    assert code == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    source = [json.loads(line) for line in EXAMPLE.read_text().splitlines()]
    assert len(rows) == len(source)
    first = rows[0]
    assert first["rewards"] == {
        "accuracy_reward": 1.0,
        "format_reward": 1.0,
        "tag_count_reward": 1.0,
    }
    # every original column is kept beside the rewards
    assert {k: v for k, v in first.items() if k != "rewards"} == source[0]
    # the chat-format row scores like its plain-text twin; the bad gold gives None
    chat = next(r for r in rows if isinstance(r["completion"], list))
    assert chat["rewards"] == first["rewards"]
    assert rows[-1]["rewards"]["accuracy_reward"] is None
    table = capsys.readouterr().out
    assert "accuracy_reward" in table and "tag_count_reward" in table
    assert f"{len(rows)} rows scored" in table


def test_settings_and_token_units(tmp_path):
    data = tmp_path / "d.jsonl"
    rows = [
        {"completion": "x", "completion_ids": [1] * 90},
        {"completion": "y", "completion_ids": [1] * 10},
    ]
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    argv = ["score", str(data), "--reward", "soft_overlong_punishment"]
    assert main([*argv, "--set", "max_completion_len=100", "--set", "soft_punish_cache=20"]) == 0
    scored = [
        json.loads(line) for line in data.with_suffix(".scored.jsonl").read_text().splitlines()
    ]
    assert [r["rewards"]["soft_overlong_punishment_reward"] for r in scored] == [-0.5, 0.0]


@pytest.mark.parametrize(
    ("content", "argv", "message"),
    [
        ('{"completion": "a"}\nnot json\n', [], ":2: not valid JSON"),
        ('{"text": "a"}\n', [], "no 'completion' column"),
        ("", [], "no rows"),
        ('{"completion": "a"}\n', ["--reward", "bleu"], "unknown reward name"),
        ('{"completion": "a"}\n', ["--reward", "accuracy"], "needs the dataset column 'solution'"),
        ('{"completion": "a"}\n', ["--set", "cosine_max_len=long"], "cosine_max_len='long'"),
        ('{"completion": "a"}\n', ["--set", "nonsense=1"], "unknown field"),
        # A misspelt boolean is an error, never False.
        ('{"completion": "a"}\n', ["--set", "enforce_same_language=ture"], "expected a boolean"),
        ('{"completion": "a"}\n', ["--set", "code_provider=docker"], "expected one of"),
    ],
)
def test_bad_input_is_a_clear_error(tmp_path, capsys, content, argv, message):
    data = tmp_path / "d.jsonl"
    data.write_text(content)
    assert main(["score", str(data), *argv]) == 2
    assert message in capsys.readouterr().err


def test_missing_file(capsys):
    assert main(["score", "/nonexistent.jsonl"]) == 2
    assert "no such file" in capsys.readouterr().err


def test_console_script_is_installed():
    out = subprocess.run(
        [sys.executable, "-m", "r1_rewards.cli", "score", "x", "--list"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.split() == [
        "accuracy",
        "format",
        "reasoning_steps",
        "cosine",
        "repetition_penalty",
        "length",
        "code",
        "binary_code",
        "ioi_code",
        "cf_code",
        "code_format",
        "tag_count",
        "soft_overlong_punishment",
    ]


def test_exit_codes_follow_the_convention(tmp_path, capsys, monkeypatch):
    from r1_rewards import cli
    from r1_rewards.errors import MathWorkerError

    data = tmp_path / "d.jsonl"
    data.write_text('{"completion": "a", "solution": "1"}\n')
    assert main(["score", str(data), "--reward", "format"]) == 0
    assert main(["score", str(data), "--set", "cosine_max_len=-3"]) == 2  # config

    def unavailable(args):
        raise MathWorkerError("math-verify worker processes exit at start-up")

    monkeypatch.setattr(cli, "score", unavailable)
    assert main(["score", str(data)]) == 3  # a required service
    assert "worker processes" in capsys.readouterr().err
