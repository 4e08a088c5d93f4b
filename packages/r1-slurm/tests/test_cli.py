"""Exit statuses and the package's surface, without a cluster."""

from __future__ import annotations

from pathlib import Path

import pytest

import r1_slurm
from r1_slurm.cli import main


@pytest.fixture
def recipe(tmp_path: Path) -> Path:
    path = tmp_path / "sft.yaml"
    path.write_text("model_name_or_path: m\noutput_dir: out\n")
    return path


def test_no_slurm_here_is_exit_3(recipe: Path, tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no sbatch on it
    monkeypatch.setenv("R1_SLURM_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.chdir(tmp_path)
    argv = ["submit", "train", "--config", str(recipe), "--accelerate-config", "none"]
    assert main(argv) == 3
    assert "sbatch not found on PATH" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["submit", "train", "--config", "missing.yaml"], "cannot read it"),
        (["submit", "train", "--config", "{recipe}", "--nodes", "0"], "--nodes 0: must be >= 1"),
        (["submit", "train", "--config", "{recipe}", "--accelerate-config", "zero9"], "zero9"),
        (["submit", "evaluate", "m", "--tasks", "aime24", "--backend", "endpoint"], "--base-url"),
        (["submit", "sandbox-workers", "2", "--job-name", "x"], "piston-worker-<port>"),
        (["submit", "sandbox-workers", "2", "--", "--x"], "takes no arguments after `--`"),
    ],
)
def test_bad_flags_are_exit_2_with_the_reason(
    argv: list[str], message: str, recipe: Path, capsys
) -> None:
    argv = [a.replace("{recipe}", str(recipe)) for a in argv]
    assert main([*argv, "--dry-run"]) == 2
    assert message in capsys.readouterr().err


def test_the_launcher_is_registered_for_r1_train() -> None:
    import importlib.metadata

    (entry,) = importlib.metadata.entry_points(group="r1_train.benchmark_launchers", name="slurm")
    from r1_slurm.launcher import launch

    assert entry.load() is launch


def test_public_api() -> None:
    assert set(r1_slurm.__all__) == {
        "__version__",
        "EvaluateSpec", "GenerateSpec", "JobOptions", "SandboxWorkersSpec", "ServeSpec",
        "TrainSpec", "SiteConfig", "load_site", "Rendered", "render_evaluate",
        "render_generate", "render_sandbox_workers", "render_serve", "render_train",
        "SubmittedJob", "cancel", "job_state", "submit", "wait_for",
        "SlurmConfigError", "SlurmError", "SlurmUnavailableError", "SubmitError",
    }  # fmt: skip
