"""The errors of r1-eval, one base class, each mapped to an exit code of the CLI.

    EvalError
    ├── ConfigError              a flag or field has a value it cannot have   -> exit 2
    ├── UnknownTaskError         a task name that is not known (lists valid)  -> exit 2
    ├── DatasetColumnError       a local data file lacks a column (names it)  -> exit 2
    ├── MissingExtraError        an optional dependency is absent             -> exit 2
    ├── EvalJobError             the run finished but is incomplete           -> exit 1
    └── ServiceUnavailableError  a server the run needs never answered        -> exit 3

The first three are also ValueErrors, as callers validating a config expect.

Data flow: raised anywhere in a run -> `cli.main` -> one message on stderr + exit code.
"""

from __future__ import annotations


class EvalError(Exception):
    """Base of every error r1-eval raises on purpose."""


class ConfigError(EvalError, ValueError):
    """A field of the run has a value it cannot have."""


class UnknownTaskError(EvalError, ValueError):
    """A task name that is neither one of open-r1's tasks nor an alias of one."""


class DatasetColumnError(EvalError, ValueError):
    """A local data file lacks a column the task's prompt function reads."""


class MissingExtraError(EvalError, ImportError):
    """An optional dependency of the chosen feature is not installed (the message says which)."""


class EvalJobError(EvalError, RuntimeError):
    """The evaluation ran but its results are incomplete (failed requests, ungraded samples)."""


class ServiceUnavailableError(EvalError, RuntimeError):
    """A server the run needs (vllm serve, the endpoint) never answered."""
