"""Checks made before any model loads: a bad run fails in seconds, not after the load.

Loading a 7B model and its optimiser takes minutes on a GPU node; open-r1 found a missing
vLLM, a nonexistent model path, a taken Hub branch or an unknown benchmark launcher only
after that (the Hub one at the first save, hours in). Each check here reads the configs
and the machine, never the model:

- the model: a local directory must exist and hold a `config.json`; a Hub id must be
  well-formed, and is looked up on the Hub only when it is not already in the local cache
  (an unreachable Hub is then a `ServiceUnavailableError`, exit 3, naming the endpoint);
- the extras the config needs (vLLM, W&B, trackio, DeepSpeed, Liger), each failing with the
  `pip install "r1-train[...]"` that fixes it;
- the Hub, when the run will push: reachable, and the branch of `push_to_hub_revision`
  free unless `overwrite_hub_revision` (wired to `hub.check_hub_revision_exists`);
- the callbacks and the benchmark launcher they would call;
- the rewards (GRPO): built once, so an unknown name or a missing extra fails here;
- the data set's columns (after the data loads, still before the model): the prompt
  column, and the column each reward reads (`REWARD_COLUMNS`).

Data flow: parsed configs -> `check_before_loading` (and `check_columns` once the data set
is loaded) -> nothing, or a `TrainError` that `cli.main` turns into an exit code.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

from r1_train.errors import MissingExtraError, PreflightError, ServiceUnavailableError

if TYPE_CHECKING:
    from datasets import DatasetDict
    from trl import ModelConfig

    from r1_train.training import StageName, StageScriptArgs, TrainConfig

logger = logging.getLogger(__name__)

__all__ = [
    "check_before_loading",
    "check_columns",
    "check_extras",
    "check_hub",
    "check_launcher",
    "check_model",
    "required_extras",
]

# A Hub repo id: `name` or `namespace/name`, letters, digits, `-`, `_`, `.` (huggingface_hub's
# rule, without its `--` / `..` corner cases, which it rejects itself).
_REPO_ID = re.compile(r"^(?:[\w.-]+/)?[\w.-]+$")

# What r1-train's extras bring: module to import -> extra of r1-train.
_EXTRA_OF_MODULE = {
    "vllm": "vllm",
    "wandb": "wandb",
    "trackio": "trackio",
    "deepspeed": "deepspeed",
    "liger_kernel": "liger",
}


def check_before_loading(
    stage: StageName,
    script_args: StageScriptArgs,
    training_args: TrainConfig,
    model_args: ModelConfig,
) -> None:
    """Every check that needs no data set and no model, in the order a user fixes them."""
    check_extras(training_args)
    check_model(model_args)
    check_launcher(training_args)
    if stage == "grpo":
        _check_rewards(script_args)
    check_hub(training_args)


def required_extras(training_args: TrainConfig) -> dict[str, str]:
    """The optional modules the config needs, each with the reason: {module: why}."""
    needed: dict[str, str] = {}
    if getattr(training_args, "use_vllm", False):
        needed["vllm"] = "use_vllm is true"
    report_to = training_args.report_to or []
    report_to = [report_to] if isinstance(report_to, str) else list(report_to)
    for tracker in ("wandb", "trackio"):
        if tracker in report_to:
            needed[tracker] = f"report_to includes {tracker}"
    if training_args.deepspeed or os.environ.get("ACCELERATE_USE_DEEPSPEED", "").lower() == "true":
        needed["deepspeed"] = (
            "deepspeed is set"
            if training_args.deepspeed
            else "accelerate was launched with a DeepSpeed config (zero2/zero3)"
        )
    if training_args.use_liger_kernel:
        needed["liger_kernel"] = "use_liger_kernel is true"
    return needed


def check_extras(training_args: TrainConfig) -> None:
    """Raise `MissingExtraError` naming every missing extra and the install that fixes it."""
    missing = {
        module: why
        for module, why in required_extras(training_args).items()
        if importlib.util.find_spec(module) is None
    }
    if missing:
        extras = ",".join(_EXTRA_OF_MODULE[m] for m in missing)
        reasons = "; ".join(f"{m} ({why})" for m, why in missing.items())
        raise MissingExtraError(
            f'not installed: {reasons}. Install them with: pip install "r1-train[{extras}]" '
            "(or change the config)"
        )


def _is_local_path(name: str) -> bool:
    # A Hub id has at most one "/" and never starts with one; anything else is a path.
    return name.startswith(("/", ".", "~")) or name.count("/") > 1 or "\\" in name


def check_model(model_args: ModelConfig) -> None:
    """The model exists: a local directory with config.json, or a Hub id the Hub knows.

    The Hub is asked only when the model is not in the local cache; offline
    (`HF_HUB_OFFLINE=1`) an uncached id is an error without a request.
    """
    name = model_args.model_name_or_path
    if not name:
        raise PreflightError("model_name_or_path is not set: give a local directory or a Hub id")
    path = Path(name).expanduser()
    if path.exists():
        if not (path / "config.json").is_file():
            raise PreflightError(
                f"model_name_or_path={name!r} exists but holds no config.json: point it at a "
                "saved model directory (save_pretrained), not at its parent or a file"
            )
        return
    if _is_local_path(name) or not _REPO_ID.match(name):
        raise PreflightError(
            f"model_name_or_path={name!r}: no such directory, and not a Hub id "
            "(`name` or `org/name`)"
        )
    _check_hub_model(name, model_args.model_revision or "main")


def _check_hub_model(repo_id: str, revision: str) -> None:
    from huggingface_hub import constants, try_to_load_from_cache
    from huggingface_hub.errors import (
        GatedRepoError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    cached = try_to_load_from_cache(repo_id, "config.json", revision=revision)
    if isinstance(cached, str):
        return
    if constants.HF_HUB_OFFLINE:
        raise PreflightError(
            f"model_name_or_path={repo_id!r} (revision {revision!r}) is not in the local Hub "
            "cache and HF_HUB_OFFLINE is set: download it first, or give a local directory"
        )
    from r1_train.hub import api

    try:
        api().model_info(repo_id, revision=revision)
    except GatedRepoError:
        return  # it exists; access is the loader's business (and a token's)
    except RevisionNotFoundError:
        raise PreflightError(
            f"model_revision={revision!r} does not exist in {repo_id!r} on the Hub"
        ) from None
    except RepositoryNotFoundError:
        raise PreflightError(
            f"model_name_or_path={repo_id!r}: no such local directory, and no such model on the "
            "Hub (or it is private: log in with `hf auth login`)"
        ) from None
    except _network_errors() as error:
        raise ServiceUnavailableError(
            f"cannot reach the Hub at {api().endpoint} to find model {repo_id!r}, which is not "
            f"in the local cache ({type(error).__name__}); give a local directory, or run "
            "where the Hub is reachable"
        ) from None


def _network_errors() -> tuple[type[BaseException], ...]:
    # huggingface_hub 1.x talks through httpx, whose transport errors are not OSErrors.
    import httpx

    return (OSError, httpx.TransportError)


def will_push(training_args: TrainConfig) -> bool:
    """Whether the run writes to the Hub (the final push or the per-checkpoint branches)."""
    return bool(training_args.push_to_hub) or "push_to_hub_revision" in (
        training_args.callbacks or []
    )


def check_hub(training_args: TrainConfig) -> None:
    """When the run pushes: the Hub is reachable and the revision branch is free.

    Raises:
        ServiceUnavailableError: the Hub cannot be reached (or HF_HUB_OFFLINE is set).
        HubRevisionError: the branch of push_to_hub_revision already holds a model.
    """
    if not will_push(training_args):
        return
    from huggingface_hub import constants

    from r1_train.hub import api, check_hub_revision_exists

    if constants.HF_HUB_OFFLINE:
        raise ServiceUnavailableError(
            "the run pushes to the Hub (push_to_hub or the push_to_hub_revision callback) but "
            "HF_HUB_OFFLINE is set; unset it, or pass --push_to_hub false and drop the callback"
        )
    try:
        if "push_to_hub_revision" in (training_args.callbacks or []):
            check_hub_revision_exists(training_args)
        elif training_args.hub_model_id:
            api().repo_exists(training_args.hub_model_id)
        else:
            api().whoami()
    except _network_errors() as error:
        raise ServiceUnavailableError(
            f"the run pushes to the Hub, which cannot be reached at {api().endpoint} "
            f"({type(error).__name__}: {error}); it would fail at the first save"
        ) from None


def check_launcher(training_args: TrainConfig) -> None:
    """The named callbacks exist, and the benchmark launcher they would call is registered."""
    names = list(training_args.callbacks or [])
    if not names:
        return
    from r1_train import callbacks

    unknown = [n for n in names if n not in callbacks.CALLBACKS]
    if unknown:
        raise PreflightError(
            f"callbacks={unknown!r}: unknown; valid: {', '.join(callbacks.CALLBACKS)}"
        )
    if training_args.benchmarks:
        try:
            callbacks.get_benchmark_launcher(None)
        except Exception as error:  # the registry's own message lists the valid names
            raise PreflightError(f"benchmarks={training_args.benchmarks!r}: {error}") from None


def _check_rewards(script_args: StageScriptArgs) -> None:
    from r1_rewards import get_reward_funcs

    try:
        get_reward_funcs(script_args)
    except ImportError as error:
        raise MissingExtraError(
            f"a reward in reward_funcs needs a missing package: {error}"
        ) from None
    except (ValueError, TypeError) as error:
        raise PreflightError(f"reward_funcs: {error}") from None


# The data set columns each reward reads (r1-rewards' functions take them as keyword
# arguments with a None default, so their signatures cannot say it). A reward missing its
# column would score every sample None: an ungraded run that looks like a training run.
REWARD_COLUMNS: dict[str, tuple[str, ...]] = {
    "accuracy": ("solution",),
    "cosine": ("solution",),
    "length": ("solution",),
    "code": ("verification_info",),
    "binary_code": ("verification_info",),
    "ioi_code": ("id",),
}


def check_columns(
    stage: StageName,
    dataset: DatasetDict,
    script_args: StageScriptArgs,
    training_args: TrainConfig,
) -> None:
    """Every split has the columns the stage reads (before the model loads)."""
    required: dict[str, str] = {}
    if stage == "grpo":
        required[script_args.dataset_prompt_column] = "dataset_prompt_column"
        for name in getattr(script_args, "reward_funcs", []):
            for column in REWARD_COLUMNS.get(name, ()):
                required.setdefault(column, f"the {name} reward")
    for split, part in dataset.items():
        columns = part.column_names
        if stage == "sft":
            text_field = getattr(training_args, "dataset_text_field", "text")
            if not ({"messages", text_field, "prompt"} & set(columns)):
                raise PreflightError(
                    f"split {split!r} has none of the columns SFT reads (messages, prompt + "
                    f"completion, or dataset_text_field={text_field!r}); its columns are "
                    f"{columns}"
                )
        missing = [c for c in required if c not in columns]
        if missing:
            needs = "; ".join(f"{c!r} (read by {required[c]})" for c in missing)
            hint = (
                "; set --dataset_prompt_column"
                if script_args.dataset_prompt_column in missing
                else ""
            )
            raise PreflightError(
                f"split {split!r} lacks column(s) {needs}; its columns are {columns}{hint}"
            )
