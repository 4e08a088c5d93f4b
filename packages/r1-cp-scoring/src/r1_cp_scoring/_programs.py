"""The graders' side of compiled programs: a build cache per sandbox, and sandbox failures.

Compiling is r1-sandbox's (`Sandbox.build` -> `Artifact`, with the flags of its one table,
`flags_for("cpp", "ioi" | "codeforces")`, and `run(artifact)` / `run(script, "bash",
artifacts=...)` on every backend). What a grader adds is the lifetime: a submission is
built once for all its tests, batches and subtasks, and a checker or manager once for
every submission of a problem, so builds are cached per sandbox, by content (`Builds`),
and shared by the IOI and Codeforces graders (neither borrows the other's judge). The
cache also makes concurrent callers of one build wait for one compile.

Data flow: sources (name -> text) + units + flags -> `builds_for(box).build` (cached) ->
`Sandbox.build` (one sandboxed compile) -> `Artifact` -> the graders' runs.
"""

from __future__ import annotations

import asyncio
import collections
import hashlib
import threading
import weakref
from collections.abc import Coroutine, Mapping, Sequence
from typing import Any, TypeVar

from r1_cp_scoring.errors import GradingUnavailableError
from r1_sandbox import Artifact, RunResult, Sandbox, Status
from r1_sandbox.artifacts import source_digest
from r1_sandbox.base import run_coroutine_sync

T = TypeVar("T")

#: Compilers need far more memory and time than the programs they build; a contest's
#: harness (grader + submission) more than most.
COMPILE_TIMEOUT_S = 60.0
COMPILE_MEMORY_MB = 4096
#: The bound of the default sandbox: the code rewards' `num_parallel` default.
DEFAULT_CONCURRENCY = 2


def digest(*parts: str) -> str:
    """A stable key for caches of checks (a checker's syntax check)."""
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode())
        h.update(b"\0")
    return h.hexdigest()


class Builds:
    """The build cache of one sandbox, shared by every grader that runs on it.

    IOI submissions, IOI checkers and managers, and Codeforces submissions are all
    builds of sources with flags; one cache per sandbox, keyed by content, so two
    graders never compile the same thing twice and neither borrows the other's judge.

    Args:
        box: the sandbox the builds run on (and the binaries are for).
        cache_size: builds kept; one build is a few tens of kB of text.
    """

    def __init__(self, box: Sandbox, *, cache_size: int = 256) -> None:
        self.box = box
        self.cache_size = cache_size
        self._builds: collections.OrderedDict[str, Artifact] = collections.OrderedDict()
        self._pending: dict[tuple[int, str], asyncio.Future[Artifact]] = {}
        self.compiles = 0  # how many compile jobs ran: the benchmark and tests read it

    async def build(
        self,
        sources: Mapping[str, str],
        units: Sequence[str],
        flags: Sequence[str],
    ) -> Artifact:
        """The cached build of `units` with `flags`, compiled once even under concurrency.

        A caller cancelled during the compile (its client hung up) cancels only itself:
        the callers waiting on the same build start it again.
        """
        key = source_digest("cpp", flags, units, sources)
        loop = asyncio.get_running_loop()
        pending_key = (id(loop), key)
        while True:
            if key in self._builds:
                self._builds.move_to_end(key)
                return self._builds[key]
            waiting = self._pending.get(pending_key)
            if waiting is None:
                break
            try:
                return await asyncio.shield(waiting)
            except asyncio.CancelledError:
                task = asyncio.current_task()
                if not waiting.cancelled() or (task is not None and task.cancelling()):
                    raise  # we were cancelled ourselves, not the compile we waited on
        future: asyncio.Future[Artifact] = loop.create_future()
        self._pending[pending_key] = future
        try:
            self.compiles += 1
            built = await self.box.build(
                sources,
                "cpp",
                flags,
                units=units,
                timeout=COMPILE_TIMEOUT_S,
                memory_mb=COMPILE_MEMORY_MB,
            )
            if built.status is Status.SE:
                # Not the program's compile error, and not worth caching.
                raise GradingUnavailableError(
                    f"the sandbox failed while compiling: {built.message}"
                )
            self._builds[key] = built
            while len(self._builds) > self.cache_size:
                self._builds.popitem(last=False)
            future.set_result(built)
            return built
        except asyncio.CancelledError:
            future.cancel()  # the waiters compile again (see above)
            raise
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: concurrent waiters re-raise it themselves
            raise
        finally:
            del self._pending[pending_key]


_BUILDS: weakref.WeakKeyDictionary[Sandbox, Builds] = weakref.WeakKeyDictionary()
_BUILDS_LOCK = threading.Lock()


def builds_for(box: Sandbox) -> Builds:
    """The one build cache of a sandbox."""
    with _BUILDS_LOCK:
        builds = _BUILDS.get(box)
        if builds is None:
            builds = _BUILDS[box] = Builds(box)
        return builds


def check_not_se(result: RunResult, what: str) -> RunResult:
    """`result`, unless the sandbox failed on it (then `GradingUnavailableError`)."""
    if result.status is Status.SE:
        raise GradingUnavailableError(f"the sandbox failed while running {what}: {result.message}")
    return result


def default_sandbox() -> Sandbox:
    """The process's local sandbox the graders use when given no client.

    r1-sandbox's `shared_sandbox` with the code rewards' default bound (2, open-r1's
    `parallel_code_exec_per_proc`), so graders and code rewards share one pool.
    """
    from r1_sandbox import shared_sandbox

    return shared_sandbox("local", concurrency=DEFAULT_CONCURRENCY)


def run_sync(coro: Coroutine[Any, Any, T], client: Any = None) -> T:
    """Run a grader coroutine from sync code (the `*_sync` twins of the public API).

    Each call gets its own event loop (in a helper thread when the caller already runs
    one); what `client` opened on that loop (an HTTP session of a routed or Piston
    client) is closed with it, so nothing is left bound to a dead loop.
    """

    async def scoped() -> T:
        try:
            return await coro
        finally:
            if isinstance(client, Sandbox):
                await client._release_loop()
            elif client is not None and callable(getattr(client, "aclose", None)):
                await client.aclose()

    return run_coroutine_sync(scoped())
