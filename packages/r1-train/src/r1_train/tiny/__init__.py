"""The tiny recipe: the whole distil-then-reinforce method on a CPU (`r1-train quickstart`).

`addition` is the task, `teacher` its teacher behind an OpenAI-compatible HTTP server,
`tiny_model` the student and its tokenizer, `report` the write-up, `quickstart` the run
itself; the checkpoints are scored by `r1-eval run`, as every model of the project is.
Heavy imports stay inside functions, so importing this package is instant.

Data flow: seeded addition problems -> `teacher` (HTTP) -> traces -> `r1-train sft` and
`r1-train grpo` on `recipes/tiny/` -> checkpoints -> `r1-eval run` (pass@1) -> `report`.
"""
