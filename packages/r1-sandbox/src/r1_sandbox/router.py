"""`r1-sandbox router`: one HTTP service in front of a backend, speaking open-r1's protocol.

open-r1 runs `scripts/e2b_router.py` / `morph_router.py` (FastAPI) so that every GPU
process of a training job shares one pool of hosted sandboxes. This is the same service
over any r1 backend, local included, so open-r1's `RoutedSandbox` / `RoutedMorphSandbox`
clients work against it unchanged:

- `GET /health` -> `{"status": "ok", ...}` with the load;
- `POST /execute_batch` with `{scripts, languages, timeout, request_timeout}` -> one item
  per script: `execution` in E2B's JSON shape (`results[].text` is the value of the last
  expression, as E2B's Jupyter kernel reports it; `logs.stdout/stderr`; `error`), the
  Morph router's `text` and `exception_str` (a sandbox failure, or the traceback of a
  script that raised), and r1's own verdict under `r1`;
- `POST /v1/run_batch` with `{jobs: [{code, language, stdin, files, timeout,
  memory_mb}]}` -> `{results: [...]}`: r1's richer endpoint (stdin, files, limits,
  verdicts; programs shared by several jobs are compiled once);
- `POST /api/v2/execute` and `GET /api/v2/runtimes`: Piston API v2, so graders written
  for a Piston fleet (open-r1's IOI / Codeforces clients, r1's `piston` backend) run on
  any machine with `r1-sandbox router` in front of the local sandbox.

The server distrusts its clients (a trainer's reward function is one bug away from
sending garbage, and a router on a shared network is reachable by anyone):

- every limit has a server-side maximum (`ServerLimits`); a request above one is a 400
  that names the field and the maximum, never a silent clamp (a clamp would grade a
  program under limits its caller did not ask for);
- every field is validated, types included, before anything starts; an unknown field is
  a 400 naming it (a typo such as `memroy_mb` would otherwise run with the default);
- an optional bearer token (`Authorization: Bearer ...`), compared in constant time;
  `serve` refuses a non-loopback address without one unless told `allow_no_token`;
- header and body read timeouts: a connection that has not sent a whole request head
  within `header_timeout` is closed, and a body that does not arrive within
  `body_timeout` is a 408, so half-sent requests cannot hold sockets forever;
- at most `max_connections` connections are kept (default: half the open-file limit, so
  the sandboxes always have descriptors); a new one beyond closes the oldest idle one;
- a client that hangs up cancels its batch, and the backend kills the batch's processes;
- accept errors (EMFILE) close idle connections and are logged once per interval, not
  once per retry.

The queue is bounded: a batch that would take the number of admitted jobs past
`max_queue` is refused with 503 and `Retry-After` (clients back off and retry) instead of
growing memory without limit. On SIGINT / SIGTERM the server stops accepting, lets
in-flight batches finish (`shutdown_timeout`) and then closes the backend.

Judge-side code out of reach (the `/execute_batch` path): open-r1's evaluation script is
the judge and runs the model's code as its child, in the same sandbox and uid. The
script is therefore made non-dumpable before it runs (`prctl(PR_SET_DUMPABLE, 0)`: no
`/proc/<pid>/mem`, `/proc/<pid>/fd`, ptrace or `process_vm_*` for a same-uid process
without CAP_SYS_PTRACE, which the sandbox never has), its file is unlinked once loaded (as
in E2B, where a cell has no file), and the value of its last expression is reported
behind a per-request secret that arrives on stdin, never in a file or argv the child can
read. Any sandboxed process can write to the run's stdout (through `/proc/1/fd/1`), so
the secret, not the stream, is what makes the value the script's.

Data flow: trainers' reward functions -> HTTP batch -> token, header/body timeouts ->
strict parsing against the maximums -> admission (bounded) -> backend `run_batch`
(cancelled if the client leaves) -> JSON results in request order.
"""

from __future__ import annotations

