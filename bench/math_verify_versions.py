"""Measurement: the math verdicts that change between math-verify releases.

r1-rewards calls math-verify exactly as open-r1 does, so at the same math-verify version it
gives open-r1's verdicts. Across versions it does not: open-r1 pins math-verify 0.5.2 (and
lighteval pins it too), newer releases parse percentages, constants and several boxed
answers differently. This script grades one table of (completion, gold) pairs in each
given interpreter (each with r1-rewards and one math-verify version installed), through
both of open-r1's grading modes (`accuracy_reward`; `len_reward` / cosine), and prints
the rows where the verdicts differ, as the markdown table of the r1-rewards README.

Run (one throwaway venv per version):

    uv venv /tmp/mv052
    uv pip install --python /tmp/mv052 math-verify==0.5.2 -e packages/r1-rewards
    uv venv /tmp/mvnew
    uv pip install --python /tmp/mvnew math-verify -e packages/r1-rewards
    uv run python bench/math_verify_versions.py /tmp/mv052/bin/python /tmp/mvnew/bin/python

Data flow: CASES -> each interpreter (`--grade`: JSON verdicts on stdout) -> the rows
whose verdicts differ -> a markdown table on stdout (`--all` prints every row).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

# (why the row is here, completion, gold)
CASES: list[tuple[str, str, str]] = [
    # percentages: newer releases read "50%" as 50 as well as 0.5
    ("percent answer, bare gold", r"The answer is $\boxed{50\%}$", "50"),
    ("bare answer, percent gold", r"The answer is $\boxed{50}$", r"$50\%$"),
    ("percent answer, percent gold", r"The answer is $\boxed{25\%}$", r"$25\%$"),
    ("decimal answer, percent gold", r"The answer is $\boxed{0.5}$", r"$50\%$"),
    ("percent answer, decimal gold", r"The answer is $\boxed{12.5\%}$", "0.125"),
    # constants against decimals: newer releases accept a decimal that rounds to the constant
    ("pi, 16-digit gold", r"The answer is $\boxed{\pi}$", "3.141592653589793"),
    ("2pi, 7-digit gold", r"The answer is $\boxed{2\pi}$", r"$6.283185$"),
    ("8-decimal answer, pi gold", r"The answer is $\boxed{3.14159265}$", r"$\pi$"),
    ("8-decimal answer, sqrt 2 gold", r"The answer is $\boxed{1.41421356}$", r"$\sqrt{2}$"),
    ("5-decimal answer, pi gold", r"The answer is $\boxed{3.14159}$", r"$\pi$"),
    ("pi, 3.14 gold", r"The answer is $\boxed{\pi}$", r"$3.14$"),
    # several answers as a set: newer releases expand a plus-minus into its two values
    ("two boxes, plus-minus gold", r"So $\boxed{-1}$ and $\boxed{1}$.", r"$\pm 1$"),
    ("plus-minus answer, list gold", r"So $\boxed{\pm 1}$.", r"$-1, 1$"),
    ("two boxes, list gold", r"So $\boxed{1}$ and $\boxed{2}$.", r"$1, 2$"),
    ("two boxes, reversed", r"So $\boxed{2}$ and $\boxed{1}$.", r"$1, 2$"),
    ("two boxes, set gold", r"So $\boxed{1, 2}$.", r"$\{1, 2\}$"),
    ("two boxes, one gold", r"So $\boxed{1}$ and $\boxed{2}$.", "1"),
    ("one box, two boxed golds", r"So $\boxed{3}$.", r"$\boxed{3}, \boxed{4}$"),
    # controls: forms that do not move
    ("fraction vs decimal", r"The answer is $\boxed{\frac{1}{2}}$", "0.5"),
    ("short fraction", r"The answer is $\boxed{\frac12}$", "0.5"),
    ("equation vs value", r"The answer is $\boxed{x = 2}$", "2"),
    ("units", r"The answer is $\boxed{5\text{ cm}}$", "5"),
    ("degrees", r"The answer is $\boxed{30^\circ}$", "30"),
    ("thousands separator", r"The answer is $\boxed{1,000}$", "1000"),
    ("interval", r"The answer is $\boxed{(0, 1]}$", r"$(0, 1]$"),
    ("symbolic", r"The answer is $\boxed{x^2+2x+1}$", r"$(x+1)^2$"),
    ("sqrt forms", r"The answer is $\boxed{\frac{\sqrt{2}}{2}}$", r"$\frac{1}{\sqrt{2}}$"),
    ("no box, anchor text", "The final answer is 7.", "7"),
]


def _grade() -> None:
    """In the interpreter under test: the verdicts of CASES as JSON on stdout."""
    import importlib.metadata

    from r1_rewards.math_accuracy import grade

    texts = [text for _, text, _ in CASES]
    golds = [gold for _, _, gold in CASES]
    accuracy = grade(texts, golds, mode="accuracy", timeout=30)
    length = grade(texts, golds, mode="length", timeout=30)
    print(
        json.dumps(
            {
                "math-verify": importlib.metadata.version("math-verify"),
                "latex2sympy2_extended": importlib.metadata.version("latex2sympy2_extended"),
                "accuracy": [str(reason) for reason, _ in accuracy],
                "length": [str(reason) for reason, _ in length],
            }
        )
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("pythons", nargs="*", help="interpreters to compare (two or more)")
    parser.add_argument("--grade", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--all", action="store_true", help="print every row, not only changes")
    args = parser.parse_args()
    if args.grade:
        _grade()
        return 0
    if len(args.pythons) < 2:
        parser.error("give at least two interpreters")
    runs = []
    for python in args.pythons:
        out = subprocess.run(
            [python, __file__, "--grade"], capture_output=True, text=True, check=True
        )
        runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    versions = [f"{r['math-verify']} (l2s {r['latex2sympy2_extended']})" for r in runs]
    header = ["case", "completion", "gold"]
    header += [f"accuracy, {v}" for v in versions] + [f"len/cosine, {v}" for v in versions]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for i, (why, text, gold) in enumerate(CASES):
        acc = [r["accuracy"][i] for r in runs]
        length = [r["length"][i] for r in runs]
        if not args.all and len(set(acc)) == 1 and len(set(length)) == 1:
            continue
        cells = [why, f"`{text}`", f"`{gold}`", *acc, *length]
        print("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
