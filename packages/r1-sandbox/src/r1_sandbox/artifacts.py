"""Compiled programs: build once, run many, on any backend (`Sandbox.build` / `run(artifact)`).

A grader runs one submission on tens to hundreds of tests, and a checker or an IOI manager
on every test of every submission of a problem: the compile must be paid once, and it
must outlive one call. `build(sources, language, flags=None)` compiles sources (several
translation units, as CMS links a submission with the task's grader) with the flags of
r1's one table (`languages.flags_for`) under compile limits, and returns an `Artifact`. A
compile error is a result, not an exception: the artifact's status is `CE` and its
`message` is the compiler's. `run(artifact, stdin=...)` runs it; `run(script, "bash",
artifacts={"prog": a, ...})` places several as `./prog`, ... beside a script (a
Communication task's manager and contestant).

How a binary reaches a run, per backend:
- local: the binary's bytes are kept in a host file, content-addressed, owned by the
  caller and not writable by the run's uid, and bound read-only into each run as
  `./name` (`--ro-bind`); nothing is copied or decoded per run.
- every other backend with bash in its image (routed, E2B, MorphCloud): the compile is a
  sandbox job of its own (`g++ ... && base64 prog`), the binary comes back as base64 text
  and each run receives it as a file that a prologue decodes and marks executable
  (`ship`). Text, because the routed and hosted backends' wire formats are JSON; decoding
  a 50 kB binary takes well under a millisecond.
- both lift the stack limit as CMS does (recursive solutions), where the hard limit allows.
- a binary larger than the backend's output cap cannot come back; it is a `CE` that says so.
- Piston: the same bash jobs, so Piston's bash runtime must have g++ (a stock Piston
  package does not); graders on a Piston fleet use its `cms_ioi` / `codeforces` packages
  instead (r1-cp-scoring's `PistonClient`), which compile inside each request.

Data flow: sources (name -> text) + language + flags -> `build` (one sandboxed compile,
limits `compile_timeout` / `compile_memory_mb`) -> `Artifact` (cached by the caller, e.g.
r1-cp-scoring per sandbox) -> `run(artifact, stdin)` / `run_inputs(artifact, inputs)` /
`artifacts=` -> `RunResult`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import shlex
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field

from r1_sandbox.errors import UnsupportedLanguageError
from r1_sandbox.languages import Language, get_language
from r1_sandbox.result import RunResult, Status

#: Compilers need far more time and memory than the programs they build.
COMPILE_TIMEOUT_S = 30.0
COMPILE_MEMORY_MB = 2048

#: First line of a script that runs built programs: deep recursion, as CMS allows it.
STACK_PROLOGUE = "ulimit -s unlimited 2>/dev/null || ulimit -s $(ulimit -H -s) 2>/dev/null\n"


@dataclass(frozen=True)
class Artifact:
    """A built program: `OK` with its binary, or `CE` / `SE` with the reason in `message`."""

    language: str  # canonical name (`get_language(...).name`)
    status: Status
    binary: bytes = field(default=b"", repr=False)
    message: str = ""  # the compiler's message (CE) or the sandbox's failure (SE)
    digest: str = ""  # identity of what was built: language, flags, units and sources

    @property
    def ok(self) -> bool:
        return self.status is Status.OK

    def failed_result(self) -> RunResult:
        """What a run of an artifact that did not build returns: its CE or SE."""
        return RunResult(status=self.status, message=self.message, stderr=self.message)


def source_digest(
    language: str, flags: Sequence[str], units: Sequence[str], sources: Mapping[str, str]
) -> str:
    """A stable key for what a build reads: caches of artifacts use it."""
    h = hashlib.sha256()
    for part in (language, *flags, "\0units", *units, "\0sources"):
        h.update(part.encode())
        h.update(b"\0")
    for name, text in sorted(sources.items()):
        h.update(name.encode() + b"\0" + text.encode() + b"\0")
    return h.hexdigest()


def default_units(lang: Language, sources: Mapping[str, str]) -> list[str]:
    """The translation units of `sources` when the caller names none."""
    if lang.source in sources:
        return [lang.source]
    suffix = lang.source.rsplit(".", 1)[-1]
    units = sorted(n for n in sources if n.endswith("." + suffix))
    if not units:
        raise UnsupportedLanguageError(
            f"build: no {lang.name} source among {sorted(sources)[:10]}; name the units"
        )
    return units


def compile_script(lang: Language, units: Sequence[str], flags: Sequence[str] | None) -> str:
    """The bash job that compiles `units` and prints the binary as base64 on stdout."""
    argv = lang.compile_argv(list(units), "prog", flags)
    return f"{shlex.join(argv)} 1>&2 || exit 1\nbase64 -w0 prog\n"


def artifact_from_compile(result: RunResult, lang: Language, digest: str, limits: str) -> Artifact:
    """Read a compile job's result: the binary, or why there is none."""
    if result.status is Status.OK and result.stdout.strip():
        try:
            binary = base64.b64decode(result.stdout.strip(), validate=True)
        except (binascii.Error, ValueError):
            return Artifact(lang.name, Status.SE, message="the compile job's output is not base64")
        return Artifact(lang.name, Status.OK, binary, digest=digest)
    if result.status is Status.SE:
        return Artifact(lang.name, Status.SE, message=result.message, digest=digest)
    why = {
        Status.OLE: "the binary is too large to ship to the runs (output limit)",
        Status.TLE: f"compilation timed out ({limits})",
        Status.MLE: f"the compiler exceeded its memory limit ({limits})",
    }.get(result.status)
    message = why or (result.stderr or result.message).strip()[-4000:]
    return Artifact(lang.name, Status.CE, message=message, digest=digest)


def ship(
    artifacts: Mapping[str, Artifact], exec_only: Collection[str] = ()
) -> tuple[dict[str, str], str]:
    """The files and the bash prologue that place `artifacts` as `./name` in a remote run.

    Those in `exec_only` are left mode 0o111: executable, not readable, so non-dumpable.
    """
    files: dict[str, str] = {}
    prologue = ""
    for name, artifact in artifacts.items():
        if not artifact.ok:
            raise ValueError(f"artifact {name!r} did not build ({artifact.status})")
        q = shlex.quote(name)
        mode = "111" if name in exec_only else "+x"
        files[f"{name}.b64"] = base64.b64encode(artifact.binary).decode()
        prologue += f"base64 -d {q}.b64 > {q} && chmod {mode} {q} && rm -f {q}.b64 || exit 125\n"
    return files, prologue + STACK_PROLOGUE


def check_language(language: str) -> Language:
    """A compiled language, or `UnsupportedLanguageError`."""
    lang = get_language(language)
    if not lang.compiled:
        raise UnsupportedLanguageError(
            f"build: language={language!r} is interpreted; run its code directly"
        )
    return lang
