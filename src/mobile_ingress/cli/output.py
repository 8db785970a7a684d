"""Finding writers: NDJSON, CSV (lists `|`-joined) and a terminal table."""

from __future__ import annotations

import csv
import json
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import IO, Callable

from rich import box
from rich.console import Console
from rich.table import Table

from ..engine.detector import Report
from ..engine.findings import FIELDS, LIST_FIELDS, Finding

# Extras of the command line's output, not finding fields (docs/cli.md, "Times"): each epoch
# field of a finding with its time as ISO 8601 UTC text, written next to it.
ISO_FIELDS = {"first_time": "first_time_iso", "last_time": "last_time_iso"}


def with_iso_times(row: dict[str, object]) -> dict[str, object]:
    """ROW with `<field>_iso` after each epoch time field (ISO_FIELDS)."""
    out: dict[str, object] = {}
    for name, value in row.items():
        out[name] = value
        if name in ISO_FIELDS:
            out[ISO_FIELDS[name]] = iso_time(value)
    return out


def write_ndjson(out: IO[str], rows: Sequence[dict[str, object]], iso_times: bool = False) -> None:
    for row in rows:
        out.write(json.dumps(with_iso_times(row) if iso_times else row, separators=(",", ":")) + "\n")


def csv_columns(rows: Sequence[dict[str, object]]) -> list[str]:
    """The finding fields with each epoch time's ISO column after it (and `suppressed_by` when a
    row has one)."""
    columns: list[str] = []
    for name in FIELDS:
        columns.append(name)
        if name in ISO_FIELDS:
            columns.append(ISO_FIELDS[name])
    if any("suppressed_by" in row for row in rows):
        columns.append("suppressed_by")
    return columns


def write_csv(out: IO[str], rows: Sequence[dict[str, object]]) -> None:
    columns = csv_columns(rows)
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        full = with_iso_times(row)
        cells = []
        for column in columns:
            value = full.get(column)
            if column in LIST_FIELDS and isinstance(value, list):
                value = "|".join(str(v) for v in value)
            cells.append("" if value is None else value)
        writer.writerow(cells)


_SEVERITY_STYLE = {"critical": "bold red", "high": "red", "medium": "yellow", "low": "green"}


_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def _datetime(seconds: object) -> datetime | None:
    """A time in epoch seconds as a UTC datetime; None for a non-number or one the calendar cannot
    show (before year 1, beyond 9999)."""
    if not isinstance(seconds, (int, float)) or isinstance(seconds, bool):
        return None
    try:
        # epoch + offset, not fromtimestamp(): that one refuses negative times on some platforms
        return _EPOCH + timedelta(seconds=seconds)
    except (OverflowError, ValueError, OSError):
        return None


def iso_time(seconds: object) -> str:
    """ISO 8601 UTC with milliseconds (the contract's precision), e.g. 2023-11-14T22:13:20.125Z;
    empty for a time the calendar cannot show."""
    when = _datetime(seconds)
    if when is None:
        return ""
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def _when(seconds: object) -> str:
    """A time as UTC text; one the calendar cannot show as its epoch seconds instead of a
    traceback."""
    when = _datetime(seconds)
    if when is not None:
        return when.strftime("%Y-%m-%d %H:%M:%S")
    return f"{seconds} (epoch seconds)" if isinstance(seconds, (int, float)) else ""


def _file_name(row: dict[str, object]) -> str:
    path = row.get("file_path")
    return str(path).rsplit("/", 1)[-1] if path else "-"


@dataclass(frozen=True)
class _Column:
    """A column of the default table: at most `widest` characters, cut with an ellipsis down to
    `narrowest` when the terminal is narrow; widest 0 for the explanation, which takes the rest."""

    header: str
    cell: Callable[[dict[str, object]], str]
    widest: int
    narrowest: int


# The columns an analyst reads first; --wide shows every field in full.
_KEY_COLUMNS = (
    _Column("time (UTC)", lambda row: _when(row["first_time"]), 19, 19),
    _Column("analytic", lambda row: str(row["analytic_id"]), 8, 6),
    _Column("device", lambda row: str(row["device_id"]), 18, 8),
    _Column("app", lambda row: str(row.get("app_id") or "-"), 24, 8),
    _Column("file", _file_name, 20, 6),
    _Column("destination", lambda row: str(row["dest"]), 24, 8),
    _Column("explanation", lambda row: str(row["explanation"]), 0, 8),
)
# Under NARROW_BELOW characters the device, app, file and destination columns would be cut to a few
# letters each: the table then shows the time, analytic and severity beside the whole explanation,
# folded over lines (it names the device, app, file and destination itself).
NARROW_BELOW = 120
_NARROW_COLUMNS = (
    _KEY_COLUMNS[0],
    _KEY_COLUMNS[1],
    _Column("severity", lambda row: str(row.get("severity") or "-"), 8, 8),
    _KEY_COLUMNS[-1],
)
_SUPPRESSED_COLUMN = _Column("suppressed by", lambda row: str(row.get("suppressed_by") or "-"), 24, 8)
_GAP = 2  # characters between two columns (box.SIMPLE_HEAD, collapsed padding)


