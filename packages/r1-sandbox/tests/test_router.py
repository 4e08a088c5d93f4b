"""The router on 127.0.0.1: open-r1's protocol, r1's endpoint, validation, load, shutdown."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import aiohttp
import pytest

from r1_sandbox import LocalSandbox, Status
from r1_sandbox.router import make_app


def post(url: str, body: object, raw: bytes | None = None) -> tuple[int, object, dict[str, str]]:
    data = raw if raw is not None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=120) as resp:
            return resp.status, json.loads(resp.read()), dict(resp.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null"), dict(exc.headers)


@pytest.fixture(scope="module")
def router(sandbox, serve):
    with serve(make_app(sandbox, max_queue=256)) as url:
        yield url


def test_health(router):
    with urllib.request.urlopen(f"{router}/health", timeout=10) as resp:
        body = json.loads(resp.read())
    assert body["status"] == "ok"
    assert body["backend"] == "local"


def _as_e2b_execution(item):
    """Read an item the way open-r1's RoutedSandbox does, with E2B's own model classes."""
    models = pytest.importorskip("e2b_code_interpreter.models")
    ex = item["execution"]
    if ex is None:
        return models.Execution()
    return models.Execution(
        results=[models.Result(**r) for r in ex["results"]],
        logs=ex["logs"],
        error=models.ExecutionError(**ex["error"]) if ex["error"] else None,
        execution_count=ex["execution_count"],
    )


# open-r1's code_reward builds a script like this one: run the program on each test
# case, and leave the pass rate as the value of the last expression.
EVALUATION_SCRIPT = """
import subprocess, json

def evaluate(code, cases):
    passed = 0
    for case in cases:
        p = subprocess.run(["python3", "-c", code], input=case["input"], text=True, capture_output=True, timeout=5)
        passed += p.returncode == 0 and p.stdout.strip() == case["output"].strip()
    return passed / len(cases)

