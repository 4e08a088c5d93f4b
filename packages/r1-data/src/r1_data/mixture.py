"""Dataset mixtures: open-r1's `dataset_mixture` YAML, plus local sources and upsampling.

open-r1 (`src/open_r1/utils/data.py`, `configs.py`) lets a recipe name several sources
instead of one `dataset_name`:

    dataset_mixture:
      datasets:
        - {id: open-r1/OpenR1-Math-220k, config: default, split: train,
           columns: [prompt, solution], weight: 0.5}
        - {id: ./traces.jsonl, columns: [prompt, solution], weight: 2.0}
      seed: 42
      test_split_size: 0.1

Semantics kept exactly, because recipes written for open-r1 must build the same rows:
a source's `weight` is the fraction of *its own* rows kept (not a share of the mixture);
a source with a weight is shuffled with the mixture seed and its first `int(len * weight)`
rows kept; a source without one (only possible from Python, YAML defaults it to 1.0) is
kept whole and unshuffled; the union is shuffled with the seed; `test_split_size` makes a
`train`/`test` split with the seed, else the result is `{"train": union}`; the `columns`
lists of all sources must name the same set.

Beyond open-r1: `id` may be a local file or folder (see `r1_data.sources`); a weight above
1 repeats the shuffled source (2.5 = two full passes and half of a third) where open-r1
raises an IndexError; sources whose column types differ (a CSV's numbers, parquet's
large strings) are cast to the first source's types; a source missing a listed column
fails with the columns it has; and
`build_mixture` returns a `MixtureReport` of the rows each source contributed.

Data flow: recipe YAML / script arguments -> `DatasetMixtureConfig` -> `build_mixture`
(load, select columns, weight, concatenate, shuffle, split) -> `DatasetDict` for the
trainer, and a `MixtureReport` for the log.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from r1_data.errors import DataInputError
from r1_data.sources import load_source, load_source_splits, require_columns

if TYPE_CHECKING:
    from datasets import DatasetDict

logger = logging.getLogger(__name__)

_SOURCE_KEYS = ("id", "config", "split", "columns", "weight")
_MIXTURE_KEYS = ("datasets", "seed", "test_split_size")


@dataclass
class DatasetConfig:
    """One source of a mixture (open-r1's `DatasetConfig`, same fields and defaults)."""

    id: str
    config: str | None = None
    split: str = "train"
    columns: list[str] | None = None
    weight: float | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.id, str) or not self.id:
            raise DataInputError(
                f"dataset_mixture.datasets[].id={self.id!r}: every source needs an `id` "
                "(a hub id or a local path)"
            )
        if self.columns is not None:
            if isinstance(self.columns, str):
                self.columns = [self.columns]
            if not all(isinstance(c, str) for c in self.columns):
                raise DataInputError(
                    f"dataset_mixture source {self.id!r}: columns={self.columns!r} must be "
                    "a list of column names"
                )
        if self.weight is not None:
            if isinstance(self.weight, bool) or not isinstance(self.weight, int | float):
                raise DataInputError(
                    f"dataset_mixture source {self.id!r}: weight={self.weight!r} must be a number"
                )
            if not math.isfinite(self.weight) or self.weight < 0:
                raise DataInputError(
                    f"dataset_mixture source {self.id!r}: weight={self.weight!r} must be >= 0 "
                    "(the fraction of this source's rows kept; above 1 repeats rows)"
                )


