"""Where rows come from and where they go: hub ids, local files and saved data sets.

Every stage of r1-data takes `PATH_OR_ID`: a Hugging Face Hub id goes through the real
`datasets.load_dataset` (so cluster jobs read the hub exactly as open-r1 does), while an
existing local path is read by its kind: a `.jsonl`/`.json`/`.parquet`/`.csv`/`.arrow`
file, a folder written by `save_to_disk`, or a folder of such files. open-r1 only reads
hub ids; local files matter because most generated and filtered data lives on a disk long
before anyone pushes it, and because this project's tests must run offline.

Outputs mirror inputs: `OUT` ending in `.jsonl`, `.json` or `.parquet` is written as that
file, anything else as a `save_to_disk` folder that `load_source` reads back.

Data flow: a path or hub id from a CLI flag or mixture YAML -> `load_source` -> one
`datasets.Dataset` for the stage -> `write_dataset` -> the file or folder the next stage reads.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from r1_data.errors import DataInputError

if TYPE_CHECKING:
    from datasets import Dataset, DatasetDict

logger = logging.getLogger(__name__)

# File suffix -> the `datasets` builder that reads it.
_BUILDERS = {
    ".jsonl": "json",
    ".json": "json",
    ".parquet": "parquet",
    ".csv": "csv",
    ".arrow": "arrow",
}


def is_local(path_or_id: str) -> bool:
    """True when `path_or_id` names an existing file or folder rather than a hub id."""
    return os.path.exists(os.path.expanduser(path_or_id))


def _pick_split(loaded: Any, split: str | None, source: str) -> Dataset:
    """One split out of what `load_dataset` / `load_from_disk` returned."""
    from datasets import Dataset, DatasetDict

    if isinstance(loaded, Dataset):
        return loaded
    if not isinstance(loaded, DatasetDict):
        raise DataInputError(f"{source}: expected a data set, got {type(loaded).__name__}")
    if split is None:
        if len(loaded) == 1:
            return next(iter(loaded.values()))
        # Benchmarks keep their problems in `test` (MATH-500) or `train` (AIME); prefer test.
        for name in ("test", "train"):
            if name in loaded:
                return loaded[name]
    if split in loaded:
        return loaded[split]
    raise DataInputError(f"{source}: no split {split!r}; it has {', '.join(sorted(loaded))}")


def load_source(
    path_or_id: str,
    config: str | None = None,
    split: str | None = "train",
    **load_kwargs: Any,
) -> Dataset:
    """One split of a hub data set or local file/folder, as a `datasets.Dataset`.

    Args:
        path_or_id: a local path (see the module docstring) or a hub id.
        config: the hub config name (`load_dataset(name=...)`); ignored for local files.
        split: the split, with `datasets` slicing (`"train[:100]"`); None takes the only
            split, else `test`, else `train`. A single local file is the split `train`.
        **load_kwargs: passed on to `datasets.load_dataset` for hub ids.

    Raises:
        DataInputError: the file cannot be read, the suffix is unknown, or the split is
            missing; the message names the source.
    """
    import datasets

    path = os.path.expanduser(path_or_id)
    try:
        if os.path.isdir(path):
            if _is_saved_dataset(Path(path)):
                loaded = datasets.load_from_disk(path)
                if split is not None and "[" in split:
                    # load_from_disk knows no slicing; read the whole split, then slice.
                    name = split.split("[", 1)[0]
                    whole = _pick_split(loaded, name, path_or_id)
                    return _slice(whole, split, path_or_id)
                return _pick_split(loaded, split, path_or_id)
            return datasets.load_dataset(path, split=split or "train")
        if os.path.isfile(path):
            suffix = Path(path).suffix.lower()
            builder = _BUILDERS.get(suffix)
            if builder is None:
                raise DataInputError(
                    f"{path_or_id}: unknown file type {suffix!r}; use one of "
                    f"{', '.join(_BUILDERS)} or a saved data set folder"
                )
            return datasets.load_dataset(builder, data_files=path, split=split or "train")
        loaded = datasets.load_dataset(path_or_id, config, split=split, **load_kwargs)
        return _pick_split(loaded, split, path_or_id)
    except DataInputError:
        raise
    except (FileNotFoundError, OSError, ValueError, TypeError) as exc:
        # datasets reports offline hubs, bad JSON and unknown splits with these types;
        # one line that names the source is what the user needs.
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise DataInputError(f"cannot read {path_or_id!r}: {reason}") from exc
    except Exception as exc:
        # pyarrow and the hub client raise their own types for corrupt files and
        # unknown repositories; they all mean "this source cannot be read".
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise DataInputError(f"cannot read {path_or_id!r}: {type(exc).__name__}: {reason}") from exc


def load_source_splits(path_or_id: str, config: str | None = None) -> DatasetDict:
    """Every split of a source (`load_dataset(path_or_id, config)`); a local file is
    `{"train": rows}`."""
    import datasets

    path = os.path.expanduser(path_or_id)
    if os.path.isdir(path) and _is_saved_dataset(Path(path)):
        try:
            loaded = datasets.load_from_disk(path)
        except Exception as exc:
            raise DataInputError(f"cannot read {path_or_id!r}: {exc}") from exc
        if isinstance(loaded, datasets.Dataset):
            return datasets.DatasetDict({"train": loaded})
        return loaded
    if is_local(path_or_id):
        return datasets.DatasetDict({"train": load_source(path_or_id, split="train")})
    try:
        loaded = datasets.load_dataset(path_or_id, config)
    except Exception as exc:
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise DataInputError(f"cannot read {path_or_id!r}: {reason}") from exc
    if isinstance(loaded, datasets.Dataset):
        return datasets.DatasetDict({"train": loaded})
    return loaded


def _is_saved_dataset(path: Path) -> bool:
    return (path / "dataset_info.json").exists() or (path / "dataset_dict.json").exists()


def _slice(ds: Dataset, split: str, source: str) -> Dataset:
    """`split` slicing (`train[:10]`, `train[10%:]`) applied to an in-memory split."""
    from datasets import ReadInstruction

    try:
        instruction = ReadInstruction.from_spec(split)
        name = split.split("[", 1)[0]
        (absolute,) = instruction.to_absolute({name: len(ds)})
    except (ValueError, AssertionError) as exc:
        raise DataInputError(f"{source}: bad split {split!r}: {exc}") from exc
    start = absolute.from_ or 0
    stop = len(ds) if absolute.to is None else absolute.to
    return ds.select(range(start, stop))


def require_columns(ds: Dataset, columns: list[str], source: str) -> None:
    """Raise one clear error when `ds` lacks any of `columns`."""
    missing = [c for c in columns if c not in ds.column_names]
    if missing:
        raise DataInputError(
            f"{source}: no column {', '.join(repr(c) for c in missing)}; "
            f"it has {', '.join(ds.column_names)}"
        )


def write_dataset(ds: Dataset, out: str | os.PathLike[str]) -> Path:
    """Write `ds` to `out`: `.jsonl`/`.json` (JSON lines), `.parquet`, else a saved folder."""
    out_path = Path(out)
    suffix = out_path.suffix.lower()
    out_path.parent.mkdir(parents=True, exist_ok=True)
    if suffix in (".jsonl", ".json"):
        ds.to_json(str(out_path), lines=True, force_ascii=False)
    elif suffix == ".parquet":
        ds.to_parquet(str(out_path))
    else:
        ds.save_to_disk(str(out_path))
    logger.info("wrote %d rows to %s", len(ds), out_path)
    return out_path


def push_dataset(ds: Dataset, repo_id: str, private: bool = False) -> None:
    """Push `ds` to the Hub as data set repo `repo_id` (its `train` split).

    Public unless `private`, as `Dataset.push_to_hub`. A repo that already exists keeps
    its visibility (the Hub ignores `private` then).

    Raises:
        HubError: the Hub refused the push or could not be reached; the message says which.
    """
    from r1_data.errors import HubError

    try:
        ds.push_to_hub(repo_id, private=private)
    except OSError as exc:  # requests/httpx connection errors and HfHubHTTPError are OSErrors
        raise HubError(f"pushing to the Hub data set {repo_id!r} failed: {exc}") from exc
    logger.info("pushed %d rows to %s (%s)", len(ds), repo_id, "private" if private else "public")
