"""Command-line flags generated from config dataclasses (TRL's `metadata["help"]` convention).

A field of a config dataclass is the one place where a setting is written: its name, type,
default, help text and choices. Writing them again in argparse is how the help of a CLI
drifts from the code it drives (a default changed in one place, a unit named wrong in the
other), so the flags are derived here instead: `--field-name` from the name, the argparse
type and choices from the annotation (`Literal[...]` gives choices, `list[...]` a
repeatable flag, `bool` a switch), the default from the field, the help from
`metadata["help"]`. Optional metadata:

- `flag`: the flag's own spelling when it is not `--field-name` (`--base-url` for the
  repeatable `base_urls`, `--no-progress` for a switch that is on by default);
- `aliases`: other spellings that mean the same flag (open-r1's `--hf-dataset`); the
  underscore spelling of every flag (`--ngram_size`) is accepted too, as TRL's parser does;
- `metavar`; `choices` when they are not a `Literal` (known only at run time);
  `from_cli`, a function from the flag's strings to the field's value; and `cli: False`
  for a field that has no flag.

Data flow: config dataclass fields -> `add_flags` (argparse actions) -> parsed namespace ->
`config_kwargs` -> the dataclass, which validates the values in `__post_init__`.
"""

from __future__ import annotations

import argparse
import dataclasses
import types
import typing
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Literal

__all__ = ["Formatter", "add_flags", "config_kwargs"]

_MISSING = dataclasses.MISSING


class Formatter(argparse.RawDescriptionHelpFormatter):
    """Descriptions kept as written; each flag shows its default and its other spellings."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if (
            "default" not in text
            and action.default not in (None, False, [], argparse.SUPPRESS)
            and action.option_strings
            and action.nargs != 0  # a switch: its default is its absence
        ):
            text += " (default: %(default)s)"
        aliases = [s for s in action.option_strings[1:] if "_" not in s]
        if aliases and not isinstance(action, argparse._HelpAction):
            text += " (also " + ", ".join(aliases) + ")"
        return text

    def _format_action_invocation(self, action: argparse.Action) -> str:
        # Only the first spelling: the aliases are listed in the help text instead.
        if not action.option_strings:
            return super()._format_action_invocation(action)
        flag = action.option_strings[0]
        if action.nargs == 0:
            return flag
        return f"{flag} {self._format_args(action, self._get_default_metavar_for_optional(action))}"


def _strip_optional(annotation: Any) -> Any:
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        # `str | Path` reads as text; the dataclass converts it.
        if len(args) > 1 and all(a in (str, Path) for a in args):
            return str
        if len(args) == 1:
            return args[0]
    return annotation


def _scalar(annotation: Any) -> tuple[Any, tuple[Any, ...] | None]:
    """(argparse type, choices) for one value of `annotation`."""
    if typing.get_origin(annotation) is Literal:
        choices = typing.get_args(annotation)
        return type(choices[0]), choices
    if annotation in (int, float, str):
        return annotation, None
    if annotation is Path:
        return Path, None
    return str, None


def _flag_of(field: dataclasses.Field[Any]) -> str:
    return field.metadata.get("flag") or "--" + field.name.replace("_", "-")


def add_flags(
    parser: argparse.ArgumentParser | argparse._ArgumentGroup,
    cls: type,
    *,
    only: Iterable[str] | None = None,
    exclude: Iterable[str] = (),
    defaults: Mapping[str, Any] | None = None,
    aliases: Mapping[str, Iterable[str]] | None = None,
) -> None:
    """Add one flag per field of dataclass `cls` (those in `only`, minus `exclude`).

    `defaults` replace the fields' defaults (a preset, a recipe file read first); a field
    without a default is a required flag unless `defaults` gives it a value. `aliases`
    adds spellings that only this command accepts (`{"dataset_config": ["--config"]}`).
    """
    hints = typing.get_type_hints(cls)
    wanted = set(only) if only is not None else None
    defaults = dict(defaults or {})
    for field in dataclasses.fields(cls):
        if wanted is not None and field.name not in wanted:
            continue
        if field.name in exclude or field.metadata.get("cli", True) is False:
            continue
        help_text = field.metadata.get("help")
        if not help_text:
            raise TypeError(f"{cls.__name__}.{field.name} has no metadata['help']")
        flag = _flag_of(field)
        strings = [
            flag,
            *field.metadata.get("aliases", ()),
            *(aliases or {}).get(field.name, ()),
        ]
        for spelling in list(strings):
            underscored = "--" + spelling[2:].replace("-", "_")
            if underscored not in strings:
                strings.append(underscored)
        annotation = _strip_optional(hints[field.name])
        if field.name in defaults:
            default = defaults[field.name]
        elif field.default is not _MISSING:
            default = field.default
        elif field.default_factory is not _MISSING:
            default = None  # a list flag starts empty; the factory fills it in config_kwargs
        else:
            default = _MISSING
        kwargs: dict[str, Any] = {"dest": field.name, "help": help_text}
        if "metavar" in field.metadata:
            kwargs["metavar"] = field.metadata["metavar"]
        if annotation is bool:
            # A switch: `--flag` turns on a field that is off by default; a field that is on
            # by default is turned off by its `flag` (`--no-progress`).
            on = bool(default) if default is not _MISSING else False
            kwargs.update(action="store_false" if on else "store_true", default=on)
            kwargs.pop("metavar", None)
        elif typing.get_origin(annotation) in (list, dict):
            # Repeatable; a dict field takes FIELD=VALUE strings that its `from_cli` reads.
            item = typing.get_args(annotation)[0] if typing.get_origin(annotation) is list else str
            item_type, choices = _scalar(item)
            kwargs.update(action="append", type=item_type, default=None)
            if choices:
                kwargs["choices"] = choices
            if default is _MISSING:
                kwargs["required"] = True
        else:
            value_type, choices = _scalar(annotation)
            choices = field.metadata.get("choices", choices)
            kwargs["type"] = value_type
            if choices:
                kwargs["choices"] = choices
            if default is _MISSING:
                kwargs["required"] = True
            else:
                kwargs["default"] = default
        parser.add_argument(*strings, **kwargs)


def config_kwargs(
    args: argparse.Namespace, cls: type, defaults: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The keyword arguments of `cls` found in `args`, for the fields that have flags.

    A repeatable flag never given (None) takes its value from `defaults` (the same mapping
    given to `add_flags`), else is left out so that the field's own default applies: a
    flag given replaces a list, it does not extend it. A field's `metadata["from_cli"]`
    turns the strings of its flag into the field's value.
    """
    defaults = defaults or {}
    out: dict[str, Any] = {}
    for field in dataclasses.fields(cls):
        if not hasattr(args, field.name):
            continue
        value = getattr(args, field.name)
        if value is None and field.name in defaults:
            value = defaults[field.name]
        elif value is None and field.default_factory is not _MISSING:
            continue
        elif value is not None and "from_cli" in field.metadata:
            value = field.metadata["from_cli"](value)
        out[field.name] = value
    return out
