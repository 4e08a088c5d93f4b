"""A persistent pool of math-verify worker processes with a hard timeout per item.

The math reward sits inside the RL loop: every GRPO step scores (prompts x generations)
completions, and one adversarial completion (`9^{9^{9^9}}`, 20,000 unclosed `\\boxed{`)
must not stall the step or crash the trainer. open-r1 grades sequentially in the trainer
process and relies on math-verify's `signal.alarm`, which silently fails off the main
thread and cannot interrupt work done in C. This pool fixes both:

Guarantees:
- every parse/verify runs in the main thread of a worker process (see `_math_worker.py`),
  so math-verify's own timeouts work and results are the same from any calling thread;
- every item has a hard wall-clock limit: a worker still busy with one item past it is
  killed (SIGKILL), the item is `Reason.TIMED_OUT` (scored 0.0), the rest of its chunk
  goes back on the queue, and a replacement starts in the background while the other
  workers keep going;
- workers are fresh interpreters (`subprocess`, never `fork`), started lazily on first use,
  kept for later batches, and ended at interpreter exit, when their parent dies
  (PR_SET_PDEATHSIG), or when their pipe closes.

Not guaranteed:
- isolation from a hostile program: this grades text, it does not run code (that is
  r1-sandbox's job);
- more throughput than the cores you have: a batch is spread over `workers` processes.

Why not `concurrent.futures.ProcessPoolExecutor`: it cannot cancel a running task, and a
killed worker breaks the whole executor. Why not `pebble`: per-task timeouts fit, but its
tasks have no affinity, and routing a GRPO group (one gold, G completions) to one worker
is what lets the worker parse the gold once and verify each distinct answer once.

Data flow: (completion text, gold) pairs from `math_accuracy` -> deduplicated, grouped by
gold into chunks -> idle workers (dynamic load balancing) -> one outcome per pair, in order.
"""

from __future__ import annotations

import atexit
import concurrent.futures
import contextlib
import json
import logging
import os
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from typing import Any

from r1_rewards._math_worker import MODES, Graded
from r1_rewards.errors import MathWorkerError
from r1_rewards.verdicts import Reason

logger = logging.getLogger(__name__)

# Items per chunk. Small enough that idle workers can steal work from a large group, large
# enough that a GRPO group of 16 usually lands on one worker (one gold parse, shared verdicts).
_CHUNK = 16

# The worker bootstrap: a fresh interpreter with the parent's import path, so that the
# worker finds r1_rewards however the parent found it (installed, editable, or sys.path).
_BOOTSTRAP = (
    "import sys, json; sys.path[:0] = json.loads(sys.argv[4]); "
    "from {module} import main; "
    "main(int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]))"
)


def default_workers() -> int:
    """Workers per process: R1_REWARDS_MATH_WORKERS, else the usable cores (at most 8)."""
    env = os.environ.get("R1_REWARDS_MATH_WORKERS")
    if env:
        return max(1, int(env))
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        cores = os.cpu_count() or 1
    return max(1, min(8, cores))


@dataclass
class _Worker:
    proc: subprocess.Popen[bytes]
    inbox: Connection  # parent writes
    outbox: Connection  # parent reads
    ready: bool = False
    chunk: list[tuple[int, str]] = field(default_factory=list)  # items not yet answered
    chunk_meta: tuple[str, str] | None = None  # (mode, gold) of the chunk in flight
    item_started: float = 0.0

    @property
    def busy(self) -> bool:
        return self.chunk_meta is not None


