"""The lookup builders (detections/*_builder.yml): saved searches that write the contract's
mobile_ingress_managed_apps and mobile_ingress_device_inventory from the MDM inventories, the MDM
role map they read, and the macros that say where their data is. Static checks over the
rendered confs; the replays in tests/replay run them in the offline executor."""

from __future__ import annotations

import csv
import json
import re
from typing import Any

import pytest

from mobile_ingress.engine.lookups import COLUMNS, INVENTORY_ATTRIBUTION_COLUMNS, ROLES
from mobile_ingress.normalize import Skip, load_mappings, normalize_line
from mobile_ingress.normalize.attribution import COLUMNS as ATTRIBUTION_COLUMNS
from mobile_ingress.normalize.attribution import (
    HOLD_SECONDS,
    MDM_KINDS,
    PRECEDENCE,
    SIGHTING_SOURCETYPES,
    Attribution,
)
from mobile_ingress.normalize.expr import mac_spl
from tests.executor import IndexedEvent, Splunk
from tests.normalize import attribution_cases as cases

from .test_knowledge_objects import (
    DEFAULT,
    LOOKUPS,
    ROOT,
    commands_of,
    expand,
    read_conf,
    render_detections,
    saved,
)

PACKAGE = ROOT / "package"
BUILDERS = {
    "mobile_ingress_managed_apps_builder": "managed_apps",
    "mobile_ingress_device_inventory_builder": "device_inventory",
}
ROLE_MAP = LOOKUPS / "mobile_ingress_mdm_role_map.csv"
# Columns a builder keeps for itself after the contract's (the engine ignores other columns, except
# the attribution columns it reads to say why a flow stays unresolved).
BOOKKEEPING = {
    "managed_apps": ["last_seen"],
    "device_inventory": [*INVENTORY_ATTRIBUTION_COLUMNS, "kind", "lease_end"],
}


def written_columns(spl: str, lookup: str) -> list[str]:
    """The columns the search hands `outputlookup LOOKUP` (the contract's, then `disabled`, which a
    user's row keeps): its `table` stage just before. The write never empties the collection: an
    empty run (`override_if_empty=false`) leaves it as it is."""
    stages = commands_of(spl)
    assert stages[-1] == ("outputlookup", ["override_if_empty=false", lookup]), stages[-1]
    command, columns = stages[-2]
    assert command == "table", f"the stage before outputlookup is {command}, not table"
    assert columns[-1:] == ["disabled"], "a row a user disabled must stay disabled"
    return columns[:-1]


def role_map() -> list[dict[str, str]]:
    with ROLE_MAP.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.parametrize(("name", "lookup"), sorted(BUILDERS.items()))
def test_a_builder_writes_exactly_the_contract_columns(name: str, lookup: str) -> None:
    spl = expand(saved()[name]["search"], read_conf(DEFAULT / "macros.conf"))
    expected = [*COLUMNS[lookup], *BOOKKEEPING.get(lookup, [])]
    assert written_columns(spl, f"mobile_ingress_{lookup}_kv") == expected


def test_the_column_check_sees_a_missing_or_reordered_column() -> None:
    good = (
        "search x | table device_id platform ip user first_seen last_seen disabled"
        " | outputlookup override_if_empty=false t_kv"
    )
    assert written_columns(good, "t_kv") == list(COLUMNS["device_inventory"])
    assert written_columns(good.replace(" user", ""), "t_kv") != list(COLUMNS["device_inventory"])
    with pytest.raises(AssertionError, match="not table"):
        written_columns("search x | fields a | outputlookup override_if_empty=false t_kv", "t_kv")
    with pytest.raises(AssertionError):  # a run that finds nothing would empty the collection
        written_columns(good.replace("override_if_empty=false ", ""), "t_kv")
    with pytest.raises(AssertionError, match="disabled"):
        written_columns(good.replace(" disabled", ""), "t_kv")


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_a_builder_is_a_scheduled_lookup_builder_shipped_disabled(name: str) -> None:
    stanza = saved()[name]
    detection = next(d for d in render_detections.load_detections() if d["name"] == name)
    assert detection["kind"] == "lookup_builder"
    assert stanza["disabled"] == "1" and stanza["enableSched"] == "1"
    assert not any(
        key.startswith(("action.notable", "action.risk", "action.correlationsearch")) for key in stanza
    )
    assert "_filter`" not in stanza["search"]


