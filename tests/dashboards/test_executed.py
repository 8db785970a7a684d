"""The dashboards' own searches, executed over the replay (recording.py, looks.py).

Every data source of every shipped view runs in the executor that ran the nine-day replay, the
way Dashboard Studio runs it (its time range, chains on their base, tokens from the inputs), at the
end of the replay. Here: each runs without error or unexpected warning and returns the fields its
panel reads; the panels show what the replay produced (the Overview its notables, the Finding
dashboard its evidence, the Tuning dashboard the near misses and the warm-up chain held back, Data
health the indexed events, the warm-up gate and the CIM coverage), checked against the replay's own
state (the findings store, the notables, the scenario's events, the correlation runs' messages).
"""

from __future__ import annotations

import datetime
import json
import re
from collections import Counter
from typing import Any

import pytest

from mobile_ingress.normalize import Skip, load_mappings, normalize_line
from mobile_ingress.normalize.attribution import Attribution
from tests.executor.timeutil import relative
from tests.replay.deployment import Deployment
from tests.replay.scenario import Scenario

from .looks import (
    DATA_HEALTH,
    FINDING,
    OVERVIEW,
    TUNING,
    focus_finding,
    listed,
    looks,
    warmup_day,
)
from .recording import ES_VERSION, Look, Recording, quoted, record, shown_fields
from .support import NAMES, definition

CASES = [(name, ds_id) for name in NAMES for ds_id in definition(name)["dataSources"]]
FIELD_USE = re.compile(r"""seriesByName\(['"]([^'"]+)['"]\)|row\.([A-Za-z_][\w]*)\.value""")
NOT_SUPPRESSED = "not suppressed (finding)"
ES_NOT_FOUND = "Not Found"
# The sourcetypes of the data macros the Data health searches read (mobile_ingress_edr, _flow, _mdm).
DATA_MACRO_SOURCETYPES = {
    "mobile:edr:telemetry",
    "mdm:amapi:usagelog",
    "bro:http:json",
    "bro:files:json",
    "suricata",
}
HELD_BACK = re.compile(r"warm-up: (\d+) findings held back")


def panel_fields(viz: dict[str, Any]) -> set[str]:
    """Fields a visualization names in its options and drilldowns."""
    text = json.dumps({k: viz.get(k) for k in ("options", "eventHandlers")})
    names = {a or b for a, b in FIELD_USE.findall(text)}
    names |= set(viz.get("options", {}).get("columnFormat", {}))
    return names


def panels(name: str) -> dict[str, str]:
    """visualization id -> its primary data source id."""
    return {
        viz_id: viz["dataSources"]["primary"]
        for viz_id, viz in definition(name)["visualizations"].items()
        if "primary" in viz.get("dataSources", {})
    }


def column(recording: Recording, ds_id: str, name: str) -> list[Any]:
    return [row.get(name) for row in recording.table(ds_id)]


def single_row(recording: Recording, ds_id: str) -> dict[str, Any]:
    rows = recording.table(ds_id)
    assert len(rows) == 1, f"{ds_id}: {len(rows)} rows"
    return rows[0]


def series_sums(recording: Recording, ds_id: str) -> dict[str, int]:
    """A timechart's total per series."""
    rows = recording.table(ds_id)
    names = [n for n in shown_fields(recording.results[ds_id]) if n != "_time"]
    return {
        n: sum(int(str(row.get(n) or 0)) for row in rows) for n in names if any(row.get(n) for row in rows)
    }


# ------------------------------------------------------------------------------- every search


@pytest.mark.parametrize(("name", "ds_id"), CASES)
def test_every_data_source_runs_in_the_executor(
    name: str, ds_id: str, recordings: dict[str, Recording]
) -> None:
    recording = recordings[name]
    assert recording.errors.get(ds_id) is None
    assert ds_id in recording.results


@pytest.mark.parametrize("name", NAMES)
def test_no_search_warns_except_the_es_lookup_on_a_search_head_without_es(
    name: str, recordings: dict[str, Recording]
) -> None:
    warnings = {
        ds_id: [m.text for m in result.messages if m.level != "INFO"]
        for ds_id, result in recordings[name].results.items()
    }
    unexpected = {
        ds_id: texts
        for ds_id, texts in warnings.items()
        if texts and not (name == FINDING and ds_id == "ds_es" and all(ES_NOT_FOUND in t for t in texts))
    }
    assert unexpected == {}


