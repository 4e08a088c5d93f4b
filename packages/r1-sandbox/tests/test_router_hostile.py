"""The router against hostile clients and hostile programs, on 127.0.0.1.

Clients: limits above the server's maximums, fields of the wrong type or unknown, no or a
wrong token, half-sent request heads and bodies from raw sockets, a client that hangs up
mid-batch. Programs: model code run by open-r1's evaluation script that tries to raise
its own score by reading the script's file or rewriting the script's memory.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from typing import Any

import pytest

from r1_sandbox import Job, LocalSandbox, RunResult, Sandbox
from r1_sandbox.result import Status
from r1_sandbox.router import ServerLimits, check_bind, make_app, open_r1_item


def post(
    url: str, body: object, raw: bytes | None = None, headers: dict[str, str] | None = None
) -> tuple[int, object]:
    data = raw if raw is not None else json.dumps(body).encode()
    req = urllib.request.Request(
        url, data=data, headers={"Content-Type": "application/json", **(headers or {})}
    )
    try:
        with urllib.request.urlopen(req, timeout=120) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


class Recording(Sandbox):
    """A backend that only counts what reaches it: nothing may, for a refused request."""

    name = "recording"

    def __init__(self) -> None:
        super().__init__(4)
        self.jobs: list[Job] = []

    async def _run_job(self, job: Job) -> RunResult:
        self.jobs.append(job)
        return RunResult(Status.OK, 0, "ran\n")


@pytest.fixture(scope="module")
def strict_router(serve):
    backend = Recording()
    limits = ServerLimits(max_timeout_s=20, max_memory_mb=1024, max_batch=8)
    with serve(make_app(backend, limits=limits, body_timeout=2.0)) as url:
        yield url, backend


JOB = {"code": "print(1)", "language": "python"}


@pytest.mark.parametrize(
    ("path", "body", "names"),
    [
        # Above the server's maximums: the field and the maximum are named.
        ("/v1/run_batch", {"jobs": [{**JOB, "timeout": 1e6}]}, ["jobs[0].timeout", "20"]),
        ("/v1/run_batch", {"jobs": [{**JOB, "memory_mb": 1 << 20}]}, ["memory_mb", "1024"]),
        ("/v1/run_batch", {"jobs": [JOB] * 9}, ["jobs", "8"]),
        ("/execute_batch", {"scripts": ["1"], "timeout": 1e6}, ["timeout", "20"]),
        ("/execute_batch", {"scripts": ["1"] * 9}, ["scripts", "8"]),
        (
            "/api/v2/execute",
            {"language": "python", "files": [{"content": "1"}], "run_timeout": 10**9},
            ["run_timeout", "20000"],
        ),
        (
            "/api/v2/execute",
            {"language": "python", "files": [{"content": "1"}], "run_memory_limit": 1 << 40},
            ["run_memory_limit", str(1024 << 20)],
        ),
        # Wrong types: each one used to start a run (and leak it) or crash the handler.
        ("/v1/run_batch", {"jobs": [{**JOB, "stdin": 5}]}, ["jobs[0].stdin"]),
        ("/v1/run_batch", {"jobs": [{**JOB, "files": ["a"]}]}, ["jobs[0].files"]),
        ("/v1/run_batch", {"jobs": [{**JOB, "files": {"a": 5}}]}, ["jobs[0].files['a']"]),
        ("/v1/run_batch", {"jobs": [{**JOB, "memory_mb": 256.5}]}, ["jobs[0].memory_mb"]),
        ("/v1/run_batch", {"jobs": [{**JOB, "timeout": True}]}, ["jobs[0].timeout"]),
        ("/v1/run_batch", {"jobs": [{**JOB, "language": 5}]}, ["jobs[0].language"]),
        ("/v1/run_batch", {"jobs": [{"code": 5}]}, ["jobs[0].code"]),
        ("/v1/run_batch", {"jobs": [JOB, "print(2)"]}, ["jobs[1]"]),
        ("/execute_batch", {"scripts": [5]}, ["scripts[0]"]),
        ("/api/v2/execute", {"language": "python", "files": ["a"]}, ["files[0]"]),
        ("/api/v2/execute", {"language": "python", "files": [{"content": 5}]}, ["files[0]"]),
        (
            "/api/v2/execute",
            {"language": "python", "files": [{"content": "1"}], "stdin": 5},
            ["stdin"],
        ),
        (
            "/api/v2/execute",
            {"language": "python", "files": [{"content": "1"}], "run_memory_limit": 256.5},
            ["run_memory_limit"],
        ),
        # Unknown fields: a typo must not run with the default.
        ("/v1/run_batch", {"jobs": [{**JOB, "memroy_mb": 64}]}, ["jobs[0].memroy_mb", "unknown"]),
        ("/v1/run_batch", {"jobs": [JOB], "priority": 1}, ["priority", "unknown"]),
        ("/execute_batch", {"scripts": ["1"], "stdin": "x"}, ["stdin", "unknown"]),
        (
            "/api/v2/execute",
            {"language": "python", "files": [{"content": "1"}], "run_tiemout": 1},
            ["run_tiemout", "unknown"],
        ),
    ],
)
def test_a_bad_request_is_a_400_naming_the_field_and_runs_nothing(strict_router, path, body, names):
    url, backend = strict_router
    before = len(backend.jobs)
    status, answer = post(f"{url}{path}", body)
    assert status == 400, answer
    message = answer.get("error") or answer.get("message")
    for name in names:
        assert name in message, message
    assert len(backend.jobs) == before  # nothing started, so nothing can leak


def test_jobs_within_the_maximums_are_served(strict_router):
    url, _ = strict_router
    status, body = post(f"{url}/v1/run_batch", {"jobs": [{**JOB, "timeout": 20}] * 8})
    assert status == 200 and len(body["results"]) == 8
    # open-r1's Morph router sends one `language` for the whole batch.
    status, items = post(
        f"{url}/execute_batch",
        {"scripts": ["1"], "language": "python", "timeout": 5, "request_timeout": 10},
    )
    assert status == 200 and items[0]["text"] == "ran\n"


def test_a_body_that_never_arrives_is_a_408(strict_router):
    url, _ = strict_router
    port = int(url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
        sock.sendall(
            b"POST /v1/run_batch HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 1000\r\n\r\n" + b'{"jobs": ['
        )
        answer = sock.recv(4096)
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]


def test_a_token_is_required_when_set(serve):
    with serve(make_app(Recording(), token="s3cret")) as url:
        body = {"jobs": [JOB]}
        assert post(f"{url}/v1/run_batch", body)[0] == 401
        assert post(f"{url}/v1/run_batch", body, headers={"Authorization": "Bearer nope"})[0] == 401
        assert post(f"{url}/api/v2/execute", {}, headers={"Authorization": "s3cret"})[0] == 401
        ok = post(f"{url}/v1/run_batch", body, headers={"Authorization": "Bearer s3cret"})
        assert ok[0] == 200


def test_no_token_on_a_public_address_is_refused():
    from r1_sandbox.errors import BackendConfigError

    check_bind("127.0.0.1", None, False)
    check_bind("::1", None, False)
    check_bind("0.0.0.0", "t", False)
    check_bind("0.0.0.0", None, True)
    with pytest.raises(BackendConfigError, match="token"):
        check_bind("0.0.0.0", None, False)
    proc = subprocess.run(
        [sys.executable, "-m", "r1_sandbox.cli", "router", "--host", "0.0.0.0"],
        capture_output=True,
        text=True,
        timeout=60,
        env={k: v for k, v in os.environ.items() if k != "R1_SANDBOX_TOKEN"},
    )
    assert proc.returncode == 2 and "--allow-no-token" in proc.stderr


# -- a real `r1-sandbox router` process ------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_healthy(url: str, proc: subprocess.Popen[str], headers: dict[str, str]) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            req = urllib.request.Request(f"{url}/health", headers=headers)
            urllib.request.urlopen(req, timeout=2).close()
            return
        except OSError:
            assert proc.poll() is None, proc.communicate()[1]
            assert time.monotonic() < deadline, "the router did not start"
            time.sleep(0.2)


@contextlib.contextmanager
def _router(
    args: Sequence[str], nofile: int | None = None
) -> Iterator[tuple[str, subprocess.Popen[bytes], Any]]:
    """A real `r1-sandbox router` process; yields its URL, the process and its stderr file."""
    port = _free_port()

    def limit_fds() -> None:
        if nofile is not None:
            resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))

    with tempfile.TemporaryFile("w+") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "r1_sandbox.cli", "router", "--port", str(port), *args],
            stdout=subprocess.DEVNULL,
            stderr=log,
            preexec_fn=limit_fds,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    urllib.request.urlopen(f"{url}/health", timeout=2).close()
                    break
                except OSError:
                    assert proc.poll() is None, "the router exited"
                    assert time.monotonic() < deadline, "the router did not start"
                    time.sleep(0.2)
            yield url, proc, log
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@pytest.mark.slow
def test_half_sent_requests_do_not_starve_an_honest_client():
    """250 raw sockets that never finish their request head, on a 256-descriptor server.

    The header timeout is set far beyond the client's patience, so the honest request
    gets through, and its job gets the descriptors it needs, only because the server
    keeps at most half its descriptor limit in connections and closes the oldest idle
    one for each new one (before: it waited in the backlog behind a full descriptor
    table, and 300k accept errors filled the log).
    """
    args = ["--header-timeout", "600", "--max-concurrency", "2"]
    with _router(args, nofile=256) as (url, _, log):
        port = int(url.rsplit(":", 1)[1])
        attackers = []
        try:
            for _ in range(250):
                s = socket.socket()
                s.settimeout(30)
                s.connect(("127.0.0.1", port))
                s.sendall(b"POST /v1/run_batch HTTP/1.1\r\nHost: x\r\nContent-Le")
                attackers.append(s)
            body = json.dumps({"jobs": [{"code": "echo honest", "language": "bash"}]}).encode()
            req = urllib.request.Request(
                f"{url}/v1/run_batch", data=body, headers={"Content-Type": "application/json"}
            )
            with urllib.request.urlopen(req, timeout=60) as resp:
                answer = json.loads(resp.read())
            assert answer["results"][0]["stdout"] == "honest\n"
        finally:
            for s in attackers:
                s.close()
        log.seek(0)
        text = log.read()
    # Accept errors, if the table filled at all, are a line per interval, not a flood.
    assert text.count("accept") <= 5, text[-2000:]
    assert "Traceback" not in text, text[-2000:]


@pytest.mark.slow
def test_beyond_max_connections_the_oldest_idle_connection_is_closed():
    with _router(["--header-timeout", "600", "--max-connections", "4"]) as (url, _, _log):
        port = int(url.rsplit(":", 1)[1])
        idle = [socket.create_connection(("127.0.0.1", port), timeout=60) for _ in range(4)]
        try:
            for s in idle:
                s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n")
            with urllib.request.urlopen(f"{url}/health", timeout=60) as resp:
                assert json.loads(resp.read())["status"] == "ok"
            # The oldest was closed to make room (a reset: its head was left unread).
            with contextlib.suppress(ConnectionResetError):
                assert idle[0].recv(1024) == b""
        finally:
            for s in idle:
                s.close()


@pytest.mark.slow
def test_a_request_head_that_never_ends_is_closed_at_the_header_timeout():
    with _router(["--header-timeout", "1"]) as (url, _, _log):
        port = int(url.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
            sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n")  # no blank line: never ends
            assert sock.recv(1024) == b""  # closed by the server, long before 60 s


def _processes_with(argv: list[str]) -> list[int]:
    needle = "\0".join(argv).encode()
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as fh:
                if fh.read().rstrip(b"\0") == needle:
                    found.append(int(pid))
        except OSError:
            continue
    return found


@pytest.mark.slow
def test_a_client_that_hangs_up_cancels_its_batch_and_its_processes_die():
    with _router(["--max-concurrency", "2"]) as (url, _, _log):
        port = int(url.rsplit(":", 1)[1])
        marker = ["sleep", "977.25"]
        code = f"import os\nos.execv('/bin/sleep', {marker!r})\n"
        body = json.dumps({"jobs": [{"code": code, "timeout": 55}] * 2}).encode()
        sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        sock.sendall(
            b"POST /v1/run_batch HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            + f"Content-Length: {len(body)}\r\n\r\n".encode()
            + body
        )
        deadline = time.monotonic() + 30
        while len(_processes_with(marker)) < 2:
            assert time.monotonic() < deadline, "the batch never started"
            time.sleep(0.1)
        sock.close()  # the client hangs up
        deadline = time.monotonic() + 30  # well under the jobs' own 55 s
        while _processes_with(marker):
            assert time.monotonic() < deadline, "the batch's processes outlived its client"
            time.sleep(0.1)
        # The processes die while the cancelled request is still unwinding; the counts
        # settle a moment later, when its admission is released.
        deadline = time.monotonic() + 30
        while True:
            with urllib.request.urlopen(f"{url}/health", timeout=10) as resp:
                load = json.loads(resp.read())
            if load["admitted"] == 0 or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert load["admitted"] == 0 and load["cancelled"] == 2


# -- open-r1's evaluation script and the model code it runs ---------------------------------

# open-r1's code_reward shape: the judge runs the model's code on each case and leaves
# the pass rate as the value of its last expression.
EVALUATION = """
import subprocess, json

