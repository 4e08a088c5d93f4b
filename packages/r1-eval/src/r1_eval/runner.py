"""One evaluation run on lighteval: a task at a time, offline-safe, graded by r1-eval.

lighteval 0.13 does the generation, the prompts and the bookkeeping (results JSON,
per-sample details parquet); r1-eval fixes what makes it unsafe for a training loop:

1. **One task per lighteval pipeline.** With several tasks in one run the endpoint
   backend generates every task with the first task's `n` and generation size (a test
   scored 0.0625 instead of 0.575), so each task is its own `Pipeline` (one import of
   lighteval for the whole run).
2. **Only the tasks asked for are loaded.** lighteval's `Registry` imports every built-in
   task module (~650 configs, ~20 s, one of them downloads a file at import); here it
   sees only the configs r1-eval built, from the one lighteval module that defines each.
3. **Offline by construction.** `--dataset` points a task at local files; litellm's
   remote cost map and context-length lookups are off (`LITELLM_LOCAL_MODEL_COST_MAP`,
   `max_model_length` always set); litellm's disk cache (whose hits crash offline and
   retry for minutes) and lighteval's own sample cache (which would hand back another
   checkpoint's answers for the same path) are both disabled.
4. **Grading without hangs.** The task's metric is replaced by r1-eval's pass@k (one
   metric per k <= n), whose verdicts are lighteval's (`grading.py`) computed in a bounded
   process pool or in r1-sandbox.
5. **Endpoint errors counted.** Every request is retried with exponential backoff; one
   that still fails gives samples marked failed, reported in `summary.json` and left out
   of the score (exit code 1), never graded as wrong answers.
6. **Sampling under transformers 5** needs `do_sample=True` set explicitly for n > 1, and
   the transformers backend must not see `max_new_tokens` in its generation settings, or it
   cuts every prompt to that many tokens (the task's generation size bounds the completion).

Data flow: `EvalConfig` -> per task: `TaskSpec` + local data -> lighteval task config with
r1-eval's metrics -> `Pipeline` (generation on the chosen backend) -> verdicts -> pass@k
-> lighteval's results + details under `output_dir`, and `summary.json` across tasks.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from r1_eval.config import EvalConfig
from r1_eval.errors import EvalJobError
from r1_eval.passk import pass_at_k, pass_at_k_table
from r1_eval.tasks import TaskSpec, resolve_task

logger = logging.getLogger(__name__)

# What a sample of a request that failed after every retry carries instead of text.
FAILED_REQUEST = "\x00r1-eval: request failed\x00"


@dataclass
class TaskOutcome:
    """What one task's pipeline produced, for summary.json."""

    name: str
    spec: TaskSpec
    verdicts: list[list[int | None]] = field(default_factory=list)
    failed_requests: int = 0
    timed_out: int = 0
    sandbox_errors: int = 0
    wall_time_s: float = 0.0
    dataset: str = ""
    results_file: str | None = None
    details_file: str | None = None


def _offline_environment() -> None:
    # Before litellm is imported (lighteval imports it): no cost map download.
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


# -- the metric lighteval calls --------------------------------------------------------


