"""Helpers shared by the `ingresscorrelate` tests: the command line's findings as result rows."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from . import scp

SHIPPED = scp.ROOT / "package" / "lookups"
CLI = [sys.executable, "-m", "mobile_ingress.cli.main"]
LIST_FIELDS = ("stages", "context", "evidence")


def cli_findings(fleet: Path, events_file: Path, *extra: str) -> list[dict[str, object]]:
    done = subprocess.run(
        [*CLI, "detect", "--lookups", str(fleet / "lookups"), *extra, str(events_file)],
        check=True,
        capture_output=True,
        text=True,
    )
    return [json.loads(line) for line in done.stdout.splitlines() if line]


def chunks_of(records: list[dict[str, object]], size: int) -> list[list[dict[str, object]]]:
    return [records[i : i + size] for i in range(0, len(records), size)]


def as_splunk(finding: dict[str, object]) -> dict[str, object]:
    """A CLI finding the way a result row carries it: strings, lists as values, src/dvc added."""
    out: dict[str, object] = {}
    for name, value in finding.items():
        if name in LIST_FIELDS:
            out[name] = [str(v) for v in value]  # type: ignore[attr-defined]
        else:
            out[name] = "" if value is None else str(value)
    out["src"] = out["dvc"] = finding["device_id"]
    return out


def from_row(row: dict[str, str], names: list[str]) -> dict[str, object]:
    return {name: (scp.mv(row, name) if name in LIST_FIELDS else row.get(name, "")) for name in names}
