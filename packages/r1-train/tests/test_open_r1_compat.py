"""open-r1's recipe keys and flags: renamed ones map with a warning, removed ones fail clearly."""

from __future__ import annotations

from pathlib import Path

import pytest

from r1_train.cli import main, parse_command
from r1_train.errors import ConfigError
from r1_train.open_r1_compat import KEY_CHANGES, translate_argv, translate_mapping

VALID = {
    "dtype",
    "warmup_steps",
    "torch_compile",
    "output_dir",
    "learning_rate",
    "use_cpu",
    "log_unique_prompts",
    "gradient_checkpointing_kwargs",
    "train_sampling_strategy",
}


def test_renamed_keys_map_with_one_warning_line_each():
    out, warnings = translate_mapping(
        {"torch_dtype": "bfloat16", "warmup_ratio": 0.1, "output_dir": "x"}, VALID, "r.yaml"
    )
    assert out == {"dtype": "bfloat16", "warmup_steps": 0.1, "output_dir": "x"}
    assert warnings == [
        "r.yaml: torch_dtype -> dtype (TRL 1.x's ModelConfig calls it dtype); write "
        "`dtype: bfloat16` instead",
        "r.yaml: warmup_ratio -> warmup_steps (transformers 5 folded it into warmup_steps: a "
        "value below 1 is a share of the steps); write `warmup_steps: 0.1` instead",
    ]


def test_keys_open_r1_never_read_are_ignored_with_the_reason():
    out, warnings = translate_mapping({"overwrite_output_dir": True, "vllm_device": "auto"}, VALID)
    assert out == {}
    assert "open-r1 never read it" in warnings[0] and "resume_from_checkpoint: false" in warnings[0]
    assert "TRL 0.18 (open-r1's pin) already ignored it" in warnings[1]


def test_a_removed_key_with_no_equivalent_is_an_error_naming_the_reason():
    with pytest.raises(ConfigError, match=r"logging_dir \(transformers 5 dropped it.*TENSORBOARD"):
        translate_mapping({"logging_dir": "runs"}, VALID)
    with pytest.raises(ConfigError, match=r"save_safetensors=False: transformers 5 always"):
        translate_mapping({"save_safetensors": False}, VALID)


def test_hints_point_to_the_real_successor():
    # Before: "torch_dtyp (did you mean torch_compile?)".
    with pytest.raises(ConfigError, match=r"torch_dtyp \(unknown field; did you mean dtype\?\)"):
        translate_mapping({"torch_dtyp": "bfloat16"}, VALID)
    with pytest.raises(
        ConfigError, match=r"warmup_rato \(unknown field; did you mean warmup_steps"
    ):
        translate_mapping({"warmup_rato": 0.1}, VALID)


def test_old_key_and_its_successor_together_are_an_error():
    with pytest.raises(ConfigError, match="torch_dtype and dtype are both set"):
        translate_mapping({"torch_dtype": "bfloat16", "dtype": "float32"}, VALID)


def test_value_conversions():
    out, _ = translate_mapping({"gradient_checkpointing_use_reentrant": False}, VALID)
    assert out == {"gradient_checkpointing_kwargs": {"use_reentrant": False}}
    with pytest.raises(ConfigError, match=r"warmup_ratio=1.0: must be in \[0, 1\)"):
        translate_mapping({"warmup_ratio": 1.0}, VALID)


def test_open_r1_flag_spellings():
    argv, warnings = translate_argv(
        [
            "--torch_dtype",
            "bfloat16",
            "--warmup_ratio=0.05",
            "--overwrite_output_dir",
            "true",
            "--learning_rate",
            "1e-6",
        ],
        VALID,
    )
    assert argv == ["--dtype", "bfloat16", "--warmup_steps", "0.05", "--learning_rate", "1e-6"]
    assert warnings[0] == (
        "flag: --torch_dtype -> --dtype (TRL 1.x's ModelConfig calls it dtype); write "
        "`--dtype bfloat16` instead"
    )
    assert len(warnings) == 3


def test_every_table_entry_is_really_gone_and_its_successor_exists():
    """The table is about the locked TRL / transformers: no old key is still a field."""
    from r1_train.cli import _valid_keys

    valid = _valid_keys("grpo") | _valid_keys("sft")
    for key, change in KEY_CHANGES.items():
        assert key not in valid, key
        if change.kind == "renamed":
            assert change.successor in valid, key


def test_cli_flags_of_open_r1_parse(tmp_path: Path):
    parsed = parse_command(
        "sft",
        [
            "--dataset_name",
            "d",
            "--output_dir",
            str(tmp_path),
            "--use_cpu",
            "true",
            "--torch_dtype",
            "bfloat16",
            "--warmup_ratio",
            "0.03",
        ],
    )
    assert parsed.configs.model_args.dtype == "bfloat16"
    assert parsed.configs.training_args.warmup_steps == 0.03
    assert len(parsed.warnings) == 2


def test_a_removed_key_exits_2_with_the_reason(tmp_path: Path, capsys):
    recipe = tmp_path / "r.yaml"
    recipe.write_text("dataset_name: d\noutput_dir: o\nlogging_dir: runs\n")
    assert main(["sft", "--config", str(recipe), "--dry-run"]) == 2
    assert "logging_dir (transformers 5 dropped it" in capsys.readouterr().err
