"""The API reference pages, one per package, generated from the source tree.

Each page renders the package's own docstring, then every public module (no `_`-prefixed
part in its dotted path) with its public members, through mkdocstrings. Pages are written
by this script rather than by a build plugin so that they are plain files a reader can
open, and a test (`docs/test_docs.py`) fails when a module is added without them.

Data flow: `packages/*/src/**.py` -> `public_modules()` -> `docs/api/<package>.md`
(`uv run python docs/api_pages.py` rewrites them) -> mkdocstrings at build time.
"""

from __future__ import annotations

import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
API_DIR = ROOT / "docs" / "api"
# The dev-only test doubles are not part of the product's API.
SKIP = {"r1-test-support"}


def packages() -> list[pathlib.Path]:
    """Every distribution directory under packages/ that ships an API."""
    return sorted(p for p in (ROOT / "packages").iterdir() if p.is_dir() and p.name not in SKIP)


def public_modules(package_dir: pathlib.Path) -> list[str]:
    """Dotted names of the public modules of one distribution, the package first."""
    src = package_dir / "src"
    names = []
    for path in sorted(src.rglob("*.py")):
        parts = list(path.relative_to(src).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if any(part.startswith("_") for part in parts):
            continue
        names.append(".".join(parts))
    return sorted(names, key=lambda name: (name.count("."), name))


def page(package_dir: pathlib.Path) -> str:
    """The Markdown of one package's API page."""
    modules = public_modules(package_dir)
    top, rest = modules[0], modules[1:]
    lines = [
        f"# {package_dir.name}",
        "",
        f"Generated from the docstrings of `{top}` by `docs/api_pages.py`; the package's",
        f"README (its PyPI page) is `packages/{package_dir.name}/README.md`.",
        "",
        f"::: {top}",
        "    options:",
        "      members: false",
        "",
    ]
    for name in rest:
        lines += [f"::: {name}", ""]
    return "\n".join(lines)


def main() -> int:
    API_DIR.mkdir(parents=True, exist_ok=True)
    for package_dir in packages():
        (API_DIR / f"{package_dir.name}.md").write_text(page(package_dir))
    return 0


if __name__ == "__main__":
    sys.exit(main())
