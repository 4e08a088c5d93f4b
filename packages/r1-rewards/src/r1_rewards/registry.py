"""The reward registry: reward names in a config -> reward callables for the trainer.

A GRPO recipe names its rewards (`reward_funcs: [accuracy, format, tag_count]`) and
weights them (`reward_weights`); the trainer sums the weighted rewards of each completion
before taking group-relative advantages. `get_reward_funcs` turns the names into
callables, with open-r1's registry keys and function `__name__`s (TRL logs each reward
as `rewards/<__name__>`), so open-r1 recipes and dashboards carry over unchanged.

It reads its parameters from any object with open-r1's `GRPOScriptArguments` field names
(r1-train's config, open-r1's own, a SimpleNamespace) or from plain keyword arguments, so
other frameworks need no config class. `RewardArgs` lists every field with its default.

Data flow: recipe YAML -> script arguments -> `get_reward_funcs` -> list of callables ->
`GRPOTrainer(reward_funcs=...)`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from r1_rewards._completions import named_partial
from r1_rewards.code import binary_code_reward, cf_code_reward, code_reward, ioi_code_reward
from r1_rewards.format_rewards import (
    format_reward,
    get_code_format_reward,
    reasoning_steps_reward,
    tag_count_reward,
)
from r1_rewards.length import get_cosine_scaled_reward, len_reward
from r1_rewards.math_accuracy import accuracy_reward
from r1_rewards.overlong import get_soft_overlong_punishment
from r1_rewards.repetition import get_repetition_penalty_reward

REWARD_NAMES = (
    "accuracy",
    "format",
    "reasoning_steps",
    "cosine",
    "repetition_penalty",
    "length",
    "code",
    "binary_code",
    "ioi_code",
    "cf_code",
    "code_format",
    "tag_count",
    "soft_overlong_punishment",
)
_SCORING_MODES = ("pass_fail", "partial", "weighted_sum")
_UNITS = ("chars", "tokens")


@dataclass
class RewardArgs:
    """Every parameter `get_reward_funcs` reads, with open-r1's names and defaults.

    Defaults differ from open-r1 in two places, both deliberate: `cosine_min_value_wrong`
    is -1.0 (open-r1's 0.0 makes short wrong answers score above long wrong ones, the
    opposite of the cosine reward's intent), and the code providers default to the local
    sandbox (open-r1 needs an E2B account or a Piston fleet).
    """

    reward_funcs: list[str] = field(default_factory=lambda: ["accuracy", "format", "tag_count"])
    cosine_min_value_wrong: float = -1.0
    cosine_max_value_wrong: float = -0.5
    cosine_min_value_correct: float = 0.5
    cosine_max_value_correct: float = 1.0
    cosine_max_len: int = 1000
    repetition_n_grams: int = 3
    repetition_max_penalty: float = -1.0
    repetition_language: Literal["en", "zh"] = "en"
    code_language: str = "python"
    code_eval_test_batch_size: int = 1
    code_eval_scoring_mode: Literal["pass_fail", "partial", "weighted_sum"] = "weighted_sum"
    parallel_code_exec_per_proc: int = 2
    code_provider: str = "local"
    ioi_provider: str = "local"
    e2b_router_url: str | None = None
    morph_router_url: str | None = None
    enforce_same_language: bool = False
    max_completion_len: int = 16384
    soft_punish_cache: int = 4096
    # r1 additions: how cosine/length count length, and the math per-item time limit.
    length_unit: Literal["chars", "tokens"] = "chars"
    math_timeout: float | None = None

    def __post_init__(self) -> None:
        if isinstance(self.reward_funcs, str):
            self.reward_funcs = [self.reward_funcs]
        unknown = [n for n in self.reward_funcs if n not in REWARD_NAMES]
        if unknown:
            raise ValueError(
                f"reward_funcs={unknown!r}: unknown reward name(s); valid names are "
                f"{', '.join(REWARD_NAMES)}"
            )
        if self.code_eval_scoring_mode not in _SCORING_MODES:
            raise ValueError(
                f"code_eval_scoring_mode={self.code_eval_scoring_mode!r} is not one of "
                f"{_SCORING_MODES}"
            )
        if self.length_unit not in _UNITS:
            raise ValueError(f"length_unit={self.length_unit!r} is not one of {_UNITS}")
        if self.math_timeout is not None and self.math_timeout <= 0:
            raise ValueError(f"math_timeout={self.math_timeout!r}: must be positive seconds")
        if self.parallel_code_exec_per_proc < 1:
            raise ValueError(
                f"parallel_code_exec_per_proc={self.parallel_code_exec_per_proc!r}: must be >= 1"
            )


_FIELDS = tuple(f.name for f in dataclasses.fields(RewardArgs))


def reward_args_from(script_args: Any = None, **overrides: Any) -> RewardArgs:
    """A validated `RewardArgs` from any config object's matching fields plus keywords."""
    unknown = sorted(set(overrides) - set(_FIELDS))
    if unknown:
        raise TypeError(
            f"unknown reward argument(s) {unknown}; valid ones are {', '.join(_FIELDS)}"
        )
    values: dict[str, Any] = {}
    if script_args is not None:
        for name in _FIELDS:
            if hasattr(script_args, name):
                value = getattr(script_args, name)
                # A config that declares a field but leaves it unset keeps our default.
                if value is not None or name in (
                    "e2b_router_url",
                    "morph_router_url",
                    "math_timeout",
                ):
                    values[name] = value
    values.update(overrides)
    return RewardArgs(**values)


def get_reward_funcs(script_args: Any = None, /, **overrides: Any) -> list[Callable[..., Any]]:
    """The reward callables named by `reward_funcs`, in order.

    Args:
        script_args: any object with open-r1's `GRPOScriptArguments` field names (fields
            it lacks take `RewardArgs`'s defaults); optional.
        **overrides: the same fields as keywords, e.g.
            `get_reward_funcs(reward_funcs=["accuracy", "format"])`.

    Raises:
        ValueError: an unknown reward name (the message lists the valid ones) or an
            invalid parameter.
    """
    args = reward_args_from(script_args, **overrides)
    code_options = {
        "num_parallel": args.parallel_code_exec_per_proc,
        "provider_type": args.code_provider,
        "enforce_same_language": args.enforce_same_language,
        "e2b_router_url": args.e2b_router_url,
        "morph_router_url": args.morph_router_url,
    }
    # Factories, not instances: only the rewards that are asked for get built (the zh
    # repetition penalty, for one, needs jieba).
    registry: dict[str, Callable[[], Callable[..., Any]]] = {
        "accuracy": lambda: (
            accuracy_reward
            if args.math_timeout is None
            else named_partial(accuracy_reward, timeout=args.math_timeout)
        ),
        "format": lambda: format_reward,
        "reasoning_steps": lambda: reasoning_steps_reward,
        "cosine": lambda: get_cosine_scaled_reward(
            min_value_wrong=args.cosine_min_value_wrong,
            max_value_wrong=args.cosine_max_value_wrong,
            min_value_correct=args.cosine_min_value_correct,
            max_value_correct=args.cosine_max_value_correct,
            max_len=args.cosine_max_len,
            unit=args.length_unit,
            timeout=args.math_timeout,
        ),
        "repetition_penalty": lambda: get_repetition_penalty_reward(
            ngram_size=args.repetition_n_grams,
            max_penalty=args.repetition_max_penalty,
            language=args.repetition_language,
        ),
        "length": lambda: (
            len_reward
            if args.length_unit == "chars" and args.math_timeout is None
            else named_partial(len_reward, unit=args.length_unit, timeout=args.math_timeout)
        ),
        "code": lambda: named_partial(code_reward, **code_options),
        "binary_code": lambda: named_partial(binary_code_reward, **code_options),
        "ioi_code": lambda: named_partial(
            ioi_code_reward,
            test_batch_size=args.code_eval_test_batch_size,
            provider_type=args.ioi_provider,
        ),
        "cf_code": lambda: named_partial(
            cf_code_reward,
            test_batch_size=args.code_eval_test_batch_size,
            scoring_mode=args.code_eval_scoring_mode,
        ),
        "code_format": lambda: get_code_format_reward(language=args.code_language),
        "tag_count": lambda: tag_count_reward,
        "soft_overlong_punishment": lambda: get_soft_overlong_punishment(
            max_completion_len=args.max_completion_len,
            soft_punish_cache=args.soft_punish_cache,
        ),
    }
    return [registry[name]() for name in args.reward_funcs]
