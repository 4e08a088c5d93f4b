"""One definition of each setting: the CLI's flags come from the config dataclasses.

A field's default and help are written once, in its dataclass; these tests fail as soon
as a flag states another default or another help, or a field has no flag, and they pin
the conventions shared across r1 (async `x` with a `x_sync` twin, exit statuses).
"""

from __future__ import annotations

import asyncio
import dataclasses
import inspect

import pytest

from r1_data.chat_client import EndpointConfig
from r1_data.cli import main, make_parser
from r1_data.decontamination import DecontaminateConfig
from r1_data.filtering import PassRateConfig
from r1_data.generation import GenerateConfig

REQUIRED = {
    "generate": ["--dataset", "d.jsonl", "--prompt-column", "p", "--output", "o.jsonl"],
    "pass-rate": ["--dataset", "d.jsonl", "--prompt-column", "p", "--output", "o.jsonl"],
    "decontaminate": ["--dataset", "d.jsonl", "--output", "o.jsonl"],
}
ENDPOINT = ["--base-url", "http://127.0.0.1:1/v1", "--model", "m"]
CONFIGS = {
    "generate": GenerateConfig,
    "pass-rate": PassRateConfig,
    "decontaminate": DecontaminateConfig,
}


def _subparser(command: str):
    parser = make_parser()
    action = next(a for a in parser._actions if a.dest == "command")
    return action.choices[command]


@pytest.mark.parametrize("command", list(CONFIGS))
def test_every_field_has_one_flag_with_the_dataclass_help_and_default(command):
    cls = CONFIGS[command]
    actions = {a.dest: a for a in _subparser(command)._actions}
    for field in dataclasses.fields(cls):
        assert field.name in actions, f"{cls.__name__}.{field.name} has no flag"
        action = actions[field.name]
        assert action.help == field.metadata["help"], field.name
        if field.default is not dataclasses.MISSING and action.nargs != 0:
            assert action.default == field.default, field.name


@pytest.mark.parametrize("command", list(CONFIGS))
def test_flags_left_out_give_the_dataclass_defaults(command):
    from r1_data._flags import config_kwargs

    cls = CONFIGS[command]
    argv = [command, *REQUIRED[command]] + (ENDPOINT if command != "decontaminate" else [])
    args = make_parser().parse_args(argv)
    from_flags = cls(**config_kwargs(args, cls))
    dests = {s: a.dest for a in _subparser(command)._actions for s in a.option_strings}
    given = {dests[flag] for flag in argv[1::2]}
    assert from_flags == cls(**{name: getattr(from_flags, name) for name in given})


def test_endpoint_defaults_are_written_once():
    # GenerateConfig is an EndpointConfig: the endpoint fields are not copied into it.
    assert issubclass(GenerateConfig, EndpointConfig)
    assert issubclass(PassRateConfig, GenerateConfig)
    own = set(GenerateConfig.__dataclass_fields__) - set(EndpointConfig.__dataclass_fields__)
    assert not own & {"timeout", "max_retries", "backoff", "api_key", "base_urls", "model"}


def test_async_stages_are_plain_names_with_sync_twins():
    import r1_data
    from r1_data.filtering import pass_rate, pass_rate_sync
    from r1_data.generation import generate, generate_sync

    assert inspect.iscoroutinefunction(generate) and inspect.iscoroutinefunction(pass_rate)
    assert not inspect.iscoroutinefunction(generate_sync)
    assert not inspect.iscoroutinefunction(pass_rate_sync)
    assert r1_data.generate_sync is generate_sync and r1_data.pass_rate_sync is pass_rate_sync
    assert "agenerate" not in r1_data.__all__ and "apass_rate" not in r1_data.__all__


def test_old_a_prefixed_names_still_work_and_say_they_are_deprecated(tmp_path):
    import r1_data

    cfg = GenerateConfig(
        dataset=str(tmp_path / "missing.jsonl"),
        prompt_column="p",
        output=tmp_path / "o.jsonl",
        base_urls=["http://127.0.0.1:1/v1"],
        model="m",
    )
    # It still runs (and fails on the missing data set), after saying what to call instead.
    with (
        pytest.warns(DeprecationWarning, match="generate_sync"),
        pytest.raises(r1_data.DataInputError),
    ):
        asyncio.run(r1_data.agenerate(cfg))


def test_usage_errors_exit_2(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["generate", "--dataset", "x"])  # required flags missing
    assert exit_info.value.code == 2
    # A bad value of a generated choice is a usage error too.
    with pytest.raises(SystemExit) as exit_info:
        main(["generate", *REQUIRED["generate"], *ENDPOINT, "--preset", "nope"])
    assert exit_info.value.code == 2
    assert "invalid choice: 'nope'" in capsys.readouterr().err


def test_a_recipe_that_turns_a_switch_on_does_not_flip_the_flag():
    from r1_data._flags import config_kwargs

    # `progress` is on by default and turned off by --no-progress; a recipe that sets it
    # off must leave --no-progress meaning "off", not turn it into "on".
    parser = make_parser({"pass-rate": {"progress": False}})
    argv = ["pass-rate", *REQUIRED["pass-rate"], *ENDPOINT]
    kwargs = config_kwargs(parser.parse_args(argv), PassRateConfig)
    assert kwargs["progress"] is False
    kwargs = config_kwargs(parser.parse_args([*argv, "--no-progress"]), PassRateConfig)
    assert kwargs["progress"] is False
