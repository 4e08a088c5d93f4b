"""Hub helpers against a fake Hub on 127.0.0.1: the real huggingface_hub client talks HTTP to it.

The fake speaks only the REST endpoints these helpers reach (repo create/info, refs,
commits, branch, preupload, commit, tree, file resolve with ranges) and keeps repos in
memory: one dict of branch -> {path: bytes} per repo.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import struct
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import huggingface_hub.constants
import pytest

from r1_train.hub import (
    HubRevisionError,
    check_hub_revision_exists,
    get_gpu_count_for_vllm,
    get_param_count_from_repo_id,
    push_to_hub_revision,
)


class FakeHub:
    """State of the fake: repos -> branches -> files, and the log of requests."""

    def __init__(self) -> None:
        self.repos: dict[str, dict[str, Any]] = {}
        self.requests: list[tuple[str, str]] = []
        self.lock = threading.Lock()

    def create(self, repo_id: str) -> None:
        first = hashlib.sha1(repo_id.encode()).hexdigest()
        self.repos[repo_id] = {
            "branches": {"main": {}},
            "heads": {"main": first},
            "commits": [first],  # oldest first
            "branch_from": {},
            "private": True,
        }

    def commit(self, repo_id: str, branch: str, files: dict[str, bytes]) -> str:
        repo = self.repos[repo_id]
        repo["branches"][branch].update(files)
        sha = hashlib.sha1(f"{repo_id}{branch}{len(repo['commits'])}".encode()).hexdigest()
        repo["commits"].append(sha)
        repo["heads"][branch] = sha
        return sha


def _handler(hub: FakeHub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:  # keep pytest output clean
            pass

        def _send(self, status: int, body: Any = None, headers: dict | None = None) -> None:
            data = (
                b""
                if body is None
                else body
                if isinstance(body, bytes)
                else json.dumps(body).encode()
            )
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        def _not_found(self, code: str = "RepoNotFound") -> None:
            self._send(404, {"error": code}, {"X-Error-Code": code, "X-Error-Message": code})

        def _body(self) -> bytes:
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))

        def _route(self) -> None:
            path = self.path.split("?")[0]
            with hub.lock:
                hub.requests.append((self.command, path))
            m = re.fullmatch(r"/api/models/([^/]+/[^/]+)(/.*)?", path)
            if self.command == "POST" and path == "/api/repos/create":
                body = json.loads(self._body())
                repo_id = f"{body.get('organization') or 'user'}/{body['name']}"
                if repo_id in hub.repos:
                    return self._send(
                        409,
                        {
                            "error": "You already created this model repo",
                            "url": f"http://{self.headers['Host']}/{repo_id}",
                        },
                    )
                hub.create(repo_id)
                return self._send(
                    200, {"url": f"http://{self.headers['Host']}/{repo_id}", "name": repo_id}
                )
            if self.command == "POST" and path == "/api/validate-yaml":  # model card check
                self._body()
                return self._send(200, {})
            if m:
                repo_id, rest = m.group(1), m.group(2) or ""
                repo = hub.repos.get(repo_id)
                if repo is None:
                    self._body()
                    return self._not_found()
                if rest == "" and self.command == "GET":
                    return self._send(
                        200, {"id": repo_id, "private": True, "sha": repo["heads"]["main"]}
                    )
                if rest == "/refs":
                    branches = [
                        {"name": b, "ref": f"refs/heads/{b}", "targetCommit": repo["heads"][b]}
                        for b in repo["branches"]
                    ]
                    return self._send(200, {"branches": branches, "converts": [], "tags": []})
                if rest.startswith("/commits/"):
                    commits = [
                        {
                            "id": sha,
                            "title": "c",
                            "message": "",
                            "authors": [],
                            "date": "2025-01-01T00:00:00.000Z",
                        }
                        for sha in reversed(repo["commits"])
                    ]
                    return self._send(200, commits)
                if rest.startswith("/branch/") and self.command == "POST":
                    branch = rest[len("/branch/") :]
                    start = json.loads(self._body() or b"{}").get("startingPoint")
                    if branch in repo["branches"]:
                        return self._send(409, {"error": "Reference already exists"})
                    # A branch from the first commit starts empty.
                    assert start == repo["commits"][0], start
                    repo["branches"][branch] = {}
                    repo["heads"][branch] = start
                    repo["branch_from"][branch] = start
                    return self._send(200, {})
                if rest.startswith("/preupload/"):
                    files = json.loads(self._body())["files"]
                    return self._send(
                        200,
                        {
                            "files": [
                                {"path": f["path"], "uploadMode": "regular", "shouldIgnore": False}
                                for f in files
                            ]
                        },
                    )
                if rest.startswith("/commit/"):
                    branch = rest[len("/commit/") :]
                    lines = [json.loads(line) for line in self._body().splitlines() if line.strip()]
                    files = {
                        line["value"]["path"]: base64.b64decode(line["value"]["content"])
                        for line in lines
                        if line["key"] == "file"
                    }
                    if branch not in repo["branches"]:
                        return self._not_found("RevisionNotFound")
                    sha = hub.commit(repo_id, branch, files)
                    return self._send(
                        200,
                        {
                            "commitUrl": f"http://{self.headers['Host']}/{repo_id}/commit/{sha}",
                            "commitOid": sha,
                        },
                    )
                if rest.startswith("/tree/"):
                    branch = rest[len("/tree/") :].split("/")[0]
                    if branch not in repo["branches"]:
                        return self._not_found("RevisionNotFound")
                    return self._send(
                        200,
                        [
                            {
                                "type": "file",
                                "path": p,
                                "size": len(d),
                                "oid": hashlib.sha1(d).hexdigest(),
                            }
                            for p, d in sorted(repo["branches"][branch].items())
                        ],
                    )
                self._body()
                return self._send(501, {"error": f"fake hub: no {self.command} {path}"})
            m = re.fullmatch(r"/([^/]+/[^/]+)/resolve/([^/]+)/(.+)", path)
            if m and m.group(1) in hub.repos:
                repo = hub.repos[m.group(1)]
                data = repo["branches"].get(m.group(2), {}).get(m.group(3))
                if data is None:
                    return self._not_found("EntryNotFound")
                headers = {
                    "X-Repo-Commit": repo["heads"][m.group(2)],
                    "ETag": f'"{hashlib.sha1(data).hexdigest()}"',
                    "Accept-Ranges": "bytes",
                }
                rng = self.headers.get("Range")
                if rng:
                    start, end = (int(x) for x in re.fullmatch(r"bytes=(\d+)-(\d+)", rng).groups())
                    part = data[start : end + 1]
                    headers["Content-Range"] = f"bytes {start}-{start + len(part) - 1}/{len(data)}"
                    return self._send(206, part, headers)
                return self._send(200, data, headers)
            self._body()
            return self._not_found()

        do_GET = do_POST = do_HEAD = do_PUT = _route

    return Handler


@pytest.fixture
def fake_hub(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeHub]:
    hub = FakeHub()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(hub))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{server.server_address[1]}")
    monkeypatch.setenv("HF_TOKEN", "hf_dummy_token_for_tests")
    # The conftest puts the hub offline for every other test; here the "hub" is local.
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
    yield hub
    server.shutdown()
    server.server_close()


def _output_dir(tmp_path: Path) -> Path:
    out = tmp_path / "run"
    (out / "checkpoint-5").mkdir(parents=True)
    (out / "checkpoint-5" / "model.safetensors").write_bytes(b"old")
    (out / "config.json").write_text('{"model_type": "qwen2"}')
    (out / "model.safetensors").write_bytes(b"weights")
    (out / "README.md").write_text("# card")
    (out / "rng_state.pth").write_bytes(b"rng")
    (out / "trainer_log.txt").write_text("log")
    return out


def _args(out: Path, **kw: Any) -> SimpleNamespace:
    base = {
        "hub_model_id": "org/tiny-r1",
        "hub_model_revision": "v00.00",
        "output_dir": str(out),
        "callbacks": ["push_to_hub_revision"],
        "overwrite_hub_revision": False,
    }
    return SimpleNamespace(**{**base, **kw})


def test_push_creates_repo_branch_from_first_commit_and_uploads(
    fake_hub: FakeHub, tmp_path: Path
) -> None:
    out = _output_dir(tmp_path)
    future = push_to_hub_revision(_args(out), extra_ignore_patterns=["*.txt"])
    future.result(timeout=30)

    repo = fake_hub.repos["org/tiny-r1"]
    assert repo["branch_from"]["v00.00"] == repo["commits"][0]
    assert set(repo["branches"]["v00.00"]) == {"config.json", "model.safetensors", "README.md"}
    assert repo["branches"]["v00.00"]["model.safetensors"] == b"weights"
    assert repo["branches"]["main"] == {}  # main untouched


def test_push_refuses_existing_revision_unless_overwrite(fake_hub: FakeHub, tmp_path: Path) -> None:
    out = _output_dir(tmp_path)
    push_to_hub_revision(_args(out)).result(timeout=30)
    with pytest.raises(HubRevisionError, match=r"v00\.00.*overwrite_hub_revision"):
        push_to_hub_revision(_args(out))

    (out / "config.json").write_text('{"model_type": "qwen2", "v": 2}')
    push_to_hub_revision(_args(out, overwrite_hub_revision=True)).result(timeout=30)
    assert b'"v": 2' in fake_hub.repos["org/tiny-r1"]["branches"]["v00.00"]["config.json"]


def test_push_needs_a_repo_id(tmp_path: Path) -> None:
    with pytest.raises(HubRevisionError, match="hub_model_id=None"):
        push_to_hub_revision(_args(tmp_path, hub_model_id=None))


def test_check_hub_revision_exists(fake_hub: FakeHub, tmp_path: Path) -> None:
    out = _output_dir(tmp_path)
    assert check_hub_revision_exists(_args(out)) is False  # no repo yet
    fake_hub.create("org/tiny-r1")
    assert check_hub_revision_exists(_args(out)) is False  # no branch yet

    # A branch without a model card: a crashed run, reusable.
    fake_hub.repos["org/tiny-r1"]["branches"]["v00.00"] = {"config.json": b"{}"}
    fake_hub.repos["org/tiny-r1"]["heads"]["v00.00"] = "0" * 40
    assert check_hub_revision_exists(_args(out)) is False

    fake_hub.repos["org/tiny-r1"]["branches"]["v00.00"]["README.md"] = b"# card"
    with pytest.raises(HubRevisionError, match="already holds a model"):
        check_hub_revision_exists(_args(out))
    assert check_hub_revision_exists(_args(out, overwrite_hub_revision=True)) is True
    # Without the callback nothing pushes there: the check reports, it does not refuse.
    assert check_hub_revision_exists(_args(out, callbacks=[])) is True


def _safetensors(tensors: dict[str, tuple[str, list[int]]]) -> bytes:
    sizes = {"BF16": 2, "F32": 4}
    header: dict[str, Any] = {"__metadata__": {"format": "pt"}}
    offset = 0
    for name, (dtype, shape) in tensors.items():
        n = sizes[dtype]
        for d in shape:
            n *= d
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + n]}
        offset += n
    raw = json.dumps(header).encode()
    return struct.pack("<Q", len(raw)) + raw + b"\0" * offset


def test_param_count_from_safetensors_metadata(fake_hub: FakeHub) -> None:
    # The name says 7b; the header says 4*8 + 16 = 48 (over two dtypes): the header wins.
    fake_hub.create("org/model-7b")
    fake_hub.repos["org/model-7b"]["branches"]["main"]["model.safetensors"] = _safetensors(
        {"w": ("BF16", [4, 8]), "b": ("F32", [16])}
    )
    assert get_param_count_from_repo_id("org/model-7b") == 48


@pytest.mark.parametrize(
    ("repo_id", "expected"),
    [
        ("Qwen/Qwen2.5-1.5B-Instruct", 1_500_000_000),
        ("deepseek-ai/DeepSeek-R1-Distill-Qwen-7B", 7_000_000_000),
        ("mistralai/Mixtral-8x7B-v0.1", 56_000_000_000),
        ("HuggingFaceTB/SmolLM2-135M", 135_000_000),
        ("org/llama-3-70b-and-8b", 70_000_000_000),
        ("open-r1/OlympicCoder-v00.00", -1),
        ("gpt2", -1),
    ],
)
def test_param_count_from_name_when_hub_has_none(
    fake_hub: FakeHub, repo_id: str, expected: int
) -> None:
    assert get_param_count_from_repo_id(repo_id) == expected


@pytest.mark.parametrize(
    ("heads", "num_gpus", "expected"),
    [(28, 8, 4), (32, 8, 8), (12, 8, 4), (40, 8, 8), (14, 8, 2), (25, 8, 1), (32, 6, 4)],
)
def test_gpu_count_for_vllm(tmp_path: Path, heads: int, num_gpus: int, expected: int) -> None:
    (tmp_path / "config.json").write_text(
        json.dumps({"model_type": "qwen2", "num_attention_heads": heads, "hidden_size": heads * 8})
    )
    assert get_gpu_count_for_vllm(str(tmp_path), num_gpus=num_gpus) == expected
