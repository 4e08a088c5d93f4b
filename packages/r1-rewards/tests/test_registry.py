"""get_reward_funcs: open-r1's registry keys and names, from a config or from keywords."""

from __future__ import annotations

import subprocess
import sys
from types import SimpleNamespace

import pytest

import r1_rewards
from r1_rewards import REWARD_NAMES, RewardArgs, get_reward_funcs
from r1_rewards.errors import MissingExtraError

# open-r1's registry key -> the __name__ TRL logs it under.
OPEN_R1_NAMES = {
    "accuracy": "accuracy_reward",
    "format": "format_reward",
    "reasoning_steps": "reasoning_steps_reward",
    "cosine": "cosine_scaled_reward",
    "repetition_penalty": "repetition_penalty_reward",
    "length": "len_reward",
    "tag_count": "tag_count_reward",
    "code": "code_reward",
    "ioi_code": "ioi_code_reward",
    "cf_code": "cf_code_reward",
    "code_format": "code_format_reward",
    "binary_code": "binary_code_reward",
    "soft_overlong_punishment": "soft_overlong_punishment_reward",
}


def test_every_open_r1_key_with_its_name():
    assert set(REWARD_NAMES) == set(OPEN_R1_NAMES)
    funcs = get_reward_funcs(reward_funcs=list(OPEN_R1_NAMES))
    assert [f.__name__ for f in funcs] == list(OPEN_R1_NAMES.values())


def test_reads_any_config_object_and_keyword_overrides():
    config = SimpleNamespace(
        reward_funcs=["cosine", "soft_overlong_punishment", "repetition_penalty"],
        cosine_max_len=10,
        max_completion_len=100,
        soft_punish_cache=20,
        repetition_n_grams=2,
        dataset_name="ignored: not a reward field",
    )
    cosine, overlong, repetition = get_reward_funcs(config, repetition_max_penalty=-0.5)
    assert cosine.params["max_len"] == 10
    assert overlong(completion_ids=[[1] * 90]) == [pytest.approx(-0.5)]
    assert repetition(["a a a"]) == [pytest.approx(-0.25)]


def test_unknown_names_and_fields_are_rejected_with_the_valid_ones():
    with pytest.raises(ValueError, match=r"unknown reward name.*valid names are accuracy"):
        get_reward_funcs(reward_funcs=["accuracy", "bleu"])
    with pytest.raises(TypeError, match=r"cosine_max_length.*valid ones are"):
        get_reward_funcs(cosine_max_length=3)
    with pytest.raises(ValueError, match="code_eval_scoring_mode='best'"):
        RewardArgs(code_eval_scoring_mode="best")
    with pytest.raises(ValueError, match="length_unit='words'"):
        RewardArgs(length_unit="words")


def test_default_cosine_slope_is_the_intended_one():
    # open-r1's default cosine_min_value_wrong=0.0 rewards short wrong answers more than
    # long ones; r1's -1.0 keeps short-and-wrong the worst case.
    (cosine,) = get_reward_funcs(reward_funcs=["cosine"])
    short, long = cosine([r"\boxed{2}", r"\boxed{2}" + " " * 999], ["$3$", "$3$"])
    assert short == pytest.approx(-1.0, abs=1e-3)
    assert long == pytest.approx(-0.5)


def test_length_unit_and_math_timeout_reach_the_rewards():
    length, accuracy = get_reward_funcs(
        reward_funcs=["length", "accuracy"], length_unit="tokens", math_timeout=3
    )
    assert (length.__name__, accuracy.__name__) == ("len_reward", "accuracy_reward")
    assert length.keywords == {"unit": "tokens", "timeout": 3}
    assert accuracy.keywords == {"timeout": 3}


def test_code_rewards_say_which_extra_to_install(monkeypatch):
    # As if r1-sandbox were not installed (the workspace installs it; a plain
    # `pip install r1-rewards` does not).
    monkeypatch.setitem(sys.modules, "r1_sandbox", None)
    (code,) = get_reward_funcs(reward_funcs=["code"], e2b_router_url="http://127.0.0.1:1")
    with pytest.raises(MissingExtraError, match=r'pip install "r1-rewards\[code\]"'):
        code(["```python\nprint(1)\n```"], verification_info=[{"language": "python"}])


def test_public_api_is_pinned():
    assert sorted(r1_rewards.__all__) == sorted(
        [
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
            "get_accuracy_reward",
            "get_len_reward",
            "code_format_score",
            "cosine_scaled_score",
            "format_score",
            "math_score",
            "math_scores",
            "overlong_score",
            "reasoning_steps_score",
            "repetition_score",
            "tag_count_score",
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
            "record_outcomes",
            "REWARD_NAMES",
            "REWARDS",
            "RewardArgs",
            "from_strings",
            "parse_value",
            "completion_text",
            "completion_texts",
            "MathWorkerError",
            "MissingExtraError",
            "RewardConfigError",
            "RewardError",
            "RewardInputError",
        ]
    )
    for name in r1_rewards.__all__:
        assert hasattr(r1_rewards, name), name


