"""The Piston-compatible server on loopback, driven by the Piston client; env and slurm lookup."""

import asyncio
import os
import stat

import aiohttp
import pytest
from aiohttp import web
from problems import SUMPAIR_SUBMISSIONS, anypair_problem, sumpair_rows

from r1_cp_scoring import (
    ConfigError,
    MorphCloudExecutionClient,
    PistonClient,
    PistonError,
    add_includes,
    get_piston_client_from_env,
    get_slurm_piston_endpoints,
    score_submission,
    score_subtasks,
    total_points,
)
from r1_cp_scoring.cms import judge_for
from r1_cp_scoring.piston_server import make_app


async def with_server(box, work):
    runner = web.AppRunner(make_app(box))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    try:
        return await work(f"http://127.0.0.1:{port}/api/v2")
    finally:
        await runner.cleanup()


@pytest.mark.slow
def test_open_r1_requests_are_graded_by_the_server(box):
    async def work(url):
        client = PistonClient([url], max_requests_per_endpoint=4)
        try:
            code = add_includes(SUMPAIR_SUBMISSIONS["overflow"][0] + "// via Piston", "sumpair")
            before = judge_for(box).compiles
            ioi = await score_subtasks(client, sumpair_rows(), code)
            # One request per test, as open-r1 sends them, but one compile for all of them.
            assert judge_for(box).compiles - before == 1
            bad = await score_subtasks(client, sumpair_rows()[:1], "int broken(")
            cf = await score_submission(
                client,
                anypair_problem(),
                "s=int(input())\nprint(s,0)",
                submission_language="python",
            )
            cf_ce = await score_submission(client, anypair_problem(), "int main(){x}")
            runtimes = await client.get_supported_runtimes()
            async with (
                aiohttp.ClientSession() as s,
                s.post(
                    f"{url}/execute",
                    json={
                        "language": "python",
                        "version": "*",
                        "files": [{"content": "print(6 * 7)"}],
                    },
                ) as r,
            ):
                plain = await r.json()
            return ioi, bad, cf, cf_ce, runtimes, plain
        finally:
            await client.aclose()

    ioi, bad, cf, cf_ce, runtimes, plain = asyncio.run(with_server(box, work))
    assert total_points(ioi) == 40.0
    assert [r.status for r in ioi] == ["AC", "AC", "AC", "WA"]
    assert bad[0].status == "CE" and "Compilation error" in bad[0].test_results[0].feedback
    assert cf == pytest.approx(1.1)
    assert cf_ce == -0.1
    assert {"cms_ioi", "codeforces"} <= {r["language"] for r in runtimes[0]}
    assert plain["run"]["stdout"] == "42\n"  # r1-sandbox's router still serves plain runs


def test_a_dead_fleet_raises_instead_of_scoring_zero():
    async def work():
        client = PistonClient(["http://127.0.0.1:9/api/v2"], base_delay=0.01)
        try:
            return await client.send_execute({"files": []}, max_retries=2)
        finally:
            await client.aclose()

    with pytest.raises(PistonError, match="after 3 attempts"):
        asyncio.run(work())


def test_endpoints_from_env(monkeypatch):
    monkeypatch.delenv("PISTON_ENDPOINTS", raising=False)
    with pytest.raises(ConfigError, match="PISTON_ENDPOINTS"):
        get_piston_client_from_env()
    monkeypatch.setenv("PISTON_ENDPOINTS", "http://a:1/api/v2,http://b:2/api/v2,http://c:3/api/v2")
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("LOCAL_RANK", "1")
    monkeypatch.setenv("PISTON_MAX_REQUESTS_PER_ENDPOINT", "3")
    client = get_piston_client_from_env()
    assert client.base_endpoints == ["http://b:2/api/v2"]  # rank 1 of 2 gets every second one
    assert client.max_requests_per_endpoint == 3


def test_slurm_lookup_reads_squeue(monkeypatch, tmp_path):
    squeue = tmp_path / "squeue"
    squeue.write_text(
        "#!/bin/sh\necho '\"piston-worker-2000\" node-1 RUNNING'\n"
        "echo 'train-job node-2 RUNNING'\necho 'piston-worker-2001 node-3 RUNNING'\n"
    )
    squeue.chmod(squeue.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    assert get_slurm_piston_endpoints() == [
        "http://node-1:2000/api/v2",
        "http://node-3:2001/api/v2",
    ]
    monkeypatch.setenv("PISTON_ENDPOINTS", "slurm")
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    assert sorted(get_piston_client_from_env().base_endpoints) == [
        "http://node-1:2000/api/v2",
        "http://node-3:2001/api/v2",
    ]


def test_morph_client_runs_the_judge_through_its_own_method(box):
    # The sandbox stands in for the Morph backend at its SDK edge: same Sandbox API.
    client = MorphCloudExecutionClient(sandbox=box)
    code = add_includes(SUMPAIR_SUBMISSIONS["accepted"][0], "sumpair")
    results = asyncio.run(score_subtasks(client, sumpair_rows()[:2], code))
    assert [r.status for r in results] == ["AC", "AC"]
