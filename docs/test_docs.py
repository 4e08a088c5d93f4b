"""Checks of the annotated guide that the strict mkdocs build cannot make on its own.

The build catches a broken autoref, but only when it runs (30 s and the whole docs stack),
and it cannot know that a map forgot one of open-r1's files, that a seed concept has no
row, or that a new module was added without the house docstring or an API page. These
tests read the sources statically (`ast`, never an import of the packages: nothing heavy
loads), so they run in a second with the rest of the suite.

Data flow: docs/maps/*.md, packages/*/src/**.py, docs/api/*.md and, when present, the seed
plan in ../shared/seeds/ -> parsed names, rows and docstrings -> one assertion per rule,
naming the row, module or page that breaks it.
"""

from __future__ import annotations

import ast
import functools
import importlib.util
import os
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
MAPS = DOCS / "maps"
SEED_NAME = "000_8d9c2afc2c163a90.txt"

# The 50 files of the seed plan, in its order. Kept here so that the map is checked even
# where the seed (shared/, beside the clone) is absent; `test_seed_paths_match_the_seed`
# keeps this list honest where it is present.
SEED_PATHS = [
    "src/open_r1/grpo.py",
    "src/open_r1/sft.py",
    "src/open_r1/generate.py",
    "src/open_r1/rewards.py",
    "src/open_r1/configs.py",
    "src/open_r1/utils/model_utils.py",
    "src/open_r1/utils/data.py",
    "src/open_r1/utils/evaluation.py",
    "src/open_r1/utils/callbacks.py",
    "src/open_r1/utils/code_providers.py",
    "src/open_r1/utils/competitive_programming/ioi_scoring.py",
    "src/open_r1/utils/competitive_programming/cf_scoring.py",
    "src/open_r1/utils/competitive_programming/code_patcher.py",
    "src/open_r1/utils/competitive_programming/ioi_utils.py",
    "src/open_r1/utils/competitive_programming/piston_client.py",
    "src/open_r1/utils/competitive_programming/morph_client.py",
    "src/open_r1/utils/competitive_programming/__init__.py",
    "src/open_r1/utils/hub.py",
    "src/open_r1/utils/wandb_logging.py",
    "src/open_r1/utils/routed_sandbox.py",
    "src/open_r1/utils/routed_morph.py",
    "src/open_r1/__init__.py",
    "setup.py",
    "Makefile",
    "pyproject.toml",
    "recipes/OpenR1-Distill-7B/sft/config_distill.yaml",
    "recipes/Qwen2.5-1.5B-Instruct/grpo/config_demo.yaml",
    "recipes/Qwen2.5-Coder-7B-Instruct/grpo/config_codeforces.yaml",
    "recipes/OlympicCoder-7B/grpo/config_ioi.yaml",
    "recipes/OlympicCoder-32B/grpo/config_ioi_32b.yaml",
    "recipes/DeepSeek-R1-Distill-Qwen-1.5B/grpo/config_r1_distill.yaml",
    "recipes/accelerate_configs/ddp.yaml",
    "recipes/accelerate_configs/zero2.yaml",
    "recipes/accelerate_configs/zero3.yaml",
    "recipes/accelerate_configs/fsdp.yaml",
    "recipes/dataset_filtering/config_filter_by_pass_rate.yaml",
    "recipes/README.md",
    "slurm/train.slurm",
    "slurm/generate.slurm",
    "slurm/evaluate.slurm",
    "slurm/serve_r1.slurm",
    "slurm/piston/launch_piston_workers.sh",
    "slurm/piston/launch_single_piston.sh",
    "scripts/generate_reasoning.py",
    "scripts/decontaminate.py",
    "scripts/e2b_router.py",
    "scripts/morph_router.py",
    "scripts/run_benchmarks.py",
    "scripts/pass_rate_filtering/compute_pass_rate.py",
    "scripts/upload_details.py",
]

