"""`r1-sandbox router`: one HTTP service in front of a backend, speaking open-r1's protocol.

open-r1 runs `scripts/e2b_router.py` / `morph_router.py` (FastAPI) so that every GPU
process of a training job shares one pool of hosted sandboxes. This is the same service
over any r1 backend, local included, so open-r1's `RoutedSandbox` / `RoutedMorphSandbox`
clients work against it unchanged:

- `GET /health` -> `{"status": "ok", ...}` with the load;
- `POST /execute_batch` with `{scripts, languages, timeout, request_timeout}` -> one item
  per script: `execution` in E2B's JSON shape (`results[].text` is the value of the last
  expression, as E2B's Jupyter kernel reports it; `logs.stdout/stderr`; `error`), the
  Morph router's `text`, `exception_str` for a sandbox failure, and r1's own verdict
  under `r1`;
- `POST /v1/run_batch` with `{jobs: [{code, language, stdin, files, timeout,
  memory_mb}]}` -> `{results: [...]}`: r1's richer endpoint (stdin, files, limits,
  verdicts; programs shared by several jobs are compiled once);
- `POST /api/v2/execute` and `GET /api/v2/runtimes`: Piston API v2, so graders written
  for a Piston fleet (open-r1's IOI / Codeforces clients, r1's `piston` backend) run on
  any machine with `r1-sandbox router` in front of the local sandbox.

The queue is bounded: a batch that would take the number of admitted jobs past
`max_queue` is refused with 503 and `Retry-After` (clients back off and retry) instead of
growing memory without limit. Malformed requests get a 400 that names the field. On
SIGINT / SIGTERM aiohttp stops accepting, lets in-flight batches finish
(`shutdown_timeout`) and then closes the backend.

Data flow: trainers' reward functions -> HTTP batch -> admission (bounded) -> backend
`run_batch` -> JSON results in request order.
"""

from __future__ import annotations

import ast
import json
import logging
import uuid
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from r1_sandbox.base import Sandbox
from r1_sandbox.errors import SandboxError
from r1_sandbox.languages import LANGUAGES, get_language
from r1_sandbox.result import Job, RunResult, Status

logger = logging.getLogger(__name__)

MAX_BATCH = 4096
_BACKEND = web.AppKey("backend", Sandbox)
_LOAD = web.AppKey("load", dict)


class _BadRequest(Exception):
    pass


def with_last_value(script: str, marker: str) -> str:
    """`script` that also prints `marker` + repr(value of its last expression), if any.

    E2B's kernel reports the value of a cell's last expression as `results[0].text`, and
    open-r1's code_reward reads its score from there (the script ends with a call).

    >>> print(with_last_value("x = 2\\nx * 21", "@@"))
    x = 2
    __r1_value__ = x * 21
    if __r1_value__ is not None:
        print('\\n@@' + repr(__r1_value__), flush=True)
    """
    try:
        tree = ast.parse(script)
    except SyntaxError:
        return script
    if not tree.body or not isinstance(tree.body[-1], ast.Expr):
        return script
    last = tree.body[-1]
    assign = ast.Assign(targets=[ast.Name("__r1_value__", ast.Store())], value=last.value)
    report = ast.parse(
        "if __r1_value__ is not None:\n"
        f"    print({chr(10) + marker!r} + repr(__r1_value__), flush=True)"
    ).body
    tree.body[-1:] = [assign, *report]
    return ast.unparse(ast.fix_missing_locations(tree))


def open_r1_item(result: RunResult, marker: str | None) -> dict[str, Any]:
    """One result in the shape open-r1's routed clients read (E2B and Morph flavours)."""
    stdout, value = result.stdout, None
    if marker and f"\n{marker}" in stdout:
        stdout, _, value = stdout.rpartition(f"\n{marker}")
        value = value.rstrip("\n")
    if result.status is Status.SE:
        return {
            "execution": None,
            "exception_str": result.message,
            "text": None,
            "r1": result.to_dict(),
        }
    error = None
    if result.status is not Status.OK:
        error = {"name": result.status.value, "value": result.message, "traceback": result.stderr}
    execution = {
        "results": [{"text": value, "is_main_result": True}] if value is not None else [],
        "logs": {
            "stdout": [stdout] if stdout else [],
            "stderr": [result.stderr] if result.stderr else [],
        },
        "error": error,
        "execution_count": 1,
    }
    text = value if value is not None else stdout
    return {
        "execution": execution,
        "exception_str": None,
        "text": text,
        "r1": {**result.to_dict(), "stdout": stdout},
    }


