"""Record results for the dashboards' data sources from the engine's findings on a simulated fleet.

    python tools/record_dashboard_results.py --out output/dashboards/recorded

No Splunk runs here, so the offline preview (`make dashboards`, tests/dashboards) draws each
dashboard from recorded results: this tool simulates a fleet with a fixed seed
(`mobile-ingress simulate`), runs the engine on it through the command line (`mobile-ingress
detect --suppressed`, the same code as `ingresscorrelate`), and shapes the findings, the
suppressed chains, the events and the lookups the way each data source's SPL would (the stats,
timechart, eval and table equivalents below, one function per data-source id). It writes one
JSON file per dashboard: {"dashboard", "tokens", "now", "results": {id: {"fields", "columns"}}}.
tests/dashboards checks that each result's fields are exactly the fields its SPL produces.

What the simulator does not model is filled in plainly and said so (docs/dashboards.md): each
event's index, sourcetype and source (by who would log it, among the data macros' sourcetypes:
NSM flows `bro:http:json`, device lock state `mdm:amapi:usagelog`, the rest
`mobile:edr:telemetry`), the add-on's log lines (the engine's own skip and warning messages of
the run stand in), CIM data model membership (an event is counted in a data set when it carries
that data set's key fields), and Enterprise Security (present, so its link panel has rows).
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import re
import subprocess
import sys
import tempfile
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

from mobile_ingress.engine.findings import FIELDS

ROOT = Path(__file__).resolve().parent.parent
DEFAULT = ROOT / "package" / "default"
SHIPPED_LOOKUPS = ROOT / "package" / "lookups"
DEFAULT_OUT = ROOT / "output" / "dashboards" / "recorded"

DEVICES = 60
HOURS = 6
SEED = 7
NOT_SUPPRESSED = "not suppressed (finding)"
LOOKUP_NAMES = (
    "allowed_apps",
    "allowed_destinations",
    "allowed_paths",
    "file_risk_patterns",
    "destination_baseline",
    "managed_apps",
    "device_inventory",
)
SCALAR_ELEMENTS = (
    "time_window",
    "ingress_bytes_threshold",
    "foreground_state_required",
    "clock_skew",
    "baseline_warmup_days",
    "baseline_forget_days",
)
INDEX = "mobile"
# Sourcetype and source of an event, by who would log it (the simulator writes no sourcetype).
EDR = ("mobile:edr:telemetry", "simulated:mtd/telemetry.json")
MDM = ("mdm:amapi:usagelog", "simulated:amapi/usagelogs")
NSM = ("bro:http:json", "simulated:zeek/http.log")
ES_VERSION = "(recorded preview)"
LOG_SOURCE = "ingresscorrelate (engine messages of the recorded run)"

Row = dict[str, Any]
Table = tuple[list[str], list[list[Any]]]


class RecordError(Exception):
    """The recording could not be made (simulator or engine failed)."""


# ------------------------------------------------------------------------------------ helpers


def iso(epoch: float) -> str:
    """_time as Splunk's JSON results carry it."""
    moment = datetime.fromtimestamp(epoch, tz=timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+00:00"


def strftime(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def strftime_ms(epoch: float) -> str:
    moment = datetime.fromtimestamp(epoch, tz=timezone.utc)
    return moment.strftime("%Y-%m-%d %H:%M:%S.") + f"{moment.microsecond // 1000:03d} UTC"


def table(rows: Iterable[Row], fields: list[str]) -> Table:
    """`| table f1 f2 ...`: columns in that order, absent values null."""
    rows = list(rows)
    return fields, [[row.get(name) for row in rows] for name in fields]


def splunk_value(value: Any) -> Any:
    """A field value the way a result row carries it: booleans as strings, lists as multivalue."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return [splunk_value(item) for item in value]
    return value


def timechart(rows: Iterable[Row], time_field: str, by: str, span: int = 3600) -> Table:
    """`| timechart span=<span> count BY <by>`: one bucket per span from the first to the last,
    zeros filled, series in sorted order."""
    counts: dict[int, Counter[str]] = defaultdict(Counter)
    for row in rows:
        bucket = int(row[time_field] // span * span)
        counts[bucket][str(row[by])] += 1
    if not counts:
        return ["_time"], [[]]
    series = sorted({name for bucket in counts.values() for name in bucket})
    buckets = list(range(min(counts), max(counts) + span, span))
    columns: list[list[Any]] = [[iso(b) for b in buckets]]
    for name in series:
        columns.append([counts[b][name] for b in buckets])
    return ["_time", *series], columns


def top(rows: Iterable[Row], by: str, alias: str, limit: int) -> Table:
    """`| stats count AS <alias> BY <by> | sort - <alias> | head <limit>` (ties by value, as
    stats leaves them sorted by the BY field and sort is stable)."""
    counts = Counter(str(row[by]) for row in rows if row.get(by) not in (None, ""))
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:limit]
    return [by, alias], [[key for key, _ in ordered], [count for _, count in ordered]]


def read_csv_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def read_macros() -> dict[str, str]:
    """{macro name: definition} of package/default/macros.conf (single-line definitions)."""
    macros: dict[str, str] = {}
    current = None
    for line in (DEFAULT / "macros.conf").read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if stripped.startswith("[") and stripped.endswith("]"):
            current = stripped[1:-1]
        elif current and stripped.startswith("definition"):
            macros[current] = stripped.partition("=")[2].strip()
    return macros


def parse_time(value: str) -> float | None:
    # The engine's own parser: any _time format of the contract.
    from mobile_ingress.engine.timeparse import parse_optional_time

    try:
        return parse_optional_time(value)
    except ValueError:
        return None


# ----------------------------------------------------------------------------------- the run


@dataclass
class Run:
    """Everything the shaping functions read."""

    events: list[Row]
    findings: list[Row]
    tuning_rows: list[Row]
    lookups: dict[str, tuple[str, list[dict[str, str]]]]
    messages: list[tuple[float, str]]
    now: float
    macros: dict[str, str]

    @property
    def focus(self) -> Row:
        """The finding the Finding dashboard shows: the richest (score, stages, evidence), preferring
        a file staged after its retrieval (the usual order) so the timeline reads left to right."""
        return max(
            self.findings,
            key=lambda f: (
                (f.get("delta_seconds") or 0) >= 0,
                f["risk_score"],
                len(f["stages"]),
                len(f["evidence"]),
                f["finding_id"],
            ),
        )


def source_of(event: Row) -> tuple[str, str]:
    # The MDM usage logs carry the device lock state; app state comes from the EDR (macros.conf).
    if event["activity"] == "state" and "device_locked" in event and "app_state" not in event:
        return MDM
    if "device_id" not in event:
        return NSM
    return EDR


def simulate_and_detect(work: Path, devices: int, hours: int, seed: int) -> Run:
    cli = [sys.executable, "-m", "mobile_ingress"]
    fleet = work / "fleet"
    steps = [
        [
            *cli,
            "simulate",
            "--devices",
            str(devices),
            "--hours",
            str(hours),
            "--seed",
            str(seed),
            "--out",
            str(fleet),
        ],
        [
            *cli,
            "detect",
            "--quiet",
            "--suppressed",
            "--lookups",
            str(fleet / "lookups"),
            "--messages",
            str(work / "messages.txt"),
            "--output",
            str(work / "rows.ndjson"),
            str(fleet / "events.ndjson"),
        ],
    ]
    for command in steps:
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise RecordError(
                f"{' '.join(command[2:4])} failed (exit {done.returncode}): {done.stderr[-2000:]}"
            )

    events = []
    for line in (fleet / "events.ndjson").read_text(encoding="utf-8").splitlines():
        event = json.loads(line)
        event["sourcetype"], event["source"] = source_of(event)
        event["index"] = INDEX
        events.append(event)
    rows = [json.loads(line) for line in (work / "rows.ndjson").read_text(encoding="utf-8").splitlines()]
    findings = [row for row in rows if "suppressed_by" not in row]
    if not findings:
        raise RecordError("the simulated fleet raised no finding")

    lookups = {}
    for name in LOOKUP_NAMES:
        file_name = f"mobile_ingress_{name}.csv"
        path = fleet / "lookups" / file_name
        chosen = path if path.is_file() else SHIPPED_LOOKUPS / file_name
        lookups[name] = (str(chosen), read_csv_rows(chosen))

    # "<file>:<line>: <message>" -> the time of the event on that line.
    messages = []
    pattern = re.compile(r"^.*?:(\d+): (.*)$")
    for line in (work / "messages.txt").read_text(encoding="utf-8").splitlines():
        match = pattern.match(line)
        if match and 1 <= int(match.group(1)) <= len(events):
            messages.append((events[int(match.group(1)) - 1]["_time"], match.group(2)))

    start = min(event["_time"] for event in events)
    return Run(
        events=events,
        findings=findings,
        tuning_rows=rows,
        lookups=lookups,
        messages=messages,
        now=math.floor(start) + hours * 3600,
        macros=read_macros(),
    )


# ------------------------------------------------------------------------ overview dashboard

FINDING_FIELDS = [
    "_time",
    "finding_id",
    "analytic_id",
    "platform",
    "device_id",
    "user",
    "app_id",
    "dest",
    "file_path",
    "risk_class",
    "stages",
    "context",
    "risk_score",
    "severity",
    "confidence",
]


def overview_findings(run: Run) -> list[Row]:
    rows = []
    for finding in run.findings:
        row = {name: splunk_value(finding.get(name)) for name in FINDING_FIELDS if name != "_time"}
        row["_time"] = finding["first_time"]
        rows.append(row)
    return rows


def ds_overview_findings(run: Run) -> Table:
    rows = [{**row, "_time": iso(row["_time"])} for row in overview_findings(run)]
    return table(rows, FINDING_FIELDS)


def ds_overview_totals(run: Run) -> Table:
    rows = overview_findings(run)
    return table(
        [
            {
                "findings": len(rows),
                "high_or_critical": sum(1 for r in rows if r["severity"] in ("critical", "high")),
                "devices": len({r["device_id"] for r in rows}),
                "apps": len({r["app_id"] for r in rows if r.get("app_id")}),
            }
        ],
        ["findings", "high_or_critical", "devices", "apps"],
    )


def ds_overview_risk_classes(run: Run) -> Table:
    rows = [
        {**row, "risk_class": row.get("risk_class") or "none (retrieval only)"}
        for row in overview_findings(run)
    ]
    return top(rows, "risk_class", "findings", limit=10_000)


def ds_overview_table(run: Run) -> Table:
    rows = sorted(overview_findings(run), key=lambda r: (-r["risk_score"], -r["_time"]))
    fields = [
        "_time",
        "severity",
        "risk_score",
        "analytic_id",
        "device_id",
        "app_id",
        "dest",
        "risk_class",
        "stages",
        "context",
        "confidence",
        "finding_id",
    ]
    return table([{**row, "_time": iso(row["_time"])} for row in rows], fields)


# ------------------------------------------------------------------------- finding dashboard

# The finding panels show the contract's fields in the contract's order (engine.findings.FIELDS),
# less what they leave out: the fixed ATT&CK ids and the evidence list (the events panel shows it).
FOCUS_FIELDS = [name for name in FIELDS if name not in ("detection_strategy", "technique_id", "evidence")]
# The detail panel: the explanation first, then what the finding is about, its id last.
DETAIL_FIELDS = [
    "explanation",
    *FIELDS[FIELDS.index("platform") : FIELDS.index("delta_seconds") + 1],
    "finding_id",
]
EVENT_FIELDS = [
    "_time",
    "stage",
    "seconds_after_retrieval",
    "activity",
    "event_id",
    "sourcetype",
    "app_id",
    "dest",
    "url",
    "bytes_in",
    "file_path",
    "file_hash",
    "load_method",
    "target_app",
    "app_state",
]


def focus_row(run: Run) -> Row:
    return {name: splunk_value(run.focus.get(name)) for name in FOCUS_FIELDS}


def ds_finding(run: Run) -> Table:
    return table([focus_row(run)], FOCUS_FIELDS)


def ds_finding_details(run: Run) -> Table:
    row = focus_row(run)
    row["first_time"] = strftime_ms(row["first_time"])
    row["last_time"] = strftime_ms(row["last_time"])
    row["stages"] = " > ".join(row["stages"])
    row["context"] = ", ".join(row["context"])
    # `| transpose 0 column_name=field | rename "row 1" AS value`
    return ["field", "value"], [DETAIL_FIELDS, [row.get(name) for name in DETAIL_FIELDS]]


def finding_events(run: Run) -> list[Row]:
    focus = run.focus
    earliest = math.floor(focus["first_time"]) - 60
    latest = math.ceil(focus["last_time"]) + 60
    ids = set(focus["evidence"])
    chosen = [e for e in run.events if e.get("event_id") in ids and earliest <= e["_time"] < latest]
    retrievals = [e["_time"] for e in chosen if e["activity"] == "retrieval"]
    retrieval_time = min(retrievals) if retrievals else None
    rows = []
    for event in sorted(chosen, key=lambda e: e["_time"]):
        row = {name: splunk_value(event.get(name)) for name in EVENT_FIELDS}
        activity = event["activity"]
        if activity == "file_create":
            row["stage"] = "staging"
        elif activity == "retrieval" and retrieval_time is not None and event["_time"] > retrieval_time:
            row["stage"] = "repeat_retrieval"
        else:
            row["stage"] = activity
        row["seconds_after_retrieval"] = (
            None if retrieval_time is None else round(event["_time"] - retrieval_time, 3)
        )
        row["_time"] = iso(event["_time"])
        rows.append(row)
    return rows


def ds_finding_events(run: Run) -> Table:
    return table(finding_events(run), EVENT_FIELDS)


def ds_finding_timeline(run: Run) -> Table:
    rows = []
    for row in finding_events(run):
        detail = next(
            (row[n] for n in ("url", "file_path", "dest", "event_id") if row.get(n) is not None), None
        )
        rows.append({**row, "detail": detail})
    return table(rows, ["_time", "stage", "detail"])


def ds_finding_raw(run: Run) -> Table:
    fields = [
        "_time",
        "seconds_after_retrieval",
        "stage",
        "event_id",
        "sourcetype",
        "dest",
        "url",
        "bytes_in",
        "file_path",
        "load_method",
        "target_app",
        "app_state",
    ]
    return table(finding_events(run), fields)


def mdm_row(run: Run) -> Row:
    """The finding with the KV store lookups (empty here) then the lookup files, OUTPUTNEW."""
    focus = run.focus
    row: Row = {name: focus.get(name) for name in ("device_id", "platform", "app_id")}
    device = next(
        (r for r in run.lookups["device_inventory"][1] if r["device_id"] == focus["device_id"]), None
    )
    if device:
        row.update(
            ip=device["ip"],
            inventory_user=device["user"],
            first_seen=device["first_seen"],
            last_seen=device["last_seen"],
        )
    app = next(
        (
            r
            for r in run.lookups["managed_apps"][1]
            if r["app_id"] == focus["app_id"] and r["platform"] == focus["platform"]
        ),
        None,
    )
    if app:
        row.update(managed=app["managed"], approved_roles=app["approved_roles"], mdm_source=app["source"])
    row["managed"] = row.get("managed") or "not in MDM"
    row["approved_roles"] = row.get("approved_roles") or ""
    return row


MDM_FIELDS = [
    "device_id",
    "platform",
    "app_id",
    "ip",
    "inventory_user",
    "first_seen",
    "last_seen",
    "managed",
    "approved_roles",
    "mdm_source",
]


def ds_finding_mdm(run: Run) -> Table:
    return table([mdm_row(run)], MDM_FIELDS)


def ds_finding_mdm_device(run: Run) -> Table:
    return table([mdm_row(run)], ["device_id", "platform", "ip", "inventory_user", "first_seen", "last_seen"])


def ds_finding_mdm_app(run: Run) -> Table:
    return table([mdm_row(run)], ["app_id", "platform", "managed", "approved_roles", "mdm_source"])


def ds_finding_state(run: Run) -> Table:
    focus = run.focus
    earliest = math.floor(focus["first_time"]) - 1800
    latest = math.ceil(focus["last_time"]) + 300
    rows = [
        {
            **{
                n: splunk_value(e.get(n))
                for n in ("app_id", "app_state", "device_locked", "recent_user_interaction")
            },
            "_time": iso(e["_time"]),
        }
        for e in sorted(run.events, key=lambda e: e["_time"])
        if e["activity"] == "state"
        and e.get("device_id") == focus["device_id"]
        and earliest <= e["_time"] < latest
    ]
    return table(rows, ["_time", "app_id", "app_state", "device_locked", "recent_user_interaction"])


def ds_finding_tuning(run: Run) -> Table:
    f = focus_row(run)
    why = "<why it is expected>"
    detection = (
        "mobile_ingress_"
        + f["analytic_id"].lower()
        + ("_android" if f["analytic_id"] == "AN1848" else "_ios")
    )
    options = [
        (
            "lookup mobile_ingress_allowed_destinations",
            f"{f['dest']},{f['app_id']},{why}",
            f"Suppresses {f['app_id']} retrievals from {f['dest']} on every device (the narrowest fix)",
        ),
        (
            "lookup mobile_ingress_allowed_paths",
            f"{f['platform']},{f['app_id']},{re.sub(r'/[^/]*$', '/*', f['file_path'])},{why}"
            if f.get("file_path")
            else None,
            f"Suppresses every file {f['app_id']} stages in that folder",
        ),
        (
            "lookup mobile_ingress_allowed_apps",
            f"{f['platform']},{f['app_id']},download,{why}",
            f"Suppresses every chain of {f['app_id']} unless the file is then loaded in-process",
        ),
        (
            f"macro {detection}_ingress_tool_transfer_filter",
            f'search NOT (app_id="{f["app_id"]}" dest="{f["dest"]}")',
            "Drops the finding after correlation; nothing is learned",
        ),
    ]
    rows = [{"tuning": t, "entry": e, "effect": x} for t, e, x in options if e is not None]
    return table(rows, ["tuning", "entry", "effect"])


def ds_finding_es(run: Run) -> Table:
    f = run.focus
    links = [
        (
            "Incident Review: the notable of this finding",
            "/app/SplunkEnterpriseSecuritySuite/incident_review?earliest=0&latest=now&search=finding_id%3D"
            + f["finding_id"],
        ),
        (
            "Risk analysis: risk events of the device",
            "/app/SplunkEnterpriseSecuritySuite/risk_analysis?earliest=-30d&latest=now&form.risk_object_type_raw=system"
            "&form.risk_object_raw=" + f["device_id"],
        ),
        (
            "Asset investigator: the device",
            "/app/SplunkEnterpriseSecuritySuite/asset_investigator?earliest=-24h&latest=now&asset="
            + f["device_id"],
        ),
    ]
    return table(
        [{"view": v, "link": link, "es_version": ES_VERSION} for v, link in links],
        ["view", "link", "es_version"],
    )


# -------------------------------------------------------------------------- tuning dashboard


def tuning_rows(run: Run) -> list[Row]:
    return [{**row, "suppressed_by": row.get("suppressed_by") or NOT_SUPPRESSED} for row in run.tuning_rows]


def ds_tuning_rows(run: Run) -> Table:
    fields = (
        "finding_id analytic_id platform device_id app_id dest file_path risk_class risk_score suppressed_by"
    )
    return table(tuning_rows(run), fields.split())


def ds_tuning_counts(run: Run) -> Table:
    rows = tuning_rows(run)
    suppressed = [r for r in rows if r["suppressed_by"] != NOT_SUPPRESSED]
    return table(
        [
            {
                "findings": len(rows) - len(suppressed),
                "suppressed": len(suppressed),
                "entries": len({r["suppressed_by"] for r in suppressed}),
            }
        ],
        ["findings", "suppressed", "entries"],
    )


def ds_tuning_by_rule(run: Run) -> Table:
    rows = [
        {"rule": re.sub(r"^mobile_ingress_", "", r["suppressed_by"].split(":", 1)[0])}
        for r in tuning_rows(run)
        if r["suppressed_by"] != NOT_SUPPRESSED
    ]
    fields, columns = top(rows, "rule", "chains", limit=10_000)
    return fields, columns


def ds_tuning_by_entry(run: Run) -> Table:
    groups: dict[str, list[Row]] = defaultdict(list)
    for row in tuning_rows(run):
        if row["suppressed_by"] != NOT_SUPPRESSED:
            groups[row["suppressed_by"]].append(row)
    out = [
        {
            "suppressed_by": key,
            "chains": len(rows),
            "devices": len({r["device_id"] for r in rows}),
            "apps": len({r["app_id"] for r in rows if r.get("app_id")}),
        }
        for key, rows in sorted(groups.items())
    ]
    out.sort(key=lambda r: -r["chains"])
    return table(out, ["suppressed_by", "chains", "devices", "apps"])


def ds_tuning_not_baselined(run: Run) -> Table:
    groups: dict[str, list[Row]] = defaultdict(list)
    for row in tuning_rows(run):
        if row["suppressed_by"] in (NOT_SUPPRESSED, "foreground_state_required") and row.get("app_id"):
            groups[row["app_id"]].append(row)
    out = [
        {
            "app_id": app,
            "destinations": len({r["dest"] for r in rows}),
            "chains": len(rows),
            "dest_values": sorted({r["dest"] for r in rows})[:5],
        }
        for app, rows in sorted(groups.items())
    ]
    out.sort(key=lambda r: -r["destinations"])
    return table(out[:20], ["app_id", "destinations", "chains", "dest_values"])


def ds_tuning_candidates(run: Run) -> Table:
    groups: dict[tuple[str, str], list[Row]] = defaultdict(list)
    for row in tuning_rows(run):
        if row["suppressed_by"] == NOT_SUPPRESSED and row.get("app_id"):
            groups[(row["app_id"], row["dest"])].append(row)
    out = [
        {
            "app_id": app,
            "dest": dest,
            "devices": len({r["device_id"] for r in rows}),
            "findings": len(rows),
            "max_score": max(r["risk_score"] for r in rows),
            "candidate_entry": f"{dest},{app},<why it is expected>",
        }
        for (app, dest), rows in sorted(groups.items())
    ]
    out.sort(key=lambda r: (-r["devices"], r["max_score"]))
    fields = ["app_id", "dest", "devices", "findings", "max_score", "candidate_entry"]
    return table(out[:15], fields)


def ds_tuning_warmup(run: Run) -> Table:
    rows = run.lookups["destination_baseline"][1]
    firsts = [t for t in (parse_time(r["first_seen"]) for r in rows if r.get("first_seen")) if t is not None]
    oldest = min(firsts) if firsts else None
    warmup_days = float(run.macros["mobile_ingress_baseline_warmup_days"])
    history = None if oldest is None else round((run.now - oldest) / 86400, 1)
    gate = "open" if warmup_days <= 0 or (history is not None and history >= warmup_days) else "warming up"
    row = {
        "gate": gate,
        "history_days": history,
        "warmup_days": int(warmup_days) if warmup_days.is_integer() else warmup_days,
        "pairs": len(rows),
        "apps": len({r["app_id"] for r in rows}),
    }
    return table([row], ["gate", "history_days", "warmup_days", "pairs", "apps"])


def ds_tuning_elements(run: Run) -> Table:
    rows = [{"element": name, "definition": run.macros["mobile_ingress_" + name]} for name in SCALAR_ELEMENTS]
    return table(rows, ["element", "definition"])


def ds_tuning_lookups(run: Run) -> Table:
    rows = [
        {
            "lookup": "mobile_ingress_" + name,
            "in_force": "lookup file",
            "kv_rows": 0,
            "file_rows": len(run.lookups[name][1]),
        }
        for name in sorted(LOOKUP_NAMES)
    ]
    return table(rows, ["lookup", "in_force", "kv_rows", "file_rows"])


# --------------------------------------------------------------------- data health dashboard


def ds_health_by(field: str) -> Callable[[Run], Table]:
    def shape(run: Run) -> Table:
        return timechart(run.events, "_time", field)

    return shape


def ds_health_last_event(run: Run) -> Table:
    groups: dict[tuple[str, str, str], list[float]] = defaultdict(list)
    for event in run.events:
        groups[(event["index"], event["sourcetype"], event["source"])].append(event["_time"])
    rows = [
        {
            "index": i,
            "sourcetype": st,
            "source": s,
            "events": len(times),
            "last_event": strftime(max(times)),
            "lag_seconds": round(run.now - max(times)),
        }
        for (i, st, s), times in sorted(groups.items())
    ]
    rows.sort(key=lambda r: -r["lag_seconds"])
    return table(rows, ["index", "sourcetype", "source", "events", "last_event", "lag_seconds"])


def log_rows(run: Run) -> list[Row]:
    return [
        {
            "_time": t,
            "source": LOG_SOURCE,
            "log_level": "WARNING",
            "log_context": "ingresscorrelate",
            "log_message": message,
        }
        for t, message in sorted(run.messages)
    ]


def ds_health_log(run: Run) -> Table:
    return table(
        [{**r, "_time": iso(r["_time"])} for r in log_rows(run)],
        ["_time", "source", "log_level", "log_context", "log_message"],
    )


def ds_health_log_time(run: Run) -> Table:
    return timechart(log_rows(run), "_time", "log_level")


def ds_health_log_table(run: Run) -> Table:
    groups: dict[tuple[str, str], list[Row]] = defaultdict(list)
    for row in log_rows(run):
        groups[(row["source"], row["log_level"])].append(row)
    out = [
        {
            "source": s,
            "log_level": level,
            "occurrences": len(rows),
            "last_seen": strftime(rows[-1]["_time"]),
            "last_message": rows[-1]["log_message"],
        }
        for (s, level), rows in sorted(groups.items())
    ]
    out.sort(key=lambda r: -r["occurrences"])
    return table(out, ["source", "log_level", "occurrences", "last_seen", "last_message"])


# The activities the add-on maps to each CIM data set, and the key fields an event needs to be
# counted in it (the recording's stand-in for the data model's own constraints).
CIM_DATA_SETS: dict[str, tuple[str, Callable[[Row], bool]]] = {
    "Endpoint.Filesystem": ("file_create", lambda e: bool(e.get("file_path") and e.get("file_name"))),
    "Web.Web": ("retrieval", lambda e: bool(e.get("url"))),
    "Network_Traffic.All_Traffic": ("retrieval", lambda e: bool(e.get("dest") or e.get("dest_ip"))),
}


def ds_health_cim(run: Run) -> Table:
    rows = []
    for data_set, (activity, member) in sorted(CIM_DATA_SETS.items()):
        chosen = [e for e in run.events if e["activity"] == activity and e["sourcetype"] in (EDR[0], NSM[0])]
        expected = Counter(e["sourcetype"] for e in chosen)
        in_model = Counter(e["sourcetype"] for e in chosen if member(e))
        for sourcetype in sorted(expected):
            rows.append(
                {
                    "data_set": data_set,
                    "sourcetype": sourcetype,
                    "expected_events": expected[sourcetype],
                    "dm_events": in_model[sourcetype],
                    "coverage_pct": round(100 * in_model[sourcetype] / expected[sourcetype], 1),
                }
            )
    return table(rows, ["data_set", "sourcetype", "expected_events", "dm_events", "coverage_pct"])


# ------------------------------------------------------------------------------ registry

SHAPERS: dict[str, dict[str, Callable[[Run], Table]]] = {
    "mobile_ingress_overview": {
        "ds_findings": ds_overview_findings,
        "ds_totals": ds_overview_totals,
        "ds_by_analytic": lambda run: timechart(overview_findings(run), "_time", "analytic_id"),
        "ds_by_severity": lambda run: timechart(overview_findings(run), "_time", "severity"),
        "ds_top_apps": lambda run: top(overview_findings(run), "app_id", "findings", 10),
        "ds_top_destinations": lambda run: top(overview_findings(run), "dest", "findings", 10),
        "ds_top_devices": lambda run: top(overview_findings(run), "device_id", "findings", 10),
        "ds_risk_classes": ds_overview_risk_classes,
        "ds_stages": lambda run: top(
            [{"stages": stage} for row in overview_findings(run) for stage in row["stages"]],
            "stages",
            "findings",
            10_000,
        ),
        "ds_table": ds_overview_table,
    },
    "mobile_ingress_finding": {
        "ds_finding": ds_finding,
        "ds_score": lambda run: table(
            [focus_row(run)], ["risk_score", "severity", "confidence", "analytic_id"]
        ),
        "ds_details": ds_finding_details,
        "ds_events": ds_finding_events,
        "ds_timeline": ds_finding_timeline,
        "ds_raw": ds_finding_raw,
        "ds_mdm": ds_finding_mdm,
        "ds_mdm_device": ds_finding_mdm_device,
        "ds_mdm_app": ds_finding_mdm_app,
        "ds_state": ds_finding_state,
        "ds_tuning": ds_finding_tuning,
        "ds_es": ds_finding_es,
    },
    "mobile_ingress_tuning": {
        "ds_rows": ds_tuning_rows,
        "ds_counts": ds_tuning_counts,
        "ds_by_rule": ds_tuning_by_rule,
        "ds_by_entry": ds_tuning_by_entry,
        "ds_not_baselined": ds_tuning_not_baselined,
        "ds_candidates": ds_tuning_candidates,
        "ds_warmup": ds_tuning_warmup,
        "ds_elements": ds_tuning_elements,
        "ds_lookups": ds_tuning_lookups,
    },
    "mobile_ingress_data_health": {
        "ds_by_sourcetype": ds_health_by("sourcetype"),
        "ds_by_input": ds_health_by("source"),
        "ds_last_event": ds_health_last_event,
        "ds_log": ds_health_log,
        "ds_log_time": ds_health_log_time,
        "ds_log_table": ds_health_log_table,
        "ds_cim": ds_health_cim,
    },
}


def tokens_for(dashboard: str, run: Run) -> dict[str, str]:
    """Token values the preview opens the dashboard with (the Overview's drilldown sets it)."""
    return {"finding_id": run.focus["finding_id"]} if dashboard == "mobile_ingress_finding" else {}


def record(out: Path, devices: int = DEVICES, hours: int = HOURS, seed: int = SEED) -> dict[str, Path]:
    """Write out/<dashboard>.json for every dashboard; returns {dashboard: path}."""
    with tempfile.TemporaryDirectory(prefix="record-dashboards-") as work:
        run = simulate_and_detect(Path(work), devices, hours, seed)
    out.mkdir(parents=True, exist_ok=True)
    written = {}
    for dashboard, shapers in SHAPERS.items():
        results = {}
        for ds_id, shape in shapers.items():
            fields, columns = shape(run)
            results[ds_id] = {"fields": fields, "columns": columns}
        document = {
            "dashboard": dashboard,
            "recorded_from": {"devices": devices, "hours": hours, "seed": seed},
            "now": iso(run.now),
            "tokens": tokens_for(dashboard, run),
            "results": results,
        }
        path = out / f"{dashboard}.json"
        path.write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        written[dashboard] = path
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help=f"output folder (default {DEFAULT_OUT})"
    )
    parser.add_argument("--devices", type=int, default=DEVICES)
    parser.add_argument("--hours", type=int, default=HOURS)
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv)
    try:
        written = record(args.out, args.devices, args.hours, args.seed)
    except RecordError as exc:
        print(f"record_dashboard_results: {exc}", file=sys.stderr)
        return 1
    for dashboard, path in written.items():
        print(f"recorded {dashboard}: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
