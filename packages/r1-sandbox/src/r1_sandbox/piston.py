"""The Piston transport and backend: a fleet of Piston API v2 servers, as open-r1 uses.

open-r1 grades IOI and Codeforces on Piston workers started on its cluster. Two kinds of
caller talk to such a fleet: this package's `PistonSandbox` (plain runs: a language, code,
stdin) and r1-cp-scoring's `PistonClient` (open-r1's `cms_ioi` / `codeforces` packages,
whose bodies it builds itself). Both go through the one `PistonTransport` here, so the
fleet sees one policy, whoever calls it:
- endpoints from `PISTON_ENDPOINTS` (comma-separated URLs ending in /api/v2, or `slurm`
  for the running slurm jobs named `piston-worker-<port>`, found with `squeue`), split
  between the ranks of a distributed run (`LOCAL_RANK` / `WORLD_SIZE`), each with at most
  `per_endpoint` requests in flight (`PISTON_MAX_REQUESTS_PER_ENDPOINT`, default 1): a
  token queue hands out endpoint slots, so load spreads over the fleet;
- transient failures (connection refused, a timeout, HTTP 429 / 5xx, a run whose stderr
  says Piston's "Resource temporarily unavailable", i.e. the worker is overloaded) are
  retried up to `max_retries` times on the next free endpoint, after `backoff_s` x 2^n
  (jittered x0.5-1.5, capped at 10 s); an endpoint that failed sits out a cool-down of
  `backoff_s` x 2^(failures-1) (capped at 30 s) before it takes requests again;
- an answer that says the request is wrong (HTTP 4xx other than 429) is not retried
  (`ServiceRefusedError`); when the retries run out, `ServiceUnavailableError` names
  the last endpoint and cause. `PistonSandbox` turns both into an `SE` result, never 0.0;
- a server started with a token (`r1-cp-scoring piston-server --token`) gets it as
  `Authorization: Bearer ...` (`token=`, default `R1_PISTON_TOKEN`).

Data flow: `Job` -> `PistonSandbox.payload` ({language, version, files, stdin,
run_timeout, run_memory_limit}) or a grader's package body -> `PistonTransport.execute`
(endpoint slot, retries) -> `POST {endpoint}/execute` -> Piston's answer -> `RunResult`
(or the grader's verdict).
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import re
import subprocess
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from r1_sandbox.base import Sandbox
from r1_sandbox.errors import BackendConfigError, ServiceRefusedError, ServiceUnavailableError
from r1_sandbox.languages import get_language
from r1_sandbox.result import DEFAULT_OUTPUT_LIMIT, Job, RunResult, Status

logger = logging.getLogger(__name__)

_RETRY_STATUSES = {429, 500, 502, 503, 504}
_OVERLOADED = "Resource temporarily unavailable"
_MEMORY_MARKERS = ("MemoryError", "std::bad_alloc", "Cannot allocate memory")
#: Ceilings of the retry delay and of an endpoint's cool-down, in seconds.
MAX_BACKOFF_S = 10.0
MAX_BENCH_S = 30.0


def slurm_endpoints() -> list[str]:
    """`http://<node>:<port>/api/v2` of every running slurm job named `piston-worker-<port>`."""
    try:
        out = subprocess.run(
            ["squeue", "--format=%j %N %T", "--noheader", "--states=RUNNING"],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError) as exc:
        raise BackendConfigError(f"PISTON_ENDPOINTS=slurm but squeue failed: {exc}") from None
    endpoints = []
    for line in out.splitlines():
        fields = line.replace('"', "").split()
        if len(fields) < 2:
            continue
        match = re.fullmatch(r"piston-worker-(\d+)", fields[0])
        if match:
            endpoints.append(f"http://{fields[1]}:{match.group(1)}/api/v2")
    return endpoints


def endpoints_from_env() -> list[str]:
    """The endpoints of `PISTON_ENDPOINTS` (URLs or `slurm`), this rank's share of them."""
    raw = os.environ.get("PISTON_ENDPOINTS", "").strip()
    if raw == "slurm":
        found = slurm_endpoints()
    else:
        found = [e.strip().rstrip("/") for e in raw.split(",") if e.strip()]
    rank, world = int(os.environ.get("LOCAL_RANK", 0)), int(os.environ.get("WORLD_SIZE", 1))
    if world > 1 and len(found) >= world:
        found = sorted(found)[rank::world]  # each GPU process its own share of the fleet
    return found


