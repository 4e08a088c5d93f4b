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

Data flow: sources (name -> text) -> `compile_cpp` (one sandbox job) -> `Binary` (base64
text, cached by the graders) -> `run_binary` / `run_script` (one sandbox job per test) ->
`RunResult`.
"""

from __future__ import annotations

import atexit
import hashlib
import shlex
from collections.abc import Coroutine, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from r1_cp_scoring.errors import GradingUnavailableError
from r1_sandbox import RunResult, Sandbox, Status
from r1_sandbox.base import run_coroutine_sync

T = TypeVar("T")

#: The flags of CMS and of open-r1's cms_ioi package (`-DEVAL`: graders may test it).
CXX_FLAGS = ("-DEVAL", "-std=gnu++17", "-O2", "-pipe", "-s")
#: Compilers need far more memory and time than the programs they build.
COMPILE_TIMEOUT_S = 60.0
COMPILE_MEMORY_MB = 4096

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
    flags: Sequence[str] = CXX_FLAGS,
) -> Binary | CompileFailure:
    """Compile and link `units` (paths among `sources`) into one binary.

    Raises `GradingUnavailableError` when the sandbox itself failed (`SE`): that is
    not the program's compile error.
    """
    command = " ".join(["g++", *flags, "-o", "prog", *map(shlex.quote, units)])
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


def check_not_se(result: RunResult, what: str) -> RunResult:
    """`result`, unless the sandbox failed on it (then `GradingUnavailableError`)."""
    if result.status is Status.SE:
        raise GradingUnavailableError(f"the sandbox failed while running {what}: {result.message}")
    return result


_DEFAULT: list[Sandbox] = []


def default_sandbox() -> Sandbox:
    """The process-wide local sandbox the graders use when given no client."""
    if not _DEFAULT:
        from r1_sandbox import LocalSandbox

        box = LocalSandbox()
        atexit.register(box.close)  # its spare sandboxes and scratch root
        _DEFAULT.append(box)
    return _DEFAULT[0]


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
