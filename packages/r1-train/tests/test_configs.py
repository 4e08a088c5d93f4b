"""Recipe parsing: YAML then flags, open-r1's fields, clear errors on bad input."""

from __future__ import annotations

import pytest

from r1_rewards import RewardArgs
from r1_train.cli import main, parse_stage
from r1_train.configs import GRPOConfig, GRPOScriptArguments, ScriptArguments
from r1_train.errors import ConfigError


def write(tmp_path, text: str):
    path = tmp_path / "recipe.yaml"
    path.write_text(text)
    return str(path)


def test_yaml_then_flags_override(tmp_path):
    path = write(
        tmp_path,
        """
model_name_or_path: some/model
dataset_name: some/data
reward_funcs: [accuracy, format]
learning_rate: 1.0e-6
output_dir: out
use_cpu: true
bf16: false
""",
    )
    script, training, model = parse_stage("grpo", ["--config", path, "--learning_rate", "3e-6"])
    assert script.reward_funcs == ["accuracy", "format"]
    assert training.learning_rate == 3e-6
    assert model.model_name_or_path == "some/model"
    assert training.hub_model_revision == "main"  # open-r1's extras are there


def test_unknown_yaml_key_is_an_error_with_a_suggestion(tmp_path):
    path = write(tmp_path, "dataset_name: d\nlearning_rat: 1.0e-6\noutput_dir: o\n")
    with pytest.raises(
        ConfigError, match=r"learning_rat \(unknown field; did you mean learning_rate\?\)"
    ):
        parse_stage("sft", ["--config", path])


def test_unknown_reward_names_are_rejected():
    with pytest.raises(ValueError, match=r"unknown reward.*accuracy"):
        GRPOScriptArguments(dataset_name="d", reward_funcs=["accuracy", "acuracy"])


def test_a_data_set_or_a_mixture_is_required():
    with pytest.raises(ValueError, match=r"dataset_name.*dataset_mixture"):
        ScriptArguments()


def test_mixture_is_validated_when_the_config_is_built():
    args = ScriptArguments(dataset_mixture={"datasets": [{"id": "a", "weight": 0.5}], "seed": 3})
    assert args.dataset_mixture.datasets[0].weight == 0.5
    assert args.dataset_mixture.seed == 3
    with pytest.raises(ValueError, match="Column names must be consistent"):
        ScriptArguments(
            dataset_mixture={
                "datasets": [{"id": "a", "columns": ["x"]}, {"id": "b", "columns": ["y"]}]
            }
        )


def test_fixed_defaults():
    args = GRPOScriptArguments(dataset_name="d")
    # open-r1 had 0.0 here, above max_value_wrong: short wrong answers outscored long ones.
    assert args.cosine_min_value_wrong < args.cosine_max_value_wrong
    assert args.code_provider == "local" and args.ioi_provider == "local"


def test_reward_options_are_inherited_from_reward_args_not_copied():
    assert issubclass(GRPOScriptArguments, RewardArgs)
    own = set(GRPOScriptArguments.__dataclass_fields__) - set(ScriptArguments.__dataclass_fields__)
    assert own == set(RewardArgs.__dataclass_fields__)
    # RewardArgs' validation runs too.
    with pytest.raises(ValueError, match="parallel_code_exec_per_proc"):
        GRPOScriptArguments(dataset_name="d", parallel_code_exec_per_proc=0)


def test_provider_fields_reach_the_reward_functions(tmp_path):
    """A provider chosen in the recipe is the one the reward functions are built with."""
    from r1_rewards import get_reward_funcs

    path = write(
        tmp_path,
        """
dataset_name: d
output_dir: o
use_cpu: true
reward_funcs: [code, binary_code, ioi_code]
code_provider: e2b
e2b_router_url: 127.0.0.1:8000
morph_router_url: 127.0.0.1:8001
ioi_provider: morph
parallel_code_exec_per_proc: 5
enforce_same_language: true
code_eval_test_batch_size: 3
""",
    )
    script, _, _ = parse_stage("grpo", ["--config", path])
    code, binary, ioi = get_reward_funcs(script)
    for fn in (code, binary):
        assert fn.keywords["provider_type"] == "e2b"
        assert fn.keywords["e2b_router_url"] == "127.0.0.1:8000"
        assert fn.keywords["morph_router_url"] == "127.0.0.1:8001"
        assert fn.keywords["num_parallel"] == 5
        assert fn.keywords["enforce_same_language"] is True
    assert ioi.keywords["provider_type"] == "morph"
    assert ioi.keywords["test_batch_size"] == 3


def test_open_r1_grpo_defaults():
    """Without a recipe saying otherwise, GRPO is open-r1's (TRL 0.18's), not TRL 1.x's."""
    config = GRPOConfig(output_dir="o", use_cpu=True, bf16=False)
    assert config.beta == 0.04 and config.loss_type == "bnpo"
    assert config.vllm_mode == "server" and config.max_prompt_length == 512
    assert config.max_completion_length == 256
    assert config.vllm_importance_sampling_correction is False
    assert config.use_bias_correction_kl is False
    # open-r1 printed no completions to the console (TRL: all of them, every logging step).
    assert config.num_completions_to_print == 0
    with pytest.raises(ValueError, match="max_prompt_length=0"):
        GRPOConfig(output_dir="o", use_cpu=True, bf16=False, max_prompt_length=0)


def test_cli_help_and_unknown_command(capsys):
    assert main([]) == 0
    out = capsys.readouterr().out
    assert "quickstart" in out and "--dry-run" in out
    assert main(["train"]) == 2


def test_every_quickstart_field_is_a_flag_with_its_default():
    import dataclasses

    from r1_train.tiny.quickstart import QuickstartConfig, config_from_args, make_parser

    parser = make_parser()
    dests = {action.dest: action for action in parser._actions}
    for f in dataclasses.fields(QuickstartConfig):
        assert f.name in dests, f.name
    config = config_from_args(parser.parse_args(["--sft-steps", "7", "--seed", "3"]))
    assert config.sft_steps == 7 and config.seed == 3
    assert config.grpo_steps == QuickstartConfig().grpo_steps


def test_stage_help_lists_dry_run_and_the_fields(capsys):
    with pytest.raises(SystemExit) as info:
        main(["grpo", "--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert "--dry_run" in out or "--dry-run" in out
    assert "--max_prompt_length" in out and "--reward_funcs" in out
