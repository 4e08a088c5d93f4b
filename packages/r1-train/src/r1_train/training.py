"""The training skeleton that `r1-train sft` and `r1-train grpo` both run through.

open-r1's `sft.py` and `grpo.py` are two copies of one skeleton around a different
trainer, and they drift apart. Here the skeleton is written once, in `run_stage`, and a
stage is a `Stage`: three typed functions (prepare the data, adapt tokenizer and model,
build the trainer) that the skeleton calls at fixed points. The phases, in order:

    1. seed and logging (rank 0 talks at INFO); the parsed configs are logged as YAML
    2. preflight (`preflight.check_before_loading`): model path, extras, Hub, benchmark
       launcher, without loading anything
    3. resume: the last `checkpoint-*` in `output_dir` unless the config names one, or
       `resume_from_checkpoint: false` to start fresh beside old checkpoints
    4. tracking (W&B environment, trackio)
    5. data (r1-data: a hub id, a local file or a mixture), its columns checked, then the
       stage's preparation (chat prompts for GRPO)
    6. tokenizer and model, adapted by the stage (ChatML for SFT of a base model)
    7. the stage's trainer, then `train(resume_from_checkpoint=...)`
    8. save: model, tokenizer, metrics, state; generation config aligned with the EOS so
       `pipeline()` stops; `use_cache` restored for fast inference; a model card
    9. optional evaluation on the test split, and a Hub push

Data flow: parsed configs -> preflight -> data set + tokenizer + model -> the stage's
trainer -> `output_dir` (checkpoints, final model, metrics) -> optionally the Hub and the
benchmark launcher.
"""

from __future__ import annotations

import dataclasses
import enum
import logging
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, TypeAlias

from r1_train.errors import ConfigError

if TYPE_CHECKING:
    from datasets import Dataset, DatasetDict
    from transformers import PreTrainedModel, PreTrainedTokenizerBase, Trainer, TrainerCallback
    from trl import ModelConfig

    from r1_train.configs import GRPOConfig, GRPOScriptArguments, ScriptArguments, SFTConfig

logger = logging.getLogger(__name__)

StageName: TypeAlias = Literal["sft", "grpo"]
TrainConfig: TypeAlias = "SFTConfig | GRPOConfig"
StageScriptArgs: TypeAlias = "ScriptArguments | GRPOScriptArguments"

# `resume_from_checkpoint` values that mean "start fresh, whatever is in output_dir".
FRESH = ("false", "no", "none", "0")
# ... and those that mean "the newest checkpoint in output_dir, which must exist".
LAST = ("true", "yes", "last", "1")


@dataclass(frozen=True)
class TrainerInputs:
    """What a stage's `build_trainer` gets: everything phases 1-6 produced."""

    script_args: StageScriptArgs
    training_args: TrainConfig
    model_args: ModelConfig
    model: PreTrainedModel
    tokenizer: PreTrainedTokenizerBase
    train_dataset: Dataset
    eval_dataset: Dataset | None
    callbacks: list[TrainerCallback]


@dataclass(frozen=True)
class Stage:
    """One training stage: its name and the three points where it differs from the other."""

    name: StageName
    # Phase 5: the loaded data set -> the one the trainer reads (e.g. chat prompts).
    prepare_data: Callable[[DatasetDict, StageScriptArgs, TrainConfig], DatasetDict]
    # Phase 6: adapt tokenizer and model in place (e.g. install a chat template).
    prepare_model: Callable[[PreTrainedTokenizerBase, PreTrainedModel], None]
    # Phase 7: the trainer.
    build_trainer: Callable[[TrainerInputs], Trainer]