def test_import_is_light_and_starts_nothing():
    code = (
        "import sys, r1_rewards, r1_rewards.verl, r1_rewards.cli\n"
        "heavy = {'torch', 'transformers', 'trl', 'sympy', 'math_verify'} & set(sys.modules)\n"
        "import r1_rewards._math_pool as p\n"
        "assert p._default_pool is None\n"
        "print(sorted(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    # Not even sympy: the trainer's process never loads math-verify, its workers do.
    assert out.stdout.strip() == "[]"


# -- one definition of every reward option (issue 12) ------------------------------------


def test_every_option_has_its_help_and_choices_in_the_dataclass():
    import dataclasses
    import typing

    hints = typing.get_type_hints(RewardArgs)
    for f in dataclasses.fields(RewardArgs):
        assert f.metadata.get("help"), f"{f.name} has no help"
    # Providers are Literal choices, so TRL's parser shows them and typos are refused.
    assert typing.get_args(hints["code_provider"]) == ("local", "e2b", "morph", "piston")
    assert typing.get_args(hints["ioi_provider"]) == ("local", "piston", "morph")
    assert typing.get_args(hints["cf_provider"]) == ("local", "piston", "morph")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("code_provider", "docker"),
        ("ioi_provider", "e2b"),  # IOI has no E2B grader
        ("cf_provider", "pistonn"),
        ("repetition_language", "fr"),
    ],
)
def test_provider_and_other_choices_are_validated(field, value):
    from r1_rewards import RewardConfigError

    with pytest.raises(RewardConfigError, match=f"{field}='{value}' is not one of"):
        RewardArgs(**{field: value})


def test_the_registry_is_an_explicit_dict_and_names_derive_from_it():
    from r1_rewards import REWARDS

    assert isinstance(REWARDS, dict)
    assert tuple(REWARDS) == REWARD_NAMES
    assert set(REWARD_NAMES) == set(OPEN_R1_NAMES)


def test_from_strings_converts_to_the_field_types():
    from r1_rewards import from_strings

    values = from_strings(
        [
            "cosine_max_len=2000",
            "repetition_max_penalty=-0.5",
            "enforce_same_language=TRUE",
            "math_timeout=none",
            "code_provider=e2b",
            "e2b_router_url=127.0.0.1:8000",
            "reward_funcs=accuracy,format",
        ]
    )
    assert values == {
        "cosine_max_len": 2000,
        "repetition_max_penalty": -0.5,
        "enforce_same_language": True,
        "math_timeout": None,
        "code_provider": "e2b",
        "e2b_router_url": "127.0.0.1:8000",
        "reward_funcs": ["accuracy", "format"],
    }
    assert RewardArgs(**values).enforce_same_language is True


@pytest.mark.parametrize(
    ("pair", "message"),
    [
        # r1-data's old parser read any unknown word as False.
        ("enforce_same_language=ture", "expected a boolean"),
        ("enforce_same_language=", "expected a boolean"),
        ("cosine_max_len=long", "cosine_max_len='long': expected int"),
        ("code_provider=docker", "expected one of 'local', 'e2b', 'morph', 'piston'"),
        ("nonsense=1", "nonsense: unknown field of RewardArgs"),
        ("cosine_max_len", "expected FIELD=VALUE"),
    ],
)
def test_from_strings_refuses_what_it_cannot_read(pair, message):
    from r1_rewards import RewardConfigError, from_strings

    with pytest.raises(RewardConfigError, match=message):
        from_strings([pair])


def test_from_strings_reads_other_dataclasses_and_excludes_fields():
    import dataclasses

    from r1_rewards import RewardConfigError, from_strings

    @dataclasses.dataclass
    class Other:
        flag: bool = False
        rate: float | None = None

    assert from_strings(["flag=yes", "rate=0.5"], Other) == {"flag": True, "rate": 0.5}
    with pytest.raises(RewardConfigError, match="reward_funcs: unknown field"):
        from_strings(["reward_funcs=accuracy"], exclude=("reward_funcs",))


def test_a_subclass_inherits_every_field_and_its_validation():
    import dataclasses

    from r1_rewards import RewardConfigError

    @dataclasses.dataclass
    class ScriptArgs(RewardArgs):
        dataset_name: str = "x"

    args = ScriptArgs(cf_provider="piston")
    assert get_reward_funcs(args, reward_funcs=["cf_code"])[0].keywords["provider_type"] == "piston"
    with pytest.raises(RewardConfigError, match="cf_provider='x'"):
        ScriptArgs(cf_provider="x")


def test_help_says_what_the_code_does():
    import dataclasses

    helps = {f.name: f.metadata["help"] for f in dataclasses.fields(RewardArgs)}
    # enforce_same_language raises on a mixed batch; it never scores anything 0.
    assert "raise" in helps["enforce_same_language"]
    assert "Score 0" not in helps["enforce_same_language"]
    # code_language is only code_format's default fence; code_reward reads each row.
    assert "code_format" in helps["code_language"]
    assert "verification_info" in helps["code_language"]
