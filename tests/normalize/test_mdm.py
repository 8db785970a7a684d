"""The MDM sourcetypes (docs/inputs.md, docs/data.md): the samples, in the shapes the add-on's
inputs write, normalized by `mobile-ingress detect --raw` into the contract's fields; the time of
each record kind; malformed records skipped and counted; and an Android Management API usage-log
retrieval chained to an EDR file creation gives the finding of its normalized twin."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from mobile_ingress.engine.timeparse import parse_time
from mobile_ingress.normalize import Skip, apply
from mobile_ingress.normalize.executor import props_time
from mobile_ingress.normalize.expr import resolve
from tests.inputs import fake_google, fake_graph, fake_jamf, records
from tests.raw_support import assert_cim_only, detect, normalized

from .support import SAMPLES, mappings, sample_path, sample_records

MDM = sorted(st for st in mappings() if st.startswith("mdm:"))
INVENTORIES = [st for st in MDM if st != "mdm:amapi:usagelog"]
USAGE = SAMPLES / "mdm_amapi_usagelog.json"
DEVICE = "enterprises/LC04abcd12/devices/3a00000000000001"
USER = "enterprises/LC04abcd12/users/1000000001"
APP = "com.example.sideloaded1"
# The field each record kind's time comes from, as the inputs set it (docs/inputs.md).
TIME_OF_KIND = {
    "managedDevice": "lastSyncDateTime",
    "mobileApp": "mobile_ingress.collected_at",  # a catalogue snapshot (the builder reads the last day)
    "detectedApp": "mobile_ingress.collected_at",
    "auditEvent": "activityDateTime",
    "device": "lastStatusReportTime",
    "policy": "mobile_ingress.collected_at",
    "usagelog": "eventTime",
    "mobiledevice": "general.lastInventoryUpdateDate",
}


@pytest.fixture
def lookups(tmp_path: Path) -> Path:
    folder = tmp_path / "lookups"  # empty: the shipped lookups apply
    folder.mkdir()
    return folder


def fields(sourcetype: str, index: int) -> dict[str, object]:
    result = apply(mappings()[sourcetype], sample_records(sourcetype)[index], {"host": "sh-1"})
    assert not isinstance(result, Skip), result
    return result.fields


def usage_line(event_type: str) -> str:
    return next(line for line in USAGE.read_text().splitlines() if f'"eventType":"{event_type}"' in line)


def epoch(text: str) -> float:
    return parse_time(text)


# ------------------------------------------------------------------ usage logs: contract events


def test_amapi_usage_logs_give_one_retrieval_and_two_lock_states(lookups: Path) -> None:
    events = normalized(lookups, f"mdm:amapi:usagelog={USAGE}")
    assert [(e["activity"], e.get("device_locked")) for e in events] == [
        ("retrieval", None),
        ("state", True),
        ("state", False),
    ]


def test_a_dns_lookup_by_an_app_is_no_retrieval(lookups: Path, tmp_path: Path) -> None:
    path = tmp_path / "dns.json"
    path.write_text(usage_line("DNS") + "\n")
    assert normalized(lookups, f"mdm:amapi:usagelog={path}") == []


def test_a_connection_takes_the_host_name_of_the_dns_lookup_that_returned_its_address(lookups: Path) -> None:
    connect = normalized(lookups, f"mdm:amapi:usagelog={USAGE}")[0]
    assert connect == {
        "_time": epoch("2026-11-28T07:51:00Z"),  # props read whole seconds (docs/data.md)
        "activity": "retrieval",
        "platform": "android",
        "device_id": DEVICE,
        "app_id": APP,
        "user": USER,
        "event_id": "1000",
        "dest": "payload.example.net",
        "dest_corroborated": True,
        "dest_ip": "203.0.113.7",
        "dest_port": 443,
    }
    assert "bytes_in" not in connect  # Android logs no bytes: unknown, never 0


def test_a_connection_no_dns_lookup_answered_keeps_its_address(lookups: Path, tmp_path: Path) -> None:
    path = tmp_path / "connect.json"
    path.write_text(usage_line("CONNECT") + "\n")
    (connect,) = normalized(lookups, f"mdm:amapi:usagelog={path}")
    assert (connect["dest"], connect["dest_ip"]) == ("203.0.113.7", "203.0.113.7")
    assert "dest_corroborated" not in connect


def test_keyguard_events_are_states_that_lock_and_unlock_the_device(lookups: Path) -> None:
    secured, dismissed = normalized(lookups, f"mdm:amapi:usagelog={USAGE}")[1:]
    assert secured == {
        "_time": epoch("2026-11-28T07:52:02Z"),
        "activity": "state",
        "platform": "android",
        "device_id": DEVICE,
        "user": USER,
        "event_id": "1002",
        "device_locked": True,
    }
    assert dismissed["device_locked"] is False and dismissed["event_id"] == "1003"


def test_a_connection_without_a_package_is_no_retrieval(lookups: Path, tmp_path: Path) -> None:
    record = json.loads(usage_line("CONNECT"))
    del record["connectEvent"]["packageName"]
    path = tmp_path / "usage.json"
    path.write_text(json.dumps(record) + "\n" + usage_line("CONNECT") + "\n")
    events = normalized(lookups, f"mdm:amapi:usagelog={path}")
    assert [e["event_id"] for e in events] == ["1000"]  # only the one with its app


def test_an_app_process_start_carries_no_activity(capsys: Any, lookups: Path) -> None:
    code, _, err = detect(capsys, "--lookups", str(lookups), "--raw", f"mdm:amapi:usagelog={USAGE}")
    assert code == 0 and f"raw mdm:amapi:usagelog {USAGE}: 5 lines, 3 detection events, 2 CIM only" in err


def test_a_connection_is_cim_network_traffic_and_a_dns_lookup_is_not() -> None:
    connect = fields("mdm:amapi:usagelog", 1)
    assert {k: connect[k] for k in ("action", "transport", "src", "dvc", "app", "dest")} == {
        "action": "allowed",
        "transport": "tcp",
        "src": DEVICE,
        "dvc": DEVICE,
        "app": APP,
        "dest": "203.0.113.7",
    }
    dns = fields("mdm:amapi:usagelog", 0)
    assert "transport" not in dns and "action" not in dns


# ------------------------------------------------------------------ inventories: CIM only


@pytest.mark.parametrize("sourcetype", INVENTORIES)
def test_an_inventory_yields_no_contract_event(sourcetype: str, lookups: Path, capsys: Any) -> None:
    path = sample_path(sourcetype)
    assert_cim_only(lookups, sourcetype, path, capsys)


def test_intune_devices_give_platform_identity_and_os() -> None:
    rows = [fields("mdm:intune:device", i) for i in range(3)]
    assert [(r["platform"], r["os"]) for r in rows] == [
        ("android", "Android 14"),
        ("ios", "iOS 17.5.1"),
        ("ios", "iPadOS 17.6"),
    ]
    first = rows[0]
    assert first["device_id"] == sample_records("mdm:intune:device")[0]["id"]
    assert first["user"] == "user1@contoso.example" and first["dest"] == "Pixel-8-FLD-0142"


def test_intune_apps_give_package_or_bundle_id_and_platform() -> None:
    android, ios, detected = (fields("mdm:intune:app", i) for i in range(3))
    assert (android["app_id"], android["platform"], android["app_kind"]) == (
        "com.contoso.fieldsync",
        "android",
        "mobileApp",
    )
    assert (ios["app_id"], ios["platform"]) == ("com.contoso.reader", "ios")
    # Graph gives a detected app no package id: it names an app, it identifies none.
    assert "app_id" not in detected and detected["platform"] == "android"


def test_an_unknown_intune_app_type_has_no_platform() -> None:
    record = dict(sample_records("mdm:intune:app")[0], **{"@odata.type": "#microsoft.graph.win32LobApp"})
    result = apply(mappings()["mdm:intune:app"], record)
    assert not isinstance(result, Skip) and "platform" not in result.fields


def test_intune_audit_events_are_cim_changes() -> None:
    assign, _, failed = (fields("mdm:intune:audit", i) for i in range(3))
    assert {k: assign[k] for k in ("action", "command", "object", "object_category", "status", "user")} == {
        "action": "modified",
        "command": "Assign MobileApp",
        "object": "Contoso Field Sync",
        "object_category": "MobileApp",
        "status": "success",
        "user": "admin@contoso.example",
    }
    assert (failed["action"], failed["status"]) == ("deleted", "failure")


def test_amapi_devices_and_policies_give_the_resource_names() -> None:
    device = fields("mdm:amapi:device", 0)
    assert (device["device_id"], device["platform"], device["os"]) == (DEVICE, "android", "Android 14")
    policy = fields("mdm:amapi:policy", 0)
    assert (policy["policy"], policy["policy_version"]) == ("enterprises/LC04abcd12/policies/p1", "11")


def test_jamf_devices_give_udid_ip_and_ios() -> None:
    record = sample_records("mdm:jamf:mobiledevice")[0]
    jamf = fields("mdm:jamf:mobiledevice", 0)
    general = record["general"]
    assert isinstance(general, dict)
    assert (jamf["device_id"], jamf["ip"], jamf["platform"], jamf["managed"]) == (
        general["udid"],
        general["ipAddress"],
        "ios",
        "true",
    )


# ----------------------------------- records shaped by the vendors' published specifications
# Each record below is what an input wrote from a stand-in whose answers are checked against the
# vendor's specification (tests/inputs/test_vendor_schemas.py, tests/data/vendor).


def fields_of(sourcetype: str, event: dict[str, Any]) -> dict[str, object]:
    result = apply(mappings()[sourcetype], event, {"host": "sh-1"})
    assert not isinstance(result, Skip), result
    return result.fields


def test_a_graph_v1_audit_resource_gives_its_auditresourcetype_as_the_object_category() -> None:
    (event,) = records.intune_events("auditEvents", audit=[fake_graph.audit_event(1, "2026-11-28T10:00:00Z")])
    assert "type" not in event["resources"][0]  # v1.0's auditResource has no `type`
    assert fields_of("mdm:intune:audit", event)["object_category"] == "MobileApp"


def test_a_chrome_os_detected_app_has_no_platform() -> None:
    chrome_os = {**fake_graph.detected_app(1), "platform": "chromeOS"}
    (event,) = records.intune_events("detectedApps", detected=[chrome_os])
    assert "platform" not in fields_of("mdm:intune:app", event)


def test_an_android_work_profile_detected_app_is_android() -> None:
    work_profile = {**fake_graph.detected_app(1), "platform": "androidWorkProfile"}
    (event,) = records.intune_events("detectedApps", detected=[work_profile])
    assert fields_of("mdm:intune:app", event)["platform"] == "android"


def test_each_app_type_gives_the_version_where_graph_keeps_it() -> None:
    # androidLobApp (versionName), iosLobApp (versionNumber), managedAndroidStoreApp (version),
    # iosStoreApp (no version at all).
    apps = [fake_graph.mobile_app(n) for n in (2, 3, 1, 4)]
    events = records.intune_events("mobileApps", apps=apps)
    versions = [fields_of("mdm:intune:app", e).get("app_version") for e in events]
    assert versions == ["2.2.1", "5.3", "3.1.0", None]


def test_a_managed_google_play_app_listed_by_graph_beta_is_an_android_app_with_its_package() -> None:
    events = records.intune_events("mobileApps", store_apps=[fake_graph.store_app(1)])
    (event,) = [e for e in events if e["mobile_ingress"].get("graph_version") == "beta"]
    found = fields_of("mdm:intune:app", event)
    assert (found["app_id"], found["platform"]) == ("com.contoso.play1", "android")
    assert found["app_kind"] == "mobileApp"  # the managed-apps builder reads it with the others


def test_a_jamf_device_gives_the_wifi_mac_of_its_hardware_section_in_lower_case() -> None:
    (event,) = records.jamf_events([fake_jamf.device(1)])
    assert event["hardware"]["wifiMacAddress"] == "F0:18:98:00:00:01"
    assert fields_of("mdm:jamf:mobiledevice", event)["mac"] == "f0:18:98:00:00:01"


def test_an_android_management_api_device_gives_its_wifi_mac() -> None:
    (event,) = records.amapi_device_events([fake_google.device(1)])
    assert fields_of("mdm:amapi:device", event)["mac"] == "3c:28:6d:00:00:01"


def test_an_intune_device_gives_its_wifi_mac_colon_separated_as_the_leases_write_it() -> None:
    # Intune writes twelve hex digits; the `mac` construct inserts the colons (device attribution
    # joins the DHCP leases' aa:bb:cc:dd:ee:ff to it).
    (event,) = records.intune_events("managedDevices", devices=[fake_graph.managed_device(1)])
    assert fields_of("mdm:intune:device", event)["mac"] == "a4:c3:f0:00:00:01"


def test_a_device_without_a_wifi_mac_gives_no_mac() -> None:
    device = fake_google.device(1)
    del device["networkInfo"]  # the policy does not enable networkInfo reporting
    (event,) = records.amapi_device_events([device])
    assert "mac" not in fields_of("mdm:amapi:device", event)


@pytest.mark.parametrize(("kind", "platform"), [("iPhone", "ios"), ("iPad", "ios"), ("AppleTV", None)])
def test_jamf_iphones_and_ipads_are_ios_and_apple_tvs_are_not(kind: str, platform: str | None) -> None:
    (event,) = records.jamf_events([fake_jamf.device(1, kind=kind)])
    assert fields_of("mdm:jamf:mobiledevice", event).get("platform") == platform


@pytest.mark.parametrize("device_type", ["watchOS", "visionOS"])
def test_jamf_watches_and_vision_devices_are_not_ios(device_type: str) -> None:
    (event,) = records.jamf_events([fake_jamf.device(1)])
    assert fields_of("mdm:jamf:mobiledevice", {**event, "deviceType": device_type}).get("platform") is None


# ------------------------------------------------------------------------------- timestamps


@pytest.mark.parametrize("sourcetype", MDM)
def test_each_record_takes_its_time_from_the_field_its_input_uses(sourcetype: str) -> None:
    for index, record in enumerate(sample_records(sourcetype)):
        meta = record["mobile_ingress"]
        assert isinstance(meta, dict)
        expected = resolve(record, TIME_OF_KIND[str(meta["kind"])])
        assert expected is not None
        # as the props' TIME_FORMAT reads it (whole seconds where it stops at the seconds)
        assert fields(sourcetype, index)["_time"] == props_time(expected, mappings()[sourcetype].timestamp)


def test_a_device_that_never_reported_takes_its_collection_time() -> None:
    record = dict(sample_records("mdm:amapi:device")[0])
    del record["lastStatusReportTime"]
    result = apply(mappings()["mdm:amapi:device"], record)
    assert not isinstance(result, Skip) and result.fields["_time"] == "2026-11-28T08:00:00.000Z"


def test_a_record_with_no_time_at_all_is_skipped() -> None:
    record = dict(sample_records("mdm:amapi:device")[0])
    del record["lastStatusReportTime"]
    del record["mobile_ingress"]
    result = apply(mappings()["mdm:amapi:device"], record)
    assert isinstance(result, Skip)
    assert result.reason == "missing timestamp (lastStatusReportTime or mobile_ingress.collected_at)"


# ---------------------------------------------------------------------------- malformed records

MALFORMED = [
    ('{"eventId":"2000","eventTime":"2026-11-28T07:51:30.000Z","eventType":"CONN', "not JSON"),
    ('["CONNECT"]', "not a JSON object"),
    ('{"eventId":"2001","eventType":"CONNECT","connectEvent":{"packageName":"x.y"}}', "missing timestamp"),
    ('{"eventId":"2002","eventTime":{"seconds":1},"eventType":"DNS"}', "missing timestamp"),
    ('{"eventId":"2003","eventTime":"2026-11-28T07:51:30Z","x":"' + "A" * 200_000 + '"}', "raw event longer"),
]


def test_malformed_usage_log_records_are_skipped_counted_and_the_good_ones_kept(
    lookups: Path, tmp_path: Path, capsys: Any
) -> None:
    good = USAGE.read_text().splitlines()
    lines = good[:2] + [bad for bad, _ in MALFORMED] + good[2:]
    path = tmp_path / "usage.json"
    path.write_text("\n".join(lines) + "\n")
    messages = tmp_path / "messages.txt"
    code, _, err = detect(
        capsys, "--lookups", str(lookups), "--messages", str(messages), "--raw", f"mdm:amapi:usagelog={path}"
    )
    assert code == 0
    kept = messages.read_text().splitlines()
    for number, (_, reason) in enumerate(MALFORMED, start=3):
        assert any(m.startswith(f"{path}:{number}: skipped: {reason}") for m in kept), (number, reason, kept)
    assert (
        f"raw mdm:amapi:usagelog {path}: {len(lines)} lines, 3 detection events, 2 CIM only, 5 skipped" in err
    )
    assert len(normalized(lookups, f"mdm:amapi:usagelog={path}")) == 3


def test_a_malformed_inventory_record_is_skipped_and_counted(
    lookups: Path, tmp_path: Path, capsys: Any
) -> None:
    good = sample_path("mdm:jamf:mobiledevice").read_text().splitlines()
    broken = json.loads(good[0])
    broken["general"] = "not an object"  # no lastInventoryUpdateDate to take a time from
    path = tmp_path / "jamf.json"
    path.write_text("\n".join([good[0], json.dumps(broken), good[1][:50], good[2]]) + "\n")
    code, _, err = detect(capsys, "--lookups", str(lookups), "--raw", f"mdm:jamf:mobiledevice={path}")
    assert code == 0
    assert f"raw mdm:jamf:mobiledevice {path}: 4 lines, 0 detection events, 2 CIM only, 2 skipped" in err
    assert f"{path}:2: skipped: missing timestamp" in err and f"{path}:3: skipped: not JSON" in err


# ------------------------------------------------------------ the chain, raw and normalized twin

EDR_FILE = {
    "schema_version": "1.0",
    "vendor": "ExampleMTD",
    "product": "Mobile Sensor",
    "event_id": "b2a0c6de-5f43-4e8e-9d1e-0c2f7a9d6e11",
    "event_type": "file.create",
    "timestamp": "2026-11-28T07:51:03.250Z",
    "device": {"id": DEVICE, "platform": "android", "user": USER},
    "app": {"id": APP},
    "file": {
        "path": f"/data/user/0/{APP}/cache/update.apk",
        "size": 482311,
        "sha256": "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae",
        "mime_type": "application/vnd.android.package-archive",
    },
}


def twin(file_size: int | None) -> list[dict[str, object]]:
    """The same events as normalized contract events."""
    file_create: dict[str, object] = {
        "_time": "2026-11-28T07:51:03.250Z",
        "activity": "file_create",
        "platform": "android",
        "device_id": DEVICE,
        "app_id": APP,
        "user": USER,
        "event_id": EDR_FILE["event_id"],
        "file_path": f"/data/user/0/{APP}/cache/update.apk",
        "file_hash": "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae",
        "file_type": "application/vnd.android.package-archive",
    }
    if file_size is not None:
        file_create["file_size"] = file_size
    common = {"platform": "android", "device_id": DEVICE, "user": USER}
    # The DNS lookup is no retrieval: it names the connection's destination. Times as props read
    # them, to the whole second.
    return [
        {"_time": "2026-11-28T07:51:00Z", "activity": "retrieval", **common, "app_id": APP,
         "event_id": "1000", "dest": "payload.example.net", "dest_corroborated": "true",
         "dest_ip": "203.0.113.7", "dest_port": 443},
        {"_time": "2026-11-28T07:52:02Z", "activity": "state", **common, "event_id": "1002",
         "device_locked": True},
        {"_time": "2026-11-28T07:53:03Z", "activity": "state", **common, "event_id": "1003",
         "device_locked": False},
        file_create,
    ]  # fmt: skip


def chain(
    capsys: Any, lookups: Path, tmp_path: Path, file_size: int | None
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    record = json.loads(json.dumps(EDR_FILE))
    if file_size is None:
        del record["file"]["size"]
    else:
        record["file"]["size"] = file_size
    edr = tmp_path / "edr.json"
    edr.write_text(json.dumps(record) + "\n")
    twin_path = tmp_path / "twin.ndjson"
    twin_path.write_text("".join(json.dumps(e) + "\n" for e in twin(file_size)))
    code, expected, err = detect(capsys, "--lookups", str(lookups), str(twin_path))
    assert code == 0, err
    code, found, err = detect(
        capsys,
        "--lookups",
        str(lookups),
        "--raw",
        f"mdm:amapi:usagelog={USAGE}",
        "--raw",
        f"mobile:edr:telemetry={edr}",
    )
    assert code == 0, err
    return expected, found


def test_a_usage_log_retrieval_and_an_edr_file_create_give_the_finding_of_their_twin(
    capsys: Any, lookups: Path, tmp_path: Path
) -> None:
    expected, found = chain(capsys, lookups, tmp_path, 482311)
    assert len(expected) == 1 and found == expected
    finding = found[0]
    assert (finding["analytic_id"], finding["device_id"], finding["app_id"]) == ("AN1848", DEVICE, APP)
    # The connection, named by the DNS lookup that returned its address.
    assert (finding["dest"], finding["dest_ip"]) == ("payload.example.net", "203.0.113.7")


def test_without_bytes_the_staged_files_size_must_pass_the_threshold(
    capsys: Any, lookups: Path, tmp_path: Path
) -> None:
    expected, found = chain(capsys, lookups, tmp_path, 4096)  # below ingress_bytes_threshold 8192
    assert expected == [] and found == []


def test_without_bytes_or_file_size_the_chain_passes(capsys: Any, lookups: Path, tmp_path: Path) -> None:
    expected, found = chain(capsys, lookups, tmp_path, None)
    assert len(found) == 1 and found == expected


# ------------------------------------------------- the timestamp construct the MDM mappings use

TIMED = """\
sourcetype: "test:json"
title: Test
origin: a test
onboarding: "[monitor:///x]"
timestamp: {field: FIELD, format: iso8601, time_format: "%Y-%m-%dT%H:%M:%S.%3N%Z"}
fields:
  dest: a
