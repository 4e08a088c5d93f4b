"""Tracking set-up: W&B environment variables from the config, trackio as an optional extra."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import pytest

from r1_train.configs import SFTConfig
from r1_train.tracking import MissingExtraError, init_trackio, init_wandb_training

WANDB_VARS = ("WANDB_ENTITY", "WANDB_PROJECT", "WANDB_RUN_GROUP")


@pytest.fixture
def clean_wandb_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for var in WANDB_VARS:
        monkeypatch.delenv(var, raising=False)
    return monkeypatch


def _config(tmp_path: Path, **kw) -> SFTConfig:
    return SFTConfig(output_dir=str(tmp_path), use_cpu=True, **kw)


def test_wandb_fields_become_environment(clean_wandb_env, tmp_path: Path) -> None:
    import os

    config = _config(
        tmp_path,
        report_to="none",
        wandb_entity="huggingface",
        wandb_project="open-r1",
        wandb_run_group="grpo-codeforces",
    )
    exported = init_wandb_training(config)
    assert exported == {
        "WANDB_ENTITY": "huggingface",
        "WANDB_PROJECT": "open-r1",
        "WANDB_RUN_GROUP": "grpo-codeforces",
    }
    assert [os.environ[v] for v in WANDB_VARS] == ["huggingface", "open-r1", "grpo-codeforces"]


def test_unset_wandb_fields_leave_environment_alone(clean_wandb_env, tmp_path: Path) -> None:
    import os

    clean_wandb_env.setenv("WANDB_ENTITY", "from-shell")
    assert init_wandb_training(_config(tmp_path, report_to="none", wandb_project="p")) == {
        "WANDB_PROJECT": "p"
    }
    assert os.environ["WANDB_ENTITY"] == "from-shell"
    assert "WANDB_RUN_GROUP" not in os.environ


def test_trackio_not_requested(tmp_path: Path) -> None:
    assert init_trackio(_config(tmp_path, report_to="none")) is None


def test_trackio_missing_names_the_extra(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # None in sys.modules makes `import trackio` fail even where it is installed.
    monkeypatch.setitem(sys.modules, "trackio", None)
    config = types.SimpleNamespace(report_to=["trackio"], project="huggingface")
    with pytest.raises(MissingExtraError, match=r'pip install "r1-train\[trackio\]"'):
        init_trackio(config)


def test_trackio_project_follows_the_recipe(monkeypatch: pytest.MonkeyPatch) -> None:
    # trackio itself is replaced at its import: only its presence is checked here.
    monkeypatch.setitem(sys.modules, "trackio", types.ModuleType("trackio"))

    config = types.SimpleNamespace(
        report_to=["trackio"], project="huggingface", wandb_project="open-r1", trackio_space_id=None
    )
    assert init_trackio(config) == "open-r1"
    assert config.project == "open-r1"

    config = types.SimpleNamespace(report_to="trackio", project="mine", wandb_project="open-r1")
    assert init_trackio(config) == "mine"
    assert init_trackio(config, project="explicit") == "explicit"

    config = types.SimpleNamespace(report_to=["trackio"], project="huggingface")
    assert init_trackio(config) == "huggingface"