class VerdictTable:
    """Grades a task's samples once, for all of its pass@k metrics."""

    def __init__(self, grader: Any, spec: TaskSpec) -> None:
        self.grader = grader
        self.spec = spec
        self._key: tuple[int, ...] | None = None
        self.verdicts: list[list[int | None]] = []
        self.failed_requests = 0

    def get(self, docs: Sequence[Any], responses: Sequence[Any]) -> list[list[int | None]]:
        from r1_eval.grading import Problem

        key = tuple(id(d) for d in docs)
        if key == self._key:
            return self.verdicts
        problems, samples, failed = [], [], []
        for doc, response in zip(docs, responses, strict=True):
            texts = list(response.final_text)
            failed.append([t == FAILED_REQUEST for t in texts])
            samples.append(["" if t == FAILED_REQUEST else t for t in texts])
            problems.append(Problem(list(doc.choices), doc.gold_index, doc.specific))
        verdicts = self._grade_with_progress(problems, samples)
        for row, fails in zip(verdicts, failed, strict=True):
            for i, did_fail in enumerate(fails):
                if did_fail:
                    row[i] = None
        self.failed_requests = sum(any(f) for f in failed)
        self._key, self.verdicts = key, verdicts
        return verdicts

    def _grade_with_progress(
        self, problems: list[Any], samples: list[list[str]]
    ) -> list[list[int | None]]:
        from tqdm.auto import tqdm

        # Chunks big enough to keep every worker busy, small enough for a live bar.
        step = 64
        verdicts: list[list[int | None]] = []
        with tqdm(total=len(problems), desc=f"grading {self.spec.name}", unit="problem") as bar:
            for start in range(0, len(problems), step):
                chunk = slice(start, start + step)
                verdicts.extend(self.grader.grade(problems[chunk], samples[chunk]))
                bar.update(len(problems[chunk]))
        return verdicts


def _make_metrics(table: VerdictTable, n: int) -> list[Any]:
    """lighteval metrics `pass@1` ... `pass@n`, batched, sharing one grading pass."""
    import numpy as np
    from lighteval.metrics.metrics_sample import SampleLevelComputation, SamplingMetric
    from lighteval.metrics.utils.metric_utils import SampleLevelMetric
    from lighteval.tasks.requests import SamplingMethod

    class PassAtKOverN(SamplingMetric, SampleLevelComputation):
        """pass@k per problem from n samples, graded by r1-eval (lighteval's verdicts)."""

        def __init__(self, k: int) -> None:
            super().__init__()
            self.k = k

        def compute(self, responses: Any = None, docs: Any = None, **kwargs: Any) -> list[float]:
            values = []
            for row in table.get(docs, responses):
                graded = [v for v in row if v is not None]
                if len(graded) < len(row) or len(row) < self.k:
                    values.append(float("nan"))  # left out of the score, counted apart
                else:
                    values.append(pass_at_k(len(row), sum(graded), self.k))
            return values

        def num_samples(self) -> int:
            return n

    def nanmean(values: list[float]) -> float:
        finite = [v for v in values if v == v]
        return float(np.mean(finite)) if finite else float("nan")

    return [
        SampleLevelMetric(
            metric_name=f"pass@{k}",
            sample_level_fn=PassAtKOverN(k),
            category=SamplingMethod.GENERATIVE,
            corpus_level_fn=nanmean,
            higher_is_better=True,
            batched_compute=True,
        )
        for k in range(1, n + 1)
    ]


def _make_grader(spec: TaskSpec, config: EvalConfig) -> Any:
    from r1_eval.grading import CodeGrader, ExtractiveGrader

    if spec.grader == "code":
        return CodeGrader()
    return ExtractiveGrader(
        spec.grader, timeout=config.grading_timeout, workers=config.grading_workers
    )


def build_task_config(
    spec: TaskSpec, config: EvalConfig, dataset: tuple[str, str] | None, metrics: list[Any]
) -> Any:
    """lighteval's own config of the task, pointed at `dataset` and scored by `metrics`."""
    import importlib

    module = importlib.import_module(spec.lighteval_module)
    original = next(c for c in module.TASKS_TABLE if c.name == spec.lighteval_name)
    repo, subset = dataset or (spec.hf_repo, spec.hf_subset)
    return replace(
        original,
        hf_repo=repo,
        hf_subset=subset,
        hf_avail_splits=[spec.split],
        evaluation_splits=[spec.split],
        few_shots_split=None,
        few_shots_select=None,
        generation_size=config.max_new_tokens,
        metrics=metrics,
    )


# -- backends ----------------------------------------------------------------------------


def _generation_parameters(config: EvalConfig) -> Any:
    from lighteval.models.model_input import GenerationParameters

    return GenerationParameters(
        temperature=config.temperature,
        top_p=config.top_p,
        max_new_tokens=config.max_new_tokens,
        seed=config.seed,
    )


