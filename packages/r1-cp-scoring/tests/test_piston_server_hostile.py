"""The Piston-compatible server against hostile clients: the packages' own limits and fields.

The `cms_ioi` and `codeforces` packages carry limits of their own (the task's
`grader_config.json`, `TIME_LIMIT=` / `MEMORY_LIMIT=` lines); each is held to the same
server-side maximums as a plain Piston run, checked before anything is compiled.
"""

from __future__ import annotations

import asyncio
import json

import aiohttp
import pytest
from aiohttp import web
from problems import anypair_problem, sumpair_rows

from r1_cp_scoring.cms import judge_for
from r1_cp_scoring.codeforces import codeforces_request
from r1_cp_scoring.ioi import cms_ioi_request
from r1_cp_scoring.piston_server import make_app
from r1_sandbox.server_limits import ServerLimits


async def _post_all(box, bodies, headers=None, token=None):
    limits = ServerLimits(max_timeout_s=20, max_memory_mb=1024)
    runner = web.AppRunner(make_app(box, limits=limits, token=token))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        async with aiohttp.ClientSession() as session:
            answers = []
            for body in bodies:
                async with session.post(
                    f"http://127.0.0.1:{port}/api/v2/execute", json=body, headers=headers or {}
                ) as resp:
                    answers.append((resp.status, await resp.json(content_type=None)))
            return answers
    finally:
        await runner.cleanup()


def _ioi(**changes):
    row = dict(sumpair_rows()[0], **changes.pop("row", {}))
    body = cms_ioi_request(row, "int main(){}", "1 2\n", "3\n")
    body.update(changes)
    return {**body, "language": "cms_ioi", "version": "*"}


def _ioi_with_config(config):
    body = _ioi()
    body["files"].append({"name": "graders/grader_config.json", "content": json.dumps(config)})
    return body


def _cf(config_line=None, **changes):
    body, language = codeforces_request(
        anypair_problem(), "print(1)", "python", {"input": "1\n", "output": "1 0\n"}
    )
    if config_line is not None:
        for f in body["files"]:
            if f["name"] == "grader_config":
                f["content"] = config_line
    body.update(changes)
    return {**body, "language": language, "version": "*"}


BAD = [
    (_ioi(run_timeout=10**9), ["run_timeout", "20"]),
    (_ioi(run_memory_limit=1 << 40), ["run_memory_limit", "1024"]),
    (_ioi(run_memory_limit=256.5), ["run_memory_limit"]),
    (_ioi(run_timeout="soon"), ["run_timeout"]),
    (_ioi_with_config({"time_limit": 1e6}), ["time_limit", "20"]),
    (_ioi_with_config({"memory_limit": 1 << 45}), ["memory_limit", "1024"]),
    (_ioi(priority=1), ["priority", "unknown"]),
    ({**_ioi(), "files": [{"name": "graders/sumpair.cpp", "content": 5}]}, ["files[0]"]),
    (_cf("TIME_LIMIT=1000000\nMEMORY_LIMIT=256\nINPUT_MODE=stdio"), ["TIME_LIMIT", "20"]),
    (_cf("TIME_LIMIT=1\nMEMORY_LIMIT=1048576\nINPUT_MODE=stdio"), ["MEMORY_LIMIT", "1024"]),
    (_cf("TIME_LIMIT=nan\nMEMORY_LIMIT=256\nINPUT_MODE=stdio"), ["TIME_LIMIT"]),
    (_cf("TIME_LIMIT=1\nMEMORY_LIMIT=lots\nINPUT_MODE=stdio"), ["MEMORY_LIMIT"]),
    (_cf("TIME_LIMIT=1\nMEMORY_LIMIT=256\nINPUT_MODE=socket"), ["INPUT_MODE"]),
    (_cf("TIME_LIMIT=1\nNICE=-20"), ["NICE", "unknown"]),
]


def test_package_requests_above_the_maximums_or_malformed_get_a_400(box):
    before = judge_for(box).compiles
    answers = asyncio.run(_post_all(box, [body for body, _ in BAD]))
    for (status, answer), (_, names) in zip(answers, BAD, strict=True):
        assert status == 400, answer
        for name in names:
            assert name in answer["message"], answer["message"]
    assert judge_for(box).compiles == before  # refused before anything was compiled


@pytest.mark.slow
def test_package_requests_need_the_token_when_set(box):
    body = _cf("TIME_LIMIT=1\nMEMORY_LIMIT=256\nINPUT_MODE=stdio")
    (refused,) = asyncio.run(_post_all(box, [body], token="t0k"))
    assert refused[0] == 401
    (served,) = asyncio.run(
        _post_all(box, [body], headers={"Authorization": "Bearer t0k"}, token="t0k")
    )
    assert served[0] == 200 and served[1]["run"]["stdout"] == "0\n"  # "1" is not a pair


def test_the_piston_client_sends_its_token(box, monkeypatch):
    from r1_cp_scoring import PistonClient, PistonError, get_piston_client_from_env

    async def work():
        runner = web.AppRunner(make_app(box, token="t0k"))
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}/api/v2"  # type: ignore[union-attr]
        try:
            monkeypatch.setenv("PISTON_ENDPOINTS", url)
            monkeypatch.setenv("R1_PISTON_TOKEN", "t0k")
            with_token = get_piston_client_from_env()
            without = PistonClient(url, base_delay=0.01)
            try:
                runtimes = await with_token.get_supported_runtimes()
                with pytest.raises(PistonError, match="401"):
                    await without.send_execute({"files": [{"content": "1"}]}, "python", 0)
                return runtimes
            finally:
                await with_token.aclose()
                await without.aclose()
        finally:
            await runner.cleanup()

    (listed,) = asyncio.run(work())
    assert {"cms_ioi", "codeforces"} <= {r["language"] for r in listed}


def test_a_cancelled_request_does_not_fail_the_others_sharing_its_compile(box):
    """A client hanging up mid-compile cancels its own request, not its neighbours'."""
    from r1_cp_scoring import add_includes
    from r1_cp_scoring.cms import CMSJudge, IOITask

    judge = CMSJudge(box)
    task = IOITask.from_row(sumpair_rows()[0])
    code = add_includes("long long total(std::vector<int> v){return v.size();}", "sumpair")

    async def two_clients():
        first = asyncio.create_task(judge.compile_submission(task, code))
        await asyncio.sleep(0)  # the first owns the compile
        second = asyncio.create_task(judge.compile_submission(task, code))
        await asyncio.sleep(0)  # the second waits on it
        first.cancel()
        with pytest.raises(asyncio.CancelledError):
            await first
        return await second

    built = asyncio.run(two_clients())
    assert type(built).__name__ == "Artifact" and built.ok
    assert judge.compiles == 2  # the second started the compile again
