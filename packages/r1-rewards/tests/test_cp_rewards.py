"""ioi_code_reward / cf_code_reward on real problems through r1-cp-scoring's local graders."""

import sys
from pathlib import Path

import pytest

pytest.importorskip("r1_cp_scoring")
sys.path.insert(0, str(Path(__file__).parents[2] / "r1-cp-scoring" / "tests"))

from problems import SUMPAIR_SUBMISSIONS
from problems import anypair_problem as _anypair_problem
from problems import sumpair_rows as _sumpair_rows

from r1_rewards import (
    Outcome,
    Reason,
    cf_code_reward,
    cf_code_reward_details,
    get_reward_funcs,
    ioi_code_reward,
    record_outcomes,
)
from r1_rewards.errors import RewardInputError


def anypair_problem() -> dict:
    # A generous time limit: the sandbox's deadline is wall-clock, and these tests assert
    # verdicts, not speed, on a machine that may be loaded.
    return dict(_anypair_problem(), time_limit=10.0)


def sumpair_rows() -> list[dict]:
    return [dict(row, time_limit=10.0) for row in _sumpair_rows()]


def fenced(code: str, language: str) -> list[dict[str, str]]:
    return [{"role": "assistant", "content": f"Here:\n```{language}\n{code}\n```"}]


def columns(rows: list[dict]) -> dict[str, list]:
    return {key: [row[key] for row in rows] for key in rows[0]}


@pytest.mark.slow
def test_ioi_reward_is_the_subtask_minimum_per_row():
    rows = sumpair_rows()[1:]  # subtasks 1, 2, 3
    code = SUMPAIR_SUBMISSIONS["overflow"][0]  # wrong on subtask 3 only
    completions = [fenced(code, "cpp")] * len(rows) + [fenced("", "python")]
    rows = [*rows, rows[0]]  # the last completion has no C++ block: 0.0
    assert ioi_code_reward(completions, **columns(rows)) == [1.0, 1.0, 0.0, 0.0]


def test_cf_reward_uses_open_r1_values_per_language():
    problem = anypair_problem()
    py_ok = "s = int(input())\nprint(s, 0)"
    completions = [
        fenced(py_ok, "python"),
        fenced("int main(){return x;}", "cpp"),
        [{"role": "assistant", "content": "no code"}],
    ]
    rows = [
        dict(problem, language="python"),
        dict(problem, language="cpp"),
        dict(problem, language="python"),
    ]
    scores = cf_code_reward(completions, scoring_mode="weighted_sum", **columns(rows))
    assert scores == [pytest.approx(1.1), -0.1, -1.0]
    no_tests = dict(problem, official_tests=[], language="python")
    assert cf_code_reward([completions[0]], **columns([no_tests])) == [None]


def test_cf_reward_patches_code_when_asked():
    problem = dict(anypair_problem(), language="python")
    old_python = "from fractions import gcd\ns = int(input())\nprint(gcd(s, 0) * 0, s)"
    completions = [fenced(old_python, "python")]
    assert cf_code_reward(completions, scoring_mode="pass_fail", **columns([problem])) == [0.0]
    assert cf_code_reward(
        completions, patch_code=True, scoring_mode="pass_fail", **columns([problem])
    ) == [1.0]


def test_unknown_provider_is_named():
    with pytest.raises(RewardInputError, match="provider_type='docker'"):
        ioi_code_reward(
            [fenced("int x;", "cpp")], provider_type="docker", **columns(sumpair_rows()[:1])
        )


def test_piston_provider_without_endpoints_says_how_to_set_them(monkeypatch):
    from r1_cp_scoring import ConfigError

    monkeypatch.delenv("PISTON_ENDPOINTS", raising=False)
    with pytest.raises(ConfigError, match="PISTON_ENDPOINTS"):
        cf_code_reward(
            [fenced("print(1)", "python")],
            provider_type="piston",
            **columns([dict(anypair_problem(), language="python")]),
        )


