"""`mobile-ingress detect` as contract section 5 specifies it."""

from __future__ import annotations

import csv
import gzip
import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from mobile_ingress.cli.main import main

T = 1_700_000_000
EVENTS = [
    {
        "_time": T,
        "activity": "retrieval",
        "platform": "android",
        "device_id": "pixel-1",
        "app_id": "com.flash.pro",
        "url": "https://stage.evil.example/x/p.dex",
        "bytes_in": 20000,
        "event_id": "r1",
    },
    {
        "_time": T + 5,
        "activity": "file_create",
        "platform": "android",
        "device_id": "pixel-1",
        "file_path": "/data/user/0/com.flash.pro/files/p.dex",
        "event_id": "f1",
    },
]


def write_ndjson(path: Path, events: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(e) + "\n" for e in events), encoding="utf-8")
    return path


def detect(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["detect", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_findings_go_to_stdout_as_ndjson_and_the_summary_to_stderr(tmp_path: Path, capsys: Any) -> None:
    code, out, err = detect(capsys, str(write_ndjson(tmp_path / "e.ndjson", EVENTS)))
    rows = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and len(rows) == 1
    assert rows[0]["file_path"] == "/data/data/com.flash.pro/files/p.dex"
    assert "read 2 events" in err and "1 findings (AN1848: 1; medium 1)" in err


def test_no_finding_still_exits_zero(tmp_path: Path, capsys: Any) -> None:
    code, out, err = detect(capsys, str(write_ndjson(tmp_path / "e.ndjson", EVENTS[:1])))
    assert code == 0 and out == "" and "0 findings" in err


@pytest.mark.parametrize(
    "suffix", [".ndjson", ".jsonl", ".json", ".csv", ".ndjson.gz", ".csv.gz", ".json.gz"]
)
def test_every_input_format_gives_the_same_finding(tmp_path: Path, capsys: Any, suffix: str) -> None:
    path = tmp_path / f"events{suffix}"
    base = suffix.replace(".gz", "")
    if base == ".csv":
        buffer = io.StringIO()
        fields = sorted({key for event in EVENTS for key in event})
        writer = csv.DictWriter(buffer, fieldnames=fields)
        writer.writeheader()
        writer.writerows(EVENTS)
        text = buffer.getvalue()
    elif base == ".json":
        text = json.dumps(EVENTS, indent=2)
    else:
        text = "".join(json.dumps(e) + "\n" for e in EVENTS)
    if suffix.endswith(".gz"):
        path.write_bytes(gzip.compress(text.encode("utf-8")))
    else:
        path.write_text(text, encoding="utf-8")
    code, out, _ = detect(capsys, str(path))
    assert code == 0 and len(out.splitlines()) == 1


def test_stdin_is_read_with_a_dash(monkeypatch: pytest.MonkeyPatch, capsys: Any) -> None:
    data = "".join(json.dumps(e) + "\n" for e in EVENTS).encode()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    code, out, _ = detect(capsys, "-")
    assert code == 0 and len(out.splitlines()) == 1


def test_a_bad_csv_row_is_reported_with_its_line_counting_the_header_as_line_one(
    tmp_path: Path, capsys: Any
) -> None:
    path = tmp_path / "e.csv"
    path.write_text("_time,activity,platform,device_id\nsoon,state,android,d1\n1700000000,state,android,d1\n")
    code, _, err = detect(capsys, str(path))
    assert code == 0 and f"{path}:2: skipped: invalid _time" in err and "skipped 1" in err


def test_inputs_are_correlated_together(tmp_path: Path, capsys: Any) -> None:
    flows = write_ndjson(tmp_path / "flow.ndjson", EVENTS[:1])
    edr = write_ndjson(tmp_path / "edr.ndjson", EVENTS[1:])
    code, out, _ = detect(capsys, str(flows), str(edr))
    assert code == 0 and len(out.splitlines()) == 1


def test_a_lookups_folder_replaces_the_shipped_lookup(tmp_path: Path, capsys: Any) -> None:
    folder = tmp_path / "lookups"
    folder.mkdir()
    (folder / "mobile_ingress_allowed_destinations.csv").write_text(
        "destination,app_id,comment\n*.evil.example,com.flash.pro,test\n"
    )
    events = write_ndjson(tmp_path / "e.ndjson", EVENTS)
    code, out, _ = detect(capsys, "--lookups", str(folder), str(events))
    assert code == 0 and out == ""
    code, out, _ = detect(capsys, "--lookups", str(folder), "--suppressed", str(events))
    row = json.loads(out)
    assert row["suppressed_by"] == "mobile_ingress_allowed_destinations: *.evil.example"


@pytest.mark.parametrize("name", ["time_window", "mobile_ingress_time_window"])
def test_set_accepts_the_element_with_or_without_its_prefix(tmp_path: Path, capsys: Any, name: str) -> None:
    code, out, _ = detect(capsys, "--set", f"{name}=4", str(write_ndjson(tmp_path / "e.ndjson", EVENTS)))
    assert code == 0 and out == ""  # the file came 5 s after the retrieval: outside a 4 s window


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["--set", "window=5", "EVENTS"], "unknown element"),
        (["--set", "time_window=-3", "EVENTS"], "time_window"),
        (["--set", "foreground_state_required=perhaps", "EVENTS"], "true or false"),
        (["--lookups", "/nonexistent/folder", "EVENTS"], "no such folder"),
        (["/nonexistent/events.ndjson"], "no such file"),
        ([], "no input"),
    ],
)
def test_usage_errors_exit_two_and_say_what_was_wrong(
    tmp_path: Path, capsys: Any, argv: list[str], words: str
) -> None:
    events = str(write_ndjson(tmp_path / "e.ndjson", EVENTS))
    code, _, err = detect(capsys, *[events if arg == "EVENTS" else arg for arg in argv])
    assert code == 2 and words in err


