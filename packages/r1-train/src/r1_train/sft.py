"""`r1-train sft`: distillation by supervised fine-tuning on reasoning traces
(DeepSeek-R1, 2.4 "Distillation"; OpenR1-Distill, OlympicCoder).

R1's distilled models are plain SFT of a smaller model on ~800k samples written by R1:
no RL, and yet they beat RL on the small model alone. The student learns the teacher's
long `<think>` traces token by token; TRL's `SFTTrainer` handles chat templates,
completion-only loss for prompt/completion data, packing and truncation. When the
tokenizer has no chat template (a base model), ChatML is installed, as open-r1 does,
since the traces are conversations. The phases around it are `training.run_stage`'s.

Data flow: dataset rows (`messages`, or `prompt`/`completion`) -> chat template ->
SFTTrainer -> checkpoints in `output_dir` -> the GRPO stage or the benchmarks.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from r1_train.training import Stage, TrainerInputs, run_stage

if TYPE_CHECKING:
    from datasets import DatasetDict
    from transformers import PreTrainedModel, PreTrainedTokenizerBase, Trainer
    from trl import ModelConfig

    from r1_train.configs import ScriptArguments, SFTConfig
    from r1_train.training import StageScriptArgs, TrainConfig

logger = logging.getLogger(__name__)

# ChatML, as Qwen2.5 uses; installed only on tokenizers that have no template at all.
CHATML = (
    "{% for message in messages %}"
    "<|im_start|>{{ message['role'] }}\n{{ message['content'] }}<|im_end|>\n"
    "{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def prepare_data(
    dataset: DatasetDict, script_args: StageScriptArgs, training_args: TrainConfig
) -> DatasetDict:
    """SFTTrainer reads `messages`, `prompt`/`completion` or text as they are."""
    return dataset


def install_chatml(tokenizer: PreTrainedTokenizerBase, model: PreTrainedModel) -> None:
    """Give a template-less (base) tokenizer ChatML, growing the embeddings if needed."""
    if tokenizer.chat_template is not None:
        return
    logger.info("the tokenizer has no chat template; using ChatML")
    tokenizer.chat_template = CHATML
    for token in ("<|im_start|>", "<|im_end|>"):
        if token not in tokenizer.get_vocab():
            tokenizer.add_special_tokens({"additional_special_tokens": [token]})
    tokenizer.eos_token = "<|im_end|>"
    rows: int = model.get_input_embeddings().weight.shape[0]  # type: ignore[index]
    if len(tokenizer) > rows:
        model.resize_token_embeddings(len(tokenizer))


def build_trainer(inputs: TrainerInputs) -> Trainer:
    """TRL's SFTTrainer over the prepared data, with LoRA when the model config asks."""
    from trl import SFTTrainer, get_peft_config

    return SFTTrainer(
        model=inputs.model,
        args=inputs.training_args,
        train_dataset=inputs.train_dataset,
        eval_dataset=inputs.eval_dataset,
        processing_class=inputs.tokenizer,
        peft_config=get_peft_config(inputs.model_args),
        callbacks=inputs.callbacks,
    )


STAGE = Stage(
    name="sft", prepare_data=prepare_data, prepare_model=install_chatml, build_trainer=build_trainer
)


def main(
    script_args: ScriptArguments, training_args: SFTConfig, model_args: ModelConfig
) -> dict[str, float]:
    """Run SFT as the three configs say; returns the training metrics."""
    return run_stage(STAGE, script_args, training_args, model_args)
