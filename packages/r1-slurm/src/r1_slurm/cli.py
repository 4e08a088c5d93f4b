"""The `r1-slurm` command: submit the recipe's jobs, follow them, cancel them.

    r1-slurm submit train --stage grpo --config RECIPE [--nodes N] ... [-- OVERRIDES]
    r1-slurm submit generate MODEL --dataset D --output OUT.jsonl [-- r1-data flags]
    r1-slurm submit evaluate MODEL --tasks aime24,math_500 [--backend vllm|endpoint]
    r1-slurm submit serve MODEL [--engine vllm|sglang] [--wait]
    r1-slurm submit sandbox-workers N [--base-port 2000]
    r1-slurm status [JOBID ...]      r1-slurm logs [JOBID]      r1-slurm cancel JOBID ...|--all

`--dry-run` prints the rendered script alone on stdout (a shell script: `bash -n` passes);
a submission prints `Submitted batch job N` as sbatch does, and the log path on stderr.
Exit status: 0 done, 1 SLURM refused or lost the job, 2 a flag, recipe or site file is
wrong, 3 no SLURM here (sbatch missing, controller down).

Data flow: argv -> specs + site file -> render -> stdout (--dry-run) or sbatch -> job id.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from r1_slurm.errors import SlurmConfigError, SlurmError
from r1_slurm.site import SITE_ENV, SITE_FILE
from r1_slurm.specs import (
    EvaluateSpec,
    GenerateSpec,
    JobOptions,
    SandboxWorkersSpec,
    ServeSpec,
    TrainSpec,
    add_arguments,
    from_namespace,
)

_SPECS = {
    "train": TrainSpec,
    "generate": GenerateSpec,
    "evaluate": EvaluateSpec,
    "serve": ServeSpec,
    "sandbox-workers": SandboxWorkersSpec,
}
# The field that takes what follows `--` on the command line.
_PASSTHROUGH = {"train": "overrides", "generate": "extra", "evaluate": "extra", "serve": "extra"}


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--site",
        metavar="FILE",
        default=None,
        help=f"the site file (default: ${SITE_ENV}, else ./{SITE_FILE} when it exists)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log what happens")


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="r1-slurm",
        description=(__doc__ or "").split("\n\nData flow")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    submit = commands.add_parser("submit", help="render a job's sbatch script and submit it")
    kinds = submit.add_subparsers(dest="kind", required=True, metavar="KIND")
    for kind, spec in _SPECS.items():
        skip = (_PASSTHROUGH[kind],) if kind in _PASSTHROUGH else ()
        passthrough = next(
            (f.metadata["help"] for f in dataclasses.fields(spec) if f.name in skip), None
        )
        sub = kinds.add_parser(
            kind,
            help=(spec.__doc__ or "").strip().splitlines()[0],
            usage=f"r1-slurm submit {kind} [options]" + (" [-- ARGS ...]" if skip else ""),
            epilog=f"-- ARGS: {passthrough}" if passthrough else None,
        )
        add_arguments(sub, spec, skip=skip)
        add_arguments(sub.add_argument_group("SLURM request"), JobOptions)
        sub.add_argument(
            "--dry-run", action="store_true", help="print the script on stdout, submit nothing"
        )
        if kind == "serve":
            sub.add_argument(
                "--wait",
                action="store_true",
                help="wait until the server is healthy and print its endpoint on stdout",
            )
            sub.add_argument(
                "--wait-timeout", type=float, default=3600.0, help="seconds --wait waits"
            )
        _common(sub)

    status = commands.add_parser("status", help="state of the jobs r1-slurm submitted")
    status.add_argument("job_ids", nargs="*", metavar="JOBID", help="default: every recorded job")
    status.add_argument("--last", type=int, default=20, metavar="N", help="show the N newest")
    status.add_argument("--json", action="store_true", help="one JSON object per job")
    _common(status)

    logs = commands.add_parser("logs", help="print a job's log")
    logs.add_argument("job_id", nargs="?", metavar="JOBID", help="default: the newest job")
    logs.add_argument("--tail", type=int, default=None, metavar="N", help="the last N lines")
    logs.add_argument("--follow", action="store_true", help="keep printing until the job has ended")
    _common(logs)

    cancel = commands.add_parser("cancel", help="cancel jobs (scancel)")
    cancel.add_argument("job_ids", nargs="*", metavar="JOBID")
    cancel.add_argument(
        "--all", action="store_true", help="every recorded job SLURM still knows as unfinished"
    )
    _common(cancel)
    return parser


def _submit(args: argparse.Namespace, passthrough: list[str]) -> int:
    from r1_slurm import render
    from r1_slurm.site import load_site
    from r1_slurm.submission import submit

    kind = args.kind
    extra = {_PASSTHROUGH[kind]: passthrough} if kind in _PASSTHROUGH else {}
    if passthrough and kind not in _PASSTHROUGH:
        raise SlurmConfigError(f"submit {kind}: takes no arguments after `--`")
    spec = from_namespace(_SPECS[kind], args, **extra)
    options = from_namespace(JobOptions, args)
    site = load_site(args.site)
    renderer = {
        "train": render.render_train,
        "generate": render.render_generate,
        "evaluate": render.render_evaluate,
        "serve": render.render_serve,
        "sandbox-workers": render.render_sandbox_workers,
    }[kind]
    result = renderer(spec, site, options)
    scripts = result if isinstance(result, list) else [result]
    if args.dry_run:
        sys.stdout.write("\n".join(s.script for s in scripts))
        return 0
    for rendered in scripts:
        job = submit(rendered)
        print(f"Submitted batch job {job.job_id}", flush=True)
        print(f"r1-slurm: {job.name}: log {job.log}", file=sys.stderr)
    if kind == "serve":
        print(
            f"r1-slurm: the endpoint is written to {Path(job.log).with_suffix('.endpoint')} "
            "once the server is healthy",
            file=sys.stderr,
        )
        if args.wait:
            return _wait_endpoint(job.job_id, Path(job.log).with_suffix(".endpoint"), args)
    return 0


def _wait_endpoint(job_id: str, path: Path, args: argparse.Namespace) -> int:
    from r1_slurm.submission import job_state

    deadline = time.monotonic() + args.wait_timeout
    while not path.is_file() or not path.read_text().strip():
        state = job_state(job_id).get("JobState", "")
        if state in ("FAILED", "CANCELLED", "TIMEOUT", "COMPLETED", "NODE_FAIL"):
            print(f"r1-slurm: job {job_id} ended ({state}) before serving", file=sys.stderr)
            return 1
        if time.monotonic() > deadline:
            print(f"r1-slurm: job {job_id} not serving after {args.wait_timeout:.0f} s",
                  file=sys.stderr)  # fmt: skip
            return 1
        time.sleep(1.0)
    print(path.read_text().strip())
    return 0


def _status(args: argparse.Namespace) -> int:
    from r1_slurm.submission import find_job, job_state, journal

    if args.job_ids:
        jobs = [(i, find_job(i)) for i in args.job_ids]
    else:
        jobs = [(j.job_id, j) for j in journal()[-args.last :]]
    rows = []
    for job_id, record in jobs:
        info = job_state(job_id)
        rows.append({
            "job_id": job_id,
            "name": record.name if record else info.get("JobName", "?"),
            "kind": record.kind if record else "-",
            "state": info.get("JobState", "GONE"),
            "nodes": info.get("NodeList", "-") or "-",
            "restarts": info.get("Restarts", "-"),
            "elapsed": info.get("RunTime", "-"),
            "log": record.log if record else info.get("StdOut", "-"),
        })  # fmt: skip
    if args.json:
        for row in rows:
            print(json.dumps(row))
        return 0
    if not rows:
        print("r1-slurm: no jobs recorded yet (r1-slurm submit ...)", file=sys.stderr)
        return 0
    print(f"{'JOBID':<10}{'STATE':<12}{'KIND':<16}{'NODES':<14}{'ELAPSED':<12}NAME / LOG")
    for r in rows:
        print(f"{r['job_id']:<10}{r['state']:<12}{r['kind']:<16}{r['nodes']:<14}"
              f"{r['elapsed']:<12}{r['name']}  {r['log']}")  # fmt: skip
    return 0


def _logs(args: argparse.Namespace) -> int:
    from r1_slurm.submission import job_state, journal, log_file

    job_id = args.job_id
    if job_id is None:
        recorded = journal()
        if not recorded:
            print("r1-slurm: no jobs recorded yet; give a JOBID", file=sys.stderr)
            return 2
        job_id = recorded[-1].job_id
    path = log_file(job_id)
    if path is None:
        print(f"r1-slurm: job {job_id}: no log known (not submitted by r1-slurm, and "
              "SLURM has forgotten it)", file=sys.stderr)  # fmt: skip
        return 1
    position = 0
    while True:
        if path.is_file():
            text = path.read_text(errors="replace")
            if not args.follow and args.tail is not None:
                text = "".join(text.splitlines(keepends=True)[-args.tail :])
            sys.stdout.write(text[position:] if args.follow else text)
            sys.stdout.flush()
            position = len(text)
        elif not args.follow:
            print(f"r1-slurm: job {job_id}: {path} does not exist (yet)", file=sys.stderr)
            return 1
        if not args.follow:
            return 0
        if job_state(job_id).get("JobState", "GONE") not in (
            "PENDING",
            "RUNNING",
            "REQUEUED",
            "CONFIGURING",
            "COMPLETING",
        ):
            return 0
        time.sleep(1.0)


def _cancel(args: argparse.Namespace) -> int:
    from r1_slurm.submission import cancel, job_state, journal

    ids = list(args.job_ids)
    if args.all:
        live = ("PENDING", "RUNNING", "REQUEUED", "CONFIGURING", "SUSPENDED")
        ids += [j.job_id for j in journal() if job_state(j.job_id).get("JobState") in live]
    if not ids:
        print("r1-slurm: nothing to cancel (give JOBIDs or --all)", file=sys.stderr)
        return 2 if not args.all else 0
    cancel(ids)
    print(f"r1-slurm: cancelled {' '.join(ids)}", file=sys.stderr)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    # Everything after the first `--` goes to the job's own command (r1-train, r1-data...).
    passthrough: list[str] = []
    if "--" in argv:
        index = argv.index("--")
        argv, passthrough = argv[:index], argv[index + 1 :]
    args = make_parser().parse_args(argv)
    if args.verbose:
        import logging

        logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        if args.command == "submit":
            return _submit(args, passthrough)
        if passthrough:
            raise SlurmConfigError(f"{args.command}: takes no arguments after `--`")
        if args.command == "status":
            return _status(args)
        if args.command == "logs":
            return _logs(args)
        return _cancel(args)
    except SlurmError as exc:
        print(f"r1-slurm: {exc}", file=sys.stderr)
        return exc.exit_code


if __name__ == "__main__":
    raise SystemExit(main())