def test_the_role_map_has_its_columns_and_a_transforms_definition() -> None:
    with ROLE_MAP.open(encoding="utf-8") as handle:
        assert handle.readline().strip() == "mdm,attribute,value,roles,comment"
    stanza = read_conf(DEFAULT / "transforms.conf")["mobile_ingress_mdm_role_map"]
    assert stanza["filename"] == ROLE_MAP.name
    assert stanza["case_sensitive_match"] == "false"  # Intune category names are typed by admins


def unknown_roles(rows: list[dict[str, str]]) -> list[str]:
    return [role for row in rows for role in row["roles"].split("|") if role and role not in ROLES]


def test_every_role_in_the_role_map_is_a_contract_role() -> None:
    assert unknown_roles(role_map()) == []


def test_the_role_check_sees_a_role_the_contract_does_not_know() -> None:
    assert unknown_roles([{"roles": "sync|downloader"}, {"roles": ""}]) == ["downloader"]


def test_the_role_map_covers_what_each_mdm_offers_and_jamf_has_none() -> None:
    keys = {(row["mdm"], row["attribute"]): set() for row in role_map()}
    for row in role_map():
        keys[(row["mdm"], row["attribute"])].add(row["value"])
        assert row["comment"], row
    assert set(keys) == {("intune", "category"), ("amapi", "installType"), ("amapi", "roleType")}
    # The enums of the Android Management API (Policy.applications[].installType, .roles[].roleType).
    assert keys[("amapi", "installType")] == {
        "PREINSTALLED",
        "FORCE_INSTALLED",
        "BLOCKED",
        "AVAILABLE",
        "REQUIRED_FOR_SETUP",
        "KIOSK",
        "CUSTOM",
    }
    assert keys[("amapi", "roleType")] == {
        "COMPANION_APP",
        "KIOSK",
        "MOBILE_THREAT_DEFENSE_ENDPOINT_DETECTION_RESPONSE",
        "SYSTEM_HEALTH_MONITORING",
    }


def test_the_managed_apps_builder_looks_up_the_role_map_by_mdm_attribute_and_value() -> None:
    search = saved()["mobile_ingress_managed_apps_builder"]["search"]
    lookups = [args for command, args in commands_of(search) if command == "lookup"]
    assert lookups == [
        ["mobile_ingress_mdm_role_map", "mdm", "attribute", "value", "OUTPUT", "roles", "AS", "mapped_roles"],
    ]
    for mdm in ("intune", "amapi", "jamf"):
        assert f'"{mdm}"' in search


def test_the_mdm_data_macro_names_the_mdm_sourcetypes_that_yield_contract_events() -> None:
    mappings = load_mappings()
    expected = {st for st, m in mappings.items() if st.startswith("mdm:") and m.yields_activity}
    definition = read_conf(DEFAULT / "macros.conf")["mobile_ingress_mdm"]["definition"]
    assert set(re.findall(r'sourcetype="([^"]+)"', definition)) == expected == {"mdm:amapi:usagelog"}


def test_the_inventory_macro_covers_every_mdm_inventory_sourcetype() -> None:
    mappings = load_mappings()
    inventories = {st for st, m in mappings.items() if st.startswith("mdm:") and not m.yields_activity}
    definition = read_conf(DEFAULT / "macros.conf")["mobile_ingress_mdm_inventory"]["definition"]
    patterns = re.findall(r'sourcetype="([^"]+)"', definition)
    covered = {st for st in mappings if any(re.fullmatch(p.replace("*", ".*"), st) for p in patterns)}
    assert covered == inventories


def test_the_builders_read_fields_the_mappings_give() -> None:
    mappings = load_mappings()
    jamf = {o.name for o in mappings["mdm:jamf:mobiledevice"].outputs}
    assert {"device_id", "platform", "ip", "mac"} <= jamf
    for sourcetype in ("mdm:amapi:device", "mdm:intune:device"):
        assert {"device_id", "platform", "user", "mac"} <= {o.name for o in mappings[sourcetype].outputs}
    for sourcetype in ("bro:dhcp:json", "suricata"):
        assert {"ip", "mac", "lease_time"} <= {o.name for o in mappings[sourcetype].namespaced_outputs}
    intune = {o.name for o in mappings["mdm:intune:app"].outputs}
    assert {"app_id", "platform"} <= intune


