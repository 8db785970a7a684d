"""The lookup builders (detections/*_builder.yml): saved searches that write the contract's
mobile_ingress_managed_apps and mobile_ingress_device_inventory from the MDM inventories, the MDM
role map they read, and the macros that say where their data is. Static checks over the
rendered confs; the replays in tests/replay run them in the offline executor."""

from __future__ import annotations

import csv
import re

import pytest

from mobile_ingress.engine.lookups import COLUMNS, ROLES
from mobile_ingress.normalize import load_mappings

from .test_knowledge_objects import (
    DEFAULT,
    LOOKUPS,
    commands_of,
    expand,
    read_conf,
    render_detections,
    saved,
)

BUILDERS = {
    "mobile_ingress_managed_apps_builder": "managed_apps",
    "mobile_ingress_device_inventory_builder": "device_inventory",
}
ROLE_MAP = LOOKUPS / "mobile_ingress_mdm_role_map.csv"
# Columns a builder keeps for itself after the contract's (the engine ignores other columns).
BOOKKEEPING = {"managed_apps": ["last_seen"]}


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
    assert {"device_id", "platform", "ip"} <= jamf
    intune = {o.name for o in mappings["mdm:intune:app"].outputs}
    assert {"app_id", "platform"} <= intune


def test_the_ip_sources_macro_ships_matching_nothing_with_the_inventory_fields() -> None:
    definition = read_conf(DEFAULT / "macros.conf")["mobile_ingress_ip_sources"]["definition"]
    sourcetypes = re.findall(r'sourcetype="([^"]+)"', definition)
    assert sourcetypes == ["mobile_ingress_ip_sources_not_configured"]
    assert not any(st.startswith("mobile_ingress") for st in load_mappings())
    assert definition.endswith("| fields _time device_id platform ip user")
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
    assert "| dedup platform app_id" in spl and "relative_time(now(), \"-\" . 30 . \"d\")" in spl
