"""What SFT and GRPO runs share: logging, resuming, prompts, saving and publishing.

open-r1's `sft.py` and `grpo.py` are two copies of the same skeleton around a different
trainer; here the skeleton is written once and each stage supplies its trainer. The
phases, in order:

    1. seed and logging (per-process level: only rank 0 talks at INFO)
    2. resume: the last `checkpoint-*` in `output_dir` is picked up unless the config
       names another, so a preempted job continues by being launched again
    3. data (r1-data: a hub id, a local file or a mixture) and chat prompts
    4. the trainer (stage-specific), then `train(resume_from_checkpoint=...)`
    5. save: model, tokenizer, metrics, state; generation config aligned with the EOS so
       `pipeline()` stops; `use_cache` restored for fast inference; a model card
    6. optional evaluation on the test split, and a Hub push

Data flow: parsed configs -> data set + tokenizer + model -> trainer -> `output_dir`
(checkpoints, final model, metrics) -> optionally the Hub and the benchmark launcher.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Any

logger = logging.getLogger(__name__)


def setup_logging(training_args: Any) -> None:
    """Log to stdout at the trainer's per-process level (warnings only on other ranks)."""
    import datasets
    import transformers

    logging.basicConfig(
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        datefmt="%Y-%m-%d %H:%M:%S",
        handlers=[logging.StreamHandler(sys.stdout)],
    )
    level = training_args.get_process_log_level()
    logging.getLogger("r1_train").setLevel(level)
    datasets.utils.logging.set_verbosity(level)
    transformers.utils.logging.set_verbosity(level)


def last_checkpoint(training_args: Any) -> str | None:
    """The checkpoint to resume from: the config's choice, else the newest in output_dir."""
    from transformers.trainer_utils import get_last_checkpoint

    if training_args.resume_from_checkpoint is not None:
        return training_args.resume_from_checkpoint
    if os.path.isdir(training_args.output_dir):
        found = get_last_checkpoint(training_args.output_dir)
        if found is not None:
            logger.info("resuming from %s", found)
        return found
    return None


def prompt_maker(prompt_column: str, system_prompt: str | None) -> Any:
    """A `Dataset.map` function turning a row into a chat `prompt` (system + user)."""

    def make_conversation(example: dict[str, Any]) -> dict[str, Any]:
        if prompt_column not in example:
            raise ValueError(
                f"dataset_prompt_column={prompt_column!r} is not a column of the data set; "
                f"its columns are {sorted(example)}; set --dataset_prompt_column"
            )
        value = example[prompt_column]
        # A column that already holds chat messages is kept, with the system prompt added.
        messages = list(value) if isinstance(value, list) else [{"role": "user", "content": value}]
        if system_prompt is not None and not (messages and messages[0].get("role") == "system"):
            messages.insert(0, {"role": "system", "content": system_prompt})
        return {"prompt": messages}

    return make_conversation


def check_prompt_column(dataset: Any, prompt_column: str) -> None:
    """Fail before any model loads when the prompt column is missing from a split."""
    for split, part in dataset.items():
        if prompt_column not in part.column_names:
            raise ValueError(
                f"dataset_prompt_column={prompt_column!r} is not a column of split {split!r}; "
                f"its columns are {part.column_names}; set --dataset_prompt_column"
            )


def finish(trainer: Any, tokenizer: Any, dataset: Any, script_args: Any, training_args: Any,
           checkpoint: str | None) -> dict[str, Any]:
    """Phases 4-6: train, save, card, evaluate, push. Returns the training metrics."""
    train_split = dataset[script_args.dataset_train_split]
    result = trainer.train(resume_from_checkpoint=checkpoint)
    metrics = dict(result.metrics)
    metrics["train_samples"] = len(train_split)
    trainer.log_metrics("train", metrics)
    trainer.save_metrics("train", metrics)
    trainer.save_state()

    # Without the EOS in the generation config, `pipeline()` generates to max_length.
    trainer.model.generation_config.eos_token_id = tokenizer.eos_token_id
    trainer.save_model(training_args.output_dir)
    logger.info("model saved to %s", training_args.output_dir)
    card = {"dataset_name": script_args.dataset_name, "tags": ["r1", "open-r1"]}
    if trainer.accelerator.is_main_process:
        trainer.create_model_card(**card)
        trainer.model.config.use_cache = True  # training turned it off; inference wants it
        trainer.model.config.save_pretrained(training_args.output_dir)

    if training_args.do_eval and script_args.dataset_test_split in dataset:
        eval_metrics = trainer.evaluate()
        eval_metrics["eval_samples"] = len(dataset[script_args.dataset_test_split])
        trainer.log_metrics("eval", eval_metrics)
        trainer.save_metrics("eval", eval_metrics)

    if training_args.push_to_hub:
        logger.info("pushing to the Hub")
        trainer.push_to_hub(**card)
    return metrics


def eval_split(dataset: Any, script_args: Any, training_args: Any) -> Any:
    """The evaluation split when the config evaluates, else None."""
    if training_args.eval_strategy == "no":
        return None
    if script_args.dataset_test_split not in dataset:
        raise ValueError(
            f"eval_strategy={training_args.eval_strategy!r} but the data set has no "
            f"{script_args.dataset_test_split!r} split (splits: {list(dataset)}); set "
            "dataset_mixture.test_split_size or --eval_strategy no"
        )
    return dataset[script_args.dataset_test_split]


def named_callbacks(training_args: Any, model_args: Any) -> list[Any]:
    """The callbacks the config names; `callbacks` is imported only when it names some."""
    if not getattr(training_args, "callbacks", None):
        return []
    from r1_train.callbacks import get_callbacks

    return get_callbacks(training_args, model_args)


def init_tracking(training_args: Any) -> None:
    """Set up W&B and/or trackio when the config reports to them."""
    report_to = training_args.report_to or []
    if "wandb" in report_to or "trackio" in report_to:
        from r1_train import tracking

        if "wandb" in report_to:
            tracking.init_wandb_training(training_args)
        if "trackio" in report_to:
            tracking.init_trackio(training_args)
