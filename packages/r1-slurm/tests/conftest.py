"""A real SLURM cluster for the tests: Debian's slurmctld and two slurmd on this machine.

One cluster per test session (`slurm_cluster`): `AuthType=auth/none` and `CredType=cred/none`
(no munge), the daemons as background processes with pid files, stopped at teardown. Two
nodes on one host, each slurmd on its own port: `vm`-style the machine's hostname and
`localhost`, two names that resolve to 127.0.0.1, so a server a job starts is reachable
at `http://<node>:<port>` the way `PISTON_ENDPOINTS=slurm` builds it. Each node has two
fake GPUs (gres.conf `File=` entries naming /dev/null and /dev/zero: slurmd wants
character devices there, and drops GPUs without `File=` silently) and
claims 16 CPUs (`SlurmdParameters=config_overrides`) so that several jobs run at once on
two cores. Without the SLURM packages the cluster tests skip, saying how to install them.

Data flow: fixtures -> slurm.conf + gres.conf in a temp dir -> slurmctld / slurmd ->
`SLURM_CONF` in os.environ -> sbatch / squeue / scontrol called by r1-slurm and the tests.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("WANDB_MODE", "disabled")

FAKE_GPU_DEVICES = ("/dev/null", "/dev/zero")
DAEMONS = ("slurmctld", "slurmd", "sbatch", "squeue", "scontrol", "scancel", "sinfo")


@dataclass
class Cluster:
    conf: Path
    root: Path
    nodes: tuple[str, ...]

    def log(self, daemon: str) -> str:
        path = self.root / f"{daemon}.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _slurm_missing() -> str | None:
    missing = [d for d in DAEMONS if shutil.which(d) is None]
    if missing:
        return (
            f"SLURM is not installed ({', '.join(missing)} not on PATH): "
            "apt-get install slurmctld slurmd slurm-client (as .ci/run does)"
        )
    if os.geteuid() != 0:
        return "the test cluster runs slurmd, which needs root"
    return None


def _kill_pidfile(path: Path) -> None:
    try:
        pid = int(path.read_text().strip())
    except (OSError, ValueError):
        return
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return
        for _ in range(50):
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.1)


@pytest.fixture(scope="session")
def slurm_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    reason = _slurm_missing()
    if reason:
        pytest.skip(reason)
    root = tmp_path_factory.mktemp("slurm")
    host = socket.gethostname()
    try:
        resolves = socket.gethostbyname(host).startswith("127.")
    except OSError:
        resolves = False
    # Two names for 127.0.0.1: servers started by jobs are reachable at http://<node>:port.
    nodes = (host, "localhost") if resolves and host != "localhost" else ("localhost",)
    for sub in ("state", "spool"):
        (root / sub).mkdir()
    node_lines, gres_lines = [], []
    for name in nodes:
        (root / "spool" / name).mkdir()
        node_lines.append(
            f"NodeName={name} NodeHostname={host} NodeAddr=127.0.0.1 Port={_free_port()} "
            "CPUs=16 RealMemory=4000 Gres=gpu:2 State=UNKNOWN"
        )
        # slurmd wants a character device behind each GPU; these two stand in for nvidia0/1.
        gres_lines += [f"NodeName={name} Name=gpu File={f}" for f in FAKE_GPU_DEVICES]
    conf = root / "slurm.conf"
    conf.write_text(
        "\n".join(
            [
                f"ClusterName=r1test{os.getpid()}",
                f"SlurmctldHost={host}(127.0.0.1)",
                f"SlurmctldPort={_free_port()}",
                "AuthType=auth/none",
                "CredType=cred/none",
                "SlurmUser=root",
                "SlurmdUser=root",
                f"StateSaveLocation={root}/state",
                f"SlurmdSpoolDir={root}/spool/%n",
                f"SlurmctldPidFile={root}/slurmctld.pid",
                f"SlurmdPidFile={root}/slurmd-%n.pid",
                f"SlurmctldLogFile={root}/slurmctld.log",
                f"SlurmdLogFile={root}/slurmd-%n.log",
                "ProctrackType=proctrack/linuxproc",
                "TaskPlugin=task/none",
                "MpiDefault=none",
                "SelectType=select/cons_tres",
                "SelectTypeParameters=CR_Core",
                "SlurmdParameters=config_overrides",
                "GresTypes=gpu",
                "ReturnToService=2",
                # No slurmdbd here: finished jobs stay visible to `scontrol show job` this long.
                "MinJobAge=3600",
                "KillWait=5",
                "InactiveLimit=0",
                "SchedulerParameters=sched_interval=1",
                *node_lines,
                "PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP",
            ]
        )
        + "\n"
    )
    (root / "gres.conf").write_text("\n".join(gres_lines) + "\n")
    previous = os.environ.get("SLURM_CONF")
    os.environ["SLURM_CONF"] = str(conf)
    started = []
    try:
        subprocess.run(["slurmctld", "-f", str(conf), "-i"], check=True, timeout=60)
        started.append(root / "slurmctld.pid")
        for name in nodes:
            subprocess.run(["slurmd", "-f", str(conf), "-N", name], check=True, timeout=60)
            started.append(root / f"slurmd-{name}.pid")
        deadline = time.monotonic() + 60
        while True:
            out = subprocess.run(
                ["sinfo", "-h", "-N", "-o", "%N %t"], capture_output=True, text=True, timeout=30
            ).stdout
            states = dict(line.split() for line in out.splitlines() if line.strip())
            if len(states) == len(nodes) and all(s == "idle" for s in states.values()):
                break
            if time.monotonic() > deadline:
                cluster = Cluster(conf, root, nodes)
                pytest.fail(
                    f"SLURM nodes not idle after 60 s: {states}\n{cluster.log('slurmctld')}"
                )
            time.sleep(0.5)
        yield Cluster(conf, root, nodes)
    finally:
        subprocess.run(["scancel", "--full", "-u", "root"], capture_output=True, timeout=30)
        for pidfile in reversed(started):
            _kill_pidfile(pidfile)
        if previous is None:
            os.environ.pop("SLURM_CONF", None)
        else:
            os.environ["SLURM_CONF"] = previous


@pytest.fixture
def free_ports() -> Callable[[int], int]:
    """`free_ports(n)`: a port p such that p .. p+n-1 are free on 127.0.0.1 right now."""

    def find(n: int) -> int:
        rng = random.Random()
        for _ in range(200):
            base = rng.randrange(30000, 60000 - n)
            try:
                sockets = []
                for port in range(base, base + n):
                    s = socket.socket()
                    sockets.append(s)
                    s.bind(("127.0.0.1", port))
                return base
            except OSError:
                continue
            finally:
                for s in sockets:
                    s.close()
        raise RuntimeError(f"no {n} consecutive free ports found")

    return find
