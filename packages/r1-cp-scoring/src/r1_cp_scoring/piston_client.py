"""A client of a Piston fleet running open-r1's `cms_ioi` and `codeforces` packages.

open-r1 grades on Piston workers (often slurm jobs named `piston-worker-<port>`); this is
its client's contract (`PistonClient`, `get_piston_client_from_env`, `send_execute`,
`get_slurm_piston_endpoints`), kept as a thin user of r1-sandbox's `PistonTransport`. The
transport owns everything about the fleet, once for both packages: endpoints from
`PISTON_ENDPOINTS` (URLs, or `slurm`), the split between ranks, the per-endpoint bound
(`PISTON_MAX_REQUESTS_PER_ENDPOINT`), the retry, backoff and overload policy, and the
bearer token (`R1_PISTON_TOKEN`). What is left here is the contest side: the package name
in the body (`cms_ioi`, `cf_python3`, `c++17`) and this package's errors, so that an
unreachable fleet is `PistonError` ("could not grade"), never a score of 0.

The endpoint can be r1's own `r1-cp-scoring piston-server`, which speaks the same
packages over the local sandbox.

Data flow: a cms_ioi / codeforces request from `ioi` / `codeforces` -> `send_execute` ->
`PistonTransport.execute` (endpoint slot, retries) -> Piston's JSON answer -> the
grader, which reads the score.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from r1_cp_scoring.errors import ConfigError, PistonError

if TYPE_CHECKING:
    import aiohttp

    from r1_sandbox.piston import PistonTransport


def get_slurm_piston_endpoints() -> list[str]:
    """`http://<node>:<port>/api/v2` of every running slurm job named `piston-worker-<port>`."""
    from r1_sandbox import SandboxError
    from r1_sandbox.piston import slurm_endpoints

    try:
        return slurm_endpoints()
    except SandboxError as exc:
        raise PistonError(str(exc)) from None


class PistonClient:
    """open-r1's Piston client: `cms_ioi` / `codeforces` requests over r1-sandbox's transport.

    Args:
        base_endpoint: one URL or a list, each ending in `/api/v2`.
        session: an aiohttp session of the caller's (never closed here).
        max_requests_per_endpoint: requests in flight per endpoint.
        request_timeout: seconds one request may take (the package's own limits apply
            inside it).
        base_delay: first retry delay (default: the transport's); see r1-sandbox's
            `PistonTransport` for the policy.
        token: bearer token of an `r1-cp-scoring piston-server` started with one.
    """

    def __init__(
        self,
        base_endpoint: str | Sequence[str],
        session: aiohttp.ClientSession | None = None,
        max_requests_per_endpoint: int = 1,
        *,
        request_timeout: float = 300.0,
        base_delay: float | None = None,
        token: str | None = None,
    ) -> None:
        from r1_sandbox.piston import PistonTransport

        endpoints = [base_endpoint] if isinstance(base_endpoint, str) else list(base_endpoint)
        if not endpoints:
            raise ConfigError("PISTON_ENDPOINTS: no Piston endpoint given (or found by squeue)")
        if max_requests_per_endpoint < 1:
            raise ConfigError(
                f"max_requests_per_endpoint={max_requests_per_endpoint}: must be >= 1"
            )
        options: dict[str, Any] = {} if base_delay is None else {"backoff_s": base_delay}
        self.transport: PistonTransport = PistonTransport(
            endpoints,
            per_endpoint=max_requests_per_endpoint,
            request_timeout=request_timeout,
            # An explicit None must not fall back to R1_PISTON_TOKEN here: the env
            # factory below reads it; a client built by hand says what it wants.
            token=token or "",
            session=session,
            **options,
        )

    @property
    def base_endpoints(self) -> list[str]:
        return self.transport.endpoints

    @property
    def max_requests_per_endpoint(self) -> int:
        return self.transport.per_endpoint

    async def aclose(self) -> None:
        """Close the session of the running loop (one passed in is the caller's)."""
        await self.transport.release_loop()

    async def get_supported_runtimes(self) -> list[Any]:
        """GET /runtimes of every endpoint."""
        return await self.transport.runtimes()

    async def send_execute(
        self, data: dict[str, Any], language: str = "cms_ioi", max_retries: int = 5
    ) -> dict[str, Any]:
        """POST /execute with `language`; retried on transient failures, else PistonError."""
        from r1_sandbox import ServiceRefusedError, ServiceUnavailableError

        body = {**data, "language": language, "version": "*"}
        try:
            return await self.transport.execute(body, max_retries=max_retries)
        except (ServiceRefusedError, ServiceUnavailableError) as exc:
            raise PistonError(str(exc)) from None

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
    """A `PistonClient` configured from `PISTON_ENDPOINTS` and friends (see r1-sandbox)."""
    from r1_sandbox import SandboxError
    from r1_sandbox.piston import endpoints_from_env, per_endpoint_from_env

    if not os.environ.get("PISTON_ENDPOINTS", "").strip():
        raise ConfigError(
            "PISTON_ENDPOINTS is not set: give comma-separated http://host:port/api/v2 URLs, "
            "'slurm', or run `r1-cp-scoring piston-server` and point it there"
        )
    try:
        endpoints = endpoints_from_env()
        per_endpoint = per_endpoint_from_env()
    except SandboxError as exc:
        raise PistonError(str(exc)) from None
    return PistonClient(
        endpoints,
        session,
        max_requests_per_endpoint=per_endpoint,
        token=os.environ.get("R1_PISTON_TOKEN") or None,
    )
