"""The exceptions of r1-rewards.

    RewardError                  base: catch this to catch everything the package raises
    ├── RewardInputError         the trainer passed something a reward cannot read
    │                            (a completion that is neither text nor chat messages, a
    │                            missing dataset column); the message names the field
    ├── RewardConfigError        a reward option is invalid (an unknown reward name or
    │                            field, a value outside its choices, `x=ture`); the
    │                            message names the field, the value and what is allowed
    ├── MissingExtraError        an optional dependency is not installed; the message
    │                            gives the exact `pip install "r1-rewards[extra]"`
    └── MathWorkerError          the math-verify worker processes cannot start

Model output is never a reason to raise: a completion that cannot be parsed scores 0.0,
a gold answer that cannot be parsed gives None (TRL skips that sample), and so does a row
a grader fails on (its reason is logged and counted, see `record_outcomes`).

Data flow: raised by the rewards and the math pool -> the trainer's process, where the
message (not a traceback from three layers down) tells the user what to fix.
"""

from __future__ import annotations


class RewardError(Exception):
    """Base class of every error raised by r1-rewards."""


class RewardInputError(RewardError, ValueError):
    """The inputs handed to a reward function do not have the expected shape."""


class RewardConfigError(RewardError, ValueError):
    """A reward option is not valid; the message names the field and the allowed values."""


class MissingExtraError(RewardError, ImportError):
    """A reward needs an optional dependency that is not installed."""

    def __init__(self, what: str, extra: str) -> None:
        super().__init__(f'{what} needs an optional dependency: pip install "r1-rewards[{extra}]"')
        self.extra = extra


class MathWorkerError(RewardError, RuntimeError):
    """The math-verify worker processes cannot be started."""
