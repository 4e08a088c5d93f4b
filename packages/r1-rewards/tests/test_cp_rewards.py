"""ioi_code_reward / cf_code_reward on real problems through r1-cp-scoring's local graders."""

import sys
from pathlib import Path

import pytest

pytest.importorskip("r1_cp_scoring")
sys.path.insert(0, str(Path(__file__).parents[2] / "r1-cp-scoring" / "tests"))

from problems import SUMPAIR_SUBMISSIONS, anypair_problem, sumpair_rows

from r1_rewards import cf_code_reward, ioi_code_reward
from r1_rewards.errors import RewardInputError


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
    monkeypatch.setattr(code_module, "_SANDBOXES", {})  # no client cached from another test
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
