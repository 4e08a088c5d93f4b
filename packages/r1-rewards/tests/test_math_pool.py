"""The math worker pool: hard timeouts, adversarial LaTeX, crashes, threads, clean exit."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from r1_rewards import accuracy_reward, math_scores
from r1_rewards._math_pool import MathPool, default_pool
from r1_rewards.verdicts import Reason

POW_TOWER = r"\boxed{9^{9^{9^9}}}"
DEEP_FRACTION = r"\boxed{" + r"\frac{1}{" * 400 + "2" + "}" * 400 + "}"
ONE_MEGABYTE = "<think>" + "word $x+1$ " * 100_000 + r"</think> so \boxed{3}"
UNCLOSED_BOXES = r"\boxed{" * 20_000


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    status = Path(f"/proc/{pid}/status")
    return not (status.exists() and "zombie" in status.read_text())


def _reasons(outcomes):
    return [reason for reason, _ in outcomes]


def _wait_until_gone(pids, within=30.0):
    deadline = time.monotonic() + within
    while any(_alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    return not any(_alive(p) for p in pids)


@pytest.mark.slow
def test_adversarial_inputs_score_zero_and_spare_the_batch():
    texts = [POW_TOWER, DEEP_FRACTION, ONE_MEGABYTE, UNCLOSED_BOXES, r"\boxed{3}", r"\boxed{4}"]
    assert len(ONE_MEGABYTE) > 1_000_000
    # A limit no ordinary item comes near even on a loaded machine: what is asserted is
    # that the adversarial items end (killed or given up) and the others are graded.
    scores = math_scores(texts, ["3"] * len(texts), timeout=10)
    # The megabyte completion does end on the right answer; the rest never parse to 3.
    assert scores == [0.0, 0.0, 1.0, 0.0, 1.0, 0.0]


@pytest.mark.slow
def test_a_stuck_item_is_killed_and_scores_zero():
    # A worker that never answers, made deterministic: the worker is stopped (SIGSTOP)
    # with a chunk in its pipe, so the kill cannot depend on how loaded the machine is.
    # The limit is generous, so ordinary items never come near it.
    pool = MathPool(workers=1)
    try:
        assert pool.run("accuracy", [(r"\boxed{3}", "3")], timeout=30) == [(Reason.CORRECT, "3")]
        (stuck,) = pool.pids()
        os.kill(stuck, signal.SIGSTOP)
        texts = [r"\boxed{1}", r"\boxed{2}", r"\boxed{3}", r"\boxed{5}", r"\boxed{6}"]
        outcomes = pool.run("accuracy", [(t, "3") for t in texts], timeout=10)
        # The first item of the stopped worker's chunk is the one killed; the rest of the
        # chunk and the batch are graded by its replacement.
        assert _reasons(outcomes) == [
            Reason.TIMED_OUT,
            Reason.WRONG,
            Reason.CORRECT,
            Reason.WRONG,
            Reason.WRONG,
        ]
        assert pool.killed == 1
        assert _wait_until_gone([stuck])
        (replacement,) = pool.pids()
        assert replacement != stuck and _alive(replacement)
        assert pool.run("accuracy", [(r"\boxed{3}", "3")], timeout=30) == [(Reason.CORRECT, "3")]
    finally:
        pool.close()


def test_a_real_hang_is_killed():
    # An alarm far above the hard limit: only the kill can end the power tower's verify.
    pool = MathPool(workers=1, alarm_s=120)
    try:
        (outcome,) = pool.run("accuracy", [(POW_TOWER, "3")], timeout=2)
        # Killed at the limit, or (on a machine where sympy gives up first) graded wrong:
        # never a hang, never credit.
        assert outcome[0] in (Reason.TIMED_OUT, Reason.WRONG)
        assert math_scores([POW_TOWER], ["3"], timeout=2) == [0.0]
    finally:
        pool.close()


def test_a_worker_killed_from_outside_is_replaced():
    pool = MathPool(workers=1)
    try:
        assert pool.run("accuracy", [(r"\boxed{2}", "2")], timeout=30) == [(Reason.CORRECT, "2")]
        (victim,) = pool.pids()
        os.kill(victim, signal.SIGKILL)
        # Wait for the death itself (not a fixed delay): a chunk sent to a worker still
        # dying would be lost with it, which is a different case.
        assert _wait_until_gone([victim])
        outcomes = pool.run("accuracy", [(r"\boxed{2}", "2"), (r"\boxed{1}", "2")], timeout=30)
        assert _reasons(outcomes) == [Reason.CORRECT, Reason.WRONG]
        assert pool.pids() != [victim]
    finally:
        pool.close()
    assert not _alive(victim)


def test_workers_are_fresh_interpreters_not_forks():
    pool = default_pool()
    math_scores([r"\boxed{1}"], ["1"])
    for pid in pool.pids():
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        # exec'd with `python -c <bootstrap>`: nothing of the caller (CUDA state,
        # locks held by other threads) is inherited, unlike a fork.
        assert argv[1] == b"-c"
        assert b"r1_rewards._math_worker" in argv[2]


def test_timeout_must_be_positive():
    with pytest.raises(ValueError, match="timeout=0"):
        math_scores(["x"], ["1"], timeout=0)
    with pytest.raises(ValueError, match="2 completions but 1 gold"):
        math_scores(["x", "y"], ["1"])


def test_an_empty_batch_starts_nothing():
    pool = MathPool(workers=1)
    assert pool.run("accuracy", [], timeout=30) == []
    assert pool.pids() == []


def _run_script(body: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(body)],
        stdout=subprocess.PIPE,
        text=True,
    )


def test_workers_end_with_the_interpreter():
    child = _run_script(
        """
        from r1_rewards import accuracy_reward
        from r1_rewards._math_pool import default_pool
        assert accuracy_reward(["\\\\boxed{2}"], ["2"]) == [1.0]
        print(*default_pool().pids(), flush=True)
        """
    )
    out, _ = child.communicate(timeout=120)
    assert child.returncode == 0
    pids = [int(p) for p in out.split()]
    assert pids
    assert _wait_until_gone(pids)


def test_workers_die_when_their_parent_is_killed():
    child = _run_script(
        """
        import time
        from r1_rewards import accuracy_reward
        from r1_rewards._math_pool import default_pool
        accuracy_reward(["\\\\boxed{2}"], ["2"])
        print(*default_pool().pids(), flush=True)
        time.sleep(120)
        """
    )
    assert child.stdout is not None
    pids = [int(p) for p in child.stdout.readline().split()]
    assert pids and all(_alive(p) for p in pids)
    child.kill()
    child.wait(timeout=10)
    child.stdout.close()
    assert _wait_until_gone(pids)


def test_many_threads_share_one_pool_safely():
    from concurrent.futures import ThreadPoolExecutor

    golds = [str(i) for i in range(30)]
    texts = [rf"\boxed{{{i if i % 3 else i + 1}}}" for i in range(30)]
    expected = [0.0 if i % 3 == 0 else 1.0 for i in range(30)]
    with ThreadPoolExecutor(max_workers=6) as threads:
        results = list(threads.map(lambda _: accuracy_reward(texts, golds), range(12)))
    assert all(r == expected for r in results)
