"""An append-only JSONL journal that survives SIGKILL: the resume mechanism of generation.

open-r1's `scripts/generate_reasoning.py` appends rows to a JSONL file and, on restart,
skips the uuids it finds there; but it writes through a buffered file without syncing,
skips undecodable lines instead of repairing them, and then appends after a torn last
line, so one kill can leave a corrupt row in the middle of the file forever. This journal
keeps the same idea (the output file *is* the checkpoint, no side database) and makes it
exact:

Guarantees:
- each row is one `os.write` of a complete `json + "\\n"` to an `O_APPEND` descriptor,
  followed by `fsync`, by the one task that owns the file: a line is either whole or is
  the torn last line of the file;
- on open, a torn last line (no final newline, or not valid JSON) is cut off before
  anything is appended, so the file only ever holds complete rows;
- the keys of the rows already there are returned, so a rerun skips exactly those.

Not guaranteed:
- two processes writing the same journal at once (nothing locks it); run one per file;
- a line damaged in the middle of the file by something else: that is an error that
  names the line, never silently skipped (skipping it would drop a row).

Data flow: finished rows of `generate` / `pass-rate` -> `Journal.append` -> OUT.jsonl;
on the next run OUT.jsonl -> `Journal.open` -> keys already done -> rows still to do.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from r1_data.errors import DataInputError

logger = logging.getLogger(__name__)


def read_rows(path: str | os.PathLike[str]) -> Iterator[dict[str, Any]]:
    """The complete rows of a journal (a torn last line is not yielded)."""
    with open(path, "rb") as f:
        for line in f:
            if not line.endswith(b"\n"):
                return
            try:
                yield json.loads(line)
            except json.JSONDecodeError:
                # Only the last line may be torn; Journal.open reports other bad lines.
                continue


class Journal:
    """An append-only, fsync'd JSONL file of finished rows, keyed for resume."""

    def __init__(self, path: Path, fd: int, done: set[str], repaired_bytes: int) -> None:
        self.path = path
        self._fd = fd
        self.done = done
        self.repaired_bytes = repaired_bytes

    @classmethod
    def open(cls, path: str | os.PathLike[str], key: Callable[[dict[str, Any]], str]) -> Journal:
        """Open (or create) the journal at `path`, repair a torn tail, collect done keys.

        Args:
            key: the resume key of a finished row (the uuid column, or a hash of the prompt).

        Raises:
            DataInputError: a line before the last is not a JSON object.
        """
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        done: set[str] = set()
        good_end = 0
        repaired = 0
        if path.exists():
            offset = 0
            bad: tuple[int, str] | None = None  # an invalid line: torn only if it is the last
            with open(path, "rb") as f:
                for number, line in enumerate(f, start=1):
                    if bad is not None:
                        raise DataInputError(
                            f"{path}:{bad[0]}: not a complete JSON row ({bad[1]}); this file "
                            "is not a journal written by r1-data, or was edited; fix or "
                            "remove that line"
                        )
                    if not line.endswith(b"\n"):
                        break  # torn: the writer was killed inside this line
                    try:
                        row = json.loads(line)
                        if not isinstance(row, dict):
                            raise ValueError("not a JSON object")
                    except ValueError as exc:
                        bad = (number, str(exc))
                        continue
                    offset += len(line)
                    done.add(key(row))
            good_end = offset
            size = path.stat().st_size
            if size > good_end:
                repaired = size - good_end
                logger.warning(
                    "%s: cut %d bytes of a torn last row (the previous run was killed "
                    "mid-write); that row will be generated again",
                    path,
                    repaired,
                )
                with open(path, "r+b") as f:
                    f.truncate(good_end)
                    f.flush()
                    os.fsync(f.fileno())
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        return cls(path, fd, done, repaired)

    def append(self, row: dict[str, Any], key: str) -> None:
        """Write one finished row durably; after this returns the row survives a crash."""
        data = (json.dumps(row, ensure_ascii=False, default=_json_default) + "\n").encode()
        view = memoryview(data)
        while view:
            # os.write may write less than asked (signals, full disks); finish the line.
            written = os.write(self._fd, view)
            view = view[written:]
        os.fsync(self._fd)
        self.done.add(key)

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _json_default(value: Any) -> Any:
    """JSON for the non-JSON values a `datasets` row may hold (dates, numpy scalars)."""
    if hasattr(value, "tolist"):
        return value.tolist()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)
