"""Fixtures for the `ingresscorrelate` tests: a simulated fleet, its events newest first, and an
app folder with the shipped lookups and the fleet's as `_local` overrides."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from .support import CLI, SHIPPED


@pytest.fixture
def app(tmp_path: Path) -> Path:
    """An app folder with the shipped lookups only (the folder name is the app's name)."""
    folder = tmp_path / "TA-mobile-ingress"
    (folder / "lookups").mkdir(parents=True)
    for path in SHIPPED.glob("*.csv"):
        shutil.copy(path, folder / "lookups" / path.name)
    return folder


@pytest.fixture(scope="session")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("fleet")
    subprocess.run(
        [*CLI, "simulate", "--devices", "20", "--hours", "2", "--seed", "3", "--out", str(out)],
        check=True,
        capture_output=True,
    )
    return out


@pytest.fixture(scope="session")
def app_dir(fleet: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An app folder as Splunk has it: the shipped lookups, the fleet's as `_local` overrides."""
    app = tmp_path_factory.mktemp("app") / "TA-mobile-ingress"  # the folder name is the app's name
    (app / "lookups").mkdir(parents=True)
    for path in SHIPPED.glob("*.csv"):
        shutil.copy(path, app / "lookups" / path.name)
    for path in (fleet / "lookups").glob("*.csv"):
        shutil.copy(path, app / "lookups" / f"{path.stem}_local.csv")
    return app


@pytest.fixture(scope="session")
def events(fleet: Path) -> list[dict[str, object]]:
    """Newest first, as Splunk hands them to a command."""
    records = [json.loads(line) for line in (fleet / "events.ndjson").read_text().splitlines() if line]
    return sorted(records, key=lambda r: float(r["_time"]), reverse=True)  # type: ignore[arg-type]
