"""What a reader of the guide sees: every mermaid diagram renders, offline, as a picture.

The site vendors mermaid (`docs/assets/javascripts/mermaid.min.js`) so that its diagrams draw
without a CDN; a diagram with a syntax error would show the reader an error box instead. This
test renders each diagram of every page with that vendored copy in headless Chromium and
fails on any that does not become an SVG, then takes a screenshot of one built stage page.
It skips, saying why, where Chromium is not installed (`apt-get install chromium`; CI does).

Data flow: docs/**/*.md -> the ```mermaid blocks -> a page that renders each with the
vendored mermaid -> Chromium's DOM dump -> one verdict per diagram.
"""

from __future__ import annotations

import json
import os
import pathlib
import re
import shutil
import subprocess

import pytest

DOCS = pathlib.Path(__file__).resolve().parent
MERMAID = DOCS / "assets" / "javascripts" / "mermaid.min.js"
BLOCK = re.compile(r"^```mermaid\n(.*?)^```", re.S | re.M)

pytestmark = pytest.mark.slow


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    pytest.skip("no Chromium here: apt-get install chromium (CI installs it)")


def _run_chromium(*args: str) -> str:
    done = subprocess.run(
        [_chromium(), "--headless", "--no-sandbox", "--disable-gpu", *args],
        capture_output=True,
        text=True,
        timeout=300,
    )
    return done.stdout


def diagrams() -> list[tuple[str, str]]:
    """(page, diagram source) for every mermaid block of the guide."""
    found = []
    for page in sorted(DOCS.rglob("*.md")):
        for source in BLOCK.findall(page.read_text()):
            found.append((str(page.relative_to(DOCS)), source))
    return found


def test_every_stage_page_has_a_diagram():
    pages = {page for page, _ in diagrams()}
    stages = {f"method/{p.name}" for p in (DOCS / "method").glob("*.md")}
    assert stages <= pages, f"stage pages without a data-flow diagram: {sorted(stages - pages)}"


def test_every_diagram_renders_offline_with_the_vendored_mermaid(tmp_path):
    found = diagrams()
    assert found
    page = tmp_path / "render.html"
    page.write_text(
        f"""<!doctype html><html><body>
<script src="{MERMAID.as_uri()}"></script>
<script>
mermaid.initialize({{startOnLoad: false}});
const sources = {json.dumps([source for _, source in found])};
(async () => {{
  const verdicts = [];
  for (const [i, source] of sources.entries()) {{
    try {{
      const {{svg}} = await mermaid.render("d" + i, source);
      verdicts.push(svg.includes("<svg") && svg.includes("</svg>") ? "ok" : "no svg");
    }} catch (error) {{
      verdicts.push("error: " + String(error && error.message || error));
    }}
  }}
  const out = document.createElement("pre");
  out.id = "verdicts";
  out.textContent = JSON.stringify(verdicts);
  document.body.appendChild(out);
}})();
</script></body></html>"""
    )
    dom = _run_chromium(
        "--allow-file-access-from-files", "--virtual-time-budget=30000", "--dump-dom", page.as_uri()
    )
    match = re.search(r'<pre id="verdicts">(.*?)</pre>', dom, re.S)
    assert match, "the render page never finished (mermaid did not load?)"
    verdicts = json.loads(match.group(1).replace("&quot;", '"').replace("&amp;", "&"))
    failed = {
        f"{page} #{n}": verdict
        for n, ((page, _), verdict) in enumerate(zip(found, verdicts, strict=True))
        if verdict != "ok"
    }
    assert not failed, failed


def test_a_built_stage_page_shows_its_diagram(tmp_path):
    chromium = _chromium()
    site = tmp_path / "site"
    root = DOCS.parent
    if not shutil.which("mkdocs"):
        pytest.skip("mkdocs not installed: uv sync --group docs")
    built = subprocess.run(
        ["mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    warnings = [line for line in built.stderr.splitlines() if "WARNING" in line]
    assert built.returncode == 0, warnings or built.stderr[-2000:]
    shot = tmp_path / "grpo.png"
    subprocess.run(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--allow-file-access-from-files",
            "--window-size=1280,1000",
            "--virtual-time-budget=15000",
            f"--screenshot={shot}",
            (site / "method" / "grpo" / "index.html").as_uri(),
        ],
        capture_output=True,
        timeout=300,
    )
    data = shot.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    # A rendered diagram is many small shapes and letters: a page whose diagram failed is
    # mostly flat colour and compresses to far fewer bytes than this.
    assert len(data) > 50_000