evaluate("print(int(input()) * 2)", json.loads('[{"input": "1", "output": "2"}, {"input": "3", "output": "7"}]'))
"""


def test_execute_batch_speaks_open_r1s_protocol(router):
    scripts = [
        "print('hi')\n1 + 1",
        EVALUATION_SCRIPT,
        "raise SystemExit(3)",
        "print('no value')",
        "def broken(:\n",
    ]
    status, items, _ = post(
        f"{router}/execute_batch",
        {"scripts": scripts, "languages": ["python"] * 5, "timeout": 20, "request_timeout": 28},
    )
    assert status == 200 and len(items) == 5
    execs = [_as_e2b_execution(i) for i in items]
    # E2B's Execution.text is the value of the last expression, what open-r1 parses.
    assert execs[0].text == "2"
    assert execs[0].logs["stdout"] == ["hi\n"]
    assert float(execs[1].text) == 0.5
    assert execs[2].error is not None and execs[2].error.name == "RE"
    assert execs[3].text is None and execs[3].logs["stdout"] == ["no value\n"]
    assert execs[4].error is not None and "SyntaxError" in execs[4].error.traceback
    # The Morph router's flavour: `text` (what RoutedMorphSandbox reads).
    assert items[1]["text"] == "0.5" and items[3]["text"] == "no value\n"
    # r1's own verdict rides along.
    assert [i["r1"]["status"] for i in items] == ["OK", "OK", "RE", "OK", "RE"]


def test_r1_endpoint_runs_jobs_with_stdin_and_compiles(router):
    cpp = "#include <iostream>\nint main(){int x;std::cin>>x;std::cout<<x*x<<std::endl;}"
    jobs = [{"code": cpp, "language": "cpp", "stdin": f"{i}\n"} for i in range(5)]
    jobs.append({"code": "import time; time.sleep(30)", "language": "python", "timeout": 1})
    status, body, _ = post(f"{router}/v1/run_batch", {"jobs": jobs})
    assert status == 200
    results = body["results"]
    assert [r["stdout"] for r in results[:5]] == [f"{i * i}\n" for i in range(5)]
    assert results[5]["status"] == "TLE"


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/execute_batch", None, "not JSON"),
        ("/execute_batch", [1, 2], "JSON object"),
        ("/execute_batch", {"scripts": "print(1)"}, "scripts"),
        ("/execute_batch", {"scripts": ["1"], "languages": ["python", "python"]}, "languages"),
        ("/execute_batch", {"scripts": ["1"], "timeout": -1}, "timeout"),
        ("/execute_batch", {"scripts": ["1"], "timeout": "soon"}, "timeout"),
        ("/execute_batch", {"scripts": ["1"], "languages": ["cobol"]}, "cobol"),
        ("/v1/run_batch", {"jobs": [{"language": "python"}]}, "jobs[0].code"),
        ("/v1/run_batch", {"jobs": [{"code": "1", "timeout": 0}]}, "jobs[0].timeout=0"),
        ("/v1/run_batch", {"jobs": [{"code": "1", "language": "cobol"}]}, "cobol"),
        ("/v1/run_batch", {"scripts": []}, "jobs"),
    ],
)
def test_malformed_requests_get_a_400_naming_the_field(router, path, body, field):
    raw = b"{not json" if body is None else None
    status, answer, _ = post(f"{router}{path}", body, raw=raw)
    assert status == 400
    assert field in answer["error"]


def test_saturated_router_refuses_with_503_and_retry_after(sandbox, serve):
    with serve(make_app(sandbox, max_queue=2)) as url:
        status, answer, headers = post(f"{url}/execute_batch", {"scripts": ["1", "2", "3"]})
        assert status == 503
        assert headers.get("Retry-After") == "1"
        assert "saturated" in answer["error"]
        # A batch within the bound is served.
        assert post(f"{url}/execute_batch", {"scripts": ["1", "2"]})[0] == 200


@pytest.mark.slow
def test_load_500_requests_at_concurrency_64(serve):
    """Nothing lost, nothing duplicated, everything answered, on a real router."""
    n, concurrency = 500, 64
    box = LocalSandbox(concurrency=8)

    async def client(url: str) -> list[str]:
        sem = asyncio.Semaphore(concurrency)
        async with aiohttp.ClientSession() as session:

            async def one(i: int) -> str:
                async with sem:
                    for _ in range(20):  # back off on 503 like a real client
                        async with session.post(
                            f"{url}/v1/run_batch",
                            json={"jobs": [{"code": f"echo request-{i}", "language": "bash"}]},
                        ) as resp:
                            if resp.status == 503:
                                await asyncio.sleep(0.2)
                                continue
                            assert resp.status == 200
                            (result,) = (await resp.json())["results"]
                            assert result["status"] == "OK", result
                            return result["stdout"].strip()
                    raise AssertionError("never admitted")

            return await asyncio.gather(*(one(i) for i in range(n)))

    try:
        with serve(make_app(box, max_queue=48)) as url:
            answers = asyncio.run(client(url))
            with urllib.request.urlopen(f"{url}/health", timeout=10) as resp:
                load = json.loads(resp.read())
    finally:
        box.close()
    assert answers == [f"request-{i}" for i in range(n)]
    assert load["admitted"] == 0 and load["done"] == n


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_cli_router_drains_in_flight_batches_on_sigterm(tmp_path: Path):
    port = _free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "r1_sandbox.cli",
            "router",
            "--port",
            str(port),
            "--max-concurrency",
            "2",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{url}/health", timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, (
                    proc.stderr.read() if proc.poll() else "no start"
                )
                time.sleep(0.1)

        async def slow_then_term() -> object:
            async with aiohttp.ClientSession() as session:
                request = asyncio.ensure_future(
                    session.post(
                        f"{url}/execute_batch",
                        json={
                            "scripts": ["import time; time.sleep(1.5); print('finished')"],
                            "timeout": 10,
                        },
                    )
                )
                await asyncio.sleep(0.7)
                os.kill(proc.pid, signal.SIGTERM)
                resp = await request
                return resp.status, await resp.json()

        status, items = asyncio.run(slow_then_term())
        assert status == 200
        assert items[0]["r1"]["status"] == Status.OK.value
        assert items[0]["r1"]["stdout"] == "finished\n"
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()


def test_piston_api_over_the_local_sandbox(router):
    """r1's own Piston client, pointed at the router, grades as against a Piston fleet."""
    from r1_sandbox import Job
    from r1_sandbox.piston import PistonSandbox

    box = PistonSandbox([f"{router}/api/v2"], per_endpoint=2)
    cpp = "#include <iostream>\nint main(){int x;std::cin>>x;std::cout<<x*3<<std::endl;}"
    results = box.run_batch_sync(
        [
            Job(cpp, "cpp", "4"),
            Job("int main( {", "cpp"),
            Job("print(input()[::-1])", "python", "abc"),
            Job("import time; time.sleep(30)", "python", timeout=1),
            Job("import os; os.kill(os.getpid(), 11)", "python"),
        ]
    )
    assert [r.status for r in results] == [Status.OK, Status.CE, Status.OK, Status.TLE, Status.RE]
    assert results[0].stdout == "12\n" and results[2].stdout == "cba\n"
    status, runtimes, _ = post(
        f"{router}/api/v2/execute", {"language": "cobol", "files": [{"content": "x"}]}
    )
    assert status == 400 and "cobol" in runtimes["message"]
    with urllib.request.urlopen(f"{router}/api/v2/runtimes", timeout=10) as resp:
        names = {r["language"] for r in json.loads(resp.read())}
    assert {"python", "c++", "c"} <= names
