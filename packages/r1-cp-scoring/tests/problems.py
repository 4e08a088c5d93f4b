"""Small real problems in the schemas of open-r1/ioi and open-r1/codeforces, with known scores.

`sumpair` (IOI Batch, grader + header, 3 scored subtasks and a sample subtask): the sum of
n integers, which needs `long long` in subtask 3 and handles negatives in subtask 2.
`guess` (IOI Communication, manager + stub): find a hidden number in at most 20 queries.
`anypair` (Codeforces, checker): print any two numbers summing to s (many valid answers).
"""

from __future__ import annotations

import random

# -- sumpair: IOI Batch -----------------------------------------------------------------------

SUMPAIR_H = "#include <vector>\nlong long total(std::vector<int> v);\n"
SUMPAIR_GRADER = r"""
#include "sumpair.h"
#include <cstdio>
#include <vector>
int main() {
    int n;
    if (scanf("%d", &n) != 1) return 1;
    std::vector<int> v(n);
    for (int i = 0; i < n; i++) scanf("%d", &v[i]);
    printf("%lld\n", total(v));
    return 0;
}
"""


def _sumpair_tests() -> dict[str, tuple[str, str]]:
    rng = random.Random(4)
    tests = {}

    def add(name: str, values: list[int]) -> None:
        text = f"{len(values)}\n{' '.join(map(str, values))}\n"
        tests[name] = (text, f"{sum(values)}\n")

    add("0-01", [1, 2, 3])
    add("1-01", [5, 7])
    add("1-02", [rng.randint(0, 100) for _ in range(10)])
    add("2-01", [-5, 3, -1])
    add("2-02", [rng.randint(-1000, 1000) for _ in range(50)])
    add("3-01", [2_000_000_000] * 3000)
    add("3-02", [rng.randint(1_000_000_000, 2_000_000_000) for _ in range(5000)])
    return tests


SUMPAIR_TESTS = _sumpair_tests()


def sumpair_rows(time_limit: float = 1.0, memory_limit: int = 128) -> list[dict]:
    """The problem as open-r1/ioi rows, tests inline as {name: [input, output]}."""
    grader_files = [["graders/grader.cpp", SUMPAIR_GRADER], ["graders/sumpair.h", SUMPAIR_H]]
    layout = [
        ("0", 0.0, ["0-01"]),
        ("1", 10.0, ["0-01", "1-01", "1-02"]),
        ("2", 30.0, ["0-01", "1-01", "2-01", "2-02"]),
        ("3", 60.0, ["1-01", "3-01", "3-02"]),
    ]
    return [
        {
            "id": "sumpair",
            "year": 2099,
            "subtask": name,
            "score": points,
            "score_precision": 2,
            "test_names": names,
            "test_cases": {n: list(SUMPAIR_TESTS[n]) for n in names},
            "grader_files": grader_files,
            "time_limit": time_limit,
            "memory_limit": memory_limit,
        }
        for name, points, names in layout
    ]


SUMPAIR_SUBMISSIONS = {
    # name: (code, expected points, expected status per subtask)
    "accepted": (
        "long long total(std::vector<int> v){long long s=0;for(int x:v)s+=x;return s;}",
        100.0,
    ),
    # int overflows in subtask 3 only.
    "overflow": ("long long total(std::vector<int> v){int s=0;for(int x:v)s+=x;return s;}", 40.0),
    # Loops forever once n > 1000 (subtask 3).
    "too_slow": (
        "long long total(std::vector<int> v){if(v.size()>1000){volatile long long k=0;"
        "while(true)k++;}long long s=0;for(int x:v)s+=x;return s;}",
        40.0,
    ),
    # Allocates and touches 1 GiB once n > 1000 (limit 128 MB).
    "too_much_memory": (
        "long long total(std::vector<int> v){if(v.size()>1000){std::vector<long long> big(1<<27,1);"
        "long long t=0;for(long long x:big)t+=x;return t;}long long s=0;for(int x:v)s+=x;return s;}",
        40.0,
    ),
    # Dereferences null on a negative number (subtask 2).
    "crashing": (
        "long long total(std::vector<int> v){long long s=0;for(int x:v){if(x<0){int*p=nullptr;"
        "*p=x;s+=*p;}s+=x;}return s;}",
        70.0,
    ),
    "not_compiling": ("long long total(std::vector<int> v){return undefined_name;}", 0.0),
}

