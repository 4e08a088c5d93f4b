from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture(scope="session")
def box():
    """One local sandbox for the whole suite (its build cache is shared, as in training)."""
    from r1_sandbox import LocalSandbox

    sandbox = LocalSandbox()
    yield sandbox
    sandbox.close()
