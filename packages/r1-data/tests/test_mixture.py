"""Mixtures: open-r1's `dataset_mixture` semantics on local files, plus r1's additions."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from r1_data.errors import DataError, DataInputError
from r1_data.mixture import (
    DatasetConfig,
    DatasetMixtureConfig,
    build_mixture,
    get_dataset,
    load_mixture_yaml,
)


@pytest.fixture
def sources(tmp_path, write_jsonl):
    a = write_jsonl(
        tmp_path / "a.jsonl",
        [{"prompt": f"a{i}", "solution": str(i), "extra": i} for i in range(40)],
    )
    b = tmp_path / "b.parquet"
    import datasets

    datasets.Dataset.from_list(
        [{"prompt": f"b{i}", "solution": str(i)} for i in range(20)]
    ).to_parquet(str(b))
    c = tmp_path / "c.csv"
    c.write_text("prompt,solution\n" + "".join(f"c{i},{i}\n" for i in range(10)))
    saved = tmp_path / "saved"
    datasets.Dataset.from_list(
        [{"prompt": f"s{i}", "solution": str(i)} for i in range(8)]
    ).save_to_disk(str(saved))
    return {"a": str(a), "b": str(b), "c": str(c), "saved": str(saved)}


def mix(datasets_, **kw):
    return SimpleNamespace(
        dataset_name=None, dataset_config=None, dataset_mixture={"datasets": datasets_, **kw}
    )


def test_unweighted_mixture_is_the_union(sources):
    # From Python, weight=None keeps every row (open-r1's test_unweighted_mixture).
    cfg = DatasetMixtureConfig(
        datasets=[DatasetConfig(id=sources["b"]), DatasetConfig(id=sources["c"])]
    )
    result, report = build_mixture(cfg)
    assert list(result) == ["train"]
    assert len(result["train"]) == 30
    assert [s.rows_used for s in report.sources] == [20, 10]


def test_weight_is_a_fraction_of_each_source_truncated(sources):
    # open-r1's test_weighted_mixture: len // 4 + len // 2.
    ds = get_dataset(
        mix(
            [
                {"id": sources["a"], "columns": ["prompt", "solution"], "weight": 0.25},
                {"id": sources["b"], "columns": ["prompt", "solution"], "weight": 0.55},
            ]
        )
    )
    assert len(ds["train"]) == 40 // 4 + int(20 * 0.55)
    prompts = ds["train"]["prompt"]
    assert sum(p.startswith("a") for p in prompts) == 10
    assert sum(p.startswith("b") for p in prompts) == 11


def test_weighted_rows_are_a_seeded_shuffle_then_prefix(sources):
    import datasets

    ds = get_dataset(mix([{"id": sources["a"], "columns": ["prompt"], "weight": 0.5}], seed=7))
    expected = datasets.load_dataset("json", data_files=sources["a"], split="train").select_columns(
        ["prompt"]
    )
    expected = expected.shuffle(seed=7).select(range(20))
    assert sorted(ds["train"]["prompt"]) == sorted(expected["prompt"])
    # The union is shuffled again with the same seed: deterministic across runs.
    again = get_dataset(mix([{"id": sources["a"], "columns": ["prompt"], "weight": 0.5}], seed=7))
    assert ds["train"]["prompt"] == again["train"]["prompt"]
    other = get_dataset(mix([{"id": sources["a"], "columns": ["prompt"], "weight": 0.5}], seed=8))
    assert ds["train"]["prompt"] != other["train"]["prompt"]


def test_weight_above_one_upsamples_instead_of_crashing(sources):
    ds, report = build_mixture(
        DatasetMixtureConfig.from_dict(
            {
                "datasets": [
                    {"id": sources["c"], "weight": 2.5},
                    {"id": sources["saved"], "weight": 1.0},
                ]
            }
        )
    )
    prompts = ds["train"]["prompt"]
    assert len(prompts) == 25 + 8
    counts = {p: prompts.count(p) for p in set(prompts) if p.startswith("c")}
    # Two full passes over the 10 rows plus half of a third: every row 2 or 3 times.
    assert sorted(counts.values()) == [2] * 5 + [3] * 5
    assert report.sources[0].rows_available == 10 and report.sources[0].rows_used == 25


def test_test_split_size(sources):
    ds = get_dataset(mix([{"id": sources["c"], "split": "train[:10]"}], test_split_size=0.2))
    assert set(ds) == {"train", "test"}
    assert (len(ds["train"]), len(ds["test"])) == (8, 2)


def test_split_slicing_on_local_files_and_saved_datasets(sources):
    ds = get_dataset(
        mix(
            [
                {"id": sources["a"], "split": "train[:5]", "columns": ["prompt"]},
                {"id": sources["saved"], "split": "train[2:4]", "columns": ["prompt"]},
            ]
        )
    )
    assert len(ds["train"]) == 7


def test_column_selection(sources):
    ds = get_dataset(mix([{"id": sources["a"], "columns": ["prompt", "solution"]}]))
    assert sorted(ds["train"].column_names) == ["prompt", "solution"]


def test_mismatched_column_lists_fail_with_open_r1s_message():
    with pytest.raises(DataInputError, match="Column names must be consistent"):
        DatasetMixtureConfig.from_dict(
            {"datasets": [{"id": "x", "columns": ["prompt"]}, {"id": "y", "columns": ["chosen"]}]}
        )


def test_no_name_and_no_mixture():
    with pytest.raises(
        DataError, match="Either `dataset_name` or `dataset_mixture` must be provided"
    ):
        get_dataset(SimpleNamespace(dataset_name=None, dataset_mixture=None))


def test_dataset_name_returns_every_split(sources):
    ds = get_dataset(
        SimpleNamespace(dataset_name=sources["a"], dataset_config=None, dataset_mixture=None)
    )
    assert list(ds) == ["train"] and len(ds["train"]) == 40


def test_missing_column_names_source_and_available_columns(sources):
    with pytest.raises(DataInputError, match=r"no column 'answer'; it has prompt, solution"):
        get_dataset(mix([{"id": sources["b"], "columns": ["prompt", "answer"]}]))


def test_sources_with_different_columns_explain_the_fix(sources):
    with pytest.raises(DataInputError, match=r"different columns.*columns:"):
        get_dataset(mix([{"id": sources["a"]}, {"id": sources["b"]}]))


@pytest.mark.parametrize(
    ("raw", "match"),
    [
        ({"sources": []}, "'datasets' key"),
        ({"datasets": "x"}, "must be a list"),
        ({"datasets": [{"id": "x", "weight": -1}]}, r"weight=-1 must be >= 0"),
        ({"datasets": [{"id": "x", "wieght": 1}]}, r"unknown key\(s\) \['wieght'\]"),
        ({"datasets": [], "seeds": 1}, r"unknown key\(s\) \['seeds'\]"),
        ({"datasets": [{"config": "x"}]}, "needs an `id`"),
        ({"datasets": [], "test_split_size": -0.1}, "test_split_size=-0.1"),
    ],
)
def test_bad_mixture_configs_name_the_field(raw, match):
    with pytest.raises(DataInputError, match=match):
        DatasetMixtureConfig.from_dict(raw)


def test_empty_mixture_is_an_error():
    with pytest.raises(DataInputError, match="No datasets were loaded"):
        build_mixture(DatasetMixtureConfig(datasets=[]))


def test_unreadable_and_unknown_sources(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text("{not json\n")
    with pytest.raises(DataInputError, match="cannot read"):
        get_dataset(mix([{"id": str(bad)}]))
    odd = tmp_path / "rows.txt2"
    odd.write_text("x")
    with pytest.raises(DataInputError, match=r"unknown file type '\.txt2'"):
        get_dataset(mix([{"id": str(odd)}]))
    # A hub id while offline: the real load_dataset runs and fails; one clear error.
    with pytest.raises(DataInputError, match="cannot read 'nobody/no-such-dataset'"):
        get_dataset(mix([{"id": "nobody/no-such-dataset"}]))


def test_yaml_file_or_whole_recipe(tmp_path, sources):
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(
        "model_name_or_path: x\n"
        "dataset_mixture:\n"
        f"  datasets:\n    - id: {sources['c']}\n      weight: 0.5\n"
        "  seed: 3\n"
    )
    cfg = load_mixture_yaml(recipe)
    assert cfg.seed == 3 and cfg.datasets[0].weight == 0.5
    with pytest.raises(DataInputError, match="cannot read mixture file"):
        load_mixture_yaml(tmp_path / "missing.yaml")


def test_a_folder_of_files_is_one_source(tmp_path, write_jsonl):
    folder = tmp_path / "shards"
    write_jsonl(folder / "part-0.jsonl", [{"prompt": "x0"}, {"prompt": "x1"}])
    write_jsonl(folder / "part-1.jsonl", [{"prompt": "x2"}])
    ds = get_dataset(mix([{"id": str(folder)}]))
    assert sorted(ds["train"]["prompt"]) == ["x0", "x1", "x2"]
