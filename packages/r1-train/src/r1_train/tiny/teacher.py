"""The tiny recipe's teacher behind an OpenAI-compatible HTTP server (`/v1/chat/completions`).

In DeepSeek-R1's distillation the traces come from a large teacher served by vLLM or
SGLang, and `r1-data generate` talks to it over HTTP. The quickstart keeps that seam
real: its teacher is the column-addition solver of `addition.teacher_trace`, but it sits
behind a real aiohttp server on 127.0.0.1, speaking the same endpoints a vLLM server does
(`GET /v1/models`, `POST /v1/chat/completions` with `n` choices and `usage`), so the
generate stage runs the same client, retries, journal and resume a cluster run does. A
program instead of a model keeps the traces correct and the stage fast; swapping in a
real model is a matter of `--base-url`.

The server runs in a background thread of the quickstart for the duration of the run,
or alone (`python -m r1_train.tiny.teacher --port 8000`) to rerun the generate stage by
hand.

Data flow: `r1-data generate` -> HTTP request (chat messages) -> the last user message
-> `Add A and B` parsed -> `teacher_trace` -> chat completion JSON -> the trace journal.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import re
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

from r1_train.tiny.addition import Problem, teacher_trace

logger = logging.getLogger(__name__)

MODEL_NAME = "tiny-addition-teacher"
# Anywhere in the message, so a benchmark template around the problem does not matter.
_PROBLEM = re.compile(r"Add (\d+) and (\d+)\.")


def answer(messages: list[dict[str, Any]]) -> str | None:
    """The teacher's trace for the last user message, or None if it holds no sum."""
    user = [m for m in messages if m.get("role") == "user"]
    if not user:
        return None
    found = _PROBLEM.search(str(user[-1].get("content", "")))
    if found is None:
        return None
    return teacher_trace(Problem(int(found[1]), int(found[2])))


def _app(model: str) -> Any:
    from aiohttp import web

    async def models(request: web.Request) -> web.Response:
        return web.json_response({"object": "list", "data": [{"id": model, "object": "model"}]})

    async def chat(request: web.Request) -> web.Response:
        try:
            body = await request.json()
            messages = body["messages"]
            n = int(body.get("n") or 1)
        except (ValueError, KeyError, TypeError):
            return web.json_response(
                {"error": {"message": "expected JSON with messages", "type": "invalid_request"}},
                status=400,
            )
        trace = answer(messages)
        if trace is None:
            # A 4xx that is not retried: the client fails the row at once, as for a real
            # server rejecting a prompt.
            return web.json_response(
                {"error": {"message": "no 'Add A and B.' in the last user message"}},
                status=400,
            )
        prompt_tokens = sum(len(str(m.get("content", "")).split()) for m in messages)
        completion_tokens = len(trace.split())
        return web.json_response(
            {
                "id": "chatcmpl-tiny",
                "object": "chat.completion",
                "model": body.get("model", model),
                "choices": [
                    {
                        "index": i,
                        "message": {"role": "assistant", "content": trace},
                        "finish_reason": "stop",
                    }
                    for i in range(n)
                ],
                "usage": {
                    "prompt_tokens": prompt_tokens,
                    "completion_tokens": n * completion_tokens,
                    "total_tokens": prompt_tokens + n * completion_tokens,
                },
            }
        )

    app = web.Application()
    app.router.add_get("/v1/models", models)
    app.router.add_post("/v1/chat/completions", chat)
    return app


@contextmanager
def serve_teacher(host: str = "127.0.0.1", port: int = 0, model: str = MODEL_NAME) -> Iterator[str]:
    """Serve the teacher in a background thread; yields its OpenAI API root (`.../v1`).

    Port 0 picks a free port, so parallel runs never collide.
    """
    from aiohttp import web

    loop = asyncio.new_event_loop()
    ready = threading.Event()
    state: dict[str, Any] = {}

    async def start() -> None:
        runner = web.AppRunner(_app(model), access_log=None)
        await runner.setup()
        await web.TCPSite(runner, host, port).start()
        state["runner"] = runner
        bound_host, bound_port = runner.addresses[0][:2]
        state["url"] = f"http://{bound_host}:{bound_port}/v1"

    def run() -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(start())
        except BaseException as exc:  # reported to the caller below
            state["error"] = exc
            ready.set()
            return
        ready.set()
        loop.run_forever()

    thread = threading.Thread(target=run, name="tiny-teacher", daemon=True)
    thread.start()
    if not ready.wait(30) or "error" in state:
        raise RuntimeError(
            f"the teacher server did not start on {host}:{port}: {state.get('error')}"
        )
    try:
        yield state["url"]
    finally:
        asyncio.run_coroutine_threadsafe(state["runner"].cleanup(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


def main(argv: list[str] | None = None) -> int:
    """`python -m r1_train.tiny.teacher`: serve the teacher until interrupted."""
    parser = argparse.ArgumentParser(
        prog="python -m r1_train.tiny.teacher",
        description="Serve the tiny recipe's column-addition teacher as an OpenAI-compatible "
        "endpoint, for rerunning the quickstart's `r1-data generate` stage by hand.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8000, help="port to listen on")
    parser.add_argument("--model", default=MODEL_NAME, help="the model name it answers to")
    args = parser.parse_args(argv)
    with serve_teacher(args.host, args.port, args.model) as url:
        sys.stdout.write(f"teacher serving {args.model!r} at {url} (Ctrl-C to stop)\n")
        sys.stdout.flush()
        with suppress(KeyboardInterrupt):
            threading.Event().wait()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