def _model_config(config: EvalConfig, base_url: str | None, cache_dir: str) -> Any:
    if config.backend == "transformers":
        import torch
        from lighteval.models.transformers.transformers_model import TransformersModelConfig

        # `org/model@revision` (how r1-train names a pushed checkpoint) -> name + revision.
        name, revision = config.model, "main"
        if "@" in name and not Path(name).exists():
            name, revision = name.rsplit("@", 1)
        return TransformersModelConfig(
            model_name=name,
            revision=revision,
            generation_parameters=_generation_parameters(config),
            system_prompt=config.system_prompt,
            cache_dir=cache_dir,
            dtype=None if config.dtype == "auto" else config.dtype,
            batch_size=config.batch_size,
            max_length=config.max_model_length,
            device="cuda" if torch.cuda.is_available() else "cpu",
            trust_remote_code=config.trust_remote_code,
        )
    from lighteval.models.endpoints.litellm_model import LiteLLMModelConfig

    return LiteLLMModelConfig(
        # litellm's "openai/" provider: any OpenAI-compatible server at base_url.
        model_name=f"openai/{config.model}",
        provider="openai",
        base_url=base_url,
        api_key=config.api_key or os.environ.get("OPENAI_API_KEY") or "EMPTY",
        generation_parameters=_generation_parameters(config),
        system_prompt=config.system_prompt,
        cache_dir=cache_dir,
        concurrent_requests=config.concurrent_requests,
        max_model_length=config.max_model_length or config.max_new_tokens + 4096,
        # r1-eval retries (with backoff, counted) around litellm itself; see `_RetryingCompletion`.
        api_max_retry=1,
        timeout=config.request_timeout,
    )


class _RetryingCompletion:
    """litellm.completion with exponential backoff; counts retries and final failures.

    lighteval's own retry loop logs and then returns an empty response, which would be
    graded as a wrong answer. Here a request that fails every attempt returns samples
    marked `FAILED_REQUEST`, which the grading leaves out and the summary counts.
    """

    def __init__(self, completion: Callable[..., Any], attempts: int, base_delay: float) -> None:
        self.completion = completion
        self.attempts = attempts
        self.base_delay = base_delay
        self.retries = 0
        self.failures = 0
        self.last_error: str | None = None

    def __call__(self, **kwargs: Any) -> Any:
        kwargs["caching"] = False
        for attempt in range(self.attempts):
            try:
                response = self.completion(**kwargs)
                if response.choices and response.choices[0].message.content is not None:
                    return response
                raise RuntimeError("the server returned no content")
            except Exception as error:
                self.last_error = f"{type(error).__name__}: {error}"
                if attempt + 1 < self.attempts:
                    self.retries += 1
                    delay = min(60.0, self.base_delay * 2**attempt)
                    logger.warning(
                        "request failed (%s); retry %d/%d in %.1fs",
                        self.last_error[:200],
                        attempt + 1,
                        self.attempts - 1,
                        delay,
                    )
                    time.sleep(delay)
        self.failures += 1
        logger.error("request failed after %d attempts: %s", self.attempts, self.last_error)
        import litellm

        n = int(kwargs.get("n") or 1)
        return litellm.ModelResponse(
            choices=[
                {
                    "index": i,
                    "finish_reason": "error",
                    "message": {"role": "assistant", "content": FAILED_REQUEST},
                }
                for i in range(n)
            ]
        )


def _disable_litellm_caches() -> None:
    import litellm

    litellm.cache = None


# -- one task ----------------------------------------------------------------------------


def _dataset_label(config: EvalConfig, spec: TaskSpec) -> str:
    for key, value in config.datasets.items():
        if resolve_task(key).name == spec.name:
            return value
    return spec.hf_repo


def _latest(paths: Sequence[Path]) -> str | None:
    return str(max(paths, key=lambda p: p.stat().st_mtime)) if paths else None


