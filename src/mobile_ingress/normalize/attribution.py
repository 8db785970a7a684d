"""Device attribution: who held an address when, from DHCP leases and the MDMs' Wi-Fi MACs.

A network sensor sees addresses. The MDM inventories report each device's Wi-Fi MAC (Jamf Pro,
the Android Management API, Intune); a DHCP lease ties a MAC to an address for a span of time
(Zeek dhcp.log, Suricata EVE dhcp). This module builds the rows of mobile_ingress_device_inventory
from those raw sources the way the Splunk builder (detections/mobile_ingress_device_inventory_builder
.yml) does over the same events, so `mobile-ingress detect --raw` and Splunk resolve a flow's
`src_ip` alike (docs/data.md, Device attribution):

- **Device rows**: one per MDM, device and MAC (`kind` mdm:jamf, mdm:amapi or mdm:intune, no `ip`),
  from the first to the latest record, with the latest record's user. Only Android and iOS
  devices.
- **Spans**: the sightings of one holder (the MAC, else the device the source names) at one address
  merge while each comes before the previous ones end (a lease's `lease_time`, else the hold of
  `mobile_ingress_ip_hold_seconds`); a later one starts a new span, never merged across the gap.
  `kind` lease when a DHCP lease is among them, else sighting (Jamf's reported address, a source
  without lease times). A lease span ends at the next lease span's start on the same address when
  that comes first (DHCP gave the address to another client), so reuse never makes an address
  ambiguous inside a span.
- **Attribution** of a MAC's span: the device of the MDM that reports the MAC, Jamf Pro first, then
  the Android Management API, then Intune (Intune's partner records of devices Jamf or Google
  manage carry Intune's own ids, while the correlation's events carry the UDID or the Android
  device name); several devices of that MDM with the MAC leave it unattributed (`mac_devices` > 1:
  ambiguous, never the wrong device), none leave it unattributed too, as a randomized MAC when the
  MAC is locally administered (`mac_randomized`: phones use a private MAC per network unless the
  Wi-Fi profile turns it off), else as an unmanaged device.

Rows carry the contract's columns and `mac`, `mac_randomized`, `mac_devices`, `kind` and
`lease_end` (a span's end before the cut at the next lease, which the Splunk builder needs to merge
the next run's leases into it). Splunk keeps the rows between runs and drops those not seen for 30
days; here every event of the inputs is seen at once.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from ..engine.errors import InvalidEvent
from ..engine.timeparse import parse_time
from .expr import Value, mac_address, number, text

# The MDM device inventories, in the order of precedence a MAC's device is taken from.
MDM_KINDS: dict[str, str] = {
    "mdm:jamf:mobiledevice": "mdm:jamf",
    "mdm:amapi:device": "mdm:amapi",
    "mdm:intune:device": "mdm:intune",
}
PRECEDENCE = tuple(MDM_KINDS.values())
# The sourcetypes whose events can be sightings of an address (their mappings give `ip`): Jamf's
# reported address, and the DHCP leases of the macro mobile_ingress_dhcp.
SIGHTING_SOURCETYPES = ("mdm:jamf:mobiledevice", "bro:dhcp:json", "suricata")
LEASE = "lease"
SIGHTING = "sighting"
# mobile_ingress_ip_hold_seconds: how long an address sighting without a lease time holds.
HOLD_SECONDS = 3600.0
PLATFORMS = ("android", "ios")
# The locally administered bit (0x02 of the first octet) in the second hex digit: 2 3 6 7 a b e f.
LOCALLY_ADMINISTERED = re.compile(r"^.[2367abef]")
COLUMNS = (
    "device_id",
    "platform",
    "ip",
    "user",
    "first_seen",
    "last_seen",
    "mac",
    "mac_randomized",
    "mac_devices",
    "kind",
    "lease_end",
)


def locally_administered(mac: str) -> bool:
    return bool(LOCALLY_ADMINISTERED.search(mac))


def _present(value: Value | object) -> str | None:
    """A field's text, None when absent, empty or multivalue."""
    found = text(value) if isinstance(value, (str, int, float)) or value is None else None
    return found if found else None


def _time(fields: Mapping[str, object]) -> float | None:
    try:
        stamp = parse_time(fields.get("_time"))
    except InvalidEvent:
        return None
    return stamp if math.isfinite(stamp) else None


