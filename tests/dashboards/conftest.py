"""Fixtures for the dashboard tests: the dashboards' searches executed over the replay, and the
headless Chromium render of those results.

The recording runs every data source of every shipped view in the executor that ran the replay
(the session's `replay`, tests/replay/fixtures.py), looked at as looks.py says; the render
(dashboards/scripts/render.mjs over the built preview page) draws them. The render needs the npm
toolchain and the built page (`make dashboards-build`, which `make pytest` runs first) and
Debian's chromium; when those are missing the tests fail with the make target to run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.replay.deployment import Deployment

from .looks import FINDING, looks, with_es
from .recording import Recording, record
from .support import ROOT, definition, render

SCREENSHOTS = ROOT / "output" / "dashboard-screenshots"


@pytest.fixture(scope="session")
def recordings(replay: Deployment) -> dict[str, Recording]:
    """Every dashboard's data sources executed over the replay, on a search head without ES."""
    return {name: record(replay.sp, definition(name), look) for name, look in looks(replay).items()}


@pytest.fixture(scope="session")
def finding_with_es(replay: Deployment) -> Recording:
    """The Finding dashboard's data sources with Enterprise Security installed."""
    return record(replay.sp, definition(FINDING), with_es(looks(replay)[FINDING]))


@pytest.fixture(scope="session")
def recorded_dir(recordings: dict[str, Recording], tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("recorded")
    for recording in recordings.values():
        recording.write(out)
    return out


@pytest.fixture(scope="session")
def render_report(recorded_dir: Path) -> dict[str, Any]:
    """Every dashboard drawn in headless Chromium; screenshots kept in output/dashboard-screenshots."""
    return render(recorded_dir, SCREENSHOTS, SCREENSHOTS / "render-report.json")


@pytest.fixture(scope="session")
def render_report_es(finding_with_es: Recording, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The Finding dashboard drawn with Enterprise Security installed."""
    folder = tmp_path_factory.mktemp("recorded-es")
    finding_with_es.write(folder)
    return render(folder, folder / "screenshots", folder / "render-report.json", [FINDING])
