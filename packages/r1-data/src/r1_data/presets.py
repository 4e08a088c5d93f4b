"""Named sets of `GenerateConfig` defaults, for users who bring another tool's habits.

A preset only moves defaults: flags given on the command line (or fields passed to the
config) still win. It lives apart from `r1_data.generation` so that the CLI can list the
names without importing the HTTP client.

Data flow: `r1-data generate --preset NAME` -> `PRESETS[NAME]` -> the parser's defaults ->
`GenerateConfig`.
"""

from __future__ import annotations

from typing import Any

__all__ = ["PRESETS"]

PRESETS: dict[str, dict[str, Any]] = {
    # The defaults of open-r1's resumable generator (scripts/generate_reason_data.py,
    # the generate_reasoning script of its README): 4 samples at T=0.6, top-p 0.95, 16k
    # tokens, 1000 requests in flight, one hour per request, and its math prompt.
    "open-r1": {
        "num_generations": 4,
        "temperature": 0.6,
        "top_p": 0.95,
        "max_tokens": 16384,
        "max_concurrency": 1000,
        "timeout": 3600.0,
        "prompt_template": (
            "You will be given a problem. Please reason step by step, and put your final "
            "answer within \\boxed{{}}:\n{prompt}"
        ),
    },
}