import ast
import asyncio
import hmac
import ipaddress
import json
import logging
import math
import os
import resource
import secrets
import signal
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from aiohttp import web

from r1_sandbox.base import Sandbox
from r1_sandbox.errors import BackendConfigError, SandboxError
from r1_sandbox.languages import LANGUAGES, get_language
from r1_sandbox.result import Job, RunResult, Status
from r1_sandbox.server_limits import BadRequest, ServerLimits, check_fields

logger = logging.getLogger(__name__)

#: The environment variable `r1-sandbox router` reads its token from.
TOKEN_ENV = "R1_SANDBOX_TOKEN"

_BACKEND = web.AppKey("backend", Sandbox)
_LOAD = web.AppKey("load", dict)
_LIMITS = web.AppKey("limits", object)
_BODY_TIMEOUT = web.AppKey("body_timeout", float)


# -- open-r1's /execute_batch ----------------------------------------------------------

# Runs first in every /execute_batch script (after `from __future__` imports). Names are
# dunder-wrapped so that a script cannot collide with them by accident.
_PRELUDE = """
import ctypes as __r1_ctypes__, os as __r1_os__, sys as __r1_sys__
# PR_SET_DUMPABLE = 4: the model code this script starts cannot read or write its memory.
__r1_ctypes__.CDLL(None).prctl(4, 0, 0, 0, 0)
__r1_marker__ = __r1_sys__.stdin.readline().strip()
try:
    __r1_os__.unlink(__file__)
except (NameError, OSError):
    pass
del __r1_ctypes__, __r1_os__, __r1_sys__
"""


def with_last_value(script: str) -> str:
    """`script` behind the judge's prelude, also printing the value of its last expression.

    E2B's kernel reports the value of a cell's last expression as `results[0].text`, and
    open-r1's code_reward reads its score from there (the script ends with a call). The
    value is printed after the secret marker the prelude reads from stdin. A script that
    does not parse is returned as is: Python reports its SyntaxError.
    """
    try:
        tree = ast.parse(script)
    except SyntaxError:
        return script
    at = 0
    while at < len(tree.body):
        node = tree.body[at]
        docstring = at == 0 and isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
        future = isinstance(node, ast.ImportFrom) and node.module == "__future__"
        if not (docstring or future) or (docstring and len(tree.body) == 1):
            break
        at += 1
    prelude = ast.parse(_PRELUDE).body
    if tree.body and isinstance(tree.body[-1], ast.Expr) and len(tree.body) > at:
        last = tree.body[-1]
        assign = ast.Assign(targets=[ast.Name("__r1_value__", ast.Store())], value=last.value)
        report = ast.parse(
            "if __r1_value__ is not None:\n"
            "    print('\\n' + __r1_marker__ + repr(__r1_value__), flush=True)"
        ).body
        tree.body[-1:] = [assign, *report]
    tree.body[at:at] = prelude
    return ast.unparse(ast.fix_missing_locations(tree))


def open_r1_item(result: RunResult, marker: str | None) -> dict[str, Any]:
    """One result in the shape open-r1's routed clients read (E2B and Morph flavours).

    A script that failed (raised, timed out, ran out of memory) has `exception_str` set to
    its status and traceback, which is where open-r1's `RoutedMorphSandbox` looks, and
    `text` None (there is no value), as E2B reports a cell that raised.
    """
    stdout, value = result.stdout, None
    if marker and f"\n{marker}" in stdout:
        stdout, _, value = stdout.rpartition(f"\n{marker}")
        value = value.split("\n", 1)[0]
    if result.status is Status.SE:
        return {
            "execution": None,
            "exception_str": result.message,
            "text": None,
            "r1": result.to_dict(),
        }
    error = None
    exception_str = None
    if result.status is not Status.OK:
        traceback = result.stderr or result.message
        error = {"name": result.status.value, "value": result.message, "traceback": traceback}
        exception_str = f"{result.status.value}: {result.message}\n{traceback}".rstrip("\n")
    execution = {
        "results": [{"text": value, "is_main_result": True}] if value is not None else [],
        "logs": {
            "stdout": [stdout] if stdout else [],
            "stderr": [result.stderr] if result.stderr else [],
        },
        "error": error,
        "execution_count": 1,
    }
    if value is not None:
        text = value
    elif result.status is Status.OK:
        text = stdout
    else:
        text = None
    return {
        "execution": execution,
        "exception_str": exception_str,
        "text": text,
        "r1": {**result.to_dict(), "stdout": stdout},
    }


