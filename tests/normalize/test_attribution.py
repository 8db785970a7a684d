"""Device attribution (issue 14): the lease mappings (Zeek dhcp.log, Suricata EVE dhcp) on real and
schema-shaped records, the MAC construct, and the Python attribution's rules (normalize/
attribution.py): lease spans never merged across a gap, cut at the next holder's lease, a MAC's
device from the first MDM that reports it, and why a span names no device."""

from __future__ import annotations

import json
from typing import Any

import pytest
import zeek_tsv_to_json  # tools/ (pytest's pythonpath)

from mobile_ingress.normalize import Normalized, apply
from mobile_ingress.normalize.attribution import Attribution, locally_administered
from mobile_ingress.normalize.expr import Call, Field, Func, evaluate, mac_address, to_spl
from mobile_ingress.normalize.loader import _Where, parse_expr
from mobile_ingress.normalize.model import MappingError
from mobile_ingress.normalize.render import props_settings

from . import attribution_cases as cases
from . import spl
from .support import ROOT, mappings

REAL = ROOT / "tests" / "data" / "real"


def fields_of(sourcetype: str, record: dict[str, Any]) -> dict[str, object]:
    result = apply(mappings()[sourcetype], record, {"host": "sensor"})
    assert isinstance(result, Normalized), result
    return result.fields


def zeek_docs_exchange() -> dict[str, Any]:
    """Zeek's own dhcp.log entry of a DORA exchange (zeek-docs logs/dhcp.rst)."""
    return json.loads((REAL / "zeek-docs" / "dhcp" / "dhcp.json").read_text(encoding="utf-8"))


def btest(name: str) -> dict[str, Any]:
    (record,) = zeek_tsv_to_json.convert(
        (REAL / "zeek-btest" / name).read_text(encoding="utf-8").splitlines()
    )
    return record


# ------------------------------------------------------------------------------- the MAC construct


@pytest.mark.parametrize(
    "text",
    ["AA-BB-CC-DD-EE-0F", "aabb.ccdd.ee0f", "AABBCCDDEE0F", "aa:bb:cc:dd:ee:0f", "Aa:bB:cC:Dd:eE:0f"],
)
def test_a_mac_in_any_common_form_becomes_colon_separated_lower_case(text: str) -> None:
    assert mac_address(text) == "aa:bb:cc:dd:ee:0f"


@pytest.mark.parametrize("text", ["aa:bb:cc:dd:ee", "gg:bb:cc:dd:ee:ff", "aabbccddeeff00", "", "a b c d e f"])
def test_a_text_that_is_no_mac_gives_none(text: str) -> None:
    assert mac_address(text) is None


def test_the_mac_construct_means_the_same_in_spl() -> None:
    expr = Call(Func.MAC, (Field("m"),))
    for value in ("AA-BB-CC-DD-EE-0F", "aabb.ccdd.ee0f", "AABBCCDDEE0F", "aa:bb:cc", "zz:zz:zz:zz:zz:zz"):
        python = evaluate(expr, {"m": value})
        splunk = spl.run_stanza({"EVAL-out": to_spl(expr)}, {"m": value}, "h")["out"]
        assert spl.as_text(python) == spl.as_text(splunk), value


def test_the_mac_construct_refuses_a_multivalue_field() -> None:
    with pytest.raises(MappingError, match="multivalue"):
        parse_expr({"mac": "macs{}"}, _Where("t.yml", "mac"))


def test_if_contains_takes_a_plain_word_only() -> None:
    parse_expr({"if_contains": {"field": "t{}", "value": "ACK", "then": "a"}}, _Where("t.yml", "x"))
    with pytest.raises(MappingError, match="expected a word"):
        parse_expr({"if_contains": {"field": "t{}", "value": "A.K", "then": "a"}}, _Where("t.yml", "x"))


def test_the_mdm_device_mappings_normalize_the_mac_each_vendor_writes() -> None:
    intune = cases.intune_device(cases.T0, "x", "F01898000002", "iOS", "u")  # Intune: 12 hex digits
    amapi = cases.amapi_device(cases.T0, "d", "7C:11:11:11:11:11", "u")
    jamf = cases.jamf_device(cases.T0, "u", "C4:84:66:92:78:00", "10.0.0.1")
    macs = [fields_of(r.sourcetype, json.loads(r.raw))["mac"] for r in (intune, amapi, jamf)]
    assert macs == ["f0:18:98:00:00:02", "7c:11:11:11:11:11", "c4:84:66:92:78:00"]


def test_locally_administered_is_the_second_bit_of_the_first_octet() -> None:
    assert [
        locally_administered(m) for m in ("a6:1f:00:00:00:00", "02:00:00:00:00:00", "3c:28:6d:00:00:00")
    ] == [
        True,
        True,
        False,
    ]