def fit_widths(columns: Sequence[_Column], cells: Sequence[Sequence[str]], width: int) -> list[int]:
    """Each column's width in WIDTH characters: its content up to `widest`; while the row is too
    wide (the explanation asking a quarter of it), the widest shrinkable column gives one character
    (not below `narrowest`); the explanation takes what is left."""
    room = width - _GAP * (len(columns) - 1)
    widths = [
        min(c.widest, max([len(c.header)] + [len(line[i]) for line in cells]))
        if c.widest
        else max(c.narrowest, room // 4)
        for i, c in enumerate(columns)
    ]
    while sum(widths) > room:
        shrinkable = [i for i, c in enumerate(columns) if c.widest and widths[i] > c.narrowest]
        if not shrinkable:
            break
        widest = max(shrinkable, key=lambda i: widths[i])
        widths[widest] -= 1
    rest = room - sum(w for w, c in zip(widths, columns) if c.widest)
    return [w if c.widest else max(c.narrowest, rest) for w, c in zip(widths, columns)]


def _wide_cell(row: dict[str, object], name: str) -> str:
    value = row.get(name)
    if name == "severity":
        return f"[{_SEVERITY_STYLE.get(str(value), '')}]{value}[/]"
    if name in ISO_FIELDS:
        return _when(value)
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "-"
    return "-" if value in (None, "") else str(value)


def _by_time(rows: Sequence[dict[str, object]]) -> list[dict[str, object]]:
    def key(row: dict[str, object]) -> tuple[float, str]:
        time = row.get("first_time")
        number = float(time) if isinstance(time, (int, float)) and not isinstance(time, bool) else 0.0
        return number, str(row.get("finding_id", ""))

    return sorted(rows, key=key)


def write_table(
    out: IO[str], rows: Sequence[dict[str, object]], title: str, wide: bool = False, width: int | None = None
) -> None:
    """Findings by time as a table: the key columns fitted to WIDTH (the terminal's, from
    `shutil.get_terminal_size`, which reads $COLUMNS first and falls back to 80), one line a
    finding; under NARROW_BELOW the time, analytic and severity beside the whole explanation; with
    WIDE every field, nothing cut."""
    suppressed = any("suppressed_by" in row for row in rows)
    if wide:
        table = Table(title=title, show_lines=False)
        names = [*FIELDS, "suppressed_by"] if suppressed else list(FIELDS)
        for name in names:
            table.add_column(name, overflow="fold")
        for row in _by_time(rows):
            table.add_row(*(_wide_cell(row, name) for name in names))
        # As wide as the content needs: a pager or a file shows it without folding.
        Console(file=out, width=100_000, soft_wrap=True).print(table)
        return
    total = width_of_terminal(width)
    narrow = total < NARROW_BELOW
    columns = list(_NARROW_COLUMNS if narrow else _KEY_COLUMNS) + ([_SUPPRESSED_COLUMN] if suppressed else [])
    cells = [[c.cell(row) for c in columns] for row in _by_time(rows)]
    table = Table(title=title, box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, collapse_padding=True)
    for column, fitted in zip(columns, fit_widths(columns, cells, total)):
        folded = narrow and not column.widest  # the explanation, whole, over as many lines as it needs
        table.add_column(
            column.header, overflow="fold" if folded else "ellipsis", no_wrap=not folded, width=fitted
        )
    for line in cells:
        table.add_row(*line)
    Console(file=out, width=total).print(table)


def width_of_terminal(width: int | None = None) -> int:
    """WIDTH, or the terminal's ($COLUMNS first, 80 when stdout is not a terminal)."""
    return width or shutil.get_terminal_size().columns


def message_lines(report: Report, shown: int) -> list[str]:
    """The first SHOWN skip and warning messages, then how many more there were (stderr of
    `detect` and `normalize`)."""
    lines = report.messages[:shown]
    hidden = len(report.messages) - shown + report.dropped_messages
    if hidden > 0:
        lines.append(f"... and {hidden} more messages (--messages FILE keeps them all)")
    return lines


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
