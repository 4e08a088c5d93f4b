"""The Morph provider: open-r1's `MorphCloudExecutionClient` contract on r1-sandbox's Morph backend.

open-r1's Morph client boots a MorphCloud instance per test, uploads compile and run
scripts and recompiles the submission each time; its IOI grader then calls
`send_execute`, a method this client does not have, so every Morph IOI score failed.
Here `execute(data)` takes the same `cms_ioi` request and returns the same
`(score, feedback)` pair, but runs the CMS judge of `cms` on an r1-sandbox backend
(`get_sandbox("morph")` by default: instances from `MORPH_SNAPSHOT_ID`, whose image needs
bash and g++), so the build is cached and the graders call it by its own name.

Data flow: `ioi.evaluate_test` -> `execute(cms_ioi request)` -> the judge on the Morph
backend -> ("score", "feedback").
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from r1_cp_scoring.errors import ConfigError, GradingUnavailableError, MorphCloudError
from r1_sandbox import Sandbox


class MorphCloudExecutionClient:
    """Runs `cms_ioi` requests on `sandbox` (an r1-sandbox backend; Morph by default)."""

    def __init__(self, sandbox: Sandbox | None = None, **morph_options: Any) -> None:
        if sandbox is None:
            from r1_sandbox import get_sandbox

            sandbox = get_sandbox("morph", **morph_options)
        self.sandbox = sandbox

    async def execute(self, data: Mapping[str, Any]) -> tuple[str, str]:
        """(score as text, feedback) for one cms_ioi request, as open-r1's client returns."""
        from r1_cp_scoring.piston_server import cms_ioi_answer

        try:
            answer = await cms_ioi_answer(self.sandbox, data)
        except GradingUnavailableError as exc:
            raise MorphCloudError(str(exc)) from exc
        if answer["compile"]["code"] != 0:
            return "0", f"Compilation error exit code 1\n{answer['compile']['stderr']}"
        return answer["run"]["stdout"].strip(), answer["run"]["stderr"]

    def execute_sync(self, data: Mapping[str, Any]) -> tuple[str, str]:
        """`execute` for sync callers."""
        from r1_cp_scoring._programs import run_sync

        return run_sync(self.execute(data), self.sandbox)


def get_morph_client_from_env(session: Any = None) -> MorphCloudExecutionClient:
    """A client on the Morph backend; needs MORPH_API_KEY (and r1-sandbox's Morph settings)."""
    if not os.environ.get("MORPH_API_KEY"):
        raise ConfigError(
            "MORPH_API_KEY is not set: the Morph provider needs a MorphCloud API key "
            "(and MORPH_SNAPSHOT_ID naming an image with bash and g++)"
        )
    return MorphCloudExecutionClient()
