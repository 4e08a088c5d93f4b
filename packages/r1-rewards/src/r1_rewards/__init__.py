"""r1-rewards: reward functions for RL on reasoning, bounded, parallel, drop-in for open-r1.

Every reward follows TRL's convention, `fn(completions, **dataset_columns) -> list[float
| None]`, with completions as strings or chat messages; each also has a per-sample form
for other frameworks (`math_score`, `format_score`, ...) and verl has an adapter in
`r1_rewards.verl`. Importing this package loads no training stack and starts nothing:
the math worker pool starts on the first math reward call.
"""

from r1_rewards._completions import completion_text, completion_texts
from r1_rewards.code import (
    binary_code_reward,
    cf_code_reward,
    code_reward,
    extract_code,
    ioi_code_reward,
)
from r1_rewards.errors import MathWorkerError, MissingExtraError, RewardError, RewardInputError
from r1_rewards.format_rewards import (
    code_format_score,
    format_reward,
    format_score,
    get_code_format_reward,
    reasoning_steps_reward,
    reasoning_steps_score,
    tag_count_reward,
    tag_count_score,
)
from r1_rewards.length import (
    cosine_scaled_score,
    get_cosine_scaled_reward,
    get_len_reward,
    len_reward,
)
from r1_rewards.math_accuracy import (
    accuracy_reward,
    get_accuracy_reward,
    math_score,
    math_scores,
)
from r1_rewards.overlong import get_soft_overlong_punishment, overlong_score
from r1_rewards.registry import REWARD_NAMES, RewardArgs, get_reward_funcs
from r1_rewards.repetition import get_repetition_penalty_reward, repetition_score

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
    # registry and configuration
    "REWARD_NAMES",
    "RewardArgs",
    # reading completions
    "completion_text",
    "completion_texts",
    # errors
    "MathWorkerError",
    "MissingExtraError",
    "RewardError",
    "RewardInputError",
]