async def _json(request: web.Request) -> Any:
    try:
        return await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise _BadRequest(f"body is not JSON: {exc}") from None


def _parse_open_r1(body: Any) -> tuple[list[Job], list[str | None]]:
    if not isinstance(body, Mapping):
        raise _BadRequest("body must be a JSON object with scripts, languages, timeout")
    scripts = body.get("scripts")
    if not isinstance(scripts, list) or not all(isinstance(s, str) for s in scripts):
        raise _BadRequest("scripts: must be a list of strings")
    languages = body.get("languages") or ["python"] * len(scripts)
    if (
        not isinstance(languages, list)
        or len(languages) != len(scripts)
        or not all(isinstance(x, str) for x in languages)
    ):
        raise _BadRequest(f"languages: must be a list of {len(scripts)} strings, one per script")
    timeout = body.get("timeout", 30)
    if not isinstance(timeout, int | float) or isinstance(timeout, bool) or timeout <= 0:
        raise _BadRequest(f"timeout={timeout!r}: must be a number of seconds > 0")
    if len(scripts) > MAX_BATCH:
        raise _BadRequest(f"{len(scripts)} scripts: at most {MAX_BATCH} per request")
    jobs, markers = [], []
    for script, language in zip(scripts, languages, strict=True):
        try:
            lang = get_language(language)
        except SandboxError as exc:
            raise _BadRequest(str(exc)) from None
        marker = None
        if lang.name == "python":
            marker = f"__r1_value_{uuid.uuid4().hex}__"
            script = with_last_value(script, marker)
        jobs.append(Job(script, lang.name, timeout=float(timeout)))
        markers.append(marker)
    return jobs, markers


_PISTON_SIGNALS = {-9: "SIGKILL", -11: "SIGSEGV", -6: "SIGABRT", -8: "SIGFPE", -24: "SIGXCPU"}
_PISTON_STATUS = {
    Status.TLE: "TO",
    Status.OLE: "OL",
    Status.SE: "XX",
    Status.RE: "RE",
    Status.MLE: "RE",
}


def _parse_piston(body: Any) -> Job:
    """Piston API v2's /execute body as a `Job` (the first file is the program)."""
    if not isinstance(body, Mapping):
        raise _BadRequest("body must be a JSON object (Piston API v2 /execute)")
    files = body.get("files")
    if not isinstance(files, list) or not files or not all(isinstance(f, Mapping) for f in files):
        raise _BadRequest("files: must be a non-empty list of {name, content}")
    language = body.get("language")
    if not isinstance(language, str):
        raise _BadRequest("language: must be a string")
    try:
        lang = get_language(language)
        extra = {
            str(f.get("name") or f"file{i}"): str(f.get("content", ""))
            for i, f in enumerate(files[1:], start=1)
        }
        run_ms = body.get("run_timeout", 3000)
        memory = body.get("run_memory_limit", -1)
        memory_mb = int(memory) >> 20 if isinstance(memory, int) and memory > 0 else 512
        return Job(
            str(files[0].get("content", "")),
            lang.name,
            str(body.get("stdin", "")),
            extra,
            timeout=float(run_ms) / 1000,
            memory_mb=max(memory_mb, 1),
        )
    except (SandboxError, TypeError, ValueError) as exc:
        raise _BadRequest(str(exc)) from None