@dataclass
class DatasetMixtureConfig:
    """A mixture (open-r1's `DatasetMixtureConfig`), validated as open-r1 validates it."""

    datasets: list[DatasetConfig]
    seed: int = 0
    test_split_size: float | None = None

    def __post_init__(self) -> None:
        self.datasets = [
            d if isinstance(d, DatasetConfig) else _source_from_dict(d) for d in self.datasets
        ]
        if not isinstance(self.seed, int) or isinstance(self.seed, bool):
            raise DataInputError(f"dataset_mixture.seed={self.seed!r} must be an integer")
        if self.test_split_size is not None and not (
            isinstance(self.test_split_size, int | float) and self.test_split_size > 0
        ):
            raise DataInputError(
                f"dataset_mixture.test_split_size={self.test_split_size!r} must be a fraction "
                "in (0, 1) or a positive number of rows"
            )
        column_sets = [set(d.columns) for d in self.datasets if d.columns is not None]
        if column_sets and any(s != column_sets[0] for s in column_sets):
            # open-r1's wording, so code that matches on it keeps working.
            raise DataInputError(
                "Column names must be consistent across all dataset configurations in a "
                f"mixture. Found different column sets: {[sorted(s) for s in column_sets]}"
            )

    @classmethod
    def from_dict(cls, raw: Any) -> DatasetMixtureConfig:
        """Parse the `dataset_mixture` mapping of a recipe (YAML defaults: weight 1.0)."""
        if not isinstance(raw, Mapping) or "datasets" not in raw:
            raise DataInputError(
                "dataset_mixture must be a mapping with a 'datasets' key, e.g. "
                "{'datasets': [{'id': ..., 'weight': 0.5}], 'seed': 0}"
            )
        unknown = sorted(set(raw) - set(_MIXTURE_KEYS))
        if unknown:
            raise DataInputError(
                f"dataset_mixture: unknown key(s) {unknown}; "
                f"valid keys are {', '.join(_MIXTURE_KEYS)}"
            )
        sources = raw["datasets"]
        if not isinstance(sources, list):
            raise DataInputError(
                "dataset_mixture.datasets must be a list of dataset configurations"
            )
        return cls(
            datasets=[_source_from_dict(s, default_weight=1.0) for s in sources],
            seed=raw.get("seed", 0),
            test_split_size=raw.get("test_split_size"),
        )


def _source_from_dict(raw: Any, default_weight: float | None = None) -> DatasetConfig:
    if not isinstance(raw, Mapping):
        raise DataInputError(
            f"dataset_mixture.datasets entry {raw!r} must be a mapping with at least an `id`"
        )
    unknown = sorted(set(raw) - set(_SOURCE_KEYS))
    if unknown:
        raise DataInputError(
            f"dataset_mixture source {raw.get('id')!r}: unknown key(s) {unknown}; "
            f"valid keys are {', '.join(_SOURCE_KEYS)}"
        )
    return DatasetConfig(
        id=raw.get("id"),  # type: ignore[arg-type]
        config=raw.get("config"),
        split=raw.get("split", "train"),
        columns=raw.get("columns"),
        weight=raw.get("weight", default_weight),
    )


