"""`r1-sandbox`: run one program in a sandbox, serve a router, or report the containment.

    r1-sandbox run FILE [--language L] [--stdin FILE] [--timeout S] [--memory-mb N]
                        [--backend NAME] [--json]
    r1-sandbox router [--backend local|e2b|morph|piston] [--host H] [--port P]
                      [--max-concurrency N] [--max-queue N] [--token T | --allow-no-token]
                      [--header-timeout S] [--body-timeout S] [--max-timeout-s S ...]
    r1-sandbox doctor

`run` exits 0 whenever the sandbox did its job, whatever the program did (its verdict is
in the output), 2 on a usage error and 3 on a sandbox failure (`SE`), so scripts can
tell "wrong program" from "broken sandbox". `doctor` prints the mechanisms in use and
exits 3, naming each missing one and how to get it, when the local sandbox cannot
contain a run (its runs are then `SE` with the same words). `router` exits 2 on a
configuration error, for instance a non-loopback `--host` without a token (`--token` or
`$R1_SANDBOX_TOKEN`; clients send `Authorization: Bearer <token>`) and without
`--allow-no-token`. Backends are imported inside `main`, so `--help` is instant.

Data flow: flags -> `get_sandbox` -> `run_sync` / `router.serve` -> stdout.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

EXTENSIONS = {".py": "python", ".cpp": "cpp", ".cc": "cpp", ".cxx": "cpp", ".c": "c", ".sh": "bash"}


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="r1-sandbox", description=(__doc__ or "").split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run one program and print its result")
    run.add_argument("file", type=Path, help="the program's source file")
    run.add_argument(
        "--language", "-l", help="python, cpp, c, bash (default: from the file's extension)"
    )
    run.add_argument("--stdin", type=Path, help="file fed to the program's stdin")
    run.add_argument(
        "--timeout", type=float, default=10.0, help="wall and CPU seconds (default 10)"
    )
    run.add_argument("--memory-mb", type=int, default=512, help="memory limit in MB (default 512)")
    run.add_argument(
        "--backend", default="local", help="local (default), piston, e2b, morph, routed"
    )
    run.add_argument("--router-url", help="the router of the routed backend (host:port)")
    run.add_argument("--json", action="store_true", help="print one JSON object")

    router = sub.add_parser("router", help="serve open-r1's router protocol over a backend")
    router.add_argument("--backend", default="local", help="local (default), e2b, morph, piston")
    router.add_argument(
        "--host", default="127.0.0.1", help="interface (default 127.0.0.1; 0.0.0.0 for all)"
    )
    router.add_argument("--port", type=int, default=8000)
    router.add_argument(
        "--max-concurrency", type=int, default=None, help="runs at once (default: the backend's)"
    )
    router.add_argument(
        "--max-queue", type=int, default=4096, help="jobs admitted at once; more get 503"
    )
    add_server_flags(router, "R1_SANDBOX_TOKEN")

    sub.add_parser("doctor", help="print which containment mechanisms the local sandbox uses")
    parser.add_argument("-v", "--verbose", action="store_true", help="log at INFO level")
    return parser


def add_server_flags(parser: argparse.ArgumentParser, token_env: str) -> None:
    """The flags of a server that distrusts its clients (token, timeouts, maximums)."""
    from r1_sandbox.server_limits import add_limit_flags

    parser.add_argument(
        "--token",
        default=None,
        help=f"bearer token every request must carry (default: ${token_env}; none = open)",
    )
    parser.add_argument(
        "--allow-no-token",
        action="store_true",
        help="serve a non-loopback --host without a token (only on a trusted network)",
    )
    parser.add_argument(
        "--header-timeout",
        type=float,
        default=15.0,
        help="seconds a connection may take to send a request head (default 15)",
    )
    parser.add_argument(
        "--body-timeout",
        type=float,
        default=60.0,
        help="seconds a request body may take to arrive; 408 after (default 60)",
    )
    parser.add_argument(
        "--max-connections",
        type=int,
        default=None,
        help="open connections kept; a new one beyond closes the oldest idle one "
        "(default: half the open-file limit)",
    )
    add_limit_flags(parser)


def _backend_options(name: str, args: argparse.Namespace) -> dict[str, object]:
    options: dict[str, object] = {}
    if getattr(args, "router_url", None):
        options["url"] = args.router_url
    concurrency = getattr(args, "max_concurrency", None)
    if concurrency and name == "piston":
        options["per_endpoint"] = concurrency
    elif concurrency:
        options["concurrency"] = concurrency
    return options


def main(argv: Sequence[str] | None = None) -> int:
    args = make_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    from r1_sandbox.backends import get_sandbox
    from r1_sandbox.errors import SandboxError
    from r1_sandbox.result import Status

    if args.command == "doctor":
        from r1_sandbox._containment import probe

        found = probe()
        print(json.dumps(found.describe(), indent=2))
        for problem in found.problems:
            print(f"r1-sandbox doctor: missing: {problem}", file=sys.stderr)
        if found.problems:
            print(
                "r1-sandbox doctor: every local run is SE (with this message) until it is "
                "fixed; isolation='none' runs programs uncontained",
                file=sys.stderr,
            )
        return 0 if not found.problems else 3

    if args.command == "router":
        import os

        from r1_sandbox.router import TOKEN_ENV, check_bind, serve
        from r1_sandbox.server_limits import limits_from_args

        token = args.token or os.environ.get(TOKEN_ENV) or None
        try:
            limits = limits_from_args(args)
            check_bind(args.host, token, args.allow_no_token)
            backend = get_sandbox(args.backend, **_backend_options(args.backend, args))
        except SandboxError as exc:
            print(f"r1-sandbox: {exc}", file=sys.stderr)
            return 2
        serve(
            backend,
            host=args.host,
            port=args.port,
            max_queue=args.max_queue,
            limits=limits,
            token=token,
            allow_no_token=args.allow_no_token,
            header_timeout=args.header_timeout,
            body_timeout=args.body_timeout,
            max_connections=args.max_connections,
        )
        return 0

    language = args.language or EXTENSIONS.get(args.file.suffix)
    if language is None:
        print(
            f"r1-sandbox: cannot tell the language of {args.file}; pass --language", file=sys.stderr
        )
        return 2
    try:
        code = args.file.read_text()
        stdin = args.stdin.read_text() if args.stdin else ""
        with get_sandbox(args.backend, **_backend_options(args.backend, args)) as box:
            result = box.run_sync(
                code, language, stdin=stdin, timeout=args.timeout, memory_mb=args.memory_mb
            )
    except (OSError, SandboxError) as exc:
        print(f"r1-sandbox: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(result.to_dict()))
    else:
        memory = f"{result.memory_mb:.1f} MB" if result.memory_mb is not None else "n/a"
        print(
            f"status: {result.status}  exit: {result.exit_code}  "
            f"time: {result.time_s:.3f}s  memory: {memory}"
        )
        if result.message and result.status is not Status.OK:
            print(f"message: {result.message.strip()}")
        if result.stdout:
            print("--- stdout ---")
            print(result.stdout, end="" if result.stdout.endswith("\n") else "\n")
        if result.stderr:
            print("--- stderr ---")
            print(result.stderr, end="" if result.stderr.endswith("\n") else "\n")
    return 3 if result.status is Status.SE else 0


if __name__ == "__main__":
    raise SystemExit(main())
