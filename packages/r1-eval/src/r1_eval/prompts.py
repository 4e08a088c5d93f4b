"""The chat messages a benchmark sends the model, for rows of your own (lighteval's prompts).

A model evaluated on a task is prompted with the task's own template around each problem
(MATH-500: "Solve the following problem. The final line of your response MUST be ...").
A model trained on bare problems has never seen that template, and a small one scores
nothing under it (the tiny recipe's SFT student: pass@1 0.16 on bare prompts, 0.000
under lighteval's MATH-500 instruction). Training on the very messages the evaluation
sends removes that gap; this module builds them with lighteval's own code (the task's
prompt function, then its `PromptManager` in chat mode, as the transformers and endpoint
backends do), so there is one definition of the prompt, not a copy that drifts from it.

It imports lighteval (20-50 s), hence `r1-eval prompts` as a command a pipeline can start
in the background while it does something else.

Data flow: a local file in the task's columns (`--dataset`'s layout) -> `read_task_rows`
(checked, MATH-500 golds boxed) -> the task's prompt function -> lighteval's chat messages
-> each row with a `prompt` column -> SFT / GRPO training sets.
"""

from __future__ import annotations

import importlib
from typing import Any

from r1_eval.tasks import resolve_task


def task_messages(
    task: str, rows: list[dict[str, Any]], system_prompt: str | None = None
) -> list[list[dict[str, str]]]:
    """The chat messages `task` sends the model for each row, in order.

    Rows need the task's columns (`r1-eval list`); `system_prompt` is `r1-eval run
    --system-prompt`'s, and is the first message when given.
    """
    from r1_eval.runner import _offline_environment

    _offline_environment()
    from lighteval.tasks.prompt_manager import PromptManager

    spec = resolve_task(task)
    module = importlib.import_module(spec.lighteval_module)
    config = next(c for c in module.TASKS_TABLE if c.name == spec.lighteval_name)
    manager = PromptManager(use_chat_template=True, system_prompt=system_prompt)
    return [
        manager.prepare_prompt_api(config.prompt_function(row, spec.lighteval_name)) for row in rows
    ]
