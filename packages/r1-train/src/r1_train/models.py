"""Loading the student: tokenizer and model from a recipe's `ModelConfig`.

The R1 recipe fine-tunes an existing base or instruct checkpoint (Qwen2.5-Math-7B for
OpenR1-Distill, Qwen2.5-1.5B-Instruct for the GRPO demos), so loading is the same
`from_pretrained` call open-r1 makes, with the knobs a recipe sets: dtype, attention
implementation, 4/8-bit quantisation (QLoRA, with the quantised weights placed on this
process's device), a chat-template override, and `use_cache` off under gradient
checkpointing (the cache is useless in training and conflicts with recomputation).
LoRA adapters are not applied here: TRL's trainers take `peft_config` (from
`get_peft_config(model_args)`) and wrap the model themselves.

Data flow: `ModelConfig` + trainer config -> `AutoTokenizer` / `AutoModelForCausalLM`
-> the SFT or GRPO trainer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from r1_train.errors import ConfigError

if TYPE_CHECKING:
    from transformers import PreTrainedModel, PreTrainedTokenizerBase
    from trl import ModelConfig

    from r1_train.training import TrainConfig


def _trust_remote_code(model_args: ModelConfig, training_args: TrainConfig | None) -> bool:
    # TRL 1.x moved trust_remote_code from ModelConfig to the trainer configs; read both.
    return bool(
        getattr(model_args, "trust_remote_code", False)
        or getattr(training_args, "trust_remote_code", False)
    )


def get_tokenizer(model_args: ModelConfig, training_args: TrainConfig) -> PreTrainedTokenizerBase:
    """The tokenizer of `model_name_or_path`, with the recipe's chat template if it has one."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(
        model_args.model_name_or_path,
        revision=model_args.model_revision,
        trust_remote_code=_trust_remote_code(model_args, training_args),
    )
    if getattr(training_args, "chat_template", None) is not None:
        tokenizer.chat_template = training_args.chat_template
    return tokenizer


def model_kwargs(model_args: ModelConfig, training_args: TrainConfig) -> dict[str, Any]:
    """The `from_pretrained` keywords a recipe implies (also what vLLM-less TRL needs)."""
    import torch
    from trl import get_quantization_config

    dtype: Any = model_args.dtype
    if dtype not in ("auto", None):
        if not hasattr(torch, str(dtype)):
            raise ConfigError(
                f"dtype={dtype!r} is not a torch dtype; use auto, bfloat16, float16 or float32"
            )
        dtype = getattr(torch, dtype)
    quantization = get_quantization_config(model_args)
    device_map = None
    if quantization is not None:
        # Quantised weights cannot move after loading: put them on this process's device.
        from accelerate import PartialState

        device_map = {"": PartialState().local_process_index}
    return {
        "revision": model_args.model_revision,
        "trust_remote_code": _trust_remote_code(model_args, training_args),
        "attn_implementation": model_args.attn_implementation,
        "dtype": dtype,
        "use_cache": not getattr(training_args, "gradient_checkpointing", False),
        "device_map": device_map,
        "quantization_config": quantization,
    }


def get_model(model_args: ModelConfig, training_args: TrainConfig) -> PreTrainedModel:
    """The causal LM of `model_name_or_path`, loaded as the recipe asks."""
    from transformers import AutoModelForCausalLM

    return AutoModelForCausalLM.from_pretrained(
        str(model_args.model_name_or_path), **model_kwargs(model_args, training_args)
    )