def test_with_es_installed_no_finding_search_warns(finding_with_es: Recording) -> None:
    assert {ds_id: r.messages for ds_id, r in finding_with_es.results.items() if r.messages} == {}


@pytest.mark.parametrize("name", NAMES)
def test_every_panel_reads_fields_its_search_returns(name: str, recordings: dict[str, Recording]) -> None:
    defn = definition(name)
    missing = {}
    for viz_id, ds_id in panels(name).items():
        returned = set(shown_fields(recordings[name].results[ds_id]))
        absent = panel_fields(defn["visualizations"][viz_id]) - returned
        if absent:
            missing[viz_id] = sorted(absent)
    assert missing == {}


def test_a_panel_field_its_search_does_not_return_is_caught(recordings: dict[str, Recording]) -> None:
    viz = {"options": {"majorValue": "> primary | seriesByName('nope') | lastPoint()"}}
    returned = set(shown_fields(recordings[OVERVIEW].results["ds_totals"]))
    assert panel_fields(viz) - returned == {"nope"}


@pytest.mark.parametrize("name", NAMES)
def test_every_panel_has_rows_over_the_replay(name: str, recordings: dict[str, Recording]) -> None:
    empty = {viz_id for viz_id, ds_id in panels(name).items() if not recordings[name].results[ds_id].rows}
    assert empty == ({"viz_es"} if name == FINDING else set())


@pytest.mark.parametrize("name", NAMES)
def test_no_panel_reads_an_internal_field_the_recording_leaves_out(
    name: str, recordings: dict[str, Recording]
) -> None:
    """The recording keeps `_time` only; a panel whose search returned another `_` field would draw
    differently in Splunk (Dashboard Studio tables show internal fields by default)."""
    internal = {
        viz_id: [f for f in recordings[name].results[ds_id].fields if f.startswith("_") and f != "_time"]
        for viz_id, ds_id in panels(name).items()
    }
    assert {viz_id: fields for viz_id, fields in internal.items() if fields} == {}


def test_the_recording_carries_the_shown_fields_as_columns(recordings: dict[str, Recording]) -> None:
    document = recordings[OVERVIEW].document()
    table = document["results"]["ds_table"]
    assert table["fields"][0] == "_time" and "_key" not in table["fields"]
    assert {len(c) for c in table["columns"]} == {len(recordings[OVERVIEW].results["ds_table"].rows)}
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", table["columns"][0][0])
    assert document["tokens"]["global_time.earliest"] == "-7d@d"


# ---------------------------------------------------------------------------------- Overview


def stored_findings(replay: Deployment, recording: Recording) -> list[dict[str, Any]]:
    """The findings store's rows whose first event is in the Overview's time range."""
    search = recording.searches["ds_table"]
    low = relative(str(search.earliest), recording.look.now)
    return [
        r for r in replay.sp.kvstore.all_records("mobile_ingress_findings") if float(r["first_time"]) >= low
    ]


def test_the_overview_lists_every_notable_of_the_replay(
    recordings: dict[str, Recording], replay: Deployment
) -> None:
    overview = recordings[OVERVIEW]
    shown = column(overview, "ds_table", "finding_id")
    stored = {str(r["finding_id"]) for r in stored_findings(replay, overview)}
    assert len(shown) == len(set(shown))
    assert set(shown) == stored == {n.finding_id for n in replay.es.notables}
    assert len(shown) >= 7


def test_the_overview_totals_are_the_findings_stores(
    recordings: dict[str, Recording], replay: Deployment
) -> None:
    overview = recordings[OVERVIEW]
    rows = stored_findings(replay, overview)
    assert single_row(overview, "ds_totals") == {
        "findings": str(len(rows)),
        "high_or_critical": str(sum(r["severity"] in ("critical", "high") for r in rows)),
        "devices": str(len({r["device_id"] for r in rows})),
        "apps": str(len({r["app_id"] for r in rows if r.get("app_id")})),
    }


