"""open-r1's recipe keys and flags on TRL 1.x / transformers 5: the documented mapping.

open-r1 pins TRL 0.18 and transformers 4.52.3. Since then some fields were renamed
(`torch_dtype` is `dtype`, `warmup_ratio` became a fractional `warmup_steps`), some
vanished, and open-r1's recipes still carry keys that already did nothing under its own
pins (TRL 0.18's parser silently dropped unknown YAML keys such as `vllm_device`). An
unchanged open-r1 recipe must still load, and say what changed, so each old key here is
one of three kinds:

- renamed: the value goes to its successor field, with one warning line saying what to
  write instead (`torch_dtype: bfloat16` -> `dtype: bfloat16`);
- ignored: the key had no effect in open-r1 either, so dropping it keeps open-r1's run;
  one warning line says why, and what to write for the behaviour it suggests;
- removed: it had an effect and TRL 1.x / transformers 5 have no equivalent; an error
  names the reason (silently dropping it would change the run).

A key in none of the tables and in no config dataclass is an error whose hint is the
closest valid field, or the successor of the closest old key (`torch_dtyp` -> `dtype`,
not `torch_compile`).

Data flow: the recipe's YAML mapping and the CLI flags -> `translate_mapping` /
`translate_argv` -> a mapping and flags in TRL 1.x's names + warning lines -> TrlParser.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from r1_train.errors import ConfigError

__all__ = ["KEY_CHANGES", "KeyChange", "translate_argv", "translate_mapping"]

Kind = Literal["renamed", "ignored", "removed"]


@dataclass(frozen=True)
class KeyChange:
    """What became of one open-r1-era key; `convert` maps its value to the successor's."""

    kind: Kind
    reason: str
    successor: str | None = None
    convert: Callable[[Any], Any] | None = None


def _warmup_ratio(value: Any) -> float:
    ratio = float(value)
    if not 0 <= ratio < 1:
        # warmup_steps >= 1 counts steps, so a ratio of 1 cannot be written as one.
        raise ConfigError(
            f"warmup_ratio={value!r}: must be in [0, 1) to become a fractional warmup_steps"
        )
    return ratio


def _reentrant(value: Any) -> dict[str, Any]:
    return {"use_reentrant": bool(value)}


def _must_be_true(name: str, reason: str) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        if value is not True:
            raise ConfigError(f"{name}={value!r}: {reason}")
        return value

    return check


KEY_CHANGES: dict[str, KeyChange] = {
    # --- renamed (TRL ModelConfig / configs)
    "torch_dtype": KeyChange("renamed", "TRL 1.x's ModelConfig calls it dtype", "dtype"),
    "max_seq_length": KeyChange("renamed", "TRL's SFTConfig calls it max_length", "max_length"),
    "wandb_log_unique_prompts": KeyChange(
        "renamed", "TRL 1.x logs to any tracker under this name", "log_unique_prompts"
    ),
    "vllm_guided_decoding_regex": KeyChange(
        "renamed",
        "vLLM's guided decoding is now structured outputs",
        "vllm_structured_outputs_regex",
    ),
    "gradient_checkpointing_use_reentrant": KeyChange(
        "renamed",
        "TRL 1.x passes it through gradient_checkpointing_kwargs",
        "gradient_checkpointing_kwargs",
        _reentrant,
    ),
    # --- renamed (transformers 5 TrainingArguments)
    "warmup_ratio": KeyChange(
        "renamed",
        "transformers 5 folded it into warmup_steps: a value below 1 is a share of the steps",
        "warmup_steps",
        _warmup_ratio,
    ),
    "no_cuda": KeyChange("renamed", "transformers 5 calls it use_cpu", "use_cpu"),
    "per_gpu_train_batch_size": KeyChange(
        "renamed",
        "transformers 5 calls it per_device_train_batch_size",
        "per_device_train_batch_size",
    ),
    "per_gpu_eval_batch_size": KeyChange(
        "renamed",
        "transformers 5 calls it per_device_eval_batch_size",
        "per_device_eval_batch_size",
    ),
    "push_to_hub_model_id": KeyChange(
        "renamed", "transformers 5 calls it hub_model_id", "hub_model_id"
    ),
    "push_to_hub_token": KeyChange("renamed", "transformers 5 calls it hub_token", "hub_token"),
    "torchdynamo": KeyChange(
        "renamed", "transformers 5 calls it torch_compile_backend", "torch_compile_backend"
    ),
    # --- ignored: no effect under open-r1's own pins either, so the run is unchanged
    "overwrite_output_dir": KeyChange(
        "ignored",
        "gone from transformers 5, and open-r1 never read it: it resumed from the last "
        "checkpoint in output_dir whatever this said, as r1-train does. To start fresh beside "
        "old checkpoints write resume_from_checkpoint: false",
    ),
    "vllm_device": KeyChange(
        "ignored",
        "TRL 0.18 (open-r1's pin) already ignored it: in vllm_mode server the vLLM GPUs are "
        "those given to the `trl vllm-serve` process (CUDA_VISIBLE_DEVICES)",
    ),
    "push_to_hub_revision": KeyChange(
        "ignored",
        "open-r1 read it only to refuse an existing Hub branch; r1-train makes that check "
        "whenever callbacks names push_to_hub_revision, which is what pushes",
    ),
    "use_liger_loss": KeyChange(
        "ignored",
        "TRL 1.x always computes the GRPO loss through a chunked, fused LM head (the same "
        "loss, less memory); use_liger_kernel still applies Liger's layer kernels",
    ),
    "save_safetensors": KeyChange(
        "ignored",
        "transformers 5 always saves safetensors",
        convert=_must_be_true("save_safetensors", "transformers 5 always saves safetensors"),
    ),
    # --- removed: had an effect, no equivalent in TRL 1.x / transformers 5
    "logging_dir": KeyChange(
        "removed",
        "transformers 5 dropped it; TensorBoard writes under output_dir/runs (set "
        "TENSORBOARD_LOGGING_DIR in the environment, or the recipe's env: block, to move it)",
    ),
    "group_by_length": KeyChange(
        "removed",
        "transformers 5 replaced it: write train_sampling_strategy: group_by_length",
        "train_sampling_strategy",
    ),
    "adafactor": KeyChange(
        "removed", "transformers 5 dropped the flag: write optim: adafactor", "optim"
    ),
    "fsdp_min_num_params": KeyChange(
        "removed", "transformers 5 reads it from fsdp_config: {min_num_params: N}", "fsdp_config"
    ),
    "fsdp_transformer_layer_cls_to_wrap": KeyChange(
        "removed",
        "transformers 5 reads it from fsdp_config: {transformer_layer_cls_to_wrap: [...]}",
        "fsdp_config",
    ),
    "include_inputs_for_metrics": KeyChange(
        "removed", "transformers 5 reads include_for_metrics: [inputs]", "include_for_metrics"
    ),
    "use_ipex": KeyChange("removed", "transformers 5 dropped Intel Extension for PyTorch"),
    "jit_mode_eval": KeyChange("removed", "transformers 5 dropped TorchScript evaluation"),
    "use_mps_device": KeyChange("removed", "transformers 5 picks an MPS device by itself"),
    "use_legacy_prediction_loop": KeyChange("removed", "transformers 5 has one prediction loop"),
    "tpu_num_cores": KeyChange("removed", "transformers 5 dropped the TPU launcher options"),
    "fp16_backend": KeyChange("removed", "transformers 5 has one half-precision backend (amp)"),
    "half_precision_backend": KeyChange(
        "removed", "transformers 5 has one half-precision backend (amp)"
    ),
    "fp16_opt_level": KeyChange("removed", "transformers 5 dropped apex's opt levels"),
}