_OPEN_R1_FIELDS = frozenset({"scripts", "languages", "language", "timeout", "request_timeout"})


def parse_open_r1(body: Any, limits: ServerLimits) -> tuple[list[Job], list[str | None]]:
    """open-r1's `/execute_batch` body as jobs, and the secret marker of each Python job."""
    if not isinstance(body, Mapping):
        raise BadRequest("body must be a JSON object with scripts, languages, timeout")
    check_fields("", body, _OPEN_R1_FIELDS)
    scripts = limits.check_batch("scripts", body.get("scripts"))
    for i, s in enumerate(scripts):
        limits.check_text(f"scripts[{i}]", s, limits.max_code_bytes)
    languages = body.get("languages")
    if languages is None:
        # open-r1's Morph router takes one `language` for the whole batch.
        one = body.get("language", "python")
        if not isinstance(one, str):
            raise BadRequest(f"language={one!r}: must be a string")
        languages = [one] * len(scripts)
    if (
        not isinstance(languages, list)
        or len(languages) != len(scripts)
        or not all(isinstance(x, str) for x in languages)
    ):
        raise BadRequest(f"languages: must be a list of {len(scripts)} strings, one per script")
    timeout = limits.check_timeout("timeout", body.get("timeout", 30))
    if "request_timeout" in body:
        rt = body["request_timeout"]
        if isinstance(rt, bool) or not isinstance(rt, int | float) or not rt > 0:
            raise BadRequest(f"request_timeout={rt!r}: must be a number of seconds > 0")
    jobs, markers = [], []
    for script, language in zip(scripts, languages, strict=True):
        try:
            lang = get_language(language)
        except SandboxError as exc:
            raise BadRequest(str(exc)) from None
        marker, stdin = None, ""
        if lang.name == "python":
            marker = f"__r1_value_{secrets.token_hex(16)}__"
            script, stdin = with_last_value(script), marker + "\n"
        jobs.append(Job(script, lang.name, stdin, timeout=timeout))
        markers.append(marker)
    return jobs, markers


# -- Piston API v2 ----------------------------------------------------------------------

_PISTON_SIGNALS = {-9: "SIGKILL", -11: "SIGSEGV", -6: "SIGABRT", -8: "SIGFPE", -24: "SIGXCPU"}
_PISTON_STATUS = {
    Status.TLE: "TO",
    Status.OLE: "OL",
    Status.SE: "XX",
    Status.RE: "RE",
    Status.MLE: "RE",
}
#: Piston API v2's /execute fields (https://github.com/engineer-man/piston, api v2).
PISTON_FIELDS = frozenset(
    {
        "language",
        "version",
        "files",
        "stdin",
        "args",
        "compile_timeout",
        "run_timeout",
        "compile_cpu_time",
        "run_cpu_time",
        "compile_memory_limit",
        "run_memory_limit",
    }
)
_PISTON_FILE_FIELDS = frozenset({"name", "content", "encoding"})


