"""The MorphCloud backend: each job in a fresh Morph VM started from a snapshot.

open-r1 used `morphcloud.sandbox.Sandbox`, a module current morphcloud releases no
longer ship; this backend uses the stable instance API instead (`instances.astart` from
a snapshot, `aexec`, `astop`). The snapshot must have bash, coreutils and the compilers
of the languages you run. Install `r1-sandbox[morph]`; set `MORPH_API_KEY` and pass
`snapshot_id` (or set `MORPH_SNAPSHOT_ID`).

Tests replace the client (the SDK boundary) with a fake; everything above it is this code.

Data flow: `Job` -> `instances.astart(snapshot)` -> `aexec` (setup, run) -> `RunResult`
-> `astop()`.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from typing import Any

from r1_sandbox._remote import RemoteShellSandbox
from r1_sandbox.errors import BackendConfigError, MissingExtraError
from r1_sandbox.result import DEFAULT_OUTPUT_LIMIT, Job


def _client(api_key: str | None) -> Any:
    try:
        from morphcloud.api import MorphCloudClient
    except ImportError:
        raise MissingExtraError("the morph backend", "morph") from None
    return MorphCloudClient(api_key=api_key or os.environ.get("MORPH_API_KEY"))


class MorphSandbox(RemoteShellSandbox):
    """Runs each job in its own MorphCloud instance."""

    name = "morph"

    def __init__(
        self,
        *,
        snapshot_id: str | None = None,
        concurrency: int = 8,
        api_key: str | None = None,
        client: Any = None,
        ttl_seconds: int = 600,
        output_limit: int = DEFAULT_OUTPUT_LIMIT,
    ) -> None:
        super().__init__(concurrency, output_limit)
        self.snapshot_id = snapshot_id or os.environ.get("MORPH_SNAPSHOT_ID")
        if not self.snapshot_id:
            raise BackendConfigError(
                "morph: no snapshot; pass snapshot_id=... or set MORPH_SNAPSHOT_ID"
            )
        self._client = client if client is not None else _client(api_key)
        self.ttl_seconds = ttl_seconds

    async def _open(self, job: Job) -> Any:
        return await self._client.instances.astart(
            self.snapshot_id, ttl_seconds=max(self.ttl_seconds, int(job.timeout) + 120)
        )

    async def _exec(self, vm: Any, command: str, timeout: float) -> tuple[int, str, str]:
        done = await asyncio.wait_for(
            vm.aexec(["bash", "-c", command], timeout=timeout), timeout + 30
        )
        return int(done.exit_code), str(done.stdout), str(done.stderr)

    async def _close(self, vm: Any) -> None:
        with contextlib.suppress(Exception):
            await vm.astop()