def load_mixture_yaml(path: str | Path) -> DatasetMixtureConfig:
    """A mixture from a YAML file: either the mapping itself or a recipe holding
    `dataset_mixture:` (so a training recipe can be passed as it is)."""
    import yaml

    try:
        raw = yaml.safe_load(Path(path).read_text())
    except OSError as exc:
        raise DataInputError(f"cannot read mixture file {str(path)!r}: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise DataInputError(f"{path}: not valid YAML: {' '.join(str(exc).split())}") from exc
    if isinstance(raw, Mapping) and "dataset_mixture" in raw:
        raw = raw["dataset_mixture"]
    return DatasetMixtureConfig.from_dict(raw)


@dataclass
class SourceReport:
    """What one source contributed: rows read, rows kept after its weight."""

    id: str
    split: str
    weight: float | None
    rows_available: int
    rows_used: int


@dataclass
class MixtureReport:
    """What `build_mixture` built, per source and per output split."""

    sources: list[SourceReport] = field(default_factory=list)
    splits: dict[str, int] = field(default_factory=dict)
    seed: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def table(self) -> str:
        """A plain-text table of rows per source, for logs and the `mix` command."""
        lines = [f"{'source':<48} {'split':<12} {'weight':>7} {'rows':>9} {'used':>9}"]
        for s in self.sources:
            weight = "-" if s.weight is None else f"{s.weight:g}"
            lines.append(
                f"{s.id[-48:]:<48} {s.split[:12]:<12} {weight:>7} "
                f"{s.rows_available:>9} {s.rows_used:>9}"
            )
        lines.append("result: " + ", ".join(f"{name}={rows}" for name, rows in self.splits.items()))
        return "\n".join(lines)


def weighted_indices(n_rows: int, weight: float) -> list[int]:
    """Row positions of a shuffled source kept for `weight`: `int(n * weight)` of them,
    wrapping round for weights above 1.

    >>> weighted_indices(4, 0.5)
    [0, 1]
    >>> weighted_indices(4, 1.5)
    [0, 1, 2, 3, 0, 1]
    """
    # int(), not round(): open-r1 truncates, and the same weights must give the same rows.
    wanted = int(n_rows * weight)
    if n_rows == 0:
        return []
    return [i % n_rows for i in range(wanted)]


def build_mixture(mixture: DatasetMixtureConfig) -> tuple[DatasetDict, MixtureReport]:
    """Load, weight, concatenate, shuffle and (optionally) split the sources of `mixture`."""
    from datasets import DatasetDict, concatenate_datasets

    seed = mixture.seed
    report = MixtureReport(seed=seed)
    parts = []
    for source in mixture.datasets:
        logger.info(
            "loading mixture source %s (config %s, split %s)",
            source.id,
            source.config,
            source.split,
        )
        ds = load_source(source.id, source.config, split=source.split)
        available = len(ds)
        if source.columns is not None:
            require_columns(ds, source.columns, source.id)
            ds = ds.select_columns(source.columns)
        if source.weight is not None:
            ds = ds.shuffle(seed=seed)
            ds = ds.select(weighted_indices(len(ds), source.weight))
        report.sources.append(
            SourceReport(source.id, source.split, source.weight, available, len(ds))
        )
        parts.append(ds)
    if not parts:
        raise DataInputError("No datasets were loaded from the mixture configuration")

    first = parts[0].column_names
    for source, ds in zip(mixture.datasets, parts, strict=True):
        if set(ds.column_names) != set(first):
            raise DataInputError(
                f"mixture sources have different columns: {mixture.datasets[0].id!r} has "
                f"{sorted(first)}, {source.id!r} has {sorted(ds.column_names)}; list the "
                "shared ones under `columns:` for every source"
            )
    features = parts[0].features
    for i, ds in enumerate(parts[1:], start=1):
        if ds.features != features:
            # Local files of different formats disagree on types (a CSV's "3" is an int,
            # parquet strings may be large_string); cast to the first source's schema.
            try:
                parts[i] = ds.cast(features)
            except (ValueError, TypeError) as exc:
                raise DataInputError(
                    f"mixture source {mixture.datasets[i].id!r} has column types "
                    f"{dict(ds.features)} that cannot be cast to those of "
                    f"{mixture.datasets[0].id!r} ({dict(features)}): {exc}"
                ) from exc
    try:
        combined = concatenate_datasets(parts).shuffle(seed=seed)
    except ValueError as exc:
        raise DataInputError(f"cannot concatenate the mixture sources: {exc}") from exc

    if mixture.test_split_size is not None:
        result = combined.train_test_split(test_size=mixture.test_split_size, seed=seed)
    else:
        result = DatasetDict({"train": combined})
    report.splits = {str(name): len(split) for name, split in result.items()}
    logger.info("built dataset mixture:\n%s", report.table())
    return result, report


def get_dataset(args: Any) -> DatasetDict:
    """open-r1's `get_dataset`: a mixture when `args.dataset_mixture` is set, else
    `load_dataset(args.dataset_name, args.dataset_config)`.

    `args` is any object with open-r1's `ScriptArguments` fields (`dataset_name`,
    `dataset_config`, `dataset_mixture` as a mapping or `DatasetMixtureConfig`).
    """
    mixture = getattr(args, "dataset_mixture", None)
    name = getattr(args, "dataset_name", None)
    if mixture is not None:
        if not isinstance(mixture, DatasetMixtureConfig):
            mixture = DatasetMixtureConfig.from_dict(mixture)
        logger.info("creating dataset mixture with %d sources", len(mixture.datasets))
        return build_mixture(mixture)[0]
    if name:
        logger.info("loading dataset %s", name)
        return load_source_splits(name, getattr(args, "dataset_config", None))
    raise DataInputError("Either `dataset_name` or `dataset_mixture` must be provided")
