"""Shared fixtures: offline hub settings, small data sets written to tmp files, and two
local servers: an OpenAI-compatible endpoint and a fake Hugging Face Hub.

The hub-loading code stays real, but nothing may reach the network: the offline switches
are set before `datasets` is imported, and again on its config in case another test
module imported it first.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

os.environ["HF_DATASETS_OFFLINE"] = "1"
os.environ["HF_HUB_OFFLINE"] = "1"

import pytest


@pytest.fixture(autouse=True)
def _offline(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    import datasets.config

    monkeypatch.setattr(datasets.config, "HF_DATASETS_OFFLINE", True, raising=False)
    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", True, raising=False)
    # A private cache: tests never see, nor leave, cached arrow files of other runs.
    cache = tmp_path_factory.mktemp("hf-cache")
    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", cache, raising=False)


def _write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def _read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line]


# Helpers as fixtures: with --import-mode=importlib test modules cannot import conftest.
@pytest.fixture
def write_jsonl():
    return _write_jsonl


@pytest.fixture
def read_jsonl():
    return _read_jsonl


# --------------------------------------------------------------------------------------
# A real OpenAI-compatible HTTP server on 127.0.0.1, with fault injection.
# --------------------------------------------------------------------------------------

FAULTS = ("500", "429", "timeout", "malformed", "no_choices", "drop", "400", "404")


class FakeOpenAI:
    """An aiohttp server speaking /v1/chat/completions and /v1/models.

    `faults[prompt_substring]` is a list of fault names applied to the first attempts of
    each prompt containing that substring (attempt 1 gets faults[0], ...); later attempts
    succeed. `responder(prompt, n)` makes the n-th successful completion of a prompt.
    """

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.faults: dict[str, list[str]] = {}
        self.responder = lambda prompt, n: f"<think>about {prompt}</think> answer {n}"
        self.attempts: dict[str, int] = {}
        self.successes: dict[str, int] = {}
        self.bodies: list[dict] = []
        self.url = ""

    def _fault_for(self, prompt: str, attempt: int) -> str | None:
        for needle, plan in self.faults.items():
            if needle in prompt and attempt <= len(plan):
                return plan[attempt - 1]
        return None

    async def chat(self, request):
        import asyncio

        from aiohttp import web

        body = await request.json()
        self.bodies.append(body)
        prompt = body["messages"][-1]["content"]
        attempt = self.attempts[prompt] = self.attempts.get(prompt, 0) + 1
        fault = self._fault_for(prompt, attempt)
        if self.delay:
            await asyncio.sleep(self.delay)
        if fault == "500":
            return web.Response(status=500, text="internal error")
        if fault == "429":
            return web.Response(status=429, text="slow down")
        if fault == "400":
            return web.json_response({"error": "prompt too long"}, status=400)
        if fault == "404":
            return web.json_response({"error": "model does not exist"}, status=404)
        if fault == "timeout":
            await asyncio.sleep(30)
        if fault == "malformed":
            return web.Response(status=200, text='{"choices": [', content_type="application/json")
        if fault == "no_choices":
            return web.json_response({"object": "error"})
        if fault == "drop":
            request.transport.abort()
            return web.Response(status=200)
        choices, completion_tokens = [], 0
        for index in range(int(body.get("n") or 1)):  # distilabel asks for n choices at once
            n = self.successes[prompt] = self.successes.get(prompt, 0) + 1
            text = self.responder(prompt, n)
            completion_tokens += len(text.split())
            choices.append(
                {
                    "index": index,
                    "message": {"role": "assistant", "content": text},
                    "finish_reason": "stop",
                }
            )
        return web.json_response(
            {
                "id": f"chatcmpl-{n}",
                "object": "chat.completion",
                "model": body["model"],
                "choices": choices,
                "usage": {
                    "prompt_tokens": len(prompt.split()),
                    "completion_tokens": completion_tokens,
                    "total_tokens": len(prompt.split()) + completion_tokens,
                },
            }
        )

    async def models(self, request):
        from aiohttp import web

        return web.json_response({"object": "list", "data": [{"id": "teacher", "object": "model"}]})


@pytest.fixture
def openai_server():
    """A FakeOpenAI running in a thread; `.url` is its OpenAI API root."""
    import asyncio
    import threading

    from aiohttp import web

    server = FakeOpenAI()
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    state = {}

    async def start():
        app = web.Application()
        app.router.add_post("/v1/chat/completions", server.chat)
        app.router.add_get("/v1/models", server.models)
        runner = web.AppRunner(app, handler_cancellation=True)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        state["runner"] = runner
        host, port = runner.addresses[0][:2]
        server.url = f"http://{host}:{port}/v1"

    def serve():
        asyncio.set_event_loop(loop)
        loop.run_until_complete(start())
        ready.set()
        loop.run_forever()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    assert ready.wait(10)
    yield server
    asyncio.run_coroutine_threadsafe(state["runner"].cleanup(), loop).result(10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)
    loop.close()


@pytest.fixture
def free_port_url():
    """An OpenAI API root on 127.0.0.1 where nothing listens."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


