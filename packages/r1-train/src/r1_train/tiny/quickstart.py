"""The whole R1 recipe on a CPU, each stage through the command a real run uses.

DeepSeek-R1's final pipeline is (1) traces from a strong teacher, cleaned of benchmark
problems, (2) SFT of a student on them (distillation), (3) GRPO with rule-based rewards,
(4) pass@1 on held-out problems. `r1-train quickstart` runs exactly that chain on column
addition and a 0.15 M-parameter Qwen2, with every stage a subprocess of its real entry
point, so what it shows is what a user's cluster run does, not a hand-built copy:

    1. teacher traces    `r1-data generate` against the addition teacher served over
                         HTTP on 127.0.0.1 (`teacher.py`); killed on purpose part-way and
                         run again, so the journal's resume is part of the run
    2. decontamination   `r1-data decontaminate` of the training prompts against the
                         held-out set (0 rows, or exactly the ones `--plant-contamination`
                         copied in); each training problem then gets the prompt it will
                         be evaluated under, from `r1-eval prompts math_500`
    3. initial student   `python -m r1_train.tiny.tiny_model`: a BPE and a random Qwen2
    4. SFT               `r1-train sft --config recipes/tiny/sft.yaml`
    5. GRPO              `r1-train grpo --config recipes/tiny/grpo.yaml` from the SFT
                         checkpoint, rewards from r1-rewards
    6. evaluation        `r1-eval run --tasks math_500` on each checkpoint (initial, SFT,
                         GRPO), the held-out set as a local MATH-500: pass@1 over n
                         samples, each one in the background while the next one trains
    7. report            a table, `quickstart.png` (loss, reward curves, pass@1 per stage)
                         and a note on what the numbers mean

Why subprocesses and files, when one Python process would be faster (each stage pays
~5-10 s of imports)? Because the seams are the product: a recipe key TRL renamed, a
generate flag that changed, a checkpoint that does not reload, all fail here, on a laptop,
instead of on a rented cluster. Each stage's command line is printed and can be rerun
alone. SFT is stopped early on purpose (see recipes/tiny/sft.yaml) so that GRPO has room
to show what reward alone adds; the report says so. Scoring goes through `r1-eval run`, the
command that scores every model of the project, so the student trains on the very messages
that command sends (lighteval's MATH-500 prompt; a student trained on bare problems scored
0.000 under it). Its cost, a lighteval import per command (20-50 s), is hidden by running
it on the second core while training uses one.

Data flow: seeded addition problems -> prompts.jsonl -> (HTTP teacher) traces.jsonl ->
traces.clean.jsonl + prompts.math_500.jsonl -> sft.jsonl / grpo.jsonl (heldout/test.jsonl
held out) -> init/ -> sft/ -> grpo/ -> (r1-eval run) eval/<stage>/summary.json ->
summary.json, report.md, quickstart.png.
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import json
import logging
import os
import random
import re
import shlex
import shutil
import subprocess
import sys
import threading
import time
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from r1_train.tiny.addition import split_problems

logger = logging.getLogger(__name__)

STAGES = ("init", "sft", "grpo")  # the checkpoints evaluated, in order
# The addition problems are four words ("Add 57 and 68."): open-r1's 8-grams could never
# match one, even a verbatim copy; a 4-gram match is an identical problem.
NGRAM_SIZE = 4
# The r1-eval task the held-out set is scored as, and whose prompt the student trains on.
TASK = "math_500"


class QuickstartError(RuntimeError):
    """A stage failed; the message names it, its command and the end of its log."""


@dataclass
class QuickstartConfig:
    """Every knob of the tiny run; None means the recipe's value (or --fast's)."""

    output_dir: str = field(
        default="runs/quickstart",
        metadata={"help": "Folder of the run: data, checkpoints, logs, report and figure."},
    )
    seed: int = field(
        default=0, metadata={"help": "Seed of the problems, the weights and the trainers."}
    )
    fast: bool = field(
        default=False,
        metadata={
            "help": "A smaller run (fewer problems and GRPO steps, about two thirds of the "
            "time) that still shows every effect; the tests use it."
        },
    )
    n_sft: int | None = field(
        default=None, metadata={"help": "SFT problems with teacher traces (3000; fast 2000)."}
    )
    n_grpo: int | None = field(
        default=None,
        metadata={"help": "GRPO prompts, one pass of 8 per step (800; fast 480)."},
    )
    n_eval: int | None = field(
        default=None, metadata={"help": "Held-out problems per evaluation (200; fast 100)."}
    )
    eval_samples: int = field(
        default=4, metadata={"help": "Samples per held-out problem for pass@1 (the n of pass@1)."}
    )
    sft_steps: int | None = field(
        default=None, metadata={"help": "SFT steps (the recipe's 400; fast 350)."}
    )
    grpo_steps: int | None = field(
        default=None, metadata={"help": "GRPO steps (the recipe's 100; fast 60)."}
    )
    plant_contamination: int = field(
        default=0,
        metadata={
            "help": "Copy this many held-out problems into the training prompts, to watch "
            "decontamination find and drop exactly them."
        },
    )
    interrupt_generate: bool = field(
        default=True,
        metadata={
            "help": "Kill the first `r1-data generate` part-way (SIGKILL) and run it again, "
            "to show that its journal resumes with nothing lost or duplicated."
        },
    )
    sft_recipe: str = field(
        default="recipes/tiny/sft.yaml", metadata={"help": "The SFT recipe (YAML)."}
    )
    grpo_recipe: str = field(
        default="recipes/tiny/grpo.yaml", metadata={"help": "The GRPO recipe (YAML)."}
    )
    tokenizer_path: str | None = field(
        default=None,
        metadata={
            "help": "A real tokenizer folder (e.g. DeepSeek-R1-Distill-Qwen's) instead of the "
            "tiny BPE; every step is then ~20x slower."
        },
    )
    report_every: int = field(
        default=10, metadata={"help": "Print a training line every N logged steps."}
    )

    def __post_init__(self) -> None:
        for name in ("n_sft", "n_grpo", "n_eval", "sft_steps", "grpo_steps"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ValueError(f"{name}={value!r}: must be >= 1 (or unset for the default)")
        for name in ("eval_samples", "report_every"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name}={getattr(self, name)!r}: must be >= 1")
        if self.plant_contamination < 0:
            raise ValueError(f"plant_contamination={self.plant_contamination!r}: must be >= 0")
        defaults = _FAST if self.fast else _FULL
        for name, value in defaults.items():
            if getattr(self, name) is None:
                setattr(self, name, value)
        if self.plant_contamination > self.n_eval:  # type: ignore[operator]
            raise ValueError(
                f"plant_contamination={self.plant_contamination}: at most n_eval={self.n_eval} "
                "held-out problems can be planted"
            )


# The full run is the recipes' settings, measured to learn on a 2-core CPU (SPEC section 5).
# SFT is stopped where the student is right a quarter to a half of the time under r1-eval's
# MATH-500 prompt, so that GRPO has mixed groups to learn from: on 3000 traces, 350 steps
# left seeds 1 and 2 at pass@1 0.13 and 0.18 and 100 GRPO steps barely moved them (0.18,
# 0.19); 400 steps leave 0.30 and 0.21, and GRPO lifts them to 0.54 and 0.40. The fast run
# has fewer traces, so fewer steps reach the same point (2000 traces, seed 0: 0.03 at 200
# steps, 0.27 at 300, 0.46 at 350, 0.90 at 500, T=0.6), and fewer GRPO steps (~1 s each):
# from 350, 0.46 -> 0.65 in 60.
_FULL: dict[str, int | None] = {
    "n_sft": 3000,
    "n_grpo": 800,
    "n_eval": 200,
    "sft_steps": None,
    "grpo_steps": None,
}
_FAST: dict[str, int | None] = {
    "n_sft": 2000,
    "n_grpo": 480,
    "n_eval": 100,
    "sft_steps": 350,
    "grpo_steps": 60,
}


# -- the command line, generated from the dataclass ------------------------------------------


def make_parser() -> argparse.ArgumentParser:
    """`r1-train quickstart` flags, one per `QuickstartConfig` field, help from its metadata."""
    parser = argparse.ArgumentParser(
        prog="r1-train quickstart",
        description="The whole R1 recipe on a tiny model on the CPU, each stage through its "
        "real command: teacher traces (r1-data generate, against a local HTTP teacher), "
        "decontamination (r1-data decontaminate), SFT and GRPO (r1-train sft|grpo --config "
        "recipes/tiny/...), pass@1 of every checkpoint; then a table, a figure and a note. "
        "No GPU, no download; a few minutes on two cores.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    hints = typing.get_type_hints(QuickstartConfig)
    for f in dataclasses.fields(QuickstartConfig):
        flag = "--" + f.name.replace("_", "-")
        kind = hints[f.name]
        if kind is bool:
            parser.add_argument(
                flag,
                action=argparse.BooleanOptionalAction,
                default=f.default,
                help=f.metadata["help"],
            )
            continue
        args = typing.get_args(kind)
        if isinstance(kind, types.UnionType):  # `int | None`: the non-None member
            kind = next(a for a in args if a is not type(None))
        parser.add_argument(flag, type=kind, default=f.default, help=f.metadata["help"])
    return parser


def config_from_args(args: argparse.Namespace) -> QuickstartConfig:
    """The config of parsed flags; a bad value exits with the field's message (status 2)."""
    try:
        return QuickstartConfig(**vars(args))
    except ValueError as exc:
        raise SystemExit(f"r1-train quickstart: {exc}") from None


