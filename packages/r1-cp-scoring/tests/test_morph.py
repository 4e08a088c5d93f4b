"""The Morph provider with MorphCloud's SDK replaced by a fake at its edge (instances.astart,
aexec, astop), the fake running each command with bash in a private directory."""

import asyncio
import subprocess
import tempfile
from types import SimpleNamespace

import pytest
from problems import SUMPAIR_SUBMISSIONS, sumpair_rows

from r1_cp_scoring import (
    ConfigError,
    MorphCloudExecutionClient,
    add_includes,
    get_morph_client_from_env,
    score_subtasks,
    total_points,
)


class FakeInstance:
    def __init__(self) -> None:
        self.dir = tempfile.mkdtemp(prefix="fake-morph-")
        self.stopped = False

    async def aexec(self, command, timeout=None):
        def run():
            try:
                done = subprocess.run(
                    command, cwd=self.dir, capture_output=True, text=True, timeout=timeout or 60
                )
                return done.returncode, done.stdout, done.stderr
            except subprocess.TimeoutExpired:
                return 124, "", "timeout"

        rc, out, err = await asyncio.to_thread(run)
        return SimpleNamespace(exit_code=rc, stdout=out, stderr=err)

    async def astop(self):
        self.stopped = True


class FakeMorphClient:
    """Stands in for morphcloud.api.MorphCloudClient."""

    def __init__(self) -> None:
        self.started: list[FakeInstance] = []
        self.instances = SimpleNamespace(astart=self._astart)

    async def _astart(self, snapshot_id, ttl_seconds=None):
        vm = FakeInstance()
        self.started.append(vm)
        return vm


@pytest.mark.slow
def test_morph_provider_grades_with_the_cms_judge_on_instances():
    sdk = FakeMorphClient()
    client = MorphCloudExecutionClient(client=sdk, snapshot_id="snap-ioi")
    code = add_includes(SUMPAIR_SUBMISSIONS["overflow"][0], "sumpair")
    rows = [sumpair_rows()[1], sumpair_rows()[3]]
    results = asyncio.run(score_subtasks(client, rows, code))
    assert [r.status for r in results] == ["AC", "WA"]
    assert total_points(results) == 10.0
    assert sdk.started and all(vm.stopped for vm in sdk.started)


def test_morph_provider_needs_an_api_key(monkeypatch):
    monkeypatch.delenv("MORPH_API_KEY", raising=False)
    with pytest.raises(ConfigError, match="MORPH_API_KEY"):
        get_morph_client_from_env()
