"""open-r1's distilabel generation pipeline (`src/open_r1/generate.py`), as an option.

open-r1 generates its traces with distilabel: one `TextGeneration` task over an
`OpenAILLM` pointed at a vLLM server, `num_generations` completions grouped per row,
`client_replicas` copies of the task running in parallel. `build_distilabel_pipeline`
takes open-r1's arguments with open-r1's defaults so its scripts port unchanged.

Why it is not the default engine: distilabel caches by batch in its own folder rather
than by row in the output, so a killed run cannot promise "every prompt exactly once"
in the output file, and it brings a heavy dependency tree. `r1_data.generation` is the
default; distilabel is the extra `r1-data[distilabel]`, imported only when asked for.
One difference from open-r1: the pipeline runs on distilabel's local executor, not
`Pipeline().ray()`, because ray is not a dependency of the extra (pass `ray=True` on a
cluster that has it). Two additions: `--system-prompt` reaches the task, and several
`--base-url`s each get a task of their own with a share of the rows.

Data flow: data set rows -> distilabel `TextGeneration` (template over the prompt column)
-> `OpenAILLM` -> the server -> a `Distiset` (rows with `generation` lists) -> JSONL.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from r1_data.errors import DataInputError, MissingExtraError

if TYPE_CHECKING:
    from r1_data.generation import GenerateConfig


def _import_distilabel() -> tuple[Any, Any, Any, Any, Any]:
    try:
        with warnings.catch_warnings():
            # distilabel 1.5 trips pydantic's deprecation warnings on import.
            warnings.simplefilter("ignore")
            from distilabel.models import OpenAILLM
            from distilabel.pipeline import Pipeline
            from distilabel.steps import LoadDataFromDicts, StepResources
            from distilabel.steps.tasks import TextGeneration
    except ImportError as exc:
        raise MissingExtraError("the distilabel engine", "distilabel") from exc
    return OpenAILLM, Pipeline, StepResources, TextGeneration, LoadDataFromDicts


def build_distilabel_pipeline(
    model: str,
    base_url: str | Sequence[str] = "http://localhost:8000/v1",
    prompt_column: str | None = None,
    prompt_template: str = "{{ instruction }}",
    temperature: float | None = None,
    top_p: float | None = None,
    max_new_tokens: int = 8192,
    num_generations: int = 1,
    input_batch_size: int = 64,
    client_replicas: int = 1,
    timeout: int = 900,
    retries: int = 0,
    ray: bool = False,
    system_prompt: str | None = None,
    rows: Sequence[dict[str, Any]] | None = None,
) -> Any:
    """A distilabel `Pipeline` with open-r1's arguments and defaults.

    `prompt_template` is a Jinja template over `instruction` (distilabel's convention),
    not the `{prompt}` format string of `r1-data generate`. `system_prompt` is sent before
    every prompt. Several `base_url`s get one `TextGeneration` each, and the rows (`rows`,
    then required) are dealt out to them in turn, so each server generates its share and
    no row is generated twice; with one URL the pipeline is open-r1's, and its data comes
    from `pipeline.run(dataset=...)` unless `rows` is given.

    Raises:
        MissingExtraError: distilabel is not installed (`pip install "r1-data[distilabel]"`).
        DataInputError: several base URLs but no `rows`.
    """
    OpenAILLM, Pipeline, StepResources, TextGeneration, LoadDataFromDicts = _import_distilabel()
    urls = [base_url] if isinstance(base_url, str) else list(base_url)
    if not urls:
        raise DataInputError("base_url=[]: give at least one server")
    if len(urls) > 1 and rows is None:
        raise DataInputError(
            f"base_url={urls!r}: several servers share the rows out, so pass rows=..."
        )
    generation_kwargs: dict[str, Any] = {"max_new_tokens": max_new_tokens}
    if temperature is not None:
        generation_kwargs["temperature"] = temperature
    if top_p is not None:
        generation_kwargs["top_p"] = top_p
    pipeline = Pipeline().ray() if ray else Pipeline()
    with pipeline:
        for i, url in enumerate(urls):
            task = TextGeneration(
                name=f"text_generation_{i}",
                llm=OpenAILLM(
                    base_url=url,
                    api_key="EMPTY",
                    model=model,
                    timeout=timeout,
                    max_retries=retries,
                    generation_kwargs=generation_kwargs,
                ),
                template=prompt_template,
                system_prompt=system_prompt,
                input_mappings={"instruction": prompt_column} if prompt_column is not None else {},
                input_batch_size=input_batch_size,
                num_generations=num_generations,
                group_generations=True,
                resources=StepResources(replicas=client_replicas),
            )
            if rows is not None:
                share = list(rows[i :: len(urls)])
                if share:
                    loader = LoadDataFromDicts(
                        name=f"load_rows_{i}", data=share, batch_size=input_batch_size
                    )
                    loader.connect(task)
    return pipeline


def run_distilabel(cfg: GenerateConfig) -> None:
    """`r1-data generate --engine distilabel`: run the pipeline, write its rows as JSONL."""
    from r1_data.generation import _load_rows

    _import_distilabel()  # fail before loading anything when the extra is missing
    ds = _load_rows(cfg)
    # Translate `{prompt}` (r1-data's template) into distilabel's Jinja `{{ instruction }}`.
    template = cfg.prompt_template.replace("{{", "\x00").replace("}}", "\x01")
    template = template.replace("{prompt}", "{{ instruction }}")
    template = template.replace("\x00", "{").replace("\x01", "}")
    several = len(cfg.base_urls) > 1
    pipeline = build_distilabel_pipeline(
        model=cfg.model,
        base_url=cfg.base_urls,
        prompt_column=cfg.prompt_column,
        prompt_template=template,
        temperature=cfg.temperature,
        top_p=cfg.top_p,
        max_new_tokens=cfg.max_tokens or 8192,
        num_generations=cfg.num_generations,
        timeout=int(cfg.timeout),
        retries=cfg.max_retries,
        system_prompt=cfg.system_prompt,
        rows=ds.to_list() if several else None,
    )
    distiset = pipeline.run(dataset=None if several else ds, use_cache=False)
    # distilabel's own columns (`generation`, `distilabel_metadata`), as open-r1 gets them;
    # one subset per server when there are several (their metadata keys carry the task's
    # name, so they cannot be one table), written one after the other.
    # No logging after this point: distilabel has replaced the handlers with its own queue.
    with open(cfg.output, "wb") as f:
        for name in sorted(distiset):
            distiset[name]["train"].to_json(f, lines=True)