# -- the result ----------------------------------------------------------------------------------


@dataclass
class StageRun:
    """One stage as it ran: its command (to rerun it alone), its time and its log."""

    name: str
    commands: list[str]
    seconds: float
    log: str
    facts: dict[str, Any] = field(default_factory=dict)


@dataclass
class QuickstartResult:
    output_dir: Path
    stages: list[StageRun]
    evaluations: dict[str, dict[str, Any]]  # stage -> r1-eval task summary (pass@1, ...)
    sft_losses: list[tuple[int, float]]
    grpo_log: list[dict[str, float]]  # the GRPO trainer's log history, one dict per step
    figure: Path
    report: str

    def stage(self, name: str) -> StageRun:
        return next(s for s in self.stages if s.name == name)

    def pass_at_1(self, stage: str) -> float:
        return float(self.evaluations[stage]["pass@1"])


# -- running one stage ------------------------------------------------------------------------


def _entry_point(name: str, module: str) -> list[str]:
    """A console script of this environment, else `python -m module`."""
    script = Path(sys.executable).parent / name
    if script.exists():
        return [str(script)]
    found = shutil.which(name)
    return [found] if found else [sys.executable, "-m", module]


def _display(argv: list[str]) -> str:
    """The command as a user would type it (console scripts by name, paths as given)."""
    head = "python" if argv[0] == sys.executable else Path(argv[0]).name
    return shlex.join([head, *argv[1:]])


