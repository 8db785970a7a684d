"""Fixtures for the dashboard tests: recorded results and the headless Chromium render.

The recording (tools/record_dashboard_results.py: simulate, detect, shape) and the render
(dashboards/scripts/render.mjs over the built preview page) run once per session. They need the
npm toolchain and the built page (`make dashboards-build`, which `make test` runs first) and
Debian's chromium; when those are missing the tests fail with the make target to run.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from .support import DASHBOARDS, ROOT, VIEWS, require_node_modules, run_node

sys.path.insert(0, str(ROOT / "tools"))
import record_dashboard_results

SCREENSHOTS = ROOT / "output" / "dashboard-screenshots"


@pytest.fixture(scope="session")
def recorded_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("recorded")
    record_dashboard_results.record(out)
    return out


@pytest.fixture(scope="session")
def recorded(recorded_dir: Path) -> dict[str, dict[str, Any]]:
    return {path.stem: json.loads(path.read_text(encoding="utf-8")) for path in recorded_dir.glob("*.json")}


@pytest.fixture(scope="session")
def render_report(recorded_dir: Path) -> dict[str, Any]:
    """Every dashboard drawn in headless Chromium; screenshots kept in output/dashboard-screenshots."""
    require_node_modules()
    if not (DASHBOARDS / "dist" / "index.html").is_file():
        pytest.fail("the preview page is not built: run `make dashboards-build` (vite build)")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    report_path = SCREENSHOTS / "render-report.json"
    report_path.unlink(missing_ok=True)
    done = run_node(
        [
            "scripts/render.mjs",
            "--views",
            str(VIEWS),
            "--recorded",
            str(recorded_dir),
            "--out",
            str(SCREENSHOTS),
            "--report",
            str(report_path),
        ],
    )
    assert done.returncode == 0, f"render.mjs failed (exit {done.returncode}):\n{done.stderr[-4000:]}"
    return json.loads(report_path.read_text(encoding="utf-8"))
