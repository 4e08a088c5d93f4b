"""Reasoning-trace generation against OpenAI-compatible servers, resumable after any kill.

The distillation half of DeepSeek-R1 (section 2.4 of the paper; open-r1's
`scripts/generate_reasoning.py` and `src/open_r1/generate.py`): send every prompt of a
data set to a teacher model `num_generations` times and keep the traces. At the scale this
runs (hundreds of thousands of prompts, minutes per trace) the job *will* be killed:
preempted, out of time on SLURM, or a node dies. So the output file is the checkpoint.

Design:
- one `Journal` (append-only, fsync'd, torn tail repaired) holds finished rows only; a row
  is written when all its generations are in, so the file never holds half a row;
- each row has a resume key, the `--uuid-column` value or a hash of its chat messages;
  a rerun of the same command skips the keys already in the file and does the rest;
- requests run in an asyncio loop, at most `max_concurrency` in flight, each retried with
  backoff (`r1_data.chat_client`); a row whose requests still fail is reported (and
  listed in `OUT.failed.jsonl`), not written, so the next run retries it;
- rows with the same key are generated once (and counted), so the output holds every
  prompt exactly once.

Why not distilabel (open-r1's `generate.py`)? Its pipeline caches by batch in its own
folder, not by row in the output, and brings ray and a process per step; it stays
available as `build_distilabel_pipeline` / `--engine distilabel` for open-r1 parity.

Data flow: data set (hub id or local file) -> prompt column -> chat messages (template,
system prompt) -> N completions per row ->
`{**row, generations, finish_reasons, api_metadata, usage}` -> OUT.jsonl
(-> `r1-data decontaminate`, `r1-data pass-rate`, SFT).
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import json
import logging
import time
import warnings
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from r1_data.chat_client import (
    ChatClient,
    Completion,
    EndpointConfig,
    RequestRejected,
    TransientError,
)
from r1_data.errors import DataInputError
from r1_data.journal import Journal
from r1_data.presets import PRESETS
from r1_data.sources import load_source, require_columns

logger = logging.getLogger(__name__)

__all__ = [
    "PRESETS",
    "GenerateConfig",
    "GenerationReport",
    "build_messages",
    "failed_path",
    "generate",
    "generate_sync",
    "row_key",
]

RowHook = Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]


@dataclass(kw_only=True)
class GenerateConfig(EndpointConfig):
    """Everything `r1-data generate` does: the endpoint fields of `EndpointConfig`, then
    the data, sampling and resume fields below. Each field's help is its `metadata["help"]`
    (the CLI's flags are generated from it); `aliases` are open-r1's spellings.

    A prompt given as chat messages (a list of `{"role", "content"}`) is sent as is, the
    template not applied. Sampling fields left None leave the server's default.
    """

    dataset: str = field(
        metadata={
            "help": "hub id, or a local .jsonl/.json/.parquet/.csv file or saved data set folder",
            "aliases": ("--hf-dataset", "--dataset-name"),  # open-r1's generate scripts
            "metavar": "PATH_OR_ID",
        }
    )
    prompt_column: str = field(
        metadata={"help": "column with the prompt text (or chat messages)", "metavar": "COL"}
    )
    output: str | Path = field(
        metadata={
            "help": "the JSONL written and resumed",
            "aliases": ("--output-file",),  # open-r1's generate_reason_data.py
            "metavar": "OUT.jsonl",
        }
    )
    split: str = field(
        default="train",
        metadata={
            "help": "split, with slicing such as train[:1000]",
            "aliases": ("--hf-dataset-split",),
            "metavar": "S",
        },
    )
    dataset_config: str | None = field(
        default=None,
        metadata={
            "help": "hub config name of --dataset",
            "aliases": ("--hf-dataset-config",),
            "metavar": "NAME",
        },
    )
    num_generations: int = field(
        default=1, metadata={"help": "completions per prompt", "metavar": "N"}
    )
    max_concurrency: int = field(
        default=64,
        metadata={
            "help": "requests in flight at once, all servers together",
            "aliases": ("--max-concurrent",),
            "metavar": "K",
        },
    )
    temperature: float | None = field(
        default=None,
        metadata={"help": "sampling temperature (default: the server's)", "metavar": "T"},
    )
    top_p: float | None = field(
        default=None, metadata={"help": "nucleus sampling (default: the server's)", "metavar": "P"}
    )
    max_tokens: int | None = field(
        default=None,
        metadata={
            "help": "completion token limit (default: the server's)",
            "aliases": ("--max-new-tokens",),
            "metavar": "M",
        },
    )
    prompt_template: str = field(
        default="{prompt}",
        metadata={
            "help": "str.format template with {prompt}; literal braces as {{ }} (e.g. \\boxed{{}})",
            "metavar": "T",
        },
    )
    system_prompt: str | None = field(
        default=None,
        metadata={"help": "a system message sent before each prompt", "metavar": "TEXT"},
    )
    uuid_column: str | None = field(
        default=None,
        metadata={
            "help": "column identifying a row for resume (default: hash of the prompt)",
            "metavar": "COL",
        },
    )
    start: int | None = field(
        default=None, metadata={"help": "first row of the split to do (chunking)", "metavar": "N"}
    )
    end: int | None = field(
        default=None, metadata={"help": "row after the last to do (chunking)", "metavar": "N"}
    )
    progress: bool = field(
        default=True, metadata={"help": "no progress bar", "flag": "--no-progress"}
    )
    push_to_hub: str | None = field(
        default=None,
        metadata={
            "help": "push the result to this Hub data set once every row is in (generate: "
            "OUT; pass-rate: the kept rows)",
            "aliases": ("--hf-output-dataset",),  # open-r1's generate.py
            "metavar": "REPO",
        },
    )
    private: bool = field(
        default=False, metadata={"help": "make the data set pushed by --push-to-hub private"}
    )

    def __post_init__(self) -> None:
        if self.num_generations < 1:
            raise DataInputError(f"num_generations={self.num_generations!r}: must be >= 1")
        if self.max_concurrency < 1:
            raise DataInputError(f"max_concurrency={self.max_concurrency!r}: must be >= 1")
        if self.temperature is not None and self.temperature < 0:
            raise DataInputError(f"temperature={self.temperature!r}: must be >= 0")
        if self.top_p is not None and not 0 < self.top_p <= 1:
            raise DataInputError(f"top_p={self.top_p!r}: must be in (0, 1]")
        if self.max_tokens is not None and self.max_tokens < 1:
            raise DataInputError(f"max_tokens={self.max_tokens!r}: must be >= 1")
        if "{prompt}" not in self.prompt_template:
            raise DataInputError(
                f"prompt_template={self.prompt_template!r}: must contain {{prompt}}"
            )
        try:
            self.prompt_template.format(prompt="x")
        except (KeyError, IndexError, ValueError) as exc:
            raise DataInputError(
                f"prompt_template={self.prompt_template!r}: not a str.format template with "
                f"only {{prompt}} ({exc!r}); write literal braces as {{{{ and }}}}"
            ) from exc
        for name in ("start", "end"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise DataInputError(f"{name}={value!r}: must be >= 0")
        if self.start is not None and self.end is not None and self.end < self.start:
            raise DataInputError(f"end={self.end!r} is before start={self.start!r}")
        self.output = Path(self.output)
        super().__post_init__()  # the endpoint fields, with their own messages

    def endpoint_config(self) -> EndpointConfig:
        """The endpoint part alone, as `ChatClient` takes it."""
        return EndpointConfig(
            **{f.name: getattr(self, f.name) for f in dataclasses.fields(EndpointConfig)}
        )

    def sampling(self) -> dict[str, Any]:
        return {"temperature": self.temperature, "top_p": self.top_p, "max_tokens": self.max_tokens}


@dataclass
class GenerationReport:
    """What one run did; `failed > 0` means rerun the same command to retry those rows."""

    output: Path
    rows_total: int = 0
    already_done: int = 0
    generated: int = 0
    failed: int = 0
    duplicates: int = 0
    retries: int = 0
    repaired_bytes: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0
    failures: list[dict[str, Any]] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return self.failed == 0

    def summary(self) -> str:
        rate = self.completion_tokens / self.seconds if self.seconds else 0.0
        text = (
            f"{self.generated} rows generated, {self.already_done} already done, "
            f"{self.failed} failed, {self.duplicates} duplicate keys skipped, "
            f"{self.retries} retries; {self.completion_tokens} completion tokens "
            f"in {self.seconds:.1f}s ({rate:.0f} tok/s) -> {self.output}"
        )
        if self.failed:
            text += (
                f"\n{self.failed} rows failed after all retries (listed in "
                f"{failed_path(self.output)}); run the same command again to retry them"
            )
        return text


def failed_path(output: Path) -> Path:
    """Where a run lists the rows that failed: `OUT.failed.jsonl` beside the output."""
    return output.with_name(output.name + ".failed.jsonl")


def build_messages(
    prompt: Any, template: str = "{prompt}", system_prompt: str | None = None
) -> list[dict[str, Any]]:
    """The chat messages sent for one prompt.

    >>> build_messages("2+2?", "Solve: {prompt}")
    [{'role': 'user', 'content': 'Solve: 2+2?'}]
    """
    if isinstance(prompt, list):
        if not all(isinstance(m, dict) and "role" in m and "content" in m for m in prompt):
            raise DataInputError(
                "prompt is a list but not chat messages ({'role': ..., 'content': ...})"
            )
        messages = [dict(m) for m in prompt]
    elif isinstance(prompt, str):
        messages = [{"role": "user", "content": template.format(prompt=prompt)}]
    else:
        raise DataInputError(
            f"prompt must be text or chat messages, got {type(prompt).__name__}: {prompt!r:.80}"
        )
    if system_prompt is not None and messages[0].get("role") != "system":
        messages.insert(0, {"role": "system", "content": system_prompt})
    return messages


def row_key(
    row: dict[str, Any],
    prompt_column: str,
    uuid_column: str | None,
    template: str = "{prompt}",
    system_prompt: str | None = None,
) -> str:
    """The resume key of a row: its uuid, or a hash of the messages it sends."""
    if uuid_column is not None:
        return str(row[uuid_column])
    messages = build_messages(row[prompt_column], template, system_prompt)
    digest = hashlib.sha256(json.dumps(messages, sort_keys=True, ensure_ascii=False).encode())
    return digest.hexdigest()[:32]


def _load_rows(cfg: GenerateConfig) -> Any:
    ds = load_source(cfg.dataset, cfg.dataset_config, split=cfg.split)
    needed = [cfg.prompt_column] + ([cfg.uuid_column] if cfg.uuid_column else [])
    require_columns(ds, needed, cfg.dataset)
    if cfg.start is not None or cfg.end is not None:
        start = cfg.start or 0
        end = len(ds) if cfg.end is None else min(cfg.end, len(ds))
        ds = ds.select(range(min(start, end), end))
    return ds


async def generate(cfg: GenerateConfig, on_row: RowHook | None = None) -> GenerationReport:
    """Generate the rows of `cfg` not yet in `cfg.output` (`generate_sync` outside a loop).

    Args:
        on_row: an optional coroutine applied to each finished row before it is written
            (pass-rate scoring uses it).

    Raises:
        DataInputError: bad data set, column or journal.
        EndpointError: no endpoint reachable, or a 401/403/404 mid-run (rows finished
            before it are kept).
    """
    started = time.monotonic()
    output = Path(cfg.output)
    ds = _load_rows(cfg)

    def key_of(row: dict[str, Any]) -> str:
        try:
            return row_key(
                row, cfg.prompt_column, cfg.uuid_column, cfg.prompt_template, cfg.system_prompt
            )
        except KeyError as exc:
            raise DataInputError(
                f"{output}: a row has no column {exc}; this output was written by another "
                "command (different --prompt-column / --uuid-column?)"
            ) from exc

    journal = Journal.open(output, key_of)
    report = GenerationReport(
        output=output, rows_total=len(ds), repaired_bytes=journal.repaired_bytes
    )
    try:
        todo: list[tuple[str, dict[str, Any]]] = []
        seen: set[str] = set()
        for row in ds:
            key = key_of(row)
            if key in seen:
                report.duplicates += 1
                continue
            seen.add(key)
            if key in journal.done:
                report.already_done += 1
            else:
                todo.append((key, row))
        if report.duplicates:
            logger.warning(
                "%d rows repeat the key of an earlier row and are generated once "
                "(pass --uuid-column to tell them apart)",
                report.duplicates,
            )
        logger.info(
            "%d rows: %d already in %s, %d to generate",
            len(ds) - report.duplicates,
            report.already_done,
            output,
            len(todo),
        )
        if todo:
            await _run(cfg, todo, journal, report, on_row)
    finally:
        journal.close()
        report.seconds = time.monotonic() - started
    _write_failures(output, report)
    return report


async def _run(
    cfg: GenerateConfig,
    todo: list[tuple[str, dict[str, Any]]],
    journal: Journal,
    report: GenerationReport,
    on_row: RowHook | None,
) -> None:
    from tqdm.auto import tqdm

    requests = asyncio.Semaphore(cfg.max_concurrency)
    rows: Iterator[tuple[str, dict[str, Any]]] = iter(todo)
    sampling = cfg.sampling()
    bar = tqdm(
        total=len(todo), unit="row", desc="generate", disable=not cfg.progress, dynamic_ncols=True
    )
    started = time.monotonic()

    async with ChatClient(cfg.endpoint_config(), max_connections=cfg.max_concurrency) as client:
        await client.check()

        async def one(messages: list[dict[str, Any]]) -> Completion:
            async with requests:
                return await client.complete(messages, **sampling)

        async def worker() -> None:
            # Workers share one iterator: at most max_concurrency rows are open at a time.
            for key, row in rows:
                messages = build_messages(
                    row[cfg.prompt_column], cfg.prompt_template, cfg.system_prompt
                )
                try:
                    completions = await asyncio.gather(
                        *(one(messages) for _ in range(cfg.num_generations))
                    )
                except (TransientError, RequestRejected) as exc:
                    report.failed += 1
                    report.failures.append({"key": key, "error": str(exc)})
                    logger.warning("row %s failed after all retries: %s", key, exc)
                    bar.update(1)
                    continue
                usage = [c.usage for c in completions]
                out = {
                    **row,
                    "generations": [c.text for c in completions],
                    "finish_reasons": [c.finish_reason for c in completions],
                    # open-r1's key for the server's token counts, which its readers use;
                    # `usage` (the OpenAI name) is kept for r1's own earlier outputs.
                    "api_metadata": usage,
                    "usage": usage,
                }
                if on_row is not None:
                    out = await on_row(out)
                journal.append(out, key)
                report.generated += 1
                report.completion_tokens += sum(
                    int(c.usage.get("completion_tokens") or 0) for c in completions
                )
                elapsed = time.monotonic() - started
                bar.set_postfix(
                    tok_s=f"{report.completion_tokens / max(elapsed, 1e-9):.0f}", refresh=False
                )
                bar.update(1)

        try:
            async with asyncio.TaskGroup() as group:
                for _ in range(min(cfg.max_concurrency, len(todo))):
                    group.create_task(worker())
        except ExceptionGroup as group_error:
            # One fatal error (EndpointError, a bug) cancels the other workers; surface
            # the first cause itself, not an ExceptionGroup the CLI cannot print.
            raise group_error.exceptions[0] from None
        finally:
            report.retries = client.retries
            bar.close()


def _write_failures(output: Path, report: GenerationReport) -> None:
    path = failed_path(output)
    if report.failures:
        path.write_text("".join(json.dumps(f, ensure_ascii=False) + "\n" for f in report.failures))
    elif (
        path.exists()
        and report.generated + report.already_done == report.rows_total - report.duplicates
    ):
        path.unlink()


def generate_sync(cfg: GenerateConfig, on_row: RowHook | None = None) -> GenerationReport:
    """`generate` for callers outside an event loop (scripts, the CLI)."""
    return asyncio.run(generate(cfg, on_row))


async def agenerate(cfg: GenerateConfig, on_row: RowHook | None = None) -> GenerationReport:
    """Deprecated name of the async `generate` (r1's async functions carry no prefix)."""
    warnings.warn(
        "r1_data.agenerate is deprecated: `await r1_data.generate(cfg)`, or "
        "`r1_data.generate_sync(cfg)` outside an event loop",
        DeprecationWarning,
        stacklevel=2,
    )
    return await generate(cfg, on_row)
