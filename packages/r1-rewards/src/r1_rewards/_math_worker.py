"""The math-verify worker process: parse and verify answers where math-verify works best.

math-verify bounds its own parsing and verification with `signal.alarm`, which only
works in the main thread of a process. Called from a trainer's thread it (0.5.2) gives up
silently and scores every answer False. So every parse and verify runs here, in the main
thread of a process of our own, where the alarm works as its authors meant; the parent
(`_math_pool.py`) adds a hard wall-clock limit on top and kills this process when even the
alarm cannot interrupt the work (a big-integer power or a regex runs inside C code).

The process is started with `subprocess` (a fresh interpreter, never `fork`: the trainer
may hold CUDA contexts and locks that a forked child would inherit in a broken state) and
talks to its parent over two pipes, one pickled message at a time:

    parent -> worker   (mode, gold, [(uid, text), ...], inner_timeout_s)   a chunk of work
    worker -> parent   ("ready",) once, then (uid, (Reason, answer)) per item

The parent knows a chunk is finished when its last item is answered; no other message
is needed, so no state exists in which a worker is neither idle nor on an item.

Each item's result is small: a `Reason` (correct, wrong, no answer, gold unparseable,
verify error) and math-verify's string of the extracted answer (None when there is none).

Data flow: completion texts and gold answers from `_math_pool.MathPool.run` -> math-verify
`parse` (gold once per chunk, cached) and `verify` (once per distinct answer) -> outcome
per item back to the pool.
"""

from __future__ import annotations

import logging
import resource
import signal
import sys
from collections import OrderedDict
from multiprocessing.connection import Connection
from typing import Any

from r1_rewards.verdicts import Reason

#: What the worker sends back per item: why, and the extracted answer's text.
Graded = tuple[Reason, str | None]

# Grading modes. They reproduce, call for call, the two ways open-r1 uses math-verify:
# `accuracy_reward` parses the gold with the default extraction targets and the answer with
# `boxed="all"`, then calls verify(gold, answer); `len_reward` and the cosine reward parse
# the gold as LaTeX only, the answer with `boxed=True`, then call verify(answer, gold).
MODES = ("accuracy", "length")

_CACHE_SIZE = 4096


class _LRU(OrderedDict[Any, Any]):
    """A bounded dict: a long-lived worker must not grow without limit."""

    def get_or_compute(self, key: Any, compute: Any) -> Any:
        if key in self:
            self.move_to_end(key)
            return self[key]
        value = compute()
        self[key] = value
        if len(self) > _CACHE_SIZE:
            self.popitem(last=False)
        return value


class _Grader:
    """Holds the extraction configs and the caches of one worker."""

    def __init__(self) -> None:
        import warnings

        from latex2sympy2_extended import NormalizationConfig
        from math_verify import LatexExtractionConfig, parse, verify

        self._parse = parse
        self._verify = verify
        self._latex_only = [LatexExtractionConfig()]

        def answer_config(boxed: Any) -> list[Any]:
            # `equations=True` is what open-r1 passes; newer latex2sympy2 deprecates it
            # (the parser handles equations itself) and warns, which is only noise here.
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                normalization = NormalizationConfig(
                    nits=False,
                    malformed_operators=False,
                    basic_latex=True,
                    equations=True,
                    boxed=boxed,
                    units=True,
                )
            # boxed_match_priority=0 tries \boxed{} first; without an anchor ("the answer
            # is", a boxed, ...) no answer is extracted, so stray math in the reasoning
            # is never mistaken for the final answer.
            return [
                LatexExtractionConfig(
                    normalization_config=normalization,
                    boxed_match_priority=0,
                    try_extract_without_anchor=False,
                )
            ]

        self._answer_config = {"accuracy": answer_config("all"), "length": answer_config(True)}
        self._golds = _LRU()
        self._verdicts = _LRU()

    def _parse_gold(self, mode: str, gold: str, timeout: int) -> list[Any]:
        def compute() -> list[Any]:
            if mode == "accuracy":
                return self._parse(gold, extraction_mode="first_match", parsing_timeout=timeout)
            return self._parse(
                gold,
                extraction_mode="first_match",
                extraction_config=self._latex_only,
                parsing_timeout=timeout,
            )

        return self._golds.get_or_compute((mode, gold), compute)

    def grade(self, mode: str, gold: str, text: str, timeout: int) -> Graded:
        gold_parsed = self._parse_gold(mode, gold, timeout)
        if len(gold_parsed) == 0:
            return Reason.GOLD_UNPARSEABLE, None
        answer = self._parse(
            text,
            extraction_config=self._answer_config[mode],
            extraction_mode="first_match",
            parsing_timeout=timeout,
        )
        if len(answer) == 0:
            # verify() of nothing is False: the same 0.0 open-r1 gives, with its reason.
            return Reason.NO_ANSWER, None
        extracted = next((a for a in answer if isinstance(a, str)), str(answer[0]))
        # Answers that extract to the same text verify the same way: in a GRPO group most
        # completions end on one of a few answers, so the (slow) sympy comparison runs once
        # per distinct answer, not once per completion.
        key = (mode, gold, tuple(str(a) for a in answer), tuple(type(a).__name__ for a in answer))

        def compute() -> Reason:
            try:
                if mode == "accuracy":
                    ok = self._verify(gold_parsed, answer, timeout_seconds=timeout)
                else:
                    ok = self._verify(answer, gold_parsed, timeout_seconds=timeout)
            except Exception:
                return Reason.VERIFY_ERROR
            return Reason.CORRECT if ok else Reason.WRONG

        return self._verdicts.get_or_compute(key, compute), extracted


def _die_with_parent() -> None:
    """Ask Linux to kill this process when its parent dies, so no worker is ever orphaned."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGKILL)
    except Exception:  # pragma: no cover - best effort; EOF on the pipe also ends us
        pass


def main(read_fd: int, write_fd: int, memory_mb: int) -> None:
    _die_with_parent()
    if memory_mb > 0:
        # A completion like 2^{2^{40}} can make sympy allocate without bound; a MemoryError
        # inside this process is a wrong answer, an OOM-killed trainer is a lost run.
        limit = memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    # The worker's stdout is not the channel; keep library chatter off it and quiet
    # math-verify's per-item warnings, which echo whole (possibly megabyte) completions.
    for name in ("math_verify", "latex2sympy2_extended"):
        logging.getLogger(name).setLevel(logging.CRITICAL)

    inbox = Connection(read_fd, writable=False)
    outbox = Connection(write_fd, readable=False)
    grader = _Grader()
    outbox.send(("ready",))
    while True:
        try:
            mode, gold, items, timeout = inbox.recv()
        except (EOFError, OSError):
            return  # the parent closed the pipe or died
        for uid, text in items:
            try:
                outcome: Graded = grader.grade(mode, gold, text, timeout)
            except BaseException:
                # A MemoryError under the address-space limit, a RecursionError in sympy:
                # the completion is what made grading fail, so it is wrong, not ungraded.
                outcome = Reason.WRONG, None
            if not _send(outbox, (uid, outcome)):
                return


def _send(outbox: Connection, message: tuple[Any, ...]) -> bool:
    """Send to the parent; False when it has gone (closed the pool, or exited)."""
    try:
        outbox.send(message)
    except (BrokenPipeError, OSError):
        return False
    return True


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]))
