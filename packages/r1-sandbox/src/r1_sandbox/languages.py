"""The languages r1-sandbox runs, and how each backend names them.

A language is a source file name, an optional compile command and a run command, all
relative to the scratch directory. Compiled languages are split in two steps so a batch
of inputs for one program compiles it once (the grader's case: one submission, many
tests). C and C++ use the flags of Codeforces and IOI (`-O2`, C++17 / C17, static math).

Each hosted service spells languages its own way (Piston: "c++", E2B: "python" / "js";
open-r1's data: "python", "cpp"), so every spelling a user may pass is an alias here and
each backend translates the canonical name.

Data flow: the `language` of a `Job` (from `verification_info` or a grader) ->
`get_language` -> the backend's compile and run commands.
"""

from __future__ import annotations

from dataclasses import dataclass

from r1_sandbox.errors import UnsupportedLanguageError


@dataclass(frozen=True)
class Language:
    """How to build and run one language in a scratch directory."""

    name: str
    source: str  # file the code is written to
    run: tuple[str, ...]  # argv, relative to the scratch directory
    compile: tuple[str, ...] | None = None  # argv producing `binary`, or None
    binary: str | None = None  # compile output, kept for every run of the program
    piston: str = ""  # Piston's language name
    e2b: str = ""  # E2B code interpreter's language name ("" = run through a shell)

    @property
    def compiled(self) -> bool:
        return self.compile is not None


LANGUAGES: dict[str, Language] = {
    "python": Language(
        name="python",
        source="main.py",
        run=("python3", "main.py"),
        piston="python",
        e2b="python",
    ),
    "cpp": Language(
        name="cpp",
        source="main.cpp",
        compile=("g++", "-std=c++17", "-O2", "-pipe", "-o", "main", "main.cpp", "-lm"),
        binary="main",
        run=("./main",),
        piston="c++",
    ),
    "c": Language(
        name="c",
        source="main.c",
        compile=("gcc", "-std=c17", "-O2", "-pipe", "-o", "main", "main.c", "-lm"),
        binary="main",
        run=("./main",),
        piston="c",
    ),
    "bash": Language(
        name="bash",
        source="main.sh",
        run=("bash", "main.sh"),
        piston="bash",
        e2b="bash",
    ),
}

_ALIASES = {
    "py": "python",
    "python3": "python",
    "c++": "cpp",
    "cpp17": "cpp",
    "c++17": "cpp",
    "cc": "cpp",
    "sh": "bash",
}


def get_language(name: str) -> Language:
    """The language spelled `name` (any case, any alias).

    >>> get_language("C++").name
    'cpp'
    """
    key = name.strip().lower()
    key = _ALIASES.get(key, key)
    try:
        return LANGUAGES[key]
    except KeyError:
        known = sorted([*LANGUAGES, *_ALIASES])
        raise UnsupportedLanguageError(
            f"language={name!r} is not supported; use one of {known}"
        ) from None