# The concepts named in the issue that asked for the guide; each must have a row.
ISSUE_CONCEPTS = [
    "group relative advantages",
    "KL term and its removal",
    "multi-generation per prompt",
    "reward composition and weights",
    "cosine length scaling",
    "soft overlong punishment",
    "repetition penalty",
    "chat templates and system prompts",
    "packing",
    "LoRA",
    "gradient checkpointing",
    "ZeRO-2/3 and FSDP",
    "vLLM server vs colocate",
    "subtask scoring",
    "checkers",
    "pass@k",
    "decontamination by n-grams",
    "pass-rate filtering",
]


# --- the source tree, read statically ------------------------------------------------


@functools.cache
def module_files() -> dict[str, pathlib.Path]:
    """Every module of every package under packages/*/src, by dotted name."""
    modules = {}
    for src in sorted(ROOT.glob("packages/*/src")):
        for path in src.rglob("*.py"):
            parts = list(path.relative_to(src).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            modules[".".join(parts)] = path
    return modules


@functools.cache
def module_names(dotted: str) -> frozenset[str]:
    """Names a module defines or re-exports at top level (defs, assignments, imports, __all__)."""
    tree = ast.parse(module_files()[dotted].read_text())
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                names.update(n.id for n in ast.walk(target) if isinstance(n, ast.Name))
            is_all = any(isinstance(t, ast.Name) and t.id == "__all__" for t in targets)
            if is_all and isinstance(node.value, ast.List | ast.Tuple):
                names.update(e.value for e in node.value.elts if isinstance(e, ast.Constant))
        elif isinstance(node, ast.ImportFrom | ast.Import):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
    return frozenset(names)


def documented_definition(dotted: str, symbol: str) -> bool:
    """True when `symbol` is defined (not imported) in module `dotted` with a docstring.

    mkdocstrings renders only the documented public members of a module, so an
    undocumented function is no target for a link even though it exists.
    """
    body = ast.parse(module_files()[dotted].read_text()).body
    for i, node in enumerate(body):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            if node.name == symbol:
                return bool(ast.get_docstring(node))
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and t.id == symbol for t in targets):
                after = body[i + 1] if i + 1 < len(body) else None
                return isinstance(after, ast.Expr) and isinstance(after.value, ast.Constant)
    return False


def resolves(dotted: str, *, link: bool = False) -> bool:
    """True when `dotted` is a module of the workspace or a top-level symbol of one.

    With `link`, a symbol must also be public and documented where it is defined: the
    only kind of symbol the API pages give an anchor to.
    """
    modules = module_files()
    if dotted in modules:
        return True
    parent, _, symbol = dotted.rpartition(".")
    if parent not in modules or symbol not in module_names(parent):
        return False
    return not link or (not symbol.startswith("_") and documented_definition(parent, symbol))


def test_resolver_itself():
    assert resolves("r1_rewards.overlong")
    assert resolves("r1_rewards.overlong.get_soft_overlong_punishment", link=True)
    assert not resolves("r1_rewards.overlong.no_such_function")
    assert not resolves("r1_rewards.no_such_module")
    # Re-exported by the package, but rendered (and so linkable) only where defined.
    assert resolves("r1_rewards.accuracy_reward")
    assert not resolves("r1_rewards.accuracy_reward", link=True)


# --- (1) every name in the maps is real -----------------------------------------------

AUTOREF = re.compile(r"\]\[([^\]]+)\]")
BACKTICKED = re.compile(r"`(r1_[a-z0-9_]+(?:\.[A-Za-z_][A-Za-z0-9_]*)*)`")


def map_pages() -> list[pathlib.Path]:
    return [MAPS / "open-r1.md", MAPS / "concepts.md"]


def referenced_names(text: str) -> set[str]:
    """Autoref targets (`[text][target]`) and backticked `r1_...` dotted names of a page."""
    return set(AUTOREF.findall(text)) | set(BACKTICKED.findall(text))


def test_reference_extraction_itself():
    text = "[`r1_train.grpo`][r1_train.grpo], `r1_data.mixture.build_mixture`, `r1-data`"
    assert referenced_names(text) == {
        "r1_train.grpo",
        "r1_data.mixture.build_mixture",
    }