def piston_answer(job: Job, result: RunResult) -> dict[str, Any]:
    """A `RunResult` in Piston API v2's response shape."""
    lang = get_language(job.language)
    if result.status is Status.CE:
        stage = {"stdout": "", "stderr": result.stderr, "output": result.stderr, "code": 1}
        stage.update(signal=None)
        return {"language": lang.piston, "version": "r1", "compile": stage, "run": {}}
    code = result.exit_code
    signal = _PISTON_SIGNALS.get(code, f"SIG{-code}") if code is not None and code < 0 else None
    if result.status is Status.TLE:
        signal = "SIGKILL"
    run: dict[str, Any] = {
        "stdout": result.stdout,
        "stderr": result.stderr,
        "output": result.stdout + result.stderr,
        "code": None if signal else code,
        "signal": signal,
        "message": result.message or None,
        "status": _PISTON_STATUS.get(result.status),
        "wall_time": int(result.time_s * 1000),
        "memory": int(result.memory_mb * (1 << 20)) if result.memory_mb is not None else None,
    }
    answer: dict[str, Any] = {"language": lang.piston, "version": "r1", "run": run}
    if lang.compiled:
        answer["compile"] = {"stdout": "", "stderr": "", "output": "", "code": 0, "signal": None}
    return answer


def _parse_r1(body: Any) -> list[Job]:
    if not isinstance(body, Mapping) or not isinstance(body.get("jobs"), list):
        raise _BadRequest('body must be {"jobs": [{"code": ..., "language": ...}, ...]}')
    if len(body["jobs"]) > MAX_BATCH:
        raise _BadRequest(f"{len(body['jobs'])} jobs: at most {MAX_BATCH} per request")
    jobs = []
    for i, raw in enumerate(body["jobs"]):
        try:
            if not isinstance(raw, Mapping) or not isinstance(raw.get("code"), str):
                raise TypeError("code: must be a string")
            job = Job.from_dict(raw)
            get_language(job.language)
        except (TypeError, SandboxError) as exc:
            raise _BadRequest(f"jobs[{i}]: {exc}") from None
        jobs.append(job)
    return jobs


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

    def __exit__(self, *exc: object) -> None:
        self.load["admitted"] -= self.n
        self.load["done"] += self.n


def make_app(
    backend: Sandbox, *, max_queue: int = 4096, close_backend: bool = False
) -> web.Application:
    """The router as an aiohttp application (serve it with `serve` or any aiohttp runner).

    `close_backend`: close the backend when the app shuts down (when the app owns it).
    """
    app = web.Application(client_max_size=256 << 20)
    app[_BACKEND] = backend
    app[_LOAD] = {"admitted": 0, "done": 0, "refused": 0, "max_queue": max_queue}

    def bad(exc: _BadRequest) -> web.Response:
        return web.json_response({"error": str(exc)}, status=400)

    async def health(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok", "backend": backend.name, **app[_LOAD]})

    async def execute_batch(request: web.Request) -> web.Response:
        try:
            jobs, markers = _parse_open_r1(await _json(request))
        except _BadRequest as exc:
            return bad(exc)
        with _Admission(app[_LOAD], len(jobs), max_queue):
            results = await backend.run_batch(jobs)
        return web.json_response(
            [open_r1_item(r, m) for r, m in zip(results, markers, strict=True)]
        )

    async def run_batch(request: web.Request) -> web.Response:
        try:
            jobs = _parse_r1(await _json(request))
        except _BadRequest as exc:
            return bad(exc)
        with _Admission(app[_LOAD], len(jobs), max_queue):
            results = await backend.run_batch(jobs)
        return web.json_response({"results": [r.to_dict() for r in results]})

    async def piston_execute(request: web.Request) -> web.Response:
        try:
            job = _parse_piston(await _json(request))
        except _BadRequest as exc:
            return web.json_response({"message": str(exc)}, status=400)
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

    app.router.add_get("/health", health)
    app.router.add_post("/execute_batch", execute_batch)
    app.router.add_post("/v1/run_batch", run_batch)
    app.router.add_post("/api/v2/execute", piston_execute)
    app.router.add_get("/api/v2/runtimes", piston_runtimes)
    if close_backend:
        app.on_cleanup.append(release)
    return app


def serve(
    backend: Sandbox,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    max_queue: int = 4096,
    shutdown_timeout: float = 60.0,
) -> None:
    """Run the router until SIGINT / SIGTERM, then drain in-flight batches and stop."""
    app = make_app(backend, max_queue=max_queue, close_backend=True)
    logger.info("r1-sandbox router (%s backend) on http://%s:%d", backend.name, host, port)
    web.run_app(
        app, host=host, port=port, shutdown_timeout=shutdown_timeout, print=None, access_log=None
    )