def per_endpoint_from_env(default: int = 1) -> int:
    """`PISTON_MAX_REQUESTS_PER_ENDPOINT`, or `default`."""
    raw = os.environ.get("PISTON_MAX_REQUESTS_PER_ENDPOINT", "").strip()
    try:
        return int(raw) if raw else default
    except ValueError:
        raise BackendConfigError(
            f"PISTON_MAX_REQUESTS_PER_ENDPOINT={raw!r}: must be an integer >= 1"
        ) from None


class _Transient(Exception):
    """A failure worth retrying on another endpoint."""


@dataclass
class _LoopState:
    session: aiohttp.ClientSession
    tokens: asyncio.Queue[str]
    own_session: bool = True
    failures: dict[str, int] = field(default_factory=dict)
    benched: set[asyncio.Task[None]] = field(default_factory=set)


class PistonTransport:
    """HTTP to a Piston fleet: endpoint slots, retries, backoff, benching, bearer token.

    Args:
        endpoints: base URLs such as "http://worker-1:2000/api/v2" (a list, or one
            comma-separated string); default `endpoints_from_env()`.
        per_endpoint: requests in flight per endpoint (Piston runs one job per core);
            default `PISTON_MAX_REQUESTS_PER_ENDPOINT` or 1.
        max_retries: further attempts after the first, each on the next free endpoint.
        backoff_s: first retry delay; doubles each attempt, with jitter.
        request_timeout: seconds for one HTTP request beyond the run's own time.
        token: bearer token of a server started with one; default `R1_PISTON_TOKEN`.
        session: an aiohttp session of the caller's, used on every loop and never closed
            here; by default each event loop gets its own.
    """

    def __init__(
        self,
        endpoints: Sequence[str] | str | None = None,
        *,
        per_endpoint: int | None = None,
        max_retries: int = 4,
        backoff_s: float = 0.5,
        request_timeout: float = 30.0,
        token: str | None = None,
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        if isinstance(endpoints, str):
            endpoints = [e for e in endpoints.split(",") if e.strip()]
        found = [e.strip().rstrip("/") for e in endpoints] if endpoints else endpoints_from_env()
        if not found:
            raise BackendConfigError(
                "piston: no endpoints; pass endpoints=[...] or set PISTON_ENDPOINTS="
                '"http://host:2000/api/v2,..." (or "slurm")'
            )
        per_endpoint = per_endpoint_from_env() if per_endpoint is None else per_endpoint
        if per_endpoint < 1 or max_retries < 0 or backoff_s < 0:
            raise BackendConfigError(
                f"per_endpoint={per_endpoint}, max_retries={max_retries}, backoff_s={backoff_s}:"
                " need >= 1, >= 0 and >= 0"
            )
        self.endpoints = found
        self.per_endpoint = per_endpoint
        self.max_retries = max_retries
        self.backoff_s = backoff_s
        self.request_timeout = request_timeout
        if token is None:
            token = os.environ.get("R1_PISTON_TOKEN") or None
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._session = session
        # Queues and sessions belong to one event loop; the sync twins make one per call.
        self._states: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopState] = (
            weakref.WeakKeyDictionary()
        )

    @property
    def capacity(self) -> int:
        """Requests in flight at most, over the whole fleet."""
        return self.per_endpoint * len(self.endpoints)

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
            if self._session is not None:
                state = _LoopState(self._session, tokens, own_session=False)
            else:
                connector = aiohttp.TCPConnector(limit=self.capacity)
                state = _LoopState(aiohttp.ClientSession(connector=connector), tokens)
            self._states[loop] = state
        return state

    async def _release(self, state: _LoopState, endpoint: str, failed: bool) -> None:
        if not failed:
            state.failures[endpoint] = 0
            state.tokens.put_nowait(endpoint)
            return
        count = state.failures[endpoint] = state.failures.get(endpoint, 0) + 1
        # A failing endpoint sits out a growing cool-down, so healthy ones take the load.
        delay = min(MAX_BENCH_S, self.backoff_s * 2 ** (count - 1))

        async def later() -> None:
            await asyncio.sleep(delay)
            state.tokens.put_nowait(endpoint)

        task = asyncio.create_task(later())
        state.benched.add(task)
        task.add_done_callback(state.benched.discard)

    async def _post(
        self, state: _LoopState, endpoint: str, body: Mapping[str, Any], timeout: float
    ) -> dict[str, Any]:
        try:
            async with state.session.post(
                f"{endpoint}/execute",
                json=body,
                headers=self.headers,
                timeout=aiohttp.ClientTimeout(total=timeout + self.request_timeout),
            ) as resp:
                status = resp.status
                data = await resp.json(content_type=None)
        except (TimeoutError, aiohttp.ClientError, ValueError) as exc:
            raise _Transient(f"{type(exc).__name__}: {exc}") from exc
        if status in _RETRY_STATUSES:
            raise _Transient(f"HTTP {status}: {str(data)[:300]}")
        if status != 200 or not isinstance(data, dict):
            message = data.get("message") if isinstance(data, dict) else data
            raise ServiceRefusedError(f"{endpoint}: HTTP {status}: {message}")
        if _OVERLOADED in str((data.get("run") or {}).get("stderr", "")):
            raise _Transient(f"overloaded: {data['run']['stderr'][:200]}")
        return data

    def retry_delay(self, attempt: int) -> float:
        """Seconds to wait before retry number `attempt` (1-based), jittered."""
        base = min(MAX_BACKOFF_S, self.backoff_s * 2 ** (attempt - 1))
        return base * (0.5 + random.random())

    async def execute(
        self, body: Mapping[str, Any], *, run_s: float = 0.0, max_retries: int | None = None
    ) -> dict[str, Any]:
        """POST `body` to /execute of the next free endpoint, retrying what is transient.

        `run_s` is the time the run itself may take (added to `request_timeout`).
        Raises `ServiceRefusedError` (not retried) or `ServiceUnavailableError`.
        """
        retries = self.max_retries if max_retries is None else max_retries
        state = self._state()
        cause = "no attempt"
        for attempt in range(retries + 1):
            if attempt:
                await asyncio.sleep(self.retry_delay(attempt))
            endpoint = await state.tokens.get()
            failed = True
            try:
                data = await self._post(state, endpoint, body, run_s)
                failed = False
                return data
            except _Transient as exc:
                cause = f"{endpoint}: {exc}"
                logger.info("piston attempt %d failed: %s", attempt + 1, cause)
            except ServiceRefusedError:
                failed = False
                raise
            finally:
                await self._release(state, endpoint, failed)
        raise ServiceUnavailableError(
            f"piston: gave up after {retries + 1} attempts; last: {cause}"
        )

    async def runtimes(self) -> list[Any]:
        """GET /runtimes of every endpoint (no retries: a probe)."""
        state = self._state()

        async def one(endpoint: str) -> Any:
            async with state.session.get(
                f"{endpoint}/runtimes",
                headers=self.headers,
                timeout=aiohttp.ClientTimeout(total=self.request_timeout),
            ) as response:
                return await response.json(content_type=None)

        return list(await asyncio.gather(*(one(e) for e in self.endpoints)))

    async def release_loop(self) -> None:
        """Close what this transport opened on the running loop."""
        state = self._states.pop(asyncio.get_running_loop(), None)
        if state is not None:
            for task in list(state.benched):
                task.cancel()
            if state.own_session:
                await state.session.close()