@pytest.mark.parametrize("page", map_pages(), ids=lambda p: p.name)
def test_every_reference_in_the_maps_resolves(page):
    text = page.read_text()
    names = referenced_names(text)
    assert names, f"{page.name} references no r1 module"
    links = set(AUTOREF.findall(text))
    broken = sorted(n for n in names if not resolves(n, link=n in links))
    assert not broken, f"{page.name} names modules or symbols that do not exist: {broken}"


# --- (2) every seed file has a row ------------------------------------------------------


def table_rows(text: str) -> list[list[str]]:
    """The cells of every Markdown table row of a page (header and rule lines excluded)."""
    rows = []
    for line in text.splitlines():
        if not line.startswith("|") or re.fullmatch(r"\|[\s|:-]+\|?", line):
            continue
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line.strip().strip("|"))]
        rows.append(cells)
    return rows


def test_every_seed_file_has_a_row_in_order():
    first_cells = [row[0] for row in table_rows((MAPS / "open-r1.md").read_text())]
    paths = [cell.strip("`") for cell in first_cells if cell.startswith("`")]
    missing = [p for p in SEED_PATHS if p not in paths]
    assert not missing, f"open-r1.md has no row for: {missing}"
    assert [p for p in paths if p in SEED_PATHS] == SEED_PATHS, "rows not in the seed's order"
    rows = {row[0].strip("`"): row for row in table_rows((MAPS / "open-r1.md").read_text())}
    for path in SEED_PATHS:
        assert len(rows[path]) == 4 and all(rows[path]), f"row of {path} has an empty cell"


# --- (3) every seed concept has a row ---------------------------------------------------


def seed_file() -> pathlib.Path | None:
    for base in (pathlib.Path("/work/shared/seeds"), ROOT.parent / "shared" / "seeds"):
        if (base / SEED_NAME).is_file():
            return base / SEED_NAME
    return None


def seed_concepts(text: str) -> dict[str, list[str]]:
    """The "Key concepts to explain" bullets of the seed plan, by file, in order."""
    concepts = {}
    for section in re.split(r"^### \d+\. ", text, flags=re.M)[1:]:
        path = re.match(r"`([^`]+)`", section).group(1)
        block = re.search(r"\*\*Key concepts to explain\*\*:\n((?:  - .*\n)+)", section)
        concepts[path] = [line[4:].strip() for line in block.group(1).splitlines()]
    return concepts


def concept_sections(text: str) -> dict[str, list[str]]:
    """First cells of concepts.md's tables, under the `## ... `path`` heading they follow."""
    sections: dict[str, list[str]] = {}
    current = None
    for line in text.splitlines():
        heading = re.match(r"#{2,3} .*?`([^`]+)`", line)
        if heading:
            current = heading.group(1)
            sections.setdefault(current, [])
        elif current and line.startswith("|"):
            row = table_rows(line)
            if row:
                sections[current].append(row[0][0].replace("`", ""))
    return sections


@pytest.fixture(scope="module")
def seed_text() -> str:
    path = seed_file()
    if path is None:
        pytest.skip("the seed plan (shared/seeds/) is not beside this checkout")
    return path.read_text()


def test_seed_paths_match_the_seed(seed_text):
    assert list(seed_concepts(seed_text)) == SEED_PATHS


def test_every_seed_concept_has_a_row(seed_text):
    sections = concept_sections((MAPS / "concepts.md").read_text())
    missing = [
        f"{path}: {concept}"
        for path, concepts in seed_concepts(seed_text).items()
        for concept in concepts
        if concept.replace("`", "") not in sections.get(path, [])
    ]
    assert not missing, "concepts.md lacks rows for:\n" + "\n".join(missing)


def test_every_issue_concept_has_a_row():
    cells = [row[0].replace("`", "") for row in table_rows((MAPS / "concepts.md").read_text())]
    missing = [c for c in ISSUE_CONCEPTS if c not in cells]
    assert not missing, f"concepts.md lacks rows for: {missing}"


REPO_PATH = re.compile(r"`(\.?[\w.-]+(?:/[\w.*-]+)+/?|[\w.-]+\.(?:toml|lock|yaml|md|py))`")


