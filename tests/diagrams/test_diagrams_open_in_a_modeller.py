"""Every diagram in processes/ imports into bpmn-js (the modeller the web app uses) with no warning:
every reference resolves and every element has its shape. Drawn in Debian's Chromium, headless."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DIAGRAMS = sorted((ROOT / "processes").rglob("*.bpmn"))
VIEWER = ROOT / "node_modules" / "bpmn-js" / "dist" / "bpmn-viewer.production.min.js"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"

pytestmark = pytest.mark.skipif(
    not (Path(CHROMIUM).exists() and VIEWER.exists()),
    reason="needs Debian's chromium and `npm ci` (both installed by `make test`)",
)


@pytest.mark.parametrize("path", DIAGRAMS, ids=[p.name for p in DIAGRAMS])
def test_diagram_imports_into_bpmn_js_without_warnings(path, tmp_path):
    page = tmp_path / "diagram.html"
    page.write_text(
        f"""<!doctype html><html><head><title>loading</title></head><body><div id="c"></div>
<script src="{VIEWER.as_uri()}"></script><script>
new BpmnJS({{container: '#c'}}).importXML({json.dumps(path.read_text(encoding="utf-8"))})
  .then(r => document.title = 'warnings:' + JSON.stringify(r.warnings.map(w => w.message)))
  .catch(e => document.title = 'error:' + e.message);
</script></body></html>""",
        encoding="utf-8",
    )
    out = subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--allow-file-access-from-files",
            "--virtual-time-budget=5000",
            "--dump-dom",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    title = re.search(r"<title>(.*?)</title>", out.stdout, re.S)
    assert title, out.stderr[-2000:]
    assert title.group(1) == "warnings:[]", title.group(1)