# --------------------------------------------------------------------------------------
# A fake Hugging Face Hub on 127.0.0.1: the real huggingface_hub / datasets clients talk
# HTTP to it. Adapted from r1-train's tests (r1-data's tests must not import r1-train).
# --------------------------------------------------------------------------------------


class FakeHub:
    """Repos in memory: `repos[(repo_type, repo_id)]` holds every commit's files by sha.

    It speaks only the REST endpoints that `Dataset.push_to_hub` and `load_dataset` reach:
    repo create/info, preupload, commit (regular uploads, deletions), tree, paths-info and
    file resolve. `requests` logs every (method, path) for assertions on the traffic.
    """

    def __init__(self) -> None:
        import threading

        self.repos: dict[tuple[str, str], dict] = {}
        self.requests: list[tuple[str, str]] = []
        self.lfs: dict[str, bytes] = {}  # sha256 -> content, as uploaded by LFS PUTs
        self.lock = threading.Lock()

    def create(self, repo_type: str, repo_id: str) -> dict:
        import hashlib

        first = hashlib.sha1(f"{repo_type}/{repo_id}".encode()).hexdigest()
        repo = {"head": first, "commits": {first: {}}, "order": [first]}
        self.repos[(repo_type, repo_id)] = repo
        return repo

    def files(self, repo_type: str, repo_id: str, revision: str = "main") -> dict[str, bytes]:
        """The files of a repo at `revision` (`main` or a commit sha)."""
        repo = self.repos[(repo_type, repo_id)]
        return repo["commits"][repo["head"] if revision == "main" else revision]

    def commit(self, repo_type: str, repo_id: str, added: dict[str, bytes], deleted: list[str]):
        import hashlib

        repo = self.repos[(repo_type, repo_id)]
        files = {**repo["commits"][repo["head"]], **added}
        for path in deleted:
            files.pop(path, None)
        sha = hashlib.sha1(f"{repo_type}/{repo_id}/{len(repo['order'])}".encode()).hexdigest()
        repo["commits"][sha] = files
        repo["order"].append(sha)
        repo["head"] = sha
        return sha


_REPO_TYPES = {"models": "model", "datasets": "dataset", "spaces": "space"}