def repo_paths(cell: str) -> list[str]:
    """Backticked paths of the repository named in a cell (globs allowed)."""
    return REPO_PATH.findall(cell)


def test_repo_path_extraction_itself():
    cell = "`uv.lock`, `recipes/accelerate_configs/zero2.yaml`, `.ci/run`, `[tool.ruff]`, `r1-data`"
    assert repo_paths(cell) == ["uv.lock", "recipes/accelerate_configs/zero2.yaml", ".ci/run"]


def test_rows_of_concepts_are_complete():
    """Each row links r1 code, names a file of the repository, or says "not implemented"."""
    for row in table_rows((MAPS / "concepts.md").read_text()):
        if row[0] == "concept":
            continue
        assert len(row) == 4 and all(row), f"incomplete row: {row}"
        implemented = row[2]
        paths = repo_paths(implemented)
        missing = [p for p in paths if not any(ROOT.glob(p.rstrip("/")))]
        assert not missing, f"row {row[0]!r} names files that do not exist: {missing}"
        assert referenced_names(implemented) or paths or "not implemented" in row[2] + row[3], (
            f"row {row[0]!r} links no r1 module or file and does not say 'not implemented'"
        )


# --- (4) every public module opens with the house docstring -----------------------------


def house_docstring_problems(source: str) -> list[str]:
    """What a module's source lacks of STYLE's docstring shape (empty when it has it all).

    The shape: a first line (the concept and its source), at least one more paragraph
    (the why), and a `Data flow:` line.
    """
    docstring = ast.get_docstring(ast.parse(source), clean=True)
    if not docstring:
        return ["no module docstring"]
    problems = []
    lines = docstring.splitlines()
    if not lines[0].strip():
        problems.append("the first line is empty")
    paragraphs = [p for p in re.split(r"\n\s*\n", docstring) if p.strip()]
    why = [p for p in paragraphs[1:] if not p.lstrip().startswith("Data flow:")]
    if not why:
        problems.append("no paragraph after the first line saying why")
    if not any(line.startswith("Data flow:") for line in lines):
        problems.append("no `Data flow:` line")
    return problems


def test_the_docstring_checker_itself():
    good = '"""Soft overlong punishment (DAPO, 3.4).\n\nWhy it is so.\n\nData flow: a -> b.\n"""'
    assert house_docstring_problems(good) == []
    assert house_docstring_problems("x = 1\n") == ["no module docstring"]
    assert house_docstring_problems('"""Only a summary.\n\nData flow: a -> b.\n"""') == [
        "no paragraph after the first line saying why"
    ]
    assert house_docstring_problems('"""A summary.\n\nWhy it is so.\n"""') == [
        "no `Data flow:` line"
    ]
    wrapped = '"""A summary that\nwraps (paper, 2.2).\n\nWhy.\n\nData flow: a -> b.\n"""'
    assert house_docstring_problems(wrapped) == []


@functools.cache
def api_pages_module():
    spec = importlib.util.spec_from_file_location("api_pages", DOCS / "api_pages.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def public_module_files() -> list[tuple[str, pathlib.Path]]:
    api = api_pages_module()
    files = module_files()
    return [(name, files[name]) for pkg in api.packages() for name in api.public_modules(pkg)]


@pytest.mark.parametrize(
    ("name", "path"), public_module_files(), ids=[name for name, _ in public_module_files()]
)
def test_public_module_has_the_house_docstring(name, path):
    problems = house_docstring_problems(path.read_text())
    assert not problems, f"{os.path.relpath(path, ROOT)}: {'; '.join(problems)}"


# --- (5) the API pages are what docs/api_pages.py writes -------------------------------


def test_api_pages_are_generated():
    api = api_pages_module()
    expected = {f"{pkg.name}.md": api.page(pkg) for pkg in api.packages()}
    actual = {p.name: p.read_text() for p in (DOCS / "api").glob("*.md")}
    assert set(actual) == set(expected), "docs/api/ lacks or has extra pages"
    stale = sorted(name for name in expected if actual[name] != expected[name])
    assert not stale, f"stale API pages {stale}: run `uv run python docs/api_pages.py`"
