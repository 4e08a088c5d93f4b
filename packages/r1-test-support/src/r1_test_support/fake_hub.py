"""A fake Hugging Face Hub on 127.0.0.1, for tests that push to or load from the Hub.

The Hub is a hosted service that the tests cannot reach, so it is replaced at its HTTP
edge: the real `huggingface_hub` and `datasets` clients send their real requests to this
server, and a test asserts on what the Hub would have stored. Mocking `HfApi` methods
instead would test the mocks; the bugs worth catching (a model repo where a dataset repo
was meant, a public repo that should be private, a shard that a second push leaves
behind, a branch that inherits another run's files) live in the requests themselves.

It serves only what r1's code reaches: repo create and info, refs, commits, branch
creation, preupload, commit (regular files, LFS files, deletions), the LFS batch and
upload, tree listing, paths-info and file resolve with byte ranges. Anything else answers
501 naming the request, so a new client call shows up as a clear failure, not a hang.

Data flow: a test's push (`Dataset.push_to_hub`, `HfApi.upload_folder`, ...) -> HTTP on
127.0.0.1 -> `FakeHub.repos` in memory -> the test's assertions, or the same clients
reading it back (`load_dataset`, `hf_hub_download`).
"""

from __future__ import annotations

import base64
import hashlib
import importlib
import importlib.util
import json
import re
import threading
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypedDict
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

__all__ = ["FakeHub", "FakeRepo", "fake_hub", "point_hub_clients_at", "serve_fake_hub"]

# The Hub's URL segment of each repo type, and back.
_SEGMENT = {"model": "models", "dataset": "datasets", "space": "spaces"}
_TYPE = {v: k for k, v in _SEGMENT.items()}


class FakeRepo(TypedDict):
    """One repo of the fake Hub. Plain dicts, so a test may also set state directly."""

    repo_id: str
    repo_type: str  # "model", "dataset" or "space"
    private: bool  # as asked for at creation (`visibility`, or `private` of older clients)
    branches: dict[str, dict[str, bytes]]  # branch -> {path: content} at its head
    heads: dict[str, str]  # branch -> sha of its head commit
    commits: list[str]  # every commit of the repo, oldest first (the first is empty)
    snapshots: dict[str, dict[str, bytes]]  # commit sha -> {path: content}
    branch_from: dict[str, str]  # branch -> the commit it was created from


