"""The sandbox's init: a tiny C program that is PID 1 of every run and its only witness.

bubblewrap's own init reports the program's end in shell encoding (`128 + N` for "killed
by signal N"), so `exit(152)` and a SIGXCPU kill read the same, and any status parsed
from the program's streams is a status the program can forge. So each run's PID 1 is
this helper (`bwrap --as-pid-1`), built once per process from the C source below with
the host's C compiler. It:

- makes itself non-dumpable (the program, same uid, can neither trace it nor open its
  `/proc/1/fd`), and as PID 1 it ignores every signal the program may send it;
- reads the job from a private pipe: rlimits, then the files to write into `/sandbox`,
  so a cold run and a warm spare (started before the job arrived) take the same path;
  for Python (`--early main.py`) it starts the interpreter first, blocked on `main.py` as
  a FIFO, then sets its rlimits and feeds it its script, so a warm spare hides the
  interpreter's start too (see `r1_sandbox._warm`);
- forks the program with the rlimits set, reaps every process of the run, and enforces
  the CPU limit on the whole run (reaped children plus the live ones' `/proc/N/stat`),
  not per process, and a cap on the files the run makes on its tmpfs (`statfs`, every
  50 ms: bubblewrap can cap a tmpfs's bytes but not its inodes);
- writes one line to a second private pipe when the program ends: how (exit code or
  signal, apart), the run's total CPU time and the largest process's peak RSS; then
  kills whatever is left (it is PID 1: the namespace dies with it). A SIGTERM from
  outside the namespace (the supervisor, at a wall-clock limit) ends the run the same
  way, so a timed-out run still reports its CPU time; from inside it is ignored.

A C helper rather than a Python one: a Python init would add an interpreter start
(~15 ms) to every run, the whole cost of a bare run.

Data flow: `LocalSandbox` -> `build()` once (cached path) -> argv `r1-init CTRL STATUS --
program...` inside bwrap -> job header and files on CTRL -> status line on STATUS ->
`_process.supervise` -> `parse_status` -> the verdict.
"""

from __future__ import annotations

import functools
import hashlib
import os
import shutil
import stat
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

