"""Experiment tracking set-up: W&B through its environment variables, trackio as the local one.

The trainers already log through transformers' integrations (`report_to`); what a recipe
adds is *where* to: open-r1's `wandb_entity` / `wandb_project` / `wandb_run_group`. W&B
reads those from `WANDB_*` environment variables when the trainer calls `wandb.init`, so
setting the variables before the trainer is built is enough, and nothing here imports
wandb. trackio (Hugging Face's local-first, W&B-compatible tracker) is the alternative for
a laptop or an air-gapped cluster: runs stay in a local database unless a Space is named.
It is an optional extra, checked here so that a missing install fails before the model is
loaded, not at the first logging step.

Data flow: the trainer config (SFTConfig / GRPOConfig) -> `WANDB_*` variables and the
trackio project -> transformers' WandbCallback / TrackioCallback, at trainer start.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from r1_train.errors import MissingExtraError

logger = logging.getLogger(__name__)

__all__ = ["MissingExtraError", "init_trackio", "init_wandb_training"]

# transformers' default `project`: nobody chose it, so a recipe's wandb_project may name it.
_TRANSFORMERS_DEFAULT_PROJECT = "huggingface"


def _report_to(training_args: Any) -> list[str]:
    report_to = getattr(training_args, "report_to", None) or []
    return [report_to] if isinstance(report_to, str) else list(report_to)


def init_wandb_training(training_args: Any) -> dict[str, str]:
    """Export the config's `wandb_entity` / `wandb_project` / `wandb_run_group` for W&B.

    Only fields that are set are exported; a set field replaces a variable already in the
    environment, since the recipe is the more specific of the two.

    Returns:
        The variables that were set, e.g. `{"WANDB_PROJECT": "open-r1"}`.
    """
    exported = {}
    for field_name, variable in (
        ("wandb_entity", "WANDB_ENTITY"),
        ("wandb_project", "WANDB_PROJECT"),
        ("wandb_run_group", "WANDB_RUN_GROUP"),
    ):
        value = getattr(training_args, field_name, None)
        if value is not None:
            os.environ[variable] = str(value)
            exported[variable] = str(value)
    if exported:
        logger.info("W&B settings: %s", exported)
    return exported


def init_trackio(training_args: Any, project: str | None = None) -> str | None:
    """Prepare trackio when `report_to` names it; return the project runs are logged under.

    The project is `project` if given, else the config's `project` if it is not
    transformers' default, else `wandb_project`, else that default: a recipe written for W&B
    logs under the same name in trackio. Nothing leaves the machine unless the config
    names a `trackio_space_id`.

    Returns:
        The project name, or None when trackio is not in `report_to`.

    Raises:
        MissingExtraError: trackio is in `report_to` but not installed.
    """
    if "trackio" not in _report_to(training_args):
        return None
    try:
        # Only to fail early; transformers drives it. An optional extra, absent from the lock.
        import trackio  # noqa: F401  # pyright: ignore[reportMissingImports]
    except ImportError as error:
        raise MissingExtraError(
            f"report_to={_report_to(training_args)!r} includes 'trackio', which is not "
            'installed: pip install "r1-train[trackio]" (or remove trackio from report_to)'
        ) from error

    configured = getattr(training_args, "project", None)
    if project is None:
        if configured and configured != _TRANSFORMERS_DEFAULT_PROJECT:
            project = configured
        else:
            project = getattr(training_args, "wandb_project", None) or (
                configured or _TRANSFORMERS_DEFAULT_PROJECT
            )
    if hasattr(training_args, "project"):
        # TrackioCallback reads `args.project` when training starts.
        training_args.project = project
    space = getattr(training_args, "trackio_space_id", None)
    logger.info(
        "trackio project %r, %s",
        project,
        f"synced to Space {space}" if space else "stored locally (no Space)",
    )
    return project
