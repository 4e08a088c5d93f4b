"""E2B and MorphCloud backends with their SDK boundary replaced by fakes.

The fakes stand where the SDK's network calls would be: a "VM" is a private temporary
directory on this machine and a shell command really runs in bash there. So the
commands r1 builds (base64 files, compile, ulimit, timeout, the status line) are
executed for real; only the cloud is missing. Where the e2b SDK is installed, its own
exception classes are raised, as the SDK would raise them.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import tempfile
from types import SimpleNamespace
from typing import ClassVar

import pytest

from r1_sandbox import Job, Status
from r1_sandbox.e2b import E2BSandbox
from r1_sandbox.errors import BackendConfigError, MissingExtraError
from r1_sandbox.morph import MorphSandbox

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="runs bash")

ADD_CPP = "#include <iostream>\nint main(){long a,b;std::cin>>a>>b;std::cout<<a+b<<std::endl;}"


def _bash(workdir: str, command: str, timeout: float) -> tuple[int, str, str]:
    # A VM has its own /tmp: give each fake VM its own directory instead.
    command = command.replace("/tmp/r1-job", f"{workdir}/r1-job")
    done = subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=timeout)
    return done.returncode, done.stdout, done.stderr


class FakeE2B:
    """Stands in for e2b_code_interpreter.AsyncSandbox."""

    created: ClassVar[list[FakeE2B]] = []
    fail_create: ClassVar[Exception | None] = None

    def __init__(self) -> None:
        self.dir = tempfile.mkdtemp(prefix="fake-e2b-")
        self.killed = False
        self.commands = SimpleNamespace(run=self._run)

    @classmethod
    async def create(cls, **kwargs):
        if cls.fail_create is not None:
            raise cls.fail_create
        vm = cls()
        vm.kwargs = kwargs
        cls.created.append(vm)
        return vm

    async def _run(self, cmd, timeout=60, request_timeout=None):
        rc, out, err = await asyncio.to_thread(_bash, self.dir, cmd, timeout)
        try:
            from e2b import CommandExitException, CommandResult
        except ImportError:
            CommandExitException = CommandResult = None
        if CommandResult is None:
            result = SimpleNamespace(exit_code=rc, stdout=out, stderr=err, error=None)
            if rc:
                raise type("CommandExitException", (Exception,), {})() from None
            return result
        if rc:
            raise CommandExitException(stderr=err, stdout=out, exit_code=rc, error=None)
        return CommandResult(stderr=err, stdout=out, exit_code=rc, error=None)

    async def kill(self):
        self.killed = True


@pytest.fixture
def fake_e2b():
    FakeE2B.created = []
    FakeE2B.fail_create = None
    yield FakeE2B


def test_e2b_runs_programs_with_stdin(fake_e2b):
    box = E2BSandbox(sandbox_factory=fake_e2b)
    results = box.run_batch_sync(
        [
            Job("print(input()[::-1])", "python", stdin="abc"),
            Job(ADD_CPP, "cpp", stdin="2 40"),
            Job("int main( {", "cpp"),
            Job("import sys; sys.exit(4)", "python"),
            Job("import time; time.sleep(30)", "python", timeout=1),
            Job("x = bytearray(2 << 30)", "python", memory_mb=200),
        ]
    )
    assert [r.status for r in results] == [
        Status.OK,
        Status.OK,
        Status.CE,
        Status.RE,
        Status.TLE,
        Status.MLE,
    ]
    assert results[0].stdout == "cba\n" and results[1].stdout == "42\n"
    assert results[3].exit_code == 4
    # One sandbox per job, each killed afterwards.
    assert len(fake_e2b.created) == 6 and all(vm.killed for vm in fake_e2b.created)


def test_e2b_batch_compiles_a_shared_program_once(fake_e2b):
    box = E2BSandbox(sandbox_factory=fake_e2b)
    jobs = [Job(ADD_CPP, "cpp", stdin=f"{i} {i}") for i in range(4)]
    results = box.run_batch_sync(jobs)
    assert [r.stdout for r in results] == [f"{2 * i}\n" for i in range(4)]
    assert len(fake_e2b.created) == 1


def test_e2b_output_flood_is_capped(fake_e2b):
    box = E2BSandbox(sandbox_factory=fake_e2b, output_limit=1000)
    result = box.run_sync("print('x' * 100000)")
    assert result.status is Status.OLE
    assert len(result.stdout) == 1000


def test_e2b_rate_limit_is_a_system_error_not_a_zero(fake_e2b):
    try:
        from e2b import RateLimitException
    except ImportError:
        RateLimitException = RuntimeError
    fake_e2b.fail_create = RateLimitException("rate limit exceeded: 20 sandboxes")
    result = E2BSandbox(sandbox_factory=fake_e2b).run_sync("print(1)")
    assert result.status is Status.SE
    assert "rate limit exceeded" in result.message


def test_e2b_sandbox_dying_mid_run_is_a_system_error(fake_e2b):
    class Dying(FakeE2B):
        async def _run(self, cmd, timeout=60, request_timeout=None):
            raise ConnectionResetError("sandbox was killed")

    Dying.created = []
    Dying.fail_create = None
    result = E2BSandbox(sandbox_factory=Dying).run_sync("print(1)")
    assert result.status is Status.SE and "sandbox was killed" in result.message
    assert Dying.created[0].killed


def test_e2b_without_its_sdk_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "e2b_code_interpreter", None)
    with pytest.raises(MissingExtraError, match=r'pip install "r1-sandbox\[e2b\]"'):
        E2BSandbox()


class FakeInstance:
    def __init__(self) -> None:
        self.dir = tempfile.mkdtemp(prefix="fake-morph-")
        self.stopped = False

    async def aexec(self, command, timeout=None):
        assert command[:2] == ["bash", "-c"]
        rc, out, err = await asyncio.to_thread(_bash, self.dir, command[2], timeout or 60)
        return SimpleNamespace(exit_code=rc, stdout=out, stderr=err)

    async def astop(self):
        self.stopped = True


class FakeMorphClient:
    """Stands in for morphcloud.api.MorphCloudClient."""

    def __init__(self, fail: Exception | None = None) -> None:
        self.started: list[tuple[str, FakeInstance]] = []
        self.fail = fail
        self.instances = SimpleNamespace(astart=self._astart)

    async def _astart(self, snapshot_id, ttl_seconds=None):
        if self.fail:
            raise self.fail
        vm = FakeInstance()
        self.started.append((snapshot_id, vm))
        return vm


def test_morph_runs_programs_and_stops_instances():
    client = FakeMorphClient()
    box = MorphSandbox(snapshot_id="snap-1", client=client)
    results = box.run_inputs_sync(ADD_CPP, ["1 2", "3 4", "5 6"], language="cpp")
    assert [r.stdout for r in results] == ["3\n", "7\n", "11\n"]
    # One instance for the three inputs: the program was written and compiled once.
    assert [s for s, _ in client.started] == ["snap-1"]
    assert all(vm.stopped for _, vm in client.started)
    one = box.run_sync("print(input())", "python", stdin="solo")
    assert one.stdout == "solo\n" and len(client.started) == 2


def test_morph_failures_are_system_errors():
    box = MorphSandbox(
        snapshot_id="snap-1", client=FakeMorphClient(fail=TimeoutError("no capacity"))
    )
    result = box.run_sync("print(1)")
    assert result.status is Status.SE and "no capacity" in result.message


def test_morph_needs_a_snapshot(monkeypatch):
    monkeypatch.delenv("MORPH_SNAPSHOT_ID", raising=False)
    with pytest.raises(BackendConfigError, match="MORPH_SNAPSHOT_ID"):
        MorphSandbox(client=FakeMorphClient())
