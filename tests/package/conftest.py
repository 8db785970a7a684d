"""Fixtures for the tests of the built Splunk app.

These tests read what `make package` and `make inspect` leave behind: output/TA-mobile-ingress,
dist/TA-mobile-ingress-<version>.tar.gz and its AppInspect report. `make test` runs them last.
When the build output is missing they fail (never skip), so a broken build cannot pass as green.
"""

from __future__ import annotations

import tarfile
from pathlib import Path

import pytest

from .support import APP, ROOT, project_version

# tarfile's "data" filter (3.9.17+, 3.11.4+) refuses links and paths that leave the target folder.
_SAFE_EXTRACT = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}


def _require(path: Path, what: str) -> Path:
    if not path.exists():
        pytest.fail(f"{what} is missing: {path.relative_to(ROOT)}; run `make package inspect` first")
    return path


@pytest.fixture(scope="session")
def version() -> str:
    return project_version()


@pytest.fixture(scope="session")
def build_dir() -> Path:
    """The app as `ucc-gen build` left it."""
    return _require(ROOT / "output" / APP, "the built app")


@pytest.fixture(scope="session")
def package_path(version: str) -> Path:
    return _require(ROOT / "dist" / f"{APP}-{version}.tar.gz", "the app package")


@pytest.fixture(scope="session")
def package_members(package_path: Path) -> list[tarfile.TarInfo]:
    with tarfile.open(package_path, "r:gz") as archive:
        return archive.getmembers()


@pytest.fixture(scope="session")
def app_dir(package_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The package as Splunk would unpack it: every content test reads this, the shipped bytes."""
    target = tmp_path_factory.mktemp("app")
    with tarfile.open(package_path, "r:gz") as archive:
        for member in archive.getmembers():
            # The package is ours, but never let a crafted path escape the temporary folder.
            assert not member.name.startswith("/") and ".." not in Path(member.name).parts
            if member.isfile() or member.isdir():
                archive.extract(member, target, **_SAFE_EXTRACT)
    return _require(target / APP, "the app folder inside the package")


@pytest.fixture(scope="session")
def inspect_report(version: str) -> Path:
    return _require(ROOT / "dist" / f"{APP}-{version}.appinspect.json", "the AppInspect report")
