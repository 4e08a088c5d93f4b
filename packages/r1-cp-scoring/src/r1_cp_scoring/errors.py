"""The exceptions of r1-cp-scoring.

    CPScoringError              base: catch this to catch everything the package raises
    ├── ConfigError             a bad argument: the field, the bad value and what is allowed
    ├── HarnessError            the problem's own material is broken (a test named but
    │                           missing, a checker or manager that does not compile, a
    │                           checker that crashes), so no score would be meaningful
    ├── GradingUnavailableError the infrastructure could not grade (sandbox `SE`, a dead
    │   │                       Piston fleet); the submission is not to blame
    │   ├── PistonError         a Piston endpoint answered with an error or not at all
    │   └── MorphCloudError     a MorphCloud instance could not run the grader
    └── MissingExtraError       an optional dependency is missing; gives the pip command

A wrong, slow or crashing *submission* is never raised: it is a score with a status. The
two failures above it are kept apart from a score on purpose: open-r1 prints them and
scores 0.0, which teaches the policy that correct code is wrong whenever a host hiccups.

Data flow: raised by the graders (ioi, codeforces) and the clients -> the reward
functions of r1-rewards (which grade each row on its own: a row whose grading raises is
a None reward with its reason logged and counted; a missing extra still raises) or the
CLI (exit code 2 or 3).
"""

from __future__ import annotations


class CPScoringError(Exception):
    """Base class of every error raised by r1-cp-scoring."""


class ConfigError(CPScoringError, ValueError):
    """An argument is out of its allowed range or of the wrong type."""


class HarnessError(CPScoringError, RuntimeError):
    """The problem's tests, checker, grader or manager are broken."""


class GradingUnavailableError(CPScoringError, RuntimeError):
    """The execution infrastructure failed; the submission could not be graded."""


class PistonError(GradingUnavailableError):
    """A Piston endpoint failed (open-r1's name for it)."""


class MorphCloudError(GradingUnavailableError):
    """MorphCloud could not run the grader (open-r1's name for it)."""


class MissingExtraError(CPScoringError, ImportError):
    """An optional dependency is not installed."""

    def __init__(self, what: str, extra: str) -> None:
        super().__init__(f'{what} needs the "{extra}" extra: pip install "r1-cp-scoring[{extra}]"')
        self.extra = extra
