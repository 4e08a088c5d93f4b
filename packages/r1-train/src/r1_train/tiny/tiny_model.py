"""A tiny Qwen2 student and its tokenizer, made offline in seconds.

The real recipe distils into Qwen2.5 / Qwen2.5-Math checkpoints downloaded from the Hub;
here nothing can be downloaded, and a newcomer should not need a GPU to watch the method
work. So the student has the *architecture* of the real ones (Qwen2: grouped-query
attention, RoPE, RMSNorm, SwiGLU, tied embeddings) at 0.15 M parameters, initialised from
a config, and its tokenizer is a byte-level BPE trained on the task's own text.

Two details decide whether the tiny run can learn at all:
- digits are split one per token (as Qwen's own tokenizer does): a BPE that merges "57"
  into one token hides the column structure of the sum from the model;
- `<think>`, `</think>`, `<answer>`, `</answer>` are ordinary tokens, not special ones:
  TRL decodes completions with `skip_special_tokens=True`, and a special `<think>` would
  vanish before the format reward ever sees it (the format reward would then be 0 forever).

`python -m r1_train.tiny.tiny_model --corpus sft.jsonl --output-dir init` writes both to a
folder that `r1-train sft --config recipes/tiny/sft.yaml` loads like any hub checkpoint
(the quickstart's stage 0).

Data flow: the task's corpus (prompts and teacher traces) -> BPE tokenizer with a ChatML
template -> saved beside a randomly initialised Qwen2 model -> SFT, then GRPO.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

# ChatML, as Qwen2.5 and DeepSeek-R1-Distill-Qwen use; the assistant turn ends with
# <|im_end|>, which is the EOS that stops generation.
CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "<|im_start|>{{ message['role'] }}\n{{ message['content'] }}<|im_end|>\n"
    "{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
REASONING_TAGS = ["<think>", "</think>", "<answer>", "</answer>"]


def train_tokenizer(texts: Iterable[str], vocab_size: int = 512) -> Any:
    """A byte-level BPE over `texts`, digits one per token, as a transformers tokenizer.

    512 leaves room for a merge per word of the benchmark instruction that opens every
    quickstart prompt (r1-eval's MATH-500 prompt): measured, the prompt is 71 tokens at
    512 (the BPE stops at ~370, out of pairs) and 133 at 300. Reloaded, transformers 5
    makes it a `Qwen2Tokenizer` (by the model type), whose own word split also isolates
    every digit, so the two details above hold in training and evaluation alike.
    """
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    core = Tokenizer(models.BPE())
    core.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Digits(individual_digits=True),
            pre_tokenizers.ByteLevel(add_prefix_space=False),
        ]
    )
    core.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    core.train_from_iterator(texts, trainer)
    # Ordinary (non-special) added tokens: matched whole, kept by skip_special_tokens.
    core.add_tokens(REASONING_TAGS)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=core,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        unk_token=None,
    )
    tokenizer.chat_template = CHAT_TEMPLATE
    return tokenizer


# The R1 conversation markers with a plain assistant turn. R1's own template deletes
# everything up to `</think>` from assistant messages (it is meant for multi-turn chat,
# where old reasoning is dropped), which would erase the very traces SFT must learn.
R1_PLAIN_TEMPLATE = (
    "{% for message in messages %}"
    "{% if message['role'] == 'user' %}<｜User｜>{{ message['content'] }}"
    "{% elif message['role'] == 'assistant' %}<｜Assistant｜>{{ message['content'] }}"
    "{{ eos_token }}{% endif %}"
    "{% endfor %}"
    "{% if add_generation_prompt %}<｜Assistant｜>{% endif %}"
)


def load_tokenizer(path: str) -> Any:
    """A real tokenizer (e.g. DeepSeek-R1-Distill-Qwen's) for the tiny recipe."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(path)
    tokenizer.chat_template = R1_PLAIN_TEMPLATE
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def tiny_qwen2(tokenizer: Any, seed: int, hidden: int = 64, layers: int = 2) -> Any:
    """A randomly initialised Qwen2 causal LM sized for a CPU (0.15 M parameters at 64/2)."""
    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM

    config = Qwen2Config(
        vocab_size=len(tokenizer),
        hidden_size=hidden,
        intermediate_size=4 * hidden,
        num_hidden_layers=layers,
        num_attention_heads=4,
        num_key_value_heads=2,  # grouped-query attention, as in Qwen2.5
        max_position_embeddings=256,
        tie_word_embeddings=True,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=None,
    )
    torch.manual_seed(seed)
    model = Qwen2ForCausalLM(config)
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    return model


def chat_texts(path: str | Path) -> Iterator[str]:
    """Every message content of a JSONL of chat rows (`prompt`/`completion` or `messages`)."""
    with open(path, encoding="utf-8") as lines:
        for line in lines:
            if not line.strip():
                continue
            row = json.loads(line)
            for key in ("prompt", "completion", "messages"):
                value = row.get(key)
                if isinstance(value, str):
                    yield value
                elif isinstance(value, list):
                    yield from (str(m.get("content", "")) for m in value)


def make_student(
    corpus: str | Path,
    output_dir: str | Path,
    seed: int = 0,
    tokenizer_path: str | None = None,
    hidden: int = 64,
    layers: int = 2,
) -> dict[str, Any]:
    """Write a tokenizer (trained on `corpus`, or loaded) and a fresh student to `output_dir`."""
    tokenizer = (
        load_tokenizer(tokenizer_path) if tokenizer_path else train_tokenizer(chat_texts(corpus))
    )
    model = tiny_qwen2(tokenizer, seed=seed, hidden=hidden, layers=layers)
    model.save_pretrained(str(output_dir))
    tokenizer.save_pretrained(str(output_dir))
    return {
        "parameters": sum(p.numel() for p in model.parameters()),
        "vocabulary": len(tokenizer),
        "output_dir": str(output_dir),
    }


def main(argv: list[str] | None = None) -> int:
    """`python -m r1_train.tiny.tiny_model`: the initial student, saved as a checkpoint."""
    parser = argparse.ArgumentParser(
        prog="python -m r1_train.tiny.tiny_model",
        description="Train a small BPE on a JSONL of chat rows and save it with a randomly "
        "initialised Qwen2 student (the tiny recipe's initial checkpoint).",
    )
    parser.add_argument("--corpus", required=True, help="JSONL of prompt/completion chat rows")
    parser.add_argument("--output-dir", required=True, help="the checkpoint folder to write")
    parser.add_argument("--seed", type=int, default=0, help="seed of the initial weights")
    parser.add_argument(
        "--tokenizer-path", default=None, help="a real tokenizer folder instead of the tiny BPE"
    )
    parser.add_argument("--hidden", type=int, default=64, help="hidden size")
    parser.add_argument("--layers", type=int, default=2, help="transformer layers")
    args = parser.parse_args(argv)
    info = make_student(
        args.corpus, args.output_dir, args.seed, args.tokenizer_path, args.hidden, args.layers
    )
    # One JSON line on stdout: the quickstart reads it, a person can too.
    print(json.dumps(info))  # noqa: T201
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
