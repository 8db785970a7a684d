"""The finding writers as a person reads them: a table that fits the terminal, ISO 8601 times
beside the epoch seconds in CSV (and in NDJSON when asked)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest

from mobile_ingress.cli.main import main
from mobile_ingress.cli.output import write_table

from .test_detect import EVENTS, T, write_ndjson


def detect(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["detect", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def findings(tmp_path: Path, capsys: Any, chains: int = 3) -> list[dict[str, object]]:
    """Findings of CHAINS devices, written in reverse time order."""
    events = [
        {**e, "_time": e["_time"] - 60 * n, "device_id": f"pixel-{n}", "event_id": f"{e['event_id']}-{n}"}  # type: ignore[operator]
        for n in range(chains)
        for e in EVENTS
    ]
    code, out, _ = detect(capsys, str(write_ndjson(tmp_path / "e.ndjson", events)))
    assert code == 0
    return sorted((json.loads(line) for line in out.splitlines()), key=lambda r: -r["first_time"])


def table(rows: list[dict[str, object]], **options: Any) -> str:
    out = io.StringIO()
    write_table(out, rows, f"{len(rows)} findings", **options)
    return out.getvalue()


@pytest.mark.parametrize("width", [80, 100])
def test_a_narrow_table_fits_the_terminal_with_every_explanation_whole(
    tmp_path: Path, capsys: Any, width: int
) -> None:
    rows = findings(tmp_path, capsys)
    text = table(rows, width=width)
    assert max(len(line) for line in text.splitlines()) <= width
    assert "…" not in text  # folded over lines, never cut
    flat = "".join(line[text.splitlines()[1].index("explanation") :].strip() for line in text.splitlines())
    for row in rows:
        assert str(row["explanation"]).replace(" ", "") in flat.replace(" ", "")
    assert "AN1848" in text and "severity" in text


@pytest.mark.parametrize("width", [120, 160])
def test_a_wide_terminal_shows_the_key_columns_one_line_a_finding(
    tmp_path: Path, capsys: Any, width: int
) -> None:
    rows = findings(tmp_path, capsys)
    lines = table(rows, width=width).splitlines()
    assert max(len(line) for line in lines) <= width
    assert sum("pixel-" in line for line in lines) == len(rows)  # one line each
    header = lines[1]
    assert all(name in header for name in ("device", "app", "file", "destination", "explanation"))


def test_the_default_table_is_in_time_order(tmp_path: Path, capsys: Any) -> None:
    lines = table(findings(tmp_path, capsys), width=100).splitlines()
    names = ("pixel-0", "pixel-1", "pixel-2")
    devices = [next(d for d in names if d in line) for line in lines if "pixel-" in line]
    assert devices == ["pixel-2", "pixel-1", "pixel-0"]


def test_the_default_table_reads_the_terminal_width(
    tmp_path: Path, capsys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = findings(tmp_path, capsys)
    monkeypatch.setenv("COLUMNS", "90")  # shutil.get_terminal_size reads it first
    assert max(len(line) for line in table(rows).splitlines()) == 90


def test_wide_shows_every_field_uncut(tmp_path: Path, capsys: Any) -> None:
    rows = findings(tmp_path, capsys, chains=1)
    text = table(rows, wide=True, width=80)
    assert "…" not in text and str(rows[0]["finding_id"]) in text and str(rows[0]["explanation"]) in text
    assert "delta_seconds" in text and "evidence" in text


def test_wide_is_a_usage_error_without_the_table(tmp_path: Path, capsys: Any) -> None:
    code, _, err = detect(capsys, "--wide", str(write_ndjson(tmp_path / "e.ndjson", EVENTS)))
    assert code == 2 and "--wide applies to --format table" in err


def test_csv_has_iso_times_next_to_the_epoch_seconds(tmp_path: Path, capsys: Any) -> None:
    code, out, _ = detect(capsys, "--format", "csv", str(write_ndjson(tmp_path / "e.ndjson", EVENTS)))
    header = out.splitlines()[0].split(",")
    row = next(csv.DictReader(io.StringIO(out)))
    assert code == 0 and header[header.index("first_time") + 1] == "first_time_iso"
    assert header[header.index("last_time") + 1] == "last_time_iso"
    assert row["first_time_iso"] == "2023-11-14T22:13:20.000Z" and float(row["first_time"]) == T


def test_ndjson_stays_the_contract_finding_unless_iso_times_is_asked(tmp_path: Path, capsys: Any) -> None:
    events = str(write_ndjson(tmp_path / "e.ndjson", EVENTS))
    _, plain, _ = detect(capsys, events)
    assert "first_time_iso" not in json.loads(plain)
    code, out, _ = detect(capsys, "--iso-times", events)
    row = json.loads(out)
    assert code == 0 and row["last_time_iso"] == "2023-11-14T22:13:25.000Z"
    assert list(row)[list(row).index("first_time") + 1] == "first_time_iso"
    assert {k: v for k, v in row.items() if not k.endswith("_iso")} == json.loads(plain)
