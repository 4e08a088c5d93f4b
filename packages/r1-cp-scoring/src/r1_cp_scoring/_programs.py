"""Compile once, run many, on any r1-sandbox backend: binaries shipped as base64 text.

r1-sandbox compiles a C++ job from one source file, and keeps the binary only for the
runs of one `run_inputs` call. A contest grader needs more: several translation units
(the submission plus the task's `grader.cpp` or `stub.cpp`, linked as CMS links them),
and a binary that outlives one call, because tests run in batches with early stop and a
checker or manager is shared by every submission of a problem. So the compile is a bash
job of its own (`g++ ... && base64 prog`), and each run is a bash job that decodes the
binary it is handed as a text file and `exec`s it. Text, not bytes, so the same path
works through the routed, Piston-free and MorphCloud backends, whose wire formats are
JSON; decoding a 50 kB binary costs well under a millisecond. Same-TU alternatives
(`#include "grader.cpp"` into the submission) were rejected: a global named like one of
the grader's breaks a correct submission.

Guarantees: each run is a fresh sandbox of the backend (for `local`: namespaces, no
network, rlimits); the binary is stripped (`-s`) to keep the text small.
Not guaranteed: a binary over the backend's output cap (1 MiB of base64 by default) cannot
be shipped and is reported as a compile error that says so.

Data flow: sources (name -> text) -> `Builds.build` (cache per sandbox) -> `compile_cpp`
(one sandbox job, flags from r1-sandbox's table) -> `Binary` (base64 text) ->
`run_binary` / `run_script` (one sandbox job per test) -> `RunResult`.
"""

from __future__ import annotations

import asyncio
import collections
import hashlib
import shlex
import threading
import weakref
from collections.abc import Coroutine, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from r1_cp_scoring.errors import GradingUnavailableError
from r1_sandbox import RunResult, Sandbox, Status, get_language
from r1_sandbox.base import run_coroutine_sync

T = TypeVar("T")

#: Compilers need far more memory and time than the programs they build.
COMPILE_TIMEOUT_S = 60.0
COMPILE_MEMORY_MB = 4096
#: The bound of the default sandbox: the code rewards' `num_parallel` default.
DEFAULT_CONCURRENCY = 2

# Lifting the stack limit as CMS does (recursive solutions), where the hard limit allows.
_STACK = "ulimit -s unlimited 2>/dev/null || ulimit -s $(ulimit -H -s) 2>/dev/null\n"


@dataclass(frozen=True)
class Binary:
    """A compiled program, as base64 text, ready to be placed beside a run."""

    b64: str

    def decode_line(self, name: str) -> str:
        """The bash line that materialises this binary as `./name` in a run."""
        q = shlex.quote(name)
        return f"base64 -d {q}.b64 > {q} && chmod +x {q} && rm -f {q}.b64 || exit 125\n"


@dataclass(frozen=True)
class CompileFailure:
    """A build that failed: the compiler's message, as CMS shows it."""

    message: str


def digest(*parts: str) -> str:
    """A stable key for caches of builds."""
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode())
        h.update(b"\0")
    return h.hexdigest()


async def compile_cpp(
    box: Sandbox,
    sources: Mapping[str, str],
    units: Sequence[str],
    *,
    flags: Sequence[str],
) -> Binary | CompileFailure:
    """Compile and link `units` (paths among `sources`) into one binary.

    The compiler and `flags` come from r1-sandbox's table (`flags_for(language, judge)`).

    Raises `GradingUnavailableError` when the sandbox itself failed (`SE`): that is
    not the program's compile error.
    """
    argv = get_language("cpp").compile_argv(list(units), "prog", flags)
    command = " ".join(map(shlex.quote, argv))
    script = f"{command} 1>&2 || exit 1\nbase64 -w0 prog\n"
    result = await box.run(
        script,
        "bash",
        files=dict(sources),
        timeout=COMPILE_TIMEOUT_S,
        memory_mb=COMPILE_MEMORY_MB,
    )
    if result.status is Status.OK and result.stdout.strip():
        return Binary(result.stdout.strip())
    if result.status is Status.SE:
        raise GradingUnavailableError(f"the sandbox failed while compiling: {result.message}")
    if result.status is Status.OLE:
        return CompileFailure("the binary is too large to ship to the runs (output limit)")
    if result.status is Status.TLE:
        return CompileFailure("compilation timed out")
    return CompileFailure((result.stderr or result.message).strip()[-4000:])


async def run_script(
    box: Sandbox,
    script: str,
    *,
    binaries: Mapping[str, Binary],
    files: Mapping[str, str] | None = None,
    stdin: str = "",
    timeout: float,
    memory_mb: int,
) -> RunResult:
    """Run a bash `script` with `binaries` materialised first (as `./name`)."""
    placed = {f"{name}.b64": b.b64 for name, b in binaries.items()}
    prologue = "".join(b.decode_line(name) for name, b in binaries.items())
    return await box.run(
        prologue + _STACK + script,
        "bash",
        stdin=stdin,
        files={**placed, **(files or {})},
        timeout=timeout,
        memory_mb=memory_mb,
    )


async def run_binary(
    box: Sandbox,
    binary: Binary,
    *,
    stdin: str,
    timeout: float,
    memory_mb: int,
    argv: Sequence[str] = (),
    files: Mapping[str, str] | None = None,
) -> RunResult:
    """Run one binary with `stdin`; its stdout, stderr and verdict are the run's."""
    args = " ".join(map(shlex.quote, argv))
    return await run_script(
        box,
        f"exec ./prog {args}\n",
        binaries={"prog": binary},
        files=files,
        stdin=stdin,
        timeout=timeout,
        memory_mb=memory_mb,
    )


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
        self._builds: collections.OrderedDict[str, Binary | CompileFailure] = (
            collections.OrderedDict()
        )
        self._pending: dict[tuple[int, str], asyncio.Future[Binary | CompileFailure]] = {}
        self.compiles = 0  # how many compile jobs ran: the benchmark and tests read it

    async def build(
        self,
        sources: Mapping[str, str],
        units: Sequence[str],
        flags: Sequence[str],
    ) -> Binary | CompileFailure:
        """The cached build of `units` with `flags`, compiled once even under concurrency.

        A caller cancelled during the compile (its client hung up) cancels only itself:
        the callers waiting on the same build start it again.
        """
        key = digest(*flags, "\0units", *units, *(f"{k}\0{v}" for k, v in sorted(sources.items())))
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
        future: asyncio.Future[Binary | CompileFailure] = loop.create_future()
        self._pending[pending_key] = future
        try:
            self.compiles += 1
            built = await compile_cpp(self.box, sources, units, flags=flags)
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
