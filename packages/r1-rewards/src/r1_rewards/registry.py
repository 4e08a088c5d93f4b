"""The reward registry: reward names in a config -> reward callables for the trainer.

A GRPO recipe names its rewards (`reward_funcs: [accuracy, format, tag_count]`) and
weights them (`reward_weights`); the trainer sums the weighted rewards of each completion
before taking group-relative advantages. `get_reward_funcs` turns the names into
callables, with open-r1's registry keys and function `__name__`s (TRL logs each reward
as `rewards/<__name__>`), so open-r1 recipes and dashboards carry over unchanged.

It reads its parameters from any object with open-r1's `GRPOScriptArguments` field names
(r1-train's config, open-r1's own, a SimpleNamespace) or from plain keyword arguments, so
other frameworks need no config class. `RewardArgs` (config.py) defines every field once.
`REWARDS` is the registry itself, an explicit dict from each name to the factory that
builds its callable from a `RewardArgs`; `REWARD_NAMES` is derived from it.

Data flow: recipe YAML -> script arguments -> `get_reward_funcs` -> list of callables ->
`GRPOTrainer(reward_funcs=...)`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from r1_rewards._completions import named_partial
from r1_rewards.code import binary_code_reward, cf_code_reward, code_reward, ioi_code_reward
from r1_rewards.config import RewardArgs
from r1_rewards.errors import RewardConfigError
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

RewardFunc = Callable[..., Any]


def _accuracy(args: RewardArgs) -> RewardFunc:
    if args.math_timeout is None:
        return accuracy_reward
    return named_partial(accuracy_reward, timeout=args.math_timeout)


def _cosine(args: RewardArgs) -> RewardFunc:
    return get_cosine_scaled_reward(
        min_value_wrong=args.cosine_min_value_wrong,
        max_value_wrong=args.cosine_max_value_wrong,
        min_value_correct=args.cosine_min_value_correct,
        max_value_correct=args.cosine_max_value_correct,
        max_len=args.cosine_max_len,
        unit=args.length_unit,
        timeout=args.math_timeout,
    )


def _repetition(args: RewardArgs) -> RewardFunc:
    return get_repetition_penalty_reward(
        ngram_size=args.repetition_n_grams,
        max_penalty=args.repetition_max_penalty,
        language=args.repetition_language,
    )


def _length(args: RewardArgs) -> RewardFunc:
    if args.length_unit == "chars" and args.math_timeout is None:
        return len_reward
    return named_partial(len_reward, unit=args.length_unit, timeout=args.math_timeout)


def _code_options(args: RewardArgs) -> dict[str, Any]:
    return {
        "num_parallel": args.parallel_code_exec_per_proc,
        "provider_type": args.code_provider,
        "enforce_same_language": args.enforce_same_language,
        "e2b_router_url": args.e2b_router_url,
        "morph_router_url": args.morph_router_url,
    }


def _code(args: RewardArgs) -> RewardFunc:
    return named_partial(code_reward, **_code_options(args))


def _binary_code(args: RewardArgs) -> RewardFunc:
    return named_partial(binary_code_reward, **_code_options(args))


def _ioi_code(args: RewardArgs) -> RewardFunc:
    return named_partial(
        ioi_code_reward,
        test_batch_size=args.code_eval_test_batch_size,
        provider_type=args.ioi_provider,
        num_parallel=args.parallel_code_exec_per_proc,
        morph_router_url=args.morph_router_url,
    )


def _cf_code(args: RewardArgs) -> RewardFunc:
    return named_partial(
        cf_code_reward,
        test_batch_size=args.code_eval_test_batch_size,
        scoring_mode=args.code_eval_scoring_mode,
        provider_type=args.cf_provider,
        num_parallel=args.parallel_code_exec_per_proc,
        morph_router_url=args.morph_router_url,
    )


def _code_format(args: RewardArgs) -> RewardFunc:
    return get_code_format_reward(language=args.code_language)


def _overlong(args: RewardArgs) -> RewardFunc:
    return get_soft_overlong_punishment(
        max_completion_len=args.max_completion_len, soft_punish_cache=args.soft_punish_cache
    )


#: open-r1's registry keys -> the factory of each reward. Factories, not instances: only
#: the rewards a recipe asks for get built (the zh repetition penalty needs jieba, the
#: contest rewards a provider).
REWARDS: dict[str, Callable[[RewardArgs], RewardFunc]] = {
    "accuracy": _accuracy,
    "format": lambda args: format_reward,
    "reasoning_steps": lambda args: reasoning_steps_reward,
    "cosine": _cosine,
    "repetition_penalty": _repetition,
    "length": _length,
    "code": _code,
    "binary_code": _binary_code,
    "ioi_code": _ioi_code,
    "cf_code": _cf_code,
    "code_format": _code_format,
    "tag_count": lambda args: tag_count_reward,
    "soft_overlong_punishment": _overlong,
}

#: Every registry name, in open-r1's order.
REWARD_NAMES: tuple[str, ...] = tuple(REWARDS)

_FIELDS = tuple(f.name for f in dataclasses.fields(RewardArgs))
# Fields a config may declare and leave None on purpose (None is their meaning).
_NONE_MEANS_DEFAULT = ("e2b_router_url", "morph_router_url", "math_timeout")


def reward_args_from(script_args: Any = None, **overrides: Any) -> RewardArgs:
    """A validated `RewardArgs` from any config object's matching fields plus keywords."""
    if isinstance(script_args, RewardArgs) and not overrides:
        return script_args
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
                if value is not None or name in _NONE_MEANS_DEFAULT:
                    values[name] = value
    values.update(overrides)
    return RewardArgs(**values)


def get_reward_funcs(script_args: Any = None, /, **overrides: Any) -> list[RewardFunc]:
    """The reward callables named by `reward_funcs`, in order.

    Args:
        script_args: any object with open-r1's `GRPOScriptArguments` field names (fields
            it lacks take `RewardArgs`'s defaults); optional.
        **overrides: the same fields as keywords, e.g.
            `get_reward_funcs(reward_funcs=["accuracy", "format"])`.

    Raises:
        RewardConfigError: an unknown reward name (the message lists the valid ones) or
            an invalid parameter (a ValueError).
        TypeError: a keyword that is not a `RewardArgs` field.
    """
    args = reward_args_from(script_args, **overrides)
    try:
        return [REWARDS[name](args) for name in args.reward_funcs]
    except ValueError as exc:
        if isinstance(exc, RewardConfigError):
            raise
        raise RewardConfigError(str(exc)) from exc
