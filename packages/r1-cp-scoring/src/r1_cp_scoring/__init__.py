"""r1-cp-scoring: IOI and Codeforces graders over r1-sandbox (open-r1 compatible).

`score_subtasks` grades an IOI submission with CMS semantics (Batch and Communication
tasks, compile once); `score_submission` grades a Codeforces submission in open-r1's
scoring modes; both run on any r1-sandbox backend (local by default), a Piston fleet or
MorphCloud. Importing this package starts nothing: a local sandbox is built on first use.

Data flow: problem rows (open-r1/ioi, open-r1/codeforces) + a submission -> the graders
-> scores -> r1-rewards' `ioi_code_reward` / `cf_code_reward`, the CLI, the Piston server.
"""

from r1_cp_scoring.batching import batches
from r1_cp_scoring.cms import CMSJudge, IOITask, Verdict, white_diff
from r1_cp_scoring.codeforces import (
    CFReport,
    CFTestResult,
    get_generated_tests,
    grade_submission,
    grade_submission_sync,
    score_submission,
    score_submission_sync,
    tokens_equal,
)
from r1_cp_scoring.errors import (
    ConfigError,
    CPScoringError,
    GradingUnavailableError,
    HarnessError,
    MissingExtraError,
    MorphCloudError,
    PistonError,
)
from r1_cp_scoring.ioi import (
    SubtaskResult,
    TestResult,
    add_includes,
    load_ioi_tests,
    score_subtask,
    score_subtask_sync,
    score_subtasks,
    score_subtasks_sync,
    total_points,
)
from r1_cp_scoring.morph_client import MorphCloudExecutionClient, get_morph_client_from_env
from r1_cp_scoring.patcher import is_patchable, patch_code
from r1_cp_scoring.piston_client import (
    PistonClient,
    get_piston_client_from_env,
    get_slurm_piston_endpoints,
)

__version__ = "0.1.0"

__all__ = [
    # IOI (CMS semantics)
    "score_subtask",
    "score_subtask_sync",
    "score_subtasks",
    "score_subtasks_sync",
    "total_points",
    "SubtaskResult",
    "TestResult",
    "add_includes",
    "load_ioi_tests",
    "CMSJudge",
    "IOITask",
    "Verdict",
    "white_diff",
    # Codeforces
    "score_submission",
    "score_submission_sync",
    "grade_submission",
    "grade_submission_sync",
    "get_generated_tests",
    "CFReport",
    "CFTestResult",
    "tokens_equal",
    # code repair
    "patch_code",
    "is_patchable",
    # providers
    "PistonClient",
    "get_piston_client_from_env",
    "get_slurm_piston_endpoints",
    "MorphCloudExecutionClient",
    "get_morph_client_from_env",
    # helpers
    "batches",
    # errors
    "CPScoringError",
    "ConfigError",
    "HarnessError",
    "GradingUnavailableError",
    "PistonError",
    "MorphCloudError",
    "MissingExtraError",
]