SOURCE = r"""
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long tick;

static char *slurp(int fd, size_t *len) {
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    for (;;) {
        if (n == cap) { cap *= 2; buf = realloc(buf, cap); if (!buf) _exit(120); }
        ssize_t r = read(fd, buf + n, cap - n);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        n += (size_t)r;
    }
    *len = n;
    return buf;
}

static void mkparents(char *path) {
    for (char *p = path + 1; *p; p++)
        if (*p == '/') { *p = 0; mkdir(path, 0755); *p = '/'; }
}

/* CPU microseconds of every live process of the namespace but ourselves. */
static long long live_cpu_us(void) {
    long long total = 0;
    DIR *d = opendir("/proc");
    if (!d) return 0;
    struct dirent *e;
    char path[64], buf[1024];
    while ((e = readdir(d))) {
        if (e->d_name[0] < '1' || e->d_name[0] > '9' || strcmp(e->d_name, "1") == 0) continue;
        snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) continue;
        ssize_t n = read(fd, buf, sizeof buf - 1);
        close(fd);
        if (n <= 0) continue;
        buf[n] = 0;
        char *p = strrchr(buf, ')');
        if (!p) continue;
        unsigned long long ut = 0, st = 0, cut = 0, cst = 0;
        /* after ")": state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt
           utime stime cutime cstime (the last two: children it has reaped itself) */
        if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %llu %llu", &ut,
                   &st, &cut, &cst) == 4)
            total += (long long)(ut + st + cut + cst) * 1000000LL / tick;
    }
    closedir(d);
    return total;
}

/* Inodes in use on the run's tmpfs (bwrap cannot cap them: it has no nr_inodes). */
static long long used_inodes(void) {
    static const char *dirs[] = {".", "/tmp", "/dev/shm"};
    long long used = 0;
    for (unsigned i = 0; i < sizeof dirs / sizeof *dirs; i++) {
        struct statfs st;
        if (statfs(dirs[i], &st) == 0 && st.f_type == 0x01021994 /* TMPFS_MAGIC */)
            used += (long long)(st.f_files - st.f_ffree);
    }
    return used;
}

static long long reaped_cpu_us(long *maxrss) {
    struct rusage ru;
    getrusage(RUSAGE_CHILDREN, &ru);
    if (maxrss) *maxrss = ru.ru_maxrss;
    return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000LL + ru.ru_utime.tv_usec +
           ru.ru_stime.tv_usec;
}

struct limits { long long cpu_ms, as, fsize, nproc, nofile; };

static void apply(pid_t pid, const struct limits *l) {
    unsigned long long cpu_s = (unsigned long long)((l->cpu_ms + 999) / 1000);
    struct rlimit r[6] = {{cpu_s, cpu_s + 1},
                          {(rlim_t)l->as, (rlim_t)l->as},
                          {(rlim_t)l->fsize, (rlim_t)l->fsize},
                          {0, 0},
                          {(rlim_t)l->nofile, (rlim_t)l->nofile},
                          {(rlim_t)l->nproc, (rlim_t)l->nproc}};
    int what[6] = {RLIMIT_CPU, RLIMIT_AS, RLIMIT_FSIZE, RLIMIT_CORE, RLIMIT_NOFILE, RLIMIT_NPROC};
    for (int i = 0; i < 6; i++) {
        if (what[i] == RLIMIT_AS && l->as <= 0) continue;
        if (prlimit(pid, what[i], &r[i], NULL) != 0) _exit(121);
    }
}

/* Fork and exec the program (with `l`'s rlimits, unless NULL); errno of a failed exec. */
static pid_t start(char **prog, const struct limits *l, const sigset_t *blocked, int *err) {
    int errpipe[2];
    if (pipe2(errpipe, O_CLOEXEC) != 0) _exit(125);
    pid_t child = fork();
    if (child < 0) _exit(125);
    if (child == 0) {
        sigprocmask(SIG_UNBLOCK, blocked, NULL);
        if (l) apply(0, l);
        execvp(prog[0], prog);
        int e = errno;
        if (write(errpipe[1], &e, sizeof e) < 0) _exit(127);
        _exit(127);
    }
    close(errpipe[1]);
    if (read(errpipe[0], err, sizeof *err) <= 0) *err = 0;
    close(errpipe[0]);
    return child;
}

int main(int argc, char **argv) {
    /* r1-init CTRL STATUS [--early NAME] -- PROGRAM...
       --early: start PROGRAM before the job arrives, with NAME (its script) a FIFO that
       it blocks on; the job then sets its rlimits and feeds NAME. A warm spare and a cold
       run both go this way, so a program cannot tell them apart. */
    if (argc < 4) return 122;
    int ctrl = atoi(argv[1]), status = atoi(argv[2]), argi = 3;
    const char *early = NULL;
    if (strcmp(argv[argi], "--early") == 0 && argc > argi + 2) {
        early = argv[argi + 1];
        argi += 2;
    }
    if (strcmp(argv[argi], "--") != 0 || argi + 1 >= argc) return 122;
    char **prog = argv + argi + 1;
    prctl(PR_SET_DUMPABLE, 0);
    tick = sysconf(_SC_CLK_TCK);
    fcntl(status, F_SETFD, FD_CLOEXEC);
    fcntl(ctrl, F_SETFD, FD_CLOEXEC); /* the program, started early, must not inherit it */
    /* SIGTERM from outside the namespace (si_pid 0: the supervisor) ends the run early,
       with a report; from inside it is ignored. */
    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    sigaddset(&chld, SIGTERM);
    sigprocmask(SIG_BLOCK, &chld, NULL);
    pid_t child = -1;
    int exec_errno = 0;
    static const char staged[] = ".r1-early";
    if (early) {
        unlink(early);
        if (mkfifo(early, 0644) != 0) return 124;
        child = start(prog, NULL, &chld, &exec_errno);
    }

    /* 1. The job: "cpu_ms as fsize nproc nofile inodes nfiles\n", then "size mode name\n"
          per file, then the files' bytes. */
    size_t len;
    char *job = slurp(ctrl, &len);
    close(ctrl);
    if (len == 0) return 0; /* a spare dropped unused */
    char *body = memchr(job, '\n', len);
    if (!body) return 123;
    *body++ = 0;
    struct limits lim;
    long long inodes, nfiles;
    if (sscanf(job, "%lld %lld %lld %lld %lld %lld %lld", &lim.cpu_ms, &lim.as, &lim.fsize,
               &lim.nproc, &lim.nofile, &inodes, &nfiles) != 7)
        return 123;
    char *names = body;
    char *data = body;
    for (long long i = 0; i < nfiles; i++) {
        data = memchr(data, '\n', len - (size_t)(data - job));
        if (!data) return 123;
        data++;
    }
    for (long long i = 0; i < nfiles; i++) {
        char *eol = strchr(names, '\n');
        *eol = 0;
        long long size;
        int mode, off;
        if (sscanf(names, "%lld %o %n", &size, &mode, &off) != 2) return 123;
        char *name = names + off;
        if (early && strcmp(name, early) == 0) name = (char *)staged;
        mkparents(name);
        int fd = open(name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
        if (fd < 0) return 124;
        for (long long done = 0; done < size;) {
            ssize_t w = write(fd, data + done, (size_t)(size - done));
            if (w <= 0) return 124;
            done += w;
        }
        close(fd);
        data += size;
        names = eol + 1;
    }
    free(job);
    long long base_inodes = used_inodes();

    /* 2. The program, with its rlimits, in a child: PID 1 must outlive it to judge it. */
    int wstatus = 0, over = 0, fs_over = 0, done = 0;
    if (!early) {
        child = start(prog, &lim, &chld, &exec_errno);
    } else if (!exec_errno) {
        apply(child, &lim);
        int fifo = -1;
        while (fifo < 0) { /* the program may not have opened its end yet */
            fifo = open(early, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
            if (fifo >= 0) break;
            if (errno != ENXIO) return 124;
            if (waitpid(child, &wstatus, WNOHANG) == child) { done = 1; break; }
            usleep(500);
        }
        if (fifo >= 0) {
            /* The real file takes the FIFO's name before a byte of code is read, so the
               program finds its own source where a cold start puts it. */
            if (rename(staged, early) != 0) return 124;
            int src = open(early, O_RDONLY | O_CLOEXEC);
            fcntl(fifo, F_SETFL, 0);
            char buf[1 << 16];
            ssize_t n;
            while (src >= 0 && (n = read(src, buf, sizeof buf)) > 0)
                for (ssize_t off = 0; off < n;) {
                    ssize_t w = write(fifo, buf + off, (size_t)(n - off));
                    if (w <= 0) { n = 0; break; }
                    off += w;
                }
            if (src >= 0) close(src);
            close(fifo);
        }
    }

    /* 3. Reap everything; stop the whole run when its CPU time passes the limit. */
    struct timespec poll = {0, 50 * 1000 * 1000};
    while (!done) {
        siginfo_t info;
        if (sigtimedwait(&chld, &info, &poll) == SIGTERM && info.si_pid == 0) kill(-1, SIGKILL);
        for (;;) {
            int ws;
            pid_t pid = waitpid(-1, &ws, WNOHANG);
            if (pid <= 0) break;
            if (pid == child) { wstatus = ws; done = 1; }
        }
        if (!done && !over && reaped_cpu_us(NULL) + live_cpu_us() >= lim.cpu_ms * 1000LL) {
            over = 1;
            kill(-1, SIGKILL);
        }
        if (!done && !fs_over && inodes > 0 && used_inodes() - base_inodes > inodes) {
            fs_over = 1;
            kill(-1, SIGKILL);
        }
    }
    kill(-1, SIGKILL);
    while (waitpid(-1, NULL, 0) > 0 || errno == EINTR) {}

    /* 4. The verdict's facts, on a pipe only we hold. */
    long maxrss;
    long long cpu_us = reaped_cpu_us(&maxrss);
    char line[256];
    int n = snprintf(line, sizeof line,
                     "%s %d cpu_us %lld maxrss_kb %ld cpu_limit %d fs_limit %d exec_errno %d\n",
                     WIFEXITED(wstatus) ? "exit" : "signal",
                     WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : WTERMSIG(wstatus), cpu_us,
                     maxrss, over, fs_over, exec_errno);
    if (write(status, line, (size_t)n) < 0) return 126;
    return 0;
}
"""