class FakeHub:
    """The Hub's state, in memory, and the log of the requests it received.

    `repos` is keyed as the Hub's URLs name repos: `org/name` for a model, and
    `datasets/org/name` or `spaces/org/name` for the other types; `repo()` and `files()`
    take the type as an argument instead. `requests` logs every `(method, path)`.
    Files whose name ends with one of `lfs_suffixes` are uploaded through LFS, as the
    real Hub's `.gitattributes` would decide; the others are sent inline in the commit.
    """

    def __init__(self, lfs_suffixes: Iterable[str] = (".parquet",)) -> None:
        self.repos: dict[str, FakeRepo] = {}
        self.requests: list[tuple[str, str]] = []
        self.lfs: dict[str, bytes] = {}  # sha256 -> content, as uploaded by LFS PUTs
        self.lfs_suffixes = tuple(lfs_suffixes)
        self.url = ""  # the endpoint, once served
        self.lock = threading.Lock()
        # Commit shas differ between hubs: the clients cache downloads by commit in the
        # user's cache folder, and a sha of an earlier test run must never match.
        self._salt = uuid.uuid4().hex

    @staticmethod
    def key(repo_id: str, repo_type: str = "model") -> str:
        """The key of a repo in `repos`: its path in the Hub's URLs."""
        return repo_id if repo_type == "model" else f"{_SEGMENT[repo_type]}/{repo_id}"

    def create(self, repo_id: str, repo_type: str = "model", private: bool = False) -> FakeRepo:
        """A new repo whose `main` holds one empty commit, as the Hub makes it."""
        first = hashlib.sha1(f"{self._salt}/{repo_type}/{repo_id}".encode()).hexdigest()
        repo: FakeRepo = {
            "repo_id": repo_id,
            "repo_type": repo_type,
            "private": private,
            "branches": {"main": {}},
            "heads": {"main": first},
            "commits": [first],
            "snapshots": {first: {}},
            "branch_from": {},
        }
        self.repos[self.key(repo_id, repo_type)] = repo
        return repo

    def repo(self, repo_id: str, repo_type: str = "model") -> FakeRepo:
        """The repo, or KeyError naming the repos that exist."""
        try:
            return self.repos[self.key(repo_id, repo_type)]
        except KeyError:
            raise KeyError(
                f"fake hub has no {repo_type} repo {repo_id!r}; it has {sorted(self.repos)}"
            ) from None

    def files(
        self, repo_id: str, repo_type: str = "model", revision: str = "main"
    ) -> dict[str, bytes]:
        """The files of a repo at `revision` (a branch name or a commit sha)."""
        files = _files_at(self.repo(repo_id, repo_type), revision)
        if files is None:
            raise KeyError(f"{repo_type} repo {repo_id!r} has no revision {revision!r}")
        return files

    def commit(
        self,
        repo_id: str,
        added: dict[str, bytes],
        deleted: Iterable[str] = (),
        branch: str = "main",
        repo_type: str = "model",
    ) -> str:
        """Commit on top of `branch`'s head; returns the new commit's sha."""
        repo = self.repo(repo_id, repo_type)
        files = {**repo["branches"][branch], **added}
        for path in deleted:
            files.pop(path, None)
        sha = hashlib.sha1(
            f"{self._salt}/{repo_type}/{repo_id}/{branch}/{len(repo['commits'])}".encode()
        ).hexdigest()
        repo["branches"][branch] = files
        repo["heads"][branch] = sha
        repo["commits"].append(sha)
        repo["snapshots"][sha] = dict(files)
        return sha


def _files_at(repo: FakeRepo, revision: str) -> dict[str, bytes] | None:
    if revision in repo["branches"]:
        return repo["branches"][revision]
    return repo["snapshots"].get(revision)


def _sha_at(repo: FakeRepo, revision: str) -> str:
    return repo["heads"].get(revision, revision)


