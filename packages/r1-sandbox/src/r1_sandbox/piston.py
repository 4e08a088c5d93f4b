"""The Piston backend: a fleet of Piston API v2 servers (engineer-man/piston), as open-r1 uses.

open-r1 grades IOI and Codeforces on Piston workers started on its cluster. This client
keeps what makes that work at scale and fixes what fails quietly:
- several endpoints (`PISTON_ENDPOINTS`, comma-separated), each with at most
  `per_endpoint` requests in flight: a token queue hands out endpoint slots, so load
  spreads over the fleet and no worker is overloaded by one client;
- retries with exponential backoff and jitter on what is transient (connection refused,
  a timeout, HTTP 429 / 5xx, Piston's "Resource temporarily unavailable"); an endpoint
  that keeps failing is benched for a cool-down instead of being retried at once;
- when the retries run out the run is an `SE` result naming the endpoint and the cause,
  never a 0.0.

Data flow: `Job` -> `POST {endpoint}/execute` ({language, version, files, stdin,
run_timeout, run_memory_limit}) -> Piston's `compile` / `run` stages -> `RunResult`.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from r1_sandbox.base import Sandbox
from r1_sandbox.errors import BackendConfigError
from r1_sandbox.languages import get_language
from r1_sandbox.result import DEFAULT_OUTPUT_LIMIT, Job, RunResult, Status

logger = logging.getLogger(__name__)

_RETRY_STATUSES = {429, 500, 502, 503, 504}
_OVERLOADED = "Resource temporarily unavailable"
_MEMORY_MARKERS = ("MemoryError", "std::bad_alloc", "Cannot allocate memory")


def endpoints_from_env() -> list[str]:
    """The endpoints listed in `PISTON_ENDPOINTS` (comma-separated URLs ending in /api/v2)."""
    raw = os.environ.get("PISTON_ENDPOINTS", "")
    return [e.strip().rstrip("/") for e in raw.split(",") if e.strip()]


class _Transient(Exception):
    """A failure worth retrying on another endpoint."""


@dataclass
class _LoopState:
    session: aiohttp.ClientSession
    tokens: asyncio.Queue[str]
    failures: dict[str, int] = field(default_factory=dict)
    benched: set[asyncio.Task[None]] = field(default_factory=set)


class PistonSandbox(Sandbox):
    """Runs programs on Piston API v2 servers.

    Args:
        endpoints: base URLs such as "http://worker-1:2000/api/v2"; default
            `PISTON_ENDPOINTS`.
        per_endpoint: requests in flight per endpoint (Piston runs one job per core).
        max_retries: further attempts after the first, each on the next free endpoint.
        backoff_s: first retry delay; doubles each attempt, with jitter.
        request_timeout: seconds for one HTTP request beyond the run's own timeout.
        versions: Piston runtime version per language name (default "*", the newest).
    """

    name = "piston"

    def __init__(
        self,
        endpoints: Sequence[str] | str | None = None,
        *,
        per_endpoint: int = 1,
        max_retries: int = 4,
        backoff_s: float = 0.5,
        request_timeout: float = 30.0,
        versions: Mapping[str, str] | None = None,
        output_limit: int = DEFAULT_OUTPUT_LIMIT,
    ) -> None:
        if isinstance(endpoints, str):
            endpoints = [e for e in endpoints.split(",") if e.strip()]
        found = [e.strip().rstrip("/") for e in endpoints] if endpoints else endpoints_from_env()
        if not found:
            raise BackendConfigError(
                "piston: no endpoints; pass endpoints=[...] or set PISTON_ENDPOINTS="
                '"http://host:2000/api/v2,..."'
            )
        if per_endpoint < 1 or max_retries < 0:
            raise BackendConfigError(
                f"per_endpoint={per_endpoint}, max_retries={max_retries}: need >= 1 and >= 0"
            )
        super().__init__(concurrency=per_endpoint * len(found))
        self.endpoints = found
        self.per_endpoint = per_endpoint
        self.max_retries = max_retries
        self.backoff_s = backoff_s
        self.request_timeout = request_timeout
        self.versions = dict(versions or {})
        self.output_limit = output_limit
        self._states: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopState] = (
            weakref.WeakKeyDictionary()
        )

    def _state(self) -> _LoopState:
        loop = asyncio.get_running_loop()
        state = self._states.get(loop)
        if state is None or state.session.closed:
            tokens: asyncio.Queue[str] = asyncio.Queue()
            order = list(self.endpoints)
            random.shuffle(order)  # many clients should not all start on endpoint 0
            for _ in range(self.per_endpoint):
                for endpoint in order:
                    tokens.put_nowait(endpoint)
            connector = aiohttp.TCPConnector(limit=self.concurrency)
            state = _LoopState(aiohttp.ClientSession(connector=connector), tokens)
            self._states[loop] = state
        return state

    def payload(self, job: Job) -> dict[str, Any]:
        """The JSON body of Piston's /execute for `job`."""
        lang = get_language(job.language)
        files = [{"name": lang.source, "content": job.code}]
        files += [
            {"name": k, "content": v.decode() if isinstance(v, bytes) else v}
            for k, v in job.files.items()
        ]
        return {
            "language": lang.piston,
            "version": self.versions.get(lang.name, "*"),
            "files": files,
            "stdin": job.stdin,
            "compile_timeout": 30_000,
            "run_timeout": int(job.timeout * 1000),
            "compile_memory_limit": -1,
            "run_memory_limit": job.memory_mb << 20,
        }

    async def _release(self, state: _LoopState, endpoint: str, failed: bool) -> None:
        if not failed:
            state.failures[endpoint] = 0
            state.tokens.put_nowait(endpoint)
            return
        count = state.failures[endpoint] = state.failures.get(endpoint, 0) + 1
        # A failing endpoint sits out a growing cool-down, so healthy ones take the load.
        delay = min(30.0, self.backoff_s * 2 ** (count - 1))

        async def later() -> None:
            await asyncio.sleep(delay)
            state.tokens.put_nowait(endpoint)

        task = asyncio.create_task(later())
        state.benched.add(task)
        task.add_done_callback(state.benched.discard)

    async def _post(
        self, state: _LoopState, endpoint: str, body: dict[str, Any], timeout: float
    ) -> dict[str, Any]:
        try:
            async with state.session.post(
                f"{endpoint}/execute",
                json=body,
                timeout=aiohttp.ClientTimeout(total=timeout + self.request_timeout),
            ) as resp:
                status = resp.status
                data = await resp.json(content_type=None)
        except (TimeoutError, aiohttp.ClientError, ValueError) as exc:
            raise _Transient(f"{type(exc).__name__}: {exc}") from exc
        if status in _RETRY_STATUSES:
            raise _Transient(f"HTTP {status}: {data}")
        if status != 200 or not isinstance(data, dict):
            message = data.get("message") if isinstance(data, dict) else data
            raise BackendConfigError(f"HTTP {status}: {message}")
        if _OVERLOADED in str((data.get("run") or {}).get("stderr", "")):
            raise _Transient(f"overloaded: {data['run']['stderr'][:200]}")
        return data

    async def _run_job(self, job: Job) -> RunResult:
        state = self._state()
        body = self.payload(job)
        cause = ""
        for attempt in range(self.max_retries + 1):
            if attempt:
                await asyncio.sleep(self.backoff_s * 2 ** (attempt - 1) * (0.5 + random.random()))
            endpoint = await state.tokens.get()
            failed = True
            try:
                data = await self._post(state, endpoint, body, job.timeout)
                failed = False
            except _Transient as exc:
                cause = f"{endpoint}: {exc}"
                logger.info("piston attempt %d failed: %s", attempt + 1, cause)
                continue
            except BackendConfigError as exc:  # Piston refused the request: retrying won't help
                failed = False
                return RunResult.system_error(f"piston {endpoint} refused the job: {exc}")
            finally:
                await self._release(state, endpoint, failed)
            return self.to_result(data, job)
        return RunResult.system_error(
            f"piston: gave up after {self.max_retries + 1} attempts; last: {cause}"
        )

    def to_result(self, data: Mapping[str, Any], job: Job) -> RunResult:
        """Map Piston's response to a `RunResult`."""
        compile_stage = data.get("compile") or {}
        if compile_stage and (
            compile_stage.get("code") not in (0, None) or compile_stage.get("signal")
        ):
            text = (compile_stage.get("stderr") or "") + (compile_stage.get("stdout") or "")
            return RunResult(
                status=Status.CE,
                exit_code=compile_stage.get("code"),
                stderr=text,
                message=text[-4000:],
            )
        run = data.get("run") or {}
        stdout = str(run.get("stdout") or "")
        stderr = str(run.get("stderr") or "")
        code = run.get("code")
        sig = run.get("signal")
        status_code = run.get("status")
        wall = run.get("wall_time")
        time_s = wall / 1000 if isinstance(wall, int | float) else 0.0
        memory = run.get("memory")
        memory_mb = round(memory / (1 << 20), 2) if isinstance(memory, int | float) else None
        if status_code == "XX" or (code is None and not sig):
            status, message = Status.SE, str(run.get("message") or "piston internal error")
        elif status_code in ("OL", "EL") or len(stdout) > self.output_limit:
            status, message = Status.OLE, "output limit"
        elif status_code == "TO" or (sig == "SIGKILL" and time_s >= job.timeout):
            status, message = Status.TLE, f"time limit {job.timeout:g}s"
        elif code == 0 and not sig:
            status, message = Status.OK, ""
        elif any(m in stderr for m in _MEMORY_MARKERS):
            status, message = Status.MLE, f"memory limit {job.memory_mb} MB"
        else:
            status, message = Status.RE, str(sig or f"exit {code}")
        return RunResult(
            status=status,
            exit_code=code if isinstance(code, int) else None,
            stdout=stdout[: self.output_limit],
            stderr=stderr[: self.output_limit],
            time_s=time_s,
            memory_mb=memory_mb,
            message=message,
        )

    async def _release_loop(self) -> None:
        state = self._states.pop(asyncio.get_running_loop(), None)
        if state is not None:
            for task in list(state.benched):
                task.cancel()
            await state.session.close()

    async def aclose(self) -> None:
        await self._release_loop()