def prepare_datasets(config: EvalConfig, workdir: Path) -> dict[str, tuple[str, str]]:
    """Each task's `--dataset`, checked and laid out for lighteval, before anything loads.

    Keys are task names as given in `config.tasks`; tasks without `--dataset` read the
    hub data set. A `--dataset` may name the task or any alias of it.
    """
    from r1_eval.local_data import prepare_dataset

    given = {resolve_task(k).name: v for k, v in config.datasets.items()}
    prepared = {}
    for name in config.tasks:
        spec = resolve_task(name)
        if spec.name in given:
            prepared[name] = prepare_dataset(spec, given[spec.name], workdir / "data")
    return prepared


def run_task(
    name: str,
    config: EvalConfig,
    *,
    base_url: str | None,
    workdir: Path,
    dataset: tuple[str, str] | None = None,
    retry_delay: float = 1.0,
) -> TaskOutcome:
    """Generate, grade and save one task (its own lighteval pipeline)."""
    _offline_environment()
    import contextlib
    import random

    import numpy as np

    # lighteval turns litellm's disk cache on at import, which creates `.litellm_cache/` in
    # the working directory: let it land in this run's scratch directory instead.
    workdir.mkdir(parents=True, exist_ok=True)
    with contextlib.chdir(workdir):
        from lighteval.logging.evaluation_tracker import EvaluationTracker
        from lighteval.pipeline import ParallelismManager, Pipeline, PipelineParameters
        from lighteval.tasks.registry import Registry

    spec = resolve_task(name)
    started = time.monotonic()
    grader = _make_grader(spec, config)
    table = VerdictTable(grader, spec)
    task_config = build_task_config(spec, config, dataset, _make_metrics(table, config.n))

    # Guard: the registry sees only this task (no import of every lighteval task module).
    original_loader = Registry.__dict__["load_all_task_configs"]
    setattr(  # noqa: B010  (a patch of a class attribute, undone in `finally`)
        Registry,
        "load_all_task_configs",
        staticmethod(
            lambda custom_tasks=None, load_multilingual=False: {task_config.name: task_config}
        ),
    )
    retrying = None
    litellm_module = None
    try:
        if config.backend != "transformers":
            import litellm

            _disable_litellm_caches()
            litellm_module = litellm
            retrying = _RetryingCompletion(litellm.completion, config.max_retries, retry_delay)
            litellm.completion = retrying
        tracker = EvaluationTracker(output_dir=str(config.output_dir), save_details=True)
        params = PipelineParameters(
            launcher_type=ParallelismManager.NONE,
            max_samples=config.limit,
        )
        model_config = _model_config(config, base_url, str(workdir / "lighteval-cache"))
        random.seed(config.seed)
        np.random.seed(config.seed)
        pipeline = Pipeline(
            tasks=task_config.name,
            pipeline_parameters=params,
            evaluation_tracker=tracker,
            model_config=model_config,
        )
        model: Any = pipeline.model
        model._cache = None  # lighteval's sample cache: never reuse old answers
        if config.backend == "transformers":
            import torch

            torch.manual_seed(config.seed)
            model.generation_config_dict["do_sample"] = config.temperature > 0
            # lighteval 0.13 takes a max_new_tokens set here as the budget of prompt AND
            # completion: every prompt longer than it is cut from the left, silently (a
            # 128-token prompt at --max-new-tokens 64 kept its last 64). The task's
            # generation_size (`build_task_config`: the same value) bounds the completion.
            model.generation_config_dict.pop("max_new_tokens", None)
        pipeline.evaluate()
        pipeline.save_and_push_results()
    finally:
        setattr(Registry, "load_all_task_configs", original_loader)  # noqa: B010
        if litellm_module is not None and retrying is not None:
            litellm_module.completion = retrying.completion
        grader.close()

    out = Path(config.output_dir)
    outcome = TaskOutcome(
        name=name,
        spec=spec,
        verdicts=table.verdicts,
        failed_requests=retrying.failures if retrying else 0,
        timed_out=getattr(grader, "timed_out", 0),
        sandbox_errors=getattr(grader, "sandbox_errors", 0),
        wall_time_s=round(time.monotonic() - started, 3),
        dataset=_dataset_label(config, spec),
        results_file=_latest(list(out.glob("results/**/results_*.json"))),
        details_file=_latest(
            [p for p in out.glob("details/**/*.parquet") if spec.lighteval_name in p.name]
        ),
    )
    return outcome


