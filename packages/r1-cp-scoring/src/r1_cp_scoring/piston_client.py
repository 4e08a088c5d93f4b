"""A client of a Piston fleet running open-r1's `cms_ioi` and `codeforces` packages.

open-r1 grades on Piston workers (often slurm jobs named `piston-worker-<port>`); this is
its client's contract, reimplemented: `get_piston_client_from_env()` reads
`PISTON_ENDPOINTS` (comma-separated `http://host:port/api/v2`, or `slurm` to list the
running workers with `squeue`), splits the endpoints between the ranks of a distributed
run (`LOCAL_RANK` / `WORLD_SIZE`), and bounds requests per endpoint
(`PISTON_MAX_REQUESTS_PER_ENDPOINT`, default 1). `send_execute(body, language)` retries
transient failures (connection errors, 5xx, 429, Piston's "Resource temporarily
unavailable") with capped exponential backoff on another endpoint, then raises
`PistonError`: an unreachable fleet is "could not grade", never a score of 0.

The endpoint can be r1's own `r1-cp-scoring piston-server`, which speaks the same
packages over the local sandbox; a server started with a token gets it as
`Authorization: Bearer ...` (`token=`, or `R1_PISTON_TOKEN` for the client from env).

Data flow: a cms_ioi / codeforces request from `ioi` / `codeforces` -> the least busy
endpoint -> Piston's JSON answer -> back to the grader, which reads the score.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import re
import subprocess
import weakref
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import aiohttp

from r1_cp_scoring.errors import ConfigError, PistonError

logger = logging.getLogger(__name__)

_OVERLOADED = "Resource temporarily unavailable"


def get_slurm_piston_endpoints() -> list[str]:
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
        raise PistonError(f"PISTON_ENDPOINTS=slurm but squeue failed: {exc}") from None
    endpoints = []
    for line in out.splitlines():
        fields = line.replace('"', "").split()
        if len(fields) < 2:
            continue
        match = re.fullmatch(r"piston-worker-(\d+)", fields[0])
        if match:
            endpoints.append(f"http://{fields[1]}:{match.group(1)}/api/v2")
    return endpoints


class PistonClient:
    """Load-balanced, retrying client of Piston API v2 endpoints.

    Args:
        base_endpoint: one URL or a list, each ending in `/api/v2`.
        max_requests_per_endpoint: requests in flight per endpoint.
        request_timeout: seconds one request may take (the package's own limits apply
            inside it).
        token: bearer token of an `r1-cp-scoring piston-server` started with one.
    """

    def __init__(
        self,
        base_endpoint: str | Sequence[str],
        session: aiohttp.ClientSession | None = None,
        max_requests_per_endpoint: int = 1,
        *,
        request_timeout: float = 300.0,
        base_delay: float = 1.0,
        token: str | None = None,
    ) -> None:
        endpoints = [base_endpoint] if isinstance(base_endpoint, str) else list(base_endpoint)
        if not endpoints:
            raise ConfigError("PISTON_ENDPOINTS: no Piston endpoint given (or found by squeue)")
        if max_requests_per_endpoint < 1:
            raise ConfigError(
                f"max_requests_per_endpoint={max_requests_per_endpoint}: must be >= 1"
            )
        self.base_endpoints = endpoints
        self.max_requests_per_endpoint = max_requests_per_endpoint
        self.request_timeout = request_timeout
        self.base_delay = base_delay
        self._headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._session = session
        # Queues and sessions belong to one event loop; sync wrappers make one per call.
        self._tokens: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Queue[str]] = (
            weakref.WeakKeyDictionary()
        )
        self._sessions: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, aiohttp.ClientSession
        ] = weakref.WeakKeyDictionary()

    def _queue(self) -> asyncio.Queue[str]:
        loop = asyncio.get_running_loop()
        if loop not in self._tokens:
            queue: asyncio.Queue[str] = asyncio.Queue()
            for _ in range(self.max_requests_per_endpoint):
                for endpoint in self.base_endpoints:
                    queue.put_nowait(endpoint)
            self._tokens[loop] = queue
        return self._tokens[loop]

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is not None:
            return self._session
        import aiohttp  # here, so importing the package does not load the HTTP stack

        loop = asyncio.get_running_loop()
        if loop not in self._sessions or self._sessions[loop].closed:
            self._sessions[loop] = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.request_timeout)
            )
        return self._sessions[loop]

    async def aclose(self) -> None:
        """Close the session of the running loop (one passed in is the caller's)."""
        session = self._sessions.pop(asyncio.get_running_loop(), None)
        if session is not None:
            await session.close()

    async def get_supported_runtimes(self) -> list[Any]:
        """GET /runtimes of every endpoint."""

        async def one(endpoint: str) -> Any:
            async with self.session.get(
                f"{endpoint.rstrip('/')}/runtimes", headers=self._headers
            ) as response:
                return await response.json(content_type=None)

        return list(await asyncio.gather(*(one(e) for e in self.base_endpoints)))

    async def send_execute(
        self, data: dict[str, Any], language: str = "cms_ioi", max_retries: int = 5
    ) -> dict[str, Any]:
        """POST /execute with `language`; retried on transient failures, else PistonError."""
        import aiohttp

        body = {**data, "language": language, "version": "*"}
        queue = self._queue()
        last = "no attempt"
        for attempt in range(max_retries + 1):
            endpoint = await queue.get()
            try:
                async with self.session.post(
                    f"{endpoint.rstrip('/')}/execute", json=body, headers=self._headers
                ) as response:
                    answer = await response.json(content_type=None)
                    if response.status == 200 and isinstance(answer, dict):
                        run = answer.get("run") or {}
                        if _OVERLOADED not in str(run.get("stderr", "")):
                            return answer
                    if 400 <= response.status < 500 and response.status != 429:
                        # The request is wrong; sending it again cannot help.
                        raise PistonError(f"{endpoint}: HTTP {response.status}: {answer}")
                    last = f"{endpoint}: HTTP {response.status}: {str(answer)[:300]}"
            except (TimeoutError, aiohttp.ClientError, ValueError) as exc:
                last = f"{endpoint}: {type(exc).__name__}: {exc}"
            finally:
                queue.put_nowait(endpoint)
            if attempt < max_retries:
                delay = min(self.base_delay * 2**attempt, 10.0) * random.uniform(0.9, 1.1)
                logger.warning(
                    "Piston attempt %d failed (%s); retrying in %.1fs", attempt + 1, last, delay
                )
                await asyncio.sleep(delay)
        raise PistonError(f"Piston failed after {max_retries + 1} attempts; last: {last}")

    def send_execute_sync(
        self, data: dict[str, Any], language: str = "cms_ioi", max_retries: int = 5
    ) -> dict[str, Any]:
        """`send_execute` for sync callers."""
        from r1_cp_scoring._programs import run_sync

        return run_sync(self.send_execute(data, language, max_retries), self)

    def get_supported_runtimes_sync(self) -> list[Any]:
        """`get_supported_runtimes` for sync callers."""
        from r1_cp_scoring._programs import run_sync

        return run_sync(self.get_supported_runtimes(), self)


def get_piston_client_from_env(session: aiohttp.ClientSession | None = None) -> PistonClient:
    """A `PistonClient` configured from `PISTON_ENDPOINTS` and friends (see module doc)."""
    spec = os.environ.get("PISTON_ENDPOINTS")
    if not spec:
        raise ConfigError(
            "PISTON_ENDPOINTS is not set: give comma-separated http://host:port/api/v2 URLs, "
            "'slurm', or run `r1-cp-scoring piston-server` and point it there"
        )
    if spec.strip() == "slurm":
        endpoints = get_slurm_piston_endpoints()
    else:
        endpoints = [e.strip() for e in spec.split(",") if e.strip()]
    endpoints = sorted(endpoints)
    rank, world = int(os.environ.get("LOCAL_RANK", 0)), int(os.environ.get("WORLD_SIZE", 1))
    if world > 1 and len(endpoints) >= world:
        endpoints = endpoints[rank::world]  # each GPU process its own share of the fleet
    random.shuffle(endpoints)
    per_endpoint = int(os.environ.get("PISTON_MAX_REQUESTS_PER_ENDPOINT", "1"))
    return PistonClient(
        endpoints,
        session,
        max_requests_per_endpoint=per_endpoint,
        token=os.environ.get("R1_PISTON_TOKEN") or None,
    )
