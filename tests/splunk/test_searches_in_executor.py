"""The shipped saved searches run in the offline executor (tests/executor) on small inputs built
for one defect each: what Splunk would do with the SPL as shipped, not what the SPL says."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.executor import IndexedEvent, SplError, Splunk

from .test_knowledge_objects import ROOT

PACKAGE = ROOT / "package"
NOW = 1_800_003_600.0
CORRELATION = "Mobile Ingress - DET0718 Mobile Ingress Tool Transfer - Rule"


@pytest.fixture
def sp() -> Iterator[Splunk]:
    instance = Splunk(PACKAGE, seed=3)
    yield instance
    instance.close()


def kv(sp: Splunk, name: str) -> list[dict[str, Any]]:
    return sp.kvstore.all_records(f"mobile_ingress_{name}")


# -------------------------------------------------------- defect 2: order after the normalization


def zeek_transfer(t: float, fuid: str, uid: str, host: str, uri: str) -> list[IndexedEvent]:
    http = {"ts": t, "uid": uid, "id.orig_h": "10.1.1.5", "id.orig_p": 50000, "id.resp_h": "203.0.113.9",
            "id.resp_p": 80, "method": "GET", "host": host, "uri": uri, "status_code": 200,
            "response_body_len": 90000, "resp_fuids": [fuid]}  # fmt: skip
    files = {"ts": t + 0.5, "fuid": fuid, "uid": uid, "id.orig_h": "10.1.1.5", "id.orig_p": 50000,
             "id.resp_h": "203.0.113.9", "id.resp_p": 80, "source": "HTTP", "is_orig": False,
             "mime_type": "application/vnd.android.package-archive", "seen_bytes": 90000,
             "total_bytes": 90000}  # fmt: skip
    return [
        IndexedEvent(
            "netflow", "bro:http:json", "/zeek/http.log", "zeek1", json.dumps(http), indextime=t + 30
        ),
        IndexedEvent(
            "netflow", "bro:files:json", "/zeek/files.log", "zeek1", json.dumps(files), indextime=t + 30
        ),
    ]


def test_the_correlation_tolerates_the_order_the_normalization_leaves(sp: Splunk) -> None:
    """eventstats documents no output order (the executor shuffles it): with the engine's
    streaming order=desc, which the searches used, one event out of order failed the whole run."""
    events = []
    for i in range(40):
        events += zeek_transfer(NOW - 3000 + 60 * i, f"F{i}", f"C{i % 3}", "cdn.example.net", f"/a{i}.apk")
    sp.add_events(events)
    sp.kvstore.batch_save(
        "mobile_ingress_device_inventory",
        [
            {
                "device_id": "d1",
                "platform": "android",
                "ip": "10.1.1.5",
                "user": "u",
                "first_seen": "0",
                "last_seen": str(NOW + 86400),
            }
        ],
    )
    shipped = sp.savedsearches[CORRELATION]["search"]
    assert "order=any" in shipped
    sp.run_saved_search(CORRELATION, NOW)  # no error
    sp.savedsearches[CORRELATION]["search"] = shipped.replace(" order=any", "")
    with pytest.raises(SplError, match="out of time order"):
        sp.run_saved_search(CORRELATION, NOW)


# ------------------------------------------------------------ defect 8: the managed apps builder


def jamf_device(t: float, udid: str, apps: list[tuple[str, str]]) -> IndexedEvent:
    when = _iso(t)
    record = {
        "mobileDeviceId": "1", "deviceType": "iOS",
        "general": {"udid": udid, "displayName": "iPhone", "lastInventoryUpdateDate": when,
                    "ipAddress": "10.1.1.9", "managed": True},
        "applications": [{"identifier": a, "name": a, "managementStatus": s} for a, s in apps],
        "mobile_ingress": {"provider": "jamf", "kind": "mobiledevice", "source_id": udid,
                           "collected_at": when},
    }  # fmt: skip
    return IndexedEvent(
        "mobile", "mdm:jamf:mobiledevice", "jamf", "sh", json.dumps(record), indextime=t, time=t
    )


BUILDER = "mobile_ingress_managed_apps_builder"


def test_a_builder_run_that_finds_no_inventory_leaves_the_collection(sp: Splunk) -> None:
    sp.kvstore.batch_save(
        "mobile_ingress_managed_apps",
        [
            {
                "platform": "ios",
                "app_id": "com.a",
                "managed": "true",
                "approved_roles": "",
                "source": "jamf",
                "last_seen": NOW - 3600,
            }
        ],
    )
    sp.run_saved_search(BUILDER, NOW)  # no inventory in the last day (an input that failed)
    assert [r["app_id"] for r in kv(sp, "managed_apps")] == ["com.a"]


def test_a_row_a_user_disabled_stays_disabled_after_a_rebuild(sp: Splunk) -> None:
    sp.add_events([jamf_device(NOW - 600, "U1", [("com.a", "Managed"), ("com.b", "Managed")])])
    sp.run_saved_search(BUILDER, NOW)
    rows = kv(sp, "managed_apps")
    row = next(r for r in rows if r["app_id"] == "com.a")
    sp.kvstore.batch_save("mobile_ingress_managed_apps", [{**row, "disabled": "true"}])
    sp.run_saved_search(BUILDER, NOW + 4 * 3600)
    after = {r["app_id"]: r.get("disabled") for r in kv(sp, "managed_apps")}
    assert after == {"com.a": "true", "com.b": None}


def test_apps_of_devices_jamf_did_not_read_again_stay_managed(sp: Splunk) -> None:
    """Jamf's input is incremental: a device whose inventory did not change is not read again."""
    sp.add_events([jamf_device(NOW - 600, "U1", [("com.a", "Managed")])])
    sp.run_saved_search(BUILDER, NOW)
    sp.add_events([jamf_device(NOW + 2 * 86400, "U2", [("com.b", "Managed")])])
    sp.run_saved_search(BUILDER, NOW + 2 * 86400 + 600)
    assert sorted(r["app_id"] for r in kv(sp, "managed_apps")) == ["com.a", "com.b"]


