"""r1-train: SFT and GRPO for the DeepSeek-R1 recipe on TRL (distil, then reinforce).

The public names below load lazily: `import r1_train` is instant and imports neither
torch nor TRL until a config, a loader or a stage is first used, so `r1-train --help`
and tools that only inspect the package stay fast.

Data flow: a recipe (YAML + flags) -> `r1_train.cli` -> the configs of `r1_train.configs`
-> `r1_train.sft` / `r1_train.grpo` through the one stage skeleton of `r1_train.training`
-> checkpoints, Hub branches (`r1_train.hub`) and evaluation jobs (`r1_train.callbacks`).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_LAZY = {
    # configs (TRL dataclasses with open-r1's fields)
    "ScriptArguments": "r1_train.configs",
    "GRPOScriptArguments": "r1_train.configs",
    "SFTConfig": "r1_train.configs",
    "GRPOConfig": "r1_train.configs",
    "ModelConfig": "r1_train.configs",
    # loading the student
    "get_model": "r1_train.models",
    "get_tokenizer": "r1_train.models",
    # callbacks
    "get_callbacks": "r1_train.callbacks",
    # errors
    "TrainError": "r1_train.errors",
    "ConfigError": "r1_train.errors",
    "PreflightError": "r1_train.errors",
    "MissingExtraError": "r1_train.errors",
    "ServiceUnavailableError": "r1_train.errors",
    "HubRevisionError": "r1_train.errors",
    # the tiny end-to-end run
    "QuickstartConfig": "r1_train.tiny.quickstart",
    "run_quickstart": "r1_train.tiny.quickstart",
}

__all__ = [
    # configs
    "ScriptArguments",
    "GRPOScriptArguments",
    "SFTConfig",
    "GRPOConfig",
    "ModelConfig",
    # loading the student
    "get_model",
    "get_tokenizer",
    # callbacks
    "get_callbacks",
    # errors
    "TrainError",
    "ConfigError",
    "PreflightError",
    "MissingExtraError",
    "ServiceUnavailableError",
    "HubRevisionError",
    # the tiny end-to-end run
    "QuickstartConfig",
    "run_quickstart",
    "__version__",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'r1_train' has no attribute {name!r}")


if TYPE_CHECKING:  # the names for type checkers and IDEs; at run time they load lazily
    from r1_train.callbacks import get_callbacks
    from r1_train.configs import (
        GRPOConfig,
        GRPOScriptArguments,
        ModelConfig,
        ScriptArguments,
        SFTConfig,
    )
    from r1_train.errors import (
        ConfigError,
        HubRevisionError,
        MissingExtraError,
        PreflightError,
        ServiceUnavailableError,
        TrainError,
    )
    from r1_train.models import get_model, get_tokenizer
    from r1_train.tiny.quickstart import QuickstartConfig, run_quickstart
