import r1_cp_scoring


def test_public_api_is_pinned():
    assert r1_cp_scoring.__all__ == [
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
        "score_submission",
        "score_submission_sync",
        "grade_submission",
        "grade_submission_sync",
        "get_generated_tests",
        "CFReport",
        "CFTestResult",
        "tokens_equal",
        "patch_code",
        "is_patchable",
        "PistonClient",
        "get_piston_client_from_env",
        "get_slurm_piston_endpoints",
        "MorphCloudExecutionClient",
        "get_morph_client_from_env",
        "batches",
        "CPScoringError",
        "ConfigError",
        "HarnessError",
        "GradingUnavailableError",
        "PistonError",
        "MorphCloudError",
        "MissingExtraError",
    ]
    for name in r1_cp_scoring.__all__:
        assert hasattr(r1_cp_scoring, name), name


def test_errors_share_one_base():
    for name in (
        "ConfigError",
        "HarnessError",
        "GradingUnavailableError",
        "PistonError",
        "MorphCloudError",
        "MissingExtraError",
    ):
        assert issubclass(getattr(r1_cp_scoring, name), r1_cp_scoring.CPScoringError)