def test_the_overview_charts_count_each_finding_once(
    recordings: dict[str, Recording], replay: Deployment
) -> None:
    overview = recordings[OVERVIEW]
    rows = stored_findings(replay, overview)
    assert series_sums(overview, "ds_by_analytic") == dict(Counter(str(r["analytic_id"]) for r in rows))
    assert series_sums(overview, "ds_by_severity") == dict(Counter(str(r["severity"]) for r in rows))
    top_apps = {row["app_id"]: int(row["findings"]) for row in overview.table("ds_top_apps")}
    assert top_apps == dict(Counter(str(r["app_id"]) for r in rows if r.get("app_id")))
    stages = {row["stages"]: int(row["findings"]) for row in overview.table("ds_stages")}
    assert stages == dict(Counter(s for r in rows for s in listed(r.get("stages"))))


def test_the_analytic_input_narrows_the_overview(
    recordings: dict[str, Recording], replay: Deployment
) -> None:
    look = looks(replay)[OVERVIEW]
    narrowed = record(
        replay.sp, definition(OVERVIEW), Look(OVERVIEW, look.now, {"analytic": "AN1849"}), ["ds_table"]
    )
    shown = set(column(narrowed, "ds_table", "finding_id"))
    expected = {
        str(r["finding_id"]) for r in stored_findings(replay, narrowed) if r["analytic_id"] == "AN1849"
    }
    assert shown == expected
    assert 0 < len(shown) < len(column(recordings[OVERVIEW], "ds_table", "finding_id"))


# ---------------------------------------------------------------------------------- Finding


def test_the_finding_dashboard_opens_on_a_notable_with_follow_on_stages(
    recordings: dict[str, Recording], replay: Deployment
) -> None:
    finding = recordings[FINDING]
    chosen = finding.tokens["finding_id"]
    assert chosen in {n.finding_id for n in replay.es.notables}
    row = single_row(finding, "ds_finding")
    assert row["finding_id"] == chosen and len(listed(row["stages"])) > 1
    assert single_row(finding, "ds_score")["risk_score"] == str(focus_finding(replay)["risk_score"])


def test_the_evidence_panels_show_every_evidence_event_including_one_without_event_id(
    recordings: dict[str, Recording], replay: Deployment
) -> None:
    finding = recordings[FINDING]
    stored = focus_finding(replay)
    events = finding.table("ds_events")
    assert sorted(str(e["evidence_name"]) for e in events) == sorted(listed(stored["evidence"]))
    without_id = [e for e in events if str(e["evidence_name"]).startswith("t=")]
    assert without_id and all(
        e["sourcetype"] in ("suricata", "bro:http:json", "bro:files:json") for e in without_id
    )
    stages = column(finding, "ds_timeline", "stage")
    assert stages[0] == "retrieval" and set(stages) == set(listed(stored["stages"]))
    assert len(finding.table("ds_raw")) == len(events)


def test_the_finding_panels_describe_the_chosen_finding(
    recordings: dict[str, Recording], replay: Deployment
) -> None:
    finding = recordings[FINDING]
    stored = focus_finding(replay)
    assert single_row(finding, "ds_mdm_device")["device_id"] == stored["device_id"]
    app = single_row(finding, "ds_mdm_app")
    assert (app["app_id"], app["platform"]) == (stored["app_id"], stored["platform"])
    low, high = float(stored["first_time"]) - 1800, float(stored["last_time"]) + 300
    times = [float(r["_time"]) for r in finding.results["ds_state"].rows]
    assert times and all(low <= t < high for t in times)
    entries = column(finding, "ds_tuning", "entry")
    assert len(entries) == 4 and all(stored["app_id"] in str(e) for e in entries)


def test_an_unknown_finding_id_shows_no_finding(replay: Deployment) -> None:
    look = Look(FINDING, float(replay.scenario.end), {"finding_id": "0123456789abcdef0123456789abcdef"})
    unknown = record(replay.sp, definition(FINDING), look, ["ds_finding", "ds_events", "ds_mdm"])
    assert unknown.errors == {}
    assert {ds_id: len(r.rows) for ds_id, r in unknown.results.items()} == {
        "ds_finding": 0,
        "ds_events": 0,
        "ds_mdm": 0,
    }


