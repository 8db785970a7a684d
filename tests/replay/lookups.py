"""The lookups a correct Splunk side would have built, for the command line (`--lookups DIR`):

- `mobile_ingress_device_inventory`: one row per DHCP lease span (first_seen = the span's first
  lease event, last_seen = its last one's expiry), never merged across a gap, with the lease's MAC;
  a span of a randomized MAC has no device (mac_randomized=true). Every span of the scenario: the
  command line correlates all nine days at once, and the hourly builder holds each span by the
  time the correlation runs that need it. (The command line builds the same rows itself from the
  raw DHCP and MDM events: device attribution.)
- `mobile_ingress_managed_apps`: from the inventories the inputs wrote before the day (Jamf
  `managementStatus` Managed (any case), Intune assignment intents required/available/
  availableWithoutEnrollment, Android policies' applications not BLOCKED), roles from the shipped
  role map, an app managed if any MDM manages it, with the union of the roles (docs/splunk.md).
- `mobile_ingress_destination_baseline`: from every retrieval before the day, of every source
  (flows with the host their http event gives them): (app, dest, first_seen, last_seen, count) per
  app and destination, and (`*`, dest, ...) for a destination of retrievals without an app seen
  from at least BASELINE_DEVICES devices. dest is the lowercased host, else the IP.

Times are epoch seconds with milliseconds."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from .model import Device, Lease, RawEvent
from .sources import Retrieval

ROLE_MAP = Path(__file__).resolve().parents[2] / "package" / "lookups" / "mobile_ingress_mdm_role_map.csv"
BASELINE_DEVICES = 3
MANAGED_INTENTS = frozenset({"required", "available", "availablewithoutenrollment"})
INTUNE_PLATFORMS = {
    "#microsoft.graph.androidstoreapp": "android",
    "#microsoft.graph.androidlobapp": "android",
    "#microsoft.graph.androidmanagedstoreapp": "android",
    "#microsoft.graph.managedandroidstoreapp": "android",
    "#microsoft.graph.managedandroidlobapp": "android",
    "#microsoft.graph.iosstoreapp": "ios",
    "#microsoft.graph.iosvppapp": "ios",
    "#microsoft.graph.ioslobapp": "ios",
    "#microsoft.graph.managediosstoreapp": "ios",
    "#microsoft.graph.managedioslobapp": "ios",
}
INVENTORY = "mobile_ingress_device_inventory"
MANAGED = "mobile_ingress_managed_apps"
BASELINE = "mobile_ingress_destination_baseline"
COLUMNS = {
    INVENTORY: ("device_id", "platform", "ip", "user", "first_seen", "last_seen", "mac", "mac_randomized"),
    MANAGED: ("platform", "app_id", "managed", "approved_roles", "source"),
    BASELINE: ("app_id", "dest", "first_seen", "last_seen", "count"),
}


def stamp(epoch: float) -> str:
    return f"{epoch:.3f}"


def inventory_rows(leases: Sequence[Lease], devices: Sequence[Device]) -> list[dict[str, str]]:
    """One row per lease span; a lease of a MAC no device reports (a randomized one) has no device."""
    by_mac = {d.wifi_mac: d for d in devices}
    rows = []
    for lease in sorted(leases, key=lambda s: (s.start, s.device_id)):
        device = by_mac.get(lease.mac)
        rows.append(
            {
                "device_id": device.device_id if device else "",
                "platform": device.platform.value if device else "",
                "ip": lease.ip,
                "user": device.user if device else "",
                "first_seen": stamp(lease.start),
                "last_seen": stamp(lease.end),
                "mac": lease.mac,
                "mac_randomized": "false" if device else "true",
            }
        )
    return rows


def role_map() -> dict[tuple[str, str, str], list[str]]:
    with ROLE_MAP.open(encoding="utf-8-sig", newline="") as handle:
        return {
            (row["mdm"].lower(), row["attribute"].lower(), row["value"].lower()): [
                r for r in row["roles"].split("|") if r
            ]
            for row in csv.DictReader(handle)
        }


class ManagedApps:
    def __init__(self) -> None:
        self.roles = role_map()
        self.rows: dict[tuple[str, str], dict[str, Any]] = {}

    def add(
        self, platform: str, app_id: str, managed: bool, mdm: str, keys: Iterable[tuple[str, str]]
    ) -> None:
        row = self.rows.setdefault((platform, app_id), {"managed": False, "roles": set(), "source": set()})
        row["managed"] = row["managed"] or managed
        row["source"].add(mdm)
        for attribute, value in keys:
            row["roles"].update(self.roles.get((mdm, attribute.lower(), value.lower()), []))

    def from_event(self, sourcetype: str, data: dict[str, Any]) -> None:
        if sourcetype == "mdm:intune:app" and data.get("mobile_ingress", {}).get("kind") == "mobileApp":
            app_id = data.get("packageId") or data.get("bundleId")
            platform = INTUNE_PLATFORMS.get(str(data.get("@odata.type", "")).lower())
            if app_id and platform:
                intents = {str(a.get("intent", "")).lower() for a in data.get("assignments", [])}
                categories = [("category", c.get("displayName", "")) for c in data.get("categories", [])]
                self.add(platform, app_id, bool(intents & MANAGED_INTENTS), "intune", categories)
        elif sourcetype == "mdm:amapi:policy":
            for app in data.get("applications", []):
                install = app.get("installType", "")
                keys = [("installType", install)] + [
                    ("roleType", r.get("roleType", "")) for r in app.get("roles", [])
                ]
                self.add("android", app["packageName"], install != "BLOCKED", "amapi", keys)
        elif sourcetype == "mdm:jamf:mobiledevice":
            for app in data.get("applications", []):
                managed = str(app.get("managementStatus", "")).lower() == "managed"  # Jamf: Managed
                self.add("ios", app["identifier"], managed, "jamf", [])

    def table(self) -> list[dict[str, str]]:
        return [
            {
                "platform": platform,
                "app_id": app_id,
                "managed": "true" if row["managed"] else "false",
                "approved_roles": "|".join(sorted(row["roles"])),
                "source": "|".join(sorted(row["source"])),
            }
            for (platform, app_id), row in sorted(self.rows.items())
        ]


def managed_rows(events: Iterable[RawEvent], before: float) -> list[dict[str, str]]:
    apps = ManagedApps()
    for event in events:
        if event.indextime < before and event.sourcetype in (
            "mdm:intune:app",
            "mdm:amapi:policy",
            "mdm:jamf:mobiledevice",
        ):
            apps.from_event(event.sourcetype, json.loads(event.raw))
    return apps.table()


def baseline_rows(retrievals: Iterable[Retrieval], before: float) -> list[dict[str, str]]:
    pairs: dict[tuple[str, str], list[float]] = {}
    anonymous: dict[str, list[float]] = {}
    devices: dict[str, set[str]] = {}
    for r in retrievals:
        if r.time >= before:
            continue
        if r.app_id is not None:
            pairs.setdefault((r.app_id, r.dest), []).append(r.time)
        else:
            anonymous.setdefault(r.dest, []).append(r.time)
            devices.setdefault(r.dest, set()).add(r.device_id)
    rows = [
        {
            "app_id": app,
            "dest": dest,
            "first_seen": stamp(min(t)),
            "last_seen": stamp(max(t)),
            "count": str(len(t)),
        }
        for (app, dest), t in sorted(pairs.items())
    ]
    rows += [
        {
            "app_id": "*",
            "dest": dest,
            "first_seen": stamp(min(t)),
            "last_seen": stamp(max(t)),
            "count": str(len(t)),
        }
        for dest, t in sorted(anonymous.items())
        if len(devices[dest]) >= BASELINE_DEVICES
    ]
    return rows


def write_csv(folder: Path, tables: dict[str, list[dict[str, str]]]) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, rows in tables.items():
        path = folder / f"{name}.csv"
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(COLUMNS[name]), lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)
        written.append(path)
    return written
