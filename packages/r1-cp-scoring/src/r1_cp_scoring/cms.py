"""The CMS judge of IOI tasks (Batch and Communication) over any r1-sandbox backend.

IOI has been graded by CMS (the Contest Management System) since 2012; open-r1's
`cms_ioi` Piston package imitates it, and so does this module, with one difference in
cost: the submission is compiled once (with the task's grader and header) and the
binary reused for every test of every subtask, where the Piston package recompiles it
for each test. Checkers and managers are built once per problem and shared by every
submission.

CMS semantics kept here:
- Batch: the submission is linked with `graders/grader.cpp` (or `stub.cpp`), reads the
  test on stdin, writes stdout; a checker (`checker/checker.cpp`), when the task has
  one, is run as `checker input correct_output contestant_output` and prints a score in
  [0, 1] on stdout and its message on stderr (`translate:success|wrong|partial`); without
  one, outputs are compared by CMS's white-diff (whitespace does not matter).
- Communication: `graders/manager.cpp` reads the test on stdin and talks with each
  contestant process through a pair of FIFOs (`manager u0_to_m m_to_u0 ...`); the
  contestant's stdin and stdout are its ends; the manager prints the score and message.
  Manager and contestant share one sandbox (the backend's process limits apply to both).
- Verdicts CE / RE / TLE / MLE / WA / PA / AC with CMS's messages for outputs (`Output is
  correct`, ...) and the cms_ioi package's for failures (`Time limit exceeded`, ...), which
  open-r1's clients parse.

The manager out of the contestant's reach. CMS runs the manager in a sandbox of its own;
here both share one sandbox and one uid, because a backend's job is one sandbox (a
second one would need FIFOs shared between two jobs, which neither Piston nor a routed
backend can offer). What keeps the judge's side closed instead, on every backend:
- the manager and the small launcher that starts everything are non-dumpable (the
  launcher by `prctl(PR_SET_DUMPABLE, 0)`, the manager because it is executed from an
  execute-only file, which makes the kernel start it non-dumpable): a same-uid process
  without CAP_SYS_PTRACE, which no sandboxed process has, can then neither ptrace them
  nor open their `/proc/<pid>/mem`, `/proc/<pid>/fd/*` or `environ`; on the local
  backend the seccomp filter denies ptrace and `process_vm_*` as a second wall;
- the contestants start only after the manager is running and the whole test input has
  been read, so they never see the input, nor a manager binary they could replace;
- no verdict is parsed from a stream the contestant can write: every sandboxed process
  can write to the run's stdout (through `/proc/1/fd/1`, the namespace's init), so the
  launcher reports the manager's output behind a per-test secret that arrived first on
  its stdin and lives only in its (non-dumpable) memory; a run without that line scores
  0 (the contestant silenced its judge), never a forged score.
Not guaranteed: a contestant can still signal the manager (same uid); a manager that
dies by a signal scores the test 0, as a crash would. Time is wall clock and CPU of the
whole run as the backend measures it. The launcher needs `python3` in the sandbox image.

Many tests at once (`evaluate_many`, a subtask's tests with `test_batch_size` above 1 or
-1): a Batch task's runs of the submission, and a Communication task's launcher runs,
go through `Sandbox.run_inputs`, so on the contained local backend they run in turn in
shared sandboxes (r1-sandbox's batch runner) with every guarantee above per test (the
manager and submission still bound read-only, the manager execute-only; nothing of a
test outlives it). Memory of a Communication test is then bounded per process by its
peak, and together by the batch's cgroup, where alone the whole run's cgroup held it.

Data flow: a subtask row or a cms_ioi request -> `IOITask` -> `CMSJudge.evaluate`
(compile once, cached) -> (score, status, feedback) per test -> `ioi.score_subtask`.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import logging
import secrets
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from r1_cp_scoring._programs import Builds, builds_for, check_not_se, run_sync
from r1_cp_scoring.errors import ConfigError, HarnessError
from r1_sandbox import Artifact, RunResult, Sandbox, Status, flags_for

logger = logging.getLogger(__name__)

#: CMS's messages, worded so that open-r1's status extraction reads them too.
FEEDBACK = {
    "AC": "Output is correct",
    "PA": "Output is partially correct",
    "WA": "Output isn't correct",
    "TLE": "Time limit exceeded",
    "MLE": "Memory limit exceeded",
    "RE": "Runtime error",
    "CE": "Compilation error",
}
_TRANSLATE = {
    "translate:success": FEEDBACK["AC"],
    "translate:wrong": FEEDBACK["WA"],
    "translate:partial": FEEDBACK["PA"],
}
#: Checkers and managers are trusted and may be slower than the contestant.
HARNESS_TIMEOUT_S = 30.0
HARNESS_MEMORY_MB = 2048


@dataclass(frozen=True)
class Verdict:
    """One test's outcome: a score in [0, 1], a CMS status and its message."""

    score: float
    status: str
    feedback: str


