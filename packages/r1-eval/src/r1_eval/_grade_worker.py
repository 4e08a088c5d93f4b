"""The grading worker: lighteval's own extractive-match verdict, in a process we can kill.

lighteval scores math and multiple-choice answers with `MultilingualExtractiveMatchMetric`:
regexes pull candidate answers out of the gold and the prediction, sympy compares them.
Called as lighteval calls it (sequentially, in the evaluation process, under
`signal.alarm`), one adversarial answer can hold the whole evaluation for as long as sympy
likes, and work done in C cannot be interrupted at all. Here the same functions run in the
main thread of a worker of r1-rewards' `MathPool` (so lighteval's alarms work), and the
pool kills the worker when even the alarm cannot stop it.

The verdicts are lighteval's by construction: the extraction and comparison functions are
lighteval's own (`lighteval.metrics.utils.extractive_match_utils` / `math_comparison`), and
this module only repeats the ten lines of `MultilingualExtractiveMatchMetric.compute` and
`PassAtK.compute` that glue them together (strip, extract the golds, fall back to the raw
gold when nothing extracts, any gold equal -> 1). `lighteval.metrics/__init__` pulls the
whole metric zoo (nltk, sklearn, transformers: ~25 s); it is stood in by an empty package so
that a worker starts in a few seconds.

Protocol (r1-rewards' `_math_worker` protocol, so `MathPool` drives it unchanged):

    parent -> worker   (mode, spec_json, [(uid, text), ...], inner_timeout_s)
    worker -> parent   ("ready",) once, then (uid, outcome) per item, ("done",) per chunk

`spec_json` names the metric and carries the gold side of one problem (see `grading.py`);
outcomes are 1, 0, or None (the item could not be graded).

Data flow: `grading.ExtractiveGrader` -> `MathPool.run` (one chunk per problem) -> this
worker -> 1/0 per sample -> pass@k per problem.
"""

from __future__ import annotations

import json
import logging
import os
import resource
import signal
import sys
import types
from multiprocessing.connection import Connection
from typing import Any

# The metrics lighteval defines for open-r1's tasks, by the name `grading.py` sends.
# math: `Metrics.pass_at_k_math` (math_500, aime24, aime25);
# letters: `Metrics.gpqa_instruct_pass_at_k` (gpqa:diamond).
METRICS = ("math", "letters")


def _import_lighteval_extraction() -> types.SimpleNamespace:
    import importlib.util

    spec = importlib.util.find_spec("lighteval")
    if spec is None or spec.origin is None:  # pragma: no cover - lighteval is a dependency
        raise ImportError("lighteval is not installed")
    base = os.path.dirname(spec.origin)
    if "lighteval.metrics" not in sys.modules:
        stub = types.ModuleType("lighteval.metrics")
        stub.__path__ = [os.path.join(base, "metrics")]
        sys.modules["lighteval.metrics"] = stub
    from lighteval.metrics.utils import extractive_match_utils as emu
    from lighteval.metrics.utils.math_comparison import compare_gold_target
    from lighteval.tasks.requests import Doc
    from lighteval.utils.language import Language

    return types.SimpleNamespace(emu=emu, compare=compare_gold_target, Doc=Doc, Language=Language)


class _Grader:
    def __init__(self) -> None:
        lib = _import_lighteval_extraction()
        emu = lib.emu
        self.lib = lib
        letters = emu.IndicesExtractionConfig(
            prefix_for_extraction="NativeLetters", try_extract_without_anchor=True
        )
        # (gold targets, prediction targets, precision, strip) exactly as in lighteval's
        # `Metrics` table for these two metrics.
        self.configs: dict[str, tuple[list[Any], list[Any], int, bool]] = {
            "math": (
                [emu.ExprExtractionConfig(), emu.LatexExtractionConfig()],
                [emu.ExprExtractionConfig(), emu.LatexExtractionConfig()],
                6,
                True,
            ),
            "letters": ([letters], [letters], 6, False),
        }
        self._golds: dict[str, tuple[Any, Any, list[Any]]] = {}

    def _gold_side(self, spec_json: str, timeout: int) -> tuple[Any, Any, list[Any]]:
        cached = self._golds.get(spec_json)
        if cached is not None:
            return cached
        spec = json.loads(spec_json)
        gold_targets, pred_targets, _, strip = self.configs[spec["metric"]]
        choices = [c.strip() if strip and c else (c or "") for c in spec["choices"]]
        doc = self.lib.Doc(query="", choices=choices, gold_index=spec["gold_index"])
        english = self.lib.Language.ENGLISH
        gold_res = self.lib.emu.get_extraction_regexes(doc, gold_targets, english)
        pred_res = self.lib.emu.get_extraction_regexes(doc, pred_targets, english)
        golds = doc.get_golds()
        extracted = [
            self.lib.emu.extract_target_from_pred(g, gold_res, "first_match", "any_match", timeout)
            for g in golds
        ]
        if any(len(g) == 0 for g in extracted):
            extracted = [[g] for g in golds]  # lighteval compares the raw gold then
        if len(self._golds) > 4096:
            self._golds.clear()
        self._golds[spec_json] = result = (spec, pred_res, extracted)
        return result

    def grade(self, spec_json: str, text: str, timeout: int) -> int | None:
        spec, pred_res, golds = self._gold_side(spec_json, timeout)
        _, _, precision, strip = self.configs[spec["metric"]]
        pred = (text.strip() if strip else text) if text else ""
        extracted = self.lib.emu.extract_target_from_pred(
            pred, pred_res, "first_match", "any_match", timeout
        )
        correct = any(
            self.lib.compare(gold, extracted, precision, timeout_seconds=timeout) for gold in golds
        )
        return 1 if correct else 0


def _die_with_parent() -> None:
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except Exception:  # pragma: no cover - best effort; EOF on the pipe also ends us
        pass


def _send(outbox: Connection, message: tuple[Any, ...]) -> bool:
    try:
        outbox.send(message)
    except OSError:
        return False
    return True


def main(read_fd: int, write_fd: int, memory_mb: int) -> None:
    _die_with_parent()
    if memory_mb > 0:
        limit = memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    # lighteval warns once per unextractable prediction, with the whole completion in it.
    logging.disable(logging.WARNING)
    inbox = Connection(read_fd, writable=False)
    outbox = Connection(write_fd, readable=False)
    grader = _Grader()
    outbox.send(("ready",))
    while True:
        try:
            _mode, spec_json, items, timeout = inbox.recv()
        except (EOFError, OSError):
            return
        for uid, text in items:
            try:
                outcome: int | None = grader.grade(spec_json, text, timeout)
            except Exception:
                # lighteval's own metric lets a comparison error end the evaluation; a
                # sample that cannot be graded is counted as such instead.
                outcome = None
            if not _send(outbox, (uid, outcome)):
                return
        if not _send(outbox, ("done",)):
            return


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]))
