"""Finding writers: NDJSON, CSV (lists `|`-joined) and a terminal table."""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from typing import IO

from rich.console import Console
from rich.table import Table

from ..engine.detector import Report
from ..engine.findings import FIELDS, LIST_FIELDS, Finding


def write_ndjson(out: IO[str], rows: Sequence[dict[str, object]]) -> None:
    for row in rows:
        out.write(json.dumps(row, separators=(",", ":")) + "\n")


def write_csv(out: IO[str], rows: Sequence[dict[str, object]]) -> None:
    columns = list(FIELDS)
    if any("suppressed_by" in row for row in rows):
        columns.append("suppressed_by")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        cells = []
        for column in columns:
            value = row.get(column)
            if column in LIST_FIELDS and isinstance(value, list):
                value = "|".join(str(v) for v in value)
            cells.append("" if value is None else value)
        writer.writerow(cells)


_SEVERITY_STYLE = {"critical": "bold red", "high": "red", "medium": "yellow", "low": "green"}


_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def _when(seconds: object) -> str:
    """A time as UTC text; one the calendar cannot show (before 1970 on some platforms, beyond
    the year 9999) as its epoch seconds instead of a traceback."""
    if not isinstance(seconds, (int, float)) or isinstance(seconds, bool):
        return ""
    try:
        # epoch + offset, not fromtimestamp(): that one refuses negative times on some platforms
        return (_EPOCH + timedelta(seconds=seconds)).strftime("%Y-%m-%d %H:%M:%S")
    except (OverflowError, ValueError, OSError):
        return f"{seconds} (epoch seconds)"


def write_table(out: IO[str], rows: Sequence[dict[str, object]], title: str) -> None:
    console = Console(file=out, width=200 if not out.isatty() else None)
    table = Table(title=title, show_lines=False)
    for column in (
        "time (UTC)",
        "analytic",
        "severity",
        "score",
        "device",
        "app",
        "destination",
        "file",
        "stages",
        "context",
        "confidence",
    ):
        table.add_column(column, overflow="fold")
    if any("suppressed_by" in row for row in rows):
        table.add_column("suppressed by", overflow="fold")
    for row in rows:
        severity = str(row["severity"])
        path = row.get("file_path")
        cells = [
            _when(row["first_time"]),
            str(row["analytic_id"]),
            f"[{_SEVERITY_STYLE.get(severity, '')}]{severity}[/]",
            str(row["risk_score"]),
            str(row["device_id"]),
            str(row.get("app_id") or "-"),
            str(row["dest"]),
            str(path).rsplit("/", 1)[-1] if path else "-",
            ", ".join(row["stages"]),  # type: ignore[arg-type]
            ", ".join(row["context"]) or "-",  # type: ignore[arg-type]
            str(row["confidence"]),
        ]
        if "suppressed_by" in row:
            cells.append(str(row["suppressed_by"]))
        table.add_row(*cells)
    console.print(table)


def summary_line(report: Report, findings: list[Finding], suppressed: list[Finding]) -> str:
    parts = [f"read {report.read} events"]
    if report.skipped:
        reasons = ", ".join(f"{reason}: {count}" for reason, count in report.skipped.most_common())
        parts.append(f"skipped {report.skipped_total} ({reasons})")
    else:
        parts.append("skipped 0")
    parts.append(f"{report.warnings} warnings")
    parts.append(f"{report.filtered} irrelevant to the analytics")
    by_analytic: dict[str, int] = {}
    by_severity: dict[str, int] = {}
    for finding in findings:
        by_analytic[finding.analytic_id] = by_analytic.get(finding.analytic_id, 0) + 1
        by_severity[finding.severity.value] = by_severity.get(finding.severity.value, 0) + 1
    detail = ", ".join(f"{k}: {v}" for k, v in sorted(by_analytic.items()))
    severities = ", ".join(
        f"{name} {by_severity[name]}" for name in ("critical", "high", "medium", "low") if name in by_severity
    )
    found = f"{len(findings)} findings"
    if findings:
        found += f" ({detail}; {severities})"
    parts.append(found)
    if suppressed:
        parts.append(f"{len(suppressed)} suppressed chains")
    return "mobile-ingress: " + "; ".join(parts)
