"""`r1-train sft`: distillation by supervised fine-tuning on reasoning traces
(DeepSeek-R1, 2.4 "Distillation"; OpenR1-Distill, OlympicCoder).

R1's distilled models are plain SFT of a smaller model on ~800k samples written by R1:
no RL, and yet they beat RL on the small model alone. The student learns the teacher's
long `<think>` traces token by token; TRL's `SFTTrainer` handles chat templates,
completion-only loss for prompt/completion data, packing and truncation. When the
tokenizer has no chat template (a base model), ChatML is installed, as open-r1 does,
since the traces are conversations.

Data flow: dataset rows (`messages`, or `prompt`/`completion`) -> chat template ->
SFTTrainer -> checkpoints in `output_dir` -> the GRPO stage or the benchmarks.
"""

from __future__ import annotations

import logging
from typing import Any

logger = logging.getLogger(__name__)

# ChatML, as Qwen2.5 uses; installed only on tokenizers that have no template at all.
CHATML = (
    "{% for message in messages %}"
    "<|im_start|>{{ message['role'] }}\n{{ message['content'] }}<|im_end|>\n"
    "{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def main(script_args: Any, training_args: Any, model_args: Any) -> dict[str, Any]:
    """Run SFT as the three configs say; returns the training metrics."""
    from transformers import set_seed
    from trl import SFTTrainer, get_peft_config

    from r1_data import get_dataset
    from r1_train import training
    from r1_train.models import get_model, get_tokenizer

    set_seed(training_args.seed)
    training.setup_logging(training_args)
    checkpoint = training.last_checkpoint(training_args)
    training.init_tracking(training_args)

    dataset = get_dataset(script_args)
    tokenizer = get_tokenizer(model_args, training_args)
    model = get_model(model_args, training_args)
    if tokenizer.chat_template is None:
        logger.info("the tokenizer has no chat template; using ChatML")
        tokenizer.chat_template = CHATML
        for token in ("<|im_start|>", "<|im_end|>"):
            if token not in tokenizer.get_vocab():
                tokenizer.add_special_tokens({"additional_special_tokens": [token]})
        tokenizer.eos_token = "<|im_end|>"
        if len(tokenizer) > model.get_input_embeddings().weight.shape[0]:
            model.resize_token_embeddings(len(tokenizer))

    trainer = SFTTrainer(
        model=model,
        args=training_args,
        train_dataset=dataset[script_args.dataset_train_split],
        eval_dataset=training.eval_split(dataset, script_args, training_args),
        processing_class=tokenizer,
        peft_config=get_peft_config(model_args),
        callbacks=training.named_callbacks(training_args, model_args),
    )
    return training.finish(trainer, tokenizer, dataset, script_args, training_args, checkpoint)
