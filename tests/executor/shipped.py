"""Every SPL string the app ships (saved searches, notable drilldowns, dashboard data sources with
their chains, macro definitions), read from package/ and dashboards/ as they are now."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from tests.executor.conf import read_conf

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "package"
DEFINITIONS = ROOT / "dashboards" / "definitions"
VIEWS = PACKAGE / "default" / "data" / "ui" / "views"
SAMPLES = ROOT / "samples"
TOKEN = re.compile(r"\$([A-Za-z_][A-Za-z0-9_.]*)(\|[a-z]+)?\$")

# The samples of each sourcetype, with the index the shipped data macros name for it.
SAMPLE_FILES = {
    "mobile_edr_telemetry.json": ("mobile", "mobile:edr:telemetry"),
    "mdm_amapi_usagelog.json": ("mobile", "mdm:amapi:usagelog"),
    "mdm_amapi_device.json": ("mobile", "mdm:amapi:device"),
    "mdm_amapi_policy.json": ("mobile", "mdm:amapi:policy"),
    "mdm_intune_app.json": ("mobile", "mdm:intune:app"),
    "mdm_intune_audit.json": ("mobile", "mdm:intune:audit"),
    "mdm_intune_device.json": ("mobile", "mdm:intune:device"),
    "mdm_jamf_mobiledevice.json": ("mobile", "mdm:jamf:mobiledevice"),
    "bro_conn.json": ("netflow", "bro:conn:json"),
    "bro_files.json": ("netflow", "bro:files:json"),
    "bro_http.json": ("netflow", "bro:http:json"),
    "bro_dhcp.json": ("netflow", "bro:dhcp:json"),
    "suricata_eve.json": ("netids", "suricata"),
}


@dataclass(frozen=True)
class ShippedSearch:
    where: str  # file and name
    spl: str


def _dashboard(name: str, definition: dict[str, object]) -> list[ShippedSearch]:
    sources = definition.get("dataSources", {})
    assert isinstance(sources, dict)

    def full(key: str) -> str:
        source = sources[key]
        query = source["options"]["query"]
        if source["type"] == "ds.chain":
            return full(source["options"]["extend"]) + "\n" + query
        return query

    return [ShippedSearch(f"{name}:{key}", full(key)) for key in sources if sources[key]["type"] != "ds.test"]


def shipped_searches() -> list[ShippedSearch]:
    out = []
    for name, stanza in read_conf(PACKAGE / "default" / "savedsearches.conf").items():
        out.append(ShippedSearch(f"savedsearches.conf [{name}]", stanza["search"]))
        drilldowns = stanza.get("action.notable.param.drilldown_searches")
        for index, drilldown in enumerate(json.loads(drilldowns) if drilldowns else []):
            out.append(
                ShippedSearch(f"savedsearches.conf [{name}] drilldown {index + 1}", drilldown["search"])
            )
    for path in sorted(DEFINITIONS.glob("*.json")):
        out.extend(_dashboard(path.name, json.loads(path.read_text(encoding="utf-8"))))
    for path in sorted(VIEWS.glob("*.xml")):
        match = re.search(
            r"<definition><!\[CDATA\[(.*?)\]\]></definition>", path.read_text(encoding="utf-8"), re.S
        )
        if match is not None:
            out.extend(_dashboard(path.name, json.loads(match.group(1))))
    return out


def shipped_macros() -> dict[str, dict[str, str]]:
    return read_conf(PACKAGE / "default" / "macros.conf")


def fill_tokens(spl: str, values: dict[str, str]) -> str:
    """Dashboard and drilldown `$token$`s (with `|s`: quoted) replaced by values."""

    def replace(match: re.Match[str]) -> str:
        value = values.get(match.group(1), "executor_token")
        return json.dumps(value) if match.group(2) == "|s" else value

    return TOKEN.sub(replace, spl)
