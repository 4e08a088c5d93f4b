"""Rendered scripts: valid bash, the site's conventions, and the right command on every node.

The multi-node tests run the rendered train script for 3 and 5 nodes with stand-ins for
`scontrol`, `srun`, `accelerate` and `trl` (tests/stubs): srun starts the command once per
node with its SLURM_PROCID, the stand-ins record what they were asked to run, and the
fake vLLM server answers the health check on its node's address (127.0.0.x).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from r1_slurm import (
    EvaluateSpec,
    GenerateSpec,
    JobOptions,
    SandboxWorkersSpec,
    ServeSpec,
    SiteConfig,
    TrainSpec,
    load_site,
    render_evaluate,
    render_generate,
    render_sandbox_workers,
    render_serve,
    render_train,
)
from r1_slurm.cli import main
from r1_slurm.errors import SlurmConfigError

STUBS = Path(__file__).parent / "stubs"


@pytest.fixture
def recipe(tmp_path: Path) -> Path:
    path = tmp_path / "grpo.yaml"
    path.write_text(
        "model_name_or_path: Qwen/Qwen2.5-1.5B-Instruct\n"
        "use_vllm: true\nvllm_mode: server\noutput_dir: data/out\n"
    )
    return path


def bash_n(script: str) -> None:
    done = subprocess.run(["bash", "-n"], input=script, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def directives(script: str) -> list[str]:
    return [line[len("#SBATCH ") :] for line in script.splitlines() if line.startswith("#SBATCH ")]


def test_every_kind_renders_valid_bash(recipe: Path, tmp_path: Path) -> None:
    site = SiteConfig()
    scripts = [
        render_train(TrainSpec(stage="grpo", config=str(recipe), nodes=2,
                               accelerate_config="none"), site),
        render_train(TrainSpec(stage="sft", config=str(recipe), accelerate_config="none",
                               vllm_nodes=0), site),
        render_generate(GenerateSpec(model="m", dataset="d.jsonl", output="o.jsonl"), site),
        render_evaluate(EvaluateSpec(model="m", tasks="aime24"), site),
        render_evaluate(EvaluateSpec(model="m", tasks="aime24", backend="endpoint",
                                     base_url="http://h:1/v1"), site),
        render_serve(ServeSpec(model="m", engine="sglang"), site),
        *render_sandbox_workers(SandboxWorkersSpec(count=2), site),
    ]  # fmt: skip
    for rendered in scripts:
        assert rendered.script.startswith("#!/bin/bash\n")
        bash_n(rendered.script)


def test_dry_run_prints_only_the_script(recipe: Path, capsys: pytest.CaptureFixture) -> None:
    argv = ["submit", "train", "--stage", "grpo", "--config", str(recipe), "--nodes", "3",
            "--accelerate-config", "none", "--partition", "short", "--dry-run",
            "--", "--learning_rate", "1e-5"]  # fmt: skip
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert out.startswith("#!/bin/bash\n")
    bash_n(out)
    assert "--partition=short" in directives(out)
    assert "--learning_rate 1e-5" in out


def test_site_file_sets_the_cluster(tmp_path: Path, recipe: Path) -> None:
    site_file = tmp_path / "r1-slurm.toml"
    site_file.write_text(
        '[slurm]\npartition = "hopper-prod"\ngpus_per_node = 4\n'
        'gpu_request = "--gpus-per-node={gpus}"\nsbatch_options = ["--constraint=h100"]\n'
        '[environment]\nmodules = ["cuda/12.4", "gcc"]\nsetup = ["ulimit -n 4096"]\n'
        'activate = "/opt/venvs/r1"\n[environment.env]\nNCCL_DEBUG = "WARN"\n'
        '[paths]\nhf_home = "/fsx/hf"\ncache_dir = "/scratch/c"\nlog_dir = "slurm-logs"\n'
    )
    site = load_site(site_file)
    rendered = render_train(
        TrainSpec(stage="grpo", config=str(recipe), nodes=2, accelerate_config="none"),
        site,
        JobOptions(partition="debug", time="01:00:00"),
    )
    lines = directives(rendered.script)
    # Flags win over the file; the file's GPU syntax and extra options are used as written.
    assert "--partition=debug" in lines and "--time=01:00:00" in lines
    assert "--gpus-per-node=4" in lines and "--constraint=h100" in lines
    assert not any(line.startswith("--gres") for line in lines)
    script = rendered.script
    assert "module load cuda/12.4 gcc\nulimit -n 4096\nexport VIRTUAL_ENV=/opt/venvs/r1\n" in script
    for line in ("export NCCL_DEBUG=WARN", "export HF_HOME=/fsx/hf",
                 "export TRITON_CACHE_DIR=/scratch/c/triton"):  # fmt: skip
        assert line in script
    assert rendered.log == str(Path.cwd() / "slurm-logs" / "%x-%j.log")
    # 4 GPUs, tp 1: the vLLM node runs 4 data-parallel copies; the trainer 4 processes per node.
    assert "--data_parallel_size 4" in script and "--num_processes 4" in script


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ('[slurm]\npartiton = "x"\n', r"unknown key 'partiton' in \[slurm\]; valid: partition"),
        ('[cluster]\npartition = "x"\n', r"unknown table \[cluster\]"),
        ('[slurm]\ngpu_request = "--gres=gpu:8"\n', r"must contain \{gpus\}"),
        ('[slurm]\npartition = "a\\n#SBATCH --x"\n', "one non-empty line"),
        ('[environment]\nactivate = "conda"\n', "activate='conda'"),
    ],
)
def test_bad_site_files_name_the_field(tmp_path: Path, text: str, match: str) -> None:
    path = tmp_path / "r1-slurm.toml"
    path.write_text(text)
    with pytest.raises(SlurmConfigError, match=match):
        load_site(path)


def test_job_runs_in_the_environment_it_was_submitted_from(recipe: Path) -> None:
    spec = TrainSpec(stage="sft", config=str(recipe), vllm_nodes=0, accelerate_config="none")
    auto = render_train(spec, SiteConfig()).script
    # The tests run in the workspace virtualenv: that is what the job activates.
    assert sys.prefix != sys.base_prefix
    assert f"export VIRTUAL_ENV={sys.prefix}\n" in auto
    uv = render_train(spec, SiteConfig(activate="uv")).script
    assert f"uv run --frozen --project {Path.cwd()} python" in uv
    none = render_train(spec, SiteConfig(activate="none")).script
    assert "VIRTUAL_ENV" not in none and "uv run" not in none


def test_vllm_server_needs_a_node_of_its_own(recipe: Path) -> None:
    with pytest.raises(SlurmConfigError, match=r"takes a node of its own.*--nodes 2"):
        render_train(TrainSpec(stage="grpo", config=str(recipe), nodes=1), SiteConfig())
    with pytest.raises(SlurmConfigError, match="only GRPO"):
        render_train(TrainSpec(stage="sft", config=str(recipe), nodes=2), SiteConfig())
    with pytest.raises(SlurmConfigError, match="one vLLM server"):
        TrainSpec(stage="grpo", config=str(recipe), nodes=4, vllm_nodes=2)


def test_quoting_survives_hostile_paths(tmp_path: Path) -> None:
    odd = tmp_path / "it's a recipe; rm -rf x.yaml"
    odd.write_text("model_name_or_path: m\n")
    rendered = render_train(
        TrainSpec(stage="sft", config=str(odd), accelerate_config="none",
                  overrides=["--run_name", "$(touch pwned)"]),
        SiteConfig(),
    )  # fmt: skip
    bash_n(rendered.script)
    assert "'$(touch pwned)'" in rendered.script


def test_evaluate_parallelism_is_r1_evals_unless_forced(tmp_path: Path) -> None:
    # auto: no sizes in the script; r1-eval applies open-r1's rule where it sees the GPUs.
    auto = render_evaluate(EvaluateSpec(model="org/Qwen-32B", tasks="aime24"), SiteConfig())
    assert "--backend vllm" in auto.script and "parallel-size" not in auto.script
    data = EvaluateSpec(model="org/Qwen-32B", tasks="aime24", parallel="data")
    assert (
        "--tensor-parallel-size 1 --data-parallel-size 8"
        in render_evaluate(data, SiteConfig()).script
    )
    tensor = EvaluateSpec(model="org/Qwen-7B", tasks="aime24", parallel="tensor")
    assert (
        "--tensor-parallel-size 8 --data-parallel-size 1"
        in render_evaluate(tensor, SiteConfig()).script
    )
    endpoint = render_evaluate(
        EvaluateSpec(model="m", tasks="math_500", backend="endpoint", base_url="http://x:1/v1",
                     dataset=["math_500=data/m.jsonl"], n=4),
        SiteConfig(),
    )  # fmt: skip
    assert not any(line.startswith("--gres") for line in directives(endpoint.script))
    assert "--backend endpoint --base-url http://x:1/v1 --dataset math_500=data/m.jsonl --n 4" in (
        endpoint.script
    )


def _run_stubbed(script: str, nodes: list[str], tmp_path: Path) -> list[dict]:
    record = tmp_path / "record.jsonl"
    env = {
        **os.environ,
        "PATH": f"{STUBS}:{Path(sys.executable).parent}:{os.environ['PATH']}",
        "FAKE_NODES": ",".join(nodes),
        "FAKE_RECORD": str(record),
        "SLURM_JOB_ID": "4242",
        "SLURM_JOB_NODELIST": ",".join(nodes),
    }
    done = subprocess.run(
        ["bash", "-c", script], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return [json.loads(line) for line in record.read_text().splitlines()]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("count", [3, 5])
def test_multi_node_train_runs_the_right_command_on_every_node(
    recipe: Path, tmp_path: Path, count: int
) -> None:
    nodes = [f"127.0.0.{i + 1}" for i in range(count)]
    port = _free_port()
    site = SiteConfig(activate="none", gpus_per_node=8)
    spec = TrainSpec(stage="grpo", config=str(recipe), nodes=count, accelerate_config="none",
                     vllm_tp=2, vllm_port=port, overrides=["--max_steps", "10"])  # fmt: skip
    records = _run_stubbed(render_train(spec, site).script, nodes, tmp_path)

    # The last node serves TRL's vLLM with the recipe's model, 2 x 4 GPUs.
    (server,) = [r for r in records if r["tool"] == "trl"]
    assert server["node"] == nodes[-1]
    argv = server["argv"]
    assert argv[:3] == ["vllm-serve", "--model", "Qwen/Qwen2.5-1.5B-Instruct"]
    assert argv[argv.index("--tensor_parallel_size") + 1] == "2"
    assert argv[argv.index("--data_parallel_size") + 1] == "4"

    # Every other node runs accelerate once, with its own rank and the same rendezvous.
    launches = sorted((r for r in records if r["tool"] == "accelerate"), key=lambda r: r["node"])
    assert [r["node"] for r in launches] == nodes[:-1]
    for rank, launch in enumerate(launches):
        a = launch["argv"]

        def value(flag: str, a: list[str] = a) -> str:
            return a[a.index(flag) + 1]

        assert a[0] == "launch"
        assert value("--machine_rank") == str(rank) == launch["procid"]
        assert value("--num_machines") == str(count - 1)
        assert value("--num_processes") == str(8 * (count - 1))
        assert value("--main_process_ip") == nodes[0]
        assert value("--main_process_port") == str(20000 + 4242 % 20000)
        assert value("--rdzv_backend") == "c10d"
        trainer = a[a.index("-m") :]
        assert trainer[:5] == ["-m", "r1_train.cli", "grpo", "--config", str(recipe.resolve())]
        assert value("--vllm_server_host") == nodes[-1]
        assert value("--vllm_server_port") == str(port)
        assert value("--max_steps") == "10"


def test_multi_node_colocate_trains_on_every_node(tmp_path: Path) -> None:
    recipe = tmp_path / "colocate.yaml"
    recipe.write_text("model_name_or_path: m\nuse_vllm: true\nvllm_mode: colocate\n")
    nodes = [f"127.0.0.{i + 1}" for i in range(5)]
    spec = TrainSpec(stage="grpo", config=str(recipe), nodes=5, accelerate_config="none")
    records = _run_stubbed(render_train(spec, SiteConfig(activate="none")).script, nodes, tmp_path)
    assert not [r for r in records if r["tool"] == "trl"]
    launches = [r for r in records if r["tool"] == "accelerate"]
    assert sorted(r["node"] for r in launches) == nodes
    assert all("--vllm_server_host" not in r["argv"] for r in launches)
    assert {r["argv"][r["argv"].index("--num_processes") + 1] for r in launches} == {"40"}


def test_the_example_site_file_loads_and_renders(recipe: Path) -> None:
    example = Path(__file__).parents[1] / "examples" / "r1-slurm.toml"
    site = load_site(example)
    assert site.partition == "hopper-prod" and site.modules == ["cuda/12.4"]
    rendered = render_train(
        TrainSpec(stage="grpo", config=str(recipe), nodes=2, accelerate_config="none"), site
    )
    bash_n(rendered.script)
    assert "--constraint=h100" in directives(rendered.script)
    assert "export HF_HOME=/fsx/me/.cache/huggingface" in rendered.script
