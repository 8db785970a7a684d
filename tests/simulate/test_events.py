from __future__ import annotations

import ipaddress
from collections import Counter
from datetime import datetime
from pathlib import Path

from mobile_ingress.simulate import simulate

from .support import ACTIVITIES, ENUMS, FIELD_TYPES, FILE_ACTIVITIES, events, lookup

RUN_START = 1_740_988_800.0  # the default --start, 2025-03-03T08:00:00Z


def test_events_carry_only_contract_fields_with_contract_types(small_fleet: Path) -> None:
    for e in events(small_fleet):
        for name, value in e.items():
            assert name in FIELD_TYPES, f"not a contract field: {name} in {e}"
            assert isinstance(value, FIELD_TYPES[name]), f"{name}={value!r} in {e}"
            if name in ("bytes_in", "file_size", "dest_port", "_time"):
                assert not isinstance(value, bool)
            if name in ENUMS:
                assert value in ENUMS[name], f"{name}={value!r}"
        assert e["activity"] in ACTIVITIES


def test_each_activity_has_what_the_contract_requires(small_fleet: Path) -> None:
    for e in events(small_fleet):
        if e["activity"] == "retrieval":
            assert e.get("dest") or e.get("url") or e.get("dest_ip")
            assert e.get("platform") or e.get("src_ip"), e
            assert e.get("device_id") or e.get("src_ip"), e
        else:
            assert e["platform"] in ("android", "ios") and e["device_id"]
        if e["activity"] in FILE_ACTIVITIES:
            assert e["file_path"]
            if not e.get("app_id"):  # only Android files whose path names the app, or shared storage
                assert e["platform"] == "android", e
                assert e["file_path"].startswith(
                    ("/data/data/", "/data/user/", "/storage/emulated/0/", "/sdcard/")
                ), e


def test_times_are_epoch_seconds_with_millisecond_precision_inside_the_run(small_fleet: Path) -> None:
    for e in events(small_fleet):
        t = e["_time"]
        assert abs(t * 1000 - round(t * 1000)) < 1e-3, t
        assert RUN_START <= t < RUN_START + 2 * 3600


def test_addresses_are_valid_and_devices_use_rfc1918(small_fleet: Path) -> None:
    for e in events(small_fleet):
        for f in ("dest_ip", "src_ip"):
            if f in e:
                ipaddress.ip_address(e[f])
        if "src_ip" in e:
            assert e["src_ip"].startswith("10.")


def test_event_ids_are_unique_except_redelivered_copies(small_fleet: Path) -> None:
    ids = Counter(e.get("event_id") for e in events(small_fleet))
    missing = ids.pop(None, 0)
    repeated = {k: n for k, n in ids.items() if n > 1}
    # only the nm_duplicate_retrieval_bytes twin re-delivers an event (same id, same content)
    assert all(n == 2 for n in repeated.values())
    assert len(repeated) <= 4
    assert missing < 0.01 * sum(ids.values())


def test_flows_without_device_id_resolve_to_exactly_one_inventory_row(small_fleet: Path) -> None:
    inv = lookup(small_fleet, "device_inventory")
    flows = [e for e in events(small_fleet) if "device_id" not in e]
    assert flows, "the fleet has NSM flows known only by src_ip"
    for e in flows:
        assert e["activity"] == "retrieval" and "platform" not in e and "app_id" not in e
        rows = [
            r
            for r in inv
            if r["ip"] == e["src_ip"] and _epoch(r["first_seen"]) <= e["_time"] <= _epoch(r["last_seen"])
        ]
        assert len(rows) == 1, e


def _epoch(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def test_event_rate_is_40_to_60_per_device_hour_over_a_day(tmp_path: Path) -> None:
    res = simulate(devices=30, hours=24, seed=11, out=str(tmp_path))
    assert 40 <= res.events / (30 * 24) <= 60


def test_benign_traffic_covers_the_fleet_activities(small_fleet: Path) -> None:
    seen = Counter()
    for e in events(small_fleet):
        seen[e["activity"]] += 1
        path = e.get("file_path", "")
        for needle in (
            "/files/CodePush/",
            "/cache/WebView/",
            "/fsCachedData/",
            "/Library/Caches/WebKit/",
            "/storage/emulated/0/Download/",
        ):
            if needle in path:
                seen[needle] += 1
        if e.get("dest") == "play.googleapis.com":
            seen["play"] += 1
        if "device_locked" in e:
            seen["lock"] += 1
    for what in ("retrieval", "file_create", "state", "load", "/cache/WebView/", "/fsCachedData/", "lock"):
        assert seen[what] > 0, what