@dataclass(frozen=True)
class IOITask:
    """What CMS needs of a problem: its id, grader files, limits and task type."""

    problem_id: str
    grader_files: Mapping[str, str] = field(default_factory=dict)
    time_limit: float = 1.0  # seconds
    memory_limit: int = 256  # MB

    def __post_init__(self) -> None:
        if not self.problem_id:
            raise ConfigError("id: an IOI task needs a problem id (it names the submission file)")
        if not self.time_limit > 0 or not self.memory_limit > 0:
            raise ConfigError(
                f"time_limit={self.time_limit!r}, memory_limit={self.memory_limit!r}: both "
                "must be > 0 (seconds, MB)"
            )

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> IOITask:
        """From a row of `open-r1/ioi` (grader_files as [name, content] pairs or a dict)."""
        files = row.get("grader_files") or []
        pairs = files.items() if isinstance(files, Mapping) else files
        return cls(
            problem_id=str(row.get("id") or ""),
            grader_files={str(name): str(content) for name, content in pairs if content},
            time_limit=float(row.get("time_limit") or 1.0),
            memory_limit=int(row.get("memory_limit") or 256),
        )

    @property
    def config(self) -> dict[str, Any]:
        """`graders/grader_config.json` of the task, when it ships one."""
        text = self.grader_files.get("graders/grader_config.json")
        if not text:
            return {}
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise HarnessError(f"{self.problem_id}: graders/grader_config.json: {exc}") from None
        return data if isinstance(data, dict) else {}

    @property
    def task_type(self) -> str:
        if "graders/manager.cpp" in self.grader_files:
            return "Communication"
        return str(self.config.get("task_type") or "Batch")

    @property
    def num_processes(self) -> int:
        return int(self.config.get("task_type_parameters_Communication_num_processes") or 1)

    @property
    def submission_path(self) -> str:
        return f"graders/{self.problem_id.lower()}.cpp"

    def submission_sources(self, submission: str) -> tuple[dict[str, str], list[str]]:
        """Files and translation units of the contestant's program, linked as CMS does."""
        sources = {
            name: text
            for name, text in self.grader_files.items()
            if name.startswith("graders/") and name != "graders/manager.cpp"
        }
        sources[self.submission_path] = submission
        units = [self.submission_path]
        units += [u for u in ("graders/grader.cpp", "graders/stub.cpp") if u in sources]
        return sources, units


def white_diff(actual: str, expected: str) -> bool:
    """CMS's default comparison: equal line by line up to whitespace, blank tails ignored.

    >>> white_diff("1  2\\n3\\n\\n", "1 2\\n3")
    True
    >>> white_diff("1 2 3", "1 2\\n3")
    False
    >>> white_diff("1\\r\\n2\\r\\n", "1\\n2")
    True
    """

    def canon(text: str) -> list[list[str]]:
        # Lines end at "\n" only; "\r" and the other blanks are whitespace inside a line.
        lines = [line.split() for line in text.split("\n")]
        while lines and not lines[-1]:
            lines.pop()
        return lines

    return canon(actual) == canon(expected)


