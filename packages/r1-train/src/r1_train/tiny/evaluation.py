"""pass@1 over n samples on held-out problems, for the tiny recipe's checkpoints.

DeepSeek-R1 reports pass@1 as the mean correctness of n sampled completions per problem
(temperature 0.6, top-p 0.95), not greedy accuracy: greedy decoding of a reasoning model
repeats itself, and one sample per problem is noisy. This module does the same for the
tiny recipe, grading with r1-rewards' `accuracy_reward` (the reward GRPO trains on), and
writes the `summary.json` layout of `r1-eval run` (`{"model", "tasks": {name: {"pass@1",
"pass@1_stderr", "n", "problems"}}}`), so the quickstart reads every evaluation one way.
It stands in for `r1-eval run` until that command can score a local tiny checkpoint.

The standard error is over problems: with c_i correct of n samples on problem i,
pass@1 = mean_i(c_i / n) and its stderr = std_i(c_i / n) / sqrt(P). It measures how much
the number would move on another draw of P problems of the same kind, which is what a
gain between two checkpoints must exceed to mean anything.

Data flow: a checkpoint folder + a JSONL of `{prompt (chat), solution}` rows -> n sampled
completions per prompt -> `accuracy_reward` / `format_reward` -> `DIR/summary.json` and
`DIR/samples.jsonl` -> the quickstart's table and figure.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Any

TASK = "addition"


def pass_at_1(correct: list[list[float]]) -> tuple[float, float]:
    """(pass@1, its standard error over problems) from per-problem lists of 0/1 scores.

    >>> mean, stderr = pass_at_1([[1, 1], [0, 1], [0, 0]])
    >>> mean, round(stderr, 6)
    (0.5, 0.288675)
    """
    rates = [sum(scores) / len(scores) for scores in correct]
    p = len(rates)
    mean = sum(rates) / p
    if p < 2:
        return mean, 0.0
    var = sum((r - mean) ** 2 for r in rates) / (p - 1)
    return mean, math.sqrt(var / p)


def evaluate(
    model_path: str,
    dataset: str,
    n: int = 4,
    temperature: float = 0.6,
    top_p: float = 0.95,
    max_new_tokens: int = 64,
    seed: int = 0,
    batch_size: int = 256,
) -> dict[str, Any]:
    """Sample `n` completions per held-out prompt and score them; returns the task's summary."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, set_seed

    from r1_rewards import accuracy_reward, format_reward

    set_seed(seed)
    rows = [json.loads(line) for line in Path(dataset).read_text().splitlines() if line.strip()]
    tokenizer = AutoTokenizer.from_pretrained(model_path)
    tokenizer.padding_side = "left"  # decoder-only generation pads on the left
    model: Any = AutoModelForCausalLM.from_pretrained(model_path, dtype=torch.float32)
    model.eval()
    prompts = [
        tokenizer.apply_chat_template(r["prompt"], tokenize=False, add_generation_prompt=True)
        for r in rows
    ]
    expanded = [p for p in prompts for _ in range(n)]  # (P*n,)
    completions: list[str] = []
    for start in range(0, len(expanded), batch_size):
        enc = tokenizer(
            expanded[start : start + batch_size],
            return_tensors="pt",
            padding=True,
            add_special_tokens=False,
        )
        with torch.no_grad():
            out = model.generate(
                **enc,
                max_new_tokens=max_new_tokens,
                do_sample=temperature > 0,
                temperature=temperature if temperature > 0 else None,
                top_p=top_p if temperature > 0 else None,
                top_k=0 if temperature > 0 else None,
                eos_token_id=tokenizer.eos_token_id,
                pad_token_id=tokenizer.pad_token_id,
            )
        completions += tokenizer.batch_decode(
            out[:, enc["input_ids"].shape[1] :], skip_special_tokens=True
        )
    golds = [r["solution"] for r in rows for _ in range(n)]
    accuracy = [a or 0.0 for a in accuracy_reward(completions, solution=golds)]
    formats = format_reward(completions)
    per_problem = [accuracy[i * n : (i + 1) * n] for i in range(len(rows))]
    score, stderr = pass_at_1(per_problem)
    return {
        "pass@1": score,
        "pass@1_stderr": stderr,
        "n": n,
        "problems": len(rows),
        "format_rate": sum(formats) / len(formats),
        "samples": [
            {"prompt": rows[i // n]["prompt"][-1]["content"], "completion": c, "score": a}
            for i, (c, a) in enumerate(zip(completions, accuracy, strict=True))
            if i % n == 0
        ][:20],
    }


def main(argv: list[str] | None = None) -> int:
    """`python -m r1_train.tiny.evaluation MODEL --dataset PATH --n N --output-dir DIR`."""
    parser = argparse.ArgumentParser(
        prog="python -m r1_train.tiny.evaluation",
        description="pass@1 over n samples of a tiny-recipe checkpoint on held-out addition "
        "problems; writes DIR/summary.json in r1-eval's layout.",
    )
    parser.add_argument("model", help="checkpoint folder (model and tokenizer)")
    parser.add_argument("--dataset", required=True, help="JSONL of {prompt, solution} rows")
    parser.add_argument("--n", type=int, default=4, help="samples per problem")
    parser.add_argument("--temperature", type=float, default=0.6, help="0 means greedy")
    parser.add_argument("--top-p", type=float, default=0.95, help="nucleus sampling")
    parser.add_argument("--max-new-tokens", type=int, default=64, help="completion limit")
    parser.add_argument("--seed", type=int, default=0, help="sampling seed")
    parser.add_argument("--output-dir", required=True, help="summary.json goes here")
    args = parser.parse_args(argv)
    if args.n < 1:
        parser.error(f"--n {args.n}: must be >= 1")
    result = evaluate(
        args.model,
        args.dataset,
        n=args.n,
        temperature=args.temperature,
        top_p=args.top_p,
        max_new_tokens=args.max_new_tokens,
        seed=args.seed,
    )
    out = Path(args.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    samples = result.pop("samples")
    (out / "samples.jsonl").write_text("".join(json.dumps(s) + "\n" for s in samples))
    summary = {"model": args.model, "tasks": {TASK: result}}
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    line = f"{TASK}: pass@1 {result['pass@1']:.3f} +- {result['pass@1_stderr']:.3f}"
    print(f"{line} (n={args.n}, {result['problems']} problems) -> {out / 'summary.json'}")  # noqa: T201
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
