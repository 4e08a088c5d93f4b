"""code_reward / binary_code_reward on r1-sandbox: real programs, real sandboxes, real router."""

from __future__ import annotations

import asyncio
import json
import sys
import threading
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

pytest.importorskip("r1_sandbox", reason="needs r1-rewards[code]")

from aiohttp import web

from r1_rewards import binary_code_reward, code_reward, get_reward_funcs
from r1_rewards import code as code_module
from r1_rewards.errors import MissingExtraError, RewardInputError

DOUBLE = {
    "language": "python",
    "test_cases": [{"input": "1\n", "output": "2\n"}, {"input": "21\n", "output": "42\n"}],
}


def fenced(code: str, language: str = "python") -> str:
    return f"<think>easy</think>\n```{language}\n{code}\n```\n"


def test_scores_the_fraction_of_tests_passed(fmt):
    completions = fmt(
        [
            fenced("print(int(input()) * 2)"),  # both tests
            fenced("x = int(input())\nprint(2 if x == 1 else 0)"),  # first test only
            fenced("print('nope')"),  # none
            "no code block at all",  # nothing to run
        ]
    )
    assert code_reward(completions, verification_info=[DOUBLE] * 4) == [1.0, 0.5, 0.0, 0.0]
    assert binary_code_reward(completions, verification_info=[DOUBLE] * 4) == [1.0, 0.0, 0.0, 0.0]


def test_a_timeout_fails_that_test_only():
    # Loops forever on the second input: open-r1's script would raise and score 0.0.
    # The limit is a wall-clock deadline: 5 s (open-r1's) leaves the passing test room on
    # a loaded machine; the looping one reaches it whatever the load.
    code = "x = int(input())\nwhile x == 21: pass\nprint(x * 2)"
    assert code_reward([fenced(code)], verification_info=[DOUBLE], test_timeout=5) == [0.5]


@pytest.mark.parametrize(
    ("stdout_code", "score"),
    [
        ("print(1); print(2)", 1.0),
        ("print(1)", 0.0),  # a missing line fails (open-r1's zip would pass it)
        ("print(1); print(2); print(3)", 0.0),  # an extra line fails too
        ("print(' 1 '); print('2   ')", 1.0),  # surrounding whitespace is ignored
    ],
)
def test_outputs_are_compared_line_by_line_without_truncation(stdout_code, score):
    info = {"language": "python", "test_cases": [{"input": "", "output": "1\n2\n"}]}
    assert code_reward([fenced(stdout_code)], verification_info=[info]) == [score]


def test_runs_each_sample_in_its_own_language():
    cpp = "#include <iostream>\nint main(){int x;std::cin>>x;std::cout<<2*x<<std::endl;}"
    infos = [dict(DOUBLE, language="cpp"), DOUBLE]
    completions = [fenced(cpp, "cpp"), fenced("print(int(input()) * 2)")]
    assert code_reward(completions, verification_info=infos) == [1.0, 1.0]


@contextmanager
def router_on_localhost() -> Iterator[tuple[str, dict]]:
    from r1_sandbox import LocalSandbox
    from r1_sandbox.router import make_app

    box = LocalSandbox(concurrency=2)
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(make_app(box))
    ready = threading.Event()
    port: dict = {}

    async def start() -> None:
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port["n"] = site._server.sockets[0].getsockname()[1]
        ready.set()

    def run() -> None:
        loop.run_until_complete(start())
        loop.run_forever()
        loop.run_until_complete(runner.cleanup())
        loop.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert ready.wait(10)
    url = f"127.0.0.1:{port['n']}"
    try:
        yield url, port
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        box.close()


def _done(url: str) -> int:
    with urllib.request.urlopen(f"http://{url}/health", timeout=10) as resp:
        return json.loads(resp.read())["done"]


@pytest.mark.parametrize("provider", ["e2b", "morph"])
def test_router_urls_are_honoured(provider):
    with router_on_localhost() as (url, _):
        (reward,) = get_reward_funcs(
            reward_funcs=["code"], code_provider=provider, **{f"{provider}_router_url": url}
        )
        scores = reward([fenced("print(int(input()) * 2)")], verification_info=[DOUBLE])
        assert scores == [1.0]
        assert _done(url) == 2  # both test cases went through the router


@pytest.mark.slow
def test_a_sandbox_failure_scores_none_not_zero():
    # Nothing listens on port 9: the router stays unreachable through the client's retries
    # (about 15 s of backoff), so the sample is not graded: None, which TRL skips.
    scores = binary_code_reward(
        [fenced("print(int(input()) * 2)")],
        provider_type="morph",
        morph_router_url="127.0.0.1:9",
        verification_info=[DOUBLE],
    )
    assert scores == [None]


def test_a_bad_row_is_none_and_the_batch_goes_on(caplog):
    infos = ["not a dict", {"language": "python", "test_cases": ["1 -> 2"]}, DOUBLE]
    completions = [fenced("print(int(input()) * 2)")] * 3
    assert code_reward(completions, verification_info=infos) == [None, None, 1.0]
    assert "row 0 not graded (grader_error)" in caplog.text
    assert "row 1 not graded (grader_error)" in caplog.text


def test_unknown_language_or_no_tests_is_not_graded():
    infos = [dict(DOUBLE, language="cobol"), {"language": "python", "test_cases": []}]
    completions = [fenced("DISPLAY 'HI'", "cobol"), fenced("print(1)")]
    assert code_reward(completions, verification_info=infos) == [None, None]


def test_input_errors_name_the_problem():
    with pytest.raises(RewardInputError, match="verification_info"):
        code_reward([fenced("print(1)")])
    with pytest.raises(RewardInputError, match="enforce_same_language"):
        code_reward(
            [fenced("print(1)"), fenced("int main(){}", "cpp")],
            enforce_same_language=True,
            verification_info=[DOUBLE, dict(DOUBLE, language="cpp")],
        )
    with pytest.raises(RewardInputError, match="provider_type='docker'"):
        code_reward([fenced("print(1)")], provider_type="docker", verification_info=[DOUBLE])


def test_without_r1_sandbox_the_extra_is_named(monkeypatch):
    monkeypatch.setitem(sys.modules, "r1_sandbox", None)
    monkeypatch.setattr(code_module, "_CLIENTS", {})
    with pytest.raises(MissingExtraError, match=r'pip install "r1-rewards\[code\]"'):
        code_reward([fenced("print(1)")], verification_info=[DOUBLE])
