"""The tiny recipe: the whole distil-then-reinforce method on a CPU (`r1-train quickstart`).

`addition` is the task, `teacher` its teacher behind an OpenAI-compatible HTTP server,
`tiny_model` the student and its tokenizer, `evaluation` and `report` the scoring and the
write-up, `quickstart` the run itself. Heavy imports stay inside functions, so importing
this package is instant.

Data flow: seeded addition problems -> `teacher` (HTTP) -> traces -> `r1-train sft` and
`r1-train grpo` on `recipes/tiny/` -> checkpoints -> `evaluation` (pass@1) -> `report`.
"""