def _handler(hub: FakeHub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # keep pytest output clean
            pass

        def _send(self, status: int, body: Any = None, headers: dict[str, str] | None = None):
            if body is None:
                data = b""
            elif isinstance(body, bytes):
                data = body
            else:
                data = json.dumps(body).encode()
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

        def _entry(self, path: str, files: dict[str, bytes]) -> dict[str, Any]:
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
                return self._create(json.loads(self._body()), host)
            if self.command == "POST" and path == "/api/validate-yaml":  # the card's metadata
                self._body()
                return self._send(200, {})
            m = re.fullmatch(
                r"/((?:datasets/|spaces/)?[^/]+/[^/]+)\.git/info/lfs/objects/batch", path
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
                repo = hub.repos.get(FakeHub.key(m.group(2), _TYPE[m.group(1)]))
                if repo is None:
                    self._body()
                    return self._not_found()
                return self._api(repo, m.group(3) or "", query, host)
            m = re.fullmatch(r"/(?:(datasets|spaces)/)?([^/]+/[^/]+)/resolve/([^/]+)/(.+)", path)
            if m:
                repo_type = _TYPE[m.group(1)] if m.group(1) else "model"
                repo = hub.repos.get(FakeHub.key(m.group(2), repo_type))
                if repo is None:
                    return self._not_found()
                return self._resolve(repo, m.group(3), m.group(4))
            self._body()
            return self._not_found()

        def _create(self, body: dict[str, Any], host: str) -> None:
            repo_type = body.get("type") or "model"
            repo_id = f"{body.get('organization') or 'user'}/{body['name']}"
            prefix = "" if repo_type == "model" else f"{_SEGMENT[repo_type]}/"
            answer = {"url": f"{host}/{prefix}{repo_id}", "name": repo_id}
            with hub.lock:
                if FakeHub.key(repo_id, repo_type) in hub.repos:
                    return self._send(409, {**answer, "error": "You already created this repo"})
                # huggingface_hub 1.x sends `visibility`; older clients sent `private`.
                private = body.get("visibility") == "private" or bool(body.get("private"))
                hub.create(repo_id, repo_type, private=private)
            return self._send(200, answer)

        def _api(self, repo: FakeRepo, rest: str, query: dict[str, list[str]], host: str) -> None:
            if self.command == "GET" and (rest == "" or rest.startswith("/revision/")):
                revision = rest[len("/revision/") :] or "main"
                files = _files_at(repo, revision)
                if files is None:
                    return self._not_found("RevisionNotFound")
                info = {
                    "id": repo["repo_id"],
                    "private": repo["private"],
                    "sha": _sha_at(repo, revision),
                    "siblings": [{"rfilename": p} for p in sorted(files)],
                }
                return self._send(200, info)
            if rest == "/refs" and self.command == "GET":
                branches = [
                    {"name": b, "ref": f"refs/heads/{b}", "targetCommit": repo["heads"][b]}
                    for b in repo["branches"]
                ]
                return self._send(200, {"branches": branches, "converts": [], "tags": []})
            if rest.startswith("/commits/") and self.command == "GET":
                commits = [
                    {
                        "id": sha,
                        "title": "commit",
                        "message": "",
                        "authors": [],
                        "date": "2025-01-01T00:00:00.000Z",
                    }
                    for sha in reversed(repo["commits"])  # newest first, as the Hub lists them
                ]
                return self._send(200, commits)
            if rest.startswith("/branch/") and self.command == "POST":
                return self._branch(
                    repo, rest[len("/branch/") :], json.loads(self._body() or b"{}")
                )
            if rest.startswith("/preupload/") and self.command == "POST":
                files = json.loads(self._body())["files"]
                modes = [
                    {
                        "path": f["path"],
                        "uploadMode": "lfs" if f["path"].endswith(hub.lfs_suffixes) else "regular",
                        "shouldIgnore": False,
                    }
                    for f in files
                ]
                return self._send(200, {"files": modes})
            if rest.startswith("/commit/") and self.command == "POST":
                return self._commit(repo, rest[len("/commit/") :], host)
            tree = re.fullmatch(r"/tree/([^/]+)/?(.*)", rest)
            if tree and self.command == "GET":
                recursive = query.get("recursive", [""])[0].lower() == "true"
                return self._tree(repo, tree.group(1), tree.group(2).strip("/"), recursive)
            info = re.fullmatch(r"/paths-info/([^/]+)", rest)
            if info and self.command == "POST":
                files = _files_at(repo, info.group(1))
                if files is None:
                    return self._not_found("RevisionNotFound")
                wanted = parse_qs(self._body().decode()).get("paths", [])
                found = [
                    self._entry(p, files)
                    for p in wanted
                    if p in files or any(f.startswith(p.rstrip("/") + "/") for f in files)
                ]
                return self._send(200, found)
            self._body()
            return self._send(501, {"error": f"fake hub: no {self.command} {self.path}"})

        def _branch(self, repo: FakeRepo, branch: str, body: dict[str, Any]) -> None:
            if branch in repo["branches"]:
                return self._send(409, {"error": "Reference already exists"})
            start = body.get("startingPoint") or repo["heads"]["main"]
            files = _files_at(repo, start)
            if files is None:
                return self._not_found("RevisionNotFound")
            with hub.lock:
                repo["branches"][branch] = dict(files)
                repo["heads"][branch] = _sha_at(repo, start)
                repo["branch_from"][branch] = _sha_at(repo, start)
            return self._send(200, {})

        def _commit(self, repo: FakeRepo, branch: str, host: str) -> None:
            lines = [json.loads(line) for line in self._body().splitlines() if line.strip()]
            if branch not in repo["branches"]:
                return self._not_found("RevisionNotFound")
            header = next(x["value"] for x in lines if x["key"] == "header")
            parent = header.get("parentCommit")
            if parent is not None and parent != repo["heads"][branch]:
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
            with hub.lock:
                sha = hub.commit(repo["repo_id"], added, deleted, branch, repo["repo_type"])
            url = f"{host}/{FakeHub.key(repo['repo_id'], repo['repo_type'])}/commit/{sha}"
            return self._send(200, {"commitUrl": url, "commitOid": sha})

        def _tree(self, repo: FakeRepo, revision: str, folder: str, recursive: bool) -> None:
            files = _files_at(repo, revision)
            if files is None:
                return self._not_found("RevisionNotFound")
            prefix = f"{folder}/" if folder else ""
            entries: dict[str, dict[str, Any]] = {}
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

        def _resolve(self, repo: FakeRepo, revision: str, filename: str) -> None:
            data = (_files_at(repo, revision) or {}).get(filename)
            if data is None:
                return self._not_found("EntryNotFound")
            headers = {
                "X-Repo-Commit": _sha_at(repo, revision),
                "ETag": f'"{hashlib.sha1(data).hexdigest()}"',
                "Accept-Ranges": "bytes",
            }
            rng = re.fullmatch(r"bytes=(\d+)-(\d*)", self.headers.get("Range") or "")
            if rng:
                start = int(rng.group(1))
                part = data[start : int(rng.group(2)) + 1 if rng.group(2) else None]
                headers["Content-Range"] = f"bytes {start}-{start + len(part) - 1}/{len(data)}"
                return self._send(206, part, headers)
            return self._send(200, data, headers)

        do_GET = do_POST = do_HEAD = do_PUT = do_DELETE = _route

    return Handler


@contextmanager
def serve_fake_hub(hub: FakeHub | None = None) -> Iterator[FakeHub]:
    """Serve `hub` (a new FakeHub by default) on 127.0.0.1 for the `with` block.

    The yielded hub's `url` is the endpoint to give the clients (`HF_ENDPOINT`).
    """
    hub = hub or FakeHub()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(hub))
    thread = threading.Thread(target=server.serve_forever, name="fake-hub", daemon=True)
    thread.start()
    hub.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield hub
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


def point_hub_clients_at(endpoint: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Aim huggingface_hub and datasets (those installed) at `endpoint`, online, with a token.

    Both clients read `HF_ENDPOINT` once, at import, into module constants (the endpoint
    and the file-URL templates built from it), so those are patched along with the
    environment; `monkeypatch` undoes it all after the test. Xet storage needs a CAS
    service of its own, so it is switched off and the clients fall back to plain LFS.
    """
    monkeypatch.setenv("HF_ENDPOINT", endpoint)
    monkeypatch.setenv("HF_TOKEN", "hf_dummy_token_for_tests")
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "0")
    monkeypatch.setenv("HF_HUB_DISABLE_XET", "1")
    if importlib.util.find_spec("huggingface_hub") is not None:
        constants = importlib.import_module("huggingface_hub.constants")
        monkeypatch.setattr(constants, "ENDPOINT", endpoint)
        monkeypatch.setattr(
            constants,
            "HUGGINGFACE_CO_URL_TEMPLATE",
            endpoint + "/{repo_id}/resolve/{revision}/{filename}",
        )
        monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
        monkeypatch.setattr(constants, "HF_HUB_DISABLE_XET", True)
    if importlib.util.find_spec("datasets") is not None:
        config = importlib.import_module("datasets.config")
        monkeypatch.setattr(config, "HF_ENDPOINT", endpoint)
        monkeypatch.setattr(
            config, "HUB_DATASETS_URL", endpoint + "/datasets/{repo_id}/resolve/{revision}/{path}"
        )
        monkeypatch.setattr(config, "HF_HUB_OFFLINE", False)
        monkeypatch.setattr(config, "HF_DATASETS_OFFLINE", False)


@pytest.fixture
def fake_hub(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeHub]:
    """A FakeHub served on 127.0.0.1, with the hub clients pointed at it for the test.

    Register it in a conftest with `from r1_test_support import fake_hub`.
    """
    with serve_fake_hub() as hub:
        point_hub_clients_at(hub.url, monkeypatch)
        yield hub
