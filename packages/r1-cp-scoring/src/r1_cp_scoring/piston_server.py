"""A Piston-compatible server over the local sandbox, with open-r1's two grading packages.

open-r1 grades IOI and Codeforces on a fleet of Piston workers (a Docker image plus the
custom `cms_ioi` and `codeforces` packages). This server answers the same requests from
one process on any Linux machine, so an open-r1 user sets
`PISTON_ENDPOINTS=http://host:2000/api/v2` and keeps their code. It is r1-sandbox's
router (plain Piston languages, open-r1's `/execute_batch`, `/health`) with one
middleware in front of `POST /api/v2/execute` for the two packages' contracts:

- `cms_ioi`: files `graders/<task>.cpp` (the submission), the task's grader files
  (`graders/...`, `checker/...`, optional `graders/grader_config.json`), `input.txt`,
  optional `correct_output.txt`; `run_timeout` is the time limit + 3 s (open-r1's
  convention) unless grader_config.json gives `time_limit`; `run_memory_limit` in MB.
  Answer: `compile.code` != 0 with the compiler's message, or `run.stdout` = the score
  and `run.stderr` = CMS's message (`Time limit exceeded`, `Output isn't correct`, ...).
- `codeforces` (languages `c++17` / `cf_python3` with a `grader_config` file): files
  `main.cpp` or `main.python`, optional `checker.py`, `input.txt`,
  `correct_output.txt`, `grader_config` (`TIME_LIMIT=`, `MEMORY_LIMIT=`, `INPUT_MODE=`).
  Answer: `run.stdout` "1" when the test passes, else "0"; a compile error in `compile`.

Builds are cached across requests (the judge of `cms.judge_for`), so the per-test
requests of open-r1's clients compile each submission once instead of once per test.
A broken harness answers 400 `{"message": ...}` (open-r1's clients raise on it); a
sandbox failure 503.

The server distrusts its clients exactly as r1-sandbox's router does (the same
`ServerLimits`, token, header and body timeouts, cancellation on hang-up, bounded
admission): the packages' own limits (`run_timeout`, `run_memory_limit`, the task's
`grader_config.json`, the `codeforces` package's `TIME_LIMIT=` / `MEMORY_LIMIT=`) are
checked against the maximums and their types before anything is compiled, and an unknown
field is a 400 that names it. The token comes from `--token` or `$R1_PISTON_TOKEN`.

Data flow: open-r1's PistonClient -> POST /api/v2/execute -> token, timeouts, strict
parsing -> (cms_ioi | codeforces | plain language) -> cms.CMSJudge / codeforces grader /
r1-sandbox router -> Piston JSON.
"""

from __future__ import annotations

import json
import logging
import math
import os
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from aiohttp import web

from r1_cp_scoring.cms import IOITask, judge_for
from r1_cp_scoring.codeforces import grade_submission
from r1_cp_scoring.errors import ConfigError, GradingUnavailableError, HarnessError
from r1_sandbox import Sandbox
from r1_sandbox import router as sandbox_router
from r1_sandbox.server_limits import BadRequest, ServerLimits, check_fields

logger = logging.getLogger(__name__)

#: The environment variable `r1-cp-scoring piston-server` reads its token from.
TOKEN_ENV = "R1_PISTON_TOKEN"

_NOT_THE_SUBMISSION = {"grader", "manager", "stub", "checker"}
RUNTIMES = [
    {"language": "cms_ioi", "version": "1.0.0", "aliases": []},
    {"language": "codeforces", "version": "1.0.0", "aliases": ["c++17", "cf_python3"]},
]


def _stage(code: int, stdout: str = "", stderr: str = "") -> dict[str, Any]:
    return {
        "stdout": stdout,
        "stderr": stderr,
        "output": stdout + stderr,
        "code": code,
        "signal": None,
    }


def _files(body: Mapping[str, Any], limits: ServerLimits) -> dict[str, str]:
    try:
        check_fields("", body, sandbox_router.PISTON_FIELDS)
        return dict(sandbox_router.piston_files(body, limits))
    except BadRequest as exc:
        raise ConfigError(str(exc)) from None


def _seconds(name: str, value: object, limits: ServerLimits) -> float:
    try:
        return limits.check_timeout(name, value)
    except BadRequest as exc:
        raise ConfigError(str(exc)) from None


