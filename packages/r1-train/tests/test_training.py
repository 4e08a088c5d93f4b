"""The shared skeleton's pieces: resuming or starting fresh, graded rewards, the prompt cap."""

from __future__ import annotations

import logging
from pathlib import Path
from types import SimpleNamespace

import pytest

from r1_train.errors import ConfigError
from r1_train.grpo import GradedReward
from r1_train.training import resolve_checkpoint


def _run_dir(tmp_path: Path) -> Path:
    out = tmp_path / "run"
    for step in (2, 4):
        (out / f"checkpoint-{step}").mkdir(parents=True)
    return out


def _args(out: Path, resume: str | None) -> SimpleNamespace:
    return SimpleNamespace(output_dir=str(out), resume_from_checkpoint=resume)


def test_resumes_from_the_newest_checkpoint_by_default(tmp_path):
    out = _run_dir(tmp_path)
    assert resolve_checkpoint(_args(out, None)) == str(out / "checkpoint-4")  # type: ignore[arg-type]
    assert resolve_checkpoint(_args(tmp_path / "fresh", None)) is None  # type: ignore[arg-type]


def test_false_starts_fresh_beside_old_checkpoints(tmp_path, caplog):
    out = _run_dir(tmp_path)
    args = _args(out, "false")
    with caplog.at_level(logging.WARNING, logger="r1_train"):
        assert resolve_checkpoint(args) is None  # type: ignore[arg-type]
    assert args.resume_from_checkpoint is None  # nothing later reads "false" as a path
    assert "starting fresh" in caplog.text and "checkpoint-4" in caplog.text


def test_true_needs_a_checkpoint_and_a_path_must_exist(tmp_path):
    out = _run_dir(tmp_path)
    assert resolve_checkpoint(_args(out, "true")) == str(out / "checkpoint-4")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="no checkpoint-"):
        resolve_checkpoint(_args(tmp_path / "empty", "true"))  # type: ignore[arg-type]
    assert resolve_checkpoint(_args(out, str(out / "checkpoint-2"))) == str(out / "checkpoint-2")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="is not a directory"):
        resolve_checkpoint(_args(out, str(out / "checkpoint-9")))  # type: ignore[arg-type]


def test_resume_false_is_accepted_on_the_command_line(tmp_path):
    from r1_train.cli import parse_command

    parsed = parse_command(
        "sft",
        [
            "--dataset_name",
            "d",
            "--output_dir",
            str(tmp_path),
            "--use_cpu",
            "true",
            "--resume_from_checkpoint",
            "false",
        ],
    )
    assert parsed.configs.training_args.resume_from_checkpoint == "false"


class _Metrics:
    def __init__(self) -> None:
        self.logged: list[tuple[str, float]] = []

    def __call__(self, name: str, value: float) -> None:
        self.logged.append((name, value))


def accuracy_reward(completions, solution=None, **kwargs):
    return [
        1.0 if c == s else (None if s is None else 0.0)
        for c, s in zip(completions, solution, strict=True)
    ]


def broken_reward(completions, **kwargs):
    raise KeyError("verification_info")


def test_graded_reward_reports_the_ungraded_share():
    metrics = _Metrics()
    reward = GradedReward(accuracy_reward)
    assert reward.__name__ == "accuracy_reward"  # TRL names the metrics after it
    scores = reward(["4", "5", "6", "7"], solution=["4", None, "6", None], log_metric=metrics)
    assert scores == [1.0, None, 1.0, None]
    assert metrics.logged == [
        ("rewards/accuracy_reward/ungraded", 0.5),
        ("rewards/accuracy_reward/timed_out", 0.0),
    ]


def test_graded_reward_reports_the_timed_out_share():
    from r1_rewards import get_accuracy_reward

    metrics = _Metrics()
    # A tower of powers that no parser finishes: the grader is stopped at its limit.
    reward = GradedReward(get_accuracy_reward(timeout=1.0))
    scores = reward(
        [r"\boxed{9^{9^{9^{9^{9}}}}}", r"\boxed{4}"], solution=["$4$", "$4$"], log_metric=metrics
    )
    assert scores == [0.0, 1.0]
    assert dict(metrics.logged) == {
        "rewards/accuracy_reward/ungraded": 0.0,
        "rewards/accuracy_reward/timed_out": 0.5,
    }


def test_a_grader_that_raises_scores_none_instead_of_killing_the_step(caplog):
    metrics = _Metrics()
    reward = GradedReward(broken_reward)
    with caplog.at_level(logging.WARNING, logger="r1_train"):
        scores = reward(["a", "b"], log_metric=metrics)
    assert scores == [None, None]
    assert metrics.logged == [
        ("rewards/broken_reward/ungraded", 1.0),
        ("rewards/broken_reward/timed_out", 0.0),
    ]
    assert "broken_reward could not grade a batch of 2 completions" in caplog.text
    assert "KeyError" in caplog.text


@pytest.mark.slow
def test_prompts_are_cut_to_max_prompt_length_from_the_left(tmp_path, tiny_model_dir):
    """TRL 0.18's cap, which TRL 1.x dropped: the last max_prompt_length tokens are kept."""
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from r1_train.configs import GRPOConfig
    from r1_train.grpo import R1GRPOTrainer

    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    prompts = ["12 + 34 = ?", "1234 + 5678 + 9012 + 3456 = ?"]
    args = GRPOConfig(
        output_dir=str(tmp_path),
        use_cpu=True,
        bf16=False,
        report_to="none",
        per_device_train_batch_size=4,
        num_generations=2,
        max_prompt_length=6,
        max_completion_length=4,
        beta=0.0,
    )
    trainer = R1GRPOTrainer(
        model=model,
        reward_funcs=[GradedReward(accuracy_reward)],
        args=args,
        train_dataset=Dataset.from_dict({"prompt": prompts, "solution": ["46", "0"]}),
        processing_class=tokenizer,
    )
    full = tokenizer(prompts)["input_ids"]
    assert max(len(ids) for ids in full) > 6  # the long prompt is over the cap
    cut, _, _ = trainer._tokenize_prompts(prompts)
    assert [len(ids) for ids in cut] == [min(len(ids), 6) for ids in full]
    assert all(c == f[-6:] for c, f in zip(cut, full, strict=True))
    args.max_prompt_length = None
    whole, _, _ = trainer._tokenize_prompts(prompts)
    assert [len(ids) for ids in whole] == [len(ids) for ids in full]