@dataclass
class _Device:
    """One MDM's record of a device with a MAC, over all the records seen."""

    kind: str
    device_id: str
    mac: str
    first_seen: float
    last_seen: float
    platform: str
    user: str | None  # "<the record's time in ms>|<user>": the greatest (the latest) wins

    def add(self, time: float, platform: str, user: str | None) -> None:
        self.first_seen = min(self.first_seen, time)
        self.last_seen = max(self.last_seen, time)
        self.platform = max(self.platform, platform)
        self.user = _greatest(self.user, _user_pair(time, user))

    @property
    def user_name(self) -> str | None:
        return self.user.split("|", 1)[1] if self.user is not None else None


@dataclass(frozen=True)
class _Sighting:
    time: float
    ip: str
    holder: str  # the MAC, else "device:" and the device the source names
    mac: str | None
    device_id: str | None
    end: float
    kind: str
    platform: str | None
    user: str | None


@dataclass
class _Span:
    holder: str
    ip: str
    mac: str | None
    device_id: str | None
    first_seen: float
    end: float
    kind: str
    platform: str | None
    user: str | None

    def add(self, sighting: _Sighting) -> None:
        self.end = max(self.end, sighting.end)
        self.kind = min(self.kind, sighting.kind)  # "lease" sorts before "sighting"
        self.platform = _greatest(self.platform, sighting.platform)
        self.user = _greatest(self.user, sighting.user)


def _greatest(a: str | None, b: str | None) -> str | None:
    if a is None:
        return b
    return a if b is None else max(a, b)


def _ms(time: float) -> int:
    """round(time * 1000) as SPL rounds it: half away from zero."""
    scaled = time * 1000
    return math.floor(abs(scaled) + 0.5) * (1 if scaled >= 0 else -1)


def _user_pair(time: float, user: str | None) -> str | None:
    """The text SPL compares to find a device's latest user (`max()` of it, as text)."""
    return f"{_ms(time)}|{user}" if user is not None else None


