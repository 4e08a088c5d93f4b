"""Benchmark: seconds per GRPO step with r1-rewards against a plain sequential reward.

Both runs are the same TRL `GRPOTrainer` run on the same tiny Qwen2 student (the
quickstart's, after a short SFT so that its completions are well-formed R1 answers),
the same prompts, seed and settings; only the accuracy reward differs:

- baseline: open-r1's loop, i.e. for every completion `parse(gold)`, `parse(answer)`,
  `verify(gold, answer)` one after the other in the trainer process;
- r1: `r1_rewards.accuracy_reward` (worker pool, deduplicated per group, hard limit).

Each run also records the seconds spent inside the reward function, so the table shows
how much of a step scoring takes. A tiny model writes short answers, so scoring is a small
part of its step; with long R1 completions (see bench/rewards.py) it is a large one.

Run: `uv run python bench/grpo_step.py [--steps N]`.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import warnings

warnings.filterwarnings("ignore")


def sequential_accuracy(completions, solution, **kwargs):
    """open-r1's accuracy reward, as it runs there: one completion after the other."""
    from latex2sympy2_extended import NormalizationConfig
    from math_verify import LatexExtractionConfig, parse, verify

    rewards = []
    for completion, gold in zip(completions, solution, strict=True):
        text = completion[0]["content"] if isinstance(completion, list) else completion
        gold_parsed = parse(gold, extraction_mode="first_match")
        if not gold_parsed:
            rewards.append(None)
            continue
        answer = parse(
            text,
            extraction_config=[
                LatexExtractionConfig(
                    normalization_config=NormalizationConfig(
                        nits=False,
                        malformed_operators=False,
                        basic_latex=True,
                        boxed="all",
                        units=True,
                    ),
                    boxed_match_priority=0,
                    try_extract_without_anchor=False,
                )
            ],
            extraction_mode="first_match",
        )
        try:
            rewards.append(float(verify(gold_parsed, answer)))
        except Exception:
            rewards.append(None)
    return rewards


sequential_accuracy.__name__ = "accuracy_reward"


class Timed:
    """Wraps a reward function and adds up the seconds spent in it."""

    def __init__(self, fn):
        self.fn, self.seconds, self.__name__ = fn, 0.0, fn.__name__

    def __call__(self, *args, **kwargs):
        start = time.perf_counter()
        try:
            return self.fn(*args, **kwargs)
        finally:
            self.seconds += time.perf_counter() - start


def run(
    reward, steps: int, model_dir: str, tokenizer, rows, seed: int
) -> tuple[list[float], float]:
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, TrainerCallback
    from transformers.trainer_callback import PrinterCallback
    from trl import GRPOConfig, GRPOTrainer

    from r1_rewards import format_reward

    step_times: list[float] = []

    class StepClock(TrainerCallback):
        def on_step_begin(self, args, state, control, **kw):
            self.start = time.perf_counter()

        def on_step_end(self, args, state, control, **kw):
            step_times.append(time.perf_counter() - self.start)

    with tempfile.TemporaryDirectory() as out:
        args = GRPOConfig(
            output_dir=out,
            max_steps=steps,
            per_device_train_batch_size=64,
            num_generations=8,
            learning_rate=2e-4,
            max_completion_length=64,
            beta=0.0,
            use_cpu=True,
            bf16=False,
            report_to="none",
            disable_tqdm=True,
            save_strategy="no",
            logging_steps=1000,
            seed=seed,
        )
        trainer = GRPOTrainer(
            model=AutoModelForCausalLM.from_pretrained(model_dir),
            reward_funcs=[reward, format_reward],
            args=args,
            train_dataset=Dataset.from_list(rows),
            processing_class=tokenizer,
            callbacks=[StepClock()],
        )
        trainer.remove_callback(PrinterCallback)
        trainer.train()
    return step_times[1:], reward.seconds  # the first step warms up both sides


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=12)
    parser.add_argument("--sft-steps", type=int, default=300)
    cli = parser.parse_args()

    import datasets
    import transformers

    from r1_rewards import accuracy_reward
    from r1_train.tiny.addition import rl_rows, split_problems
    from r1_train.tiny.quickstart import QuickstartConfig, run_quickstart

    datasets.disable_progress_bars()
    transformers.utils.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    with tempfile.TemporaryDirectory() as tmp:
        # A student that writes R1-format answers: the quickstart's SFT stage.
        run_quickstart(
            QuickstartConfig(output_dir=tmp, sft_steps=cli.sft_steps, grpo_steps=0, n_eval=10)
        )
        tokenizer = transformers.AutoTokenizer.from_pretrained(f"{tmp}/grpo")
        _, grpo_problems, _ = split_problems(0, 3000, 1200, 200, (2, 2))
        rows = rl_rows(grpo_problems)
        results = {}
        for name, fn in (("sequential", sequential_accuracy), ("r1", accuracy_reward)):
            times, reward_s = run(Timed(fn), cli.steps, f"{tmp}/sft", tokenizer, rows, seed=0)
            results[name] = (statistics.median(times), reward_s / cli.steps)

    base_step, base_reward = results["sequential"]
    print(f"{'reward':<12}{'s/step':>9}{'reward s/step':>15}{'step speedup':>14}")
    for name, (step, reward_s) in results.items():
        print(f"{name:<12}{step:>9.3f}{reward_s:>15.3f}{base_step / step:>13.2f}x")
    print(
        f"\n{cli.steps} GRPO steps of 8 prompts x 8 completions (median step; first step "
        f"excluded), tiny Qwen2 on the CPU; baseline reward s/step {base_reward:.3f}"
    )


if __name__ == "__main__":
    main()
