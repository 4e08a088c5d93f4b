"""The tiny recipe: the whole distil-then-reinforce method on a CPU (`r1-train quickstart`).

`addition` is the task and its teacher, `tiny_model` the student and its tokenizer,
`quickstart` the run itself. Heavy imports stay inside functions, so importing this
package is instant.
"""
