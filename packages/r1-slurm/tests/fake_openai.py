#!/usr/bin/env python3
"""A stand-in OpenAI-compatible server with vLLM's command line: `fake_openai.py MODEL --host H --port P ...`.

It answers /health, /v1/models and /v1/chat/completions (always `\\boxed{42}` after a
short think), and writes what SLURM gave it (CUDA_VISIBLE_DEVICES, node) to
$FAKE_OPENAI_RECORD when that is set. Used as the `vllm` command of the site file, so
that serve, generate and evaluate jobs run for real without a GPU.
"""

from __future__ import annotations

import argparse
import http.server
import json
import os
import sys

ANSWER = "<think>\nSix times seven.\n</think>\nThe answer is $\\boxed{42}$."


def make_handler(model: str) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def _json(self, body: dict) -> None:
            data = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            if self.path.rstrip("/") == "/health":
                self._json({})
            elif self.path.rstrip("/") == "/v1/models":
                self._json({"object": "list", "data": [{"id": model, "object": "model"}]})
            else:
                self.send_error(404)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            request = json.loads(self.rfile.read(length) or b"{}")
            if self.path.rstrip("/") not in ("/v1/chat/completions", "/v1/completions"):
                self.send_error(404)
                return
            n = int(request.get("n") or 1)
            self._json(
                {
                    "id": "fake",
                    "object": "chat.completion",
                    "model": request.get("model", model),
                    "choices": [
                        {
                            "index": i,
                            "message": {"role": "assistant", "content": ANSWER},
                            "text": ANSWER,
                            "finish_reason": "stop",
                        }
                        for i in range(n)
                    ],
                    "usage": {"prompt_tokens": 5, "completion_tokens": 9, "total_tokens": 14},
                }
            )

        def log_message(self, *args: object) -> None:
            pass

    return Handler


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("model")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args, _ = parser.parse_known_args(argv)
    record = os.environ.get("FAKE_OPENAI_RECORD")
    if record:
        with open(record, "a") as f:
            f.write(
                json.dumps(
                    {
                        "argv": sys.argv[1:],
                        "cuda_visible_devices": os.environ.get("CUDA_VISIBLE_DEVICES"),
                        "node": os.environ.get("SLURMD_NODENAME"),
                    }
                )
                + "\n"
            )
    server = http.server.ThreadingHTTPServer((args.host, args.port), make_handler(args.model))
    server.serve_forever()


if __name__ == "__main__":
    main()