@pytest.fixture
def piston_url(monkeypatch):
    """r1's Piston-compatible server on loopback, in a thread (the rewards are sync code)."""
    import asyncio
    import threading

    from aiohttp import web

    from r1_cp_scoring.piston_server import make_app
    from r1_rewards import code as code_module
    from r1_sandbox import LocalSandbox

    box = LocalSandbox()
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(make_app(box))
    loop.run_until_complete(runner.setup())
    site = web.TCPSite(runner, "127.0.0.1", 0)
    loop.run_until_complete(site.start())
    port = site._server.sockets[0].getsockname()[1]
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}/api/v2"
    monkeypatch.setenv("PISTON_ENDPOINTS", url)
    monkeypatch.setattr(code_module, "_CLIENTS", {})  # no client cached from another test
    yield url
    asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(30)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(30)
    loop.close()
    box.close()


@pytest.mark.slow
def test_piston_provider_grades_through_a_piston_endpoint(piston_url):
    problem = dict(anypair_problem(), language="python")
    completions = [fenced("s = int(input())\nprint(s, 0)", "python")]
    assert cf_code_reward(completions, provider_type="piston", **columns([problem])) == [
        pytest.approx(1.1)
    ]
    rows = sumpair_rows()[1:3]
    code = SUMPAIR_SUBMISSIONS["crashing"][0]  # crashes on negatives: subtask 2 only
    scores = ioi_code_reward([fenced(code, "cpp")] * 2, provider_type="piston", **columns(rows))
    assert scores == [1.0, 0.0]


PY_OK = "s = int(input())\nprint(s, 0)"


def test_cf_reward_without_a_language_is_none_not_minus_one():
    # open-r1's grader rejects a row without a language (its reward is None); scoring it
    # as "no code" (-1.0) would punish the model for the data set.
    problem = anypair_problem()  # no `language` column at all
    assert cf_code_reward([fenced(PY_OK, "python")], **columns([problem])) == [None]
    rows = [dict(problem, language=None), dict(problem, language="python")]
    completions = [fenced(PY_OK, "python")] * 2
    assert cf_code_reward(completions, **columns(rows)) == [None, pytest.approx(1.1)]
    verdicts = cf_code_reward_details(completions, **columns(rows))
    assert [v.reason for v in verdicts] == [Reason.NO_LANGUAGE, Reason.TESTS_RUN]


def test_a_row_the_grader_fails_on_is_none_and_the_batch_goes_on(caplog):
    good = dict(anypair_problem(), language="python")
    rows = [
        dict(good, generated_checker="def broken(:\n"),  # HarnessError in the grader
        dict(good, language="java"),  # ConfigError: not a Codeforces language here
        good,
    ]
    completions = [fenced(PY_OK, "python"), fenced(PY_OK, "java"), fenced(PY_OK, "python")]
    with record_outcomes() as counts:
        scores = cf_code_reward(completions, **columns(rows))
    assert scores == [None, None, pytest.approx(1.1)]
    assert counts[("cf_code_reward", Outcome.UNGRADED)] == 2
    assert counts[("cf_code_reward", Outcome.GRADED)] == 1
    log = caplog.text
    assert "row 0 not graded (grader_error): HarnessError" in log
    assert "row 1 not graded (unsupported_language)" in log


def test_an_ioi_row_the_grader_fails_on_is_none():
    rows = sumpair_rows()[1:3]
    broken = dict(rows[0], test_cases={})  # tests named but missing: HarnessError
    code = SUMPAIR_SUBMISSIONS["overflow"][0]
    scores = ioi_code_reward([fenced(code, "cpp")] * 2, **columns([broken, rows[1]]))
    assert scores == [None, 1.0]


def test_cf_code_gets_its_provider_through_get_reward_funcs(monkeypatch):
    (default,) = get_reward_funcs(reward_funcs=["cf_code"])
    assert default.keywords["provider_type"] == "local"
    # The provider reaches the grader: Piston without endpoints is the Piston error,
    # where before the row was graded on the local sandbox whatever the config said.
    from r1_cp_scoring import ConfigError
    from r1_rewards import code as code_module

    monkeypatch.delenv("PISTON_ENDPOINTS", raising=False)
    monkeypatch.setattr(code_module, "_CLIENTS", {})
    (cf,) = get_reward_funcs(reward_funcs=["cf_code"], cf_provider="piston")
    assert cf.keywords["provider_type"] == "piston"
    problem = dict(anypair_problem(), language="python")
    with pytest.raises(ConfigError, match="PISTON_ENDPOINTS"):
        cf(completions=[fenced(PY_OK, "python")], **columns([problem]))


