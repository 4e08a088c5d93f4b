"""The CLI without a model: help and list stay light, bad input fails fast and clearly."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import r1_eval
from r1_eval.cli import main


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "r1_eval.cli", *args], capture_output=True, text=True, timeout=120
    )


def test_help_and_list_never_import_lighteval_or_torch() -> None:
    code = (
        "import sys; from r1_eval.cli import main\n"
        "for argv in (['list'], ['run', '--help']):\n"
        "    try: main(argv)\n"
        "    except SystemExit: pass\n"
        "heavy = [m for m in ('lighteval', 'torch', 'transformers', 'litellm') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "--push-details-to-hub" in proc.stdout and "lcb:codegeneration_v4" in proc.stdout


def test_list_names_every_task_with_data_metric_and_defaults(capsys: pytest.CaptureFixture) -> None:
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for name in r1_eval.TASKS:
        assert f"\n{name}" in out
    assert "HuggingFaceH4/MATH-500" in out and "temperature 0.6" in out and "top_p 0.95" in out


def test_unknown_task_lists_the_valid_ones() -> None:
    proc = _run("run", "some/model", "--tasks", "math_500,aime26")
    assert proc.returncode == 2
    assert "unknown task 'aime26'" in proc.stderr
    for name in ("math_500", "aime24", "aime25", "gpqa:diamond", "lcb:codegeneration_v4"):
        assert name in proc.stderr


def test_missing_column_is_named_before_any_model_loads(tmp_path: Path) -> None:
    data = tmp_path / "aime.jsonl"
    data.write_text(json.dumps({"question": "1+1?", "answer": "2"}) + "\n")
    proc = _run(
        "run", "no/such-model", "--tasks", "aime24", "--dataset", f"aime24={data}",
        "--output-dir", str(tmp_path / "out"),
    )  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    assert "missing column(s) 'problem'" in proc.stderr and "found answer, question" in proc.stderr


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--backend", "endpoint"], "needs --base-url"),
        (["--n", "4", "--temperature", "0"], "greedy decoding gives n identical samples"),
        (["--dataset", "gpqa=x.jsonl"], "gpqa is not among --tasks"),
        (["--dataset", "nonsense"], "expected TASK=PATH_OR_HUB_ID"),
    ],
)
def test_bad_configuration_exits_2_with_the_fix(
    argv: list[str], message: str, capsys: pytest.CaptureFixture
) -> None:
    try:
        code = main(["run", "m", "--tasks", "math_500", *argv])
    except SystemExit as exit_:  # argparse's own usage errors
        code = exit_.code
    assert code == 2
    assert message in capsys.readouterr().err


def test_aliases_and_lighteval_spellings_resolve() -> None:
    assert r1_eval.resolve_task("lcb_v4").name == "lcb:codegeneration_v4"
    assert r1_eval.resolve_task("gpqa").name == "gpqa:diamond"
    assert r1_eval.resolve_task("lighteval|math_500|0|0").name == "math_500"
    config = r1_eval.EvalConfig(model="m", tasks="all")
    assert config.tasks == list(r1_eval.TASKS)


def test_public_api() -> None:
    assert r1_eval.__all__ == [
        "EvalConfig", "BACKENDS", "run_evaluation",
        "TASKS", "TaskSpec", "resolve_task", "valid_task_names",
        "pass_at_k", "pass_at_k_table", "mean_and_stderr",
        "EvalError", "ConfigError", "UnknownTaskError", "DatasetColumnError",
        "MissingExtraError", "EvalJobError", "ServiceUnavailableError",
    ]  # fmt: skip
