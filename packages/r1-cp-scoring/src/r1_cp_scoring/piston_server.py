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

Data flow: open-r1's PistonClient -> POST /api/v2/execute -> (cms_ioi | codeforces |
plain language) -> cms.CMSJudge / codeforces grader / r1-sandbox router -> Piston JSON.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from aiohttp import web

from r1_cp_scoring.cms import IOITask, judge_for
from r1_cp_scoring.codeforces import grade_submission
from r1_cp_scoring.errors import ConfigError, GradingUnavailableError, HarnessError
from r1_sandbox import Sandbox
from r1_sandbox import router as sandbox_router

logger = logging.getLogger(__name__)

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


def _files(body: Mapping[str, Any]) -> dict[str, str]:
    files = body.get("files")
    if not isinstance(files, list) or not all(isinstance(f, Mapping) for f in files):
        raise ConfigError("files: must be a list of {name, content}")
    return {str(f.get("name", "")): str(f.get("content", "")) for f in files}


async def cms_ioi_answer(box: Sandbox, body: Mapping[str, Any]) -> dict[str, Any]:
    """Grade one test as the `cms_ioi` package does; Piston's answer shape."""
    files = _files(body)
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
    time_limit = config.get("time_limit") or max(
        float(body.get("run_timeout", 4000)) / 1000 - 3, 0.1
    )
    memory = config.get("memory_limit")
    memory_mb = int(memory) >> 20 if memory else int(body.get("run_memory_limit") or 256)
    if memory_mb > 1 << 20:  # bytes, as Piston itself counts them
        memory_mb >>= 20
    task = IOITask(problem_id, graders, float(time_limit), max(memory_mb, 1))
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


async def codeforces_answer(box: Sandbox, body: Mapping[str, Any]) -> dict[str, Any]:
    """Grade one test as the `codeforces` package does; Piston's answer shape."""
    files = _files(body)
    config = dict(
        line.split("=", 1) for line in files.get("grader_config", "").splitlines() if "=" in line
    )
    if "main.cpp" in files:
        language, code = "cpp", files["main.cpp"]
    elif "main.python" in files or "main.py" in files:
        language, code = "python", files.get("main.python", files.get("main.py", ""))
    else:
        raise ConfigError("files: expected main.cpp or main.python")
    problem = {
        "time_limit": float(config.get("TIME_LIMIT") or 2.0),
        "memory_limit": float(config.get("MEMORY_LIMIT") or 256),
        "input_mode": config.get("INPUT_MODE") or "stdio",
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
    backend: Sandbox, *, max_queue: int = 4096, close_backend: bool = False
) -> web.Application:
    """r1-sandbox's router app with the `cms_ioi` and `codeforces` packages added."""
    app = sandbox_router.make_app(backend, max_queue=max_queue, close_backend=close_backend)

    @web.middleware
    async def packages(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path == "/api/v2/runtimes" and request.method == "GET":
            response = await handler(request)
            listed = json.loads(getattr(response, "text", "[]") or "[]")
            return web.json_response([*listed, *RUNTIMES])
        if request.path != "/api/v2/execute" or request.method != "POST":
            return await handler(request)
        try:
            body = await request.json()  # aiohttp keeps the body for the handler below
        except ValueError:
            return await handler(request)
        if not isinstance(body, Mapping):
            return await handler(request)
        try:
            if body.get("language") == "cms_ioi":
                return web.json_response(await cms_ioi_answer(backend, body))
            if is_codeforces_request(body):
                return web.json_response(await codeforces_answer(backend, body))
        except (ConfigError, HarnessError) as exc:
            return web.json_response({"message": str(exc)}, status=400)
        except GradingUnavailableError as exc:
            return web.json_response({"message": str(exc)}, status=503)
        return await handler(request)

    app.middlewares.append(packages)
    return app


def serve(backend: Sandbox, *, host: str = "127.0.0.1", port: int = 2000) -> None:
    """Serve until SIGINT / SIGTERM."""
    logger.info(
        "r1-cp-scoring Piston server (%s backend) on http://%s:%d/api/v2", backend.name, host, port
    )
    web.run_app(
        make_app(backend, close_backend=True), host=host, port=port, print=None, access_log=None
    )
