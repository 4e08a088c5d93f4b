import pytest

from r1_cp_scoring import patch_code

# (source, language, a line the patched code must contain, a text it must not contain)
TABLE = [
    # fractions.gcd was removed in Python 3.9.
    ("from fractions import gcd\nprint(gcd(4, 6))", "python", "from math import gcd", "fractions"),
    ("import fractions\nprint(fractions.gcd(4, 6))", "Python 3", "import math", "fractions.gcd"),
    # collections.Mapping moved to collections.abc in 3.10.
    ("from collections import Mapping", "PyPy 3", "from collections.abc import Mapping", None),
    # Big-number problems hit the 4300-digit limit of Python 3.11.
    ("print(10**5000)", "python3", "sys.set_int_max_str_digits(0)", None),
    # getlogin() fails without a terminal; solutions use it to detect a local run.
    ("import os\nif os.getlogin() == 'me': pass", "python", "if False == 'me': pass", "getlogin"),
    # Models forget std:: and the headers.
    ("int main(){vector<int> v;}", "cpp", "using namespace std;", None),
    ("int main(){std::vector<int> v;}", "C++17", "#include <bits/stdc++.h>", "using namespace"),
]


@pytest.mark.parametrize(("source", "language", "present", "absent"), TABLE)
def test_patch_code_repairs(source, language, present, absent):
    patched = patch_code(source, language)
    assert present in patched.splitlines()
    if absent:
        assert absent not in patched


def test_patched_python_runs(box):
    code = patch_code(
        "from fractions import Fraction, gcd\nprint(gcd(12, 18), len(str(10**5000)))", "python"
    )
    result = box.run_sync(code, "python", timeout=5)
    assert result.stdout.split() == ["6", "5001"]


@pytest.mark.parametrize(
    "source",
    [
        # `import math` (for fractions.gcd) must not land above the __future__ import.
        "from __future__ import annotations\nimport fractions\nprint(fractions.gcd(4, 6))",
        '"""Doc."""\nfrom __future__ import (\n    annotations,\n)\nprint(fractions.gcd(4, 6))',
        # sys.set_int_max_str_digits must not split a parenthesised import.
        "from collections import (\n    deque,\n    Counter,\n)\nprint(10**5000)",
    ],
)
def test_patched_python_still_compiles(source):
    patched = patch_code(source, "python")
    compile(patched, "main.py", "exec")  # a SyntaxError here is the defect
    assert "sys.set_int_max_str_digits(0)" in patched.splitlines()