# -- the summary -------------------------------------------------------------------------


def task_summary(outcome: TaskOutcome, n: int) -> dict[str, Any]:
    """One task's entry of summary.json."""
    complete = [row for row in outcome.verdicts if row and all(v is not None for v in row)]
    correct = [sum(v for v in row if v is not None) for row in complete]
    entry: dict[str, Any] = {"pass@1": None, "pass@1_stderr": None}
    if complete:
        entry.update(pass_at_k_table(correct, n))
    entry.update(
        {
            "n": n,
            "problems": len(complete),
            "samples": sum(len(row) for row in complete),
            "correct": int(sum(correct)),
            "ungraded_problems": len(outcome.verdicts) - len(complete),
            "failed_requests": outcome.failed_requests,
            "grading_timeouts": outcome.timed_out,
            "sandbox_errors": outcome.sandbox_errors,
            "task": outcome.spec.name,
            "dataset": outcome.dataset,
            "metric": outcome.spec.metric,
            "wall_time_s": outcome.wall_time_s,
            "results_file": outcome.results_file,
            "details_file": outcome.details_file,
        }
    )
    return entry


def write_summary(
    config: EvalConfig, outcomes: Sequence[TaskOutcome], path: Path
) -> dict[str, Any]:
    """summary.json: `{"model", "tasks": {task: {"pass@1", "pass@1_stderr", "n", ...}}}`."""
    summary = {
        "model": config.model,
        "backend": config.backend,
        "tasks": {o.name: task_summary(o, config.n) for o in outcomes},
        "generation": {
            "n": config.n,
            "temperature": config.temperature,
            "top_p": config.top_p,
            "max_new_tokens": config.max_new_tokens,
            "seed": config.seed,
            "system_prompt": config.system_prompt,
            "limit": config.limit,
        },
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(summary, indent=2, sort_keys=False) + "\n")
    tmp.replace(path)
    return summary


def run_evaluation(config: EvalConfig, *, retry_delay: float = 1.0) -> dict[str, Any]:
    """Run every task of `config`, one lighteval pipeline each; returns summary.json's dict.

    Raises:
        EvalJobError: some samples could not be generated or graded (summary still written).
        ServiceUnavailableError: the vLLM server never came up.
    """
    _offline_environment()
    out = Path(config.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix=".r1-eval-", dir=out))
    server = None
    base_url = config.base_url
    outcomes: list[TaskOutcome] = []
    try:
        datasets = prepare_datasets(config, workdir)
        if config.backend == "vllm":
            from r1_eval.vllm_server import VLLMServer

            server = VLLMServer.for_config(config)
            base_url = server.start()
            # The server is then an OpenAI-compatible endpoint like any other.
            task_config = replace(
                config, backend="endpoint", base_url=base_url, model=server.served_name
            )
        else:
            task_config = config
        for name in config.tasks:
            logger.info("evaluating %s on %s", config.model, name)
            outcomes.append(
                run_task(
                    name,
                    task_config,
                    base_url=base_url,
                    workdir=workdir,
                    dataset=datasets.get(name),
                    retry_delay=retry_delay,
                )
            )
            write_summary(config, outcomes, out / "summary.json")
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    summary = write_summary(config, outcomes, out / "summary.json")
    incomplete = {
        name: entry
        for name, entry in summary["tasks"].items()
        if entry["ungraded_problems"] or entry["failed_requests"]
    }
    if incomplete:
        parts = [
            f"{name}: {e['failed_requests']} failed request(s), "
            f"{e['ungraded_problems']} problem(s) not graded"
            for name, e in incomplete.items()
        ]
        raise EvalJobError("incomplete evaluation (see summary.json): " + "; ".join(parts))
    return summary
