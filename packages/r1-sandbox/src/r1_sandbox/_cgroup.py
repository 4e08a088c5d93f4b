"""Per-run cgroups (memory + pids) for the local sandbox, where this process may make them.

rlimits bound each process; a cgroup bounds the whole tree a run starts, which is what
stops "fork 60 children that each take 500 MB" and also measures the run's true peak
memory (the kernel charges pages to the cgroup of the task that touches them, so the
caller's own memory never shows up, unlike `wait4`'s peak RSS). They need write access to
the cgroup tree: root on cgroup v1 (memory and pids hierarchies), or a delegated cgroup v2
subtree with the memory and pids controllers enabled. Anything else is reported by
`describe()` and the runs fall back to rlimits alone.

A run's process joins its cgroups before bwrap starts (a two-line `sh` wrapper writes its
own pid to `cgroup.procs`, then execs bwrap), so nothing the program forks escapes them.
When the run ends the PID namespace is gone, and the cgroup is read (peak, OOM kills)
and removed.

Data flow: `LocalSandbox._spawn` -> `Cgroups.create()` per run -> `wrap(argv)` -> after
the run `peak_mb()` / `oom_killed()` into the verdict -> `remove()`.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path

logger = logging.getLogger(__name__)

_ROOT = Path("/sys/fs/cgroup")
_counter = itertools.count()

# Joins the cgroups given as arguments, then becomes the command after them.
_JOIN = (
    'for f in "$@"; do [ "$f" = -- ] && break; echo $$ > "$f" || exit 125; done; '
    'shift $(( $# - N )); exec "$@"'
)


@dataclass
class RunCgroup:
    """The cgroups of one run."""

    version: int
    memory: Path
    pids: Path

    def wrap(self, argv: list[str]) -> list[str]:
        """argv preceded by a `sh` that joins these cgroups first."""
        procs = [str(self.memory / "cgroup.procs")]
        if self.pids != self.memory:
            procs.append(str(self.pids / "cgroup.procs"))
        script = _JOIN.replace("N", str(len(argv)))
        return ["/bin/sh", "-c", script, "sh", *procs, "--", *argv]

    def set_memory(self, limit_bytes: int) -> None:
        name = "memory.limit_in_bytes" if self.version == 1 else "memory.max"
        (self.memory / name).write_text(str(limit_bytes))

    def peak_mb(self) -> float | None:
        name = "memory.max_usage_in_bytes" if self.version == 1 else "memory.peak"
        try:
            return round(int((self.memory / name).read_text()) / (1 << 20), 2)
        except (OSError, ValueError):
            return None

    def oom_killed(self) -> bool:
        name = "memory.oom_control" if self.version == 1 else "memory.events"
        try:
            for line in (self.memory / name).read_text().splitlines():
                key, _, value = line.partition(" ")
                if key == "oom_kill" and int(value) > 0:
                    return True
        except (OSError, ValueError):
            pass
        return False

    def remove(self) -> None:
        for path in {self.memory, self.pids}:
            # The PID namespace is gone when the run is reaped, but the kernel may need a
            # moment to release the last task.
            for _ in range(50):
                try:
                    path.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.01)


@dataclass(frozen=True)
class Cgroups:
    """Where this process may create per-run cgroups."""

    version: int
    memory_parent: Path
    pids_parent: Path

    def describe(self) -> str:
        return f"cgroup v{self.version} (memory, pids) under {self.memory_parent}"

    def create(
        self, *, memory_bytes: int, max_pids: int, owner: int | None, quiet: bool = False
    ) -> RunCgroup | None:
        name = f"r1-sandbox-{os.getpid()}-{next(_counter)}"
        memory = self.memory_parent / name
        pids = memory if self.version == 2 else self.pids_parent / name
        try:
            memory.mkdir()
            if pids != memory:
                pids.mkdir()
            run = RunCgroup(self.version, memory, pids)
            run.set_memory(memory_bytes)
            (pids / "pids.max").write_text(str(max_pids))
            if self.version == 1:
                # No swap either, where swap accounting exists.
                with contextlib.suppress(OSError):
                    (memory / "memory.memsw.limit_in_bytes").write_text(str(memory_bytes))
            else:
                with contextlib.suppress(OSError):  # absent without swap
                    (memory / "memory.swap.max").write_text("0")
            if owner is not None:
                for path in {memory, pids}:
                    os.chown(path / "cgroup.procs", owner, owner)
        except OSError as exc:
            if not quiet:
                logger.warning("r1-sandbox: cannot set up a run's cgroup (%s); rlimits only", exc)
            RunCgroup(self.version, memory, pids).remove()
            return None
        return run


def _own_paths() -> dict[str, str]:
    paths: dict[str, str] = {}
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/cgroup").read_text().splitlines():
            _, controllers, path = line.split(":", 2)
            for controller in controllers.split(",") if controllers else ["unified"]:
                paths[controller] = path
    return paths


def detect() -> Cgroups | None:
    """The cgroups this process can use for its runs, tested by making one; or None."""
    own = _own_paths()
    candidates: list[Cgroups] = []
    if "memory" in own and "pids" in own and (_ROOT / "memory").is_dir():
        candidates.append(
            Cgroups(
                1,
                _ROOT / "memory" / own["memory"].lstrip("/"),
                _ROOT / "pids" / own["pids"].lstrip("/"),
            )
        )
    if "unified" in own and (_ROOT / "cgroup.controllers").exists():
        parent = _ROOT / own["unified"].lstrip("/")
        candidates.append(Cgroups(2, parent, parent))
    for found in candidates:
        probe = found.create(memory_bytes=64 << 20, max_pids=8, owner=None, quiet=True)
        if probe is None:
            continue
        ok = (
            probe.memory / ("memory.limit_in_bytes" if found.version == 1 else "memory.max")
        ).exists()
        probe.remove()
        if ok:
            return found
    return None