def evaluate(code, cases):
    passed = 0
    for case in cases:
        p = subprocess.run(["python3", "-c", code], input=case["input"], text=True,
                           capture_output=True, timeout=20)
        passed += p.returncode == 0 and p.stdout.strip() == case["output"].strip()
    return passed / len(cases)

evaluate({code!r}, json.loads('[{{"input": "1", "output": "42424242"}}, {{"input": "2", "output": "57575757"}}]'))
"""

# A wrong program that rewrites the expected outputs in its parent's (the judge's) memory
# with its own answer, through /proc/<ppid>/mem, before printing that answer.
PATCH_PARENT_MEMORY = r"""
import os
ppid = os.getppid()
mem = os.open(f"/proc/{ppid}/mem", os.O_RDWR)
for line in open(f"/proc/{ppid}/maps"):
    span, perms = line.split()[:2]
    if not perms.startswith("rw"):
        continue
    lo, hi = (int(x, 16) for x in span.split("-"))
    try:
        data = os.pread(mem, hi - lo, lo)
    except OSError:
        continue
    for target in (b"4242" b"4242", b"5757" b"5757"):
        at = data.find(target)
        while at != -1:
            os.pwrite(mem, b"13131313", lo + at)
            at = data.find(target, at + 1)
print("13131313")
"""

# A wrong program that reads the expected outputs from the judge's script file.
READ_JUDGE_FILE = r"""
import glob, re
mine = input().strip()
for path in glob.glob("/sandbox/*.py") + glob.glob("/tmp/*.py"):
    text = open(path).read()
    for given, expected in re.findall(r'"input": "(\d+)", "output": "(\d+)"', text):
        if given == mine:
            print(expected)
            raise SystemExit(0)
