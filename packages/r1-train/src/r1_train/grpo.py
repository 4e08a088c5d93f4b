"""`r1-train grpo`: Group Relative Policy Optimization with r1-rewards (DeepSeekMath, 2.2;
DeepSeek-R1, 2.2.1).

GRPO drops PPO's value network: for each prompt it samples a group of G completions,
scores each with rule-based rewards, and uses a completion's reward minus its group's
mean (optionally divided by the group's std) as the advantage of every token in it. The
rewards are the verifiable ones R1 used (accuracy, format) plus the shaping terms later
work added (length, cosine, repetition, DAPO's overlong penalty, code execution); TRL's
`GRPOTrainer` does the sampling (in-process or on vLLM) and the clipped policy update,
r1-rewards does the scoring, with the weights of `reward_weights`.

Data flow: dataset rows -> chat `prompt` (+ the columns the rewards read, e.g.
`solution`, `verification_info`) -> GRPOTrainer samples G completions per prompt ->
`get_reward_funcs(script_args)` scores them -> group advantages -> policy update ->
checkpoints in `output_dir`.
"""

from __future__ import annotations

import logging
from typing import Any

logger = logging.getLogger(__name__)


def main(script_args: Any, training_args: Any, model_args: Any) -> dict[str, Any]:
    """Run GRPO as the three configs say; returns the training metrics."""
    from transformers import set_seed
    from trl import GRPOTrainer, get_peft_config

    from r1_data import get_dataset
    from r1_rewards import get_reward_funcs
    from r1_train import training
    from r1_train.models import get_model, get_tokenizer

    set_seed(training_args.seed)
    training.setup_logging(training_args)
    checkpoint = training.last_checkpoint(training_args)
    training.init_tracking(training_args)

    # Rewards first: a bad reward name or a missing extra fails before minutes of loading.
    reward_funcs = get_reward_funcs(script_args)
    dataset = get_dataset(script_args)
    training.check_prompt_column(dataset, script_args.dataset_prompt_column)
    dataset = dataset.map(
        training.prompt_maker(script_args.dataset_prompt_column, training_args.system_prompt)
    )
    for split in dataset:
        # SFT-style `messages` would be read by TRL as a second prompt format.
        if "messages" in dataset[split].column_names:
            dataset[split] = dataset[split].remove_columns("messages")

    tokenizer = get_tokenizer(model_args, training_args)
    model = get_model(model_args, training_args)
    trainer = GRPOTrainer(
        model=model,
        reward_funcs=reward_funcs,
        args=training_args,
        train_dataset=dataset[script_args.dataset_train_split],
        eval_dataset=training.eval_split(dataset, script_args, training_args),
        peft_config=get_peft_config(model_args),
        callbacks=training.named_callbacks(training_args, model_args),
        processing_class=tokenizer,
    )
    return training.finish(trainer, tokenizer, dataset, script_args, training_args, checkpoint)
