"""Hugging Face Hub side of training: one branch per run or checkpoint, sizes, vLLM GPUs.

open-r1 keeps every run of a model in one Hub repo and gives each run (and each saved
checkpoint of it, `<revision>-step-000000050`) its own branch. A branch is cheap, keeps
`main` clean for the released weights, and gives the evaluation jobs an immutable name to
load. Branches start from the repo's first commit, not from `main`'s head, so a run never
inherits the files of another. Uploads run in the background (`upload_folder(...,
run_as_future=True)`): a 15 GB push must not stall the GPUs between two optimiser steps.

Every call goes through an `HfApi` made when the function is called, with `HF_ENDPOINT`
read at that moment (huggingface_hub reads it once, at import): a mirror, a private Hub or
the test server of this package can be chosen after import.

Data flow: `output_dir` (the trainer's save, or one `checkpoint-<step>` of it) -> a branch
of `hub_model_id` -> evaluation jobs (r1-train's callbacks, later r1-slurm) load that
revision. `get_param_count_from_repo_id` / `get_gpu_count_for_vllm` size those jobs.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Sequence
from concurrent.futures import Future
from typing import Any, Protocol

from huggingface_hub import HfApi

from r1_train.errors import HubRevisionError

logger = logging.getLogger(__name__)

__all__ = [
    "HubRevisionError",
    "api",
    "check_hub_revision_exists",
    "get_gpu_count_for_vllm",
    "get_param_count_from_repo_id",
    "push_to_hub_revision",
]

# Never pushed: earlier checkpoints inside a final output_dir, and torch pickles (RNG states,
# `*.pth`) that nobody loads from the Hub. Callers add their own (the optimiser's `*.pt`).
DEFAULT_IGNORE_PATTERNS = ("checkpoint-*", "*.pth")


class HubTarget(Protocol):
    """What the hub helpers read from a training config (SFTConfig, GRPOConfig or a stand-in)."""

    hub_model_id: str | None
    hub_model_revision: str | None
    output_dir: str


def api() -> HfApi:
    """An HfApi on `HF_ENDPOINT` as it is now (not as it was at import: see above)."""
    return HfApi(endpoint=os.environ.get("HF_ENDPOINT") or None)


def _require(training_args: Any, name: str) -> str:
    value = getattr(training_args, name, None)
    if not value:
        raise HubRevisionError(
            f"{name}={value!r}: pushing to a Hub revision needs it set "
            f"(e.g. --{name} {'my-org/my-model' if name == 'hub_model_id' else 'v00.00'})"
        )
    return str(value)


def push_to_hub_revision(
    training_args: HubTarget, extra_ignore_patterns: Sequence[str] = ()
) -> Future[Any]:
    """Upload `output_dir` to branch `hub_model_revision` of `hub_model_id`, in the background.

    Creates the (private) repo and the branch when missing. The branch starts at the repo's
    first commit. Refuses to write over an existing branch unless `overwrite_hub_revision`.

    Returns:
        The upload's `Future`; its result is huggingface_hub's `CommitInfo`.

    Raises:
        HubRevisionError: `hub_model_id` / `hub_model_revision` missing, or the branch
            exists and `overwrite_hub_revision` is false.
    """
    repo_id = _require(training_args, "hub_model_id")
    revision = _require(training_args, "hub_model_revision")
    hub = api()

    repo_url = hub.create_repo(repo_id=repo_id, private=True, exist_ok=True)
    branches = {ref.name for ref in hub.list_repo_refs(repo_id).branches}
    if revision in branches and revision != "main":
        if not getattr(training_args, "overwrite_hub_revision", False):
            raise HubRevisionError(
                f"hub_model_revision={revision!r} already exists on {repo_id}; "
                "pick another revision or pass --overwrite_hub_revision true"
            )
        logger.warning("Overwriting files of existing branch %s of %s", revision, repo_id)
    else:
        # The oldest commit (the repo's creation) is an empty tree: the branch inherits
        # nothing from other runs. list_repo_commits returns newest first.
        first_commit = hub.list_repo_commits(repo_id)[-1].commit_id
        hub.create_branch(repo_id=repo_id, branch=revision, revision=first_commit, exist_ok=True)

    ignore_patterns = [*DEFAULT_IGNORE_PATTERNS, *extra_ignore_patterns]
    logger.info("Pushing %s to %s, revision %s", training_args.output_dir, repo_url, revision)
    future = hub.upload_folder(
        repo_id=repo_id,
        folder_path=training_args.output_dir,
        revision=revision,
        commit_message=f"Add {revision} checkpoint",
        ignore_patterns=ignore_patterns,
        run_as_future=True,
    )
    future.add_done_callback(lambda f: _log_push_result(f, repo_id, revision))
    return future


def _log_push_result(future: Future[Any], repo_id: str, revision: str) -> None:
    # A background upload that fails must still say so: nobody waits on the future.
    error = future.exception()
    if error is not None:
        logger.error("Push of %s revision %s failed: %s", repo_id, revision, error)
    else:
        logger.info("Pushed %s revision %s", repo_id, revision)


def check_hub_revision_exists(training_args: Any) -> bool:
    """Whether `hub_model_revision` already holds a pushed model; raise if it may not be reused.

    Called by `preflight` before any model loads, so a clash is found in seconds rather
    than at the first save. A branch counts as holding a model when it has a README.md (the
    model card written at the end of a run): a branch left by a crashed run can be reused.

    Raises:
        HubRevisionError: the revision holds a model, `callbacks` names
            push_to_hub_revision (which pushes there) and `overwrite_hub_revision` is off.
    """
    repo_id = getattr(training_args, "hub_model_id", None)
    revision = getattr(training_args, "hub_model_revision", None)
    if not repo_id or not revision:
        return False
    hub = api()
    if not hub.repo_exists(repo_id):
        return False
    if revision not in {ref.name for ref in hub.list_repo_refs(repo_id).branches}:
        return False
    exists = "README.md" in hub.list_repo_files(repo_id, revision=revision)
    if (
        exists
        and "push_to_hub_revision" in (getattr(training_args, "callbacks", None) or [])
        and not getattr(training_args, "overwrite_hub_revision", False)
    ):
        raise HubRevisionError(
            f"hub_model_revision={revision!r} of {repo_id} already holds a model; pick "
            "another revision or pass --overwrite_hub_revision true"
        )
    return exists


# "7b", "1.5B", "0.5m", "8x7b" (a mixture of experts: 8 experts of 7B), bounded so that
# "v00.00" or "r1" are not read as sizes.
_SIZE = re.compile(r"(?<![a-z0-9.])(\d+(?:\.\d+)?)(?:x(\d+(?:\.\d+)?))?([bm])(?![a-z])")
_UNIT = {"b": 1_000_000_000, "m": 1_000_000}


def get_param_count_from_repo_id(repo_id: str) -> int:
    """Number of parameters of a Hub model: from its safetensors header, else from its name.

    The safetensors header counts exactly without downloading weights (a few KB read by
    range request). Repos without safetensors, or an unreachable Hub, fall back to the size
    written in the name (`Qwen2.5-1.5B` -> 1.5e9, `Mixtral-8x7B` -> 5.6e10; the largest
    when several appear). Returns -1 when neither works.
    """
    try:
        metadata = api().get_safetensors_metadata(repo_id)
        counts = metadata.parameter_count
        if counts:
            return int(sum(counts.values()))
    except Exception as error:  # any Hub failure means "use the name"; say which
        logger.debug("No safetensors metadata for %s (%s); reading the name", repo_id, error)

    sizes = [
        float(a) * (float(b) if b else 1.0) * _UNIT[unit]
        for a, b, unit in _SIZE.findall(repo_id.lower())
    ]
    return int(max(sizes)) if sizes else -1


def get_gpu_count_for_vllm(model_name: str, revision: str = "main", num_gpus: int = 8) -> int:
    """Largest GPU count <= `num_gpus` that vLLM can shard `model_name` over by tensor parallelism.

    vLLM splits attention heads evenly across GPUs and needs the count to divide 64; a
    model with 28 heads (Qwen2.5-7B) therefore runs on 4 GPUs of 8, not on 7 or 8.
    """
    if num_gpus < 1:
        raise ValueError(f"num_gpus={num_gpus!r}: need at least 1")
    from transformers import AutoConfig

    config = AutoConfig.from_pretrained(model_name, revision=revision, trust_remote_code=True)
    heads = config.num_attention_heads
    for count in range(num_gpus, 0, -1):
        if heads % count == 0 and 64 % count == 0:
            if count != num_gpus:
                logger.info(
                    "%s has %d attention heads: vLLM on %d GPUs, not %d",
                    model_name,
                    heads,
                    count,
                    num_gpus,
                )
            return count
    return 1  # unreachable: 1 divides everything