print("no idea")
"""


def _score(router: str, model_code: str) -> float | None:
    status, items = post(
        f"{router}/execute_batch",
        {"scripts": [EVALUATION.format(code=model_code)], "languages": ["python"], "timeout": 30},
    )
    assert status == 200, items
    (item,) = items
    return None if item["text"] is None else float(item["text"])


@pytest.fixture(scope="module", params=[0, 2], ids=["cold", "warm"])
def router(request, serve):
    """The router over a local sandbox that starts Python cold (a main.py) or warm."""
    box = LocalSandbox(concurrency=2, warm_python=request.param)
    try:
        with serve(make_app(box)) as url:
            yield url
    finally:
        box.close()


def test_an_honest_program_still_scores_through_the_judge(router):
    honest = "x = int(input()); print(42424242 if x == 1 else 57575757)"
    assert _score(router, honest) == 1.0
    assert _score(router, "print(42424242)") == 0.5


@pytest.mark.parametrize(
    "attack", [PATCH_PARENT_MEMORY, READ_JUDGE_FILE], ids=["patch-memory", "read-file"]
)
def test_model_code_cannot_raise_the_score_its_judge_reports(router, attack):
    assert _score(router, attack) == 0.0


# -- what open-r1's RoutedMorphSandbox reads --------------------------------------------------


def test_a_script_that_raises_reports_exception_str_with_its_traceback(router):
    """open-r1's RoutedMorphSandbox reads exactly `text` and `exception_str` of each item."""
    status, items = post(
        f"{router}/execute_batch",
        {
            "scripts": ["print('partial')\nraise ValueError('boom')", "print(1.5)"],
            "languages": ["python", "python"],
            "timeout": 10,
            "request_timeout": 30,
        },
    )
    assert status == 200
    failed, fine = (
        type("obj", (object,), {"text": i.get("text"), "exception_str": i.get("exception_str")})
        for i in items
    )
    assert failed.exception_str is not None
    assert "Traceback" in failed.exception_str and "ValueError: boom" in failed.exception_str
    assert failed.text is None  # no value: open-r1 must not parse "partial" as a score
    assert fine.exception_str is None and fine.text == "1.5\n"