def _stage_env() -> dict[str, str]:
    env = dict(os.environ)
    # One thread per stage unless the user says otherwise. A 0.14 M model gains nothing from
    # a second thread, and OpenMP threads spin-wait for each other: on a shared 2-core machine
    # (load 13) 40 SFT steps took 220 s with two threads and 18 s with one.
    env.setdefault("OMP_NUM_THREADS", "1")
    env.setdefault("MKL_NUM_THREADS", "1")
    # Offline by construction: a stage that tried to download would fail at once, not hang.
    env.update(
        HF_HUB_OFFLINE="1",
        HF_DATASETS_OFFLINE="1",
        TOKENIZERS_PARALLELISM="false",
        PYTHONUNBUFFERED="1",
        WANDB_MODE="disabled",
    )
    return env


def _stream(argv: list[str], log: Path, on_line: Callable[[str], None] | None = None) -> int:
    """Run `argv`, every output line to `log` (and `on_line`); returns the exit status."""
    with open(log, "a", encoding="utf-8") as sink:
        sink.write(f"$ {_display(argv)}\n")
        sink.flush()
        with subprocess.Popen(
            argv,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
            env=_stage_env(),
        ) as proc:
            assert proc.stdout is not None
            for line in proc.stdout:
                sink.write(line)
                sink.flush()
                if on_line is not None:
                    on_line(line.rstrip("\n"))
            return proc.wait()


def _check(status: int, stage: str, argv: list[str], log: Path) -> None:
    if status != 0:
        tail = "\n".join(log.read_text(encoding="utf-8").splitlines()[-15:])
        raise QuickstartError(
            f"stage {stage!r} failed (exit status {status}): {_display(argv)}\n"
            f"last lines of {log}:\n{tail}"
        )


def _log_dicts(on_dict: Callable[[dict[str, Any]], None]) -> Callable[[str], None]:
    """A line handler that parses the trainer's printed log dicts (`{'loss': ...}`)."""

    def handle(line: str) -> None:
        text = line.strip()
        if not (text.startswith("{") and text.endswith("}")):
            return
        try:
            logs = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            return
        if isinstance(logs, dict) and "train_runtime" not in logs:
            on_dict(logs)

    return handle