def run_stage(
    stage: Stage,
    script_args: StageScriptArgs,
    training_args: TrainConfig,
    model_args: ModelConfig,
) -> dict[str, float]:
    """Run one stage as its three configs say; returns the training metrics."""
    from transformers import set_seed

    from r1_data import get_dataset
    from r1_train import preflight
    from r1_train.models import get_model, get_tokenizer

    # 1. seed and logging
    set_seed(training_args.seed)
    setup_logging(training_args)
    log_configs(script_args, training_args, model_args)

    # 2. preflight: everything that can fail without loading a model, before loading one
    preflight.check_before_loading(stage.name, script_args, training_args, model_args)

    # 3. resume
    checkpoint = resolve_checkpoint(training_args)

    # 4. tracking
    init_tracking(training_args)

    # 5. data
    dataset = get_dataset(script_args)
    preflight.check_columns(stage.name, dataset, script_args, training_args)
    dataset = stage.prepare_data(dataset, script_args, training_args)

    # 6. tokenizer and model
    tokenizer = get_tokenizer(model_args, training_args)
    model = get_model(model_args, training_args)
    stage.prepare_model(tokenizer, model)

    # 7. trainer, train
    trainer = stage.build_trainer(
        TrainerInputs(
            script_args=script_args,
            training_args=training_args,
            model_args=model_args,
            model=model,
            tokenizer=tokenizer,
            train_dataset=dataset[script_args.dataset_train_split],
            eval_dataset=eval_split(dataset, script_args, training_args),
            callbacks=named_callbacks(training_args, model_args),
        )
    )
    result = trainer.train(resume_from_checkpoint=checkpoint)

    # 8-9. save, card, evaluate, push
    return finish(trainer, tokenizer, dataset, script_args, training_args, dict(result.metrics))


def setup_logging(training_args: TrainConfig) -> None:
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


def config_dict(config: object) -> dict[str, Any]:
    """Every field of a config dataclass as plain YAML-able values (tokens redacted)."""
    assert dataclasses.is_dataclass(config) and not isinstance(config, type)
    return {f.name: _plain(f.name, getattr(config, f.name)) for f in dataclasses.fields(config)}