def test_a_finding_id_with_quotes_stays_one_value(replay: Deployment) -> None:
    """`$finding_id|s$` quotes the value: a crafted id matches no finding instead of all of them."""
    assert quoted('x" OR finding_id="*') == '"x\\" OR finding_id=\\"*"'
    look = Look(FINDING, float(replay.scenario.end), {"finding_id": 'x" OR finding_id="*'})
    crafted = record(replay.sp, definition(FINDING), look, ["ds_finding"])
    assert crafted.errors == {} and crafted.results["ds_finding"].rows == []


def test_without_es_the_es_panel_is_empty_and_splunk_says_the_app_is_not_found(
    recordings: dict[str, Recording],
) -> None:
    result = recordings[FINDING].results["ds_es"]
    assert result.rows == [] and any(ES_NOT_FOUND in m.text for m in result.messages)


def test_with_es_the_es_panel_links_the_finding(finding_with_es: Recording, replay: Deployment) -> None:
    stored = focus_finding(replay)
    rows = finding_with_es.table("ds_es")
    assert [str(r["view"]).split(":")[0] for r in rows] == [
        "Incident Review",
        "Risk analysis",
        "Asset investigator",
    ]
    assert str(stored["finding_id"]) in str(rows[0]["link"])
    assert all(str(r["link"]).endswith(str(stored["device_id"])) for r in rows[1:])
    assert {r["es_version"] for r in rows} == {ES_VERSION}


def test_recording_with_es_puts_the_installed_apps_back(
    finding_with_es: Recording, replay: Deployment
) -> None:
    assert finding_with_es.look.es_installed
    assert "SplunkEnterpriseSecuritySuite" not in replay.sp.installed_apps


# ----------------------------------------------------------------------------------- Tuning


def tuning_row(recording: Recording, scenario: Scenario, label: str) -> dict[str, Any]:
    case = scenario.planted_by_label(label)
    matches = [
        r
        for r in recording.table("ds_rows")
        if (r.get("device_id"), r.get("app_id")) == (case.device_id, case.app_id)
        and (r.get("file_path") == case.file_path if case.file_path else r.get("dest") == case.dest)
    ]
    assert len(matches) == 1, f"{label}: {len(matches)} rows"
    return matches[0]


def test_tuning_shows_the_near_misses_suppressed_by_their_own_entry(
    recordings: dict[str, Recording], scenario: Scenario
) -> None:
    tuning = recordings[TUNING]
    baselined = tuning_row(tuning, scenario, "near_miss_baselined")["suppressed_by"]
    allowed = tuning_row(tuning, scenario, "near_miss_allowed_destination")["suppressed_by"]
    assert baselined == "baseline"
    assert allowed == "mobile_ingress_allowed_destinations: *.gvt1.com"
    by_entry = {row["suppressed_by"]: int(row["chains"]) for row in tuning.table("ds_by_entry")}
    assert by_entry.get(baselined, 0) >= 1 and by_entry.get(allowed, 0) >= 1


def test_tuning_finds_every_planted_chain_of_day_7(
    recordings: dict[str, Recording], scenario: Scenario
) -> None:
    """Day 7's cases include the Zeek keep-alive and Suricata chains: the Tuning search joins flows
    as the correlation search does."""
    day7 = [
        c.label
        for c in scenario.planted
        if c.replay_expected and scenario.start + 7 * 86400 <= c.time < scenario.start + 8 * 86400
    ]
    assert len(day7) >= 7
    assert {label: tuning_row(recordings[TUNING], scenario, label)["suppressed_by"] for label in day7} == {
        label: NOT_SUPPRESSED for label in day7
    }


def test_tuning_counts_are_its_rows(recordings: dict[str, Recording]) -> None:
    tuning = recordings[TUNING]
    rows = tuning.table("ds_rows")
    suppressed = [r["suppressed_by"] for r in rows if r["suppressed_by"] != NOT_SUPPRESSED]
    assert single_row(tuning, "ds_counts") == {
        "findings": str(len(rows) - len(suppressed)),
        "suppressed": str(len(suppressed)),
        "entries": str(len(set(suppressed))),
    }