def test_the_ip_sources_macro_ships_matching_nothing_with_the_inventory_fields() -> None:
    definition = read_conf(DEFAULT / "macros.conf")["mobile_ingress_ip_sources"]["definition"]
    sourcetypes = re.findall(r'sourcetype="([^"]+)"', definition)
    assert sourcetypes == ["mobile_ingress_ip_sources_not_configured"]
    assert not any(st.startswith("mobile_ingress") for st in load_mappings())
    assert definition.endswith("| fields _time ip mac device_id lease_time platform user")
    search = saved()["mobile_ingress_device_inventory_builder"]["search"]
    # multisearch, not append: no subsearch row or time limit cuts the raw events it reads
    assert "| multisearch [search `mobile_ingress_mdm_inventory`" in search
    assert "[`mobile_ingress_ip_sources`]" in search and "append [" not in search


def test_the_ip_hold_is_a_number_of_seconds() -> None:
    assert int(read_conf(DEFAULT / "macros.conf")["mobile_ingress_ip_hold_seconds"]["definition"]) > 0


def test_the_managed_apps_builder_merges_instead_of_replacing() -> None:
    """Jamf's input reads only the devices whose inventory changed: a builder that replaced the
    collection with the last day's sightings would drop every app of the others."""
    spl = expand(saved()["mobile_ingress_managed_apps_builder"]["search"], read_conf(DEFAULT / "macros.conf"))
    assert "| inputlookup append=true mobile_ingress_managed_apps_kv" in spl
    assert "| dedup platform app_id" in spl and 'relative_time(now(), "-" . 30 . "d")' in spl


# ------------------------------------------------------- device attribution: the builder's SPL


def test_the_dhcp_macro_reads_the_lease_sourcetypes_python_reads() -> None:
    definition = read_conf(DEFAULT / "macros.conf")["mobile_ingress_dhcp"]["definition"]
    sourcetypes = set(re.findall(r'sourcetype="([^"]+)"', definition))
    assert (
        sourcetypes == set(SIGHTING_SOURCETYPES) - {"mdm:jamf:mobiledevice"} == {"bro:dhcp:json", "suricata"}
    )


def test_the_builder_takes_a_macs_device_from_the_mdms_in_pythons_order() -> None:
    search = saved()["mobile_ingress_device_inventory_builder"]["search"]
    order = re.search(r'case\(kind=="mdm:jamf", 1, kind=="mdm:amapi", 2, kind=="mdm:intune", 3\)', search)
    assert order is not None and PRECEDENCE == ("mdm:jamf", "mdm:amapi", "mdm:intune")
    for sourcetype, kind in MDM_KINDS.items():
        assert f'sourcetype=="{sourcetype}", "{kind}"' in search


def test_the_builder_normalizes_macs_as_the_mapping_construct_does() -> None:
    assert f"mac={mac_spl('mac')}" in saved()["mobile_ingress_device_inventory_builder"]["search"]


def test_the_hold_seconds_are_pythons() -> None:
    hold = float(read_conf(DEFAULT / "macros.conf")["mobile_ingress_ip_hold_seconds"]["definition"])
    assert hold == HOLD_SECONDS


# ------------------------------------------------ device attribution in the executor, vs Python

BUILDER = "mobile_ingress_device_inventory_builder"
TIMES = ("first_seen", "last_seen", "lease_end")


def indexed(raws: list[cases.Raw]) -> list[IndexedEvent]:
    return [
        IndexedEvent(index=r.index, sourcetype=r.sourcetype, source="/var/log/x", host="sensor1", raw=r.raw,
                     indextime=float(r.indextime), time=r.time)
        for r in raws
    ]  # fmt: skip


