"""The one interface of every backend: async `run`, `run_batch`, `run_inputs`, sync twins.

A reward function in a training loop is sync code; a router or a grader is async. Both
call the same object: the async methods are the implementation and the `*_sync` twins run
them on a private event loop (in a helper thread when the caller already has a running
loop, as in a Jupyter notebook). A backend implements only `_run_job`; it may override
`run_inputs` (one program, many inputs) and `_run_placed` (how built programs reach a run).
`build` / `run(artifact)` / `run_inputs(artifact, inputs)` (modules `artifacts`, `_batch`)
compile once for any number of later runs, on every backend. A backend that says so
(`_runs_sources_in_turn`: local, contained) runs the interpreted jobs of a batch a chunk
per sandbox, one after the other, through the same batch runner.

Concurrency is bounded per backend (`concurrency`), and a batch comes back in the order it
went in. The bound is one counter per backend object, shared by every event loop and
thread that uses it (`_SharedLimit`), not an `asyncio.Semaphore` per loop: the sync twins
make a loop per call, so a code reward and an IOI grader running in two threads would
otherwise each get the whole bound. With `backends.shared_sandbox` handing every caller
of one configuration the same object, `concurrency` bounds all of them together.

An exception inside a backend never escapes a batch: the run becomes an `SE` result
naming the cause, so one dead host costs one result, not a training step.

Data flow: `Job`s from rewards, graders, the CLI or the router -> `run_batch` (bounded,
ordered; jobs sharing one compiled program are grouped, interpreted jobs chunked where the
backend allows it) -> `_run_job` of the backend (a chunk: one run of the batch runner) ->
`RunResult`s in input order.
"""

from __future__ import annotations

import abc
import asyncio
import collections
import logging
import shlex
import threading
from collections.abc import Awaitable, Callable, Collection, Coroutine, Mapping, Sequence
from typing import Any, ClassVar, TypeVar

from r1_sandbox import _batch, artifacts
from r1_sandbox.artifacts import COMPILE_MEMORY_MB, COMPILE_TIMEOUT_S, Artifact, ship
from r1_sandbox.errors import BackendConfigError, UnsupportedLanguageError
from r1_sandbox.languages import Language, get_language
from r1_sandbox.result import (
    DEFAULT_MEMORY_MB,
    DEFAULT_OUTPUT_LIMIT,
    DEFAULT_TIMEOUT_S,
    Job,
    RunResult,
    Status,
)

logger = logging.getLogger(__name__)
T = TypeVar("T")


