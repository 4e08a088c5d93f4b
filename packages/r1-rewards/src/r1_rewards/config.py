"""Reward options: the one definition of every parameter the rewards take (open-r1's names).

A GRPO recipe sets reward options by open-r1's `GRPOScriptArguments` field names
(`cosine_max_len`, `code_provider`, ...). They are declared here once, each with its
default, its help (`metadata["help"]`, what TRL's parser shows) and its choices (a
`Literal`, checked in `__post_init__`), so r1-train's script arguments inherit them and
the CLIs parse `FIELD=VALUE` strings with one parser, `from_strings`, instead of each
keeping a copy that drifts (one of them used to read `ture` as False).

Data flow: recipe YAML / CLI `--set FIELD=VALUE` -> `from_strings` -> `RewardArgs`
(validated) -> `get_reward_funcs` -> the reward callables.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from r1_rewards.errors import RewardConfigError

CodeProvider = Literal["local", "e2b", "morph", "piston"]
CPProvider = Literal["local", "piston", "morph"]


@dataclass
class RewardArgs:
    """Every parameter `get_reward_funcs` reads, with open-r1's names and defaults.

    Defaults differ from open-r1 in two places, both deliberate: `cosine_min_value_wrong`
    is -1.0 (open-r1's 0.0 makes short wrong answers score above long wrong ones, the
    opposite of the cosine reward's intent), and the code providers default to the local
    sandbox (open-r1 needs an E2B account or a Piston fleet).
    """

    reward_funcs: list[str] = field(
        default_factory=lambda: ["accuracy", "format", "tag_count"],
        metadata={
            "help": "Reward functions by registry name (see `r1-rewards score --list`): "
            "accuracy, format, reasoning_steps, cosine, repetition_penalty, length, code, "
            "binary_code, ioi_code, cf_code, code_format, tag_count, soft_overlong_punishment."
        },
    )
    # -- cosine-scaled length reward (Yeo et al. 2025) ---------------------------------------
    cosine_min_value_wrong: float = field(
        default=-1.0,
        metadata={"help": "Cosine reward of the shortest wrong answer (the worst case)."},
    )
    cosine_max_value_wrong: float = field(
        default=-0.5, metadata={"help": "Cosine reward of a wrong answer at max_len or longer."}
    )
    cosine_min_value_correct: float = field(
        default=0.5, metadata={"help": "Cosine reward of a correct answer at max_len or longer."}
    )
    cosine_max_value_correct: float = field(
        default=1.0, metadata={"help": "Cosine reward of the shortest correct answer (the best)."}
    )
    cosine_max_len: int = field(
        default=1000,
        metadata={"help": "Length (in length_unit) where the cosine schedule reaches its end."},
    )
    # -- repetition penalty -------------------------------------------------------------------
    repetition_n_grams: int = field(
        default=3, metadata={"help": "Words per n-gram counted by the repetition penalty."}
    )
    repetition_max_penalty: float = field(
        default=-1.0,
        metadata={"help": "Penalty of a completion made of one repeated n-gram (<= 0)."},
    )
    repetition_language: Literal["en", "zh"] = field(
        default="en",
        metadata={"help": "Word splitting of the repetition penalty: whitespace, or jieba."},
    )
    # -- code rewards ---------------------------------------------------------------------------
    code_language: str = field(
        default="python",
        metadata={
            "help": "Fence language (```python) the code_format reward looks for when the "
            "data set has no `language` column. code and binary_code read each sample's "
            "language from its verification_info instead."
        },
    )
    code_eval_test_batch_size: int = field(
        default=1,
        metadata={
            "help": "ioi_code and cf_code: tests run at once per submission; after each "
            "batch a failed test stops the rest (-1: all tests in one batch)."
        },
    )
    code_eval_scoring_mode: Literal["pass_fail", "partial", "weighted_sum"] = field(
        default="weighted_sum",
        metadata={
            "help": "cf_code's score: pass_fail (1/0), partial (fraction of tests passed) "
            "or weighted_sum (pass_fail + 0.1 x fraction)."
        },
    )
    parallel_code_exec_per_proc: int = field(
        default=2,
        metadata={"help": "code and binary_code: sandbox runs at once per training process."},
    )
    code_provider: CodeProvider = field(
        default="local",
        metadata={
            "help": "Where code and binary_code run programs: local (r1-sandbox's bubblewrap "
            "sandbox), e2b, morph or piston."
        },
    )
    ioi_provider: CPProvider = field(
        default="local",
        metadata={"help": "Where ioi_code grades: local, piston (PISTON_ENDPOINTS) or morph."},
    )
    cf_provider: CPProvider = field(
        default="local",
        metadata={
            "help": "Where cf_code grades: local, piston (PISTON_ENDPOINTS) or morph "
            "(r1-sandbox's Morph backend, or morph_router_url). open-r1 always used piston."
        },
    )
    e2b_router_url: str | None = field(
        default=None,
        metadata={"help": "URL of an `r1-sandbox router --backend e2b` for provider e2b."},
    )
    morph_router_url: str | None = field(
        default=None,
        metadata={"help": "URL of an `r1-sandbox router --backend morph` for provider morph."},
    )
    enforce_same_language: bool = field(
        default=False,
        metadata={
            "help": "code and binary_code: raise an error when one batch mixes languages in "
            "verification_info (open-r1's check). Off, each sample runs in its own language."
        },
    )
    # -- soft overlong punishment (DAPO) ---------------------------------------------------------
    max_completion_len: int = field(
        default=16384,
        metadata={"help": "Soft overlong punishment: tokens at which the penalty reaches -1."},
    )
    soft_punish_cache: int = field(
        default=4096,
        metadata={"help": "Soft overlong punishment: the penalty ramps over these last tokens."},
    )
    # -- r1 additions ---------------------------------------------------------------------------
    length_unit: Literal["chars", "tokens"] = field(
        default="chars",
        metadata={
            "help": "How length and cosine count a completion: characters (open-r1) or tokens "
            "(its completion_ids)."
        },
    )
    math_timeout: float | None = field(
        default=None,
        metadata={
            "help": "Hard limit per math item, in seconds, for accuracy, length and cosine "
            "(default: R1_REWARDS_MATH_TIMEOUT, else 5)."
        },
    )

    def __post_init__(self) -> None:
        if isinstance(self.reward_funcs, str):
            self.reward_funcs = [self.reward_funcs]
        from r1_rewards.registry import REWARD_NAMES

        unknown = [n for n in self.reward_funcs if n not in REWARD_NAMES]
        if unknown:
            raise RewardConfigError(
                f"reward_funcs={unknown!r}: unknown reward name(s); valid names are "
                f"{', '.join(REWARD_NAMES)}"
            )
        hints = _hints(type(self))
        for f in dataclasses.fields(RewardArgs):
            choices = _choices(hints[f.name])
            value = getattr(self, f.name)
            if choices is not None and value not in choices:
                raise RewardConfigError(
                    f"{f.name}={value!r} is not one of {', '.join(map(repr, choices))}"
                )
        if self.math_timeout is not None and self.math_timeout <= 0:
            raise RewardConfigError(f"math_timeout={self.math_timeout!r}: must be positive seconds")
        if self.parallel_code_exec_per_proc < 1:
            raise RewardConfigError(
                f"parallel_code_exec_per_proc={self.parallel_code_exec_per_proc!r}: must be >= 1"
            )
        if self.code_eval_test_batch_size == 0 or self.code_eval_test_batch_size < -1:
            raise RewardConfigError(
                f"code_eval_test_batch_size={self.code_eval_test_batch_size!r}: must be a "
                "positive number of tests, or -1 for all at once"
            )
        if self.cosine_max_len <= 0:
            raise RewardConfigError(f"cosine_max_len={self.cosine_max_len!r}: must be positive")


def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _choices(hint: Any) -> tuple[Any, ...] | None:
    """The allowed values of a `Literal[...]` (or `Literal[...] | None`) hint, else None."""
    if typing.get_origin(hint) is Literal:
        return typing.get_args(hint)
    if _is_union(hint):
        literal = [a for a in typing.get_args(hint) if typing.get_origin(a) is Literal]
        if literal:
            none = (None,) if type(None) in typing.get_args(hint) else ()
            return (*typing.get_args(literal[0]), *none)
    return None


def _is_union(hint: Any) -> bool:
    return typing.get_origin(hint) in (typing.Union, types.UnionType)


_TRUE = ("true", "1", "yes", "on")
_FALSE = ("false", "0", "no", "off")


def parse_value(name: str, hint: Any, raw: str) -> Any:
    """`raw` converted to the type `hint` of field `name`; RewardConfigError when it is not one.

    Booleans are strict (true/false, 1/0, yes/no, on/off): `ture` is an error, never False.

    >>> parse_value("enforce_same_language", bool, "yes")
    True
    >>> parse_value("math_timeout", float | None, "none") is None
    True
    """
    text = raw.strip()
    if _is_union(hint):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        if type(None) in typing.get_args(hint) and text.lower() in ("none", "null", ""):
            return None
        if len(args) == 1:
            return parse_value(name, args[0], raw)
    choices = _choices(hint)
    if choices is not None:
        for choice in choices:
            if choice is not None and str(choice) == text:
                return choice
        raise RewardConfigError(f"{name}={raw!r}: expected one of {', '.join(map(repr, choices))}")
    if hint is bool:
        if text.lower() in _TRUE:
            return True
        if text.lower() in _FALSE:
            return False
        raise RewardConfigError(f"{name}={raw!r}: expected a boolean (true or false)")
    if typing.get_origin(hint) is list:
        (item,) = typing.get_args(hint) or (str,)
        return [parse_value(name, item, part) for part in text.split(",") if part.strip()]
    if hint in (int, float):
        try:
            return hint(text)
        except ValueError:
            raise RewardConfigError(f"{name}={raw!r}: expected {hint.__name__}") from None
    if hint is str:
        return raw
    raise RewardConfigError(f"{name}: fields of type {hint} cannot be set from a string")


def from_strings(
    pairs: Iterable[str],
    config: type = RewardArgs,
    *,
    exclude: Iterable[str] = (),
) -> dict[str, Any]:
    """Typed field values from `FIELD=VALUE` strings, checked against `config`'s fields.

    The one parser of `--set` / `--reward-arg` options: each value is converted to its
    field's annotated type (`parse_value`; strict booleans, `none` for optional fields,
    comma lists, `Literal` choices). Any dataclass works as `config`; `exclude` names
    fields that may not be set this way.

    Raises:
        RewardConfigError: a pair without `=`, an unknown field (the message lists the
            valid ones), or a value that does not convert.

    >>> from_strings(["cosine_max_len=2000", "enforce_same_language=true"])
    {'cosine_max_len': 2000, 'enforce_same_language': True}
    """
    excluded = set(exclude)
    hints = _hints(config)
    names = [f.name for f in dataclasses.fields(config) if f.name not in excluded]
    values: dict[str, Any] = {}
    for pair in pairs:
        name, sep, raw = pair.partition("=")
        name = name.strip()
        if not sep:
            raise RewardConfigError(f"{pair!r}: expected FIELD=VALUE")
        if name not in names:
            raise RewardConfigError(
                f"{name}: unknown field of {config.__name__}; valid fields are {', '.join(names)}"
            )
        values[name] = parse_value(name, hints[name], raw)
    return values