def test_after_the_gate_opened_tuning_holds_nothing_back(recordings: dict[str, Recording]) -> None:
    tuning = recordings[TUNING]
    assert "baseline_warmup" not in column(tuning, "ds_rows", "suppressed_by")
    gate = single_row(tuning, "ds_warmup")
    assert gate["gate"] == "open" and float(gate["history_days"]) >= float(gate["warmup_days"])


def test_on_day_3_tuning_shows_the_warm_up_chain_held_back(replay: Deployment, scenario: Scenario) -> None:
    day3 = record(replay.sp, definition(TUNING), warmup_day(replay), ["ds_rows", "ds_by_entry"])
    assert day3.errors == {}
    assert tuning_row(day3, scenario, "an1848_warmup")["suppressed_by"] == "baseline_warmup"
    assert "baseline_warmup" in column(day3, "ds_by_entry", "suppressed_by")
    assert NOT_SUPPRESSED not in column(day3, "ds_rows", "suppressed_by")
    assert any(HELD_BACK.search(m.text) for m in day3.results["ds_rows"].messages)


# ------------------------------------------------------------------------------ Data health


def health_range(recording: Recording) -> tuple[float, float]:
    search = recording.searches["ds_by_sourcetype"]
    now = recording.look.now
    return relative(str(search.earliest), now), relative(str(search.latest), now)


def test_events_per_sourcetype_and_input_are_the_replays_indexed_events(
    recordings: dict[str, Recording], scenario: Scenario
) -> None:
    health = recordings[DATA_HEALTH]
    low, high = health_range(health)
    indexed = [
        e
        for e in scenario.events
        if e.sourcetype in DATA_MACRO_SOURCETYPES and low <= e.time < high and e.indextime <= health.look.now
    ]
    assert series_sums(health, "ds_by_sourcetype") == dict(Counter(e.sourcetype for e in indexed))
    assert series_sums(health, "ds_by_input") == dict(Counter(e.source for e in indexed))
    last = {(r["sourcetype"], r["source"]): int(r["events"]) for r in health.table("ds_last_event")}
    assert last == dict(Counter((e.sourcetype, e.source) for e in indexed))


def held_back_runs(replay: Deployment, low: float, high: float) -> list[tuple[int, int]]:
    """(run time, findings held back) of the correlation runs in [low, high] that held some back."""
    out = []
    for run in replay.runs_of(replay.correlation_name()):
        held = sum(int(m.group(1)) for msg in run.results.messages for m in [HELD_BACK.search(msg.text)] if m)
        if held and low <= run.now <= high:
            out.append((run.now, held))
    return out


def test_the_warm_up_gate_row_is_open_and_counts_what_the_runs_held_back(
    recordings: dict[str, Recording], replay: Deployment
) -> None:
    health = recordings[DATA_HEALTH]
    runs = held_back_runs(replay, *health_range(health))
    assert runs, "no correlation run held a finding back in the range"
    gate = single_row(health, "ds_warmup")
    assert gate["gate"] == "open"
    # distinct findings: the overlapping runs held the same chains back again and again
    low, high = health_range(health)
    held_ids = {
        fid
        for now, line in replay.logged
        if low <= now <= high and "warm-up gate closed" in line
        for fid in line.split("finding_ids=", 1)[1].split(" ", 1)[0].split(",")
    }
    assert int(gate["held_back"]) == len(held_ids) < sum(held for _, held in runs)
    last = max(time for time, _ in runs)
    assert gate["last_held"] == datetime.datetime.fromtimestamp(last, datetime.timezone.utc).strftime(
        "%Y-%m-%d %H:%M:%S UTC"
    )


def test_over_the_last_24_hours_the_gate_row_says_nothing_was_held_back(replay: Deployment) -> None:
    look = Look(DATA_HEALTH, float(replay.scenario.end))
    default = record(replay.sp, definition(DATA_HEALTH), look, ["ds_warmup"])
    row = single_row(default, "ds_warmup")
    assert (row["gate"], row["held_back"], row["last_held"]) == ("open", "0", "never")


