"""Render detections/*.yml into package/default/savedsearches.conf and the rendered part of macros.conf.

    python tools/render_detections.py           # write the rendered files
    python tools/render_detections.py --check   # exit 1 when they are not up to date

Each detection YAML (validated against detections/schema.json) becomes one saved-search stanza
(schedule, Enterprise Security correlation search, notable and risk actions) and one
`<name>_filter` macro (default `search *`), as Splunk's security content does. The macro
`mobile_ingress_prefilter` is the base-search filter rendered from the engine's prefilter
declaration (`Prefilter.describe()`) over the shipped lookups, in a looser form where SPL cannot
express a lookup-dependent rule (see `prefilter_spl`).

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
from rendered_files import write_or_check

ROOT = Path(__file__).resolve().parent.parent
DETECTIONS = ROOT / "detections"
SCHEMA = DETECTIONS / "schema.json"
DEFAULT = ROOT / "package" / "default"
LOOKUPS = ROOT / "package" / "lookups"
SAVEDSEARCHES = DEFAULT / "savedsearches.conf"
MACROS = DEFAULT / "macros.conf"

HEADER = "# rendered by tools/render_detections.py from detections/*.yml — do not edit\n"
RENDERED_MARKER = (
    "# ---- rendered by tools/render_detections.py from detections/*.yml — do not edit below ----"
)
FINDINGS_STORE_MACRO = "mobile_ingress_findings_store"
PREFILTER_MACRO = "mobile_ingress_prefilter"


# ----------------------------------------------------------------------------------- detections


def load_detections(folder: Path = DETECTIONS) -> list[dict[str, Any]]:
    """Every detections/*.yml, validated against the schema, sorted by name."""
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
        detections.append(data)
    return sorted(detections, key=lambda d: str(d["name"]))


def one_line(text: str) -> str:
    return " ".join(text.split())


def full_search(detection: dict[str, Any]) -> str:
    """The SPL of the stanza: the YAML search, then the filter macro, then the findings store."""
    search = one_line(detection["search"])
    if detection.get("filter_macro", True):
        search += f" | `{detection['name']}_filter`"
    if detection.get("store_findings", False):
        search += f" | `{FINDINGS_STORE_MACRO}`"
    return search


def _json(value: object) -> str:
    return json.dumps(value, separators=(", ", ": "), ensure_ascii=False)


def render_stanza(d: dict[str, Any]) -> list[str]:
    schedule = d["schedule"]
    lines = [
        f"[{d['name']}]",
        f"description = {one_line(d['description'])}",
        f"search = {full_search(d)}",
        "disabled = 1",
        "enableSched = 1",
        f"cron_schedule = {schedule['cron']}",
        f"dispatch.earliest_time = {schedule['earliest']}",
        f"dispatch.latest_time = {schedule['latest']}",
        f"schedule_window = {schedule.get('schedule_window', 'auto')}",
        "realtime_schedule = 0",
        "is_visible = true",
    ]
    if d.get("kind", "correlation") in ("baseline", "lookup_builder"):
        return lines
    notable, risk = d["notable"], d["risk"]
    label = d.get("label", d["name"])
    annotations = {
        "mitre_attack": [d["mitre"]["technique"]],
        "detection_strategy": [d["mitre"]["detection_strategy"]],
        "analytic": [d["analytic"]],
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
    metadata = {"detection_id": d["id"], "detection_version": str(d["version"])}
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
        f"action.correlationsearch.label = {label}",
        f"action.correlationsearch.annotations = {_json(annotations)}",
        f"action.correlationsearch.metadata = {_json(metadata)}",
        "action.notable = 1",
        f"action.notable.param.rule_title = {one_line(notable['title'])}",
        f"action.notable.param.rule_description = {one_line(notable['description'])}",
        f"action.notable.param.security_domain = {notable['security_domain']}",
        f"action.notable.param.severity = {notable['severity']}",
        f"action.notable.param.nes_fields = {','.join(suppress)}",
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


# ------------------------------------------------------------------------------------ prefilter


def shipped_prefilter() -> dict[str, Any]:
    """`Prefilter.describe()` over the shipped lookups and the default settings."""
    from mobile_ingress.engine.lookups import LOOKUP_NAMES, Lookups, csv_file_source, lookup_name
    from mobile_ingress.engine.prefilter import Prefilter
    from mobile_ingress.engine.rules import Rules
    from mobile_ingress.engine.settings import Settings

    sources = {name: [csv_file_source(str(LOOKUPS / f"{lookup_name(name)}.csv"))] for name in LOOKUP_NAMES}
    return Prefilter.build(Rules(Lookups.load(sources), Settings())).describe()


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def glob_to_wildcard(field: str, pattern: str) -> str | None:
    """A search wildcard at least as loose as the engine's glob for FIELD; None = any value.

    SPL's `*` crosses `/` and matches case-insensitively, so `**` and `*` both become `*`.
    `file_type` gets a trailing `*` (the engine drops MIME parameters such as `; charset=`).
    `file_path` keeps only what follows its first wildcard (the engine normalizes the prefix:
    `/sdcard/`, `/data/user/0/`, `file://`), or the last segment when it has none."""
    if pattern == "<noext>":
        return None
    text = pattern
    while "**" in text:
        text = text.replace("**/", "*").replace("/**", "*").replace("**", "*")
    if field == "file_path":
        text = "*" + (text[text.index("*") + 1 :] if "*" in text else text.rsplit("/", 1)[-1])
    if field == "file_type" and not text.endswith("*"):
        text += "*"
    while "**" in text:
        text = text.replace("**", "*")
    return text


def prefilter_spl(description: dict[str, Any]) -> str:
    """The base-search filter: an event is kept when
    - its activity is one of the always-kept activities, or
    - it carries a context field, or
    - it is a `file_create` whose platform has a risk pattern the SPL wildcard matches (a
      `<noext>` pattern keeps a file with no `file_name` or a name without a dot after the first
      character, looser than the engine, which also needs the size), or one without `file_name`
      (the engine then uses the basename of `file_path`), or
    - it is a `retrieval`: whether a retrieval is dropped depends on its app and on allowlist and
      baseline matching by host, suffix and CIDR that SPL cannot express, so all are kept.
    """
    activities = ", ".join(description["always_kept_activities"])
    parts = [f"activity IN ({activities})"]
    parts += [f"{name}=*" for name in description["context_fields"]]
    per_platform = []
    for platform, by_field in sorted(description["file_create_risk_patterns"].items()):
        terms: list[str] = []
        for field_name, patterns in by_field.items():
            values: list[str] = []
            for pattern in patterns:
                wildcard = glob_to_wildcard(field_name, pattern)
                if wildcard is None:  # <noext>: no dot after the first character
                    noext = f'{field_name}=".*" OR NOT {field_name}="*.*"'
                    if noext not in terms:
                        terms.append(noext)
                    continue
                if wildcard not in values:
                    values.append(wildcard)
            if values:
                terms.append(f"{field_name} IN ({', '.join(_quote(v) for v in values)})")
            if field_name == "file_name":
                terms.append("NOT file_name=*")
        condition = " OR ".join(terms)
        per_platform.append(condition if platform == "*" else f"(platform={platform} ({condition}))")
    if per_platform:
        parts.append(f"(activity=file_create ({' OR '.join(per_platform)}))")
    parts.append("activity=retrieval")
    return "(" + " OR ".join(parts) + ")"


# --------------------------------------------------------------------------------------- macros


def render_macros_tail(detections: list[dict[str, Any]], description: dict[str, Any]) -> str:
    out = [
        RENDERED_MARKER,
        "",
        f"[{PREFILTER_MACRO}]",
        f"definition = {prefilter_spl(description)}",
        "description = The base-search filter of the correlation searches, rendered from the engine's"
        " prefilter declaration over the shipped lookups (looser where SPL cannot express a"
        " lookup-dependent rule). If you add risk patterns in a KV store collection or a _local CSV,"
        " override it in local/macros.conf (definition = *) or re-render it.",
    ]
    for detection in detections:
        if detection.get("filter_macro", True):
            out += [
                "",
                f"[{detection['name']}_filter]",
                "definition = search *",
                f"description = Tuning filter of {detection['name']}: override in local/macros.conf.",
            ]
    return "\n".join(out) + "\n"


def render_macros(current: str, detections: list[dict[str, Any]], description: dict[str, Any]) -> str:
    head = current.split(RENDERED_MARKER, 1)[0].rstrip("\n") + "\n\n"
    return head + render_macros_tail(detections, description)


def rendered() -> dict[Path, str]:
    detections = load_detections()
    description = shipped_prefilter()
    return {
        SAVEDSEARCHES: render_savedsearches(detections),
        MACROS: render_macros(MACROS.read_text(encoding="utf-8"), detections, description),
    }


def main(argv: list[str] | None = None) -> int:
    return write_or_check("render_detections", __doc__.splitlines()[0], rendered, argv)


if __name__ == "__main__":
    sys.exit(main())