@pytest.mark.parametrize(
    ("argv", "words"), [(["--bogus"], "unrecognized arguments"), (["--format", "xml"], "invalid choice")]
)
def test_unknown_options_exit_two_with_the_usage(
    tmp_path: Path, capsys: Any, argv: list[str], words: str
) -> None:
    with pytest.raises(SystemExit) as stopped:
        detect(capsys, *argv, str(write_ndjson(tmp_path / "e.ndjson", EVENTS)))
    assert stopped.value.code == 2 and words in capsys.readouterr().err


def test_a_lookup_without_its_header_is_set_aside_with_a_warning_and_the_run_goes_on(
    tmp_path: Path, capsys: Any
) -> None:
    folder = tmp_path / "lookups"
    folder.mkdir()
    (folder / "mobile_ingress_destination_baseline.csv").write_text("dest\nx.example\n")
    events = str(write_ndjson(tmp_path / "e.ndjson", EVENTS))
    code, out, err = detect(capsys, "--lookups", str(folder), events)
    assert code == 0 and len(out.splitlines()) == 1
    assert "mobile_ingress_destination_baseline.csv: not used for mobile_ingress_destination_baseline" in err
    assert "lacks column(s) app_id" in err and "1 warnings" in err


def _one_bad_record(tmp_path: Path, capsys: Any, bad_line: str, *argv: str) -> tuple[str, str]:
    """A bad record among good ones: exit 0, the good chain still found, the bad line skipped."""
    path = tmp_path / "e.ndjson"
    path.write_text(json.dumps(EVENTS[0]) + "\n" + bad_line + "\n" + json.dumps(EVENTS[1]) + "\n")
    code, out, err = detect(capsys, *argv, str(path))
    assert code == 0, err
    assert f"{path}:2: skipped: " in err and "skipped 1 " in err
    return out, err


def test_a_json_integer_beyond_a_float_is_one_skipped_record(tmp_path: Path, capsys: Any) -> None:
    out, err = _one_bad_record(tmp_path, capsys, json.dumps({**EVENTS[0], "_time": 10**400, "event_id": "x"}))
    assert len(out.splitlines()) == 1 and "outside the years 1 to 9999" in err


def test_deeply_nested_json_is_one_skipped_record(tmp_path: Path, capsys: Any) -> None:
    out, err = _one_bad_record(tmp_path, capsys, "[" * 100_000 + "]" * 100_000)
    assert len(out.splitlines()) == 1 and "nested too deeply" in err


def test_a_zone_offset_of_a_day_is_one_skipped_record(tmp_path: Path, capsys: Any) -> None:
    bad = json.dumps({**EVENTS[0], "_time": "2023-11-14T22:13:20+24:00", "event_id": "x"})
    out, err = _one_bad_record(tmp_path, capsys, bad)
    assert len(out.splitlines()) == 1 and "zone offset out of range" in err


def test_a_record_with_a_repeated_key_is_one_skipped_record(tmp_path: Path, capsys: Any) -> None:
    bad = '{"_time": 1700000001, "activity": "state", "activity": "file_create", "platform": "android", ' \
          '"device_id": "pixel-1", "file_path": "/data/data/com.flash.pro/files/q.dex"}'
    out, err = _one_bad_record(tmp_path, capsys, bad)
    assert len(out.splitlines()) == 1 and "duplicate key 'activity'" in err


def test_byte_counts_that_would_sum_to_infinity_are_warnings_not_a_crash(tmp_path: Path, capsys: Any) -> None:
    huge = [{**EVENTS[0], "bytes_in": 1.5e308, "event_id": f"r{i}"} for i in range(2)]
    code, out, err = detect(capsys, str(write_ndjson(tmp_path / "e.ndjson", [*huge, EVENTS[1]])))
    assert code == 0 and "2 warnings" in err and "bytes_in=1.5e+308 is above 9007199254740992" in err
    row = json.loads(out)
    assert row["bytes_in"] is None and "retrieved from stage.evil.example" in row["explanation"]


