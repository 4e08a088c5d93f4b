"""Verdicts: a reward's score together with why it is what it is (verl / verifiers' `*_details`).

A float alone cannot tell a trainer whether 0.0 means "wrong answer", "no answer" or
"the grader gave up", and None alone does not say whether the gold answer or the sandbox
was at fault. Every reward here is computed from a `Verdict` (score, reason, the answer or
code the reward read), the `*_details` functions return it, and the batch rewards count
its `Outcome` for the trainer's metrics (`record_outcomes`). An enum, not strings: a typo
in a reason is an AttributeError, not a silent miscount.

Data flow: a grader (math worker, regex, sandbox, contest grader) -> `Verdict` -> its
`score` to the trainer (TRL's list of floats), its `outcome` to `record_outcomes`, the
whole verdict to callers of `*_details`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Outcome(StrEnum):
    """What happened to one sample, as a trainer counts it per reward."""

    #: The reward judged the sample; its score means what the reward says.
    GRADED = "graded"
    #: The reward could not judge the sample (unparseable gold, a grader or sandbox error,
    #: a bad row): the score is None, or for len/cosine open-r1's neutral fallback.
    UNGRADED = "ungraded"
    #: The grader was stopped at its time limit; the sample scores as wrong.
    TIMED_OUT = "timed_out"
    #: The grading process died on the sample (segfault, OOM killer); scored as wrong.
    CRASHED = "crashed"


class Reason(StrEnum):
    """Why a sample got its score."""

    # -- math (accuracy, length, cosine) ---------------------------------------------------
    #: The extracted answer equals the gold answer.
    CORRECT = "correct"
    #: An answer was extracted and differs from the gold answer.
    WRONG = "wrong"
    #: No answer could be extracted from the completion (no `\boxed{}` or other anchor).
    NO_ANSWER = "no_answer"
    #: The gold answer itself does not parse: the sample says nothing about the model.
    GOLD_UNPARSEABLE = "gold_unparseable"
    #: math-verify raised while comparing the two answers.
    VERIFY_ERROR = "verify_error"
    #: Parse or verify ran past the per-item limit; the worker was killed.
    TIMED_OUT = "timed_out"
    #: The worker process died on this item.
    WORKER_CRASHED = "worker_crashed"
    # -- format rewards --------------------------------------------------------------------
    #: The completion follows the template.
    MATCHED = "matched"
    #: The completion does not follow the template.
    NOT_MATCHED = "not_matched"
    #: A graded quantity (tags, steps, repeated n-grams, tokens); see `detail`.
    MEASURED = "measured"
    # -- code rewards ----------------------------------------------------------------------
    #: The program ran on the tests; the score is the reward's function of the results.
    TESTS_RUN = "tests_run"
    #: The completion has no fenced code block in the sample's language.
    NO_CODE = "no_code"
    #: The sample has no tests (not a coding problem).
    NO_TESTS = "no_tests"
    #: The row names no language (cf_code needs the `language` column).
    NO_LANGUAGE = "no_language"
    #: The row's language is one the sandbox or grader cannot run.
    UNSUPPORTED_LANGUAGE = "unsupported_language"
    #: The sandbox or provider could not run the program (`SE`, a dead endpoint).
    SANDBOX_ERROR = "sandbox_error"
    #: The grader failed on this row (a broken checker, a missing column, a bad value).
    GRADER_ERROR = "grader_error"


_OUTCOMES = {
    Reason.GOLD_UNPARSEABLE: Outcome.UNGRADED,
    Reason.VERIFY_ERROR: Outcome.UNGRADED,
    Reason.TIMED_OUT: Outcome.TIMED_OUT,
    Reason.WORKER_CRASHED: Outcome.CRASHED,
    Reason.NO_TESTS: Outcome.UNGRADED,
    Reason.NO_LANGUAGE: Outcome.UNGRADED,
    Reason.UNSUPPORTED_LANGUAGE: Outcome.UNGRADED,
    Reason.SANDBOX_ERROR: Outcome.UNGRADED,
    Reason.GRADER_ERROR: Outcome.UNGRADED,
}


@dataclass(frozen=True)
class Verdict:
    """One sample's score, the reason for it, and what the reward read from the completion.

    >>> v = Verdict(0.0, Reason.NO_ANSWER)
    >>> v.outcome, v.graded
    (<Outcome.GRADED: 'graded'>, True)
    """

    #: The reward (None: TRL leaves the sample out).
    score: float | None
    reason: Reason
    #: The answer (math: math-verify's string of it) or program the reward read; None if none.
    extracted: str | None = None
    #: Specifics for a person: the counts behind a measure, an error message.
    detail: str = ""

    @property
    def outcome(self) -> Outcome:
        """How a trainer's metrics count this sample."""
        return _OUTCOMES.get(self.reason, Outcome.GRADED)

    @property
    def graded(self) -> bool:
        """Whether the reward judged the sample (`outcome` is GRADED)."""
        return self.outcome is Outcome.GRADED
