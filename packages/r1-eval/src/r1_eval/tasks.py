"""The benchmarks of the DeepSeek-R1 report, under open-r1's names (open-r1 `utils/evaluation.py`).

open-r1 evaluates with six lighteval tasks: MATH-500, AIME 2024, AIME 2025, GPQA-Diamond
and LiveCodeBench (v4_v5 and v4). This table names them, with the data set each one reads,
the columns its prompt function needs (so a local file missing one fails before any
model is loaded), the grader of its metric, and open-r1's generation defaults. The prompts
are lighteval's own prompt functions, imported only for the task asked for: lighteval's
registry imports all of its ~650 task modules, which takes ~20 s and reaches the network
at import for some of them.

This module imports nothing heavy: `r1-eval list` and `--help` read it without lighteval.

Data flow: task names from the command line (or a training run's `benchmarks`) ->
`resolve_task` -> `TaskSpec` -> `runner.build_task_config` (a lighteval task config
pointing at the hub data set or at a local copy) -> lighteval.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from r1_eval.errors import UnknownTaskError

Grader = Literal["math", "letters", "code"]

# open-r1's README: "temperature 0.6, top_p 0.95, max_new_tokens 32768", the DeepSeek-R1
# report's sampling for pass@1.
DEFAULT_TEMPERATURE = 0.6
DEFAULT_TOP_P = 0.95
DEFAULT_MAX_NEW_TOKENS = 32768


@dataclass(frozen=True)
class TaskSpec:
    """One benchmark: where its data lives, what its prompt reads, how it is graded."""

    name: str
    lighteval_module: str  # the lighteval module that defines the task (and its prompt)
    lighteval_name: str
    hf_repo: str
    hf_subset: str
    split: str
    columns: tuple[str, ...]  # what the prompt function reads: a local file must have them
    grader: Grader
    metric: str  # lighteval's metric the verdicts reproduce
    description: str
    aliases: tuple[str, ...] = field(default=())
    optional_columns: tuple[str, ...] = field(default=())


_MATH = "lighteval Metrics.pass_at_k_math (extractive match: expression and LaTeX golds)"
_LCB_COLUMNS = ("question_content", "public_test_cases", "private_test_cases", "metadata")

TASKS: dict[str, TaskSpec] = {
    spec.name: spec
    for spec in (
        TaskSpec(
            name="math_500",
            lighteval_module="lighteval.tasks.tasks.math_500",
            lighteval_name="math_500",
            hf_repo="HuggingFaceH4/MATH-500",
            hf_subset="default",
            split="test",
            columns=("problem", "solution"),
            grader="math",
            metric=_MATH,
            description="MATH-500 (Lightman et al. 2023): 500 competition problems",
        ),
        TaskSpec(
            name="aime24",
            lighteval_module="lighteval.tasks.tasks.aime",
            lighteval_name="aime24",
            hf_repo="HuggingFaceH4/aime_2024",
            hf_subset="default",
            split="train",
            columns=("problem", "answer"),
            grader="math",
            metric=_MATH,
            description="AIME 2024: 30 problems, integer answers 0-999",
        ),
        TaskSpec(
            name="aime25",
            lighteval_module="lighteval.tasks.tasks.aime",
            lighteval_name="aime25",
            hf_repo="yentinglin/aime_2025",
            hf_subset="default",
            split="train",
            columns=("problem", "answer"),
            grader="math",
            metric=_MATH,
            description="AIME 2025: 30 problems, integer answers 0-999",
        ),
        TaskSpec(
            name="gpqa:diamond",
            lighteval_module="lighteval.tasks.tasks.gpqa",
            lighteval_name="gpqa:diamond",
            hf_repo="Idavidrein/gpqa",
            hf_subset="gpqa_diamond",
            split="train",
            columns=(
                "Question",
                "Correct Answer",
                "Incorrect Answer 1",
                "Incorrect Answer 2",
                "Incorrect Answer 3",
            ),
            grader="letters",
            metric="lighteval Metrics.gpqa_instruct_pass_at_k (the answer letter)",
            description="GPQA-Diamond: 198 graduate-level multiple-choice questions",
            aliases=("gpqa",),
        ),
        TaskSpec(
            name="lcb:codegeneration",
            lighteval_module="lighteval.tasks.tasks.lcb.main",
            lighteval_name="lcb:codegeneration",
            hf_repo="lighteval/code_generation_lite",
            hf_subset="v4_v5",
            split="test",
            columns=_LCB_COLUMNS,
            optional_columns=("starter_code",),
            grader="code",
            metric="LiveCodeBench codegen pass@1 (every test passes), run in r1-sandbox",
            description="LiveCodeBench code generation, releases v4-v5",
            aliases=("lcb",),
        ),
        TaskSpec(
            name="lcb:codegeneration_v4",
            lighteval_module="lighteval.tasks.tasks.lcb.main",
            lighteval_name="lcb:codegeneration_v4",
            hf_repo="lighteval/code_generation_lite",
            hf_subset="v4",
            split="test",
            columns=_LCB_COLUMNS,
            optional_columns=("starter_code",),
            grader="code",
            metric="LiveCodeBench codegen pass@1 (every test passes), run in r1-sandbox",
            description="LiveCodeBench code generation, release v4 only",
            aliases=("lcb_v4",),
        ),
    )
}

_ALIASES = {alias: spec.name for spec in TASKS.values() for alias in spec.aliases}


def valid_task_names() -> list[str]:
    """Every accepted name: the tasks, then open-r1's short aliases."""
    return [*TASKS, *_ALIASES]


def resolve_task(name: str) -> TaskSpec:
    """The task called `name` (or aliased so, as open-r1's `lcb_v4`); the error lists all."""
    key = name.strip()
    # open-r1's and lighteval's spellings: "lighteval|math_500|0|0", "math_500|0".
    if "|" in key:
        parts = key.split("|")
        key = parts[1] if len(parts) >= 3 else parts[0]
    spec = TASKS.get(key) or TASKS.get(_ALIASES.get(key, ""))
    if spec is None:
        raise UnknownTaskError(
            f"unknown task {name!r}; valid tasks: {', '.join(valid_task_names())}"
        )
    return spec


def parse_task_list(text: str) -> list[str]:
    """`math_500,aime24` -> ["math_500", "aime24"], names kept as given, order kept."""
    names = [t.strip() for t in text.split(",") if t.strip()]
    if not names:
        raise UnknownTaskError(f"no task in {text!r}; valid tasks: {', '.join(valid_task_names())}")
    for name in names:
        resolve_task(name)
    return list(dict.fromkeys(names))
