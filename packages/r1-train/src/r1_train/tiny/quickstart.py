"""The whole R1 recipe in about a minute on a laptop CPU: distil, then reinforce.

DeepSeek-R1's final pipeline is (1) SFT of a student on reasoning traces written by a
stronger model, then (2) GRPO with rule-based rewards (accuracy and format), and its
distilled models show that step (1) alone transfers much of the teacher's reasoning. This
module runs both steps for real, with TRL's `SFTTrainer` and `GRPOTrainer` and the same
r1-rewards functions a GPU run uses, on a task small enough for two CPU cores:

    phase 0  teacher traces for column addition, a BPE tokenizer, a 0.14 M Qwen2 student
    phase 1  greedy evaluation at initialisation (format rate and accuracy: both ~0)
    phase 2  SFT on the traces, stopped early on purpose (the student is right about half
             the time), so that RL has room to show what it adds
    phase 3  GRPO on fresh problems that carry only the gold answer: G samples per
             prompt, rewards from `accuracy_reward` and `format_reward`, group-relative
             advantages, no KL term (beta = 0, as DAPO and open-r1's recent recipes do)
    phase 4  greedy evaluation on held-out problems after each stage

The gain in phase 3 comes from reward alone: the GRPO prompts have no traces. The
settings (learning rates, steps, 8 prompts x 8 generations) are the ones measured to
learn on this hardware (see the workspace's SPEC, section 5): a GRPO learning rate ten
times larger collapses accuracy while the format reward keeps rising, and fewer than eight
prompts per step is too noisy to learn from.

Data flow: `addition` problems -> SFT rows / GRPO rows / held-out rows -> `tiny_model`
tokenizer and student -> SFTTrainer -> checkpoint `sft/` -> GRPOTrainer with r1-rewards ->
checkpoint `grpo/` -> `QuickstartResult` (evaluations, losses, reward curves).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from r1_rewards import accuracy_reward, format_reward, get_reward_funcs
from r1_train.tiny.addition import corpus, rl_rows, sft_rows, split_problems
from r1_train.tiny.tiny_model import load_tokenizer, tiny_qwen2, train_tokenizer

logger = logging.getLogger(__name__)


@dataclass
class QuickstartConfig:
    """Every knob of the tiny run; the defaults are the measured ones."""

    output_dir: str = "runs/quickstart"
    seed: int = 0
    n_sft: int = 3000
    n_grpo: int = 1200  # one pass: grpo_steps x grpo_prompts_per_step
    n_eval: int = 200
    digits: tuple[int, int] = (2, 2)  # operand sizes: 10..99
    # SFT: constant lr, stopped early so RL has room. Measured greedy accuracy (seed 0):
    # 0.24 at 300 steps, 0.34 at 400, 0.68 at 500, 0.77 at 600.
    sft_steps: int = 400
    sft_batch_size: int = 32
    sft_lr: float = 3e-3
    # GRPO: 8 prompts x 8 generations per step, T = 1, no KL.
    grpo_steps: int = 150
    grpo_prompts_per_step: int = 8
    num_generations: int = 8
    grpo_lr: float = 2e-4
    max_completion_length: int = 64
    log_every: int = 10
    # A real tokenizer directory instead of the tiny BPE (e.g. DeepSeek-R1-Distill-Qwen's).
    tokenizer_path: str | None = None

    def __post_init__(self) -> None:
        for name in ("n_sft", "n_grpo", "n_eval", "num_generations", "log_every"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name}={getattr(self, name)!r}: must be >= 1")
        for name in ("sft_steps", "grpo_steps"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name}={getattr(self, name)!r}: must be >= 0")
        if self.num_generations < 2:
            raise ValueError(
                f"num_generations={self.num_generations}: GRPO needs >= 2 samples per prompt "
                "(the advantage is a completion's reward minus its group's mean)"
            )


@dataclass
class Evaluation:
    stage: str
    format_rate: float
    accuracy: float
    samples: list[tuple[str, str]] = field(default_factory=list)  # (prompt, completion)


@dataclass
class QuickstartResult:
    evaluations: list[Evaluation]
    sft_losses: list[tuple[int, float]]
    grpo_rewards: list[dict[str, float]]  # one row per logging step: step + reward means
    checkpoints: dict[str, str]
    seconds: dict[str, float]

    def accuracy(self, stage: str) -> float:
        return next(e.accuracy for e in self.evaluations if e.stage == stage)


def evaluate(
    model: Any,
    tokenizer: Any,
    rows: list[dict[str, Any]],
    stage: str,
    max_new_tokens: int = 64,
    batch_size: int = 100,
) -> Evaluation:
    """Greedy decoding on held-out prompts, scored with the training rewards."""
    import torch

    model.eval()
    tokenizer.padding_side = "left"  # decoder-only generation pads on the left
    completions: list[str] = []
    for start in range(0, len(rows), batch_size):
        chunk = rows[start : start + batch_size]
        prompts = [
            tokenizer.apply_chat_template(r["prompt"], tokenize=False, add_generation_prompt=True)
            for r in chunk
        ]
        enc = tokenizer(prompts, return_tensors="pt", padding=True, add_special_tokens=False)
        with torch.no_grad():
            out = model.generate(
                **enc,
                max_new_tokens=max_new_tokens,
                do_sample=False,
                eos_token_id=tokenizer.eos_token_id,
                pad_token_id=tokenizer.pad_token_id,
            )
        new = out[:, enc["input_ids"].shape[1] :]  # (B, <= max_new_tokens)
        completions += tokenizer.batch_decode(new, skip_special_tokens=True)
    golds = [r["solution"] for r in rows]
    fmt = format_reward(completions)
    acc = accuracy_reward(completions, solution=golds)
    n = len(rows)
    return Evaluation(
        stage=stage,
        format_rate=sum(fmt) / n,
        accuracy=sum(a or 0.0 for a in acc) / n,
        samples=[
            (r["prompt"][-1]["content"], c) for r, c in zip(rows[:3], completions, strict=False)
        ],
    )


def _log_callback(report: Callable[[str], None], stage: str) -> Any:
    from transformers import TrainerCallback

    class _Report(TrainerCallback):
        """One short line per logging step instead of the progress-bar noise."""

        def on_log(self, args: Any, state: Any, control: Any, logs: Any = None, **kw: Any) -> None:
            if not logs or "train_runtime" in logs:
                return
            means = (k for k in logs if k.startswith("rewards/") and k.endswith("/mean"))
            keys = ["loss", *sorted(means)]
            parts = [
                f"{k.removeprefix('rewards/').removesuffix('/mean')}={logs[k]:.3f}"
                for k in keys
                if k in logs
            ]
            report(f"  [{stage}] step {state.global_step:>4}  " + "  ".join(parts))

    return _Report()


def run_quickstart(
    config: QuickstartConfig | None = None, report: Callable[[str], None] = logger.info
) -> QuickstartResult:
    """Run phases 0-4 and return what happened; `report` receives progress lines."""
    from datasets import Dataset
    from transformers import set_seed
    from trl import GRPOConfig, GRPOTrainer, SFTConfig, SFTTrainer

    cfg = config or QuickstartConfig()
    out = Path(cfg.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    set_seed(cfg.seed)
    seconds: dict[str, float] = {}
    common = dict(
        use_cpu=True,
        bf16=False,
        report_to="none",
        disable_tqdm=True,
        save_strategy="no",
        seed=cfg.seed,
        lr_scheduler_type="constant",
        logging_steps=cfg.log_every,
    )

    # -- phases 0-1: data, tokenizer, student; evaluation at initialisation ----------------
    t0 = time.perf_counter()
    sft_p, grpo_p, eval_p = split_problems(cfg.seed, cfg.n_sft, cfg.n_grpo, cfg.n_eval, cfg.digits)
    if cfg.tokenizer_path:
        tokenizer = load_tokenizer(cfg.tokenizer_path)
    else:
        tokenizer = train_tokenizer(corpus(sft_p))
    model = tiny_qwen2(tokenizer, seed=cfg.seed)
    eval_rows = rl_rows(eval_p)
    n_params = sum(p.numel() for p in model.parameters())
    report(f"student: Qwen2, {n_params / 1e6:.2f} M parameters, vocabulary {len(tokenizer)}")
    report(f"data: {len(sft_p)} SFT traces, {len(grpo_p)} GRPO prompts, {len(eval_p)} held-out")
    evaluations = [evaluate(model, tokenizer, eval_rows, "init", cfg.max_completion_length)]
    report(_eval_line(evaluations[-1]))

    # -- phase 2: SFT (distillation) ---------------------------------------------------------
    t1 = time.perf_counter()
    report(f"SFT: {cfg.sft_steps} steps x {cfg.sft_batch_size} traces, lr {cfg.sft_lr}")
    sft_args = SFTConfig(
        output_dir=str(out / "sft"),
        max_steps=cfg.sft_steps,
        per_device_train_batch_size=cfg.sft_batch_size,
        learning_rate=cfg.sft_lr,
        max_length=256,
        **common,
    )
    sft = SFTTrainer(
        model=model,
        args=sft_args,
        train_dataset=Dataset.from_list(sft_rows(sft_p)),
        processing_class=tokenizer,
        callbacks=[_log_callback(report, "sft")],
    )
    _quiet(sft)
    if cfg.sft_steps:
        sft.train()
    sft.save_model(str(out / "sft"))
    sft_losses = [(h["step"], h["loss"]) for h in sft.state.log_history if "loss" in h]
    seconds["sft"] = time.perf_counter() - t1
    evaluations.append(evaluate(model, tokenizer, eval_rows, "sft", cfg.max_completion_length))
    report(_eval_line(evaluations[-1]))

    # -- phase 3: GRPO (reinforcement from rewards alone) -------------------------------------
    t2 = time.perf_counter()
    batch = cfg.grpo_prompts_per_step * cfg.num_generations
    report(
        f"GRPO: {cfg.grpo_steps} steps x {cfg.grpo_prompts_per_step} prompts x "
        f"{cfg.num_generations} samples, lr {cfg.grpo_lr}, rewards accuracy + format"
    )
    grpo_args = GRPOConfig(
        output_dir=str(out / "grpo"),
        max_steps=cfg.grpo_steps,
        per_device_train_batch_size=batch,
        num_generations=cfg.num_generations,
        learning_rate=cfg.grpo_lr,
        max_completion_length=cfg.max_completion_length,
        temperature=1.0,
        beta=0.0,
        **common,
    )
    grpo = GRPOTrainer(
        model=model,
        reward_funcs=get_reward_funcs(reward_funcs=["accuracy", "format"]),
        args=grpo_args,
        train_dataset=Dataset.from_list(rl_rows(grpo_p)),
        processing_class=tokenizer,
        callbacks=[_log_callback(report, "grpo")],
    )
    _quiet(grpo)
    if cfg.grpo_steps:
        grpo.train()
    grpo.save_model(str(out / "grpo"))
    tokenizer.save_pretrained(str(out / "grpo"))
    seconds["grpo"] = time.perf_counter() - t2
    grpo_rewards = [
        {
            "step": h["step"],
            **{
                k.split("/")[1]: v
                for k, v in h.items()
                if k.startswith("rewards/") and k.endswith("/mean")
            },
        }
        for h in grpo.state.log_history
        if any(k.startswith("rewards/") for k in h)
    ]
    evaluations.append(evaluate(model, tokenizer, eval_rows, "grpo", cfg.max_completion_length))
    report(_eval_line(evaluations[-1]))
    seconds["total"] = time.perf_counter() - t0
    return QuickstartResult(
        evaluations=evaluations,
        sft_losses=sft_losses,
        grpo_rewards=grpo_rewards,
        checkpoints={"sft": str(out / "sft"), "grpo": str(out / "grpo")},
        seconds=seconds,
    )


def _quiet(trainer: Any) -> None:
    """Drop the trainer's raw log-dict printer: `_log_callback` reports instead."""
    from transformers.trainer_callback import PrinterCallback, ProgressCallback

    trainer.remove_callback(PrinterCallback)
    trainer.remove_callback(ProgressCallback)


def _eval_line(e: Evaluation) -> str:
    return f"eval [{e.stage:>4}]  format rate {e.format_rate:.3f}  accuracy {e.accuracy:.3f}"
