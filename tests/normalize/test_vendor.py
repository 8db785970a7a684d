"""Coexistence with the vendor add-ons that own the CIM fields of the flow sourcetypes.

Splunk merges the props stanzas of every app for one sourcetype; for one class name (`EVAL-url`,
`FIELDALIAS-src`) the app that sorts first wins, so which definition applies would depend on the
app a search runs in. On the vendors' sourcetypes this app keeps to `mobile_ingress_*` names and
gives no eventtypes; `mobile_ingress_contract_fields` gives the contract names back in the
correlation searches."""

from __future__ import annotations

import pytest

from mobile_ingress.normalize import render as r
from mobile_ingress.normalize.model import CONTRACT_FIELDS
from tests.splunk.test_knowledge_objects import read_conf

from . import spl, spl_search
from .pipeline import HOST, macros, props
from .support import DEFAULT, mappings, sample_records

# The sourcetypes other add-ons configure: the Splunk Add-on for Zeek aka Bro (bro:<log>:json)
# and TA-Suricata (suricata, its only sourcetype).
VENDOR_SOURCETYPES = {
    "bro:conn:json": "Zeek",
    "bro:files:json": "Zeek",
    "bro:http:json": "Zeek",
    "suricata": "Suricata",
}
INDEX_TIME = {
    "SHOULD_LINEMERGE",
    "LINE_BREAKER",
    "TRUNCATE",
    "KV_MODE",
    "TIME_PREFIX",
    "TIME_FORMAT",
    "MAX_TIMESTAMP_LOOKAHEAD",
}


def unprefixed(stanza: dict[str, str]) -> list[str]:
    """Search-time classes or output fields of STANZA not named mobile_ingress_*."""
    bad = []
    for key, value in stanza.items():
        if key in INDEX_TIME:
            continue
        kind, _, name = key.partition("-")
        if kind not in ("EVAL", "FIELDALIAS") or not name.startswith("mobile_ingress_"):
            bad.append(key)
        if kind == "FIELDALIAS":
            words = value.split()
            bad += [f"{key}: {target}" for target in words[2::3] if not target.startswith("mobile_ingress_")]
    return bad


@pytest.mark.parametrize("sourcetype", sorted(VENDOR_SOURCETYPES))
def test_a_vendor_sourcetype_is_mapped_with_its_cim_owner(sourcetype: str) -> None:
    owner = mappings()[sourcetype].cim_owner
    assert owner is not None and VENDOR_SOURCETYPES[sourcetype] in owner


@pytest.mark.parametrize("sourcetype", sorted(VENDOR_SOURCETYPES))
def test_no_class_or_field_of_a_vendor_sourcetype_lacks_the_prefix(sourcetype: str) -> None:
    assert unprefixed(props()[sourcetype]) == []


def test_the_prefix_check_catches_a_vendor_class_name() -> None:
    stanza = dict(props()["bro:http:json"])
    assert unprefixed({**stanza, "EVAL-url": "'uri'"}) == ["EVAL-url"]
    assert unprefixed({**stanza, "FIELDALIAS-mobile_ingress_x": "id.orig_h AS src"}) == [
        "FIELDALIAS-mobile_ingress_x: src"
    ]


def test_sourcetypes_of_our_own_keep_their_cim_fields() -> None:
    # The negative twin: the EDR and MDM sourcetypes are ours, CIM names and all.
    assert unprefixed(props()["mobile:edr:telemetry"]) != []
    assert mappings()["mobile:edr:telemetry"].cim_owner is None


@pytest.mark.parametrize("sourcetype", sorted(VENDOR_SOURCETYPES))
def test_a_vendor_sourcetype_defines_exactly_its_contract_lease_and_join_fields(sourcetype: str) -> None:
    mapping = mappings()[sourcetype]
    stanza = props()[sourcetype]
    defined = {k.partition("-")[2] for k in stanza if k not in INDEX_TIME}
    # the contract fields and the lease fields of device attribution (`ip`, `mac`, `lease_time`)
    contract = {r.namespaced(o.name) for o in mapping.namespaced_outputs}
    assert contract <= defined
    assert {d for d in defined - contract if not d.startswith("mobile_ingress_join_")} == set()
    cim_only = {o.name for o in mapping.outputs} - set(CONTRACT_FIELDS)
    assert cim_only and not cim_only & {k.partition("-")[2] for k in stanza}


def test_vendor_sourcetypes_get_no_eventtypes_or_tags_from_us() -> None:
    searches = [s["search"] for s in read_conf(DEFAULT / "eventtypes.conf").values()]
    for sourcetype in VENDOR_SOURCETYPES:
        assert not any(f'sourcetype="{sourcetype}"' in search for search in searches), sourcetype
    assert any('sourcetype="mobile:edr:telemetry"' in search for search in searches)


def test_the_loader_refuses_cim_eventtypes_on_a_vendor_owned_mapping(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from mobile_ingress.normalize import MappingError, load_mapping

    path = tmp_path / "test_json.yml"
    path.write_text(
        'sourcetype: "test:json"\ntitle: T\norigin: o\nonboarding: "[x]"\n'
        "timestamp: {field: ts, format: epoch}\ncim_owner: A vendor add-on\nfields:\n  src_ip: a\n"
        "cim:\n  - {eventtype: mobile_ingress_t, data_set: Web.Web, tags: [web], description: d}\n",
        encoding="utf-8",
    )
    with pytest.raises(MappingError, match=r"test_json\.yml: cim: the CIM fields .* A vendor add-on's"):
        load_mapping(path)


# ------------------------------------------------------------------------- the contract macro


def test_the_contract_macro_renames_every_contract_field_vendor_props_write() -> None:
    written = set()
    for sourcetype in VENDOR_SOURCETYPES:
        written |= {k.partition("-")[2] for k in props()[sourcetype] if k not in INDEX_TIME}
    expected = sorted(n for n in CONTRACT_FIELDS if r.namespaced(n) in written)
    assignments = spl.parse_assignments(macros()[r.CONTRACT_MACRO].removeprefix("eval "))
    assert sorted(name for name, _ in assignments) == expected
    reads = set().union(*(spl.fields_of(node) for _, node in assignments))
    assert reads == {"sourcetype"} | set(expected) | {r.namespaced(n) for n in expected}


def _contract_row(sourcetype: str, record: dict[str, object], **vendor: str) -> spl_search.Row:
    """The event after props, with fields a vendor add-on sets, then the contract macro."""
    row = spl_search.row_of(spl.run_stanza(props()[sourcetype], record, HOST, sourcetype))
    row.update({name: [value] for name, value in vendor.items()})
    (row,) = spl_search.run(f"`{r.CONTRACT_MACRO}`", [row], macros())
    return row


def test_a_vendor_value_under_a_contract_name_never_reaches_the_engine() -> None:
    # The Splunk Add-on for Zeek may give files.log a url or dest of its own: the contract fields
    # of a vendor-owned event are ours, absent where our mapping gives none (then the join fills).
    record = sample_records("bro:files:json")[0]
    row = _contract_row("bro:files:json", record, url="/v2/payload/stage2.apk", dest="x", activity="y")
    assert "url" not in row and "dest" not in row and row["activity"] == ["retrieval"]


def test_the_contract_macro_leaves_our_own_sourcetypes_alone() -> None:
    record = sample_records("mobile:edr:telemetry")[0]
    row = _contract_row("mobile:edr:telemetry", record)
    assert row["activity"] == ["retrieval"] and row["dest"] == ["files.quickshare-cdn.example"]
    assert "mobile_ingress_activity" not in row