def verdict_from_score(score: float, message: str) -> Verdict:
    """A checker's or manager's score with its (translated) message."""
    message = message.strip()
    text = _TRANSLATE.get(message.splitlines()[0].strip(), message) if message else ""
    if score >= 1.0:
        return Verdict(1.0, "AC", text or FEEDBACK["AC"])
    if score <= 0.0:
        return Verdict(0.0, "WA", text or FEEDBACK["WA"])
    return Verdict(score, "PA", text or FEEDBACK["PA"])


def _failed_run(result: RunResult) -> Verdict | None:
    """The verdict of a contestant run that did not finish normally, else None."""
    if result.status is Status.TLE:
        return Verdict(0.0, "TLE", FEEDBACK["TLE"])
    if result.status is Status.MLE:
        return Verdict(0.0, "MLE", FEEDBACK["MLE"])
    if result.status is Status.OLE:
        return Verdict(0.0, "RE", f"{FEEDBACK['RE']}: output limit exceeded")
    if result.status is Status.RE:
        return Verdict(0.0, "RE", f"{FEEDBACK['RE']} ({result.message})")
    return None


def _parse_score(stdout: str, who: str, problem_id: str) -> float:
    try:
        return float(stdout.split()[0])
    except (IndexError, ValueError):
        raise HarnessError(
            f"{problem_id}: the {who} printed {stdout[:80]!r}, not a score in [0, 1]"
        ) from None


