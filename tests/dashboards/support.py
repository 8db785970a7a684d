"""Paths and loaders shared by the dashboard tests."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
DASHBOARDS = ROOT / "dashboards"
VIEWS = ROOT / "package" / "default" / "data" / "ui" / "views"
NAV = ROOT / "package" / "default" / "data" / "ui" / "nav" / "default.xml"
DEFAULT = ROOT / "package" / "default"
NAMES = (
    "mobile_ingress_overview",
    "mobile_ingress_finding",
    "mobile_ingress_tuning",
    "mobile_ingress_data_health",
)
CDATA = re.compile(r"<definition>\s*<!\[CDATA\[(.*?)\]\]>\s*</definition>", re.S)


def definition(name: str) -> dict[str, Any]:
    """The Dashboard Studio definition inside the view, as the app ships it."""
    text = (VIEWS / f"{name}.xml").read_text(encoding="utf-8")
    match = CDATA.search(text)
    assert match, f"{name}.xml has no <definition><![CDATA[...]]></definition>"
    return json.loads(match.group(1))


def node() -> str:
    path = shutil.which("node")
    assert path, "node is not installed (the Makefile's dashboards toolchain needs Node.js 20)"
    return path


def require_node_modules() -> None:
    if not (DASHBOARDS / "node_modules" / "@splunk" / "dashboard-validation").is_dir():
        raise AssertionError("dashboards/node_modules is missing: run `make dashboards-toolchain` (npm ci)")


def run_node(args: list[str], timeout: int = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [node(), *args], cwd=DASHBOARDS, capture_output=True, text=True, timeout=timeout, check=False
    )


def render(recorded: Path, out: Path, report: Path, names: list[str] | None = None) -> dict[str, Any]:
    """dashboards/scripts/render.mjs over the shipped views and the recordings in RECORDED:
    screenshots in OUT, the report (what each panel drew) returned."""
    require_node_modules()
    if not (DASHBOARDS / "dist" / "index.html").is_file():
        raise AssertionError("the preview page is not built: run `make dashboards-build` (vite build)")
    out.mkdir(parents=True, exist_ok=True)
    report.unlink(missing_ok=True)
    args = ["scripts/render.mjs", "--views", str(VIEWS), "--recorded", str(recorded), "--out", str(out)]
    if names:
        args += ["--names", ",".join(names)]
    done = run_node([*args, "--report", str(report)])
    assert done.returncode == 0, f"render.mjs failed (exit {done.returncode}):\n{done.stderr[-4000:]}"
    loaded: dict[str, Any] = json.loads(report.read_text(encoding="utf-8"))
    return loaded