#: The C compilers tried, in order.
COMPILERS = ("cc", "gcc", "clang")


@dataclass(frozen=True)
class InitStatus:
    """What the init saw: the program's end, apart from anything it printed."""

    exit_code: int | None  # the program's exit status, None if a signal killed it
    signal: int | None  # the signal that killed it, None if it exited
    cpu_s: float  # CPU time of every process of the run
    max_rss_kb: int  # peak RSS of its largest process
    cpu_limit: bool  # the init stopped the run for its CPU time
    exec_errno: int  # errno of a failed exec of the program, else 0
    fs_limit: bool = False  # the init stopped the run for the files it made


def parse_status(line: bytes) -> InitStatus | None:
    """The init's status line, or None if it is missing or malformed.

    >>> line = b"signal 9 cpu_us 1500000 maxrss_kb 2048 cpu_limit 1 fs_limit 0 exec_errno 0\\n"
    >>> parse_status(line).signal, parse_status(line).cpu_s, parse_status(line).cpu_limit
    (9, 1.5, True)
    """
    parts = line.decode("ascii", "replace").split()
    if len(parts) != 12 or parts[0] not in ("exit", "signal"):
        return None
    try:
        fields = dict(zip(parts[2::2], (int(v) for v in parts[3::2]), strict=True))
        code = int(parts[1])
        return InitStatus(
            exit_code=code if parts[0] == "exit" else None,
            signal=code if parts[0] == "signal" else None,
            cpu_s=fields["cpu_us"] / 1e6,
            max_rss_kb=fields["maxrss_kb"],
            cpu_limit=bool(fields["cpu_limit"]),
            exec_errno=fields["exec_errno"],
            fs_limit=bool(fields["fs_limit"]),
        )
    except (KeyError, ValueError):
        return None