class CMSJudge:
    """Grades IOI submissions on one sandbox, caching every build it makes.

    Args:
        box: any r1-sandbox backend whose image has bash, coreutils and g++.
        builds: the build cache to use (`judge_for` passes the sandbox's shared one,
            `_programs.builds_for`); by default a cache of its own.
        cache_size: builds kept by a cache of its own.
    """

    def __init__(
        self, box: Sandbox, *, builds: Builds | None = None, cache_size: int = 256
    ) -> None:
        self.box = box
        self.builds = builds if builds is not None else Builds(box, cache_size=cache_size)

    @property
    def compiles(self) -> int:
        """How many compile jobs its cache ran (the benchmark and tests read it)."""
        return self.builds.compiles

    async def build(self, sources: Mapping[str, str], units: Sequence[str]) -> Artifact:
        """The cached build of `units` with CMS's flags (r1-sandbox's `FLAG_SETS`)."""
        return await self.builds.build(sources, units, flags_for("cpp", "ioi"))

    async def compile_submission(self, task: IOITask, submission: str) -> Artifact:
        """The submission linked with the task's grader (cached by content)."""
        sources, units = task.submission_sources(submission)
        return await self.build(sources, units)

    async def _harness(self, task: IOITask, main: str, folder: str) -> Artifact | None:
        if main not in task.grader_files:
            return None
        sources = {k: v for k, v in task.grader_files.items() if k.startswith(folder)}
        built = await self.build(sources, [main])
        if not built.ok:
            raise HarnessError(f"{task.problem_id}: {main} does not compile:\n{built.message}")
        return built

    async def checker(self, task: IOITask) -> Artifact | None:
        return await self._harness(task, "checker/checker.cpp", "checker/")

    async def manager(self, task: IOITask) -> Artifact | None:
        return await self._harness(task, "graders/manager.cpp", "graders/")

    async def evaluate(
        self, task: IOITask, submission: str, test_input: str, expected: str | None
    ) -> Verdict:
        """Run one test; `expected` None skips the comparison (the output is kept)."""
        build = await self.compile_submission(task, submission)
        if not build.ok:
            return Verdict(0.0, "CE", f"{FEEDBACK['CE']}\n{build.message}")
        if task.task_type == "Communication":
            return (await self._communications(task, build, [test_input]))[0]
        if task.task_type != "Batch":
            raise HarnessError(f"{task.problem_id}: task type {task.task_type!r} is not supported")
        result = await self.box.run(
            build, stdin=test_input, timeout=task.time_limit, memory_mb=task.memory_limit
        )
        return (await self._judge(task, [result], [(test_input, expected)]))[0]

    async def evaluate_many(
        self, task: IOITask, submission: str, tests: Sequence[tuple[str, str | None]]
    ) -> list[Verdict]:
        """Run several tests; their runs share sandboxes (`Sandbox.run_inputs`): a Batch
        task's, the submission's; a Communication task's, the manager's and submission's."""
        if len(tests) < 2 or task.task_type not in ("Batch", "Communication"):
            return list(
                await asyncio.gather(*(self.evaluate(task, submission, i, e) for i, e in tests))
            )
        build = await self.compile_submission(task, submission)
        if not build.ok:
            return [Verdict(0.0, "CE", f"{FEEDBACK['CE']}\n{build.message}")] * len(tests)
        if task.task_type == "Communication":
            return await self._communications(task, build, [i for i, _ in tests])
        results = await self.box.run_inputs(
            build,
            [test_input for test_input, _ in tests],
            timeout=task.time_limit,
            memory_mb=task.memory_limit,
        )
        return await self._judge(task, results, tests)

    async def _judge(
        self,
        task: IOITask,
        runs: Sequence[RunResult],
        tests: Sequence[tuple[str, str | None]],
    ) -> list[Verdict]:
        """The verdicts of contestant runs: each failure, or its output judged (white-diff,
        or the checker, whose runs of these tests share sandboxes: `input_files`)."""
        verdicts: list[Verdict | None] = []
        judged: list[tuple[int, str, str, str]] = []  # (k, input, expected, output)
        for k, (run, (test_input, expected)) in enumerate(zip(runs, tests, strict=True)):
            result = check_not_se(run, f"{task.problem_id}'s submission")
            verdict = _failed_run(result)
            if verdict is None and expected is None:
                verdict = Verdict(0.0, "AC", result.stdout)
            verdicts.append(verdict)
            if verdict is None and expected is not None:
                judged.append((k, test_input, expected, result.stdout))
        checker = await self.checker(task) if judged else None
        if checker is None:
            for k, _, expected, output in judged:
                if white_diff(output, expected):
                    verdicts[k] = Verdict(1.0, "AC", FEEDBACK["AC"])
                else:
                    verdicts[k] = Verdict(0.0, "WA", FEEDBACK["WA"])
        else:
            checks = await self.box.run_inputs(
                checker,
                [""] * len(judged),
                argv=CHECKER_FILES,
                input_files=[dict(zip(CHECKER_FILES, j[1:], strict=True)) for j in judged],
                timeout=HARNESS_TIMEOUT_S,
                memory_mb=HARNESS_MEMORY_MB,
            )
            for (k, *_), run in zip(judged, checks, strict=True):
                verdicts[k] = self._checked(task, run)
        return [v for v in verdicts if v is not None]

    def _checked(self, task: IOITask, run: RunResult) -> Verdict:
        """The verdict of the checker's run on one test."""
        judged = check_not_se(run, f"{task.problem_id}'s checker")
        if judged.status is not Status.OK:
            raise HarnessError(
                f"{task.problem_id}: the checker failed ({judged.status}: {judged.message}); "
                f"stderr: {judged.stderr[-500:]}"
            )
        return verdict_from_score(
            _parse_score(judged.stdout, "checker", task.problem_id), judged.stderr
        )

    def evaluate_sync(
        self, task: IOITask, submission: str, test_input: str, expected: str | None
    ) -> Verdict:
        """`evaluate` for sync callers."""
        return run_sync(self.evaluate(task, submission, test_input, expected), self.box)

    async def _communications(
        self, task: IOITask, build: Artifact, test_inputs: Sequence[str]
    ) -> list[Verdict]:
        """Communication tests: the manager and the submission's processes, through FIFOs,
        started by the launcher; the tests of one call share sandboxes (`run_inputs`)."""
        manager = await self.manager(task)
        assert manager is not None  # task_type says so
        nonces = [secrets.token_hex(16) for _ in test_inputs]
        results = await self.box.run_inputs(
            f"exec python3 launcher.py {task.num_processes}\n",
            [f"{n}\n{test_input}" for n, test_input in zip(nonces, test_inputs, strict=True)],
            language="bash",
            artifacts={"prog": build, "manager": manager},
            exec_only=("manager",),
            files={"launcher.py": COMMUNICATION_LAUNCHER},
            timeout=task.time_limit,
            memory_mb=task.memory_limit,
        )
        return [
            self._communication_verdict(task, result, nonce)
            for result, nonce in zip(results, nonces, strict=True)
        ]

    def _communication_verdict(self, task: IOITask, run: RunResult, nonce: str) -> Verdict:
        result = check_not_se(run, f"{task.problem_id}'s manager and submission")
        failed = _failed_run(result)
        if failed is not None:
            return failed
        report = launcher_report(result.stdout, nonce)
        if report is None:
            return Verdict(0.0, "RE", f"{FEEDBACK['RE']} (the manager's verdict never arrived)")
        if report["manager_exit"] != 0:
            return Verdict(0.0, "RE", f"{FEEDBACK['RE']} (manager exit {report['manager_exit']})")
        return verdict_from_score(
            _parse_score(report["stdout"], "manager", task.problem_id), report["stderr"]
        )


