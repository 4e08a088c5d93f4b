"""Repairs of model-written contest code that fail for reasons unrelated to the algorithm.

open-r1's code patcher, reimplemented: Codeforces solutions (the human ones models learn
from, and the models' own) often target an older Python or lean on `bits/stdc++.h`.
Without these repairs a correct algorithm is graded as a compile or runtime error, which
is noise in the reward, not signal:

- Python: `fractions.gcd` (removed in 3.9) becomes `math.gcd`; `collections.Mapping`
  and friends come from `collections.abc`; `inspect.getargspec`, `asyncio.async`,
  `imp`, `array('c')` get their modern spelling; `os.getlogin()` (used to detect a
  local debug run, and failing in a sandbox without a terminal) becomes `False`; and
  `sys.set_int_max_str_digits(0)` lifts the 4300-digit limit Python 3.11 put on
  int <-> str conversions, which big-number problems hit.
- C++: `#include <bits/stdc++.h>` first, and `using namespace std;` when the code
  uses neither it nor `std::`.

Only textual, local rewrites: a fix that needs a parse (a real 2-to-3 translation) would
change working programs too.

Data flow: the code extracted from a completion -> `patch_code(code, language)` ->
the Codeforces grader (`cf_code_reward(patch_code=True)`).
"""

from __future__ import annotations

import re

_PYTHON_NAMES = ("python", "python3", "py", "Python 3", "PyPy 3", "PyPy 3-64")

# (pattern, replacement); each one is a rename between Python versions.
_PYTHON_RENAMES: tuple[tuple[str, str], ...] = (
    (
        r"from\s+collections\s+import\s+"
        r"(Mapping|MutableMapping|Sequence|MutableSequence|Set|MutableSet|Container|"
        r"Iterable|Iterator|Callable|Hashable)\b",
        r"from collections.abc import \1",
    ),
    (r"^(\s*)import\s+imp\s*$", r"\1import importlib"),
    (r"asyncio\.async\(", "asyncio.ensure_future("),
    (r"inspect\.getargspec\b", "inspect.getfullargspec"),
    (r"array\.array\(\s*'c'", "array.array('b'"),
    (r"(?:\bos\s*\.\s*)?\bgetlogin\s*\(\s*\)", "False"),
    (r"\bfractions\.gcd\b", "math.gcd"),
)

_FROM_FRACTIONS = re.compile(r"^(\s*)from\s+fractions\s+import\s+\(?([^)\n#]*)\)?", re.MULTILINE)


def _drop_fractions_gcd(match: re.Match[str]) -> str:
    """`from fractions import X, gcd` -> `from fractions import X` + `from math import gcd`."""
    indent, names = match.group(1), [n.strip() for n in match.group(2).split(",") if n.strip()]
    if "gcd" not in names:
        return match.group(0)
    rest = [n for n in names if n != "gcd"]
    lines = [f"{indent}from math import gcd"]
    if rest:
        lines.insert(0, f"{indent}from fractions import {', '.join(rest)}")
    return "\n".join(lines)


def fix_python3_imports(source: str) -> str:
    """Modern-Python spellings, and `sys.set_int_max_str_digits(0)` after the imports.

    >>> print(fix_python3_imports("from fractions import Fraction, gcd\\nprint(gcd(4, 6))"))
    from fractions import Fraction
    from math import gcd
    import sys
    sys.set_int_max_str_digits(0)
    print(gcd(4, 6))
    """
    for pattern, replacement in _PYTHON_RENAMES:
        source = re.sub(pattern, replacement, source, flags=re.MULTILINE)
    source = _FROM_FRACTIONS.sub(_drop_fractions_gcd, source)
    lines = source.splitlines()
    if "math.gcd" in source and not re.search(r"^\s*import\s+math\b", source, re.MULTILINE):
        # After the `from __future__` imports: they must open the module, or Python refuses
        # to compile it.
        at = _after_future_imports(lines)
        lines[at:at] = ["import math"]
    if "set_int_max_str_digits" not in source:
        at = _after_last_import(lines)
        lines[at:at] = ["import sys", "sys.set_int_max_str_digits(0)"]
    return "\n".join(lines)


_TOP_LEVEL_IMPORT = re.compile(r"(import\s+\w|from\s+\S+\s+import\s)")


def _statement_end(lines: list[str], start: int) -> int:
    """The index after the statement starting at `start` (a parenthesised import spans lines)."""
    line = lines[start]
    if "(" in line and ")" not in line:
        for end in range(start + 1, len(lines)):
            if ")" in lines[end]:
                return end + 1
    return start + 1


def _after_future_imports(lines: list[str]) -> int:
    """Where a new import may go: after the docstring and the `from __future__` lines."""
    at = 0
    for i, line in enumerate(lines):
        if re.match(r"from\s+__future__\s+import\s", line):
            at = _statement_end(lines, i)
    return at


def _after_last_import(lines: list[str]) -> int:
    """After the last top-level import (so `from __future__` stays first), else the top."""
    at = 0
    for i, line in enumerate(lines):
        if _TOP_LEVEL_IMPORT.match(line):
            at = _statement_end(lines, i)
    return max(at, _after_future_imports(lines))


def fix_cpp_includes(source: str) -> str:
    """`bits/stdc++.h` first, and `using namespace std;` when `std` is never named.

    Examples:
        >>> fix_cpp_includes("int main(){vector<int> v;}").splitlines()[:3]
        ['#include <bits/stdc++.h>', 'using namespace std;', 'int main(){vector<int> v;}']
    """
    header = "#include <bits/stdc++.h>\n"
    if "using namespace std;" not in source and "std::" not in source:
        header += "using namespace std;\n"
    return header + source


def is_patchable(language: str) -> bool:
    """Whether `patch_code` knows `language` (open-r1's and Codeforces' spellings)."""
    return language in _PYTHON_NAMES or "cpp" in language or "C++" in language


def patch_code(text: str, language: str) -> str:
    """The repaired program; unchanged for an empty text or an unknown language.

    >>> patch_code("", "cpp")
    ''
    >>> patch_code("print(1)", "ruby")
    'print(1)'
    """
    if not text:
        return text
    if language in _PYTHON_NAMES:
        return fix_python3_imports(text)
    if "cpp" in language or "C++" in language or language.lower() == "c++":
        return fix_cpp_includes(text)
    return text