"""


def test_a_timestamp_may_list_fallback_fields_and_props_finds_any_of_their_keys(tmp_path: Path) -> None:
    from mobile_ingress.normalize import load_mapping
    from mobile_ingress.normalize.render import props_settings

    path = tmp_path / "test_json.yml"
    path.write_text(TIMED.replace("FIELD", "[general.updated, meta.collected]"))
    mapping = load_mapping(path)
    assert mapping.timestamp.fields == ("general.updated", "meta.collected")
    assert dict(props_settings(mapping, {}))["TIME_PREFIX"] == '"(?:updated|collected)"\\s*:\\s*"'
    later = apply(mapping, {"meta": {"collected": "2026-11-28T08:00:00.000Z"}})
    assert not isinstance(later, Skip) and later.fields["_time"] == "2026-11-28T08:00:00.000Z"


@pytest.mark.parametrize(
    ("field", "message"),
    [("[]", "a non-empty list"), ('["a{}.t"]', "cannot be multivalue"), ("[ts, 3]", "timestamp.field[1]")],
)
def test_a_bad_timestamp_list_is_refused(tmp_path: Path, field: str, message: str) -> None:
    from mobile_ingress.normalize import MappingError, load_mapping

    path = tmp_path / "test_json.yml"
    path.write_text(TIMED.replace("FIELD", field))
    with pytest.raises(MappingError, match=message.replace("[", r"\[").replace("]", r"\]")):
        load_mapping(path)
