"""The `vllm` backend: a `vllm serve` process, reached as an OpenAI-compatible endpoint.

lighteval 0.13's in-process vLLM backend cannot run with current vLLM: it imports a module
path vLLM 0.31 no longer has, and its `[vllm]` extra pins vLLM < 0.10.2 (which would pull
torch back to 2.7). A `vllm serve` subprocess plus lighteval's litellm backend works with
any vLLM, and is also how r1-slurm's serve jobs are used. Parallelism follows open-r1's
`run_lighteval_job`: models of 30B parameters or more are split over every GPU (tensor
parallel), smaller ones get one copy per GPU (data parallel); the GPU count is reduced
until it divides the model's attention heads, as open-r1's `get_gpu_count_for_vllm` does.

Data flow: `EvalConfig` (backend=vllm) -> `vllm serve MODEL --port P ...` -> waits for
`/health` -> base URL for `runner.run_task` (endpoint backend) -> stopped at the end.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

# open-r1: "For large models >= 30b params ... we need to shard them across the GPUs".
TENSOR_PARALLEL_PARAMS = 30_000_000_000


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _model_config(model: str) -> dict[str, Any]:
    path = Path(model)
    if (path / "config.json").exists():
        return json.loads((path / "config.json").read_text())
    try:
        from huggingface_hub import hf_hub_download

        return json.loads(Path(hf_hub_download(model, "config.json")).read_text())
    except Exception:
        return {}


def parameter_count(model: str) -> int | None:
    """Parameters of a local checkpoint (safetensors headers) or hub model (its metadata).

    Without either (a cluster node that cannot reach the Hub), the size in the name, as
    open-r1's `get_param_count_from_repo_id` falls back to: the largest `<number>B`/`M`.

    """
    path = Path(model)
    if path.is_dir():
        total = 0
        for file in path.glob("*.safetensors"):
            with file.open("rb") as f:
                size = int.from_bytes(f.read(8), "little")
                header = json.loads(f.read(size))
            for name, info in header.items():
                if name != "__metadata__":
                    count = 1
                    for dim in info["shape"]:
                        count *= dim
                    total += count
        return total or None
    try:
        from huggingface_hub import get_safetensors_metadata

        return sum(get_safetensors_metadata(model).parameter_count.values())
    except Exception:
        return _size_in_name(Path(model).name)


def _size_in_name(name: str) -> int | None:
    """The largest `<number>B` (billions) or `<number>M` (millions) in a model's name.

    >>> _size_in_name("DeepSeek-R1-Distill-Qwen-32B"), _size_in_name("Qwen2.5-1.5B-Instruct")
    (32000000000, 1500000000)
    >>> _size_in_name("SmolLM2-135M"), _size_in_name("gpt2") is None
    (135000000, True)
    """
    sizes = [
        float(number) * (1e9 if unit in "bB" else 1e6)
        for number, unit in re.findall(r"(?<![\d.])(\d+(?:\.\d+)?)([bBmM])(?![a-zA-Z\d])", name)
    ]
    return int(max(sizes)) if sizes else None


def choose_parallelism(params: int | None, gpus: int, heads: int | None) -> tuple[int, int]:
    """(tensor_parallel, data_parallel) as open-r1 chooses them.

    >>> choose_parallelism(7_000_000_000, 8, 28), choose_parallelism(32_000_000_000, 8, 40)
    ((1, 8), (8, 1))
    >>> choose_parallelism(70_000_000_000, 8, 28)  # 28 heads: 8 GPUs do not divide them
    (4, 1)
    """
    gpus = max(1, gpus)
    if params is not None and params >= TENSOR_PARALLEL_PARAMS:
        tp = gpus
        # vLLM splits the attention heads evenly; GPU groups come in powers of two.
        while tp > 1 and ((heads and heads % tp) or tp & (tp - 1)):
            tp -= 1
        return tp, 1
    return 1, gpus


@dataclass
class VLLMServer:
    """A `vllm serve` process for one model, stopped with `stop()`."""

    model: str
    argv: list[str]
    port: int
    served_name: str
    ready_timeout: float = 1800.0
    proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @classmethod
    def for_config(cls, config: Any) -> VLLMServer:
        exe = shutil.which("vllm") or str(Path(sys.executable).with_name("vllm"))
        if not Path(exe).exists():
            from r1_eval.errors import MissingExtraError

            raise MissingExtraError(
                'backend=vllm needs vLLM: pip install "r1-eval[vllm]" (or use --backend '
                "endpoint with a server you started)"
            )
        tp, dp = config.tensor_parallel_size, config.data_parallel_size
        if tp is None or dp is None:
            try:
                import torch

                gpus = torch.cuda.device_count()
            except Exception:
                gpus = 1
            heads = _model_config(config.model).get("num_attention_heads")
            auto_tp, auto_dp = choose_parallelism(parameter_count(config.model), gpus, heads)
            tp, dp = tp or auto_tp, dp or auto_dp
        port = _free_port()
        served = "r1-eval-model"
        model, revision = config.model, None
        if "@" in model and not Path(model).exists():
            model, revision = model.rsplit("@", 1)
        argv = [
            exe,
            "serve",
            model,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--served-model-name",
            served,
            "--tensor-parallel-size",
            str(tp),
            "--data-parallel-size",
            str(dp),
            "--max-model-len",
            str(config.max_model_length or config.max_new_tokens + 4096),
            "--seed",
            str(config.seed),
            "--dtype",
            config.dtype,
        ]
        if revision:
            argv += ["--revision", revision]
        if config.trust_remote_code:
            argv.append("--trust-remote-code")
        return cls(config.model, argv, port, served, ready_timeout=config.server_timeout)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> str:
        """Start the server and wait until /health answers; returns the base URL."""
        from r1_eval.errors import ServiceUnavailableError

        logger.info("starting %s", " ".join(self.argv))
        self.proc = subprocess.Popen(self.argv, start_new_session=True)
        deadline = time.monotonic() + self.ready_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise ServiceUnavailableError(
                    f"vllm serve exited with code {self.proc.returncode} before it was ready"
                )
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/health", timeout=5):
                    return self.base_url
            except (urllib.error.URLError, OSError):
                time.sleep(2)
        self.stop()
        raise ServiceUnavailableError(
            f"vllm serve was not ready after {self.ready_timeout:.0f}s (--server-timeout)"
        )

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
