"""The exceptions of r1-sandbox.

    SandboxError                 base: catch this to catch everything the package raises
    ├── ContainmentUnavailableError
    │                            `isolation="strict"` was asked for and a kernel mechanism
    │                            (bwrap, user namespaces) is missing; the message names it
    ├── UnsupportedLanguageError a language no backend here knows; lists the known ones
    ├── BackendConfigError       a backend cannot be built as configured (unknown name, no
    │                            Piston endpoints, no router URL, bad limits)
    ├── ServiceUnavailableError  a hosted service (a Piston fleet) still failed after the
    │                            retries; raised only by the transport (`PistonTransport`),
    │                            whose backend turns it into an `SE` result
    ├── ServiceRefusedError      the service answered that the request itself is wrong (HTTP
    │                            4xx other than 429): sending it again cannot help
    └── MissingExtraError        a hosted backend's SDK is not installed; the message gives
                                 the exact `pip install "r1-sandbox[extra]"`

What the *program* does is never raised: a crash, a timeout or a flood is a `RunResult`
with a status. What the *infrastructure* does at run time (a rate limit, a dead endpoint,
a sandbox that vanished) is also a result, status `SE` with the cause in `message`, so a
batch of a thousand runs never dies on one bad host and never reads as a wrong program.

Data flow: raised while a backend is built or a job is checked (before anything runs)
-> the caller, with the field, the bad value and the fix in the message.
"""

from __future__ import annotations


class SandboxError(Exception):
    """Base class of every error raised by r1-sandbox."""


class ContainmentUnavailableError(SandboxError, RuntimeError):
    """Strict isolation was requested but a containment mechanism is missing."""


class UnsupportedLanguageError(SandboxError, ValueError):
    """The language is not one this backend can run."""


class BackendConfigError(SandboxError, ValueError):
    """A backend was configured with values it cannot work with."""


class ServiceUnavailableError(SandboxError, RuntimeError):
    """A hosted service could not be reached or kept failing after every retry."""


class ServiceRefusedError(SandboxError, ValueError):
    """A hosted service rejected the request (HTTP 4xx other than 429)."""


class MissingExtraError(SandboxError, ImportError):
    """A backend needs an optional dependency that is not installed."""

    def __init__(self, what: str, extra: str) -> None:
        super().__init__(f'{what} needs an optional dependency: pip install "r1-sandbox[{extra}]"')
        self.extra = extra
