from __future__ import annotations

import csv
from datetime import datetime
from pathlib import Path

from mobile_ingress.simulate.lookups import LOOKUP_HEADERS, shipped_lookups_dir

from .support import events, header, is_private_v4, lookup

RUN_START = 1_740_988_800.0


def _epoch(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def test_written_lookups_have_the_contract_headers(small_fleet: Path) -> None:
    written = sorted(p.name for p in (small_fleet / "lookups").glob("*.csv"))
    assert written == sorted(
        f"mobile_ingress_{n}.csv"
        for n in ("destination_baseline", "managed_apps", "device_inventory", "allowed_destinations")
    )
    for name in written:
        short = name[len("mobile_ingress_") : -len(".csv")]
        assert header(small_fleet / "lookups" / name)[: len(LOOKUP_HEADERS[short])] == LOOKUP_HEADERS[short]


def test_contract_headers_agree_with_the_shipped_lookups() -> None:
    for short, columns in LOOKUP_HEADERS.items():
        assert header(shipped_lookups_dir() / f"mobile_ingress_{short}.csv") == columns


def test_allowed_destinations_keep_every_shipped_row_first(small_fleet: Path) -> None:
    with open(
        shipped_lookups_dir() / "mobile_ingress_allowed_destinations.csv", newline="", encoding="utf-8-sig"
    ) as fh:
        shipped = list(csv.DictReader(fh))
    written = lookup(small_fleet, "allowed_destinations")
    assert written[: len(shipped)] == shipped
    assert any("/" in r["destination"] for r in written[len(shipped) :]), "an enterprise CIDR row is added"


def test_inventory_lists_every_device_with_a_stable_private_ip(small_fleet: Path) -> None:
    inv = lookup(small_fleet, "device_inventory")
    current = {r["device_id"]: r for r in inv if _epoch(r["last_seen"]) >= RUN_START}
    for r in inv:
        assert is_private_v4(r["ip"]) and r["platform"] in ("android", "ios") and r["user"]
        assert _epoch(r["first_seen"]) < _epoch(r["last_seen"])
    assert len({r["ip"] for r in current.values()}) == len(current)
    ips = {}
    for e in events(small_fleet):
        if "device_id" in e:
            assert e["device_id"] in current
            ips.setdefault(e["device_id"], set()).add(e["platform"])
    for dev, platforms in ips.items():
        assert platforms == {current[dev]["platform"]}
    platforms = [r["platform"] for r in current.values()]
    assert 0.5 <= platforms.count("android") / len(platforms) <= 0.7


def test_baseline_rows_are_learned_well_before_the_run(small_fleet: Path) -> None:
    rows = lookup(small_fleet, "destination_baseline")
    early = [r for r in rows if _epoch(r["first_seen"]) <= RUN_START - 7 * 86400]
    assert len(early) >= len(rows) - 4  # the rest: baseline_first_seen_too_recent rows, set just before R
    assert any(r["app_id"] == "*" for r in rows)
    apps = {r["app_id"] for r in rows}
    assert {"com.whatsapp", "net.whatsapp.WhatsApp", "com.google.android.gm"} <= apps


def test_managed_apps_cover_both_platforms_with_and_without_roles(small_fleet: Path) -> None:
    rows = lookup(small_fleet, "managed_apps")
    managed = [r for r in rows if r["managed"] == "true"]
    for platform in ("android", "ios"):
        mine = [r for r in managed if r["platform"] == platform]
        assert any(r["approved_roles"] for r in mine) and any(not r["approved_roles"] for r in mine)
    assert any(r["managed"] == "false" for r in rows)
