"""The routed backend: a client of `r1-sandbox router`, so many trainers share one fleet.

A training job with 64 GPUs grading code would otherwise open 64 separate pools of
sandboxes; open-r1 solves that with a router service in front of E2B / Morph, and so
does r1. This client posts whole batches to r1's endpoint (`POST /v1/run_batch`, jobs
with stdin, files and limits), retries with backoff when the router is saturated (503) or
unreachable, and, for an open-r1 router (`/execute_batch` only, scripts without stdin),
falls back to that protocol for Python, feeding stdin through `sys.stdin`. A router
started with a token gets it as `Authorization: Bearer ...` (`token=` or
`$R1_SANDBOX_TOKEN`).

Data flow: `Job`s -> HTTP batch to the router -> its backend (local, e2b, morph) ->
`RunResult`s in order.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import random
import weakref
from collections.abc import Mapping, Sequence
from typing import Any

import aiohttp

from r1_sandbox.base import Sandbox
from r1_sandbox.errors import BackendConfigError
from r1_sandbox.languages import Language, get_language
from r1_sandbox.result import Job, RunResult, Status

logger = logging.getLogger(__name__)


def normalise_url(url: str) -> str:
    """open-r1 passes router URLs without a scheme ("host:8000"); accept both.

    >>> normalise_url("10.0.0.1:8000/")
    'http://10.0.0.1:8000'
    """
    url = url.strip().rstrip("/")
    return url if "://" in url else f"http://{url}"


class RoutedSandbox(Sandbox):
    """Sends jobs to an `r1-sandbox router` (or an open-r1 router, Python only).

    Args:
        url: the router, "http://host:port" or open-r1's "host:port".
        batch_size: jobs per HTTP request.
        concurrency: requests in flight.
        max_retries: retries on 503 / connection errors.
        backoff_s: the first delay between retries, doubled after each.
        request_timeout: seconds per request on top of the jobs' own timeouts.
        token: the router's bearer token (default: `$R1_SANDBOX_TOKEN`, if set).
    """

    name = "routed"

    def __init__(
        self,
        url: str,
        *,
        batch_size: int = 32,
        concurrency: int = 4,
        max_retries: int = 5,
        backoff_s: float = 0.5,
        request_timeout: float = 60.0,
        token: str | None = None,
    ) -> None:
        if not url:
            raise BackendConfigError("routed: url is empty; pass the router's host:port")
        if batch_size < 1:
            raise BackendConfigError(f"batch_size={batch_size}: must be >= 1")
        super().__init__(concurrency)
        self.url = normalise_url(url)
        self.batch_size = batch_size
        self.max_retries = max_retries
        self.backoff_s = backoff_s
        self.request_timeout = request_timeout
        token = token or os.environ.get("R1_SANDBOX_TOKEN") or None
        self._headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._protocol: str | None = None  # "r1" or "open-r1", found on first use
        self._sessions: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, aiohttp.ClientSession
        ] = weakref.WeakKeyDictionary()

    def _session(self) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        session = self._sessions.get(loop)
        if session is None or session.closed:
            session = self._sessions[loop] = aiohttp.ClientSession()
        return session

    async def _post(self, path: str, body: Any, timeout: float) -> tuple[int, Any]:
        """POST with retries on saturation and connection errors."""
        cause = ""
        for attempt in range(self.max_retries + 1):
            if attempt:
                await asyncio.sleep(self.backoff_s * 2 ** (attempt - 1) * (0.5 + random.random()))
            try:
                async with self._session().post(
                    f"{self.url}{path}",
                    json=body,
                    headers=self._headers,
                    timeout=aiohttp.ClientTimeout(total=timeout + self.request_timeout),
                ) as resp:
                    text = await resp.text()
                    if resp.status in (429, 502, 503, 504):
                        cause = f"HTTP {resp.status}: {text[:200]}"
                        continue
                    if resp.status != 200:  # 404 from an open-r1 router, 4xx: not retried
                        return resp.status, text[:500]
                    return resp.status, json.loads(text)
            except (TimeoutError, aiohttp.ClientError, ValueError) as exc:
                cause = f"{type(exc).__name__}: {exc}"
        raise ConnectionError(
            f"router {self.url}: gave up after {self.max_retries + 1} attempts; last: {cause}"
        )

    async def _send_r1(self, jobs: Sequence[Job]) -> list[RunResult] | None:
        """r1's endpoint; None when the router does not have it (an open-r1 router)."""
        timeout = sum(j.timeout for j in jobs)
        status, data = await self._post(
            "/v1/run_batch", {"jobs": [j.to_dict() for j in jobs]}, timeout
        )
        if status == 404:
            return None
        if status != 200 or not isinstance(data, dict) or len(data.get("results", ())) != len(jobs):
            return [
                RunResult.system_error(f"router {self.url}: HTTP {status}: {str(data)[:300]}")
            ] * len(jobs)
        return [RunResult.from_dict(r) for r in data["results"]]

    async def _send_open_r1(self, jobs: Sequence[Job]) -> list[RunResult]:
        """open-r1's `/execute_batch`: scripts only, so stdin is fed through sys.stdin."""
        scripts, index = [], []
        results: list[RunResult] = [
            RunResult.system_error(
                "an open-r1 router runs Python scripts only (no stdin, no files)"
            )
        ] * len(jobs)
        for i, job in enumerate(jobs):
            if get_language(job.language).name == "python" and not job.files:
                prelude = f"import io, sys\nsys.stdin = io.StringIO({job.stdin!r})\n"
                scripts.append(prelude + job.code)
                index.append(i)
        if not scripts:
            return results
        timeout = max(j.timeout for j in jobs)
        body = {
            "scripts": scripts,
            "languages": ["python"] * len(scripts),
            "timeout": int(timeout + 0.999),
            "request_timeout": int(self.request_timeout),
        }
        status, data = await self._post("/execute_batch", body, timeout * len(scripts))
        if status != 200 or not isinstance(data, list) or len(data) != len(scripts):
            failed = RunResult.system_error(f"router {self.url}: HTTP {status}: {str(data)[:300]}")
            return [failed] * len(jobs)
        for i, item in zip(index, data, strict=True):
            results[i] = from_open_r1_item(item)
        return results

    async def _send(self, jobs: Sequence[Job]) -> list[RunResult]:
        try:
            if self._protocol != "open-r1":
                got = await self._send_r1(jobs)
                if got is not None:
                    self._protocol = "r1"
                    return got
                self._protocol = "open-r1"
                logger.info("router %s speaks open-r1's protocol only: Python scripts", self.url)
            return await self._send_open_r1(jobs)
        except ConnectionError as exc:
            return [RunResult.system_error(str(exc))] * len(jobs)

    async def _run_job(self, job: Job) -> RunResult:
        return (await self._send([job]))[0]

    async def run_batch(self, jobs: Sequence[Job]) -> list[RunResult]:
        """Send the jobs in batches of `batch_size` (the router compiles shared programs once)."""
        for job in jobs:
            get_language(job.language)
        chunks = [list(jobs[i : i + self.batch_size]) for i in range(len(jobs))[:: self.batch_size]]

        async def one(chunk: list[Job]) -> list[RunResult]:
            async with self._slot():
                return await self._guarded_list(chunk)

        parts = await asyncio.gather(*(one(c) for c in chunks))
        return [r for part in parts for r in part]

    async def _guarded_list(self, chunk: list[Job]) -> list[RunResult]:
        try:
            return await self._send(chunk)
        except Exception as exc:
            logger.exception("routed batch failed")
            return [RunResult.system_error(f"routed: {type(exc).__name__}: {exc}")] * len(chunk)

    async def _run_source_inputs(
        self,
        code: str,
        lang: Language,
        inputs: Sequence[str],
        *,
        files: Mapping[str, str | bytes],
        timeout: float,
        memory_mb: int,
    ) -> list[RunResult]:
        """Source code: one job per input in one router batch (the router groups them).
        (A built `Artifact` takes the base class's batch runner, its binary shipped.)"""
        return await self.run_batch(
            [Job(code, lang.name, s, files, timeout, memory_mb) for s in inputs]
        )

    async def _release_loop(self) -> None:
        session = self._sessions.pop(asyncio.get_running_loop(), None)
        if session is not None:
            await session.close()

    async def aclose(self) -> None:
        await self._release_loop()


def from_open_r1_item(item: Any) -> RunResult:
    """One item of an open-r1 router's answer (E2B or Morph flavour) as a `RunResult`."""
    if not isinstance(item, dict):
        return RunResult.system_error(f"unreadable router item: {str(item)[:200]}")
    if isinstance(item.get("r1"), dict):  # an r1 router adds its own verdict: trust it
        return RunResult.from_dict(item["r1"])
    execution = item.get("execution")
    if isinstance(execution, dict):
        logs = execution.get("logs") or {}
        stdout = "".join(logs.get("stdout") or [])
        stderr = "".join(logs.get("stderr") or [])
        error = execution.get("error")
        if error:
            return RunResult(
                Status.RE,
                1,
                stdout,
                stderr or str(error.get("traceback", "")),
                message=str(error.get("name")),
            )
        return RunResult(Status.OK, 0, stdout, stderr)
    if item.get("text") is not None:  # open-r1's Morph router
        return RunResult(Status.OK, 0, str(item["text"]))
    return RunResult.system_error(
        str(item.get("exception_str") or "the router returned no execution")
    )
