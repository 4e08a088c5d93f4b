"""Shared fixtures: offline hub settings, small data sets written to tmp files, and two
local servers: an OpenAI-compatible endpoint and a fake Hugging Face Hub (`fake_hub`, from
the workspace's dev-only r1-test-support member).

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

# The fake Hugging Face Hub on 127.0.0.1, shared with r1-train's tests (r1-test-support).
from r1_test_support import fake_hub  # noqa: F401  (imported to register the fixture)


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
    `hold_after(n)` answers n more requests, then holds every later one (unanswered, the
    client waiting) until `release()`; `holding` is set once one is held. That freezes a
    client mid-run in a known state, where a sleep in the server would only make one
    likely. `hosts` logs the Host header of each request (which base URL was used).
    """

    def __init__(self, delay: float = 0.0) -> None:
        import threading

        self.delay = delay
        self.faults: dict[str, list[str]] = {}
        self.responder = lambda prompt, n: f"<think>about {prompt}</think> answer {n}"
        self.attempts: dict[str, int] = {}
        self.successes: dict[str, int] = {}
        self.bodies: list[dict] = []
        self.hosts: list[str] = []
        self.url = ""
        self.admitted = 0
        self.hold_at: int | None = None
        self.holding = threading.Event()

    def hold_after(self, n: int) -> None:
        self.holding.clear()
        self.hold_at = self.admitted + n

    def release(self) -> None:
        self.hold_at = None

    def _fault_for(self, prompt: str, attempt: int) -> str | None:
        for needle, plan in self.faults.items():
            if needle in prompt and attempt <= len(plan):
                return plan[attempt - 1]
        return None

    async def chat(self, request):
        import asyncio

        from aiohttp import web

        while self.hold_at is not None and self.admitted >= self.hold_at:
            self.holding.set()
            await asyncio.sleep(0.01)  # cancelled when the client goes away
        self.admitted += 1
        body = await request.json()
        self.bodies.append(body)
        self.hosts.append(request.host)
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
