"""`r1-cp-scoring`: grade one submission from the shell, or serve Piston's packages.

    r1-cp-scoring ioi --subtasks SUBTASKS.json --code SOLUTION.cpp [--json]
    r1-cp-scoring codeforces --problem PROBLEM.json --code FILE --language cpp|python
        --mode pass_fail|partial|weighted_sum [--json]
    r1-cp-scoring piston-server [--host 127.0.0.1] [--port 2000] [--token T | --allow-no-token]
        [--header-timeout S] [--body-timeout S] [--max-timeout-s S ...]

`ioi` prints the score in points (sum over subtasks of points x the subtask's minimum)
and one line per subtask; with `--json`, `{"score": ..., "subtasks": [...]}`.
`codeforces` prints open-r1's score in the chosen mode; with `--json`,
`{"score": ..., "tests": [...]}`. `piston-server` takes the flags of r1-sandbox's
router (token from `--token` or `$R1_PISTON_TOKEN`; a non-loopback `--host` needs one
or `--allow-no-token`; server-side maximums). Exit codes, as every r1 CLI: 0 graded
(whatever the submission scored), 1 the job failed (the problem's own harness is broken:
a checker or manager that does not compile, a test named but missing), 2 bad usage,
input or configuration, 3 the sandbox or a required service was unavailable (nothing
was graded). Heavy imports happen inside the commands so `--help` is instant.

Data flow: files on disk -> the graders on the local sandbox -> stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any


def make_parser() -> argparse.ArgumentParser:
    from r1_sandbox.cli import add_server_flags

    parser = argparse.ArgumentParser(
        prog="r1-cp-scoring", description="IOI and Codeforces graders on the local sandbox."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    ioi = sub.add_parser("ioi", help="grade a C++ submission on IOI subtask rows")
    ioi.add_argument(
        "--subtasks",
        required=True,
        type=Path,
        help="JSON list of open-r1/ioi rows with inline test_cases",
    )
    ioi.add_argument("--code", required=True, type=Path, help="the C++ submission")
    ioi.add_argument(
        "--no-includes",
        action="store_true",
        help="do not prepend bits/stdc++.h, the task header and using namespace std",
    )
    ioi.add_argument(
        "--full", action="store_true", help="run every test (no early stop), for complete feedback"
    )
    ioi.add_argument("--json", action="store_true", help="print JSON")
    cf = sub.add_parser("codeforces", help="grade a submission on an open-r1/codeforces row")
    cf.add_argument("--problem", required=True, type=Path, help="JSON object of the problem row")
    cf.add_argument("--code", required=True, type=Path, help="the submission")
    cf.add_argument("--language", choices=["cpp", "python"], default="cpp")
    cf.add_argument(
        "--mode", choices=["pass_fail", "partial", "weighted_sum"], default="weighted_sum"
    )
    cf.add_argument(
        "--test-batch-size",
        type=int,
        default=1,
        help="tests run at once before checking for a failure (-1: all)",
    )
    cf.add_argument("--patch", action="store_true", help="apply patch_code first")
    cf.add_argument("--json", action="store_true", help="print JSON")
    server = sub.add_parser(
        "piston-server", help="Piston API v2 with the cms_ioi and codeforces packages"
    )
    server.add_argument("--host", default="127.0.0.1")
    server.add_argument("--port", type=int, default=2000)
    server.add_argument(
        "--concurrency", type=int, default=None, help="runs at once (default: the number of CPUs)"
    )
    server.add_argument(
        "--max-queue", type=int, default=4096, help="tests admitted at once; more get 503"
    )
    add_server_flags(server, "R1_PISTON_TOKEN")
    parser.add_argument("-v", "--verbose", action="store_true", help="log at INFO level")
    return parser


def _ioi(args: argparse.Namespace) -> int:
    from r1_cp_scoring.ioi import add_includes, score_subtasks, total_points

    rows = json.loads(args.subtasks.read_text())
    if not isinstance(rows, list) or not rows:
        print(f"{args.subtasks}: expected a JSON list of subtask rows", file=sys.stderr)
        return 2
    code = args.code.read_text()
    if not args.no_includes:
        code = add_includes(code, str(rows[0]["id"]))
    results = asyncio.run(score_subtasks(None, rows, code, skip_mode=not args.full))
    score = total_points(results)
    if args.json:
        print(json.dumps({"score": score, "subtasks": [r.to_dict() for r in results]}))
        return 0
    total = sum(r.points for r in results)
    print(f"{rows[0]['id']}: {score:g} / {total:g}")
    for r in results:
        print(f"  subtask {r.subtask}: {r.weighted_score:g} / {r.points:g}  {r.status}")
    return 0


def _codeforces(args: argparse.Namespace) -> int:
    from r1_cp_scoring.codeforces import grade_submission, problem_tests
    from r1_cp_scoring.patcher import patch_code

    problem: dict[str, Any] = json.loads(args.problem.read_text())
    code = args.code.read_text()
    if args.patch:
        code = patch_code(code, args.language)
    if not problem_tests(problem):
        score, tests = None, []
    elif not code.strip():
        score, tests = -1.0, []
    else:
        report = asyncio.run(
            grade_submission(
                None,
                problem,
                code,
                args.language,
                test_batch_size=args.test_batch_size,
                early_stop=args.mode == "pass_fail",
            )
        )
        score, tests = report.score(args.mode), report.to_dict()["tests"]
        if not report.compiled:
            print(report.compile_message, file=sys.stderr)
    if args.json:
        print(json.dumps({"score": score, "tests": tests}))
    else:
        passed = sum(t["passed"] for t in tests)
        print(
            f"{problem.get('id', args.problem.name)}: {score} ({args.mode}; "
            f"{passed}/{len(tests)} tests passed)"
        )
    return 0


def _server(args: argparse.Namespace) -> int:
    import os

    from r1_cp_scoring.piston_server import TOKEN_ENV, serve
    from r1_sandbox import LocalSandbox, SandboxError
    from r1_sandbox.router import check_bind
    from r1_sandbox.server_limits import limits_from_args

    token = args.token or os.environ.get(TOKEN_ENV) or None
    try:
        limits = limits_from_args(args)
        check_bind(args.host, token, args.allow_no_token, env=TOKEN_ENV)
        box = LocalSandbox(concurrency=args.concurrency)
    except SandboxError as exc:
        print(f"r1-cp-scoring: {exc}", file=sys.stderr)
        return 2
    serve(
        box,
        host=args.host,
        port=args.port,
        limits=limits,
        token=token,
        allow_no_token=args.allow_no_token,
        header_timeout=args.header_timeout,
        body_timeout=args.body_timeout,
        max_queue=args.max_queue,
        max_connections=args.max_connections,
    )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = make_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    from r1_cp_scoring.errors import (
        ConfigError,
        GradingUnavailableError,
        HarnessError,
        MissingExtraError,
    )

    try:
        if args.command == "ioi":
            return _ioi(args)
        if args.command == "codeforces":
            return _codeforces(args)
        return _server(args)
    except HarnessError as exc:
        print(f"r1-cp-scoring: the problem's harness is broken: {exc}", file=sys.stderr)
        return 1
    except GradingUnavailableError as exc:
        print(f"r1-cp-scoring: could not grade: {exc}", file=sys.stderr)
        return 3
    except (OSError, ValueError, KeyError, ConfigError, MissingExtraError) as exc:
        print(f"r1-cp-scoring: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