def _megabytes(name: str, value: object, limits: ServerLimits, *, unit_bytes: bool) -> int:
    """A memory limit in MB; `unit_bytes` values (or any above 1 TiB of MB) are bytes."""
    if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
        raise ConfigError(f"{name}={value!r}: must be an integer")
    mb = int(value)
    if unit_bytes or mb > 1 << 20:  # bytes, as Piston itself counts them
        mb >>= 20
    try:
        return limits.check_memory(name, max(mb, 1) if value > 0 else mb)
    except BadRequest as exc:
        raise ConfigError(str(exc)) from None


async def cms_ioi_answer(
    box: Sandbox, body: Mapping[str, Any], limits: ServerLimits | None = None
) -> dict[str, Any]:
    """Grade one test as the `cms_ioi` package does; Piston's answer shape."""
    limits = limits or ServerLimits()
    files = _files(body, limits)
    submissions = [
        name
        for name in files
        if name.startswith("graders/")
        and name.endswith(".cpp")
        and name[len("graders/") : -len(".cpp")] not in _NOT_THE_SUBMISSION
    ]
    if len(submissions) != 1:
        raise ConfigError(f"files: expected one graders/<task>.cpp submission, got {submissions}")
    problem_id = submissions[0][len("graders/") : -len(".cpp")]
    graders = {
        k: v
        for k, v in files.items()
        if k != submissions[0] and (k.startswith("graders/") or k.startswith("checker/"))
    }
    config: dict[str, Any] = {}
    if "graders/grader_config.json" in graders:
        try:
            config = json.loads(graders["graders/grader_config.json"])
        except json.JSONDecodeError as exc:
            raise HarnessError(f"graders/grader_config.json: {exc}") from None
        if not isinstance(config, dict):
            raise HarnessError("graders/grader_config.json: must be a JSON object")
    run_ms = body.get("run_timeout", 4000)
    if isinstance(run_ms, bool) or not isinstance(run_ms, int | float):
        raise ConfigError(f"run_timeout={run_ms!r}: must be a number of milliseconds")
    if config.get("time_limit"):
        time_limit = _seconds("grader_config.json time_limit", config["time_limit"], limits)
    else:
        time_limit = _seconds("run_timeout - 3000", max(run_ms / 1000 - 3, 0.1), limits)
    if config.get("memory_limit"):
        name = "grader_config.json memory_limit"
        memory_mb = _megabytes(name, config["memory_limit"], limits, unit_bytes=True)
    else:
        raw = body.get("run_memory_limit") or 256
        raw = 256 if raw == -1 else raw  # Piston's "the default"
        memory_mb = _megabytes("run_memory_limit", raw, limits, unit_bytes=False)
    task = IOITask(problem_id, graders, time_limit, memory_mb)
    verdict = await judge_for(box).evaluate(
        task, files[submissions[0]], files.get("input.txt", ""), files.get("correct_output.txt")
    )
    answer: dict[str, Any] = {"language": "cms_ioi", "version": "1.0.0"}
    if verdict.status == "CE":
        answer.update(compile=_stage(1, stderr=verdict.feedback), run={})
        return answer
    stdout = verdict.feedback if "correct_output.txt" not in files else f"{verdict.score:g}\n"
    stderr = "" if "correct_output.txt" not in files else verdict.feedback
    answer.update(compile=_stage(0), run=_stage(0, stdout, stderr))
    return answer


def is_codeforces_request(body: Mapping[str, Any]) -> bool:
    files = body.get("files")
    return isinstance(files, list) and any(
        isinstance(f, Mapping) and f.get("name") == "grader_config" for f in files
    )


_CF_CONFIG = frozenset({"TIME_LIMIT", "MEMORY_LIMIT", "INPUT_MODE"})


def _number(name: str, text: str | None, default: float) -> float:
    if text in (None, "", "None"):
        return default
    try:
        value = float(text)
    except ValueError:
        raise ConfigError(f"grader_config {name}={text!r}: must be a number") from None
    if not math.isfinite(value):
        raise ConfigError(f"grader_config {name}={text!r}: must be a finite number")
    return value