@dataclass
class BackgroundJob:
    """A command running beside the stages (its own log); `finish` waits and checks it."""

    name: str
    argv: list[str]
    log: Path
    proc: subprocess.Popen[bytes]
    started: float
    ended: list[float] = field(default_factory=list)  # set by the watcher thread

    @classmethod
    def start(cls, name: str, argv: list[str], log: Path) -> BackgroundJob:
        with open(log, "w", encoding="utf-8") as sink:
            sink.write(f"$ {_display(argv)}\n")
            sink.flush()
            proc = subprocess.Popen(argv, stdout=sink, stderr=subprocess.STDOUT, env=_stage_env())
        job = cls(name, argv, log, proc, time.perf_counter())
        # The job's own time, not the time until someone waited for it.
        threading.Thread(target=job._watch, name=f"watch-{name}", daemon=True).start()
        return job

    def _watch(self) -> None:
        self.proc.wait()
        self.ended.append(time.perf_counter())

    def finish(self) -> float:
        """Wait for the job; its seconds, or QuickstartError with its log if it failed."""
        _check(self.proc.wait(), self.name, self.argv, self.log)
        while not self.ended:  # the watcher records the end right after wait() returns
            time.sleep(0.01)
        return self.ended[0] - self.started

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


# -- phases ----------------------------------------------------------------------------------


def _write_jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def write_problems(cfg: QuickstartConfig, data: Path) -> dict[str, Any]:
    """Seed prompts (training) and the held-out set; plants copies of held-out problems."""
    assert cfg.n_sft and cfg.n_grpo and cfg.n_eval  # resolved by __post_init__
    sft_p, grpo_p, eval_p = split_problems(cfg.seed, cfg.n_sft, cfg.n_grpo, cfg.n_eval, (2, 2))
    planted = random.Random(cfg.seed).sample(eval_p, cfg.plant_contamination)
    # Planted copies sit among the SFT prompts, where a contaminated trace would do harm.
    training = [("sft", p) for p in sft_p + planted] + [("grpo", p) for p in grpo_p]
    _write_jsonl(
        data / "prompts.jsonl",
        [
            {"id": i, "split": split, "problem": p.prompt, "solution": p.answer}
            for i, (split, p) in enumerate(training)
        ],
    )
    # The held-out set as a local copy of MATH-500 (a directory of `test.jsonl` with its
    # `problem` and `answer` columns), which `r1-eval run --dataset math_500=DIR` reads.
    (data / "heldout").mkdir(parents=True, exist_ok=True)
    _write_jsonl(
        data / "heldout" / "test.jsonl",
        [{"id": i, "problem": p.prompt, "answer": p.answer} for i, p in enumerate(eval_p)],
    )
    return {
        "training_prompts": len(training),
        "held_out": len(eval_p),
        "planted": sorted(p.prompt for p in planted),
    }


def _count_lines(path: Path) -> int:
    """Complete lines only: a row torn by a kill is cut by the next run, not counted."""
    try:
        return path.read_bytes().count(b"\n")
    except FileNotFoundError:
        return 0


