"""The routed client against a real router on 127.0.0.1, and against open-r1-only routers."""

from __future__ import annotations

import json

import pytest
from aiohttp import web

from r1_sandbox import Job, Status
from r1_sandbox.backends import get_sandbox
from r1_sandbox.routed import RoutedSandbox
from r1_sandbox.router import make_app

CPP = "#include <iostream>\nint main(){int x;std::cin>>x;std::cout<<x+1<<std::endl;}"


def test_routed_batch_through_a_real_router(sandbox, serve):
    with serve(make_app(sandbox)) as url:
        box = RoutedSandbox(url.removeprefix("http://"), batch_size=3)  # open-r1's host:port form
        jobs = [Job(CPP, "cpp", str(i)) for i in range(4)] + [Job("print(input())", "python", "py")]
        results = box.run_batch_sync(jobs)
        one = box.run_sync("import sys; sys.exit(2)")
    assert [r.stdout for r in results] == ["1\n", "2\n", "3\n", "4\n", "py\n"]
    assert one.status is Status.RE and one.exit_code == 2


def test_falls_back_to_open_r1s_protocol_for_python(sandbox, serve):
    app = make_app(sandbox)
    only_open_r1 = web.Application()
    calls = []

    async def execute_batch(request: web.Request) -> web.StreamResponse:
        calls.append(await request.json())
        handler = next(r for r in app.router.routes() if r.resource.canonical == "/execute_batch")
        return await handler.handler(request)

    only_open_r1.router.add_post("/execute_batch", execute_batch)
    with serve(only_open_r1) as url:
        box = RoutedSandbox(url)
        results = box.run_batch_sync(
            [Job("print(input() * 2)", "python", "ab"), Job(CPP, "cpp", "1")]
        )
    assert results[0].status is Status.OK and results[0].stdout == "abab\n"
    assert results[1].status is Status.SE and "Python scripts only" in results[1].message
    assert calls[0]["languages"] == ["python"]


def test_retries_a_saturated_router(serve):
    attempts = []

    async def flaky(request: web.Request) -> web.Response:
        attempts.append(1)
        if len(attempts) < 3:
            return web.json_response({"error": "saturated"}, status=503)
        body = await request.json()
        results = [{"status": "OK", "stdout": j["stdin"]} for j in body["jobs"]]
        return web.json_response({"results": results})

    app = web.Application()
    app.router.add_post("/v1/run_batch", flaky)
    with serve(app) as url:
        result = RoutedSandbox(url, backoff_s=0.01).run_sync("x", stdin="through")
    assert result.status is Status.OK and result.stdout == "through"
    assert len(attempts) == 3


def test_unreachable_router_is_a_system_error():
    box = get_sandbox("routed", url="127.0.0.1:9", max_retries=1, backoff_s=0.01)
    result = box.run_sync("print(1)")
    assert result.status is Status.SE and "127.0.0.1:9" in result.message


def test_a_router_answering_garbage_is_a_system_error(serve):
    async def garbage(request: web.Request) -> web.Response:
        return web.Response(text=json.dumps({"results": []}), content_type="application/json")

    app = web.Application()
    app.router.add_post("/v1/run_batch", garbage)
    with serve(app) as url:
        results = RoutedSandbox(url).run_batch_sync([Job("1"), Job("2")])
    assert [r.status for r in results] == [Status.SE, Status.SE]


@pytest.mark.parametrize("name", ["local", "piston", "e2b", "morph", "routed"])
def test_every_backend_name_is_known(name):
    from r1_sandbox.backends import BACKENDS

    assert name in BACKENDS
