"""The errors of r1-train, one base class for all of them, and the exit code of each.

A failure a user can fix (a bad recipe, a missing extra, a Hub branch already taken) must
say what is wrong and what to write instead, before minutes of model loading, and must not
look like a crash of the trainer. So every error r1-train raises on purpose derives from
`TrainError`, and the CLI maps each kind to the exit code of the house convention
(0 done, 1 the job failed, 2 usage or configuration, 3 a required service unavailable)
without a traceback; anything else is a real crash and keeps its traceback.

    TrainError
    ├── ConfigError (also ValueError)       exit 2: a recipe, flag or field is wrong
    │   ├── HubRevisionError                 the Hub branch would be overwritten, or unnamed
    │   └── PreflightError                   a check before loading failed (model path,
    │                                        data set columns, benchmark launcher, ...)
    ├── MissingExtraError (also ImportError) exit 2: `pip install "r1-train[extra]"`
    └── ServiceUnavailableError              exit 3: the Hub (or another service) is down

Data flow: raised by `open_r1_compat`, `configs`, `preflight`, `hub`, `tracking` ->
`cli.main` -> one line on stderr and the exit code.
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "HubRevisionError",
    "MissingExtraError",
    "PreflightError",
    "ServiceUnavailableError",
    "TrainError",
    "exit_code",
]


class TrainError(Exception):
    """Base class of every error r1-train raises on purpose."""

    exit_code = 1


class ConfigError(TrainError, ValueError):
    """A recipe key, a flag or a field value is wrong; the message says what to write."""

    exit_code = 2


class HubRevisionError(ConfigError):
    """A Hub branch would be overwritten, or the config does not name one."""


class PreflightError(ConfigError):
    """A check made before any model loads failed (model path, columns, launcher, ...)."""


class MissingExtraError(TrainError, ImportError):
    """An optional dependency is not installed; the message names the extra to install."""

    exit_code = 2


class ServiceUnavailableError(TrainError):
    """A service the run needs (the Hub, a vLLM server) cannot be reached."""

    exit_code = 3


def exit_code(error: BaseException) -> int:
    """The CLI exit code of an error: its class's, else 1 (the job failed)."""
    return getattr(error, "exit_code", 1) if isinstance(error, TrainError) else 1