def run_generate(
    cfg: QuickstartConfig, out: Path, log: Path, report: Callable[[str], None]
) -> StageRun:
    """Stage 1: `r1-data generate` against the HTTP teacher, interrupted once and resumed."""
    from r1_train.tiny.teacher import MODEL_NAME, serve_teacher

    data = out / "data"
    traces = data / "traces.jsonl"
    rows = _count_lines(data / "prompts.jsonl")
    t0 = time.perf_counter()
    facts: dict[str, Any] = {"prompts": rows}
    with serve_teacher() as url:
        argv = [
            *_entry_point("r1-data", "r1_data.cli"),
            "generate",
            "--dataset", str(data / "prompts.jsonl"),
            "--prompt-column", "problem",
            "--uuid-column", "id",
            "--output", str(traces),
            "--base-url", url,
            "--model", MODEL_NAME,
            "--max-concurrency", "32",
            "--max-tokens", "128",
            "--timeout", "60",
            "--no-progress",
        ]  # fmt: skip
        report(f"      teacher: {MODEL_NAME} at {url} (python -m r1_train.tiny.teacher)")
        report(f"      $ {_display(argv)}")
        if cfg.interrupt_generate:
            facts["killed_at_rows"] = _kill_part_way(argv, traces, log, rows // 3)
            report(f"      killed after {facts['killed_at_rows']} of {rows} rows; running it again")
        lines: list[str] = []
        status = _stream(argv, log, lines.append)
        _check(status, "generate", argv, log)
    summary = next((line for line in lines if "rows generated" in line), "")
    found = re.search(r"(\d+) rows generated, (\d+) already done", summary)
    if found:
        facts["generated"], facts["already_done"] = int(found[1]), int(found[2])
    written = _read_jsonl(traces)
    facts["rows_written"] = len(written)
    facts["distinct_ids"] = len({r["id"] for r in written})
    report(f"      {summary.split(' -> ')[0]}")
    return StageRun("generate", [_display(argv)], time.perf_counter() - t0, str(log), facts)


def _kill_part_way(argv: list[str], journal: Path, log: Path, after_rows: int) -> int:
    """Start `argv`, SIGKILL it once `journal` holds `after_rows` lines; rows at the kill."""
    with open(log, "a", encoding="utf-8") as sink:
        sink.write(f"$ {_display(argv)}   # killed part-way on purpose\n")
        sink.flush()
        proc = subprocess.Popen(argv, stdout=sink, stderr=subprocess.STDOUT, env=_stage_env())
        while proc.poll() is None and _count_lines(journal) < after_rows:
            time.sleep(0.02)
        proc.kill()
        proc.wait()
    return _count_lines(journal)


def run_decontaminate(out: Path, log: Path, report: Callable[[str], None]) -> StageRun:
    """Stage 2: drop training rows that share a 4-gram (a whole problem) with the held-out set."""
    data = out / "data"
    t0 = time.perf_counter()
    argv = [
        *_entry_point("r1-data", "r1_data.cli"),
        "decontaminate",
        "--dataset", str(data / "traces.jsonl"),
        "--problem-column", "problem",
        "--output", str(data / "traces.clean.jsonl"),
        "--benchmark", f"heldout={data / 'heldout' / 'test.jsonl'}:problem",
        "--ngram-size", str(NGRAM_SIZE),
        "--cleanup",
        "--num-proc", "1",
        "--no-progress",
    ]  # fmt: skip
    report(f"      $ {_display(argv)}")
    lines: list[str] = []
    _check(_stream(argv, log, lines.append), "decontaminate", argv, log)
    before = _read_jsonl(data / "traces.jsonl")
    after = _read_jsonl(data / "traces.clean.jsonl")
    kept = {r["id"] for r in after}
    dropped = sorted(r["problem"] for r in before if r["id"] not in kept)
    summary = next((line for line in lines if "contaminated:" in line), "")
    report(f"      {summary.split(' -> ')[0]}")
    facts = {"rows": len(before), "contaminated": len(dropped), "dropped": dropped}
    return StageRun("decontaminate", [_display(argv)], time.perf_counter() - t0, str(log), facts)


def start_prompts(out: Path, log: Path) -> BackgroundJob:
    """`r1-eval prompts`: the evaluation's own prompt around every training problem.

    The student is trained on exactly the messages `r1-eval run --tasks math_500` will send
    it, built by lighteval's MATH-500 prompt function (one definition, not a copy). It
    imports lighteval (20-50 s), so it runs in the background during stages 1-2.
    """
    data = out / "data"
    argv = [
        *_entry_point("r1-eval", "r1_eval.cli"),
        "prompts", TASK,
        "--dataset", str(data / "prompts.jsonl"),
        "--output", str(data / f"prompts.{TASK}.jsonl"),
    ]  # fmt: skip
    return BackgroundJob.start("prompts", argv, log)


def write_training_sets(out: Path) -> dict[str, int]:
    """Clean traces -> SFT rows (prompt, teacher completion) and GRPO rows (prompt, solution).

    The teacher answered the bare problem; the student's prompt is the benchmark's
    (`start_prompts`), the one it is evaluated under.
    """
    data = out / "data"
    prompts = {r["id"]: r["prompt"] for r in _read_jsonl(data / f"prompts.{TASK}.jsonl")}
    rows = sorted(_read_jsonl(data / "traces.clean.jsonl"), key=lambda r: r["id"])
    sft = [
        {
            "prompt": prompts[r["id"]],
            "completion": [{"role": "assistant", "content": r["generations"][0]}],
        }
        for r in rows
        if r["split"] == "sft"
    ]
    # GRPO sees the gold answer only: the teacher's trace is dropped here, on purpose.
    grpo = [
        {"id": r["id"], "prompt": prompts[r["id"]], "solution": r["solution"]}
        for r in rows
        if r["split"] == "grpo"
    ]
    _write_jsonl(data / "sft.jsonl", sft)
    _write_jsonl(data / "grpo.jsonl", grpo)
    return {"sft_rows": len(sft), "grpo_rows": len(grpo)}


def run_init(
    cfg: QuickstartConfig, out: Path, log: Path, report: Callable[[str], None]
) -> StageRun:
    """Stage 3: the tokenizer and the randomly initialised student, saved as a checkpoint."""
    t0 = time.perf_counter()
    argv = [
        sys.executable, "-m", "r1_train.tiny.tiny_model",
        "--corpus", str(out / "data" / "sft.jsonl"),
        "--output-dir", str(out / "init"),
        "--seed", str(cfg.seed),
    ]  # fmt: skip
    if cfg.tokenizer_path:
        argv += ["--tokenizer-path", cfg.tokenizer_path]
    report(f"      $ {_display(argv)}")
    lines: list[str] = []
    _check(_stream(argv, log, lines.append), "init", argv, log)
    info = json.loads(next(line for line in reversed(lines) if line.startswith("{")))
    report(
        f"      Qwen2 student: {info['parameters'] / 1e6:.2f} M parameters, "
        f"vocabulary {info['vocabulary']}"
    )
    return StageRun("init", [_display(argv)], time.perf_counter() - t0, str(log), info)


def find_recipe(path: str) -> Path:
    """A recipe path as given, else relative to the workspace this package sits in."""
    given = Path(path)
    if given.exists():
        return given
    # An editable install: src/r1_train/tiny/quickstart.py -> the workspace root.
    beside = Path(__file__).resolve().parents[5] / path
    if beside.exists():
        return beside
    raise QuickstartError(
        f"recipe {path!r} not found (looked in {Path.cwd()} and {beside.parent}); run from the "
        "repository root or pass --sft-recipe / --grpo-recipe"
    )


def run_train(
    stage: str,
    cfg: QuickstartConfig,
    out: Path,
    log: Path,
    report: Callable[[str], None],
) -> StageRun:
    """Stages 4-5: `r1-train sft|grpo --config RECIPE` with this run's paths as flags."""
    t0 = time.perf_counter()
    recipe = find_recipe(cfg.sft_recipe if stage == "sft" else cfg.grpo_recipe)
    source = "init" if stage == "sft" else "sft"
    steps = cfg.sft_steps if stage == "sft" else cfg.grpo_steps
    argv = [
        *_entry_point("r1-train", "r1_train.cli"),
        stage,
        "--config", str(recipe),
        "--model_name_or_path", str(out / source),
        "--dataset_name", str(out / "data" / f"{stage}.jsonl"),
        "--output_dir", str(out / stage),
        "--seed", str(cfg.seed),
    ]  # fmt: skip
    if steps is not None:
        argv += ["--max_steps", str(steps)]
    report(f"      $ {_display(argv)}")
    logged = [0]

    def on_dict(logs: dict[str, Any]) -> None:
        logged[0] += 1
        if logged[0] % cfg.report_every:
            return
        keys = [k for k in ("loss",) if k in logs] + sorted(
            k for k in logs if k.startswith("rewards/") and k.endswith("/mean")
        )
        # The trainer prints its numbers as strings ('loss': '0.123').
        parts = [
            f"{k.removeprefix('rewards/').removesuffix('/mean')} {float(logs[k]):.3f}" for k in keys
        ]
        report(f"      {stage} log {logged[0]:>4}  " + "  ".join(parts))

    status = _stream(argv, log, _log_dicts(on_dict))
    _check(status, stage, argv, log)
    return StageRun(stage, [_display(argv)], time.perf_counter() - t0, str(log))


def start_evaluation(stage: str, cfg: QuickstartConfig, out: Path, log: Path) -> BackgroundJob:
    """`r1-eval run` on one checkpoint: pass@1 over n samples of the held-out set.

    The same command scores every model of the project; here on the transformers backend
    (CPU), the held-out problems as a local MATH-500 (`--dataset math_500=DIR`), sampled as
    DeepSeek-R1 reports pass@1 (temperature 0.6, top-p 0.95). It runs in the background:
    each one imports lighteval (20-50 s), which the next training stage hides on the
    second core (training runs on one thread).
    """
    argv = [
        *_entry_point("r1-eval", "r1_eval.cli"),
        "run", str(out / stage),
        "--tasks", TASK,
        "--dataset", f"{TASK}={out / 'data' / 'heldout'}",
        "--backend", "transformers",
        "--n", str(cfg.eval_samples),
        "--temperature", "0.6",
        "--top-p", "0.95",
        # A trace is ~40 tokens; a student that has not learned to stop is cut here.
        "--max-new-tokens", "64",
        "--seed", str(cfg.seed),
        # All prompts at once: lighteval's automatic batch size probes with full-length
        # forward passes, which cost more here than generating.
        "--batch-size", str(cfg.n_eval),
        "--grading-workers", "1",
        "--output-dir", str(out / "eval" / stage),
    ]  # fmt: skip
    return BackgroundJob.start(f"evaluate {stage}", argv, log)


def read_evaluation(stage: str, out: Path) -> dict[str, Any]:
    """The task's entry of `eval/<stage>/summary.json`, plus the format rate of its samples.

    The format rate (r1-rewards' `format_reward` over every sample in lighteval's details)
    tells a student that has not learned the R1 format from one that has but adds wrong.
    """
    from r1_rewards import format_reward

    summary = json.loads((out / "eval" / stage / "summary.json").read_text())
    task = dict(summary["tasks"][TASK])
    details = task.get("details_file")
    if details:
        import pyarrow.parquet as pq

        completions = [
            text
            for response in pq.read_table(details, columns=["model_response"]).to_pylist()
            for text in response["model_response"]["text"]
        ]
        if completions:
            task["format_rate"] = sum(format_reward(completions)) / len(completions)
    return task


def _trainer_log(checkpoint: Path) -> list[dict[str, Any]]:
    state = checkpoint / "trainer_state.json"
    if not state.exists():
        return []
    return [h for h in json.loads(state.read_text())["log_history"] if "train_runtime" not in h]


# -- the whole run ---------------------------------------------------------------------------


def _stages_1_to_6(
    cfg: QuickstartConfig,
    out: Path,
    logs: Path,
    report: Callable[[str], None],
    begin: Callable[[int, str], None],
    done: Callable[[StageRun], None],
    jobs: list[BackgroundJob],
) -> dict[str, dict[str, Any]]:
    """Data, training and evaluation; returns each checkpoint's r1-eval task summary.

    Three commands run in the background, each on the core the foreground stage leaves
    free (training runs on one thread): `r1-eval prompts` during stages 1-2, and the
    evaluations of the initial and the SFT checkpoints while the next one trains; only the
    GRPO evaluation is waited for alone. A background command that fails stops the run
    with its command and log.
    """

    def background(job: BackgroundJob, what: str) -> BackgroundJob:
        jobs.append(job)
        report(f"      {what}, in the background (log: {job.log})")
        report(f"      $ {_display(job.argv)}")
        return job

    # -- 1. teacher traces ------------------------------------------------------------------
    begin(1, "teacher traces: r1-data generate against an HTTP teacher on 127.0.0.1")
    problems = write_problems(cfg, out / "data")
    report(
        f"      {problems['training_prompts']} training prompts"
        + (
            f" ({cfg.plant_contamination} planted from the held-out set)"
            if problems["planted"]
            else ""
        )
        + f", {problems['held_out']} held out"
    )
    prompts = background(
        start_prompts(out, logs / "2-prompts.log"),
        f"the training prompts in r1-eval's {TASK} prompt (for stage 2)",
    )
    done(run_generate(cfg, out, logs / "1-generate.log", report))

    # -- 2. decontamination, then the training sets ------------------------------------------
    begin(2, "decontamination: r1-data decontaminate against the held-out set")
    t2 = time.perf_counter()
    decon = run_decontaminate(out, logs / "2-decontaminate.log", report)
    decon.facts["planted"] = problems["planted"]
    seconds = prompts.finish()
    decon.commands.append(_display(prompts.argv))
    decon.facts.update(write_training_sets(out))
    report(
        f"      {decon.facts['sft_rows']} SFT traces -> data/sft.jsonl, "
        f"{decon.facts['grpo_rows']} GRPO prompts -> data/grpo.jsonl, each prompt "
        f"{TASK}'s (built in {seconds:.1f} s)"
    )
    decon.seconds = time.perf_counter() - t2  # with the wait for the prompts, if any
    done(decon)

    # -- 3. the initial student ------------------------------------------------------------
    begin(3, "initial student: a byte-level BPE and a randomly initialised Qwen2")
    done(run_init(cfg, out, logs / "3-init.log", report))

    # -- 4. SFT, while the initial student is evaluated ------------------------------------
    running: dict[str, BackgroundJob] = {}
    begin(4, f"SFT (distillation): r1-train sft --config {cfg.sft_recipe}")
    running["init"] = background(
        start_evaluation("init", cfg, out, logs / "6-eval-init.log"), "evaluating init (stage 6)"
    )
    done(run_train("sft", cfg, out, logs / "4-sft.log", report))

    # -- 5. GRPO, while the SFT checkpoint is evaluated ------------------------------------
    begin(5, f"GRPO (reinforcement): r1-train grpo --config {cfg.grpo_recipe}")
    running["sft"] = background(
        start_evaluation("sft", cfg, out, logs / "6-eval-sft.log"), "evaluating sft (stage 6)"
    )
    done(run_train("grpo", cfg, out, logs / "5-grpo.log", report))

    # -- 6. evaluation: r1-eval run on every checkpoint -------------------------------------
    begin(
        6,
        f"evaluation: r1-eval run --tasks {TASK}, pass@1 over {cfg.eval_samples} samples of "
        f"{cfg.n_eval} held-out problems",
    )
    t6 = time.perf_counter()
    running["grpo"] = start_evaluation("grpo", cfg, out, logs / "6-eval-grpo.log")
    jobs.append(running["grpo"])
    report(f"      $ {_display(running['grpo'].argv)}")
    evaluations: dict[str, dict[str, Any]] = {}
    seconds_each: dict[str, float] = {}
    for stage in STAGES:
        seconds_each[stage] = round(running[stage].finish(), 2)
        task = evaluations[stage] = read_evaluation(stage, out)
        fmt = task.get("format_rate")
        report(
            f"      {stage:<5} pass@1 {task['pass@1']:.3f} +- {task['pass@1_stderr']:.3f}"
            + (f"   format {fmt:.2f}" if fmt is not None else "")
            + f"   ({seconds_each[stage]:.1f} s, log: {running[stage].log})"
        )
    done(
        StageRun(
            "evaluate",
            [_display(running[s].argv) for s in STAGES],
            time.perf_counter() - t6,
            str(logs / "6-eval-*.log"),
            {"seconds_each": seconds_each},
        )
    )
    return evaluations


def run_quickstart(
    config: QuickstartConfig | None = None, report: Callable[[str], None] = logger.info
) -> QuickstartResult:
    """Run stages 1-7 in `config.output_dir`; `report` receives the progress lines."""
    cfg = config or QuickstartConfig()
    out = Path(cfg.output_dir)
    # A fresh run: a journal left by another seed would be resumed into this one.
    for sub in ("data", "init", "sft", "grpo", "eval", "logs"):
        shutil.rmtree(out / sub, ignore_errors=True)
    for sub in ("data", "logs"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    logs = out / "logs"
    stages: list[StageRun] = []
    total = 7
    t_start = time.perf_counter()

    def begin(index: int, title: str) -> None:
        report(f"[{index}/{total}] {title}")

    def done(run: StageRun) -> None:
        stages.append(run)
        report(f"      done in {run.seconds:.1f} s (log: {run.log})")

    jobs: list[BackgroundJob] = []  # killed if the run fails, never left behind
    try:
        evaluations = _stages_1_to_6(cfg, out, logs, report, begin, done, jobs)
    except BaseException:
        for job in jobs:
            job.kill()
        raise

    # -- 7. report: table, figure, note ------------------------------------------------------
    begin(7, "report: table, figure and what the numbers mean")
    t7 = time.perf_counter()
    from r1_train.tiny.report import render_report, write_figure

    sft_log, grpo_log = _trainer_log(out / "sft"), _trainer_log(out / "grpo")
    sft_losses = [(int(h["step"]), float(h["loss"])) for h in sft_log if "loss" in h]
    figure = write_figure(
        out / "quickstart.png", sft_losses, grpo_log, evaluations, cfg.eval_samples
    )
    done(StageRun("report", [], time.perf_counter() - t7, str(out / "report.md")))
    text = render_report(
        cfg, stages, evaluations, sft_losses, grpo_log, figure, time.perf_counter() - t_start
    )
    (out / "report.md").write_text(text + "\n", encoding="utf-8")
    result = QuickstartResult(out, stages, evaluations, sft_losses, grpo_log, figure, text)
    (out / "summary.json").write_text(json.dumps(_summary(result), indent=2) + "\n")
    return result


def _summary(result: QuickstartResult) -> dict[str, Any]:
    return {
        "stages": [
            {"name": s.name, "seconds": round(s.seconds, 2), "commands": s.commands, **s.facts}
            for s in result.stages
        ],
        "evaluations": result.evaluations,
        "figure": str(result.figure),
    }
