"""Reading completions in either of TRL's two formats.

TRL hands a reward function its completions as plain strings (standard datasets) or as
lists of chat messages (conversational datasets, `[{"role": "assistant", "content":
...}]`). open-r1 only reads the second shape, `completion[0]["content"]`, and crashes on
the first; every reward here accepts both through `completion_texts`.

Data flow: `completions` as the trainer passes them -> one string per completion -> the
reward's per-sample scoring.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any, Literal

from r1_rewards.errors import RewardInputError


def completion_text(completion: Any, message: Literal["first", "last"] = "first") -> str:
    """The text of one completion: the string itself, or one message's content.

    open-r1 reads the first message for the math and format rewards and the last one for
    the code rewards; `message` keeps that choice, so multi-message completions score as
    they did there. A missing or None content is the empty string (the model said nothing).
    """
    if isinstance(completion, str):
        return completion
    if isinstance(completion, dict):
        content = completion.get("content")
    elif isinstance(completion, Sequence) and not isinstance(completion, bytes | bytearray):
        if len(completion) == 0:
            return ""
        chosen = completion[0] if message == "first" else completion[-1]
        if not isinstance(chosen, dict):
            raise RewardInputError(
                f"a chat completion must be a list of message dicts, got a list of "
                f"{type(chosen).__name__}"
            )
        content = chosen.get("content")
    else:
        raise RewardInputError(
            "a completion must be a string or a list of chat messages "
            f"([{{'role': 'assistant', 'content': ...}}]), got {type(completion).__name__}"
        )
    if content is None:
        return ""
    if isinstance(content, list):
        # Multimodal content parts: keep the text parts, in order.
        return "".join(part.get("text", "") for part in content if isinstance(part, dict))
    return str(content)


def completion_texts(
    completions: Sequence[Any], message: Literal["first", "last"] = "first"
) -> list[str]:
    """`completion_text` for a whole batch."""
    return [completion_text(c, message) for c in completions]


def column(kwargs: dict[str, Any], name: str, n: int, reward: str) -> list[Any]:
    """A dataset column the trainer passed as a keyword, checked against the batch size."""
    if name not in kwargs or kwargs[name] is None:
        raise RewardInputError(
            f"{reward} needs the dataset column {name!r}; the columns passed were "
            f"{sorted(k for k, v in kwargs.items() if k != 'completions' and v is not None)}"
        )
    values = list(kwargs[name])
    if len(values) != n:
        raise RewardInputError(
            f"{reward}: column {name!r} has {len(values)} values for {n} completions"
        )
    return values


def named_partial(func: Callable[..., Any], /, **fixed: Any) -> Callable[..., Any]:
    """`partial(func, **fixed)` that keeps `func`'s name and docstring.

    TRL logs each reward under its `__name__`, and open-r1 users expect the names of its
    registry; a partial of a module-level function also pickles, unlike a closure.
    """
    return functools.update_wrapper(functools.partial(func, **fixed), func)