def _fake_hub_handler(hub: FakeHub):
    import base64
    import hashlib
    import re
    from http.server import BaseHTTPRequestHandler
    from urllib.parse import parse_qs, unquote, urlsplit

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:  # keep pytest output clean
            pass

        def _send(self, status: int, body=None, headers: dict | None = None) -> None:
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

        def _entry(self, path: str, files: dict[str, bytes]) -> dict:
            if path in files:
                data = files[path]
                return {
                    "type": "file",
                    "path": path,
                    "size": len(data),
                    "oid": hashlib.sha1(data).hexdigest(),
                }
            return {"type": "directory", "path": path, "size": 0, "oid": "0" * 40}

        def _route(self) -> None:
            url = urlsplit(self.path)
            path, query = unquote(url.path), parse_qs(url.query)
            with hub.lock:
                hub.requests.append((self.command, path))
            host = f"http://{self.headers['Host']}"
            if self.command == "POST" and path == "/api/repos/create":
                body = json.loads(self._body())
                repo_type = body.get("type") or "model"
                repo_id = f"{body.get('organization') or 'user'}/{body['name']}"
                prefix = "" if repo_type == "model" else f"{repo_type}s/"
                if (repo_type, repo_id) not in hub.repos:
                    hub.create(repo_type, repo_id)
                    return self._send(200, {"url": f"{host}/{prefix}{repo_id}", "name": repo_id})
                return self._send(
                    409,
                    {"error": "You already created this repo", "url": f"{host}/{prefix}{repo_id}"},
                )
            if self.command == "POST" and path == "/api/validate-yaml":  # dataset card check
                self._body()
                return self._send(200, {})
            m = re.fullmatch(
                r"/(?:(datasets|spaces)/)?([^/]+/[^/]+)\.git/info/lfs/objects/batch", path
            )
            if m and self.command == "POST":
                objects = json.loads(self._body())["objects"]
                actions = [
                    {**o, "actions": {"upload": {"href": f"{host}/lfs-upload/{o['oid']}"}}}
                    for o in objects
                ]
                return self._send(200, {"transfer": "basic", "objects": actions})
            m = re.fullmatch(r"/lfs-upload/([0-9a-f]{64})", path)
            if m and self.command == "PUT":
                data = self._body()
                if hashlib.sha256(data).hexdigest() != m.group(1):
                    return self._send(400, {"error": "sha256 mismatch"})
                hub.lfs[m.group(1)] = data
                return self._send(200, {})
            m = re.fullmatch(r"/api/(models|datasets|spaces)/([^/]+/[^/]+)(/.*)?", path)
            if m:
                repo_type, repo_id, rest = _REPO_TYPES[m.group(1)], m.group(2), m.group(3) or ""
                repo = hub.repos.get((repo_type, repo_id))
                if repo is None:
                    self._body()
                    return self._not_found()
                if self.command == "GET" and (rest == "" or rest.startswith("/revision/")):
                    revision = rest[len("/revision/") :] or "main"
                    sha = repo["head"] if revision == "main" else revision
                    if sha not in repo["commits"]:
                        return self._not_found("RevisionNotFound")
                    siblings = [{"rfilename": p} for p in sorted(repo["commits"][sha])]
                    return self._send(
                        200, {"id": repo_id, "private": True, "sha": sha, "siblings": siblings}
                    )
                if rest.startswith("/preupload/"):
                    files = json.loads(self._body())["files"]
                    # Binary files go through LFS, as the real Hub's .gitattributes decide.
                    modes = [
                        {
                            "path": f["path"],
                            "uploadMode": "lfs" if f["path"].endswith(".parquet") else "regular",
                            "shouldIgnore": False,
                        }
                        for f in files
                    ]
                    return self._send(200, {"files": modes})
                if rest == "/commit/main" and self.command == "POST":
                    lines = [json.loads(line) for line in self._body().splitlines() if line.strip()]
                    header = next(x["value"] for x in lines if x["key"] == "header")
                    parent = header.get("parentCommit")
                    if parent is not None and parent != repo["head"]:
                        return self._send(412, {"error": "parent commit is not the head"})
                    added = {
                        x["value"]["path"]: base64.b64decode(x["value"]["content"])
                        for x in lines
                        if x["key"] == "file"
                    }
                    for x in lines:
                        if x["key"] == "lfsFile":
                            if x["value"]["oid"] not in hub.lfs:
                                return self._send(422, {"error": "LFS object was not uploaded"})
                            added[x["value"]["path"]] = hub.lfs[x["value"]["oid"]]
                    deleted = [x["value"]["path"] for x in lines if x["key"] == "deletedFile"]
                    sha = hub.commit(repo_type, repo_id, added, deleted)
                    return self._send(
                        200, {"commitUrl": f"{host}/{repo_id}/commit/{sha}", "commitOid": sha}
                    )
                tree = re.fullmatch(r"/tree/([^/]+)/?(.*)", rest)
                if tree and self.command == "GET":
                    revision, folder = tree.group(1), tree.group(2).strip("/")
                    files = repo["commits"].get(repo["head"] if revision == "main" else revision)
                    if files is None:
                        return self._not_found("RevisionNotFound")
                    prefix = f"{folder}/" if folder else ""
                    recursive = query.get("recursive", [""])[0].lower() == "true"
                    entries: dict[str, dict] = {}
                    for p in sorted(files):
                        if not p.startswith(prefix):
                            continue
                        parts = p[len(prefix) :].split("/")
                        # Direct children only, or every file and folder below when recursive.
                        for depth in range(1, len(parts) + 1 if recursive else 2):
                            sub = prefix + "/".join(parts[:depth])
                            entries.setdefault(sub, self._entry(sub, files))
                    if folder and not entries:
                        return self._not_found("EntryNotFound")
                    return self._send(200, list(entries.values()))
                info = re.fullmatch(r"/paths-info/([^/]+)", rest)
                if info and self.command == "POST":
                    files = repo["commits"].get(
                        repo["head"] if info.group(1) == "main" else info.group(1)
                    )
                    if files is None:
                        return self._not_found("RevisionNotFound")
                    form = parse_qs(self._body().decode())
                    wanted = form.get("paths", [])
                    found = [
                        self._entry(p, files)
                        for p in wanted
                        if p in files or any(f.startswith(p.rstrip("/") + "/") for f in files)
                    ]
                    return self._send(200, found)
                self._body()
                return self._send(501, {"error": f"fake hub: no {self.command} {path}"})
            m = re.fullmatch(r"/(?:(datasets|spaces)/)?([^/]+/[^/]+)/resolve/([^/]+)/(.+)", path)
            if m:
                repo_type = _REPO_TYPES[m.group(1)] if m.group(1) else "model"
                repo = hub.repos.get((repo_type, m.group(2)))
                if repo is None:
                    return self._not_found()
                revision = repo["head"] if m.group(3) == "main" else m.group(3)
                data = repo["commits"].get(revision, {}).get(m.group(4))
                if data is None:
                    return self._not_found("EntryNotFound")
                headers = {
                    "X-Repo-Commit": revision,
                    "ETag": f'"{hashlib.sha1(data).hexdigest()}"',
                    "Accept-Ranges": "bytes",
                }
                rng = self.headers.get("Range")
                if rng:
                    start, end = re.fullmatch(r"bytes=(\d+)-(\d*)", rng).groups()
                    part = data[int(start) : int(end) + 1 if end else None]
                    headers["Content-Range"] = (
                        f"bytes {start}-{int(start) + len(part) - 1}/{len(data)}"
                    )
                    return self._send(206, part, headers)
                return self._send(200, data, headers)
            self._body()
            return self._not_found()

        do_GET = do_POST = do_HEAD = do_PUT = do_DELETE = _route

    return Handler