#: The checker's arguments, CMS's: the test's input, the correct output, the contestant's.
CHECKER_FILES = ("input.txt", "correct_output.txt", "contestant_output.txt")

#: Starts a Communication test inside the sandbox: `python3 launcher.py N`, with the
#: per-test secret on the first line of stdin and the test input after it. Judge-side
#: code: see the module docstring for what each step keeps out of the contestant's reach.
COMMUNICATION_LAUNCHER = r"""
import base64, ctypes, json, os, subprocess, sys
ctypes.CDLL(None).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE = 4: no ptrace, no /proc/<pid>/mem
nonce = sys.stdin.buffer.readline().strip().decode()
test_input = sys.stdin.buffer.read()  # all of it, before any contestant exists
n = int(sys.argv[1])
fifos = []
for i in range(n):
    os.mkfifo(f"u{i}_to_m")
    os.mkfifo(f"m_to_u{i}")
    fifos += [f"u{i}_to_m", f"m_to_u{i}"]
if os.access("manager", os.R_OK):  # placed execute-only (exec_only=); else make it so
    os.chmod("manager", 0o111)  # the kernel starts an unreadable binary non-dumpable
manager = subprocess.Popen(
    ["./manager", *fifos],
    stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
)
users = []
for i in range(n):
    arg = f" {i}" if n > 1 else ""
    # The user's output end is opened read-write: that open never blocks, so no order
    # in which the manager opens its two ends can deadlock the pair.
    users.append(subprocess.Popen(
        ["/bin/sh", "-c", f"exec ./prog{arg} 1<>u{i}_to_m <m_to_u{i} 2>/dev/null"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
    ))
out, err = manager.communicate(test_input)
for user in users:
    if user.poll() is None:
        user.kill()
    user.wait()
report = {
    "manager_exit": manager.returncode,
    "users_exit": [user.returncode for user in users],
    "stdout": out.decode("utf-8", "replace"),
    "stderr": err.decode("utf-8", "replace")[-4000:],
}
sys.stdout.write(nonce + " " + base64.b64encode(json.dumps(report).encode()).decode() + "\n")
"""


def launcher_report(stdout: str, nonce: str) -> dict[str, Any] | None:
    """The launcher's report in `stdout`: the line behind `nonce`, or None if none is valid.

    Any other line, whoever wrote it, is ignored: only the launcher knows the nonce.
    """
    prefix = nonce + " "
    for line in reversed(stdout.splitlines()):
        if not line.startswith(prefix):
            continue
        try:
            report = json.loads(base64.b64decode(line[len(prefix) :], validate=True))
        except (binascii.Error, ValueError):
            continue
        if isinstance(report, dict) and {"manager_exit", "stdout", "stderr"} <= report.keys():
            return report
    return None


_JUDGES: weakref.WeakKeyDictionary[Sandbox, CMSJudge] = weakref.WeakKeyDictionary()


def judge_for(box: Sandbox) -> CMSJudge:
    """The one judge of a sandbox, on the sandbox's shared build cache."""
    judge = _JUDGES.get(box)
    if judge is None:
        judge = _JUDGES[box] = CMSJudge(box, builds=builds_for(box))
    return judge