# ------------------------------------------------------------------------------ Zeek dhcp.log


def test_a_real_zeek_exchange_with_an_ack_is_a_lease_of_its_assigned_address() -> None:
    fields = fields_of("bro:dhcp:json", zeek_docs_exchange())
    assert (fields["ip"], fields["mac"], fields["lease_time"]) == (
        "192.168.4.152",
        "3c:58:c2:2f:91:21",
        86400,
    )
    assert fields["_time"] == "2020-10-02T04:14:39.135304Z"


def test_the_same_exchange_without_its_ack_leases_nothing() -> None:
    record = {**zeek_docs_exchange(), "msg_types": ["DISCOVER", "OFFER"]}
    assert "ip" not in fields_of("bro:dhcp:json", record)


def test_zeeks_renewal_log_of_an_ack_alone_is_a_lease() -> None:
    """Zeek 3's baseline of an exchange it saw only the ACK of (btest dhcp-ack-msg-types)."""
    fields = fields_of("bro:dhcp:json", btest("dhcp_ack_msg_types.log"))
    assert (fields["ip"], fields["mac"], fields["lease_time"]) == ("192.168.0.10", "00:0a:28:00:fa:42", 3600)


def test_a_zeek_2_dhcp_log_of_acks_gives_its_assigned_ip() -> None:
    """Before Zeek 3.0, dhcp.log logged ACKs only, the address as assigned_ip (btest baseline)."""
    fields = fields_of("bro:dhcp:json", btest("dhcp_all_msg_types_2.x.log"))
    assert (fields["ip"], fields["mac"], fields["lease_time"]) == ("128.2.6.189", "90:b1:1c:99:49:29", 900)


def test_the_zeek_dhcp_props_give_the_lease_fields_under_the_apps_prefix_only() -> None:
    settings = dict(props_settings(mappings()["bro:dhcp:json"], mappings()))
    given = {key for key in settings if key.startswith(("EVAL-", "FIELDALIAS-"))}
    assert given == {"EVAL-mobile_ingress_ip", "EVAL-mobile_ingress_mac", "EVAL-mobile_ingress_lease_time"}


def test_the_rendered_props_give_the_real_exchange_what_python_gives() -> None:
    stanza = dict(props_settings(mappings()["bro:dhcp:json"], mappings()))
    splunk = spl.run_stanza(stanza, zeek_docs_exchange(), "sensor", "bro:dhcp:json")
    python = fields_of("bro:dhcp:json", zeek_docs_exchange())
    for name in ("ip", "mac", "lease_time"):
        assert spl.as_text(splunk[f"mobile_ingress_{name}"]) == spl.as_text(python[name]), name


# ----------------------------------------------------------------------------- Suricata EVE dhcp


def eve(raw: cases.Raw) -> dict[str, object]:
    return fields_of("suricata", json.loads(raw.raw))


def test_a_suricata_ack_is_a_lease_of_twice_its_renewal_time_in_the_default_mode() -> None:
    fields = eve(cases.suricata_dhcp(cases.T0, "F0:18:98:00:00:02", "10.40.50.43", renewal=1800))
    assert (fields["ip"], fields["mac"], fields["lease_time"]) == ("10.40.50.43", "f0:18:98:00:00:02", 3600)
    assert "activity" not in fields


def test_extended_eve_gives_the_lease_time_itself() -> None:
    fields = eve(cases.suricata_dhcp(cases.T0, "f0:18:98:00:00:02", "10.40.50.43", extended_lease=7200))
    assert fields["lease_time"] == 7200


def test_an_offer_in_extended_eve_is_no_lease() -> None:
    assert "ip" not in eve(
        cases.suricata_dhcp(cases.T0, "f0:18:98:00:00:02", "10.40.50.4", 7200, kind="offer")
    )


def test_the_ack_of_an_inform_assigns_no_address() -> None:
    assert "ip" not in eve(cases.suricata_dhcp(cases.T0, "f0:18:98:00:00:02", "0.0.0.0"))


def test_other_eve_events_get_no_lease_fields() -> None:
    fields = eve(cases.Raw("netids", "suricata", json.dumps({"timestamp": "2026-11-24T00:00:00.000000+0000",
        "event_type": "flow", "src_ip": "10.40.50.43", "dest_ip": "1.1.1.1"}), 0, 0))  # fmt: skip
    assert not {"ip", "mac", "lease_time"} & set(fields)


# ------------------------------------------------------------------------------ the attribution


def attributed(events: list[cases.Raw]) -> list[dict[str, object]]:
    attribution = Attribution()
    for raw in events:
        attribution.add(raw.sourcetype, fields_of(raw.sourcetype, json.loads(raw.raw)))
    return attribution.rows()


