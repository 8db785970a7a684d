"""Render detections/*.yml into package/default/savedsearches.conf and the rendered part of macros.conf.

    python tools/render_detections.py           # write the rendered files
    python tools/render_detections.py --check   # exit 1 when they are not up to date

Each detection YAML (validated against detections/schema.json) becomes one saved-search stanza
(schedule, Enterprise Security correlation search, notable and risk actions) and one
`<name>_filter` macro (default `search *`), as Splunk's security content does. A correlation
search's stanza is its label, which ends in ` - Rule` (ES 8 lists only such detections), and it
carries the ES 8 keys contentctl writes (`detection_type`, `metadata` with `publish_time` and
`deprecated`, the finding's `_entities`).

The analytics come from the engine's registry (src/mobile_ingress/engine/analytics.py), never from
the YAML: a correlation search raises every analytic of the registry unless its YAML lists some
(`analytics`, ids the registry must hold); its ES annotations name their ATT&CK technique and
detection strategy; `{{analytics}}`, `{{technique}}` and `{{detection_strategy}}` in its
description, notable and risk texts become "AN1848 (Android) and AN1849 (iOS)", "T1544" and
"DET0718". Every function that reads the registry takes it as a parameter (tests pass their own).

macros.conf keeps everything above the RENDERED_MARKER line (hand-written: data and scalar
macros, the findings store); everything below it is rewritten. The tests check both files are up
to date, so nobody edits the rendered stanzas by hand.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import yaml
from analytic_texts import PlaceholderError, attack_ids, fill, joined
from rendered_files import write_or_check

from mobile_ingress.engine.analytics import ANALYTICS, AnalyticError, Analytics

ROOT = Path(__file__).resolve().parent.parent
DETECTIONS = ROOT / "detections"
SCHEMA = DETECTIONS / "schema.json"
DEFAULT = ROOT / "package" / "default"
SAVEDSEARCHES = DEFAULT / "savedsearches.conf"
MACROS = DEFAULT / "macros.conf"

HEADER = "# rendered by tools/render_detections.py from detections/*.yml — do not edit\n"
RENDERED_MARKER = (
    "# ---- rendered by tools/render_detections.py from detections/*.yml — do not edit below ----"
)
FINDINGS_STORE_MACRO = "mobile_ingress_findings_store"
NOTABLE_FIELDS_MACRO = "mobile_ingress_notable_fields"
SCHEDULED_KINDS = ("baseline", "lookup_builder", "maintenance")
# The texts of a correlation search that may name its analytics through placeholders.
TEXTS = (("description",), ("notable", "title"), ("notable", "description"), ("risk", "message"))


# ----------------------------------------------------------------------------------- detections


def load_detections(folder: Path = DETECTIONS, analytics: Analytics = ANALYTICS) -> list[dict[str, Any]]:
    """Every detections/*.yml, validated against the schema and the analytics registry, with the
    registry's ids, ATT&CK ids and texts filled in (`with_analytics`), sorted by name."""
    import jsonschema

    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
    detections = []
    for path in sorted(folder.glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        errors = sorted(validator.iter_errors(data), key=lambda e: list(e.path))
        if errors:
            raise SystemExit(f"{path.name}: {errors[0].message} at {'/'.join(map(str, errors[0].path))}")
        if path.stem != data["name"]:
            raise SystemExit(f"{path.name}: the file name must be the detection name {data['name']}.yml")
        try:
            detections.append(with_analytics(data, analytics))
        except (AnalyticError, DetectionError, PlaceholderError) as exc:
            raise SystemExit(f"{path.name}: {exc}") from None
    return sorted(detections, key=lambda d: str(d["name"]))


class DetectionError(Exception):
    """A correlation search that declares what the analytics registry owns."""


def with_analytics(detection: dict[str, Any], analytics: Analytics = ANALYTICS) -> dict[str, Any]:
    """The detection with its analytics resolved against the registry: `analytics` (all of the
    registry's for a correlation search that lists none), `mitre.techniques` and
    `mitre.detection_strategies` (theirs, in order) and the placeholders of its texts filled."""
    out = dict(detection)
    correlation = out.get("kind", "correlation") == "correlation"
    listed = out.get("analytics")
    if listed is not None:
        chosen = [analytics.get(analytic_id) for analytic_id in listed]
    else:
        chosen = list(analytics) if correlation else []
    out["analytics"] = [a.id for a in chosen]
    if not correlation:
        return out
    mitre = dict(out["mitre"])
    for key in ("technique", "detection_strategy"):
        if key in mitre:
            raise DetectionError(
                f"mitre.{key} of a correlation search comes from its analytics "
                "(src/mobile_ingress/engine/analytics.py): remove it from the YAML"
            )
    mitre["techniques"], mitre["detection_strategies"] = attack_ids(chosen)
    out["mitre"] = mitre
    values = {
        "analytics": joined(f"{a.id} ({a.name})" for a in chosen),
        "technique": joined(mitre["techniques"]),
        "detection_strategy": joined(mitre["detection_strategies"]),
    }
    for path in TEXTS:
        holder = out
        for key in path[:-1]:  # copied on the way: the YAML's own data stays as loaded
            holder[key] = dict(holder[key])
            holder = holder[key]
        holder[path[-1]] = fill(holder[path[-1]], values, ".".join(path))
    return out


def one_line(text: str) -> str:
    return " ".join(text.split())


def stanza_name(detection: dict[str, Any]) -> str:
    """A correlation search is named by its label (ES 8: `... - Rule`); the others by name."""
    return str(
        detection["label"] if detection.get("kind", "correlation") == "correlation" else detection["name"]
    )


def full_search(detection: dict[str, Any]) -> str:
    """The SPL of the stanza: the YAML search, then the filter macro, then the findings store, then
    (a correlation search) the display fields its notable's title and description name."""
    search = one_line(detection["search"])
    if detection.get("filter_macro", True):
        search += f" | `{detection['name']}_filter`"
    if detection.get("store_findings", False):
        search += f" | `{FINDINGS_STORE_MACRO}`"
    if detection.get("kind", "correlation") == "correlation":
        search += f" | `{NOTABLE_FIELDS_MACRO}`"
    return search


def publish_time(date: str) -> float:
    """Epoch seconds of UTC midnight of DATE (contentctl's `publish_time`)."""
    import datetime

    day = datetime.datetime.strptime(date, "%Y-%m-%d").replace(tzinfo=datetime.timezone.utc)
    return day.timestamp()


def _json(value: object) -> str:
    return json.dumps(value, separators=(", ", ": "), ensure_ascii=False)


def render_stanza(d: dict[str, Any]) -> list[str]:
    schedule = d["schedule"]
    manual = bool(schedule.get("manual", False))
    lines = [
        f"[{stanza_name(d)}]",
        f"description = {one_line(d['description'])}",
        f"search = {full_search(d)}",
        "disabled = 1",
        f"enableSched = {0 if manual else 1}",
    ]
    if not manual:
        lines.append(f"cron_schedule = {schedule['cron']}")
    lines += [
        f"dispatch.earliest_time = {schedule['earliest']}",
        f"dispatch.latest_time = {schedule['latest']}",
    ]
    if not manual:
        lines.append(f"schedule_window = {schedule.get('schedule_window', 'auto')}")
    lines += ["realtime_schedule = 0", "is_visible = true"]
    if d.get("kind", "correlation") in SCHEDULED_KINDS:
        return lines
    notable, risk = d["notable"], d["risk"]
    label = d.get("label", d["name"])
    annotations = {
        "mitre_attack": list(d["mitre"]["techniques"]),
        "detection_strategy": list(d["mitre"]["detection_strategies"]),
        "analytic": list(d["analytics"]),
        "data_sources": d["data_sources"],
    }
    drilldowns = [
        {
            "name": item["name"],
            "search": one_line(item["search"]),
            "earliest_offset": item.get("earliest_offset", "$info_min_time$"),
            "latest_offset": item.get("latest_offset", "$info_max_time$"),
        }
        for item in notable["drilldowns"]
    ]
    steps = "\n".join(f"{n}. {step}" for n, step in enumerate(notable["next_steps"], 1))
    risk_objects: list[dict[str, object]] = [
        {
            "risk_object_field": risk["object"]["field"],
            "risk_object_type": risk["object"]["type"],
            "risk_score": risk["default_score"],
        }
    ]
    risk_objects += [
        {"threat_object_field": item["field"], "threat_object_type": item["type"]}
        for item in risk["threat_objects"]
    ]
    suppress = notable.get("suppress_fields", ["finding_id"])
    metadata = {
        "detection_id": d["id"],
        "detection_version": str(d["version"]),
        "publish_time": publish_time(d["date"]),
        "deprecated": "0",
    }
    entities = [
        {
            "risk_object_field": risk["object"]["field"],
            "risk_object_type": risk["object"]["type"],
            "risk_score": risk["default_score"],
        }
    ]
    lines += [
        "counttype = number of events",
        "relation = greater than",
        "quantity = 0",
        "alert.digest_mode = 0",
        "alert.track = 0",
        "alert.suppress = 1",
        f"alert.suppress.fields = {','.join(suppress)}",
        f"alert.suppress.period = {notable.get('suppress_period', '86400s')}",
        "action.correlationsearch.enabled = 1",
        "action.correlationsearch.detection_type = ebd",
        f"action.correlationsearch.label = {label}",
        f"action.correlationsearch.annotations = {_json(annotations)}",
        f"action.correlationsearch.metadata = {_json(metadata)}",
        "action.notable = 1",
        f"action.notable.param._entities = {_json(entities)}",
        f"action.notable.param.rule_title = {one_line(notable['title'])}",
        f"action.notable.param.rule_description = {one_line(notable['description'])}",
        f"action.notable.param.security_domain = {notable['security_domain']}",
        f"action.notable.param.severity = {notable['severity']}",
        f"action.notable.param.nes_fields = {','.join(notable.get('nes_fields', ['finding_id']))}",
        f"action.notable.param.drilldown_searches = {_json(drilldowns)}",
        f"action.notable.param.next_steps = {_json({'version': 1, 'data': steps})}",
        "action.risk = 1",
        f"action.risk.param._risk = {_json(risk_objects)}",
        f"action.risk.param._risk_message = {one_line(risk['message'])}",
        f"action.risk.param._risk_score = {risk['default_score']}",
        "action.risk.param.verbose = 0",
    ]
    return lines


def render_savedsearches(detections: list[dict[str, Any]]) -> str:
    out = [
        HEADER.rstrip("\n"),
        "# Shipped disabled: enable them in Settings > Searches, reports, and alerts (docs/splunk.md).",
    ]
    for detection in detections:
        out.append("")
        out.extend(render_stanza(detection))
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------------------- macros


def render_macros_tail(detections: list[dict[str, Any]]) -> str:
    out = [RENDERED_MARKER]
    for detection in detections:
        if detection.get("filter_macro", True):
            out += [
                "",
                f"[{detection['name']}_filter]",
                "definition = search *",
                f"description = Tuning filter of {detection['name']}: override in local/macros.conf.",
            ]
    return "\n".join(out) + "\n"


def render_macros(current: str, detections: list[dict[str, Any]]) -> str:
    head = current.split(RENDERED_MARKER, 1)[0].rstrip("\n") + "\n\n"
    return head + render_macros_tail(detections)


def rendered(folder: Path = DETECTIONS, analytics: Analytics = ANALYTICS) -> dict[Path, str]:
    detections = load_detections(folder, analytics)
    return {
        SAVEDSEARCHES: render_savedsearches(detections),
        MACROS: render_macros(MACROS.read_text(encoding="utf-8"), detections),
    }


def main(argv: list[str] | None = None) -> int:
    return write_or_check("render_detections", __doc__.splitlines()[0], rendered, argv)


if __name__ == "__main__":
    sys.exit(main())
