"""The package surface: pinned public names, and an import that loads no training stack."""

from __future__ import annotations

import subprocess
import sys

import r1_train


def test_public_api_is_pinned():
    assert sorted(r1_train.__all__) == sorted(
        [
            "ScriptArguments",
            "GRPOScriptArguments",
            "SFTConfig",
            "GRPOConfig",
            "ModelConfig",
            "get_model",
            "get_tokenizer",
            "get_callbacks",
            "TrainError",
            "ConfigError",
            "PreflightError",
            "MissingExtraError",
            "ServiceUnavailableError",
            "HubRevisionError",
            "QuickstartConfig",
            "run_quickstart",
            "__version__",
        ]
    )
    for name in r1_train.__all__:
        assert getattr(r1_train, name) is not None


def test_import_and_help_load_no_training_stack():
    code = (
        "import sys, r1_train, r1_train.cli; r1_train.cli.main(['--help']); "
        "print(sorted(m for m in ('torch', 'trl', 'transformers') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"