def piston_files(body: Mapping[str, Any], limits: ServerLimits) -> list[tuple[str, str]]:
    """The `files` of a Piston body as (name, content) pairs, strictly checked."""
    files = body.get("files")
    if not isinstance(files, list) or not files:
        raise BadRequest("files: must be a non-empty list of {name, content}")
    if len(files) > limits.max_files + 1:
        raise BadRequest(
            f"files: {len(files)} files, above this server's maximum {limits.max_files + 1}"
        )
    out = []
    for i, f in enumerate(files):
        if not isinstance(f, Mapping):
            raise BadRequest(f"files[{i}]: must be an object {{name, content}}")
        check_fields(f"files[{i}].", f, _PISTON_FILE_FIELDS)
        if f.get("encoding", "utf8") != "utf8":
            raise BadRequest(f"files[{i}].encoding={f.get('encoding')!r}: only 'utf8' is supported")
        name = f.get("name", f"file{i}")
        if not isinstance(name, str):
            raise BadRequest(f"files[{i}].name: must be a string")
        content = limits.check_text(
            f"files[{i}].content", f.get("content", ""), limits.max_file_bytes
        )
        out.append((name or f"file{i}", content))
    return out


def piston_limits(body: Mapping[str, Any], limits: ServerLimits) -> tuple[float, int]:
    """(run timeout in s, memory in MB) of a Piston body, against the server's maximums.

    Piston counts `run_timeout` in ms and `run_memory_limit` in bytes (-1: its default).
    """
    run_ms = body.get("run_timeout", 3000)
    if isinstance(run_ms, bool) or not isinstance(run_ms, int | float) or not run_ms > 0:
        raise BadRequest(f"run_timeout={run_ms!r}: must be a number of milliseconds > 0")
    if run_ms > limits.max_timeout_s * 1000:
        raise BadRequest(
            f"run_timeout={run_ms!r}: above this server's maximum "
            f"{limits.max_timeout_s * 1000:g} ms"
        )
    memory = body.get("run_memory_limit", -1)
    if isinstance(memory, bool) or not isinstance(memory, int):
        raise BadRequest(f"run_memory_limit={memory!r}: must be an integer number of bytes")
    memory_mb = 512 if memory == -1 else max(memory >> 20, 1)
    if memory < -1 or memory == 0:
        raise BadRequest(f"run_memory_limit={memory!r}: must be > 0 bytes, or -1 for the default")
    if memory_mb > limits.max_memory_mb:
        raise BadRequest(
            f"run_memory_limit={memory!r}: above this server's maximum "
            f"{limits.max_memory_mb << 20} bytes"
        )
    for key in ("compile_timeout", "compile_cpu_time", "run_cpu_time", "compile_memory_limit"):
        value = body.get(key, 1)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise BadRequest(f"{key}={value!r}: must be a number")
    return float(run_ms) / 1000, memory_mb


def parse_piston(body: Any, limits: ServerLimits) -> Job:
    """Piston API v2's /execute body as a `Job` (the first file is the program)."""
    if not isinstance(body, Mapping):
        raise BadRequest("body must be a JSON object (Piston API v2 /execute)")
    check_fields("", body, PISTON_FIELDS)
    language = body.get("language")
    if not isinstance(language, str):
        raise BadRequest("language: must be a string")
    try:
        lang = get_language(language)
    except SandboxError as exc:
        raise BadRequest(str(exc)) from None
    files = piston_files(body, limits)
    stdin = limits.check_text("stdin", body.get("stdin", ""), limits.max_stdin_bytes)
    args = body.get("args", [])
    if not isinstance(args, list) or args:
        raise BadRequest("args: command-line arguments are not supported (must be [])")
    timeout, memory_mb = piston_limits(body, limits)
    limits.check_text("files[0].content", files[0][1], limits.max_code_bytes)
    try:
        return Job(files[0][1], lang.name, stdin, dict(files[1:]), timeout, memory_mb)
    except SandboxError as exc:
        raise BadRequest(str(exc)) from None


