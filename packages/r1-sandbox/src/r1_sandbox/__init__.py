"""r1-sandbox: run untrusted, model-written programs; locally contained or on hosted sandboxes.

One async interface (`Sandbox.run`, `run_batch`, `run_inputs`, `build`, each with a
`*_sync` twin) over every backend: `local` (bubblewrap namespaces + rlimits, the default),
`piston`, `e2b`, `morph` and `routed`. Importing this package starts nothing and imports
no SDK; a backend probes or connects when it is built.

Data flow: rewards (r1-rewards[code]), graders, the CLI and the router build a backend
(`LocalSandbox` or `get_sandbox(name)`) -> `Job`s -> `RunResult`s.
"""

from r1_sandbox.artifacts import Artifact
from r1_sandbox.backends import get_sandbox, shared_sandbox
from r1_sandbox.base import Sandbox, run_coroutine_sync
from r1_sandbox.errors import (
    BackendConfigError,
    ContainmentUnavailableError,
    MissingExtraError,
    SandboxError,
    ServiceRefusedError,
    ServiceUnavailableError,
    UnsupportedLanguageError,
)
from r1_sandbox.languages import FLAG_SETS, LANGUAGES, Language, flags_for, get_language
from r1_sandbox.local import LocalSandbox
from r1_sandbox.result import Job, RunResult, Status

__version__ = "0.1.0"

__all__ = [
    # results, jobs and built programs
    "Artifact",
    "Job",
    "RunResult",
    "Status",
    # backends
    "LocalSandbox",
    "Sandbox",
    "get_sandbox",
    "shared_sandbox",
    # languages
    "FLAG_SETS",
    "LANGUAGES",
    "Language",
    "flags_for",
    "get_language",
    # helpers
    "run_coroutine_sync",
    # errors
    "BackendConfigError",
    "ContainmentUnavailableError",
    "MissingExtraError",
    "SandboxError",
    "ServiceRefusedError",
    "ServiceUnavailableError",
    "UnsupportedLanguageError",
]