class PistonSandbox(Sandbox):
    """Runs programs on Piston API v2 servers (through `PistonTransport`).

    `endpoints`, `per_endpoint`, `max_retries`, `backoff_s`, `request_timeout` and `token`
    are handed to the transport unchanged (see `PistonTransport`).

    Args:
        versions: Piston runtime version per language name (default "*", the newest).
        output_limit: characters kept per stream; stdout beyond it is OLE.
    """

    name = "piston"

    def __init__(
        self,
        endpoints: Sequence[str] | str | None = None,
        *,
        per_endpoint: int | None = None,
        max_retries: int = 4,
        backoff_s: float = 0.5,
        request_timeout: float = 30.0,
        versions: Mapping[str, str] | None = None,
        output_limit: int = DEFAULT_OUTPUT_LIMIT,
        token: str | None = None,
    ) -> None:
        transport = PistonTransport(
            endpoints,
            per_endpoint=per_endpoint,
            max_retries=max_retries,
            backoff_s=backoff_s,
            request_timeout=request_timeout,
            token=token,
        )
        super().__init__(concurrency=transport.capacity)
        self.transport = transport
        self.endpoints = transport.endpoints
        self.per_endpoint = transport.per_endpoint
        self.max_retries = max_retries
        self.backoff_s = backoff_s
        self.request_timeout = request_timeout
        self.versions = dict(versions or {})
        self.output_limit = output_limit

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

    async def _run_job(self, job: Job) -> RunResult:
        try:
            data = await self.transport.execute(self.payload(job), run_s=job.timeout)
        except ServiceRefusedError as exc:  # Piston refused the request: retrying won't help
            return RunResult.system_error(f"piston refused the job: {exc}")
        except ServiceUnavailableError as exc:
            return RunResult.system_error(str(exc))
        return self.to_result(data, job)

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
        await self.transport.release_loop()

    async def aclose(self) -> None:
        await self._release_loop()