def test_managed_apps_are_counted_once_however_many_devices_report_them(sp: Splunk) -> None:
    apps = [(f"com.app{i}", "Managed") for i in range(30)]
    sp.add_events([jamf_device(NOW - 600 - d, f"U{d}", apps) for d in range(20)])
    result = sp.run_saved_search(BUILDER, NOW)
    assert result.rows == [] or len(result.rows) == 30
    assert len(kv(sp, "managed_apps")) == 30


# --------------------------------------------------------------- defect 1 and 9: the baseline


def edr_retrieval(t: float, device: str, app: str | None, host: str) -> IndexedEvent:
    record: dict[str, Any] = {
        "event_type": "network.retrieval", "timestamp": _iso(t), "event_id": f"{device}-{t}",
        "vendor": "Acme", "product": "MTD",
        "device": {"id": device, "platform": "android"},
        "network": {"dest_host": host, "url": f"https://{host}/x.json", "bytes_in": 1000},
    }  # fmt: skip
    if app:
        record["app"] = {"id": app}
    return IndexedEvent("mobile", "mobile:edr:telemetry", "edr", "sh", json.dumps(record), indextime=t + 60)


def _iso(t: float) -> str:
    import datetime

    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def test_the_baseline_learns_from_every_data_macro_and_keeps_a_disabled_pair(sp: Splunk) -> None:
    sp.add_events([edr_retrieval(NOW + 3600, "d1", "com.a", "API.example.com")])
    sp.kvstore.batch_save(
        "mobile_ingress_destination_baseline",
        [
            {
                "app_id": "com.b",
                "dest": "old.example.com",
                "first_seen": "1",
                "last_seen": "2",
                "count": 1,
                "disabled": "true",
            }
        ],
    )
    sp.run_saved_search("mobile_ingress_destination_baseline_update", NOW + 86400)
    rows = {(r["app_id"], r["dest"]): r for r in kv(sp, "destination_baseline")}
    assert ("com.a", "api.example.com") in rows
    assert rows[("com.b", "old.example.com")]["disabled"] == "true"


def test_network_destinations_are_baselined_for_every_app_only_when_enough_devices_reach_them(
    sp: Splunk,
) -> None:
    many = [edr_retrieval(NOW + 3600 + i, f"d{i}", None, "cdn.example.com") for i in range(3)]
    one = [edr_retrieval(NOW + 3700, "d9", None, "c2.example.org")]
    sp.add_events([*many, *one])
    sp.run_saved_search("mobile_ingress_destination_baseline_update", NOW + 86400)
    assert {(r["app_id"], r["dest"]) for r in kv(sp, "destination_baseline")} == {("*", "cdn.example.com")}


def test_a_destination_that_would_act_as_a_pattern_is_never_baselined(sp: Splunk) -> None:
    sp.add_events([edr_retrieval(NOW + 3600, "d1", "com.a", "*.example.com")])
    sp.run_saved_search("mobile_ingress_destination_baseline_update", NOW + 86400)
    assert kv(sp, "destination_baseline") == []


# ------------------------------------------------------------------------- the findings store


def test_the_purge_drops_findings_past_the_retention_only(sp: Splunk) -> None:
    day = 86400
    sp.kvstore.batch_save(
        "mobile_ingress_findings",
        [
            {"_key": "old", "finding_id": "old", "last_time": NOW - 100 * day},
            {"_key": "new", "finding_id": "new", "last_time": NOW - 10 * day},
        ],
    )
    sp.run_saved_search("mobile_ingress_findings_purge", NOW)
    assert [r["finding_id"] for r in kv(sp, "findings")] == ["new"]


def test_the_tuning_dashboard_reads_the_correlation_searchs_own_events() -> None:
    """It ran without the flow join, so its findings differed from the searches'."""
    definition = json.loads((ROOT / "dashboards" / "definitions" / "mobile_ingress_tuning.json").read_text())
    query = definition["dataSources"]["ds_rows"]["options"]["query"]
    shipped = Splunk(PACKAGE).savedsearches[CORRELATION]["search"]
    assert query.startswith("`mobile_ingress_correlation_events`")
    assert shipped.startswith("`mobile_ingress_correlation_events`")
    options = shipped.split("| ingresscorrelate ", 1)[1].split(" |", 1)[0].split()
    assert all(option in query for option in options)


def test_the_data_macros_name_indexes_and_scope_network_events_to_the_device_networks(sp: Splunk) -> None:
    for name in (
        "mobile_ingress_edr",
        "mobile_ingress_flow",
        "mobile_ingress_mdm",
        "mobile_ingress_mdm_inventory",
    ):
        assert "index=*" not in sp.macros[name]["definition"], name
    assert (
        "(`mobile_ingress_flow` `mobile_ingress_device_networks`)"
        in sp.macros["mobile_ingress_events"]["definition"]
    )


def write(path: Path, rows: list[dict[str, Any]]) -> None:
    path.write_text("\n".join(json.dumps(r) for r in rows))
