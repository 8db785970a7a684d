"""What `ingresscorrelate` adds for Splunk around the engine's findings: the warm-up gate
(`warmup_days`, mobile_ingress_splunk/warmup.py), `_time` on each finding (notables are stamped
with it), and `required_fields` (Splunk then sends only the normalized event's fields)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mobile_ingress.engine.events import EVENT_FIELDS

from . import scp

DAY = 86400
T0 = 1_800_000_000  # the chain's retrieval; the search's period ends an hour later
END = T0 + 3600


def chain(t: float = T0) -> list[dict[str, object]]:
    """An Android app retrieves payload.apk and stages it 10 s later: one AN1848 finding."""
    return [
        {"_time": t + 10, "activity": "file_create", "platform": "android", "device_id": "d1",
         "app_id": "com.example.game", "file_path": "/data/data/com.example.game/files/payload.apk",
         "file_size": 200000, "event_id": "f1"},
        {"_time": t, "activity": "retrieval", "platform": "android", "device_id": "d1",
         "app_id": "com.example.game", "dest": "cdn.attacker.example", "bytes_in": 200000,
         "url": "https://cdn.attacker.example/p/payload.apk", "event_id": "r1"},
    ]  # fmt: skip


def baseline(app: Path, *first_seen: str) -> None:
    rows = "".join(f"com.example.other,host{i}.example,{t},{t},3\n" for i, t in enumerate(first_seen))
    (app / "lookups" / "mobile_ingress_destination_baseline_local.csv").write_text(
        "app_id,dest,first_seen,last_seen,count\n" + rows
    )


def run(app: Path, tmp_path: Path, *args: str) -> scp.Result:
    return scp.run(list(args), [chain()], app, tmp_path, latest_time=str(END))


def test_a_closed_gate_holds_the_findings_back_and_says_so(app: Path, tmp_path: Path) -> None:
    baseline(app, str(END - 2 * DAY))
    result = run(app, tmp_path, "warmup_days=7", "order=any")
    assert result.exit_code is None
    assert result.rows == []
    warnings = result.texts("WARN")
    assert any(
        "warm-up: 1 findings held back: the destination baseline has 2.0 days of history" in w
        and "mobile_ingress_baseline_warmup_days = 7" in w
        for w in warnings
    ), warnings


def test_the_gate_opens_on_the_baselines_history(app: Path, tmp_path: Path) -> None:
    baseline(app, str(END - 8 * DAY), str(END - DAY))
    result = run(app, tmp_path, "warmup_days=7", "order=any")
    assert [row["analytic_id"] for row in result.rows] == ["AN1848"]
    assert not any("held back" in w for w in result.texts("WARN"))


def test_an_empty_baseline_keeps_the_gate_closed_and_names_the_remedy(app: Path, tmp_path: Path) -> None:
    result = run(app, tmp_path, "warmup_days=7", "order=any")
    assert result.rows == []
    assert any("the destination baseline is empty" in w for w in result.texts("WARN"))


def test_held_findings_are_tuning_rows_suppressed_by_the_warmup(app: Path, tmp_path: Path) -> None:
    baseline(app, str(END - DAY))
    result = run(app, tmp_path, "warmup_days=7", "order=any", "suppressed=true")
    assert [row["suppressed_by"] for row in result.rows] == ["baseline_warmup"]


def test_without_warmup_days_there_is_no_gate(app: Path, tmp_path: Path) -> None:
    result = run(app, tmp_path, "order=any")
    assert len(result.rows) == 1


def test_a_bad_warmup_days_is_an_error_naming_it(app: Path, tmp_path: Path) -> None:
    result = run(app, tmp_path, "warmup_days=-1")
    assert result.exit_code == 1
    assert any("invalid option warmup_days=-1" in e for e in result.texts("ERROR"))


def test_the_closed_gate_writes_a_warning_to_the_apps_log(
    app: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Data health shows the app's log warnings (index=_internal): a scheduled search's own
    warnings reach nobody."""
    import logging

    home = tmp_path / "splunk_home"
    monkeypatch.setenv("SPLUNK_HOME", str(home))
    logging.getLogger("ta_mobile_ingress.ingresscorrelate").handlers.clear()
    baseline(app, str(END - DAY))
    run(app, tmp_path, "warmup_days=7", "order=any")
    logging.getLogger("ta_mobile_ingress.ingresscorrelate").handlers.clear()
    log = (home / "var" / "log" / "splunk" / "ta_mobile_ingress_ingresscorrelate.log").read_text()
    assert " WARNING pid=" in log and " command=ingresscorrelate | warm-up gate closed: held_back=1 " in log


def test_each_finding_carries_the_staged_files_time(app: Path, tmp_path: Path) -> None:
    result = run(app, tmp_path, "order=any")
    assert [float(row["_time"]) for row in result.rows] == [T0 + 10]
    assert result.rows[0]["_time"] == result.rows[0]["last_time"] != result.rows[0]["first_time"]


def test_splunk_is_asked_for_the_normalized_event_fields_only(app: Path, tmp_path: Path) -> None:
    result = run(app, tmp_path)
    assert result.getinfo["required_fields"] == list(EVENT_FIELDS)