def piston_answer(job: Job, result: RunResult) -> dict[str, Any]:
    """A `RunResult` in Piston API v2's response shape."""
    lang = get_language(job.language)
    if result.status is Status.CE:
        stage: dict[str, Any] = {
            "stdout": "",
            "stderr": result.stderr,
            "output": result.stderr,
            "code": 1,
            "signal": None,
        }
        return {"language": lang.piston, "version": "r1", "compile": stage, "run": {}}
    code = result.exit_code
    killed_by = _PISTON_SIGNALS.get(code, f"SIG{-code}") if code is not None and code < 0 else None
    if result.status is Status.TLE:
        killed_by = "SIGKILL"
    run: dict[str, Any] = {
        "stdout": result.stdout,
        "stderr": result.stderr,
        "output": result.stdout + result.stderr,
        "code": None if killed_by else code,
        "signal": killed_by,
        "message": result.message or None,
        "status": _PISTON_STATUS.get(result.status),
        "wall_time": int(result.time_s * 1000),
        "memory": int(result.memory_mb * (1 << 20)) if result.memory_mb is not None else None,
    }
    answer: dict[str, Any] = {"language": lang.piston, "version": "r1", "run": run}
    if lang.compiled:
        answer["compile"] = {"stdout": "", "stderr": "", "output": "", "code": 0, "signal": None}
    return answer


# -- r1's /v1/run_batch -------------------------------------------------------------------

_R1_FIELDS = frozenset({"jobs"})
_JOB_FIELDS = frozenset({"code", "language", "stdin", "files", "timeout", "memory_mb"})


def parse_job(raw: Any, limits: ServerLimits, where: str = "") -> Job:
    """One job of `/v1/run_batch`, every field checked for type and maximum."""
    if not isinstance(raw, Mapping):
        raise BadRequest(f"{where}: must be an object with code and language")
    check_fields(f"{where}.", raw, _JOB_FIELDS)
    if "code" not in raw:
        raise BadRequest(f"{where}.code: required")
    code = limits.check_text(f"{where}.code", raw["code"], limits.max_code_bytes)
    language = raw.get("language", "python")
    if not isinstance(language, str):
        raise BadRequest(f"{where}.language={language!r}: must be a string")
    try:
        lang = get_language(language)
    except SandboxError as exc:
        raise BadRequest(f"{where}.language: {exc}") from None
    stdin = limits.check_text(f"{where}.stdin", raw.get("stdin", ""), limits.max_stdin_bytes)
    files = limits.check_files(f"{where}.files", raw.get("files", {}))
    timeout = limits.check_timeout(f"{where}.timeout", raw.get("timeout", 10.0))
    memory_mb = limits.check_memory(f"{where}.memory_mb", raw.get("memory_mb", 512))
    try:
        return Job(code, lang.name, stdin, files, timeout, memory_mb)
    except SandboxError as exc:
        raise BadRequest(f"{where}: {exc}") from None


def parse_r1(body: Any, limits: ServerLimits) -> list[Job]:
    if not isinstance(body, Mapping) or "jobs" not in body:
        raise BadRequest('body must be {"jobs": [{"code": ..., "language": ...}, ...]}')
    check_fields("", body, _R1_FIELDS)
    raw_jobs = limits.check_batch("jobs", body["jobs"])
    return [parse_job(raw, limits, f"jobs[{i}]") for i, raw in enumerate(raw_jobs)]


# -- the application ----------------------------------------------------------------------


class _Admission:
    """Counts admitted jobs; refuses a batch that would pass the bound."""

    def __init__(self, load: dict[str, int], n: int, limit: int) -> None:
        self.load, self.n, self.limit = load, n, limit

    def __enter__(self) -> None:
        if self.load["admitted"] + self.n > self.limit:
            self.load["refused"] += 1
            raise web.HTTPServiceUnavailable(
                text=json.dumps(
                    {
                        "error": f"saturated: {self.load['admitted']} jobs admitted, "
                        f"limit {self.limit}"
                    }
                ),
                content_type="application/json",
                headers={"Retry-After": "1"},
            )
        self.load["admitted"] += self.n

    def __exit__(self, exc_type: object, *exc: object) -> None:
        self.load["admitted"] -= self.n
        if exc_type is asyncio.CancelledError:
            self.load["cancelled"] += self.n
        else:
            self.load["done"] += self.n


