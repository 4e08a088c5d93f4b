"""SIGKILL the generator mid-run, run the same command again: nothing lost, nothing twice.

Where the kill lands is decided by the server, not by the clock: it answers a fixed number
of requests, then holds the rest unanswered, so each kill finds the generator with rows
written and requests in flight however loaded the machine is.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

N_ROWS = 300
N_GEN = 2


def _cli(prompts, out, url):
    return [
        sys.executable,
        "-m",
        "r1_data.cli",
        "generate",
        "--dataset",
        str(prompts),
        "--prompt-column",
        "problem",
        "--uuid-column",
        "id",
        "--output",
        str(out),
        "--base-url",
        url,
        "--model",
        "teacher",
        "--num-generations",
        str(N_GEN),
        "--max-concurrency",
        "8",
        "--backoff",
        "0.01",
        "--no-progress",
    ]


def _complete_lines(out) -> int:
    return out.read_bytes().count(b"\n") if out.exists() else 0


def _run_until(cmd, out, server, answered: int, lines: int, timeout: float = 300) -> None:
    """Start the generator; SIGKILL it once the server holds requests after `answered`
    more and `out` holds at least `lines` rows.

    Both waits end on a state the run must reach (the held server stops every further
    answer, so nothing races the kill); `timeout` only bounds a broken run.
    """
    server.hold_after(answered)
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + timeout
    try:
        while not (server.holding.is_set() and _complete_lines(out) >= lines):
            assert proc.poll() is None, proc.stderr.read().decode()[-2000:]
            assert time.monotonic() < deadline, "generator made no progress"
            time.sleep(0.05)  # how often to look, not how long anything may take
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(30)
        proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL


@pytest.mark.slow
def test_sigkill_then_resume_loses_and_duplicates_nothing(
    tmp_path, openai_server, write_jsonl, read_jsonl
):
    openai_server.faults = {"problem 1": ["500"], "problem 2": ["drop"]}
    prompts = write_jsonl(
        tmp_path / "p.jsonl", [{"id": i, "problem": f"problem {i}"} for i in range(N_ROWS)]
    )
    out = tmp_path / "traces.jsonl"
    cmd = _cli(prompts, out, openai_server.url)

    # 80 answers hold 8 requests (--max-concurrency) and leave >= (80 - 8 - 2) / 2 rows
    # whole: the two faults cost an answer each.
    _run_until(cmd, out, openai_server, answered=80, lines=20)
    after_first_kill = _complete_lines(out)
    _run_until(cmd, out, openai_server, answered=80, lines=after_first_kill + 20)
    after_second_kill = _complete_lines(out)
    openai_server.release()
    # A kill inside a write leaves a torn line; make sure there is one to repair.
    with open(out, "ab") as f:
        f.write(b'{"id": 99999, "problem": "torn", "generations": ["hal')

    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    rows = read_jsonl(out)  # every line parses: no torn line is left
    ids = [r["id"] for r in rows]
    lost = set(range(N_ROWS)) - set(ids)
    duplicated = len(ids) - len(set(ids))
    print(
        f"\nresume figures: rows={N_ROWS} after 1st kill={after_first_kill} "
        f"after 2nd kill={after_second_kill} final={len(ids)} lost={len(lost)} duplicates={duplicated}"
    )
    assert 0 < after_first_kill < after_second_kill < N_ROWS
    assert not lost and duplicated == 0 and len(ids) == N_ROWS
    assert all(len(r["generations"]) == N_GEN and all(r["generations"]) for r in rows)
    assert "cut" in done.stderr and "torn" in done.stderr
    assert (
        f"{N_ROWS - after_second_kill} rows generated, {after_second_kill} already done"
        in done.stdout
    )