class MathPool:
    """A lazily started, reusable pool of math-verify workers."""

    #: The module whose `main(read_fd, write_fd, memory_mb)` each worker runs. Another
    #: grader that speaks the same protocol (`("ready",)`, then `(uid, outcome)` per item)
    #: gets this pool's limits, kills and respawns by naming its own module here, as
    #: r1-eval does for lighteval's extractive match.
    worker_module: str = "r1_rewards._math_worker"

    def __init__(
        self,
        workers: int | None = None,
        memory_mb: int | None = None,
        alarm_s: int | None = None,
    ) -> None:
        """
        Args:
            workers: processes (default: `default_workers()`).
            memory_mb: address-space limit per worker (R1_REWARDS_MATH_MEMORY_MB, 4096).
            alarm_s: math-verify's own timeout per parse and per verify, in whole
                seconds; by default parse and verify together fit in the hard limit.
        """
        self.size = workers or default_workers()
        self.alarm_s = alarm_s
        env_memory = os.environ.get("R1_REWARDS_MATH_MEMORY_MB")
        self.memory_mb = memory_mb if memory_mb is not None else int(env_memory or 4096)
        self._workers: list[_Worker] = []
        self._lock = threading.Lock()
        self.killed = 0  # workers killed for a timeout or a crash, over the pool's life
        self._startup_failures = 0

    # -- process management ---------------------------------------------------------------

    def _spawn(self) -> _Worker:
        # A worker's death signal (PR_SET_PDEATHSIG) fires when the *thread* that started it
        # ends, not the process: a pool first used from a short-lived thread (a data loader,
        # an evaluation's helper thread) would lose its workers, mid-item, when that thread
        # returns. So every worker is started from one long-lived thread of the process.
        return _spawner().submit(self._spawn_here).result()

    def _spawn_here(self) -> _Worker:
        parent_to_child_r, parent_to_child_w = os.pipe()
        child_to_parent_r, child_to_parent_w = os.pipe()
        paths = [p for p in sys.path if p]
        proc = subprocess.Popen(
            [
                sys.executable,
                "-c",
                _BOOTSTRAP.format(module=self.worker_module),
                str(parent_to_child_r),
                str(child_to_parent_w),
                str(self.memory_mb),
                json.dumps(paths),
            ],
            pass_fds=(parent_to_child_r, child_to_parent_w),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            # Own session: a Ctrl-C in the terminal reaches the trainer, which then ends
            # the workers itself, instead of tearing them down mid-message.
            start_new_session=True,
        )
        os.close(parent_to_child_r)
        os.close(child_to_parent_w)
        os.set_inheritable(parent_to_child_w, False)
        os.set_inheritable(child_to_parent_r, False)
        return _Worker(
            proc=proc,
            inbox=Connection(parent_to_child_w, readable=False),
            outbox=Connection(child_to_parent_r, writable=False),
        )

    def _kill(self, worker: _Worker) -> None:
        for conn in (worker.inbox, worker.outbox):
            with contextlib.suppress(OSError):
                conn.close()
        if worker.proc.poll() is None:
            worker.proc.kill()
        try:
            worker.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:  # pragma: no cover - SIGKILL does not wait
            logger.error("math worker %d did not exit after SIGKILL", worker.proc.pid)

    def _replace(self, worker: _Worker) -> None:
        self._kill(worker)
        self.killed += 1
        self._workers[self._workers.index(worker)] = self._spawn()

    def _ensure_started(self) -> None:
        while len(self._workers) < self.size:
            self._workers.append(self._spawn())

    def close(self) -> None:
        """End every worker. The pool starts new ones if it is used again."""
        with self._lock:
            for worker in self._workers:
                self._kill(worker)
            self._workers = []

    def pids(self) -> list[int]:
        return [w.proc.pid for w in self._workers]

    # -- the batch loop -------------------------------------------------------------------

    def run(self, mode: str, pairs: Sequence[tuple[str, str]], timeout: float) -> list[Graded]:
        """Grade (text, gold) pairs; returns one (Reason, extracted answer) per pair, in order.

        The worker's reasons, plus `Reason.TIMED_OUT` (killed past the limit) and
        `Reason.WORKER_CRASHED` (the worker died on the item).
        """
        if mode not in MODES:
            raise ValueError(f"mode={mode!r} is not one of {MODES}")
        if not pairs:
            return []
        # Each distinct (text, gold) pair is graded once; duplicates share the outcome.
        uid_of: dict[tuple[str, str], int] = {}
        by_gold: dict[str, list[tuple[int, str]]] = {}
        order: list[int] = []
        for text, gold in pairs:
            key = (text, gold)
            uid = uid_of.get(key)
            if uid is None:
                uid = uid_of[key] = len(uid_of)
                by_gold.setdefault(gold, []).append((uid, text))
            order.append(uid)
        # Chunks of one gold each, at most _CHUNK items, and small enough that every
        # worker gets several: a small batch must still use all the cores.
        size = max(1, min(_CHUNK, -(-len(uid_of) // (self.size * 4))))
        chunks: deque[tuple[str, list[tuple[int, str]]]] = deque()
        for gold, items in by_gold.items():
            for start in range(0, len(items), size):
                chunks.append((gold, items[start : start + size]))
        # math-verify's alarms take whole seconds, one for the parse and one for the
        # verify; both must fit in the hard limit (with half a second to spare) so that
        # the graceful path usually wins and a kill (and a respawn) stays the exception.
        inner = self.alarm_s or max(1, int((timeout - 0.5) // 2))
        with self._lock:
            outcomes = self._run_locked(mode, chunks, timeout, inner, len(uid_of))
        return [outcomes[uid] for uid in order]

    def _run_locked(
        self,
        mode: str,
        chunks: deque[tuple[str, list[tuple[int, str]]]],
        timeout: float,
        inner: int,
        n_items: int,
    ) -> list[Any]:
        self._ensure_started()
        outcomes: list[Any] = [None] * n_items
        remaining = n_items
        while remaining:
            now = time.monotonic()
            # 1. Hand a chunk to every idle, ready worker.
            for worker in list(self._workers):
                if worker.ready and not worker.busy and chunks:
                    gold, items = chunks.popleft()
                    try:
                        worker.inbox.send((mode, gold, items, inner))
                    except OSError:
                        chunks.appendleft((gold, items))
                        self._replace(worker)
                        continue
                    worker.chunk, worker.chunk_meta = list(items), (mode, gold)
                    worker.item_started = time.monotonic()
            # 2. Wait for results, readiness, or the nearest per-item deadline.
            deadlines = [w.item_started + timeout for w in self._workers if w.busy]
            wait_for = max(0.0, min(deadlines) - now) if deadlines else 1.0
            readable = wait([w.outbox for w in self._workers], timeout=wait_for)
            for conn in readable:
                worker = next((w for w in self._workers if w.outbox is conn), None)
                if worker is not None:  # None: replaced earlier in this round
                    remaining -= self._drain(worker, outcomes, chunks)
            # 3. Kill whoever is still on one item past the limit.
            now = time.monotonic()
            for worker in list(self._workers):
                if worker.busy and worker.chunk and now - worker.item_started > timeout:
                    uid, _ = worker.chunk[0]
                    outcomes[uid] = (Reason.TIMED_OUT, None)
                    remaining -= 1
                    logger.warning(
                        "math item timed out after %.1fs; killed worker %d",
                        timeout,
                        worker.proc.pid,
                    )
                    rest = worker.chunk[1:]
                    if rest:
                        chunks.appendleft((worker.chunk_meta[1], rest))  # type: ignore[index]
                    self._replace(worker)
        return outcomes

    def _drain(self, worker: _Worker, outcomes: list[Any], chunks: deque[Any]) -> int:
        """Read every message a worker has sent; returns how many items it finished."""
        finished = 0
        try:
            while worker.outbox.poll():
                message = worker.outbox.recv()
                if message[0] == "ready":
                    worker.ready = True
                    self._startup_failures = 0
                else:
                    uid, outcome = message
                    outcomes[uid] = outcome
                    finished += 1
                    worker.chunk.pop(0)
                    worker.item_started = time.monotonic()
                    if not worker.chunk:
                        worker.chunk_meta = None  # the chunk is done: idle again
        except (EOFError, OSError):
            # The worker died (segfault, OOM killer): its current item is WORKER_CRASHED
            # (scored 0.0), the rest of its chunk is graded elsewhere.
            if not worker.ready:
                self._startup_failures += 1
                if self._startup_failures >= 3:
                    self._kill(worker)
                    self._workers.remove(worker)
                    raise MathWorkerError(
                        "math-verify worker processes exit at start-up (their traceback is "
                        "on stderr above); check that math-verify imports in "
                        f"{sys.executable}"
                    ) from None
            logger.warning("math worker %d died; replacing it", worker.proc.pid)
            if worker.busy and worker.chunk:
                uid, _ = worker.chunk[0]
                outcomes[uid] = (Reason.WORKER_CRASHED, None)
                finished += 1
                if worker.chunk[1:]:
                    chunks.appendleft((worker.chunk_meta[1], worker.chunk[1:]))  # type: ignore[index]
            self._replace(worker)
        return finished


_default_pool: MathPool | None = None
_default_lock = threading.Lock()
_spawner_pool: concurrent.futures.ThreadPoolExecutor | None = None
_spawner_lock = threading.Lock()


def _spawner() -> concurrent.futures.ThreadPoolExecutor:
    """The one thread that starts workers; it lives until the interpreter exits."""
    global _spawner_pool
    with _spawner_lock:
        if _spawner_pool is None:
            _spawner_pool = concurrent.futures.ThreadPoolExecutor(
                max_workers=1, thread_name_prefix="r1-rewards-math-spawner"
            )
        return _spawner_pool


def default_pool() -> MathPool:
    """The process-wide pool, created on first use and closed at interpreter exit."""
    global _default_pool
    with _default_lock:
        if _default_pool is None:
            _default_pool = MathPool()
            atexit.register(_default_pool.close)
        return _default_pool