# -- guess: IOI Communication -----------------------------------------------------------------

GUESS_H = "int guess(int n);\nint ask(int y);\n"
GUESS_STUB = r"""
#include "guess.h"
#include <cstdio>
int ask(int y) {
    printf("? %d\n", y);
    fflush(stdout);
    int r;
    if (scanf("%d", &r) != 1) return 0;
    return r;
}
int main() {
    int n;
    if (scanf("%d", &n) != 1) return 0;
    int x = guess(n);
    printf("! %d\n", x);
    fflush(stdout);
    return 0;
}
"""
GUESS_MANAGER = r"""
#include <cstdio>
#include <cstring>
int main(int argc, char** argv) {
    if (argc < 3) return 1;
    int n, secret;
    if (scanf("%d %d", &n, &secret) != 2) return 1;
    FILE* from_user = fopen(argv[1], "r");
    FILE* to_user = fopen(argv[2], "w");
    fprintf(to_user, "%d\n", n);
    fflush(to_user);
    char op[4];
    int y, queries = 0;
    while (fscanf(from_user, "%3s %d", op, &y) == 2) {
        if (strcmp(op, "!") == 0) {
            if (y == secret) { printf("1\n"); fprintf(stderr, "translate:success\n"); }
            else { printf("0\n"); fprintf(stderr, "translate:wrong\n"); }
            return 0;
        }
        if (++queries > 20) { printf("0\n"); fprintf(stderr, "Too many queries\n"); return 0; }
        fprintf(to_user, "%d\n", y < secret ? 1 : (y > secret ? -1 : 0));
        fflush(to_user);
    }
    printf("0\n");
    fprintf(stderr, "The program stopped without an answer\n");
    return 0;
}
"""


def guess_rows() -> list[dict]:
    tests = {"1-01": ("10 7\n", ""), "1-02": ("10 1\n", ""), "2-01": ("1000000 765432\n", "")}
    grader_files = [
        ["graders/stub.cpp", GUESS_STUB],
        ["graders/guess.h", GUESS_H],
        ["graders/manager.cpp", GUESS_MANAGER],
    ]
    layout = [("1", 50.0, ["1-01", "1-02"]), ("2", 50.0, ["1-01", "2-01"])]
    return [
        {
            "id": "guess",
            "year": 2099,
            "subtask": name,
            "score": points,
            "score_precision": 2,
            "test_names": names,
            "test_cases": [list(tests[n]) for n in names],  # the list form, test_names order
            "grader_files": grader_files,
            "time_limit": 2.0,
            "memory_limit": 256,
        }
        for name, points, names in layout
    ]


GUESS_BINARY = (
    "int guess(int n){int lo=1,hi=n;while(lo<hi){int m=(lo+hi)/2;int r=ask(m);"
    "if(r==0)return m;if(r>0)lo=m+1;else hi=m-1;}return lo;}"
)
GUESS_LINEAR = "int guess(int n){for(int y=1;y<=n;y++)if(ask(y)==0)return y;return 0;}"

# -- anypair: Codeforces with a checker ---------------------------------------------------------

ANYPAIR_CHECKER = r"""
import sys
inp, correct, output = (open(p).read() for p in sys.argv[1:4])
s = int(inp.split()[0])
try:
    a, b = map(int, output.split())
except ValueError:
    print(0)
    sys.exit(0)
print(1 if a + b == s and a >= 0 and b >= 0 else 0)
"""


def anypair_problem() -> dict:
    return {
        "id": "9999/A",
        "contest_id": 9999,
        "time_limit": 1.0,
        "memory_limit": 256.0,
        "input_mode": "stdio",
        "generated_checker": ANYPAIR_CHECKER,
        "official_tests": [
            {"input": "5\n", "output": "2 3\n"},
            {"input": "0\n", "output": "0 0\n"},
            {"input": "100\n", "output": "50 50\n"},
            {"input": "7\n", "output": "3 4\n"},
        ],
    }