@pytest.fixture
def router_url(monkeypatch):
    """`r1-sandbox router` over a local sandbox on loopback (stands in for Morph)."""
    import asyncio
    import threading

    from aiohttp import web

    from r1_rewards import code as code_module
    from r1_sandbox import LocalSandbox
    from r1_sandbox.router import make_app

    box = LocalSandbox(concurrency=2)
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(make_app(box))
    loop.run_until_complete(runner.setup())
    site = web.TCPSite(runner, "127.0.0.1", 0)
    loop.run_until_complete(site.start())
    port = site._server.sockets[0].getsockname()[1]
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    monkeypatch.setattr(code_module, "_CLIENTS", {})
    yield f"127.0.0.1:{port}"
    asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(30)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(30)
    loop.close()
    box.close()


@pytest.mark.slow
def test_cf_reward_on_morph_grades_through_the_morph_backend(router_url):
    # provider "morph" used to build open-r1's IOI client, which the Codeforces grader
    # rejects (ConfigError); now it is r1-sandbox's Morph backend, here behind a router.
    problem = dict(anypair_problem(), language="python")
    (cf,) = get_reward_funcs(
        reward_funcs=["cf_code"], cf_provider="morph", morph_router_url=router_url
    )
    for _ in range(2):  # the backend outlives a call (one event loop per call)
        scores = cf(completions=[fenced(PY_OK, "python")], **columns([problem]))
        assert scores == [pytest.approx(1.1)]


@pytest.mark.slow
def test_code_ioi_and_cf_rewards_share_one_sandbox_and_one_bound(monkeypatch):
    # parallel_code_exec_per_proc (num_parallel) must bound the code, IOI and Codeforces
    # rewards together: before, the graders ran on a sandbox of their own whose bound
    # was the CPU count, and each event loop had its own semaphore.
    import threading

    from r1_rewards import code_reward
    from r1_sandbox import shared_sandbox

    box = shared_sandbox("local", concurrency=2)
    lock = threading.Lock()
    seen = {"in_flight": 0, "peak": 0, "by": set()}
    # Every run of the local backend, plain or with built programs bound in, executes here
    # with a concurrency slot held.
    original = box._execute

    async def counted(job, *args, **kwargs):
        with lock:
            seen["in_flight"] += 1
            seen["peak"] = max(seen["peak"], seen["in_flight"])
            seen["by"].add(threading.current_thread().name.split("-")[0])
        try:
            return await original(job, *args, **kwargs)
        finally:
            with lock:
                seen["in_flight"] -= 1

    monkeypatch.setattr(box, "_execute", counted)
    problem = dict(anypair_problem(), language="python")
    info = {"language": "python", "test_cases": [{"input": "1", "output": "1"}] * 4}
    scores: dict[str, list] = {}

    def code() -> None:
        scores["code"] = code_reward(
            [fenced("print(input())", "python")] * 2, num_parallel=2, verification_info=[info] * 2
        )

    def ioi() -> None:
        rows = sumpair_rows()[1:3]
        scores["ioi"] = ioi_code_reward(
            [fenced(SUMPAIR_SUBMISSIONS["overflow"][0], "cpp")] * 2,
            test_batch_size=-1,
            num_parallel=2,
            **columns(rows),
        )

    def cf() -> None:
        scores["cf"] = cf_code_reward(
            [fenced("s = int(input())\nprint(s, 0)", "python")],
            num_parallel=2,
            test_batch_size=-1,
            **columns([problem]),
        )

    threads = [threading.Thread(target=f, name=f"{f.__name__}-reward") for f in (code, ioi, cf)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(600)
    assert scores == {"code": [1.0, 1.0], "ioi": [1.0, 1.0], "cf": [pytest.approx(1.1)]}
    assert seen["by"] >= {"code", "ioi", "cf"}  # all three ran on the one shared sandbox
    assert seen["peak"] <= 2
