"""The fleet (six Android, four iOS devices), where each device is each day (site A, site B or
off site), and the DHCP servers that lease them addresses.

Leases: a client gets a lease of LEASE_TIME seconds on arrival and renews it every half lease
while it stays (DHCP's T1); it never releases it, so a span ends LEASE_TIME after the last lease
event. A span is one inventory row; a device that comes back after its lease expired starts a new
span, even with the same address. The servers give a client the address it asks for when no
unexpired lease holds it, else the lowest free one of the pool.

The address plan makes the inventory's hard cases happen: every address changes after the weekend
(the pool is re-planned, so each weekday address goes to another device from day 7 on); on day 2
device a1 leaves site A for a few hours and its address is leased meanwhile to a4, visiting from
site B, before a1 gets it back (a builder that merges a1's two spans across the gap covers a4's
flows too, which then resolve to no device); on day 4 device a5 joins site B's Wi-Fi with a
private (randomized) MAC, which no MDM reports, so its flows that day resolve to no device.

The servers' leases are what the sensors log (docs/data.md, Device attribution): site A's Zeek
writes dhcp.log (`bro:dhcp:json`: the first exchange DISCOVER, OFFER, REQUEST, ACK, each renewal
REQUEST, ACK, with `lease_time`), site B's Suricata writes EVE `dhcp` events of the ACKs in its
default, non-extended mode (`dhcp_type` ack, `renewal_time` T1 = half the lease, no `lease_time`)."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from typing import Any

from .catalog import AMAPI_ENTERPRISE, ANDROID_APPS, IOS_APPS, PLANTED_APPS
from .model import (
    DAYS,
    Device,
    Lease,
    Platform,
    Presence,
    RawEvent,
    Site,
    at,
    iso_us_offset,
    rng_for,
    zeek_id,
    zeek_ts,
)

LEASE_TIME = 3600
RENEW = LEASE_TIME // 2
SUBNETS = {Site.A: "10.20.30", Site.B: "10.40.50"}
POOL = range(40, 100)
WEEKEND = (5, 6)
SERVERS = {Site.A: "10.20.30.1", Site.B: "10.40.50.1"}
# The address-plan cases need these devices on site that day: never a day off there.
MUST_BE_ON_SITE = {("a1", 2), ("a4", 2), ("a5", 4)}
# On day 4, a5 joins site B's Wi-Fi with a private MAC (Android's per-network randomized address:
# locally administered, 0x02 set in the first octet), as when the Wi-Fi profile leaves
# randomization on: no MDM reports it.
RANDOMIZED = {("a5", 4): "a6:1f:4c:93:0b:7d"}


@dataclass(frozen=True)
class DeviceSpec:
    key: str
    platform: Platform
    user: str
    model: str
    os_version: str
    site: Site
    mac: str
    personal: tuple[str, ...]  # apps beyond the fleet's standard set
    planted: tuple[str, ...]


ANDROID_STANDARD = (
    "com.whatsapp",
    "com.microsoft.teams",
    "com.microsoft.office.outlook",
    "com.google.android.apps.maps",
    "com.android.chrome",
    "com.google.android.gms",
    "com.contoso.fieldservice",
    "com.lookout.enterprise",
)
IOS_STANDARD = (
    "net.whatsapp.WhatsApp",
    "com.microsoft.skype.teams",
    "com.microsoft.Office.Outlook",
    "com.google.Maps",
    "com.apple.mobilesafari",
    "com.contoso.fieldservice",
)

# Wi-Fi MACs under the vendors' OUIs (Google 3C:28:6D, Samsung 8C:F5:A3, Apple F0:18:98 and
# 3C:22:FB): globally administered, as on networks that turn MAC randomization off.
SPECS = (
    DeviceSpec(
        "a0",
        Platform.ANDROID,
        "alice.nguyen@contoso.example",
        "Pixel 8",
        "14",
        Site.A,
        "3c:28:6d:4a:91:0e",
        ("com.spotify.music", "com.instagram.android"),
        ("com.gamebooster.turbo", "com.vpnfree.shield"),
    ),
    DeviceSpec(
        "a1",
        Platform.ANDROID,
        "ben.okafor@contoso.example",
        "Pixel 7a",
        "14",
        Site.A,
        "3c:28:6d:17:c2:5b",
        ("com.google.android.youtube", "com.nytimes.android"),
        ("com.speedbooster.cleaner",),
    ),
    DeviceSpec(
        "a2",
        Platform.ANDROID,
        "chloe.martin@contoso.example",
        "SM-S921B",
        "14",
        Site.A,
        "8c:f5:a3:62:0d:e4",
        ("com.instagram.android", "com.spotify.music"),
        ("com.flashlight.pro2",),
    ),
    DeviceSpec(
        "a3",
        Platform.ANDROID,
        "diego.ruiz@contoso.example",
        "SM-A546B",
        "14",
        Site.B,
        "8c:f5:a3:2e:77:19",
        ("com.google.android.youtube", "com.spotify.music"),
        ("com.quickplug.launcher", "com.arcadeworld.racing"),
    ),
    DeviceSpec(
        "a4",
        Platform.ANDROID,
        "emma.schulz@contoso.example",
        "Pixel 8 Pro",
        "15",
        Site.B,
        "3c:28:6d:88:5f:a3",
        ("com.nytimes.android", "com.instagram.android"),
        ("com.wallpaper.hd4k", "com.photoeditor.magic"),
    ),
    DeviceSpec(
        "a5",
        Platform.ANDROID,
        "farid.haddad@contoso.example",
        "SM-S911B",
        "14",
        Site.B,
        "8c:f5:a3:d4:3b:60",
        ("com.spotify.music", "com.google.android.youtube"),
        (),
    ),
    DeviceSpec(
        "i0",
        Platform.IOS,
        "grace.kim@contoso.example",
        "iPhone15,4",
        "18.1",
        Site.A,
        "f0:18:98:3a:6c:d2",
        ("com.spotify.client", "com.burbn.instagram"),
        ("com.pdfmagic.scanner",),
    ),
    DeviceSpec(
        "i1",
        Platform.IOS,
        "hiro.tanaka@contoso.example",
        "iPhone14,7",
        "18.1",
        Site.A,
        "f0:18:98:b1:04:7f",
        ("com.nytimes.NYTimes",),
        (),
    ),
    DeviceSpec(
        "i2",
        Platform.IOS,
        "isla.brown@contoso.example",
        "iPad13,16",
        "18.1",
        Site.B,
        "3c:22:fb:5e:a8:31",
        ("com.nytimes.NYTimes", "com.spotify.client"),
        (),
    ),
    DeviceSpec(
        "i3",
        Platform.IOS,
        "jonas.berg@contoso.example",
        "iPhone16,1",
        "18.1",
        Site.B,
        "3c:22:fb:0c:e9:94",
        ("com.burbn.instagram",),
        (),
    ),
)


def device_id(spec: DeviceSpec, n: int) -> str:
    """The one id every source uses: the Android Management API device name (Android), the UDID
    Jamf Pro reports (iOS)."""
    if spec.platform == Platform.ANDROID:
        return f"{AMAPI_ENTERPRISE}/devices/3a{0x7C1E9F0B2D4A00 + n * 0x1011:014x}"
    return f"00008110-{0x001A2C3E0E8A801E + n * 0x10203:016X}"


def build_devices() -> list[Device]:
    known = {app.app_id for app in ANDROID_APPS + IOS_APPS}
    devices = []
    for n, spec in enumerate(SPECS):
        standard = ANDROID_STANDARD if spec.platform == Platform.ANDROID else IOS_STANDARD
        apps = standard + spec.personal + spec.planted
        unknown = [a for a in apps if a not in known and a not in PLANTED_APPS]
        if unknown:
            raise ValueError(f"device {spec.key}: apps {unknown} are in no catalogue")
        first = spec.user.split("@")[0].split(".")
        label = f"{first[0].upper()}-{first[1][:1].upper()}"
        name = f"Pixel-{label}" if spec.platform == Platform.ANDROID else f"iPhone-{label}"
        devices.append(
            Device(
                device_id(spec, n),
                spec.platform,
                spec.user,
                spec.mac,
                spec.model,
                spec.os_version,
                spec.site,
                apps,
                name,
                f"R5C{n:02d}{0x3F1A + n * 7:05X}",
            )
        )
    return devices


def key_of(device: Device) -> str:
    return SPECS[[d.user for d in SPECS].index(device.user)].key


# ---------------------------------------------------------------------------------- presence


@dataclass(frozen=True)
class Visit:
    """A device on a site from `arrive` to `leave`, asking the DHCP server for `wants`."""

    key: str
    site: Site
    arrive: float
    leave: float
    wants: str
    mac: str = ""  # the MAC the device joins with, when not its Wi-Fi MAC (a randomized one)


def weekly_address(key: str, site: Site, day: int) -> str:
    """Days 0-4 and days 7-8 use different plans: after the weekend each address goes to the next
    device of the site (the reuse by another device, after a gap)."""
    members = [s.key for s in SPECS if s.site == site]
    slot = members.index(key) if key in members else 0
    if day >= 7:
        slot = (slot + 1) % len(members)
    return f"{SUBNETS[site]}.{41 + slot}"


def plan_visits(seed: int) -> list[Visit]:
    visits: list[Visit] = []
    for spec in SPECS:
        rng = rng_for(seed, "presence", spec.key)
        for day in range(DAYS):
            if day in WEEKEND:
                continue
            day_off = day in (1, 2, 3, 4) and rng.random() < 0.12 and (spec.key, day) not in MUST_BE_ON_SITE
            arrive = at(day, 7, 30) + rng.uniform(0, 6300)
            leave = at(day, 16, 30) + rng.uniform(0, 7200)
            if day_off:
                continue
            home = weekly_address(spec.key, spec.site, day)
            if (spec.key, day) == ("a1", 2):  # away from 11:00 to 15:30: a gap between two spans
                visits.append(Visit(spec.key, spec.site, arrive, at(2, 11, 0, rng.uniform(0, 60)), home))
                visits.append(Visit(spec.key, spec.site, at(2, 15, 30, rng.uniform(0, 60)), leave, home))
            elif (spec.key, day) == ("a4", 2):  # a meeting on site A, in a1's address while a1 is away
                visits.append(Visit(spec.key, spec.site, arrive, at(2, 12, 0), home))
                visits.append(
                    Visit(
                        spec.key,
                        Site.A,
                        at(2, 12, 30, rng.uniform(0, 60)),
                        at(2, 14, 0),
                        weekly_address("a1", Site.A, 2),
                    )
                )
                visits.append(Visit(spec.key, spec.site, at(2, 14, 30, rng.uniform(0, 60)), leave, home))
            else:
                mac = RANDOMIZED.get((spec.key, day), "")
                visits.append(Visit(spec.key, spec.site, arrive, leave, home, mac))
    return visits


# --------------------------------------------------------------------------------------- DHCP


@dataclass(frozen=True)
class DhcpResult:
    leases: list[Lease]
    presence: list[Presence]
    events: list[RawEvent]


def lease_times(arrive: float, leave: float, rng: random.Random) -> list[float]:
    """The lease events of one stay: the first on arrival, a renewal every half lease after."""
    times = [arrive + rng.uniform(1, 4)]
    while times[-1] + RENEW < leave:
        times.append(times[-1] + RENEW + rng.uniform(0, 3))
    return times


def run_dhcp(seed: int, devices: list[Device], visits: list[Visit]) -> DhcpResult:
    by_key = {key_of(d): d for d in devices}
    rng = rng_for(seed, "dhcp")
    log_rng = rng_for(seed, "dhcp-log")  # the sensors' own ids and lags
    busy: dict[str, float] = {}  # address -> end of its current lease span
    leases, presence, events = [], [], []
    for visit in sorted(visits, key=lambda v: (v.arrive, v.key)):
        device = by_key[visit.key]
        times = lease_times(visit.arrive, visit.leave, rng)
        ip = visit.wants
        if busy.get(ip, 0.0) >= times[0]:
            ip = next(
                f"{SUBNETS[visit.site]}.{n}"
                for n in POOL
                if busy.get(f"{SUBNETS[visit.site]}.{n}", 0.0) < times[0]
            )
        end = times[-1] + LEASE_TIME
        busy[ip] = end
        mac = visit.mac or device.wifi_mac
        leases.append(Lease(device.device_id, ip, visit.site, round(times[0], 3), round(end, 3), mac))
        # The device has its address from the first lease event (DHCP ACK) on: no traffic before.
        presence.append(Presence(device.device_id, visit.site, times[0], visit.leave, ip))
        for n, when in enumerate(times):
            render = zeek_dhcp if visit.site == Site.A else suricata_dhcp
            events.append(render(device, mac, ip, visit.site, round(when, 3), n == 0, log_rng))
    return DhcpResult(leases, presence, events)


def zeek_dhcp(
    device: Device, mac: str, ip: str, site: Site, when: float, first: bool, rng: random.Random
) -> RawEvent:
    """A dhcp.log line (Zeek 3+, DHCP::Info): the first exchange of a stay is DORA (the client
    broadcasts from 0.0.0.0, so client_addr is the assigned address), a renewal REQUEST, ACK
    unicast from the client's address. `ts` is the exchange's first message, the lease's start."""
    duration = rng.uniform(0.2, 0.6) if first else rng.uniform(0.001, 0.01)
    record: dict[str, Any] = {
        "uids": [zeek_id(rng, "C")] + ([zeek_id(rng, "C")] if first else []),
        "client_addr": ip,
        "server_addr": SERVERS[site],
        "mac": mac,
        "host_name": device.name,
    }
    if first:
        record["requested_addr"] = ip
    record.update(
        {
            "assigned_addr": ip,
            "lease_time": float(LEASE_TIME),
            "msg_types": ["DISCOVER", "OFFER", "REQUEST", "ACK"] if first else ["REQUEST", "ACK"],
            "duration": round(duration, 6),
        }
    )
    raw = '{"ts":' + zeek_ts(when) + "," + json.dumps(record, separators=(",", ":"))[1:]
    return RawEvent(
        "netflow",
        "bro:dhcp:json",
        "/opt/zeek/logs/current/dhcp.log",
        "zeek-site-a",
        raw,
        int(when + duration + rng.uniform(20, 120)),
        round(when, 6),
    )


def suricata_dhcp(
    device: Device, mac: str, ip: str, site: Site, when: float, first: bool, rng: random.Random
) -> RawEvent:
    """An EVE dhcp event of the server's ACK (rust/src/dhcp/logger.rs, non-extended mode: type, id,
    client_mac, assigned_ip, then the options the server sent: the message type and T1)."""
    record = {
        "timestamp": iso_us_offset(when),
        "flow_id": rng.getrandbits(52),
        "in_iface": "eth1",
        "event_type": "dhcp",
        "src_ip": SERVERS[site],
        "src_port": 67,
        "dest_ip": "255.255.255.255" if first else ip,
        "dest_port": 68,
        "proto": "UDP",
        "dhcp": {
            "type": "reply",
            "id": rng.getrandbits(32),
            "client_mac": mac,
            "assigned_ip": ip,
            "dhcp_type": "ack",
            "renewal_time": RENEW,
        },
    }
    return RawEvent(
        "netids",
        "suricata",
        "/var/log/suricata/eve.json",
        "suricata-site-b",
        json.dumps(record, separators=(",", ":")),
        int(when + rng.uniform(5, 60)),
        round(when, 6),
    )
