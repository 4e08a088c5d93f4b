"""r1-rewards: reward functions for RL on reasoning, bounded, parallel, drop-in for open-r1.

Every reward follows TRL's convention, `fn(completions, **dataset_columns) -> list[float
| None]`, with completions as strings or chat messages; each also has a per-sample form
for other frameworks (`math_score`, `format_score`, ...), a `*_details` form returning a
`Verdict` (score, reason, extracted answer), and verl has an adapter in `r1_rewards.verl`.
`RewardArgs` defines every reward option once; `from_strings` parses `FIELD=VALUE`
options; `record_outcomes` counts ungraded and timed-out samples per reward. Importing
this package loads no training stack and starts nothing: the math worker pool starts on
the first math reward call.

Data flow: a recipe's reward names and options (`RewardArgs`) -> `get_reward_funcs` ->
the trainer calls each reward on (completions, dataset columns) -> one float or None per
completion (and its `Verdict`, and its count in `record_outcomes`) -> group advantages.
"""

from r1_rewards._completions import completion_text, completion_texts
from r1_rewards.code import (
    binary_code_reward,
    cf_code_reward,
    cf_code_reward_details,
    code_reward,
    code_reward_details,
    extract_code,
    ioi_code_reward,
    ioi_code_reward_details,
)
from r1_rewards.config import RewardArgs, from_strings, parse_value
from r1_rewards.errors import (
    MathWorkerError,
    MissingExtraError,
    RewardConfigError,
    RewardError,
    RewardInputError,
)
from r1_rewards.format_rewards import (
    code_format_details,
    code_format_score,
    format_details,
    format_reward,
    format_score,
    get_code_format_reward,
    reasoning_steps_details,
    reasoning_steps_reward,
    reasoning_steps_score,
    tag_count_details,
    tag_count_reward,
    tag_count_score,
)
from r1_rewards.length import (
    cosine_scaled_details,
    cosine_scaled_score,
    get_cosine_scaled_reward,
    get_len_reward,
    len_reward,
    len_reward_details,
)
from r1_rewards.math_accuracy import (
    accuracy_reward,
    get_accuracy_reward,
    math_details,
    math_score,
    math_scores,
    math_verdicts,
)
from r1_rewards.outcomes import record_outcomes
from r1_rewards.overlong import get_soft_overlong_punishment, overlong_details, overlong_score
from r1_rewards.registry import REWARD_NAMES, REWARDS, get_reward_funcs
from r1_rewards.repetition import (
    get_repetition_penalty_reward,
    repetition_details,
    repetition_score,
)
from r1_rewards.verdicts import Outcome, Reason, Verdict

__version__ = "0.1.0"

__all__ = [
    # open-r1's public names (drop-in for `open_r1.rewards`)
    "accuracy_reward",
    "binary_code_reward",
    "cf_code_reward",
    "code_reward",
    "extract_code",
    "format_reward",
    "get_code_format_reward",
    "get_cosine_scaled_reward",
    "get_repetition_penalty_reward",
    "get_reward_funcs",
    "get_soft_overlong_punishment",
    "ioi_code_reward",
    "len_reward",
    "reasoning_steps_reward",
    "tag_count_reward",
    # factories with r1's extra options (timeouts, token lengths)
    "get_accuracy_reward",
    "get_len_reward",
    # per-sample scores for other RL frameworks
    "code_format_score",
    "cosine_scaled_score",
    "format_score",
    "math_score",
    "math_scores",
    "overlong_score",
    "reasoning_steps_score",
    "repetition_score",
    "tag_count_score",
    # verdicts: score, reason, extracted answer (per sample, and per batch for TRL inputs)
    "Verdict",
    "Reason",
    "Outcome",
    "math_details",
    "math_verdicts",
    "format_details",
    "tag_count_details",
    "reasoning_steps_details",
    "code_format_details",
    "cosine_scaled_details",
    "repetition_details",
    "overlong_details",
    "len_reward_details",
    "code_reward_details",
    "ioi_code_reward_details",
    "cf_code_reward_details",
    # outcome counts for the trainer's metrics
    "record_outcomes",
    # registry and configuration
    "REWARD_NAMES",
    "REWARDS",
    "RewardArgs",
    "from_strings",
    "parse_value",
    # reading completions
    "completion_text",
    "completion_texts",
    # errors
    "MathWorkerError",
    "MissingExtraError",
    "RewardConfigError",
    "RewardError",
    "RewardInputError",
]
