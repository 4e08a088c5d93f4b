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


@pytest.mark.slow
def test_piston_server_command_serves_the_packages(tmp_path):
    import socket
    import subprocess
    import sys
    import time
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "r1_cp_scoring.cli",
            "piston-server",
            "--port",
            str(port),
            "--header-timeout",
            "1",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        url = f"http://127.0.0.1:{port}/api/v2"
        for _ in range(100):
            try:
                with urllib.request.urlopen(f"{url}/runtimes", timeout=2) as r:
                    runtimes = json.load(r)
                break
            except OSError:
                time.sleep(0.1)
        else:
            raise AssertionError("the server did not start")
        assert "cms_ioi" in {r["language"] for r in runtimes}
        body = {
            "language": "c++17",
            "version": "*",
            "files": [
                {"name": "main.cpp", "content": '#include <cstdio>\nint main(){puts("2 3");}'},
                {"name": "input.txt", "content": "5\n"},
                {"name": "correct_output.txt", "content": "2 3\n"},
                {
                    "name": "grader_config",
                    "content": "TIME_LIMIT=1\nMEMORY_LIMIT=256\nINPUT_MODE=stdio",
                },
            ],
        }
        request = urllib.request.Request(
            f"{url}/execute",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=60) as r:
            answer = json.load(r)
        assert answer["compile"]["code"] == 0 and answer["run"]["stdout"].strip() == "1"
        # A request head that never ends is closed at the header timeout (raw socket).
        with socket.create_connection(("127.0.0.1", port), timeout=60) as raw:
            raw.sendall(b"POST /api/v2/execute HTTP/1.1\r\nHost: x\r\n")
            assert raw.recv(1024) == b""
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_a_broken_harness_exits_1(tmp_path, capsys):
    """The problem's own checker does not parse: the job failed (1), not bad usage (2)."""
    problem = dict(anypair_problem(), generated_checker="def broken(:\n")
    (tmp_path / "p.json").write_text(json.dumps(problem))
    (tmp_path / "sol.py").write_text("print(1, 1)")
    argv = ["codeforces", "--problem", str(tmp_path / "p.json"), "--code", str(tmp_path / "sol.py")]
    assert main([*argv, "--language", "python"]) == 1
    assert "harness" in capsys.readouterr().err


def test_piston_server_refuses_a_public_address_without_a_token(monkeypatch, capsys):
    monkeypatch.delenv("R1_PISTON_TOKEN", raising=False)
    assert main(["piston-server", "--host", "0.0.0.0"]) == 2
    assert "--allow-no-token" in capsys.readouterr().err
    assert main(["piston-server", "--max-timeout-s", "0"]) == 2
