"""The package surface: __all__, a light import, and the distilabel extra."""

from __future__ import annotations

import subprocess
import sys

import pytest

import r1_data
from r1_data.errors import MissingExtraError


def test_all_is_pinned():
    assert r1_data.__all__ == [
        "DatasetConfig",
        "DatasetMixtureConfig",
        "MixtureReport",
        "build_mixture",
        "get_dataset",
        "load_mixture_yaml",
        "load_source",
        "write_dataset",
        "GenerateConfig",
        "GenerationReport",
        "PRESETS",
        "generate",
        "generate_sync",
        "EndpointConfig",
        "ChatClient",
        "Journal",
        "build_distilabel_pipeline",
        "Benchmark",
        "DEFAULT_BENCHMARKS",
        "DecontaminateConfig",
        "contamination_flags",
        "decontaminate",
        "reference_flags",
        "PassRateConfig",
        "load_pass_rate_recipe",
        "pass_rate",
        "pass_rate_sync",
        "DataError",
        "DataInputError",
        "EndpointError",
        "HubError",
        "MissingExtraError",
    ]
    for name in r1_data.__all__:
        assert getattr(r1_data, name) is not None, name
    with pytest.raises(AttributeError):
        r1_data.no_such_name  # noqa: B018


def test_import_and_help_are_light():
    code = (
        "import sys, r1_data, r1_data.cli\n"
        "heavy = {'torch', 'transformers', 'trl', 'datasets', 'numpy', 'aiohttp', 'distilabel'}\n"
        "print(sorted(heavy & set(sys.modules)))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_no_stage_imports_the_training_stack():
    code = (
        "import sys\n"
        "import r1_data.mixture, r1_data.generation, r1_data.decontamination, r1_data.filtering\n"
        "print(sorted({'torch', 'transformers', 'trl'} & set(sys.modules)))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_stage_functions_are_not_shadowed_by_their_modules():
    # Importing a submodule binds its name on the package: a module named like the function
    # it exports (r1_data/generate.py once) turned `r1_data.generate(cfg)` into a module.
    code = (
        "import r1_data.generation, r1_data.decontamination, r1_data.mixture, r1_data.filtering\n"
        "import r1_data\n"
        "print([callable(getattr(r1_data, n)) for n in r1_data.__all__ if n.islower()])\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "False" not in done.stdout and "True" in done.stdout


def test_distilabel_missing_extra_names_the_install(monkeypatch):
    from r1_data.distilabel_pipeline import build_distilabel_pipeline

    monkeypatch.setitem(sys.modules, "distilabel", None)
    monkeypatch.setitem(sys.modules, "distilabel.models", None)
    with pytest.raises(MissingExtraError, match=r'pip install "r1-data\[distilabel\]"'):
        build_distilabel_pipeline(model="m")


def test_distilabel_pipeline_has_open_r1s_shape():
    pytest.importorskip("distilabel", reason="the distilabel extra is not installed")
    from r1_data.distilabel_pipeline import build_distilabel_pipeline

    pipeline = build_distilabel_pipeline(
        model="teacher",
        base_url="http://127.0.0.1:1/v1",
        prompt_column="problem",
        temperature=0.6,
        num_generations=4,
        timeout=30,
    )
    (step,) = [pipeline.dag.get_step(name)["step"] for name in pipeline.dag]
    assert type(step).__name__ == "TextGeneration"
    assert step.num_generations == 4 and step.group_generations is True
    assert step.input_mappings == {"instruction": "problem"}
    assert step.llm.model == "teacher" and step.llm.generation_kwargs == {
        "max_new_tokens": 8192,
        "temperature": 0.6,
    }


@pytest.mark.slow
def test_generate_engine_distilabel_runs_against_the_server(
    tmp_path, openai_server, write_jsonl, read_jsonl
):
    pytest.importorskip("distilabel", reason="the distilabel extra is not installed")
    data = write_jsonl(tmp_path / "p.jsonl", [{"problem": f"p{i}"} for i in range(3)])
    out = tmp_path / "d.jsonl"
    code = subprocess.run(
        [
            sys.executable,
            "-m",
            "r1_data.cli",
            "generate",
            "--engine",
            "distilabel",
            "--dataset",
            str(data),
            "--prompt-column",
            "problem",
            "--output",
            str(out),
            "--base-url",
            openai_server.url,
            "--model",
            "teacher",
            "--num-generations",
            "2",
            "--prompt-template",
            "Q: {prompt} \\boxed{{}}",
        ],
        capture_output=True,
        text=True,
        timeout=240,
        cwd=tmp_path,
    )
    assert code.returncode == 0, code.stderr[-3000:]
    rows = read_jsonl(out)
    assert sorted(r["problem"] for r in rows) == ["p0", "p1", "p2"]
    assert all(len(r["generation"]) == 2 for r in rows)
    sent = {b["messages"][-1]["content"] for b in openai_server.bodies}
    assert sent == {"Q: p0 \\boxed{}", "Q: p1 \\boxed{}", "Q: p2 \\boxed{}"}