def admission(app: web.Application, n: int) -> _Admission:
    """`with admission(app, n):` counts `n` jobs against the app's bound (503 past it)."""
    load = app[_LOAD]
    return _Admission(load, n, load["max_queue"])


async def read_json(request: web.Request) -> Any:
    """The request's JSON body, read within the app's body timeout.

    Raises `BadRequest` (not JSON) or answers 408 (the body did not arrive in time) and
    413 (above the server's maximum body size) itself.
    """
    timeout = request.app.get(_BODY_TIMEOUT, 60.0)
    try:
        async with asyncio.timeout(timeout):
            raw = await request.read()
    except TimeoutError:
        raise web.HTTPRequestTimeout(
            text=json.dumps({"error": f"the body did not arrive within {timeout:g}s"}),
            content_type="application/json",
            headers={"Connection": "close"},
        ) from None
    try:
        return json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BadRequest(f"body is not JSON: {exc}") from None


def limits_of(app: web.Application) -> ServerLimits:
    """The `ServerLimits` an app built by `make_app` enforces."""
    limits = app[_LIMITS]
    assert isinstance(limits, ServerLimits)
    return limits


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def make_app(
    backend: Sandbox,
    *,
    max_queue: int = 4096,
    close_backend: bool = False,
    limits: ServerLimits | None = None,
    token: str | None = None,
    body_timeout: float = 60.0,
) -> web.Application:
    """The router as an aiohttp application (serve it with `serve` or any aiohttp runner).

    Args:
        close_backend: close the backend when the app shuts down (when the app owns it).
        limits: the server-side maximums (default `ServerLimits()`).
        token: when set, every request must carry `Authorization: Bearer <token>`.
        body_timeout: seconds a request body may take to arrive (408 after).

    For a client hang-up to cancel its batch, serve with `handler_cancellation=True`
    (`serve` does).
    """
    limits = limits or ServerLimits()
    app = web.Application(client_max_size=limits.max_body_mb << 20)
    app[_BACKEND] = backend
    app[_LIMITS] = limits
    app[_BODY_TIMEOUT] = float(body_timeout)
    app[_LOAD] = {"admitted": 0, "done": 0, "refused": 0, "cancelled": 0, "max_queue": max_queue}
    expected = f"Bearer {token}".encode() if token else None

    @web.middleware
    async def authenticate(request: web.Request, handler: Handler) -> web.StreamResponse:
        if expected is not None:
            given = request.headers.get("Authorization", "").encode("utf-8", "replace")
            if not hmac.compare_digest(given, expected):
                return web.json_response(
                    {"error": "missing or wrong bearer token (Authorization: Bearer ...)"},
                    status=401,
                    headers={"WWW-Authenticate": "Bearer"},
                )
        return await handler(request)

    def bad(exc: BadRequest, key: str = "error") -> web.Response:
        return web.json_response({key: str(exc)}, status=400)

    async def health(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok", "backend": backend.name, **app[_LOAD]})

    async def execute_batch(request: web.Request) -> web.Response:
        try:
            jobs, markers = parse_open_r1(await read_json(request), limits)
        except BadRequest as exc:
            return bad(exc)
        with _Admission(app[_LOAD], len(jobs), max_queue):
            results = await backend.run_batch(jobs)
        return web.json_response(
            [open_r1_item(r, m) for r, m in zip(results, markers, strict=True)]
        )

    async def run_batch(request: web.Request) -> web.Response:
        try:
            jobs = parse_r1(await read_json(request), limits)
        except BadRequest as exc:
            return bad(exc)
        with _Admission(app[_LOAD], len(jobs), max_queue):
            results = await backend.run_batch(jobs)
        return web.json_response({"results": [r.to_dict() for r in results]})

    async def piston_execute(request: web.Request) -> web.Response:
        try:
            job = parse_piston(await read_json(request), limits)
        except BadRequest as exc:
            return bad(exc, "message")
        with _Admission(app[_LOAD], 1, max_queue):
            (result,) = await backend.run_batch([job])
        return web.json_response(piston_answer(job, result))

    async def piston_runtimes(request: web.Request) -> web.Response:
        return web.json_response(
            [
                {"language": lang.piston, "version": "r1", "aliases": [name]}
                for name, lang in LANGUAGES.items()
            ]
        )

    async def release(app: web.Application) -> None:
        await backend.aclose()

    app.middlewares.append(authenticate)
    app.router.add_get("/health", health)
    app.router.add_post("/execute_batch", execute_batch)
    app.router.add_post("/v1/run_batch", run_batch)
    app.router.add_post("/api/v2/execute", piston_execute)
    app.router.add_get("/api/v2/runtimes", piston_runtimes)
    if close_backend:
        app.on_cleanup.append(release)
    return app


# -- serving ------------------------------------------------------------------------------


def is_loopback(host: str) -> bool:
    """Whether `host` only listens on this machine (127.0.0.0/8, ::1, localhost).

    >>> is_loopback("127.0.0.1"), is_loopback("0.0.0.0"), is_loopback("localhost")
    (True, False, True)
    """
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_bind(host: str, token: str | None, allow_no_token: bool, env: str = TOKEN_ENV) -> None:
    """Refuse (BackendConfigError) to serve a non-loopback address without a token."""
    if token or allow_no_token or is_loopback(host):
        return
    raise BackendConfigError(
        f"--host {host}: anyone who can reach this address could run programs here; give a "
        f"token (--token or ${env}; clients send 'Authorization: Bearer <token>'), or pass "
        "--allow-no-token if the network itself is trusted"
    )


class _AcceptErrorFilter:
    """A loop exception handler for accept errors (EMFILE): evict, back off, log once.

    asyncio retries a failing `accept()` every second, once per pending connection, and
    reports every failure: with the descriptor table full that is thousands of
    tracebacks a second, while the honest clients wait in the backlog behind the
    connections that hold the table. So on an accept error this handler closes the
    oldest connections that are idle (no request being handled: half-sent heads, idle
    keep-alives), a few at a time, and writes one log line per `interval`.
    """

    def __init__(self, server: web.Server | None = None, interval: float = 10.0) -> None:
        self.server = server
        self.interval = interval
        self.last_log = -math.inf
        self.last_evict = -math.inf
        self.suppressed = 0
        self.evicted = 0

    def evict(self, at_most: int | None = None) -> int:
        """Close idle connections, oldest first: `at_most`, or an eighth (at least 8)."""
        if self.server is None:
            return 0
        handlers = self.server.connections  # oldest first (insertion order)
        # Idle: no request being handled and none complete in its queue (a half-sent head,
        # an idle keep-alive, or a connection not read yet). aiohttp has no public flag
        # for it; if these attributes ever go, nothing is evicted (the timeouts remain).
        idle = [
            h
            for h in handlers
            if not getattr(h, "_request_in_progress", True) and not getattr(h, "_messages", 1)
        ]
        budget = at_most if at_most is not None else max(8, len(handlers) // 8)
        for handler in idle[:budget]:
            handler.force_close()
        return min(len(idle), budget)

    def __call__(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        if "accept" not in str(context.get("message", "")):
            loop.default_exception_handler(context)
            return
        now = time.monotonic()
        if now - self.last_evict >= 0.5:
            self.last_evict = now
            self.evicted += self.evict()
        if now - self.last_log < self.interval:
            self.suppressed += 1
            return
        self.last_log = now
        logger.error(
            "cannot accept connections: %s (%d similar errors suppressed, %d idle connections "
            "closed; raise `ulimit -n`)",
            context.get("exception"),
            self.suppressed,
            self.evicted,
        )
        self.suppressed = 0


def raise_fd_limit() -> int:
    """Raise this process's open-file limit to its hard limit; returns the new soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        return hard
    return soft


async def serve_app_async(
    app: web.Application,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    header_timeout: float = 15.0,
    shutdown_timeout: float = 60.0,
    max_connections: int | None = None,
    stop: asyncio.Event | None = None,
) -> None:
    """Serve `app` until `stop` is set (or SIGINT / SIGTERM), then drain and clean up.

    `header_timeout` closes a connection whose request head has not arrived that long
    after it opened (or after its previous response): aiohttp's keep-alive timer, which
    runs from the connection's start, does exactly that. At most `max_connections` are
    kept open (default: half the open-file limit, so the sandboxes always have
    descriptors left): a new one beyond it closes the oldest idle connection. A client
    that hangs up cancels its handler (`handler_cancellation`), and so its batch. Accept
    errors evict idle connections and are logged once per interval.
    """
    if not header_timeout > 0:
        raise BackendConfigError(f"header_timeout={header_timeout!r}: must be > 0 seconds")
    fd_limit = raise_fd_limit()
    if max_connections is None:
        max_connections = max(16, fd_limit // 2)
    if max_connections < 1:
        raise BackendConfigError(f"max_connections={max_connections!r}: must be >= 1")
    loop = asyncio.get_running_loop()
    runner = web.AppRunner(
        app,
        keepalive_timeout=header_timeout,
        handler_cancellation=True,
        access_log=None,
        shutdown_timeout=shutdown_timeout,
    )
    await runner.setup()
    web_server = runner.server
    assert web_server is not None
    guard = _AcceptErrorFilter(web_server)

    def make_room() -> None:
        # Runs after the connections accepted before this one are registered and before
        # this one is: it counts itself with the `+ 1`.
        excess = len(web_server.connections) + 1 - max_connections
        if excess > 0:
            guard.evict(at_most=excess)

    def connection() -> asyncio.BaseProtocol:
        loop.call_soon(make_room)
        return web_server()

    previous = loop.get_exception_handler()
    loop.set_exception_handler(guard)
    stop = stop or asyncio.Event()
    signals = (signal.SIGINT, signal.SIGTERM)
    listener = None
    try:
        for sig in signals:
            loop.add_signal_handler(sig, stop.set)
        listener = await loop.create_server(connection, host, port, reuse_address=True)
        await stop.wait()
    finally:
        for sig in signals:
            loop.remove_signal_handler(sig)
        if listener is not None:
            listener.close()  # stop accepting
        await runner.cleanup()  # drains in-flight batches, then closes the app
        loop.set_exception_handler(previous)


def serve_app(
    app: web.Application,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    header_timeout: float = 15.0,
    shutdown_timeout: float = 60.0,
    max_connections: int | None = None,
) -> None:
    """`serve_app_async` for sync callers: serve until SIGINT / SIGTERM."""
    asyncio.run(
        serve_app_async(
            app,
            host=host,
            port=port,
            header_timeout=header_timeout,
            shutdown_timeout=shutdown_timeout,
            max_connections=max_connections,
        )
    )


def serve(
    backend: Sandbox,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    max_queue: int = 4096,
    shutdown_timeout: float = 60.0,
    limits: ServerLimits | None = None,
    token: str | None = None,
    allow_no_token: bool = False,
    header_timeout: float = 15.0,
    body_timeout: float = 60.0,
    max_connections: int | None = None,
) -> None:
    """Run the router until SIGINT / SIGTERM, then drain in-flight batches and stop.

    Raises `BackendConfigError` for a non-loopback `host` without a `token` (unless
    `allow_no_token`).
    """
    token = token or os.environ.get(TOKEN_ENV) or None
    check_bind(host, token, allow_no_token)
    app = make_app(
        backend,
        max_queue=max_queue,
        close_backend=True,
        limits=limits,
        token=token,
        body_timeout=body_timeout,
    )
    logger.info(
        "r1-sandbox router (%s backend) on http://%s:%d%s",
        backend.name,
        host,
        port,
        " (token required)" if token else "",
    )
    serve_app(
        app,
        host=host,
        port=port,
        header_timeout=header_timeout,
        shutdown_timeout=shutdown_timeout,
        max_connections=max_connections,
    )
