"""r1-eval: the DeepSeek-R1 benchmarks on lighteval, offline-safe, graded without hangs.

open-r1's six tasks (`math_500`, `aime24`, `aime25`, `gpqa:diamond`, `lcb:codegeneration`,
`lcb:codegeneration_v4`) with lighteval's prompts, pass@1 over n samples and pass@k for
every k <= n (unbiased estimator, with standard errors), on transformers, vLLM or any
OpenAI-compatible endpoint. Importing this package imports neither lighteval nor torch:
`run_evaluation` does, when it runs.
"""

from r1_eval.config import BACKENDS, EvalConfig
from r1_eval.errors import (
    ConfigError,
    DatasetColumnError,
    EvalError,
    EvalJobError,
    MissingExtraError,
    ServiceUnavailableError,
    UnknownTaskError,
)
from r1_eval.passk import mean_and_stderr, pass_at_k, pass_at_k_table
from r1_eval.tasks import TASKS, TaskSpec, resolve_task, valid_task_names

__version__ = "0.1.0"


def run_evaluation(config: EvalConfig) -> dict:
    """Run `config` (see `r1_eval.runner.run_evaluation`); returns summary.json's dict."""
    from r1_eval.runner import run_evaluation as _run

    return _run(config)


__all__ = [
    # running
    "EvalConfig",
    "BACKENDS",
    "run_evaluation",
    # tasks
    "TASKS",
    "TaskSpec",
    "resolve_task",
    "valid_task_names",
    # pass@k
    "pass_at_k",
    "pass_at_k_table",
    "mean_and_stderr",
    # errors
    "EvalError",
    "ConfigError",
    "UnknownTaskError",
    "DatasetColumnError",
    "MissingExtraError",
    "EvalJobError",
    "ServiceUnavailableError",
]