async def codeforces_answer(
    box: Sandbox, body: Mapping[str, Any], limits: ServerLimits | None = None
) -> dict[str, Any]:
    """Grade one test as the `codeforces` package does; Piston's answer shape."""
    limits = limits or ServerLimits()
    files = _files(body, limits)
    config = dict(
        line.split("=", 1) for line in files.get("grader_config", "").splitlines() if "=" in line
    )
    for key in config:
        if key not in _CF_CONFIG:
            raise ConfigError(f"grader_config {key}: unknown key; allowed: {sorted(_CF_CONFIG)}")
    time_limit = _seconds(
        "TIME_LIMIT", _number("TIME_LIMIT", config.get("TIME_LIMIT"), 2.0), limits
    )
    memory = _number("MEMORY_LIMIT", config.get("MEMORY_LIMIT"), 256)
    memory_mb = _megabytes("MEMORY_LIMIT", int(memory), limits, unit_bytes=False)
    mode = config.get("INPUT_MODE") or "stdio"
    if mode not in ("stdio", "file", "None"):
        raise ConfigError(f"grader_config INPUT_MODE={mode!r}: must be 'stdio' or 'file'")
    if "main.cpp" in files:
        language, code = "cpp", files["main.cpp"]
    elif "main.python" in files or "main.py" in files:
        language, code = "python", files.get("main.python", files.get("main.py", ""))
    else:
        raise ConfigError("files: expected main.cpp or main.python")
    problem = {
        "time_limit": time_limit,
        "memory_limit": memory_mb,
        "input_mode": "stdio" if mode == "None" else mode,
        "generated_checker": files.get("checker.py"),
        "official_tests": [
            {"input": files.get("input.txt", ""), "output": files.get("correct_output.txt", "")}
        ],
    }
    report = await grade_submission(box, problem, code, language)
    answer: dict[str, Any] = {"language": str(body.get("language")), "version": "1.0.0"}
    if not report.compiled:
        answer.update(compile=_stage(1, stderr=report.compile_message), run={})
        return answer
    test = report.tests[0]
    answer.update(compile=_stage(0), run=_stage(0, "1\n" if test.passed else "0\n", test.detail))
    return answer


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
    """r1-sandbox's router app with the `cms_ioi` and `codeforces` packages added.

    `limits`, `token` and `body_timeout` are the router's (see `r1_sandbox.router`).
    """
    limits = limits or ServerLimits()
    app = sandbox_router.make_app(
        backend,
        max_queue=max_queue,
        close_backend=close_backend,
        limits=limits,
        token=token,
        body_timeout=body_timeout,
    )

    @web.middleware
    async def packages(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path == "/api/v2/runtimes" and request.method == "GET":
            response = await handler(request)
            listed = json.loads(getattr(response, "text", "[]") or "[]")
            return web.json_response([*listed, *RUNTIMES])
        if request.path != "/api/v2/execute" or request.method != "POST":
            return await handler(request)
        try:
            body = await sandbox_router.read_json(request)  # kept for the handler below
        except BadRequest:
            return await handler(request)
        if not isinstance(body, Mapping):
            return await handler(request)
        try:
            if body.get("language") == "cms_ioi":
                with sandbox_router.admission(app, 1):
                    return web.json_response(await cms_ioi_answer(backend, body, limits))
            if is_codeforces_request(body):
                with sandbox_router.admission(app, 1):
                    return web.json_response(await codeforces_answer(backend, body, limits))
        except (BadRequest, ConfigError, HarnessError) as exc:
            return web.json_response({"message": str(exc)}, status=400)
        except GradingUnavailableError as exc:
            return web.json_response({"message": str(exc)}, status=503)
        return await handler(request)

    app.middlewares.append(packages)
    return app


def serve(
    backend: Sandbox,
    *,
    host: str = "127.0.0.1",
    port: int = 2000,
    limits: ServerLimits | None = None,
    token: str | None = None,
    allow_no_token: bool = False,
    header_timeout: float = 15.0,
    body_timeout: float = 60.0,
    max_queue: int = 4096,
    max_connections: int | None = None,
) -> None:
    """Serve until SIGINT / SIGTERM (BackendConfigError: a public host without a token)."""
    token = token or os.environ.get(TOKEN_ENV) or None
    sandbox_router.check_bind(host, token, allow_no_token, env=TOKEN_ENV)
    logger.info(
        "r1-cp-scoring Piston server (%s backend) on http://%s:%d/api/v2%s",
        backend.name,
        host,
        port,
        " (token required)" if token else "",
    )
    app = make_app(
        backend,
        max_queue=max_queue,
        close_backend=True,
        limits=limits,
        token=token,
        body_timeout=body_timeout,
    )
    sandbox_router.serve_app(
        app,
        host=host,
        port=port,
        header_timeout=header_timeout,
        max_connections=max_connections,
    )
