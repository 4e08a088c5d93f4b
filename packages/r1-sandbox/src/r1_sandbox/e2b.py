"""The E2B backend: each job in a fresh E2B cloud sandbox (e2b-code-interpreter SDK).

open-r1 sends a whole evaluation script to E2B's Jupyter kernel with `run_code`; its
direct (non-router) path passes `languages=` to `AsyncSandbox.run_code`, a keyword the
SDK does not take, so every call raises, the error is swallowed and every sample scores
0.0. Here a job is a program with stdin, so it runs through the sandbox's shell
(`commands.run`) like any other backend, and failures are `SE` results with the cause.

The SDK is imported when the backend is built, never with the package: install
`r1-sandbox[e2b]` and set `E2B_API_KEY`. Tests replace `AsyncSandbox` (the SDK
boundary) with a fake; everything above it is this code.

Data flow: `Job` -> `AsyncSandbox.create` -> `commands.run` (setup, run) -> `RunResult`
-> `kill()`.
"""

from __future__ import annotations

import contextlib
from typing import Any

from r1_sandbox._remote import RemoteShellSandbox
from r1_sandbox.errors import MissingExtraError
from r1_sandbox.result import DEFAULT_OUTPUT_LIMIT, Job


def _sdk() -> Any:
    try:
        from e2b_code_interpreter import AsyncSandbox
    except ImportError:
        raise MissingExtraError("the e2b backend", "e2b") from None
    return AsyncSandbox


class E2BSandbox(RemoteShellSandbox):
    """Runs each job in its own E2B sandbox.

    Args:
        concurrency: sandboxes alive at once (E2B accounts limit this; 20 by default there).
        template: E2B template id (default: the SDK's code-interpreter template).
        sandbox_factory: replaces `AsyncSandbox` (tests, or a pre-configured subclass).
        sandbox_timeout: E2B's lifetime of a sandbox, seconds.
    """

    name = "e2b"

    def __init__(
        self,
        *,
        concurrency: int = 8,
        template: str | None = None,
        sandbox_factory: Any = None,
        sandbox_timeout: int = 300,
        request_timeout: float = 30.0,
        output_limit: int = DEFAULT_OUTPUT_LIMIT,
    ) -> None:
        super().__init__(concurrency, output_limit)
        self._factory = sandbox_factory if sandbox_factory is not None else _sdk()
        self.template = template
        self.sandbox_timeout = sandbox_timeout
        self.request_timeout = request_timeout

    async def _open(self, job: Job) -> Any:
        kwargs: dict[str, Any] = {
            "timeout": max(self.sandbox_timeout, int(job.timeout) + 60),
            "request_timeout": self.request_timeout,
        }
        if self.template:
            kwargs["template"] = self.template
        return await self._factory.create(**kwargs)

    async def _exec(self, vm: Any, command: str, timeout: float) -> tuple[int, str, str]:
        try:
            done = await vm.commands.run(
                command, timeout=timeout, request_timeout=self.request_timeout
            )
        except Exception as exc:
            # The SDK raises CommandExitException (a CommandResult) on a non-zero exit.
            if hasattr(exc, "exit_code") and hasattr(exc, "stdout"):
                failed: Any = exc
                return int(failed.exit_code), str(failed.stdout), str(failed.stderr)
            raise
        return int(done.exit_code), str(done.stdout), str(done.stderr)

    async def _close(self, vm: Any) -> None:
        with contextlib.suppress(Exception):
            await vm.kill()
