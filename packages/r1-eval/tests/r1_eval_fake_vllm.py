"""A stand-in for `vllm serve MODEL --port P --served-model-name NAME ...` (no GPU here).

It records its command line and pid to $FAKE_VLLM_RECORD, answers /health and the
OpenAI chat API on 127.0.0.1:P, and gives each known problem ($FAKE_VLLM_ANSWERS, a JSON
object problem -> answer) its boxed answer n times. SIGTERM ends it, as it ends vLLM.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("command", choices=["serve"])
    parser.add_argument("model")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--served-model-name", required=True)
    args, _ = parser.parse_known_args(argv)
    answers: dict[str, str] = json.loads(os.environ["FAKE_VLLM_ANSWERS"])
    with open(os.environ["FAKE_VLLM_RECORD"], "a") as f:
        f.write(json.dumps({"argv": argv, "pid": os.getpid()}) + "\n")

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *a: Any) -> None:
            pass

        def _json(self, status: int, body: Any) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            self._json(200, {"data": [{"id": args.served_model_name, "object": "model"}]})

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            if body.get("model") != args.served_model_name:
                self._json(404, {"error": {"message": f"no model {body.get('model')!r}"}})
                return
            prompt = "\n".join(m["content"] for m in body["messages"] if m["role"] == "user")
            gold = next((a for p, a in answers.items() if p in prompt), "?")
            text = f"The answer is $\\boxed{{{gold}}}$."
            choices = [
                {"index": i, "message": {"role": "assistant", "content": text},
                 "finish_reason": "stop"}
                for i in range(int(body.get("n") or 1))
            ]  # fmt: skip
            self._json(200, {"id": "c", "object": "chat.completion", "created": 0,
                             "model": body["model"], "choices": choices,
                             "usage": {"prompt_tokens": 1, "completion_tokens": 1,
                                       "total_tokens": 2}})  # fmt: skip

    ThreadingHTTPServer((args.host, args.port), Handler).serve_forever()


if __name__ == "__main__":
    main(sys.argv[1:])