def _plain(name: str, value: object) -> Any:
    if value is not None and name.endswith("_token"):
        return "<redacted>"
    if isinstance(value, enum.Enum):
        return _plain(name, value.value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return config_dict(value)
    if isinstance(value, Mapping):
        return {str(k): _plain(str(k), v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(name, v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def configs_yaml(*configs: object) -> str:
    """The resolved configs as one YAML document, one top-level key per dataclass."""
    import yaml

    document = {type(c).__name__: config_dict(c) for c in configs}
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=100)


def log_configs(*configs: object) -> None:
    """Log the parsed configs at the start, as open-r1 does (here as YAML, one field a line)."""
    logger.info("resolved configs:\n%s", configs_yaml(*configs))


def resolve_checkpoint(training_args: TrainConfig) -> str | None:
    """The checkpoint to resume from.

    `resume_from_checkpoint` unset: the newest `checkpoint-*` in output_dir, if any (a
    preempted job continues by being launched again, as in open-r1). `false`: none, start
    fresh; old checkpoints stay until save_total_limit rotates them out. `true`/`last`:
    the newest, which must exist. A path: that checkpoint, which must exist.

    Raises:
        ConfigError: `true` with no checkpoint in output_dir, or a path that does not exist.
    """
    from transformers.trainer_utils import get_last_checkpoint

    choice = training_args.resume_from_checkpoint
    found = (
        get_last_checkpoint(str(training_args.output_dir))
        if os.path.isdir(str(training_args.output_dir))
        else None
    )
    if choice is None:
        if found is not None:
            logger.info(
                "resuming from %s (pass --resume_from_checkpoint false to start fresh)", found
            )
        return found
    text = str(choice).strip().lower()
    if text in FRESH:
        # Nothing downstream may read the string "false" as a path.
        training_args.resume_from_checkpoint = None
        if found is not None:
            logger.warning(
                "starting fresh in %s: its checkpoints (newest %s) are not resumed and will be "
                "overwritten or rotated out as new ones are saved",
                training_args.output_dir,
                os.path.basename(found),
            )
        return None
    if text in LAST:
        if found is None:
            raise ConfigError(
                f"resume_from_checkpoint={choice!r}: no checkpoint-* in output_dir="
                f"{training_args.output_dir!r}; omit the field to start fresh when there is none"
            )
        training_args.resume_from_checkpoint = found
        return found
    if not os.path.isdir(str(choice)):
        raise ConfigError(
            f"resume_from_checkpoint={choice!r} is not a directory; give a checkpoint-* "
            "directory, true (the newest in output_dir) or false (start fresh)"
        )
    return str(choice)


def make_conversation(
    prompt_column: str, system_prompt: str | None
) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """A `Dataset.map` function turning a row into a chat `prompt` (system + user)."""

    def convert(example: dict[str, Any]) -> dict[str, Any]:
        value = example[prompt_column]
        # A column that already holds chat messages is kept, with the system prompt added.
        messages = list(value) if isinstance(value, list) else [{"role": "user", "content": value}]
        if system_prompt is not None and not (messages and messages[0].get("role") == "system"):
            messages.insert(0, {"role": "system", "content": system_prompt})
        return {"prompt": messages}

    return convert


def eval_split(
    dataset: DatasetDict, script_args: StageScriptArgs, training_args: TrainConfig
) -> Dataset | None:
    """The evaluation split when the config evaluates, else None."""
    if training_args.eval_strategy == "no":
        return None
    if script_args.dataset_test_split not in dataset:
        raise ConfigError(
            f"eval_strategy={training_args.eval_strategy!r} but the data set has no "
            f"{script_args.dataset_test_split!r} split (splits: {list(dataset)}); set "
            "dataset_mixture.test_split_size or --eval_strategy no"
        )
    return dataset[script_args.dataset_test_split]


def named_callbacks(training_args: TrainConfig, model_args: ModelConfig) -> list[TrainerCallback]:
    """The callbacks the config names; `callbacks` is imported only when it names some."""
    if not training_args.callbacks:
        return []
    from r1_train.callbacks import get_callbacks

    return get_callbacks(training_args, model_args)


def init_tracking(training_args: TrainConfig) -> None:
    """Set up W&B and/or trackio when the config reports to them."""
    report_to = training_args.report_to or []
    if "wandb" in report_to or "trackio" in report_to:
        from r1_train import tracking

        if "wandb" in report_to:
            tracking.init_wandb_training(training_args)
        if "trackio" in report_to:
            tracking.init_trackio(training_args)


def finish(
    trainer: Trainer,
    tokenizer: PreTrainedTokenizerBase,
    dataset: DatasetDict,
    script_args: StageScriptArgs,
    training_args: TrainConfig,
    metrics: dict[str, float],
) -> dict[str, float]:
    """Phases 8-9: save, card, evaluate, push. Returns the training metrics."""
    metrics["train_samples"] = len(dataset[script_args.dataset_train_split])
    trainer.log_metrics("train", metrics)
    trainer.save_metrics("train", metrics)
    trainer.save_state()

    model = trainer.model
    assert model is not None
    # Without the EOS in the generation config, `pipeline()` generates to max_length.
    model.generation_config.eos_token_id = tokenizer.eos_token_id  # type: ignore[union-attr]
    trainer.save_model(training_args.output_dir)
    logger.info("model saved to %s", training_args.output_dir)
    card = {"dataset_name": script_args.dataset_name, "tags": ["r1", "open-r1"]}
    if trainer.accelerator.is_main_process:
        trainer.create_model_card(**card)
        model.config.use_cache = True  # type: ignore[union-attr]  # training turned it off
        model.config.save_pretrained(training_args.output_dir)  # type: ignore[union-attr]

    if training_args.do_eval and script_args.dataset_test_split in dataset:
        eval_metrics = trainer.evaluate()
        eval_metrics["eval_samples"] = len(dataset[script_args.dataset_test_split])
        trainer.log_metrics("eval", eval_metrics)
        trainer.save_metrics("eval", eval_metrics)

    if training_args.push_to_hub:
        logger.info("pushing to the Hub")
        trainer.push_to_hub(**card)
    return metrics
