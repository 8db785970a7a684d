"""`ingresscorrelate` driven through the search command protocol v2 byte stream, in-process.

The command's findings must equal `mobile-ingress detect` on the same events, field for field.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from . import scp
from .support import LIST_FIELDS, as_splunk, chunks_of, cli_findings, from_row


def test_findings_equal_the_command_line_field_for_field(
    fleet: Path, app_dir: Path, events: list[dict[str, object]], tmp_path: Path
) -> None:
    expected = [as_splunk(f) for f in cli_findings(fleet, fleet / "events.ndjson")]
    assert len(expected) > 20
    result = scp.run(["time_window=300", "suppressed=false"], chunks_of(events, 400), app_dir, tmp_path)
    assert result.exit_code is None
    assert result.getinfo["type"] == "events"
    assert len(result.chunks) == 1 + len(chunks_of(events, 400))
    assert all(not chunk.rows for chunk in result.chunks[1:-1])  # everything flushed on the last chunk
    names = list(expected[0])
    got = [from_row(row, names) for row in result.rows]
    assert got == expected
    assert "suppressed_by" not in result.chunks[-1].header


def test_options_reach_the_engine(
    fleet: Path, app_dir: Path, events: list[dict[str, object]], tmp_path: Path
) -> None:
    settings = ["time_window=60", "ingress_bytes_threshold=100000", "clock_skew=2"]
    extra = [arg for s in settings for arg in ("--set", s)]
    expected = [as_splunk(f) for f in cli_findings(fleet, fleet / "events.ndjson", *extra)]
    args = [*settings, "foreground_state_required=false"]
    result = scp.run(args, chunks_of(events, 700), app_dir, tmp_path)
    assert result.exit_code is None
    names = list(expected[0])
    assert [from_row(row, names) for row in result.rows] == expected


@pytest.mark.parametrize(
    ("arg", "named"),
    [
        ("time_window=-5", "time_window"),
        ("ingress_bytes_threshold=lots", "ingress_bytes_threshold"),
        ("foreground_state_required=maybe", "foreground_state_required"),
        ("clock_skew=-1", "clock_skew"),
        ("suppressed=perhaps", "suppressed"),
        ("order=random", "order"),
        ("window=5", "window"),
    ],
)
def test_a_bad_option_is_an_error_naming_it_without_traceback(
    arg: str, named: str, app_dir: Path, events: list[dict[str, object]], tmp_path: Path
) -> None:
    result = scp.run([arg], [events[:10]], app_dir, tmp_path)
    assert result.exit_code == 1
    errors = result.texts("ERROR")
    assert errors, result.messages
    assert any(named in text for text in errors), errors
    assert not any("Traceback" in text or 'line ' in text for text in errors), errors
    assert not result.rows


def test_the_engine_message_is_the_command_lines(
    app_dir: Path, events: list[dict[str, object]], tmp_path: Path
) -> None:
    result = scp.run(["time_window=0"], [events[:10]], app_dir, tmp_path)
    assert result.texts("ERROR") == [
        "ingresscorrelate: invalid option time_window=0: "
        "time_window must be a number of seconds above 0, got '0'"
    ]


def test_unreadable_rows_are_a_warning_with_counts_and_the_rest_still_correlates(
    fleet: Path, app_dir: Path, events: list[dict[str, object]], tmp_path: Path
) -> None:
    expected = [as_splunk(f) for f in cli_findings(fleet, fleet / "events.ndjson")]
    broken: list[dict[str, object]] = []
    for index, event in enumerate(events):
        broken.append(event)
        if index % 300 == 7:
            broken.append({**event, "_time": "not a time", "event_id": f"bad-{index}"})
        if index % 500 == 11:
            broken.append({**event, "activity": "teleport", "event_id": f"odd-{index}"})
    added = len(broken) - len(events)
    result = scp.run([], chunks_of(broken, 333), app_dir, tmp_path)
    assert result.exit_code is None
    names = list(expected[0])
    assert [from_row(row, names) for row in result.rows] == expected
    warnings = [t for t in result.texts("WARN") if "skipped" in t]
    assert len(warnings) == 1, result.messages
    text = warnings[0]
    assert f"of {len(broken)} events" in text
    bad_time = sum(1 for i in range(len(events)) if i % 300 == 7)
    assert f"invalid _time (not a time): {bad_time}" in text
    assert f"invalid activity: {added - bad_time}" in text
    assert "record " in text


def test_suppressed_adds_tuning_rows_with_suppressed_by(
    fleet: Path, app_dir: Path, events: list[dict[str, object]], tmp_path: Path
) -> None:
    expected = cli_findings(fleet, fleet / "events.ndjson", "--suppressed")
    tuning = [f for f in expected if "suppressed_by" in f]
    assert tuning, "the fleet should hold suppressed chains"
    result = scp.run(["suppressed=true"], chunks_of(events, 500), app_dir, tmp_path)
    assert result.exit_code is None
    rows = result.rows
    assert len(rows) == len(expected)
    with_reason = [row for row in rows if row["suppressed_by"]]
    assert sorted(r["finding_id"] for r in with_reason) == sorted(str(f["finding_id"]) for f in tuning)
    assert sorted(r["suppressed_by"] for r in with_reason) == sorted(str(f["suppressed_by"]) for f in tuning)


def test_multivalue_fields_come_back_as_mv_columns(
    app_dir: Path, events: list[dict[str, object]], tmp_path: Path
) -> None:
    result = scp.run([], chunks_of(events, 1000), app_dir, tmp_path)
    header = result.chunks[-1].header
    for name in (*LIST_FIELDS, "src", "dvc", "finding_id"):
        assert name in header and "__mv_" + name in header
    multi = [row for row in result.rows if row["__mv_stages"]]
    assert multi
    row = multi[0]
    assert row["__mv_stages"].startswith("$retrieval$;$")
    assert scp.mv(row, "stages") == row["stages"].split("\n")
    assert all(r["src"] == r["dvc"] == r["device_id"] for r in result.rows)


def test_events_out_of_time_order_fail_clearly_unless_order_any(
    fleet: Path, app_dir: Path, events: list[dict[str, object]], tmp_path: Path
) -> None:
    ascending = list(reversed(events))
    result = scp.run([], chunks_of(ascending, 500), app_dir, tmp_path)
    assert result.exit_code == 1
    assert any("order=any" in t and "time order" in t for t in result.texts("ERROR")), result.messages
    expected = [as_splunk(f) for f in cli_findings(fleet, fleet / "events.ndjson")]
    names = list(expected[0])
    for order in ("asc", "any"):
        ok = scp.run([f"order={order}"], chunks_of(ascending, 500), app_dir, tmp_path)
        assert ok.exit_code is None, ok.messages
        assert [from_row(row, names) for row in ok.rows] == expected


def _untidy(events: list[dict[str, object]]) -> list[dict[str, object]]:
    """The fleet with records the engine skips or warns about, as Splunk may hand them over."""
    out: list[dict[str, object]] = []
    for index, event in enumerate(events):
        out.append(event)
        if index % 211 == 5:
            out.append({**event, "bytes_in": "lots", "event_id": f"w-{index}"})
        if index % 307 == 9:
            out.append({**event, "app_state": "sideways", "event_id": f"s-{index}"})
        if index % 401 == 13:
            out.append({**event, "_time": "soon", "event_id": f"t-{index}"})
    return out


def test_the_rows_and_warnings_are_those_of_correlating_every_record(
    app_dir: Path, events: list[dict[str, object]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Candidates first (engine/candidates.py) inside the command: the same rows and the same
    warnings, word for word, as normalizing and correlating every record."""
    records = _untidy(events)
    reference = scp.run([], chunks_of(records, 500), app_dir, tmp_path)
    module = scp.load_command_module()
    original = module.Detector
    monkeypatch.setattr(
        module, "Detector", lambda *args, **kwargs: original(*args, candidates_first=False, **kwargs)
    )
    result = scp.run([], chunks_of(records, 500), app_dir, tmp_path)
    assert result.exit_code is None and reference.exit_code is None
    assert result.rows == reference.rows and result.rows
    assert result.messages == reference.messages
    assert any("warnings" in text for _, text in result.messages)  # the untidy records are reported