@pytest.fixture
def fake_hub(monkeypatch: pytest.MonkeyPatch):
    """A FakeHub served on 127.0.0.1, with the hub clients pointed at it and online.

    Both clients read `HF_ENDPOINT` once, at import, into several module constants (the
    endpoint and the file-URL templates built from it), so those are patched along with
    the environment. The `_offline` fixture
    keeps every other test off the network; here the "hub" is local.
    """
    import threading
    from http.server import ThreadingHTTPServer

    import datasets.config
    import huggingface_hub.constants

    hub = FakeHub()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _fake_hub_handler(hub))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    endpoint = f"http://127.0.0.1:{server.server_address[1]}"
    monkeypatch.setenv("HF_ENDPOINT", endpoint)
    monkeypatch.setenv("HF_TOKEN", "hf_dummy_token_for_tests")
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "0")
    monkeypatch.setattr(huggingface_hub.constants, "ENDPOINT", endpoint)
    monkeypatch.setattr(
        huggingface_hub.constants,
        "HUGGINGFACE_CO_URL_TEMPLATE",
        endpoint + "/{repo_id}/resolve/{revision}/{filename}",
    )
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
    # Xet storage needs a CAS service of its own; the hub clients fall back to plain LFS.
    monkeypatch.setenv("HF_HUB_DISABLE_XET", "1")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_DISABLE_XET", True)
    monkeypatch.setattr(datasets.config, "HF_ENDPOINT", endpoint)
    monkeypatch.setattr(
        datasets.config,
        "HUB_DATASETS_URL",
        endpoint + "/datasets/{repo_id}/resolve/{revision}/{path}",
    )
    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(datasets.config, "HF_DATASETS_OFFLINE", False)
    yield hub
    server.shutdown()
    server.server_close()
    thread.join(10)