def comparable(row: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    """A row of the KV store or of Python in one form: text cells, times to the millisecond, empty
    cells left out."""
    out = []
    for name in ATTRIBUTION_COLUMNS:
        value = row.get(name)
        if value is None or value == "":
            continue
        if name in TIMES:
            value = f"{float(str(value)):.3f}"
        elif isinstance(value, bool):
            value = "true" if value else "false"
        out.append((name, str(value)))
    return tuple(out)


def python_rows(raws: list[cases.Raw]) -> list[tuple[tuple[str, str], ...]]:
    mappings = load_mappings()
    attribution = Attribution()
    for raw in raws:
        result = normalize_line(raw.raw, mappings[raw.sourcetype], {"host": "sensor1"})
        assert not isinstance(result, Skip), result
        attribution.add(raw.sourcetype, result.fields)
    return sorted(comparable(row) for row in attribution.rows())


def run_hourly(
    raws: list[cases.Raw], hours: int, search: str | None = None
) -> list[tuple[tuple[str, str], ...]]:
    """The builder on its schedule (:20 past each hour) over the events as they get indexed; the
    collection it leaves."""
    with Splunk(app_dir=PACKAGE, seed=3) as sp:
        if search is not None:
            sp.savedsearches[BUILDER]["search"] = search
        sp.add_events(indexed(raws))
        start = int(cases.T0 // 3600 * 3600)
        for hour in range(hours):
            sp.run_saved_search(BUILDER, start + hour * 3600 + 20 * 60)
        return sorted(comparable(r) for r in sp.kvstore.all_records("mobile_ingress_device_inventory"))


@pytest.fixture(scope="module")
def hourly() -> list[tuple[tuple[str, str], ...]]:
    return run_hourly(cases.hard_cases(), 50)


def test_run_hourly_the_builder_holds_the_rows_python_attributes_from_the_same_events(
    hourly: list[tuple[tuple[str, str], ...]],
) -> None:
    """Every hard case (tests/normalize/attribution_cases.py): renewals, a gap, a lease cut at the
    next holder's, MDM precedence, an ambiguous MAC, a private MAC, an unmanaged laptop, Jamf's
    sightings, records indexed hours after their time; merged run after run."""
    assert hourly == python_rows(cases.hard_cases())
    spans = [dict(r) for r in hourly if "ip" in dict(r)]
    assert {s.get("mac_randomized") for s in spans} == {"true", "false"}
    assert any(s.get("mac_devices") == "2" for s in spans) and any("device_id" not in s for s in spans)


def test_a_builder_that_merged_a_macs_spans_across_the_gap_would_differ(
    hourly: list[tuple[tuple[str, str], ...]],
) -> None:
    search = saved()[BUILDER]["search"].replace("first_seen > reach", "first_seen > reach + 86400")
    merged = run_hourly(cases.hard_cases(), 50, search)
    assert merged != hourly and len(merged) < len(hourly)


def test_the_ip_sources_macro_adds_other_address_sources() -> None:
    """A VPN naming the device, a NAC naming the MAC in its own form: both give spans, the NAC's
    attributed through the MDM that reports the MAC."""
    vpn = {"time": cases.T0 + 100, "assigned": "100.64.0.7", "device": "vpn-device-7", "os": "iOS"}
    nac = {"time": cases.T0 + 200, "assigned": "10.60.0.9", "station": "3C-28-6D-00-00-01", "session": 600}
    with Splunk(app_dir=PACKAGE, seed=4) as sp:
        sp.add_props("test:vpn", {"KV_MODE": "json", "TIME_PREFIX": '"time"\\s*:\\s*', "TIME_FORMAT": "%s"})
        sp.set_macro(
            "mobile_ingress_ip_sources",
            'search index=netops sourcetype="test:vpn" | eval ip=assigned, device_id=device,'
            " mac=station, lease_time=session, platform=lower(os)"
            " | fields _time ip mac device_id lease_time platform user",
        )
        raws = [cases.amapi_device(cases.T0 + 60, cases.D1, cases.MAC1, "u1", lag=60)]
        events = indexed(raws) + [
            IndexedEvent(index="netops", sourcetype="test:vpn", source="vpn", host="vpn1", raw=json.dumps(r),
                         indextime=r["time"] + 30, time=r["time"])
            for r in (vpn, nac)
        ]  # fmt: skip
        sp.add_events(events)
        sp.run_saved_search(BUILDER, int(cases.T0 // 3600 * 3600) + 20 * 60)
        rows = {r["ip"]: r for r in sp.kvstore.all_records("mobile_ingress_device_inventory") if r.get("ip")}
    assert (rows["100.64.0.7"]["device_id"], rows["100.64.0.7"]["kind"]) == ("vpn-device-7", "sighting")
    assert float(rows["100.64.0.7"]["last_seen"]) == cases.T0 + 100 + HOLD_SECONDS
    assert (rows["10.60.0.9"]["device_id"], rows["10.60.0.9"]["mac"]) == (cases.D1, cases.MAC1)
    assert (rows["10.60.0.9"]["kind"], float(rows["10.60.0.9"]["last_seen"])) == ("lease", cases.T0 + 800)


# ---------------------------------------------- issue 14's proof on a real capture, in Splunk

WFETCH = ROOT / "tests" / "data" / "real" / "zeek-docs" / "wfetch"
WFETCH_DEVICE = "5b1c2a44-7d3e-4f0a-9c61-0e2f8a9b4d37"  # its Intune record, with its client's MAC
DOWNLOAD = 1596820191.969902  # files.log's ts of wfetch.exe (2020-08-07T17:09:51Z)
RUN = 1596820800  # 17:20, when the builder and the correlation search run


def wfetch_events(dhcp: bool = True) -> list[IndexedEvent]:
    """The real Zeek logs of a download (zeek-docs), the dhcp.log and the Intune record that name its
    client (written in their sources' shapes), and a file the device writes 3 s after the download;
    each indexed a minute after its time, the Intune record when its input collected it."""
    planted = {
        "schema_version": "1.0", "vendor": "ExampleMTD", "product": "Mobile Sensor",
        "event_id": "planted-1", "event_type": "file.create", "timestamp": "2020-08-07T17:09:55.000Z",
        "device": {"id": WFETCH_DEVICE, "platform": "android"}, "app": {"id": "com.example.sideloaded"},
        "file": {"path": "/data/data/com.example.sideloaded/cache/update.apk", "size": 179272},
    }  # fmt: skip
    sources = [
        ("netflow", "bro:http:json", WFETCH / "http.json", DOWNLOAD + 60),
        ("netflow", "bro:files:json", WFETCH / "files.json", DOWNLOAD + 60),
        ("mobile", "mdm:intune:device", WFETCH / "attribution" / "mdm_intune_device.json", 1596814200.0),
    ]
    if dhcp:
        sources.append(("netflow", "bro:dhcp:json", WFETCH / "attribution" / "dhcp.json", 1596812460.0))
    events = [
        IndexedEvent(index=index, sourcetype=sourcetype, source=str(path), host="sensor1", raw=line,
                     indextime=indextime)
        for index, sourcetype, path, indextime in sources
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]  # fmt: skip
    events.append(
        IndexedEvent(index="mobile", sourcetype="mobile:edr:telemetry", source="http:mobile_edr", host="hec",
                     raw=json.dumps(planted), indextime=DOWNLOAD + 63)
    )  # fmt: skip
    return events


def run_on_capture(events: list[IndexedEvent]) -> tuple[list[dict[str, Any]], Any]:
    """The builder, then the correlation search, at RUN: the inventory's spans and the results."""
    with Splunk(app_dir=PACKAGE, seed=5) as sp:
        sp.set_macro("mobile_ingress_baseline_warmup_days", "0")
        sp.add_events(events)
        sp.run_saved_search(BUILDER, RUN)
        spans = [r for r in sp.kvstore.all_records("mobile_ingress_device_inventory") if r.get("ip")]
        correlation = next(
            n for n, st in sp.savedsearches.items() if st.get("action.correlationsearch.enabled") == "1"
        )
        return spans, sp.run_saved_search(correlation, RUN)


def test_in_splunk_the_real_download_resolves_to_the_device_and_the_finding_has_zeeks_url() -> None:
    spans, result = run_on_capture(wfetch_events())
    assert [(s["ip"], s["device_id"], s["mac"]) for s in spans] == [
        ("192.168.4.37", WFETCH_DEVICE, "3c:28:6d:a1:05:37")
    ]
    (finding,) = result.rows
    assert (finding["analytic_id"], finding["device_id"]) == ("AN1848", WFETCH_DEVICE)
    request = json.loads((WFETCH / "http.json").read_text(encoding="utf-8"))
    assert json.loads((WFETCH / "files.json").read_text(encoding="utf-8"))["fuid"] in request["resp_fuids"]
    assert finding["url"] == f"http://{request['host']}{request['uri']}"


def test_in_splunk_without_the_dhcp_log_the_download_stays_unresolved_and_finds_nothing() -> None:
    spans, result = run_on_capture(wfetch_events(dhcp=False))
    assert spans == [] and result.rows == []
    assert any("unresolved device (no inventory row): 1" in m.text for m in result.messages)
