"""r1-data: the data stages of the R1 recipe, without the training stack.

Mix sources (`get_dataset`, open-r1's `dataset_mixture`), generate reasoning traces from
OpenAI-compatible servers with a resumable journal (`generate`), remove benchmark leaks
(`decontaminate`), keep the problems a model solves sometimes (`pass_rate`). The I/O
stages are async (`await generate(cfg)`), each with a sync twin (`generate_sync(cfg)`). Importing
this package loads neither `datasets` nor numpy nor any training library; each stage
imports what it needs when called.

Data flow: sources -> `get_dataset` / `load_source` -> `generate` -> `decontaminate` ->
`pass_rate` -> data sets for r1-train (SFT, then GRPO).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from r1_data.errors import (
    DataError,
    DataInputError,
    EndpointError,
    HubError,
    MissingExtraError,
)

__version__ = "0.1.0"

# name -> module: public names are imported on first use, so `import r1_data` (and
# `r1-data --help`) stays instant and free of numpy / datasets / aiohttp.
_LAZY = {
    # mixtures (open-r1's names)
    "DatasetConfig": "r1_data.mixture",
    "DatasetMixtureConfig": "r1_data.mixture",
    "MixtureReport": "r1_data.mixture",
    "build_mixture": "r1_data.mixture",
    "get_dataset": "r1_data.mixture",
    "load_mixture_yaml": "r1_data.mixture",
    # sources
    "load_source": "r1_data.sources",
    "write_dataset": "r1_data.sources",
    # generation
    "GenerateConfig": "r1_data.generation",
    "GenerationReport": "r1_data.generation",
    "PRESETS": "r1_data.presets",
    "generate": "r1_data.generation",
    "generate_sync": "r1_data.generation",
    "agenerate": "r1_data.generation",  # deprecated name of `generate`, not in __all__
    "EndpointConfig": "r1_data.chat_client",
    "ChatClient": "r1_data.chat_client",
    "Journal": "r1_data.journal",
    "build_distilabel_pipeline": "r1_data.distilabel_pipeline",
    # decontamination
    "Benchmark": "r1_data.decontamination",
    "DEFAULT_BENCHMARKS": "r1_data.decontamination",
    "DecontaminateConfig": "r1_data.decontamination",
    "contamination_flags": "r1_data.decontamination",
    "decontaminate": "r1_data.decontamination",
    "reference_flags": "r1_data.decontamination",
    # pass-rate filtering
    "PassRateConfig": "r1_data.filtering",
    "load_pass_rate_recipe": "r1_data.filtering",
    "pass_rate": "r1_data.filtering",
    "pass_rate_sync": "r1_data.filtering",
    "apass_rate": "r1_data.filtering",  # deprecated name of `pass_rate`, not in __all__
}

__all__ = [
    # mixtures (open-r1's names)
    "DatasetConfig",
    "DatasetMixtureConfig",
    "MixtureReport",
    "build_mixture",
    "get_dataset",
    "load_mixture_yaml",
    # sources
    "load_source",
    "write_dataset",
    # generation
    "GenerateConfig",
    "GenerationReport",
    "PRESETS",
    "generate",
    "generate_sync",
    "EndpointConfig",
    "ChatClient",
    "Journal",
    "build_distilabel_pipeline",
    # decontamination
    "Benchmark",
    "DEFAULT_BENCHMARKS",
    "DecontaminateConfig",
    "contamination_flags",
    "decontaminate",
    "reference_flags",
    # pass-rate filtering
    "PassRateConfig",
    "load_pass_rate_recipe",
    "pass_rate",
    "pass_rate_sync",
    # errors
    "DataError",
    "DataInputError",
    "EndpointError",
    "HubError",
    "MissingExtraError",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'r1_data' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


if TYPE_CHECKING:
    from r1_data.chat_client import ChatClient, EndpointConfig
    from r1_data.decontamination import (
        DEFAULT_BENCHMARKS,
        Benchmark,
        DecontaminateConfig,
        contamination_flags,
        decontaminate,
        reference_flags,
    )
    from r1_data.distilabel_pipeline import build_distilabel_pipeline
    from r1_data.filtering import (
        PassRateConfig,
        load_pass_rate_recipe,
        pass_rate,
        pass_rate_sync,
    )
    from r1_data.generation import (
        GenerateConfig,
        GenerationReport,
        generate,
        generate_sync,
    )
    from r1_data.journal import Journal
    from r1_data.mixture import (
        DatasetConfig,
        DatasetMixtureConfig,
        MixtureReport,
        build_mixture,
        get_dataset,
        load_mixture_yaml,
    )
    from r1_data.presets import PRESETS
    from r1_data.sources import load_source, write_dataset
