"""Per-run cgroups (memory, pids, CPU) for the local sandbox, where this process may make them.

rlimits bound each process; a cgroup bounds the whole tree a run starts, which is what
stops "fork 60 children that each take 500 MB" and also measures the run's true peak
memory (the kernel charges pages to the cgroup of the task that touches them, so the
caller's own memory never shows up, unlike `wait4`'s peak RSS). They need write access to
the cgroup tree: root on cgroup v1 (memory and pids hierarchies), or a delegated cgroup v2
subtree with the memory and pids controllers enabled. Anything else is reported by
`describe()` and the runs fall back to rlimits alone. Where the cpu controller is there
too, each run gets at most one CPU (`cpu.max`, or `cpu.cfs_quota_us` on v1), so one run's
60 busy processes cannot starve the runs beside it; inode and page-cache memory of the
run's tmpfs files is charged to its memory cgroup as well.

A run's process joins its cgroups before bwrap starts (a two-line `sh` wrapper writes its
own pid to `cgroup.procs`, then execs bwrap), so nothing the program forks escapes them.
When the run ends, every process still in the cgroups is killed (`cgroup.kill` on v2, a
SIGKILL to each listed pid on v1), then they are read (peak, OOM kills) and removed.
Cgroups left by a caller that died (SIGKILL leaves no time to clean up) are removed by
the next `detect()` of any caller.

Data flow: `LocalSandbox._spawn` -> `Cgroups.create()` per run -> `wrap(argv)` -> after
the run `peak_mb()` / `oom_killed()` into the verdict -> `remove()`.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import os
import re
import signal
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
    cpu: Path | None = None

    @property
    def paths(self) -> list[Path]:
        return list(dict.fromkeys(p for p in (self.memory, self.pids, self.cpu) if p is not None))

    def wrap(self, argv: list[str]) -> list[str]:
        """argv preceded by a `sh` that joins these cgroups first."""
        procs = [str(p / "cgroup.procs") for p in self.paths]
        script = _JOIN.replace("N", str(len(argv)))
        return ["/bin/sh", "-c", script, "sh", *procs, "--", *argv]

    def set_memory(self, limit_bytes: int) -> None:
        name = "memory.limit_in_bytes" if self.version == 1 else "memory.max"
        (self.memory / name).write_text(str(limit_bytes))

    def reset_peak(self) -> None:
        """Forget the peak so far (a warm spare's own start-up), where the kernel allows."""
        name = "memory.max_usage_in_bytes" if self.version == 1 else "memory.peak"
        with contextlib.suppress(OSError):
            (self.memory / name).write_text("0")

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

    def kill(self) -> None:
        """SIGKILL every process still in the run's cgroups."""
        for path in self.paths:
            if self.version == 2:
                with contextlib.suppress(OSError):
                    (path / "cgroup.kill").write_text("1")
                continue
            for _ in range(100):  # a process may fork while we read: until it is empty
                try:
                    pids = [int(p) for p in (path / "cgroup.procs").read_text().split()]
                except (OSError, ValueError):
                    break
                if not pids:
                    break
                for pid in pids:
                    with contextlib.suppress(OSError):
                        os.kill(pid, signal.SIGKILL)
                time.sleep(0.001)

    def remove(self) -> None:
        for path in self.paths:
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
    cpu_parent: Path | None = None  # None: no cpu controller here, no per-run CPU bound

    def describe(self) -> str:
        controllers = "memory, pids, cpu" if self.cpu_parent else "memory, pids"
        return f"cgroup v{self.version} ({controllers}) under {self.memory_parent}"

    def create(
        self, *, memory_bytes: int, max_pids: int, owner: int | None, quiet: bool = False
    ) -> RunCgroup | None:
        name = f"r1-sandbox-{os.getpid()}-{next(_counter)}"
        memory = self.memory_parent / name
        pids = memory if self.version == 2 else self.pids_parent / name
        cpu = None
        if self.cpu_parent is not None:
            cpu = memory if self.version == 2 else self.cpu_parent / name
        run = RunCgroup(self.version, memory, pids, cpu)
        try:
            for path in run.paths:
                path.mkdir()
            run.set_memory(memory_bytes)
            (pids / "pids.max").write_text(str(max_pids))
            if cpu is not None and self.version == 2:
                (cpu / "cpu.max").write_text(f"{_CPU_PERIOD_US} {_CPU_PERIOD_US}")
            elif cpu is not None:
                (cpu / "cpu.cfs_period_us").write_text(str(_CPU_PERIOD_US))
                (cpu / "cpu.cfs_quota_us").write_text(str(_CPU_PERIOD_US))
            if self.version == 1:
                # No swap either, where swap accounting exists.
                with contextlib.suppress(OSError):
                    (memory / "memory.memsw.limit_in_bytes").write_text(str(memory_bytes))
            else:
                with contextlib.suppress(OSError):  # absent without swap
                    (memory / "memory.swap.max").write_text("0")
            if owner is not None:
                for path in run.paths:
                    os.chown(path / "cgroup.procs", owner, owner)
        except OSError as exc:
            if not quiet:
                logger.warning("r1-sandbox: cannot set up a run's cgroup (%s); rlimits only", exc)
            run.remove()
            return None
        return run

    def sweep(self) -> int:
        """Kill and remove the cgroups of callers that died; how many were removed."""
        removed = 0
        parents = {self.memory_parent, self.pids_parent, self.cpu_parent} - {None}
        for parent in parents:
            assert parent is not None
            with contextlib.suppress(OSError):
                for entry in parent.iterdir():
                    found = _NAME.fullmatch(entry.name)
                    if found is None or _alive(int(found.group(1))):
                        continue
                    stale = RunCgroup(self.version, entry, entry)
                    stale.kill()
                    stale.remove()
                    removed += not entry.exists()
        return removed


_NAME = re.compile(r"r1-sandbox-(\d+)-\d+")
# One CPU per run: the quota equals the period.
_CPU_PERIOD_US = 100_000


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


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
        cpu = None
        if "cpu" in own and (_ROOT / "cpu" / "cpu.cfs_quota_us").exists():
            cpu = _ROOT / "cpu" / own["cpu"].lstrip("/")
        memory = _ROOT / "memory" / own["memory"].lstrip("/")
        pids = _ROOT / "pids" / own["pids"].lstrip("/")
        candidates += [Cgroups(1, memory, pids, cpu), Cgroups(1, memory, pids)]
    if "unified" in own and (_ROOT / "cgroup.controllers").exists():
        parent = _ROOT / own["unified"].lstrip("/")
        candidates += [Cgroups(2, parent, parent, parent), Cgroups(2, parent, parent)]
    for found in candidates:
        probe = found.create(memory_bytes=64 << 20, max_pids=8, owner=None, quiet=True)
        if probe is None:
            continue
        ok = (
            probe.memory / ("memory.limit_in_bytes" if found.version == 1 else "memory.max")
        ).exists()
        probe.remove()
        if ok:
            found.sweep()
            return found
    return None
