import json

import pytest
from problems import SUMPAIR_SUBMISSIONS, anypair_problem, sumpair_rows

from r1_cp_scoring.cli import main


@pytest.mark.slow
def test_ioi_command_prints_points(tmp_path, capsys):
    (tmp_path / "rows.json").write_text(json.dumps(sumpair_rows()))
    (tmp_path / "sol.cpp").write_text(SUMPAIR_SUBMISSIONS["crashing"][0])
    argv = ["ioi", "--subtasks", str(tmp_path / "rows.json"), "--code", str(tmp_path / "sol.cpp")]
    assert main([*argv, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["score"] == 70.0
    assert [s["status"] for s in out["subtasks"]] == ["AC", "AC", "RE", "AC"]


def test_codeforces_command_prints_the_score(tmp_path, capsys):
    (tmp_path / "p.json").write_text(json.dumps(anypair_problem()))
    (tmp_path / "sol.py").write_text("s = int(input())\nprint(0, s) if s != 7 else print(9)")
    argv = [
        "codeforces",
        "--problem",
        str(tmp_path / "p.json"),
        "--code",
        str(tmp_path / "sol.py"),
        "--language",
        "python",
        "--mode",
        "partial",
        "--json",
    ]
    assert main(argv) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["score"] == 0.75
    assert [t["passed"] for t in out["tests"]] == [True, True, True, False]


def test_bad_input_exits_2(tmp_path, capsys):
    assert main(["ioi", "--subtasks", str(tmp_path / "missing.json"), "--code", "x.cpp"]) == 2
    assert "missing.json" in capsys.readouterr().err