def job_header(
    *,
    cpu_s: float,
    memory_bytes: int,
    file_bytes: int,
    max_processes: int,
    files: Mapping[str, bytes],
    max_inodes: int = 0,
    open_files: int = 256,
) -> bytes:
    """The job as the init reads it: limits, the file table, then the files' bytes.

    `memory_bytes` 0 leaves the address space unlimited (a cgroup bounds the run instead);
    `max_inodes` 0 leaves the number of new files on the run's tmpfs unchecked.
    """
    lines = [
        f"{max(1, round(cpu_s * 1000))} {memory_bytes} {file_bytes} {max_processes} "
        f"{open_files} {max_inodes} {len(files)}\n"
    ]
    for name, content in files.items():
        lines.append(f"{len(content)} 644 {name}\n")
    return "".join(lines).encode() + b"".join(files.values())


def _trusted(folder: Path, binary: Path) -> bool:
    """Made by us and writable by no one else (the shared temp dir is world-writable)."""
    for path in (folder, binary):
        try:
            st = path.lstat()
        except OSError:
            return False
        if st.st_uid != os.geteuid() or st.st_mode & 0o022 or stat.S_ISLNK(st.st_mode):
            return False
    return True


@functools.lru_cache(maxsize=1)
def build() -> tuple[str | None, str]:
    """(path of the compiled init, '') or (None, why it could not be built).

    Built once per machine and user, keyed by the source's hash, in the temp dir; a copy
    is reused only if this user made it and no one else can write it.
    """
    digest = hashlib.sha256(SOURCE.encode()).hexdigest()[:16]
    folder = Path(tempfile.gettempdir()) / f"r1-sandbox-init-{digest}-{os.geteuid()}"
    binary = folder / "r1-init"
    if _trusted(folder, binary):
        return str(binary), ""
    compiler = next((c for c in COMPILERS if shutil.which(c)), None)
    if compiler is None:
        return None, (
            "no C compiler (cc, gcc or clang) to build the sandbox's init: apt install gcc "
            "(or dnf install gcc)"
        )
    staging = Path(tempfile.mkdtemp(prefix=f"r1-sandbox-init-{digest}-staging-"))
    staging.chmod(0o755)  # the unprivileged uid a root caller drops to must execute it
    source = staging / "r1-init.c"
    source.write_text(SOURCE)
    built = staging / "r1-init"
    try:
        done = subprocess.run(
            [compiler, "-O2", "-o", str(built), str(source)],
            capture_output=True,
            timeout=120,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        shutil.rmtree(staging, ignore_errors=True)
        return None, f"cannot build the sandbox's init with {compiler}: {exc}"
    if done.returncode != 0:
        shutil.rmtree(staging, ignore_errors=True)
        error = done.stderr.decode(errors="replace").strip()[-500:]
        return None, f"cannot build the sandbox's init with {compiler}: {error}"
    built.chmod(0o755)
    source.unlink()
    try:
        staging.rename(folder)
    except OSError:  # another process won the race, or a stale folder: use ours in place
        return (str(binary), "") if _trusted(folder, binary) else (str(built), "")
    return str(binary), ""
