"""The Piston client against fake Piston servers on 127.0.0.1 (the HTTP boundary).

The fake servers are real aiohttp servers that answer Piston API v2's /execute in
Piston's JSON shape; everything above HTTP (endpoint tokens, retries, backoff, benching,
verdicts) is the real client.
"""

from __future__ import annotations

import asyncio
import socket

import pytest
from aiohttp import web

from r1_sandbox import Job, Status
from r1_sandbox.errors import BackendConfigError
from r1_sandbox.piston import PistonSandbox


def piston_app(stats: dict, *, fail_first: int = 0, failure: str = "429", delay: float = 0.02):
    """A fake Piston: echoes stdin upper-cased; the first `fail_first` calls fail."""

    async def execute(request: web.Request) -> web.Response:
        body = await request.json()
        stats["calls"] = stats.get("calls", 0) + 1
        stats["in_flight"] = stats.get("in_flight", 0) + 1
        stats["max_in_flight"] = max(stats.get("max_in_flight", 0), stats["in_flight"])
        stats.setdefault("bodies", []).append(body)
        try:
            await asyncio.sleep(delay)
            if stats["calls"] <= fail_first:
                if failure == "overloaded":
                    run = {
                        "stdout": "",
                        "stderr": "fork: Resource temporarily unavailable",
                        "code": 1,
                    }
                    return web.json_response({"run": run})
                return web.json_response({"message": "busy"}, status=int(failure))
            run = {
                "stdout": body["stdin"].upper(),
                "stderr": "",
                "code": 0,
                "signal": None,
                "output": "",
                "wall_time": 12,
                "memory": 8 << 20,
            }
            return web.json_response(
                {"language": body["language"], "version": "3.12.0", "run": run}
            )
        finally:
            stats["in_flight"] -= 1

    app = web.Application()
    app.router.add_post("/api/v2/execute", execute)
    return app


def _dead_endpoint() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/api/v2"  # nothing listens there any more


def test_sends_pistons_payload_and_reads_its_answer(serve):
    stats: dict = {}
    with serve(piston_app(stats)) as url:
        box = PistonSandbox([f"{url}/api/v2"])
        result = box.run_sync("print(input())", "python", stdin="hello", timeout=3, memory_mb=256)
    assert result.status is Status.OK and result.stdout == "HELLO"
    assert result.time_s == pytest.approx(0.012) and result.memory_mb == 8
    (body,) = stats["bodies"]
    assert body["language"] == "python" and body["version"] == "*"
    assert body["files"] == [{"name": "main.py", "content": "print(input())"}]
    assert body["run_timeout"] == 3000 and body["run_memory_limit"] == 256 << 20


def test_spreads_load_and_bounds_each_endpoint(serve):
    a: dict = {}
    b: dict = {}
    with serve(piston_app(a, delay=0.05)) as url_a, serve(piston_app(b, delay=0.05)) as url_b:
        box = PistonSandbox(f"{url_a}/api/v2,{url_b}/api/v2", per_endpoint=2)
        jobs = [Job("x", "python", stdin=f"job {i}") for i in range(24)]
        results = box.run_batch_sync(jobs)
    assert [r.stdout for r in results] == [f"JOB {i}" for i in range(24)]
    assert a["calls"] + b["calls"] == 24
    assert a["calls"] >= 4 and b["calls"] >= 4  # both endpoints took work
    assert a["max_in_flight"] <= 2 and b["max_in_flight"] <= 2


@pytest.mark.parametrize("failure", ["429", "503", "overloaded"])
def test_retries_transient_failures_with_backoff(serve, failure):
    stats: dict = {}
    with serve(piston_app(stats, fail_first=2, failure=failure)) as url:
        box = PistonSandbox([f"{url}/api/v2"], max_retries=3, backoff_s=0.01)
        result = box.run_sync("x", stdin="ok")
    assert result.status is Status.OK and result.stdout == "OK"
    assert stats["calls"] == 3


def test_a_dead_endpoint_is_routed_around(serve):
    stats: dict = {}
    with serve(piston_app(stats)) as url:
        box = PistonSandbox([_dead_endpoint(), f"{url}/api/v2"], max_retries=4, backoff_s=0.01)
        results = box.run_batch_sync([Job("x", stdin=str(i)) for i in range(6)])
    assert [r.status for r in results] == [Status.OK] * 6
    assert stats["calls"] == 6


def test_all_endpoints_dead_is_a_system_error_with_the_cause():
    box = PistonSandbox([_dead_endpoint()], max_retries=2, backoff_s=0.01)
    result = box.run_sync("print(1)")
    assert result.status is Status.SE
    assert "gave up after 3 attempts" in result.message
    assert "127.0.0.1" in result.message


def test_a_refused_job_is_not_retried(serve):
    async def refuse(request: web.Request) -> web.Response:
        stats["calls"] = stats.get("calls", 0) + 1
        return web.json_response({"message": "runtime is unknown"}, status=400)

    stats: dict = {}
    app = web.Application()
    app.router.add_post("/api/v2/execute", refuse)
    with serve(app) as url:
        result = PistonSandbox([f"{url}/api/v2"], backoff_s=0.01).run_sync("x")
    assert result.status is Status.SE and "runtime is unknown" in result.message
    assert stats["calls"] == 1


def test_endpoints_from_the_environment(monkeypatch):
    monkeypatch.setenv("PISTON_ENDPOINTS", "http://a:2000/api/v2/, http://b:2000/api/v2")
    assert PistonSandbox().endpoints == ["http://a:2000/api/v2", "http://b:2000/api/v2"]
    monkeypatch.delenv("PISTON_ENDPOINTS")
    with pytest.raises(BackendConfigError, match="PISTON_ENDPOINTS"):
        PistonSandbox()


JOB = Job("x", timeout=2, memory_mb=64)


@pytest.mark.parametrize(
    ("answer", "status"),
    [
        ({"run": {"stdout": "1\n", "stderr": "", "code": 0, "signal": None}}, Status.OK),
        ({"compile": {"stdout": "", "stderr": "error: x", "code": 1}, "run": {}}, Status.CE),
        (
            {
                "run": {
                    "stdout": "",
                    "stderr": "",
                    "code": None,
                    "signal": "SIGKILL",
                    "status": "TO",
                }
            },
            Status.TLE,
        ),
        # Older Piston has no status: a SIGKILL at the time limit is a timeout.
        (
            {
                "run": {
                    "stdout": "",
                    "stderr": "",
                    "code": None,
                    "signal": "SIGKILL",
                    "wall_time": 2100,
                }
            },
            Status.TLE,
        ),
        (
            {
                "run": {
                    "stdout": "x",
                    "stderr": "",
                    "code": None,
                    "signal": "SIGKILL",
                    "status": "OL",
                }
            },
            Status.OLE,
        ),
        ({"run": {"stdout": "", "stderr": "MemoryError", "code": 1, "signal": None}}, Status.MLE),
        ({"run": {"stdout": "", "stderr": "boom", "code": 1, "signal": None}}, Status.RE),
        ({"run": {"stdout": "", "stderr": "", "code": None, "signal": "SIGSEGV"}}, Status.RE),
        (
            {
                "run": {
                    "stdout": "",
                    "stderr": "",
                    "code": None,
                    "signal": None,
                    "status": "XX",
                    "message": "isolate failed",
                }
            },
            Status.SE,
        ),
    ],
)
def test_verdicts_from_pistons_answer(answer, status):
    box = PistonSandbox(["http://unused/api/v2"])
    assert box.to_result(answer, JOB).status is status
