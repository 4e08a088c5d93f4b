"""The local sandbox's syscall filter: one table, compiled to seccomp BPF by libseccomp.

Namespaces hide the host; they do not shrink the kernel a program can call. The syscalls
below are the ones a contest program never needs and an attacker does: tracing and
cross-process memory (read or rewrite the init, the judge, another run), nested
namespaces and mounts (the start of most user-namespace kernel exploits), keyrings,
bpf, perf, userfaultfd and io_uring (large, often-exploited kernel surfaces), kexec and
modules. Everything else is allowed: a deny list keeps compilers, CPython and ordinary
programs working unchanged, where an allow list would break on each new libc. Only the
native ABI is allowed: an x86-64 program that switches to the i386 (`int 0x80`) or x32
syscall tables, where the numbers differ and a filter written for one ABI misses the
others, is killed.

The table is compiled once per process by libseccomp (through `pyseccomp`, its ctypes
binding; no network, no build step) and handed to bubblewrap as `--seccomp FD`, which
loads it after the sandbox is set up and right before the run's init starts, so the init
and everything it forks run under it. libseccomp rather than hand-written BPF: it knows
every architecture's syscall numbers and its ABI checks, which are easy to get wrong.

Data flow: `POLICY` -> `build()` (cached BPF bytes) -> a memfd per run -> `bwrap
--seccomp FD` -> the kernel, for every syscall of the run.
"""

from __future__ import annotations

import errno
import functools
import tempfile
from dataclasses import dataclass

# Namespace flags of clone(2) / unshare(2): a run may not make new namespaces of any kind.
CLONE_NEW_FLAGS = {
    "CLONE_NEWNS": 0x00020000,
    "CLONE_NEWCGROUP": 0x02000000,
    "CLONE_NEWUTS": 0x04000000,
    "CLONE_NEWIPC": 0x08000000,
    "CLONE_NEWUSER": 0x10000000,
    "CLONE_NEWPID": 0x20000000,
    "CLONE_NEWNET": 0x40000000,
    "CLONE_NEWTIME": 0x00000080,
}


@dataclass(frozen=True)
class Rule:
    """Syscalls denied with one errno, and why."""

    syscalls: tuple[str, ...]
    errno: int
    why: str


#: The policy: every syscall not listed here is allowed (plus `clone` without namespace
#: flags). EPERM reads as "not allowed here" to programs, which then fail cleanly.
POLICY: tuple[Rule, ...] = (
    Rule(
        ("ptrace", "process_vm_readv", "process_vm_writev", "kcmp", "pidfd_getfd"),
        errno.EPERM,
        "tracing and cross-process memory: the init, the judge's processes, other runs",
    ),
    Rule(
        ("process_madvise", "process_mrelease"),
        errno.EPERM,
        "acting on another process's memory",
    ),
    Rule(
        ("unshare", "setns"),
        errno.EPERM,
        "nested namespaces: the usual first step of a user-namespace kernel exploit",
    ),
    # clone3 passes its flags in memory, out of a filter's sight: ENOSYS makes glibc fall
    # back to clone, whose flags the filter can check (as Docker's and Flatpak's do).
    Rule(("clone3",), errno.ENOSYS, "flags out of the filter's sight (glibc falls back)"),
    Rule(
        (
            "mount",
            "umount2",
            "pivot_root",
            "chroot",
            "move_mount",
            "open_tree",
            "fsopen",
            "fsconfig",
            "fsmount",
            "fspick",
            "mount_setattr",
        ),
        errno.EPERM,
        "mounts: the sandbox's file system view is fixed by bubblewrap",
    ),
    Rule(("keyctl", "add_key", "request_key"), errno.EPERM, "kernel keyrings"),
    Rule(("bpf",), errno.EPERM, "eBPF programs"),
    Rule(("perf_event_open",), errno.EPERM, "perf events (side channels, kernel bugs)"),
    Rule(("userfaultfd",), errno.EPERM, "userfaultfd (stalls the kernel in exploits)"),
    Rule(
        ("io_uring_setup", "io_uring_enter", "io_uring_register"),
        errno.EPERM,
        "io_uring (a large kernel surface, and syscalls a filter cannot see)",
    ),
    Rule(("kexec_load", "kexec_file_load", "reboot"), errno.EPERM, "replacing the kernel"),
    Rule(
        ("init_module", "finit_module", "delete_module"),
        errno.EPERM,
        "kernel modules",
    ),
    Rule(
        ("name_to_handle_at", "open_by_handle_at"),
        errno.EPERM,
        "file handles (open files outside the mount namespace)",
    ),
    Rule(
        ("acct", "swapon", "swapoff", "syslog", "quotactl", "lookup_dcookie", "uselib"),
        errno.EPERM,
        "host administration",
    ),
)


def describe() -> list[dict[str, object]]:
    """The policy as JSON-ready rows (for `r1-sandbox doctor` and the README)."""
    rows: list[dict[str, object]] = [
        {"syscalls": list(r.syscalls), "errno": errno.errorcode[r.errno], "why": r.why}
        for r in POLICY
    ]
    rows.append(
        {
            "syscalls": ["clone with " + " | ".join(CLONE_NEW_FLAGS)],
            "errno": "EPERM",
            "why": "new namespaces through clone",
        }
    )
    rows.append(
        {
            "syscalls": ["any non-native ABI (i386 int 0x80, x32)"],
            "errno": "killed (SIGSYS)",
            "why": "a second syscall table the rules above do not cover",
        }
    )
    return rows


@functools.lru_cache(maxsize=1)
def build() -> tuple[bytes | None, str]:
    """(the policy as BPF bytes, '') or (None, why it cannot be built here)."""
    try:
        import pyseccomp as seccomp
    except (ImportError, OSError) as exc:  # OSError: the binding found no libseccomp.so
        return None, (
            f"no seccomp filter ({exc}): pip install pyseccomp, and the libseccomp2 shared "
            "library (apt install libseccomp2; dnf install libseccomp)"
        )
    try:
        flt = seccomp.SyscallFilter(seccomp.ALLOW)
        # Any other ABI than the native one (i386, x32) kills the whole process.
        flt.set_attr(seccomp.Attr.ACT_BADARCH, seccomp.KILL_PROCESS)
        for rule in POLICY:
            for name in rule.syscalls:
                try:
                    seccomp.resolve_syscall(seccomp.Arch.NATIVE, name)
                except (ValueError, RuntimeError, OSError):
                    continue  # not a syscall of this architecture
                flt.add_rule(seccomp.ERRNO(rule.errno), name)
        for flag in CLONE_NEW_FLAGS.values():
            flt.add_rule(
                seccomp.ERRNO(errno.EPERM), "clone", seccomp.Arg(0, seccomp.MASKED_EQ, flag, flag)
            )
        with tempfile.TemporaryFile() as fh:
            flt.export_bpf(fh)
            fh.seek(0)
            program = fh.read()
    except Exception as exc:  # libseccomp refused: report it as what is missing
        return None, f"cannot build the seccomp filter with libseccomp: {exc}"
    if not program:
        return None, "libseccomp produced an empty seccomp filter"
    return program, ""
