"""An OpenAI-compatible chat server on 127.0.0.1 whose answers are scripted per prompt."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

# answer(prompt_text, n, attempt) -> list of n completions, or an int HTTP status to fail.
Answer = Callable[[str, int, int], "list[str] | int"]


@contextmanager
def fake_openai(answer: Answer) -> Iterator[dict[str, Any]]:
    state: dict[str, Any] = {"requests": 0, "attempts": {}}
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _json(self, status: int, body: Any) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            self._json(200, {"data": [{"id": "known-answers", "object": "model"}]})

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            prompt = "\n".join(m["content"] for m in body["messages"] if m["role"] == "user")
            n = int(body.get("n") or 1)
            with lock:
                state["requests"] += 1
                attempt = state["attempts"][prompt] = state["attempts"].get(prompt, 0) + 1
            out = answer(prompt, n, attempt)
            if isinstance(out, int):
                self._json(out, {"error": {"message": "scripted failure", "type": "server"}})
                return
            self._json(
                200,
                {
                    "id": "cmpl-1",
                    "object": "chat.completion",
                    "created": 0,
                    "model": body["model"],
                    "choices": [
                        {
                            "index": i,
                            "message": {"role": "assistant", "content": text},
                            "finish_reason": "stop",
                        }
                        for i, text in enumerate(out)
                    ],
                    "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
                },
            )

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state["base_url"] = f"http://127.0.0.1:{server.server_address[1]}/v1"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
