"""The exceptions of r1-data.

    DataError                    base: catch this to catch everything the package raises
    ├── DataInputError           a data set, file, column or setting cannot be used as given
    │                            (unreadable file, missing column, bad mixture YAML); the
    │                            message names the source or field, the value and the fix
    ├── EndpointError            an OpenAI-compatible endpoint cannot be used at all
    │                            (nothing listening, wrong model name, refused key)
    ├── HubError                 the Hugging Face Hub refused a push or was unreachable
    └── MissingExtraError        an optional dependency is not installed; the message
                                 gives the exact `pip install "r1-data[extra]"`

A single failed request is not an error: it is retried with backoff, and a row whose
requests keep failing is counted in the run's report and retried by the next run.

Data flow: raised by every stage -> caught once by `r1_data.cli.main` -> one line on
stderr and the exit status of r1's convention: 2 for a usage or input error
(`DataInputError`, `MissingExtraError`), 3 for a service that cannot be used
(`EndpointError`, `HubError`); 1 is a job that ran and failed (rows that failed every
retry).
"""

from __future__ import annotations


class DataError(Exception):
    """Base class of every error raised by r1-data."""


class DataInputError(DataError, ValueError):
    """A data set, file, column or configuration value cannot be used."""


class EndpointError(DataError, ConnectionError):
    """An OpenAI-compatible endpoint is unreachable or rejects the whole job."""


class HubError(DataError, ConnectionError):
    """The Hugging Face Hub refused a push or could not be reached."""


class MissingExtraError(DataError, ImportError):
    """A feature needs an optional dependency that is not installed."""

    def __init__(self, what: str, extra: str) -> None:
        super().__init__(f'{what} needs an optional dependency: pip install "r1-data[{extra}]"')
        self.extra = extra
