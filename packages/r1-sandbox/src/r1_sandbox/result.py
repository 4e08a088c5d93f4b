"""What one sandboxed run returns, and what one run is asked to do.

The verdicts are the ones every contest judge uses (Codeforces, CMS, Piston's clients):
OK, compile error, runtime error, time limit, memory limit, output limit, plus `SE` for
"the sandbox itself failed". Keeping `SE` apart from `RE` is the point: open-r1 turns a
dead E2B sandbox into a reward of 0.0, indistinguishable from a wrong program; here a
caller can count, retry or skip it (TRL skips a `None` reward).

Data flow: a `Job` (code, language, stdin, files, limits) from a reward or a grader ->
any backend -> a `RunResult` (status, exit code, capped output, time, memory) -> the
caller compares stdout with the expected output.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

from r1_sandbox.errors import BackendConfigError

#: Default limits. 10 s and 512 MiB are generous for contest-sized tests; output is capped
#: at 1 MiB per stream, far above any expected answer and far below a flood.
DEFAULT_TIMEOUT_S = 10.0
DEFAULT_MEMORY_MB = 512
DEFAULT_OUTPUT_LIMIT = 1 << 20


class Status(StrEnum):
    """The verdict of one run."""

    OK = "OK"  # exited 0 within every limit
    CE = "CE"  # compile error (compiled languages only)
    RE = "RE"  # runtime error: non-zero exit or killed by a signal
    TLE = "TLE"  # wall-clock or CPU time limit
    MLE = "MLE"  # memory limit
    OLE = "OLE"  # output limit: stdout flood cut off
    SE = "SE"  # sandbox or system error: the program was not (fully) judged


@dataclass(frozen=True)
class RunResult:
    """The outcome of one run.

    `exit_code` is the program's exit status, minus the signal number when a signal
    killed it (as `subprocess` reports it), None when it never ran. `stdout` / `stderr`
    are decoded as UTF-8 (bad bytes replaced) and capped; `message` says why for every
    status but OK (the compiler's output for CE, the cause for SE). `time_s` is the
    run's wall-clock time; `memory_mb` its peak memory where the backend can measure it
    (None otherwise: see the local backend's notes); `cpu_s` the CPU time of every
    process of the run, where the backend can measure it.
    """

    status: Status
    exit_code: int | None = None
    stdout: str = ""
    stderr: str = ""
    time_s: float = 0.0
    memory_mb: float | None = None
    message: str = ""
    cpu_s: float | None = None

    @property
    def ok(self) -> bool:
        return self.status is Status.OK

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (status as its string)."""
        data = asdict(self)
        data["status"] = self.status.value
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RunResult:
        """Inverse of `to_dict`; unknown keys are ignored so newer servers stay readable.

        >>> RunResult.from_dict({"status": "TLE", "time_s": 2.0}).status
        <Status.TLE: 'TLE'>
        """
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        known["status"] = Status(known.get("status", "SE"))
        return cls(**known)

    @classmethod
    def system_error(cls, message: str) -> RunResult:
        """An `SE` result: the sandbox, not the program, failed."""
        return cls(status=Status.SE, message=message)


@dataclass(frozen=True)
class Job:
    """One program to run: code, language, input and limits.

    `timeout` bounds both wall-clock and CPU time, in seconds; `memory_mb` bounds the
    program's memory. `files` are extra files placed beside the program (name -> content).
    """

    code: str
    language: str = "python"
    stdin: str = ""
    files: Mapping[str, str | bytes] = field(default_factory=dict[str, "str | bytes"])
    timeout: float = DEFAULT_TIMEOUT_S
    memory_mb: int = DEFAULT_MEMORY_MB

    def __post_init__(self) -> None:
        if not self.timeout > 0:
            raise BackendConfigError(f"timeout={self.timeout!r}: must be > 0 seconds")
        if not self.memory_mb > 0:
            raise BackendConfigError(f"memory_mb={self.memory_mb!r}: must be > 0")
        for name in self.files:
            if (
                not name
                or name.startswith("/")
                or ".." in name.split("/")
                or "\n" in name
                or "\0" in name
            ):
                raise BackendConfigError(
                    f"files[{name!r}]: must be a relative path inside the scratch directory"
                )

    def to_dict(self) -> dict[str, Any]:
        files = {
            k: v.decode("utf-8", "replace") if isinstance(v, bytes) else v
            for k, v in self.files.items()
        }
        return {
            "code": self.code,
            "language": self.language,
            "stdin": self.stdin,
            "files": files,
            "timeout": self.timeout,
            "memory_mb": self.memory_mb,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Job:
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        return cls(**known)
