"""The configuration of one evaluation run: every field of `r1-eval run`, written once.

Defaults follow open-r1's README (the DeepSeek-R1 report's sampling: temperature 0.6,
top_p 0.95, up to 32k new tokens). `n` samples per problem give pass@1 as a mean over
samples and pass@k for every k <= n. The CLI is generated from these fields (their
`metadata["help"]` is the one copy of the help text), as TRL generates its parsers.

Data flow: command line (or r1-train's benchmark launcher) -> `EvalConfig` (validated) ->
`runner.run_evaluation`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from r1_eval.errors import ConfigError
from r1_eval.tasks import (
    DEFAULT_MAX_NEW_TOKENS,
    DEFAULT_TEMPERATURE,
    DEFAULT_TOP_P,
    parse_task_list,
)

Backend = Literal["transformers", "vllm", "endpoint"]
BACKENDS: tuple[str, ...] = ("transformers", "vllm", "endpoint")


@dataclass
class EvalConfig:
    """One `r1-eval run`."""

    model: str = field(
        metadata={
            "help": "Model to evaluate: a local directory or hub id (transformers, vllm), "
            "or the model name the server knows (endpoint)."
        }
    )
    tasks: list[str] = field(
        metadata={"help": "Tasks, comma-separated (see `r1-eval list`), e.g. math_500,aime24."}
    )
    backend: Backend = field(
        default="transformers",
        metadata={
            "help": "transformers (any local path or hub id; works on the CPU), vllm "
            "(starts `vllm serve`; needs r1-eval[vllm]) or endpoint (any OpenAI-compatible "
            "server at --base-url).",
            "choices": BACKENDS,
        },
    )
    base_url: str | None = field(
        default=None,
        metadata={
            "help": "OpenAI-compatible server of the endpoint backend, e.g. "
            "http://127.0.0.1:8000/v1."
        },
    )
    api_key: str | None = field(
        default=None,
        metadata={"help": "API key for the endpoint (default: $OPENAI_API_KEY, else none)."},
    )
    n: int = field(
        default=1, metadata={"help": "Samples per problem: pass@1 is their mean correctness."}
    )
    temperature: float = field(
        default=DEFAULT_TEMPERATURE, metadata={"help": "Sampling temperature (0: greedy, n=1)."}
    )
    top_p: float = field(default=DEFAULT_TOP_P, metadata={"help": "Nucleus sampling top_p."})
    max_new_tokens: int = field(
        default=DEFAULT_MAX_NEW_TOKENS, metadata={"help": "Most tokens generated per sample."}
    )
    max_model_length: int | None = field(
        default=None,
        metadata={
            "help": "Context length of the model (prompt + completion). Default: "
            "the model's own (transformers), max-new-tokens + 4096 (vllm, endpoint)."
        },
    )
    system_prompt: str | None = field(
        default=None, metadata={"help": "System prompt (e.g. the one the model was trained with)."}
    )
    datasets: dict[str, str] = field(
        default_factory=dict,
        metadata={
            "help": "TASK=PATH_OR_HUB_ID: read TASK from local JSON lines / parquet "
            "(file or directory, in the hub data set's columns) or another hub id. "
            "Repeatable."
        },
    )
    limit: int | None = field(
        default=None, metadata={"help": "Evaluate only the first N problems of each task."}
    )
    seed: int = field(default=1234, metadata={"help": "Seed of sampling and of lighteval."})
    output_dir: str = field(
        default="evals", metadata={"help": "Where summary.json, results and details go."}
    )
    push_details_to_hub: str | None = field(
        default=None,
        metadata={"help": "After the run, upload the per-sample details to this hub data set."},
    )
    dtype: str = field(
        default="auto", metadata={"help": "Weights dtype (transformers, vllm): auto, bfloat16..."}
    )
    batch_size: int | None = field(
        default=None, metadata={"help": "Generation batch size (transformers; default: auto)."}
    )
    concurrent_requests: int = field(
        default=16, metadata={"help": "Requests in flight at once (endpoint, vllm)."}
    )
    request_timeout: float = field(
        default=3600.0, metadata={"help": "Seconds one request may take (endpoint, vllm)."}
    )
    max_retries: int = field(
        default=5,
        metadata={
            "help": "Attempts per request, with exponential backoff, before it counts as "
            "failed (failed requests are reported, never graded as wrong)."
        },
    )
    grading_timeout: float = field(
        default=11.0,
        metadata={"help": "Hard limit in seconds per graded math answer (killed after it)."},
    )
    grading_workers: int | None = field(
        default=None, metadata={"help": "Math grading processes (default: the usable cores)."}
    )
    trust_remote_code: bool = field(
        default=False, metadata={"help": "Let transformers / vLLM run the model's own code."}
    )
    tensor_parallel_size: int | None = field(
        default=None,
        metadata={
            "help": "vllm: GPUs per model copy (default as open-r1: all GPUs for >= 30B "
            "parameters, else 1, with data parallel over the rest)."
        },
    )
    data_parallel_size: int | None = field(
        default=None, metadata={"help": "vllm: model copies (default: see tensor-parallel-size)."}
    )
    server_timeout: float = field(
        default=1800.0, metadata={"help": "vllm: seconds to wait for `vllm serve` to be ready."}
    )

    def __post_init__(self) -> None:
        if isinstance(self.tasks, str):
            self.tasks = parse_task_list(self.tasks)
        else:
            self.tasks = parse_task_list(",".join(self.tasks))
        if self.backend not in BACKENDS:
            raise ConfigError(f"backend={self.backend!r}: must be one of {', '.join(BACKENDS)}")
        if self.backend == "endpoint" and not self.base_url:
            raise ConfigError("backend=endpoint needs --base-url, e.g. http://127.0.0.1:8000/v1")
        if self.n < 1:
            raise ConfigError(f"n={self.n}: need at least one sample per problem")
        if self.n > 1 and self.temperature <= 0:
            raise ConfigError(
                f"n={self.n} with temperature={self.temperature}: greedy decoding gives n "
                "identical samples; set --temperature > 0 (open-r1: 0.6) or --n 1"
            )
        if self.temperature < 0:
            raise ConfigError(f"temperature={self.temperature}: must be >= 0")
        if not 0 < self.top_p <= 1:
            raise ConfigError(f"top_p={self.top_p}: must be in (0, 1]")
        if self.max_new_tokens < 1:
            raise ConfigError(f"max_new_tokens={self.max_new_tokens}: must be >= 1")
        if self.limit is not None and self.limit < 1:
            raise ConfigError(f"limit={self.limit}: must be >= 1 problems")
        if self.max_retries < 1:
            raise ConfigError(f"max_retries={self.max_retries}: must be >= 1 attempt")
        if self.grading_timeout <= 1:
            raise ConfigError(f"grading_timeout={self.grading_timeout}: must be > 1 second")
        from r1_eval.tasks import resolve_task

        asked = {resolve_task(t).name for t in self.tasks}
        for task in self.datasets:
            if resolve_task(task).name not in asked:
                raise ConfigError(
                    f"--dataset {task}=...: {task} is not among --tasks {','.join(self.tasks)}"
                )
