"""Code rewards: run the model's program against tests (DeepSeek-R1, 2.2.2; OlympicCoder).

For code, the verifiable reward is execution: extract the last fenced code block of the
completion, run it on the problem's tests, and score the fraction passed (`code_reward`),
all-or-nothing (`binary_code_reward`), IOI subtask points (`ioi_code_reward`) or a
Codeforces verdict (`cf_code_reward`). The signatures and dataset columns are open-r1's
(`verification_info` with `language` and `test_cases`; the `open-r1/ioi` and
`open-r1/codeforces` schemas), so the same data sets plug in unchanged.

Execution itself lives in r1-sandbox and the graders in r1-cp-scoring, which this light
package does not depend on: install `r1-rewards[code]` to enable these rewards. Until
then they raise a `MissingExtraError` that says so, never a silent 0.0.

Data flow: completions -> `extract_code` -> sandboxed runs on the dataset's tests ->
one float per completion (None when the sandbox could not grade) -> the trainer.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, Literal

from r1_rewards.errors import MissingExtraError


def extract_code(completion: str, language: str | None = "python") -> str:
    """The body of the last ```language fenced block, or "" when there is none.

    >>> extract_code("try:\\n```python\\nprint(1)\\n```\\nthen:\\n```python\\nprint(2)\\n```")
    'print(2)\\n'
    """
    if language is None:
        return ""
    matches = re.findall(rf"```{re.escape(language)}\n(.*?)```", completion, re.DOTALL)
    return matches[-1] if matches else ""


def _code_extra_missing(reward: str) -> MissingExtraError:
    """The error of a code reward called before r1-sandbox is wired in."""
    return MissingExtraError(reward, "code")


def code_reward(
    completions: Sequence[Any],
    num_parallel: int = 2,
    provider_type: str = "local",
    enforce_same_language: bool = False,
    **kwargs: Any,
) -> list[float | None]:
    """Fraction of the `verification_info` test cases the extracted program passes."""
    raise _code_extra_missing("code_reward")


def binary_code_reward(
    completions: Sequence[Any],
    num_parallel: int = 2,
    provider_type: str = "local",
    enforce_same_language: bool = False,
    **kwargs: Any,
) -> list[float | None]:
    """1.0 when the extracted program passes every test case (score > 0.99), else 0.0."""
    raise _code_extra_missing("binary_code_reward")


def ioi_code_reward(
    completions: Sequence[Any],
    test_batch_size: int = 1,
    provider_type: str = "local",
    **kwargs: Any,
) -> list[float]:
    """IOI subtask score of the extracted C++ program (open-r1/ioi schema)."""
    raise _code_extra_missing("ioi_code_reward")


def cf_code_reward(
    completions: Sequence[Any],
    test_batch_size: int = 1,
    patch_code: bool = False,
    scoring_mode: Literal["pass_fail", "partial", "weighted_sum"] = "weighted_sum",
    **kwargs: Any,
) -> list[float | None]:
    """Codeforces score of the extracted program (open-r1/codeforces schema)."""
    raise _code_extra_missing("cf_code_reward")