def test_open_r1_item_of_a_timeout_names_it():
    item = open_r1_item(RunResult(Status.TLE, -9, "", "", message="time limit 1s"), None)
    assert item["exception_str"].startswith("TLE: time limit 1s")
    assert item["execution"]["error"]["name"] == "TLE"


def test_the_routed_client_sends_its_token(serve, monkeypatch):
    from r1_sandbox.routed import RoutedSandbox

    monkeypatch.delenv("R1_SANDBOX_TOKEN", raising=False)
    with serve(make_app(Recording(), token="s3cret")) as url:
        with RoutedSandbox(url, token="s3cret", max_retries=0) as box:
            assert box.run_sync("print(1)").stdout == "ran\n"
        with RoutedSandbox(url, max_retries=0) as box:
            refused = box.run_sync("print(1)")
        assert refused.status is Status.SE and "401" in refused.message
        monkeypatch.setenv("R1_SANDBOX_TOKEN", "s3cret")
        with RoutedSandbox(url, max_retries=0) as box:
            assert box.run_sync("print(1)").ok


def test_the_judge_prelude_keeps_future_imports_first(router):
    scripts = [
        '"""doc"""\nfrom __future__ import annotations\nx: int = 20\nx + 1',
        '"""only a string"""',  # a cell's last value, as E2B reports it
        "import sys\nlen(sys.stdin.read())",  # the secret is not left for the script to read
    ]
    status, items = post(f"{router}/execute_batch", {"scripts": scripts, "timeout": 10})
    assert status == 200
    assert [i["text"] for i in items] == ["21", "'only a string'", "0"]
    assert all(i["exception_str"] is None for i in items)