def _warning(key: str, change: KeyChange, value: Any, new_value: Any, flag: bool) -> str:
    dash = "--" if flag else ""
    sep = " " if flag else ": "
    if change.kind == "renamed":
        return (
            f"{dash}{key} -> {dash}{change.successor} ({change.reason}); write "
            f"`{dash}{change.successor}{sep}{_text(new_value)}` instead"
        )
    return f"{dash}{key}{sep}{_text(value)} is ignored ({change.reason}); remove it"


def _text(value: Any) -> str:
    """A value as the user would write it (YAML scalars, JSON-ish dicts)."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, dict):
        import json

        return json.dumps(value)
    return str(value)


def translate_mapping(
    raw: Mapping[str, Any], valid: Iterable[str], source: str = "recipe", *, flag: bool = False
) -> tuple[dict[str, Any], list[str]]:
    """open-r1's keys in a recipe mapping -> TRL 1.x's, plus one warning line per change.

    Raises:
        ConfigError: a removed key, a renamed key given together with its successor, or a
            key no config knows (with the closest valid field or successor as a hint).
    """
    valid = set(valid)
    out: dict[str, Any] = {}
    warnings: list[str] = []
    errors: list[str] = []
    for key, value in raw.items():
        if key in valid:
            out[key] = value
            continue
        change = KEY_CHANGES.get(key)
        if change is None:
            errors.append(f"{key} (unknown field{_hint(key, valid)})")
            continue
        if change.kind == "removed":
            errors.append(f"{key} ({change.reason})")
            continue
        new_value = change.convert(value) if change.convert else value
        warnings.append(f"{source}: " + _warning(key, change, value, new_value, flag))
        if change.kind == "ignored":
            continue
        assert change.successor is not None
        if change.successor in raw:
            errors.append(
                f"{key} and {change.successor} are both set; keep only {change.successor}"
            )
            continue
        out[change.successor] = new_value
    if errors:
        raise ConfigError(f"{source}: " + "; ".join(errors))
    return out, warnings


def _hint(key: str, valid: set[str]) -> str:
    """`, did you mean X?` from the valid fields and the successors of old keys."""
    candidates = sorted(valid | set(KEY_CHANGES))
    close = difflib.get_close_matches(key, candidates, n=1, cutoff=0.7)
    if not close:
        return ""
    match = close[0]
    change = KEY_CHANGES.get(match)
    if change is not None and match not in valid:
        if change.successor is None:
            return f"; {match} is gone: {change.reason}"
        match = change.successor
    return f"; did you mean {match}?"


def translate_argv(argv: list[str], valid: Iterable[str]) -> tuple[list[str], list[str]]:
    """open-r1's flag spellings (`--torch_dtype bfloat16`) -> TRL 1.x's, plus warnings.

    Only `--key value` / `--key=value` pairs whose key is an old one are touched; unknown
    flags are left to the parser, which reports them.
    """
    valid = set(valid)
    out: list[str] = []
    warnings: list[str] = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        name, eq, inline = arg[2:].partition("=") if arg.startswith("--") else ("", "", "")
        change = KEY_CHANGES.get(name) if name and name not in valid else None
        if change is None:
            out.append(arg)
            i += 1
            continue
        if eq:
            raw_value, i = inline, i + 1
        elif i + 1 < len(argv) and not argv[i + 1].startswith("--"):
            raw_value, i = argv[i + 1], i + 2
        else:
            raw_value, i = "true", i + 1
        value = _flag_value(raw_value)
        translated, lines = translate_mapping({name: value}, valid, source="flag", flag=True)
        warnings += lines
        for new_key, new_value in translated.items():
            out += [f"--{new_key}", _text(new_value)]
    return out, warnings


def _flag_value(text: str) -> Any:
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return text