@dataclass
class Attribution:
    """Collects MDM device records and address sightings; `rows()` is the inventory."""

    hold_seconds: float = HOLD_SECONDS
    devices: dict[tuple[str, str, str], _Device] = field(default_factory=dict)
    sightings: list[_Sighting] = field(default_factory=list)

    @staticmethod
    def reads(sourcetype: str) -> bool:
        """Whether events of SOURCETYPE feed the attribution."""
        return sourcetype in MDM_KINDS or sourcetype in SIGHTING_SOURCETYPES

    @property
    def empty(self) -> bool:
        return not self.devices and not self.sightings

    def add(self, sourcetype: str, fields: Mapping[str, object]) -> None:
        """One raw event's normalized fields (`_time` and the mapping's outputs)."""
        time = _time(fields)
        if time is None:
            return
        if sourcetype in MDM_KINDS:
            self._add_device(MDM_KINDS[sourcetype], time, fields)
        if sourcetype in SIGHTING_SOURCETYPES:
            self._add_sighting(time, fields)

    def _add_device(self, kind: str, time: float, fields: Mapping[str, object]) -> None:
        device_id = _present(fields.get("device_id"))
        mac = self._mac(fields)
        platform = (_present(fields.get("platform")) or "").lower()
        if device_id is None or mac is None or platform not in PLATFORMS:
            return
        user = _present(fields.get("user"))
        key = (kind, device_id, mac)
        device = self.devices.get(key)
        if device is None:
            self.devices[key] = _Device(kind, device_id, mac, time, time, platform, _user_pair(time, user))
        else:
            device.add(time, platform, user)

    def _add_sighting(self, time: float, fields: Mapping[str, object]) -> None:
        ip = _present(fields.get("ip"))
        mac = self._mac(fields)
        device_id = _present(fields.get("device_id"))
        if ip is None or (mac is None and device_id is None):
            return
        lease_time = number(fields.get("lease_time"))  # type: ignore[arg-type]
        kind = LEASE if lease_time is not None else SIGHTING
        end = time + (lease_time if lease_time is not None else self.hold_seconds)
        platform = _present(fields.get("platform"))
        self.sightings.append(
            _Sighting(
                time,
                ip,
                mac if mac is not None else f"device:{device_id}",
                mac,
                device_id,
                end,
                kind,
                platform.lower() if platform is not None else None,
                _present(fields.get("user")),
            )
        )

    @staticmethod
    def _mac(fields: Mapping[str, object]) -> str | None:
        found = _present(fields.get("mac"))
        return mac_address(found) if found is not None else None

    # ---------------------------------------------------------------------------- the rows

    def spans(self) -> list[_Span]:
        """The sightings of one holder and address merged while each comes before the previous
        ones end; a later one starts a new span."""
        by_key: dict[tuple[str, str], list[_Sighting]] = {}
        for sighting in self.sightings:
            by_key.setdefault((sighting.holder, sighting.ip), []).append(sighting)
        spans = []
        for (holder, ip), sightings in sorted(by_key.items()):
            current: _Span | None = None
            for sighting in sorted(sightings, key=lambda s: s.time):
                if current is None or sighting.time > current.end:
                    current = _Span(
                        holder,
                        ip,
                        sighting.mac,
                        sighting.device_id,
                        sighting.time,
                        sighting.end,
                        sighting.kind,
                        sighting.platform,
                        sighting.user,
                    )
                    spans.append(current)
                else:
                    current.add(sighting)
        return spans

    def mac_owners(self) -> dict[str, list[_Device]]:
        """Each MAC's devices in the first MDM of PRECEDENCE that reports it."""
        by_mac: dict[str, list[_Device]] = {}
        for device in self.devices.values():
            by_mac.setdefault(device.mac, []).append(device)
        owners = {}
        for mac, devices in by_mac.items():
            top = min(PRECEDENCE.index(d.kind) for d in devices)
            owners[mac] = [d for d in devices if PRECEDENCE.index(d.kind) == top]
        return owners

    def rows(self) -> list[dict[str, object]]:
        """The inventory rows: device rows, then the spans by address and start."""
        rows: list[dict[str, object]] = [
            {
                "device_id": d.device_id,
                "platform": d.platform,
                "ip": None,
                "user": d.user_name,
                "first_seen": d.first_seen,
                "last_seen": d.last_seen,
                "mac": d.mac,
                "mac_randomized": None,
                "mac_devices": None,
                "kind": d.kind,
                "lease_end": d.last_seen,
            }
            for _, d in sorted(self.devices.items())
        ]
        owners = self.mac_owners()
        spans = self.spans()
        cuts = _next_lease_starts(spans)
        for span in sorted(spans, key=lambda s: (s.ip, s.first_seen, s.holder)):
            row: dict[str, object] = {
                "device_id": span.device_id,
                "platform": span.platform,
                "ip": span.ip,
                "user": span.user,
                "first_seen": span.first_seen,
                "last_seen": cuts.get(id(span), span.end),
                "mac": span.mac,
                "mac_randomized": None,
                "mac_devices": None,
                "kind": span.kind,
                "lease_end": span.end,
            }
            if span.mac is not None:
                found = owners.get(span.mac, [])
                row["mac_devices"] = len(found)
                one = found[0] if len(found) == 1 else None
                row["device_id"] = one.device_id if one is not None else None
                row["platform"] = one.platform if one is not None else None
                row["user"] = one.user_name if one is not None else None
                row["mac_randomized"] = not found and locally_administered(span.mac)
            rows.append(row)
        return rows


def _next_lease_starts(spans: Iterable[_Span]) -> dict[int, float]:
    """A lease span's end when the next lease span of its address starts before it ends: id(span)
    -> that start. The SPL twin walks each address's spans newest first (start, then holder,
    descending) keeping the least lease start seen before: the same walk here."""
    by_ip: dict[str, list[_Span]] = {}
    for span in spans:
        by_ip.setdefault(span.ip, []).append(span)
    cuts = {}
    for group in by_ip.values():
        least: float | None = None
        for span in sorted(group, key=lambda s: (s.first_seen, s.holder), reverse=True):
            if span.kind == LEASE and least is not None and span.first_seen < least < span.end:
                cuts[id(span)] = least
            if span.kind == LEASE:
                least = span.first_seen if least is None else min(least, span.first_seen)
        # (the walk sees every later span before an earlier one: `least` is the next lease start)
    return cuts
