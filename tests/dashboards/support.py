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


def full_query(defn: dict[str, Any], ds_id: str) -> str:
    """A data source's whole SPL: a chain is its base's query followed by its own."""
    source = defn["dataSources"][ds_id]
    query = source["options"]["query"]
    if source["type"] == "ds.chain":
        return full_query(defn, source["options"]["extend"]) + "\n" + query
    return query


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
