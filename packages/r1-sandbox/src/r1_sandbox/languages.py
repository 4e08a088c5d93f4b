"""The languages r1-sandbox runs, their compile flags, and how each backend names them.

A language is a source file name, an optional compiler with its flags, and a run command,
all relative to the scratch directory. Compiled languages are split in two steps so a
batch of inputs for one program compiles it once (the grader's case: one submission, many
tests). This is the one table of compile flags in r1: the defaults (`-O2`, C++17 / C17,
`-lm`) and the named flag sets of the judges r1-cp-scoring imitates (`FLAG_SETS`: CMS for
IOI, Codeforces), so a grader names a judge instead of spelling flags of its own.

Each hosted service spells languages its own way (Piston: "c++", E2B: "python" / "js";
open-r1's data: "python", "cpp"), so every spelling a user may pass is an alias here and
each backend translates the canonical name.

Data flow: the `language` of a `Job` (from `verification_info` or a grader) ->
`get_language` -> the backend's compile and run commands.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from r1_sandbox.errors import UnsupportedLanguageError


@dataclass(frozen=True)
class Language:
    """How to build and run one language in a scratch directory."""

    name: str
    source: str  # file the code is written to
    run: tuple[str, ...]  # argv, relative to the scratch directory
    compiler: str | None = None  # the compiler's executable, or None (interpreted)
    flags: tuple[str, ...] = ()  # default compile flags
    libs: tuple[str, ...] = ()  # linked after the sources
    binary: str | None = None  # compile output, kept for every run of the program
    piston: str = ""  # Piston's language name
    e2b: str = ""  # E2B code interpreter's language name ("" = run through a shell)

    @property
    def compiled(self) -> bool:
        return self.compiler is not None

    @property
    def compile(self) -> tuple[str, ...] | None:
        """The argv that builds `binary` from `source` with the default flags."""
        if self.compiler is None or self.binary is None:
            return None
        return self.compile_argv([self.source], self.binary)

    def compile_argv(
        self, units: Sequence[str], output: str, flags: Sequence[str] | None = None
    ) -> tuple[str, ...]:
        """The argv that compiles and links `units` into `output` (`flags`: the defaults).

        >>> " ".join(get_language("cpp").compile_argv(["a.cpp", "b.cpp"], "prog"))
        'g++ -std=c++17 -O2 -pipe -o prog a.cpp b.cpp -lm'
        """
        if self.compiler is None:
            raise UnsupportedLanguageError(f"language={self.name!r} is not compiled")
        chosen = self.flags if flags is None else tuple(flags)
        return (self.compiler, *chosen, "-o", output, *units, *self.libs)


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
        compiler="g++",
        flags=("-std=c++17", "-O2", "-pipe"),
        libs=("-lm",),
        binary="main",
        run=("./main",),
        piston="c++",
    ),
    "c": Language(
        name="c",
        source="main.c",
        compiler="gcc",
        flags=("-std=c17", "-O2", "-pipe"),
        libs=("-lm",),
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

#: (language, judge) -> the flags that judge compiles with. `-s` strips the binary (it is
#: shipped between runs); `-DEVAL` / `-DONLINE_JUDGE` are what graders and solutions test.
FLAG_SETS: dict[tuple[str, str], tuple[str, ...]] = {
    # CMS and open-r1's cms_ioi package (IOI).
    ("cpp", "ioi"): ("-DEVAL", "-std=gnu++17", "-O2", "-pipe", "-s"),
    # Codeforces' GNU C++17.
    ("cpp", "codeforces"): ("-DONLINE_JUDGE", "-std=gnu++17", "-O2", "-pipe", "-s"),
}


def flags_for(language: str, judge: str | None = None) -> tuple[str, ...]:
    """The compile flags of `language` for `judge` (None: r1-sandbox's defaults).

    >>> flags_for("c++", "codeforces")[0]
    '-DONLINE_JUDGE'
    """
    lang = get_language(language)
    if judge is None:
        return lang.flags
    try:
        return FLAG_SETS[(lang.name, judge)]
    except KeyError:
        known = sorted(j for name, j in FLAG_SETS if name == lang.name)
        raise UnsupportedLanguageError(
            f"judge={judge!r} has no flags for {lang.name}; use one of {known} or None"
        ) from None


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