def test_the_add_on_log_panels_show_the_warm_up_warnings(
    recordings: dict[str, Recording], replay: Deployment
) -> None:
    health = recordings[DATA_HEALTH]
    runs = held_back_runs(replay, *health_range(health))
    rows = health.table("ds_log_table")
    assert [(r["log_level"], int(r["occurrences"])) for r in rows] == [("WARNING", len(runs))]
    assert str(rows[0]["source"]).endswith("ta_mobile_ingress_ingresscorrelate.log")
    assert series_sums(health, "ds_log_time") == {"WARNING": len(runs)}


def test_cim_coverage_rows_are_the_add_ons_own_data_sets_and_complete(
    recordings: dict[str, Recording],
) -> None:
    rows = recordings[DATA_HEALTH].table("ds_cim")
    assert {(r["data_set"], r["sourcetype"]) for r in rows} == {
        ("Endpoint.Filesystem", "mobile:edr:telemetry"),
        ("Endpoint.Processes", "mobile:edr:telemetry"),
        ("Network_Traffic.All_Traffic", "mdm:amapi:usagelog"),
    }
    assert all(int(r["expected_events"]) > 0 and r["coverage_pct"] == "100" for r in rows)


# ------------------------------------------------------------------------- device attribution

UNRESOLVED = re.compile(r"(unresolved device \([^)]*\)): (\d+)")


def attributed_spans(scenario: Scenario, low: float, high: float) -> Counter[str]:
    """The address spans overlapping [low, high) by the device they name, from Python's device
    attribution over the scenario's raw events (normalize/attribution.py), as the panel labels
    them."""
    mappings = load_mappings()
    attribution = Attribution()
    for event in scenario.events:
        if Attribution.reads(event.sourcetype):
            result = normalize_line(event.raw, mappings[event.sourcetype], {"host": event.host})
            if not isinstance(result, Skip):
                attribution.add(event.sourcetype, result.fields)
    counts: Counter[str] = Counter()
    for row in attribution.rows():
        if row["ip"] is None or not (
            float(str(row["last_seen"])) >= low and float(str(row["first_seen"])) < high
        ):
            continue
        if row["device_id"]:
            counts["a device"] += 1
        elif row["mac_randomized"]:
            counts["none: randomized MAC (no MDM reports it)"] += 1
        elif int(str(row["mac_devices"])) > 1:
            counts["none: ambiguous (several devices report the MAC)"] += 1
        else:
            counts["none: unmanaged device (no MDM reports the MAC)"] += 1
    return counts


def test_the_attribution_panel_counts_the_ranges_address_spans_by_the_device_they_name(
    recordings: dict[str, Recording], scenario: Scenario
) -> None:
    health = recordings[DATA_HEALTH]
    rows = {str(r["attribution"]): int(r["spans"]) for r in health.table("ds_attribution")}
    assert rows == dict(attributed_spans(scenario, *health_range(health)))
    # a5's lease of day 4 with a private MAC (tests/replay/fleet.py) is in the last 7 days
    assert rows["none: randomized MAC (no MDM reports it)"] == 1


def unresolved_runs(replay: Deployment, low: float, high: float) -> dict[str, list[tuple[int, int]]]:
    """(run time, retrievals skipped) of each correlation run in [low, high], by unresolved reason,
    from the runs' own search warnings."""
    out: dict[str, list[tuple[int, int]]] = {}
    for run in replay.runs_of(replay.correlation_name()):
        if not low <= run.now <= high:
            continue
        for message in run.results.messages:
            if "ingresscorrelate: skipped " in message.text:
                for reason, count in UNRESOLVED.findall(message.text.split(". First:", 1)[0]):
                    out.setdefault(reason, []).append((run.now, int(count)))
    return out


def test_the_unresolved_panel_counts_what_the_correlation_runs_skipped_by_reason(
    recordings: dict[str, Recording], replay: Deployment
) -> None:
    health = recordings[DATA_HEALTH]
    runs = unresolved_runs(replay, *health_range(health))
    assert "unresolved device (randomized MAC)" in runs
    got = {
        str(r["reason"]): (int(r["runs"]), int(r["most_in_one_run"]), int(r["last_run"]))
        for r in health.table("ds_unresolved")
    }
    assert got == {
        reason: (len(seen), max(n for _, n in seen), max(seen)[1]) for reason, seen in runs.items()
    }