def spans(rows: list[dict[str, object]], ip: str) -> list[dict[str, object]]:
    return [r for r in rows if r["ip"] == ip]


def test_renewals_before_the_lease_ends_make_one_span_and_a_later_lease_a_new_one() -> None:
    rows = attributed(cases.hard_cases())
    first, second = spans(rows, "10.20.30.41")
    assert (first["first_seen"], first["last_seen"]) == (cases.T0 + 100, cases.T0 + 100 + 3600 + 3600)
    assert (second["first_seen"], second["last_seen"]) == (cases.T0 + 20000, cases.T0 + 23600)
    assert first["kind"] == second["kind"] == "lease" and first["device_id"] == cases.D1


def test_a_span_merged_across_the_gap_would_be_one_row() -> None:
    """The check above can fail: a renewal inside the first lease keeps one span."""
    rows = attributed(
        [
            cases.zeek_dhcp(cases.T0, cases.MAC1, "10.9.9.9"),
            cases.zeek_dhcp(cases.T0 + 3600, cases.MAC1, "10.9.9.9"),
        ]
    )
    assert len(spans(rows, "10.9.9.9")) == 1


def test_a_lease_span_ends_where_the_address_is_leased_to_another_mac() -> None:
    rows = attributed(cases.hard_cases())
    d2, stranger = spans(rows, "10.40.50.43")
    assert (d2["device_id"], d2["first_seen"], d2["last_seen"]) == (cases.D2, cases.T0 + 100, cases.T0 + 1000)
    assert d2["lease_end"] == cases.T0 + 500 + 3600  # Jamf's report of the address merged into the lease
    assert (stranger["mac"], stranger["first_seen"]) == (cases.STRANGER, cases.T0 + 1000)


def test_a_macs_device_comes_from_the_first_mdm_that_reports_it() -> None:
    rows = attributed(cases.hard_cases())
    (d1,) = [r for r in spans(rows, "10.20.30.41") if r["first_seen"] == cases.T0 + 100]
    assert (d1["device_id"], d1["platform"], d1["mac_devices"]) == (cases.D1, "android", 1)
    # the latest AMAPI record's user, not Intune's (its record of D1 has Intune's own id)
    assert d1["user"] == "enterprises/LC04abcd12/users/200"
    (d5,) = spans(rows, "10.40.50.42")
    assert (d5["device_id"], d5["user"], d5["last_seen"]) == (
        cases.D5,
        "cy@contoso.example",
        cases.T0 + 700 + 7200,
    )


def test_a_mac_two_devices_of_one_mdm_report_names_neither() -> None:
    (row,) = spans(attributed(cases.hard_cases()), "10.40.50.41")
    assert (row["device_id"], row["mac_devices"], row["mac_randomized"]) == (None, 2, False)


def test_a_private_mac_no_mdm_reports_is_a_randomized_mac() -> None:
    (row,) = spans(attributed(cases.hard_cases()), "10.20.30.51")
    assert (row["device_id"], row["mac_devices"], row["mac_randomized"]) == (None, 0, True)


def test_a_mac_only_a_laptop_reports_is_an_unmanaged_device() -> None:
    """Intune's Windows laptop is no mobile device: its MAC names none, and it is no private MAC."""
    rows = attributed(cases.hard_cases())
    (row,) = spans(rows, "10.20.30.50")
    assert (row["device_id"], row["mac_devices"], row["mac_randomized"]) == (None, 0, False)
    assert not [r for r in rows if r["ip"] is None and r["mac"] == cases.LAPTOP]


def test_exchanges_without_a_lease_give_no_span() -> None:
    rows = attributed(cases.hard_cases())
    assert not spans(rows, "10.20.30.60") and not spans(rows, "10.40.50.44") and not spans(rows, "0.0.0.0")


def test_device_rows_hold_each_mdms_record_of_a_mac() -> None:
    rows = [r for r in attributed(cases.hard_cases()) if r["ip"] is None]
    assert sorted((r["kind"], r["device_id"]) for r in rows if r["mac"] == cases.MAC1) == [
        ("mdm:amapi", cases.D1),
        ("mdm:intune", cases.D1_INTUNE),
    ]
    (amapi,) = [r for r in rows if r["device_id"] == cases.D1]
    assert (amapi["first_seen"], amapi["last_seen"]) == (cases.T0 + 60, cases.T0 + 86400)


def test_an_address_jamf_reports_off_site_holds_for_the_hold_seconds() -> None:
    (row,) = spans(attributed(cases.hard_cases()), "192.0.2.9")
    assert (row["kind"], row["device_id"]) == ("sighting", cases.D2)
    assert row["last_seen"] == row["first_seen"] + 3600  # type: ignore[operator]