def test_table_output_of_times_outside_the_calendar_never_crashes(tmp_path: Path, capsys: Any) -> None:
    old = [{**e, "_time": -99_999_999_999 + i} for i, e in enumerate(EVENTS)]
    events = str(write_ndjson(tmp_path / "e.ndjson", [*old, *EVENTS]))
    code, out, err = detect(capsys, "--format", "table", events)
    assert code == 0 and "outside the years 1 to 9999" in err and "1 findings" in err
    early = [{**e, "_time": -5 + 5 * i} for i, e in enumerate(EVENTS)]
    code, out, _ = detect(capsys, "--format", "table", str(write_ndjson(tmp_path / "f.ndjson", early)))
    assert code == 0 and "1969-12-31 23:59:55" in out


def test_a_csv_cell_over_128_kib_is_one_skipped_record_and_the_rest_is_read(
    tmp_path: Path, capsys: Any
) -> None:
    long_url = "https://stage.evil.example/" + "a" * 140_000
    path = tmp_path / "e.csv"
    rows = [
        "_time,activity,platform,device_id,app_id,url,bytes_in,file_path,event_id",
        f"{T},retrieval,android,pixel-1,com.flash.pro,https://stage.evil.example/x/p.dex,20000,,r1",
        f"{T + 1},retrieval,android,pixel-1,com.flash.pro,{long_url},20000,,r2",
        f"{T + 5},file_create,android,pixel-1,,,,/data/user/0/com.flash.pro/files/p.dex,f1",
    ]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    code, out, err = detect(capsys, str(path))
    assert code == 0 and f"{path}:3: skipped: CSV cell over 131072 characters" in err
    assert json.loads(out)["evidence"] == ["r1", "f1"]


def test_a_csv_whose_header_repeats_a_column_refuses_its_records(tmp_path: Path, capsys: Any) -> None:
    path = tmp_path / "e.csv"
    path.write_text("_time,activity,platform,device_id,activity\n1700000000,state,android,d1,load\n")
    code, _, err = detect(capsys, str(path))
    assert code == 0 and f"{path}:2: skipped: duplicate key 'activity'" in err


def test_csv_output_joins_lists_with_pipes(tmp_path: Path, capsys: Any) -> None:
    code, out, _ = detect(capsys, "--format", "csv", str(write_ndjson(tmp_path / "e.ndjson", EVENTS)))
    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == 0 and rows[0]["stages"] == "retrieval|staging" and rows[0]["evidence"] == "r1|f1"


def test_table_output_names_the_app_and_the_file(tmp_path: Path, capsys: Any) -> None:
    code, out, _ = detect(capsys, "--format", "table", str(write_ndjson(tmp_path / "e.ndjson", EVENTS)))
    assert code == 0 and "com.flash.pro" in out and "p.dex" in out and "AN1848" in out


def test_output_file_receives_the_findings(tmp_path: Path, capsys: Any) -> None:
    target = tmp_path / "findings.ndjson"
    code, out, _ = detect(capsys, "--output", str(target), str(write_ndjson(tmp_path / "e.ndjson", EVENTS)))
    assert code == 0 and out == "" and len(target.read_text().splitlines()) == 1


def test_the_installed_console_script_runs(tmp_path: Path) -> None:
    events = write_ndjson(tmp_path / "e.ndjson", EVENTS)
    script = Path(sys.executable).with_name("mobile-ingress")
    done = subprocess.run([str(script), "detect", str(events)], capture_output=True, text=True, check=False)
    assert done.returncode == 0 and json.loads(done.stdout)["analytic_id"] == "AN1848"
    argv = [str(script), "detect", "--set", "nope=1", str(events)]
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    assert done.returncode == 2


def test_raw_input_of_an_unmapped_sourcetype_is_a_usage_error(tmp_path: Path, capsys: Any) -> None:
    # tests/cli/test_raw.py covers --raw in full.
    events = str(write_ndjson(tmp_path / "e.ndjson", EVENTS))
    code, _, err = detect(capsys, "--raw", f"bro:dns:json={events}")
    assert code == 2 and "--raw bro:dns:json: not a supported sourcetype" in err


def test_messages_file_keeps_every_skip_with_its_line(tmp_path: Path, capsys: Any) -> None:
    path = tmp_path / "e.ndjson"
    path.write_text("".join(f'{{"_time": "bad{i}"}}\n' for i in range(30)) + json.dumps(EVENTS[0]) + "\n")
    messages = tmp_path / "messages.txt"
    code, _, err = detect(capsys, "--messages", str(messages), str(path))
    kept = messages.read_text().splitlines()
    assert code == 0 and len(kept) == 30 and kept[29].startswith(f"{path}:30: skipped: invalid _time")
    assert "and 10 more messages" in err


def test_the_progress_ticker_counts_records_when_stderr_is_a_terminal() -> None:
    from mobile_ingress.cli.main import _progress

    with _progress(True) as tick:
        for _ in range(12_000):
            tick()
    with _progress(False) as tick:
        assert tick() is None
