"""The user's path, replayed: nine days of raw events of every sourcetype through the shipped
props, macros, lookups, builders, baseline searches and the correlation search on their cron
schedules and dispatch windows (the offline executor), then Enterprise Security's actions.

The replay's notables must be the command line's findings over the same raw events once the
warm-up gate is open, and the setup page's edits must take effect from the next run. Nothing
here knows what the searches say: they run as shipped (deployment.py)."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from mobile_ingress.normalize import Skip, load_mappings, normalize_line
from mobile_ingress.normalize.attribution import COLUMNS as ATTRIBUTION_COLUMNS
from mobile_ingress.normalize.attribution import Attribution

from .deployment import Deployment
from .es_actions import single
from .model import EditKind
from .scenario import Scenario

DAY = 86400
CLI = [sys.executable, "-m", "mobile_ingress.cli.main"]
# The builders' and the baseline's collections the command line takes as --lookups. Not the device
# inventory: the command line builds its own from the same raw DHCP and MDM events (device
# attribution), and the test below checks the builder's rows are those.
KV_LOOKUPS = ("managed_apps", "destination_baseline")
ALLOWLISTS = ("allowed_apps", "allowed_destinations", "allowed_paths", "file_risk_patterns")
COMPARED = ("analytic_id", "device_id", "app_id", "dest", "url", "file_path", "risk_class", "stages",
            "context", "risk_score", "severity", "confidence")  # fmt: skip


# ---------------------------------------------------------------------------- the command line


def export(replay: Deployment, folder: Path, with_edits: bool) -> Path:
    """The lookups in force at the end of the replay, as CSV files for `--lookups`: the managed
    apps' and the baseline's KV collections; the allowlists' collections only WITH_EDITS (before the
    edits they were empty, so the shipped files applied). The device inventory the command line
    attributes itself from the raw leases and MDM inventories."""
    folder.mkdir(parents=True, exist_ok=True)
    names = KV_LOOKUPS + (ALLOWLISTS if with_edits else ())
    for name in names:
        records = replay.sp.kvstore.all_records(f"mobile_ingress_{name}")
        if not records:
            continue
        columns = sorted({k for record in records for k in record if not k.startswith("_")})
        with (folder / f"mobile_ingress_{name}.csv").open("w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, columns)
            writer.writeheader()
            for record in records:
                writer.writerow({k: _cell(record.get(k)) for k in columns})
    return folder


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return "|".join(str(v) for v in value)
    return str(value)


def cli_findings(scenario: Scenario, tmp: Path, lookups: Path, *extra: str) -> list[dict[str, Any]]:
    specs = scenario.write_raw(tmp / "raw")
    args = [arg for spec in specs for arg in ("--raw", spec)]
    done = subprocess.run(
        [*CLI, "detect", "--lookups", str(lookups), *extra, *args], check=True, capture_output=True, text=True
    )
    return [json.loads(line) for line in done.stdout.splitlines() if line]


LISTS = ("stages", "context")


def comparable(finding: dict[str, Any]) -> tuple[Any, ...]:
    """The compared fields in one form for both sides: a result row (multivalue fields as a list,
    or a single string for one value; an empty field absent) and a CLI finding (JSON)."""
    out: list[Any] = []
    for name in COMPARED:
        value = finding.get(name)
        if name in LISTS:
            items = value if isinstance(value, list) else ([] if value in (None, "") else [value])
            out.append(tuple(str(v) for v in items))
        elif value is None or value == "":
            out.append(None)
        elif name == "risk_score":
            out.append(int(float(str(value))))
        else:
            out.append(str(value))
    return tuple(out)


def notable_rows(replay: Deployment) -> dict[str, dict[str, Any]]:
    """Each finding's latest notable (a finding notifies again when a later run sees its severity
    rise): its row as the correlation search returned it."""
    return {notable.finding_id: notable.fields for notable in replay.es.notables}


def edit_time(scenario: Scenario) -> float:
    return min(edit.time for edit in scenario.edits)


def gate_open_time(replay: Deployment) -> float:
    """When the warm-up gate opened: the baseline's oldest first_seen plus the warm-up days (the
    baseline update only ever adds later pairs, and never forgets within the replay)."""
    rows = replay.sp.kvstore.all_records("mobile_ingress_destination_baseline")
    days = float(replay.sp.macros["mobile_ingress_baseline_warmup_days"]["definition"])
    return min(float(r["first_seen"]) for r in rows) + days * DAY


def by_time(findings: list[dict[str, Any]], low: float, high: float) -> dict[str, dict[str, Any]]:
    """CLI findings whose first event is in [low, high) (the periods compared are days apart from
    any planted case, so the first event stands for the anchor)."""
    return {f["finding_id"]: f for f in findings if low <= float(f["first_time"]) < high}


def notables_between(replay: Deployment, low: float, high: float) -> dict[str, dict[str, Any]]:
    return {
        fid: row
        for fid, row in notable_rows(replay).items()
        if low <= float(str(single(row, "first_time"))) < high
    }


def test_notables_equal_the_command_line_once_the_gate_is_open_and_before_the_edits(
    replay: Deployment, scenario: Scenario, tmp_path: Path
) -> None:
    low, high = gate_open_time(replay), edit_time(scenario)
    expected = by_time(cli_findings(scenario, tmp_path, export(replay, tmp_path / "l", False)), low, high)
    got = notables_between(replay, low, high)
    assert sorted(got) == sorted(expected)
    assert {fid: comparable(row) for fid, row in got.items()} == {
        fid: comparable(f) for fid, f in expected.items()
    }
    assert len(got) >= 7  # the planted day-7 chains and the retrieval-only finding


def test_after_the_setup_page_edits_the_notables_equal_the_command_line_with_them(
    replay: Deployment, scenario: Scenario, tmp_path: Path
) -> None:
    window = next(e.payload["time_window"] for e in scenario.edits if e.kind == EditKind.SETTING)
    lookups = export(replay, tmp_path / "l", True)
    expected = by_time(
        cli_findings(scenario, tmp_path, lookups, "--set", f"time_window={window}"),
        edit_time(scenario),
        scenario.end,
    )
    got = notables_between(replay, edit_time(scenario), scenario.end)
    assert sorted(got) == sorted(expected)
    assert {fid: comparable(row) for fid, row in got.items()} == {
        fid: comparable(f) for fid, f in expected.items()
    }


def planted_notables(replay: Deployment, scenario: Scenario) -> dict[str, bool]:
    keys = {
        (
            single(n.fields, "analytic_id"),
            single(n.fields, "device_id"),
            single(n.fields, "app_id"),
            single(n.fields, "file_path") or single(n.fields, "dest"),
        )
        for n in replay.es.notables
    }
    return {case.label: case.key in keys for case in scenario.planted}


def test_each_planted_case_raises_a_notable_exactly_when_the_replay_should(
    replay: Deployment, scenario: Scenario
) -> None:
    assert planted_notables(replay, scenario) == {
        case.label: case.replay_expected for case in scenario.planted
    }


def test_the_warm_up_gate_held_the_day_3_chain_back_and_said_so(
    replay: Deployment, scenario: Scenario
) -> None:
    case = scenario.planted_by_label("an1848_warmup")
    runs = [
        run for run in replay.runs_of(replay.correlation_name()) if case.time < run.now < case.time + 3 * 3600
    ]
    held = [m.text for run in runs for m in run.results.messages if "findings held back" in m.text]
    assert held and all("days of history (mobile_ingress_baseline_warmup_days = 7)" in text for text in held)
    logged = replay.sp.search(
        'search index=_internal source=*ta_mobile_ingress_ingresscorrelate.log* "warm-up gate closed"'
        ' | rex "held_back=(?<held>\\d+)" | stats sum(held) AS held',
        now=scenario.end,
        earliest="0",
    )
    assert int(str(logged.rows[0]["held"])) >= 1


def test_the_late_event_is_found_by_a_later_run(replay: Deployment, scenario: Scenario) -> None:
    case = scenario.planted_by_label("an1848_late_arrival")
    notable = next(n for n in replay.es.notables if single(n.fields, "file_path") == case.file_path)
    assert notable.time == pytest.approx(case.time, abs=0.001)
    late = max(e.indextime for e in scenario.events if abs(e.time - case.time) < 0.01)
    first = min(run.now for run in replay.runs_of(replay.correlation_name()) if run.now >= late)
    assert any(
        single(row, "file_path") == case.file_path
        for run in replay.runs_of(replay.correlation_name())
        if run.now == first
        for row in run.results.rows
    )


# --------------------------------------------------------------------------------- notables


def test_notables_carry_the_findings_time_severity_and_filled_texts(replay: Deployment) -> None:
    assert replay.es.notables
    for notable in replay.es.notables:
        fields = notable.fields
        assert notable.time == float(str(single(fields, "_time")))
        assert notable.severity == single(fields, "severity")
        assert "$" not in notable.rule_title + notable.rule_description
        assert notable.rule_title.startswith(
            str(single(fields, "analytic_id")) + ": ingress tool transfer on "
        )


def test_the_retrieval_only_notable_reads_without_file_fields(replay: Deployment, scenario: Scenario) -> None:
    case = scenario.planted_by_label("an1849_retrieval_only")
    notable = next(n for n in replay.es.notables if single(n.fields, "dest") == case.dest)
    assert single(notable.fields, "file_path") is None
    assert "no file was seen" in notable.rule_description


def test_risk_events_score_the_device_with_the_findings_own_score(replay: Deployment) -> None:
    """Each risk event comes from the same result as a notable (same finding, same run): it scores
    the device with that result's risk_score, not the action's fallback of 50."""
    assert replay.es.risk
    notables = {(n.finding_id, n.time, n.severity): n for n in replay.es.notables}
    for event in replay.es.risk:
        matching = [
            n for (fid, time, _), n in notables.items() if fid == event.finding_id and time == event.time
        ]
        assert any(float(str(single(n.fields, "risk_score"))) == event.risk_score for n in matching)
        fields = matching[0].fields
        assert event.risk_object == single(fields, "device_id") and event.risk_object_type == "system"
        assert "$" not in event.risk_message
    assert {event.risk_score for event in replay.es.risk} != {50.0}


def test_a_finding_alerts_once_unless_its_severity_rises(replay: Deployment) -> None:
    seen: dict[str, list[str]] = {}
    for notable in replay.es.notables:
        seen.setdefault(notable.finding_id, []).append(notable.severity)
    assert all(len(set(severities)) == len(severities) for severities in seen.values())
    assert replay.es.throttled > 0  # overlapping runs saw the same findings again


def test_the_findings_store_holds_each_notable_finding_once(replay: Deployment) -> None:
    stored = {r["finding_id"]: r for r in replay.sp.kvstore.all_records("mobile_ingress_findings")}
    assert set(notable_rows(replay)) <= set(stored)
    for finding_id, row in notable_rows(replay).items():
        assert stored[finding_id]["analytic_id"] == single(row, "analytic_id")


def test_every_drilldown_runs_and_shows_the_findings_evidence(replay: Deployment, scenario: Scenario) -> None:
    notable = next(n for n in replay.es.notables if single(n.fields, "analytic_id") == "AN1848")
    events = replay.sp.search(notable.drilldowns[0]["search"], now=scenario.end, earliest="0")
    evidence = notable.fields["evidence"]
    evidence = evidence if isinstance(evidence, list) else [evidence]
    assert sorted(str(single(row, "evidence_name")) for row in events.rows) == sorted(evidence)
    device = replay.sp.search(notable.drilldowns[1]["search"], now=scenario.end, earliest="0")
    assert notable.finding_id in {single(row, "finding_id") for row in device.rows}


# ---------------------------------------------------------------------------- lookup builders


def test_the_device_inventory_is_the_lease_spans(replay: Deployment, scenario: Scenario) -> None:
    """One row per DHCP lease span (Zeek dhcp.log on site A, Suricata EVE dhcp on site B), never
    merged across a gap (on day 2 a1 leaves site A, a4 holds its address, a1 comes back: merged,
    a4's flows would match two rows and go unresolved), with its MAC and the device the MDMs report
    with it; a5's span of day 4, of a randomized MAC, has none."""
    expected = {
        (row["device_id"], row["ip"], row["mac"], row["mac_randomized"],
         round(float(row["first_seen"])), round(float(row["last_seen"])))
        for row in scenario.lookups_for_cli()["mobile_ingress_device_inventory"]
    }  # fmt: skip
    got = {
        (str(r.get("device_id") or ""), r["ip"], r["mac"], r["mac_randomized"],
         round(float(r["first_seen"])), round(float(r["last_seen"])))
        for r in replay.sp.kvstore.all_records("mobile_ingress_device_inventory")
        if str(r.get("ip", "")).startswith("10.")  # the sites' DHCP pools; Jamf reports home addresses too
    }  # fmt: skip
    assert got == expected
    assert any(row[3] == "true" and row[0] == "" for row in got)


def rounded(row: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    """An inventory row in one form for the KV store's and Python's: text cells, times to the ms,
    no empty cells."""
    out = []
    for name in ATTRIBUTION_COLUMNS:
        value = row.get(name)
        if value is None or value == "":
            continue
        if name in ("first_seen", "last_seen", "lease_end"):
            value = f"{float(str(value)):.3f}"
        elif isinstance(value, bool):
            value = "true" if value else "false"
        out.append((name, str(value)))
    return tuple(out)


def test_the_builders_rows_are_what_the_command_line_attributes_from_the_same_raw_events(
    replay: Deployment, scenario: Scenario
) -> None:
    """The Splunk builder, run hourly over nine days and merging each run into its collection, holds
    the rows Python's device attribution (normalize/attribution.py, what `detect --raw` uses) gives
    the same raw events at once: device rows, lease spans and Jamf's address sightings alike."""
    mappings = load_mappings()
    attribution = Attribution()
    for event in scenario.events:
        if Attribution.reads(event.sourcetype):
            result = normalize_line(event.raw, mappings[event.sourcetype], {"host": event.host})
            assert not isinstance(result, Skip), result
            attribution.add(event.sourcetype, result.fields)
    expected = sorted(rounded(row) for row in attribution.rows())
    got = sorted(rounded(r) for r in replay.sp.kvstore.all_records("mobile_ingress_device_inventory"))
    assert got == expected
    kinds = Counter(dict(row)["kind"] for row in got)
    assert set(kinds) == {"mdm:jamf", "mdm:amapi", "mdm:intune", "lease", "sighting"}, kinds


def test_jamf_reported_addresses_are_spans_of_their_own(replay: Deployment, scenario: Scenario) -> None:
    jamf = [
        r
        for r in replay.sp.kvstore.all_records("mobile_ingress_device_inventory")
        if str(r.get("ip", "")).startswith("192.0.2.")
    ]
    ios = {d.device_id for d in scenario.fleet.devices if d.platform.value == "ios"}
    assert jamf and {r["device_id"] for r in jamf} <= ios
    hold = float(replay.sp.macros["mobile_ingress_ip_hold_seconds"]["definition"])
    assert all(float(r["last_seen"]) - float(r["first_seen"]) >= hold for r in jamf)


def test_the_managed_apps_are_what_the_mdm_inventories_say(replay: Deployment, scenario: Scenario) -> None:
    def key(row: dict[str, Any]) -> tuple[str, str, str, frozenset[str]]:
        roles = frozenset(r for r in str(row.get("approved_roles") or "").split("|") if r)
        return (str(row["platform"]), str(row["app_id"]), str(row["managed"]), roles)

    expected = {key(row) for row in scenario.lookups_for_cli(day=9)["mobile_ingress_managed_apps"]}
    got = {key(row) for row in replay.sp.kvstore.all_records("mobile_ingress_managed_apps")}
    assert got == expected


def test_the_baseline_learned_the_fleets_destinations_and_no_pattern(
    replay: Deployment, scenario: Scenario
) -> None:
    rows = replay.sp.kvstore.all_records("mobile_ingress_destination_baseline")
    expected = {
        (r["app_id"], r["dest"])
        for r in scenario.lookups_for_cli(day=8)["mobile_ingress_destination_baseline"]
    }
    got = {(str(r["app_id"]), str(r["dest"])) for r in rows}
    assert expected <= got
    assert not any(ch in str(r["dest"]) for r in rows for ch in '*/, "')


def test_the_checklists_verification_search_runs_and_shows_suppressions_and_findings(
    replay: Deployment, scenario: Scenario
) -> None:
    """docs/splunk.md's "one search that shows it works", as printed there, over the replay's last
    day: rows suppressed by the shipped allowlists and the setup page's entry, the day's findings,
    and no held-back warm-up."""
    text = (Path(__file__).resolve().parents[2] / "docs" / "splunk.md").read_text(encoding="utf-8")
    block = text.split("**The one search that shows it works**", 1)[1].split("\n\n", 2)[1]
    spl = " ".join(line.strip() for line in block.splitlines())
    assert spl.startswith("earliest=-24h `mobile_ingress_correlation_events`")
    rows = replay.sp.search(spl, now=scenario.end).rows
    outcomes = {str(row["outcome"]): int(str(row["count"])) for row in rows}
    assert outcomes.get("finding", 0) > 0
    assert any(o.startswith("mobile_ingress_allowed_paths: ") for o in outcomes)
    assert "mobile_ingress_allowed_destinations: updates.fieldvendor.example.com" in outcomes
    assert "baseline_warmup" not in outcomes
