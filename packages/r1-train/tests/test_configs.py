"""Recipe parsing: YAML then flags, open-r1's fields, clear errors on bad input."""

from __future__ import annotations

import pytest

from r1_train.cli import main, parse_stage
from r1_train.configs import GRPOScriptArguments, ScriptArguments


def write(tmp_path, text: str):
    path = tmp_path / "recipe.yaml"
    path.write_text(text)
    return str(path)


def test_yaml_then_flags_override(tmp_path):
    path = write(tmp_path, """
model_name_or_path: some/model
dataset_name: some/data
reward_funcs: [accuracy, format]
learning_rate: 1.0e-6
output_dir: out
use_cpu: true
bf16: false
""")
    script, training, model = parse_stage("grpo", ["--config", path, "--learning_rate", "3e-6"])
    assert script.reward_funcs == ["accuracy", "format"]
    assert training.learning_rate == 3e-6
    assert model.model_name_or_path == "some/model"
    assert training.hub_model_revision == "main"  # open-r1's extras are there


def test_unknown_yaml_key_is_an_error_with_a_suggestion(tmp_path):
    path = write(tmp_path, "dataset_name: d\nlearning_rat: 1.0e-6\noutput_dir: o\n")
    with pytest.raises(SystemExit, match=r"learning_rat \(did you mean learning_rate\?\)"):
        parse_stage("sft", ["--config", path])


def test_unknown_reward_names_are_rejected():
    with pytest.raises(ValueError, match=r"unknown reward.*valid: accuracy"):
        GRPOScriptArguments(dataset_name="d", reward_funcs=["accuracy", "acuracy"])


def test_a_data_set_or_a_mixture_is_required():
    with pytest.raises(ValueError, match=r"dataset_name.*dataset_mixture"):
        ScriptArguments()


def test_mixture_is_validated_when_the_config_is_built():
    args = ScriptArguments(dataset_mixture={"datasets": [{"id": "a", "weight": 0.5}], "seed": 3})
    assert args.dataset_mixture.datasets[0].weight == 0.5
    assert args.dataset_mixture.seed == 3
    with pytest.raises(ValueError, match="Column names must be consistent"):
        ScriptArguments(dataset_mixture={"datasets": [
            {"id": "a", "columns": ["x"]}, {"id": "b", "columns": ["y"]}]})


def test_fixed_defaults():
    args = GRPOScriptArguments(dataset_name="d")
    # open-r1 had 0.0 here, above max_value_wrong: short wrong answers outscored long ones.
    assert args.cosine_min_value_wrong < args.cosine_max_value_wrong
    assert args.code_provider == "local" and args.ioi_provider == "local"


def test_router_urls_reach_the_code_rewards():
    from r1_rewards import get_reward_funcs

    args = GRPOScriptArguments(dataset_name="d", reward_funcs=["code"],
                               e2b_router_url="127.0.0.1:8000")
    (code,) = get_reward_funcs(args)
    assert code.keywords["e2b_router_url"] == "127.0.0.1:8000"


def test_cli_help_and_unknown_command(capsys):
    assert main([]) == 0
    assert "quickstart" in capsys.readouterr().out
    assert main(["train"]) == 2
