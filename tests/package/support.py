"""Constants and helpers shared by the package tests and their fixtures."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APP = "TA-mobile-ingress"


def project_version() -> str:
    """[project] version from pyproject.toml (regex: tomllib is not in Python 3.9)."""
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    project = re.search(r"^\[project\]\s*$(.*?)(?=^\[|\Z)", text, re.MULTILINE | re.DOTALL)
    assert project, "pyproject.toml has no [project] table"
    version = re.search(r'^version\s*=\s*"([^"]+)"', project.group(1), re.MULTILINE)
    assert version, "pyproject.toml's [project] table has no version"
    return version.group(1)