def run_coroutine_sync(coro: Coroutine[Any, Any, T]) -> T:
    """Run `coro` to completion from sync code, even inside a running event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = asyncio.run(coro)
        except BaseException as exc:  # re-raised in the caller's thread
            box["error"] = exc

    thread = threading.Thread(target=target, name="r1-sandbox-sync")
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    return box["value"]


def _grant(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


class _SharedLimit:
    """At most `limit` holders at once, across every event loop and thread.

    Waiters are served first come, first served; a slot released in one thread is
    handed to a waiter of another loop through `call_soon_threadsafe`.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.in_use = 0
        self._lock = threading.Lock()
        self._waiters: collections.deque[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = (
            collections.deque()
        )

    async def acquire(self) -> None:
        loop = asyncio.get_running_loop()
        with self._lock:
            if self.in_use < self.limit and not self._waiters:
                self.in_use += 1
                return
            future: asyncio.Future[None] = loop.create_future()
            entry = (loop, future)
            self._waiters.append(entry)
        try:
            await future
        except asyncio.CancelledError:
            with self._lock:
                try:
                    self._waiters.remove(entry)
                    granted = False
                except ValueError:
                    granted = True  # a release handed us the slot as we were cancelled
            if granted:
                self.release()
            raise

    def release(self) -> None:
        with self._lock:
            while self._waiters:
                loop, future = self._waiters.popleft()
                try:
                    loop.call_soon_threadsafe(_grant, future)  # the slot passes to it
                except RuntimeError:  # its loop is closed: nobody waits there any more
                    continue
                return
            self.in_use -= 1

    async def __aenter__(self) -> None:
        await self.acquire()

    async def __aexit__(self, *exc: object) -> None:
        self.release()


class Sandbox(abc.ABC):
    """Base class of the backends. Use it as an async (or plain) context manager."""

    name: ClassVar[str] = "abstract"
    #: Limits of a compile (`build`), whatever the runs' limits; backends may override.
    compile_timeout: float = COMPILE_TIMEOUT_S
    compile_memory_mb: int = COMPILE_MEMORY_MB

    def __init__(self, concurrency: int = 8) -> None:
        if concurrency < 1:
            raise BackendConfigError(f"concurrency={concurrency!r}: must be >= 1")
        self.concurrency = concurrency
        self._limit = _SharedLimit(concurrency)

    # -- what a backend implements ------------------------------------------------------

    @abc.abstractmethod
    async def _run_job(self, job: Job) -> RunResult:
        """Run one job; called with a concurrency slot held."""

    async def aclose(self) -> None:
        """Release what the backend holds (sessions, scratch directories)."""
        return None

    # -- the async API ------------------------------------------------------------------

    def _slot(self) -> _SharedLimit:
        """The backend's concurrency bound, as an async context manager (any loop)."""
        return self._limit

    async def _guarded(self, work: Awaitable[RunResult], what: str) -> RunResult:
        try:
            return await work
        except Exception as exc:
            logger.exception("%s backend failed on %s", self.name, what)
            return RunResult.system_error(f"{self.name} backend: {type(exc).__name__}: {exc}")

    async def run_job(self, job: Job) -> RunResult:
        """Run one job within the concurrency bound."""
        get_language(job.language)  # an unknown language is the caller's error: raise
        async with self._slot():
            return await self._guarded(self._run_job(job), f"a {job.language} job")

    async def build(
        self,
        sources: Mapping[str, str] | str,
        language: str = "cpp",
        flags: Sequence[str] | None = None,
        *,
        units: Sequence[str] | None = None,
        timeout: float | None = None,
        memory_mb: int | None = None,
    ) -> Artifact:
        """Compile `sources` (name -> text, or the code of one file) into an `Artifact`.

        `units` are the translation units among `sources` (default: the language's source
        file, else every file with its suffix); `flags` default to the language's
        (`languages.flags_for(language, judge)` gives a judge's). The compile runs in a
        sandbox under `timeout` / `memory_mb` (default the backend's `compile_timeout`,
        `compile_memory_mb`). A compile error is an artifact with status `CE` and the
        compiler's message; a sandbox failure, status `SE`.
        """
        lang = artifacts.check_language(language)
        if isinstance(sources, str):
            sources = {lang.source: sources}
        chosen = list(units) if units else artifacts.default_units(lang, sources)
        used_flags = lang.flags if flags is None else tuple(flags)
        digest = artifacts.source_digest(lang.name, used_flags, chosen, sources)
        seconds = self.compile_timeout if timeout is None else timeout
        megabytes = self.compile_memory_mb if memory_mb is None else memory_mb
        result = await self.run(
            artifacts.compile_script(lang, chosen, used_flags),
            "bash",
            files=dict(sources),
            timeout=seconds,
            memory_mb=megabytes,
        )
        return artifacts.artifact_from_compile(
            result, lang, digest, f"{seconds:g} s, {megabytes} MB"
        )

    async def run(
        self,
        code: str | Artifact,
        language: str = "python",
        *,
        stdin: str = "",
        files: Mapping[str, str | bytes] | None = None,
        timeout: float = DEFAULT_TIMEOUT_S,
        memory_mb: int = DEFAULT_MEMORY_MB,
        argv: Sequence[str] = (),
        artifacts: Mapping[str, Artifact] | None = None,
        exec_only: Collection[str] = (),
    ) -> RunResult:
        """Run `code` (or a built `Artifact`, with `argv`) once and return its result.

        `artifacts` places built programs as `./name` beside a bash script (a manager and
        a contestant); an artifact that did not build returns its `CE` / `SE` unrun. Those
        named in `exec_only` can be executed but not read by the run's uid, so the kernel
        starts them non-dumpable (no ptrace, no `/proc/<pid>/mem` from the others).
        """
        if isinstance(code, Artifact):
            program = code
            if not program.ok:
                return program.failed_result()
            code, language = f"exec ./prog {shlex.join(argv)}\n", "bash"
            artifacts = {**(artifacts or {}), "prog": program}
        if artifacts:
            if get_language(language).name != "bash":
                raise UnsupportedLanguageError(
                    f"artifacts= places programs beside a bash script, not language={language!r}"
                )
            unknown = set(exec_only) - set(artifacts)
            if unknown:
                raise ValueError(f"exec_only names no artifact: {sorted(unknown)}")
            return await self._run_placed(
                Job(code, language, stdin, files or {}, timeout, memory_mb),
                artifacts,
                frozenset(exec_only),
            )
        job = Job(code, language, stdin, files or {}, timeout, memory_mb)
        return await self.run_job(job)

    async def _run_placed(
        self, job: Job, artifacts: Mapping[str, Artifact], exec_only: frozenset[str]
    ) -> RunResult:
        """Run a bash `job` with built programs at `./name`: shipped as files by default.

        The local backend overrides this to bind each binary read-only into the run.
        """
        placed, prologue = ship(artifacts, exec_only)
        files = {**placed, **job.files}
        return await self.run_job(
            Job(prologue + job.code, job.language, job.stdin, files, job.timeout, job.memory_mb)
        )

    async def run_inputs(
        self,
        program: Artifact | str,
        inputs: Sequence[str],
        *,
        language: str = "python",
        files: Mapping[str, str | bytes] | None = None,
        timeout: float = DEFAULT_TIMEOUT_S,
        memory_mb: int = DEFAULT_MEMORY_MB,
        argv: Sequence[str] = (),
        artifacts: Mapping[str, Artifact] | None = None,
        exec_only: Collection[str] = (),
        input_files: Sequence[Mapping[str, str | bytes]] | None = None,
    ) -> list[RunResult]:
        """Run one program on many inputs; results in input order.

        A built `Artifact` (or source code of a compiled `language`, built here first, once)
        runs all its inputs inside one sandbox: each test has its own limits, fresh scratch
        directory holding `files`, verdict, time and memory, and no process survives from
        one test to the next (see `r1_sandbox._batch`). If the batch's report cannot be
        read, every test runs in a sandbox of its own. Source code of an interpreted
        language runs as `run_batch` runs its jobs: in turn, a chunk per sandbox, where the
        backend allows it (local, contained), else one sandbox per input; always within
        the backend's concurrency bound. A bash script with `artifacts` (and `exec_only`,
        as for `run`) runs once per input beside those built programs: on the local
        backend, inputs in turn, a chunk per sandbox, the programs bound read-only as for
        a run of its own; elsewhere one run per input. `input_files` (a built program, or
        a script beside `artifacts`) gives each input files of its own beside `files`:
        a checker's input, answer and contestant output, a file-mode test's input.txt
        (distinct interpreted programs: `run_batch`).
        """
        if not inputs:
            return []
        if input_files is not None and len(input_files) != len(inputs):
            raise ValueError(f"input_files: {len(input_files)} mappings for {len(inputs)} inputs")
        if artifacts:
            if isinstance(program, Artifact) or argv or get_language(language).name != "bash":
                raise UnsupportedLanguageError(
                    "run_inputs: artifacts= places built programs beside a bash script"
                )
            unknown = set(exec_only) - set(artifacts)
            if unknown:
                raise ValueError(f"exec_only names no artifact: {sorted(unknown)}")
            return await self._run_placed_inputs(
                program,
                inputs,
                files=files or {},
                timeout=timeout,
                memory_mb=memory_mb,
                artifacts=artifacts,
                exec_only=frozenset(exec_only),
                input_files=input_files,
            )
        if input_files is not None:
            if isinstance(program, str):
                lang = get_language(language)
                if not lang.compiled:
                    raise UnsupportedLanguageError(
                        "run_inputs: input_files= needs a built program or a script beside "
                        "artifacts=; distinct interpreted jobs go to run_batch"
                    )
                program = await self._build_source(program, lang, files or {})
            return await self._run_artifact_inputs(
                program,
                inputs,
                files=files or {},
                timeout=timeout,
                memory_mb=memory_mb,
                argv=argv,
                input_files=input_files,
            )
        if isinstance(program, str):
            lang = get_language(language)
            if not argv:
                return await self._run_source_inputs(
                    program, lang, inputs, files=files or {}, timeout=timeout, memory_mb=memory_mb
                )
            if not lang.compiled:
                raise UnsupportedLanguageError(
                    f"run_inputs: argv= needs a built program, not {lang.name} source"
                )
            program = await self._build_source(program, lang, files or {})
        return await self._run_artifact_inputs(
            program, inputs, files=files or {}, timeout=timeout, memory_mb=memory_mb, argv=argv
        )

    async def _build_source(
        self, code: str, lang: Language, files: Mapping[str, str | bytes]
    ) -> Artifact:
        sources = {n: c for n, c in files.items() if isinstance(c, str)}
        return await self.build({**sources, lang.source: code}, lang.name)

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
        """`run_inputs` of source code (no `argv`): built once if compiled, else `run_batch`.

        Remote backends override this to keep every input in one VM (or router batch).
        """
        if not lang.compiled:
            return await self.run_batch(
                [Job(code, lang.name, s, files, timeout, memory_mb) for s in inputs]
            )
        artifact = await self._build_source(code, lang, files)
        return await self._run_artifact_inputs(
            artifact, inputs, files=files, timeout=timeout, memory_mb=memory_mb, argv=()
        )

    async def _run_artifact_inputs(
        self,
        artifact: Artifact,
        inputs: Sequence[str],
        *,
        files: Mapping[str, str | bytes],
        timeout: float,
        memory_mb: int,
        argv: Sequence[str],
        input_files: Sequence[Mapping[str, str | bytes]] | None = None,
    ) -> list[RunResult]:
        """`run_inputs` of a built program: one sandbox, the batch runner inside."""
        if not artifact.ok:
            return [artifact.failed_result() for _ in inputs]
        no_files: Mapping[str, str | bytes] = {}
        own_files = list(input_files) if input_files is not None else [no_files] * len(inputs)

        async def alone(k: int) -> RunResult:
            return await self.run(
                artifact,
                stdin=inputs[k],
                files={**files, **own_files[k]},
                timeout=timeout,
                memory_mb=memory_mb,
                argv=argv,
            )

        async def start(part: list[int]) -> tuple[RunResult, str]:
            stdin, whole_s, whole_mb, nonce = _batch.batch_job(
                artifact.binary,
                [inputs[k] for k in part],
                timeout=timeout,
                memory_mb=memory_mb,
                argv=argv,
                output_limit=self._output_limit(),
                files=files,
                input_files=[own_files[k] for k in part],
            )
            whole = await self.run(
                _batch.RUNNER, "python", stdin=stdin, timeout=whole_s, memory_mb=whole_mb
            )
            return whole, nonce

        return await self._run_in_turn(
            [list(range(len(inputs)))], start, alone, lambda _: (timeout, memory_mb)
        )

    def _output_limit(self) -> int:
        return int(getattr(self, "output_limit", DEFAULT_OUTPUT_LIMIT))

    async def _run_in_turn(
        self,
        parts: Sequence[list[int]],
        start: Callable[[list[int]], Awaitable[tuple[RunResult, str]]],
        alone: Callable[[int], Awaitable[RunResult]],
        limits: Callable[[int], tuple[float, int]],
        *,
        system_error_ends: bool = True,
    ) -> list[RunResult]:
        """Results of entries 0..n-1 (`parts` cover them), each part in turn in a sandbox.

        `start(part)` runs the batch runner on a part and returns that run and its secret;
        `limits(k)` is entry k's (timeout, memory_mb), for its verdict. A part of one entry
        runs `alone` (the runner would only add its start), and so does every entry of a
        part whose report cannot be read; with `system_error_ends`, a part whose run is
        SE (the backend could not run it) is SE throughout instead. The runner stops after
        a test that timed out and reports what ran, a prefix of its part; the rest of the
        part is then spread over up to `concurrency` sandboxes side by side. Tests that
        all time out thus take about as long as with a sandbox each, and tests that do
        not, one sandbox's setup.
        """
        results: list[RunResult | None] = [None] * sum(len(p) for p in parts)

        async def in_turn(part: list[int]) -> list[RunResult]:
            if len(part) == 1:
                return [await alone(part[0])]
            whole, nonce = await start(part)
            if system_error_ends and whole.status is Status.SE:
                return [whole] * len(part)
            records = _batch.read_report(whole.stdout, nonce, len(part))
            if records is not None:
                limit = self._output_limit()
                return [
                    _batch.result_of(r, *limits(k), limit)
                    for r, k in zip(records, part, strict=False)
                ]
            logger.info("%s: batch report missing (%s); one sandbox each", self.name, whole)
            return list(await asyncio.gather(*(alone(k) for k in part)))

        async def go(part: list[int]) -> None:
            got = await in_turn(part)
            for k, result in zip(part, got, strict=False):
                results[k] = result
            rest = part[len(got) :]
            if rest:
                ways = min(self.concurrency, len(rest))
                size = -(-len(rest) // ways)
                await asyncio.gather(*(go(rest[i : i + size]) for i in range(0, len(rest), size)))

        await asyncio.gather(*(go(list(p)) for p in parts))
        return [r if r is not None else RunResult.system_error("lost") for r in results]

    def _binds_placed_read_only(self) -> bool:
        """Whether `_run_placed` binds built programs read-only into a run the batch
        runner may sweep, so that a script's inputs can share a sandbox beside them."""
        return False

    async def _run_placed_inputs(
        self,
        code: str,
        inputs: Sequence[str],
        *,
        files: Mapping[str, str | bytes],
        timeout: float,
        memory_mb: int,
        artifacts: Mapping[str, Artifact],
        exec_only: frozenset[str],
        input_files: Sequence[Mapping[str, str | bytes]] | None = None,
    ) -> list[RunResult]:
        """`run_inputs` of a bash script beside built programs."""
        failed = next((a for a in artifacts.values() if not a.ok), None)
        if failed is not None:
            return [failed.failed_result() for _ in inputs]
        no_files: Mapping[str, str | bytes] = {}
        own_files = list(input_files) if input_files is not None else [no_files] * len(inputs)

        async def alone(k: int) -> RunResult:
            return await self.run(
                code,
                "bash",
                stdin=inputs[k],
                files={**files, **own_files[k]},
                timeout=timeout,
                memory_mb=memory_mb,
                artifacts=artifacts,
                exec_only=exec_only,
            )

        if len(inputs) < 2 or not self._binds_placed_read_only():
            return list(await asyncio.gather(*(alone(k) for k in range(len(inputs)))))

        async def start(part: list[int]) -> tuple[RunResult, str]:
            script, runner_files, stdin, whole_s, whole_mb, nonce = _batch.placed_job(
                code,
                [inputs[k] for k in part],
                files=files,
                timeout=timeout,
                memory_mb=memory_mb,
                placed=list(artifacts),
                output_limit=self._output_limit(),
                input_files=[own_files[k] for k in part],
            )
            whole = await self.run(
                script,
                "bash",
                stdin=stdin,
                files=runner_files,
                timeout=whole_s,
                memory_mb=whole_mb,
                artifacts=artifacts,
                exec_only=exec_only,
            )
            return whole, nonce

        size = max(1, min(self.sources_per_sandbox, -(-len(inputs) // self.concurrency)))
        parts = [list(range(k, min(k + size, len(inputs)))) for k in range(0, len(inputs), size)]
        return await self._run_in_turn(parts, start, alone, lambda _: (timeout, memory_mb))

    #: Most interpreted jobs of one `run_batch` that share a sandbox, one after the other.
    sources_per_sandbox: int = 32

    def _runs_sources_in_turn(self) -> bool:
        """Whether interpreted jobs of a batch may share a sandbox through the batch runner.

        Only where the runner's sweep is safe (a contained local run under r1's init).
        """
        return False

    async def run_batch(self, jobs: Sequence[Job]) -> list[RunResult]:
        """Run many jobs with bounded concurrency; results in the order of `jobs`.

        Jobs that share a compiled program (same language, code, files and limits) are
        handed to `run_inputs` together, so a C++ submission is compiled once per batch.
        Where the backend allows it (local, contained), interpreted jobs are cut into
        chunks of about `len / concurrency` (at most `sources_per_sandbox`) and each chunk
        runs in one sandbox, job after job, each with its own limits, scratch, verdict and
        no process surviving it (`r1_sandbox._batch`); if a chunk's report cannot be read,
        its jobs run in a sandbox each.
        """
        groups: dict[tuple[Any, ...], list[int]] = {}
        in_turn: list[int] = []
        share = self._runs_sources_in_turn()
        for i, job in enumerate(jobs):
            lang = get_language(job.language)
            if lang.compiled:
                key = (
                    lang.name,
                    job.code,
                    tuple(sorted(job.files.items())),
                    job.timeout,
                    job.memory_mb,
                )
            elif share:
                in_turn.append(i)
                continue
            else:
                key = ("#", i)
            groups.setdefault(key, []).append(i)
        size = min(self.sources_per_sandbox, -(-len(in_turn) // self.concurrency))
        chunks = [in_turn[k : k + max(size, 1)] for k in range(0, len(in_turn), max(size, 1))]
        results: list[RunResult | None] = [None] * len(jobs)

        async def one_group(indices: list[int]) -> None:
            first = jobs[indices[0]]
            if len(indices) == 1:
                results[indices[0]] = await self.run_job(first)
                return
            outs = await self.run_inputs(
                first.code,
                [jobs[i].stdin for i in indices],
                language=first.language,
                files=first.files,
                timeout=first.timeout,
                memory_mb=first.memory_mb,
            )
            for i, out in zip(indices, outs, strict=True):
                results[i] = out

        async def one_chunk(indices: list[int]) -> None:
            if len(indices) == 1:
                results[indices[0]] = await self.run_job(jobs[indices[0]])
                return
            outs = await self._run_sources([jobs[i] for i in indices])
            for i, out in zip(indices, outs, strict=True):
                results[i] = out

        await asyncio.gather(
            *(one_group(ix) for ix in groups.values()), *(one_chunk(ix) for ix in chunks)
        )
        return [r if r is not None else RunResult.system_error("lost") for r in results]

    async def _run_sources(self, jobs: Sequence[Job]) -> list[RunResult]:
        """Interpreted `jobs` in one sandbox, one after the other (the batch runner).

        What a hostile job can do to another's verdict is what a test of one artifact can
        do to the next test (`r1_sandbox._batch`): nothing but make the runner stop without
        a report, and then every job here runs in a sandbox of its own.
        """
        for job in jobs:
            get_language(job.language)  # an unknown language is the caller's error: raise

        async def start(part: list[int]) -> tuple[RunResult, str]:
            stdin, whole_s, whole_mb, nonce = _batch.sources_job(
                [jobs[k] for k in part], self._output_limit()
            )
            whole = await self.run(
                _batch.RUNNER, "python", stdin=stdin, timeout=whole_s, memory_mb=whole_mb
            )
            return whole, nonce

        async def alone(k: int) -> RunResult:
            return await self.run_job(jobs[k])

        # An SE of the chunk's run falls back to a sandbox per job (as it always has here).
        return await self._run_in_turn(
            [list(range(len(jobs)))],
            start,
            alone,
            lambda k: (jobs[k].timeout, jobs[k].memory_mb),
            system_error_ends=False,
        )

    # -- sync twins ---------------------------------------------------------------------

    async def _release_loop(self) -> None:
        """Free what this backend holds on the running loop (HTTP sessions)."""
        return None

    def _sync(self, coro: Coroutine[Any, Any, T]) -> T:
        async def scoped() -> T:
            # Each sync call has its own loop: what was opened on it is closed with it.
            try:
                return await coro
            finally:
                await self._release_loop()

        return run_coroutine_sync(scoped())

    def build_sync(
        self,
        sources: Mapping[str, str] | str,
        language: str = "cpp",
        flags: Sequence[str] | None = None,
        **kwargs: Any,
    ) -> Artifact:
        """`build` for sync callers."""
        return self._sync(self.build(sources, language, flags, **kwargs))

    def run_sync(self, code: str | Artifact, language: str = "python", **kwargs: Any) -> RunResult:
        """`run` for sync callers."""
        return self._sync(self.run(code, language, **kwargs))

    def run_inputs_sync(
        self, program: Artifact | str, inputs: Sequence[str], **kwargs: Any
    ) -> list[RunResult]:
        """`run_inputs` for sync callers."""
        return self._sync(self.run_inputs(program, inputs, **kwargs))

    def run_batch_sync(self, jobs: Sequence[Job]) -> list[RunResult]:
        """`run_batch` for sync callers."""
        return self._sync(self.run_batch(jobs))

    def close(self) -> None:
        """`aclose` for sync callers."""
        run_coroutine_sync(self.aclose())

    async def __aenter__(self) -> Sandbox:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
