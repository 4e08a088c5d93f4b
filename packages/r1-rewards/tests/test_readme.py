"""The README's examples score what they show (issue 11: the first one scored 0.0)."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def _examples() -> list[tuple[str, str]]:
    """(expression, shown result) for each `expr` line followed by `# -> result`."""
    pairs = []
    for block in re.findall(r"```python\n(.*?)```", README.read_text(), re.DOTALL):
        lines = block.splitlines()
        for i, line in enumerate(lines[1:], start=1):
            if line.startswith("# -> "):
                pairs.append((lines[i - 1], line.removeprefix("# -> ")))
    return pairs


def test_the_readme_examples_score_what_they_show():
    import r1_rewards

    examples = _examples()
    assert len(examples) >= 2
    namespace = {name: getattr(r1_rewards, name) for name in r1_rewards.__all__}
    for expression, shown in examples:
        assert repr(eval(expression, namespace)) == shown, expression
