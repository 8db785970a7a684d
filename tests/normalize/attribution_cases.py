"""Raw events for the device attribution tests: Zeek dhcp.log and Suricata EVE dhcp lines and the
MDM device inventories, each in its source's own shape (Zeek's DHCP::Info, Suricata's
rust/src/dhcp/logger.rs, the Android Management API's Device, Microsoft Graph's managedDevice, Jamf
Pro's mobile device detail), and `HARD_CASES`: one event set holding every case the inventory
builder and its Python twin must agree on.

Each event is (index, sourcetype, raw text, event time, index time)."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

T0 = 1795400000.0  # 2026-11-24T00:00:00Z


@dataclass(frozen=True)
class Raw:
    index: str
    sourcetype: str
    raw: str
    time: float
    indextime: float


def _iso(epoch: float, digits: int = 3) -> str:
    whole = int(epoch)
    fraction = f"{epoch - whole:.{digits}f}"[2:]
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole)) + f".{fraction}Z"


def _dumps(record: dict[str, Any]) -> str:
    return json.dumps(record, separators=(",", ":"))


def zeek_dhcp(
    when: float,
    mac: str,
    ip: str,
    lease: float = 3600.0,
    first: bool = False,
    ack: bool = True,
    lag: float = 60,
) -> Raw:
    types = ["DISCOVER", "OFFER"] + (["REQUEST", "ACK"] if ack else []) if first else ["REQUEST", "ACK"]
    record = {
        "uids": ["CjV1nq3BQ2mBgT0yZ7"],
        "client_addr": ip,
        "server_addr": "10.20.30.1",
        "mac": mac,
        "assigned_addr": ip,
        "lease_time": lease,
        "msg_types": types,
        "duration": 0.31,
    }
    raw = '{"ts":' + f"{when:.6f}" + "," + _dumps(record)[1:]
    return Raw("netflow", "bro:dhcp:json", raw, when, when + lag)


def suricata_dhcp(
    when: float,
    mac: str,
    ip: str,
    extended_lease: float | None = None,
    kind: str = "ack",
    renewal: int = 1800,
    lag: float = 30,
) -> Raw:
    dhcp: dict[str, Any] = {"type": "reply", "id": 3146297458, "client_mac": mac, "assigned_ip": ip}
    if extended_lease is not None:  # extended mode: every message, with client_ip and the lease
        dhcp.update({"client_ip": "0.0.0.0", "relay_ip": "0.0.0.0", "next_server_ip": "0.0.0.0"})
        dhcp["dhcp_type"] = kind
        dhcp["lease_time"] = extended_lease
        dhcp["renewal_time"] = renewal
    else:
        dhcp["dhcp_type"] = kind
        dhcp["renewal_time"] = renewal
    record = {
        "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(int(when)))
        + f".{round((when % 1) * 1e6):06d}+0000",
        "flow_id": 1649502773191881,
        "event_type": "dhcp",
        "src_ip": "10.40.50.1",
        "src_port": 67,
        "dest_ip": "255.255.255.255",
        "dest_port": 68,
        "proto": "UDP",
        "dhcp": dhcp,
    }
    return Raw("netids", "suricata", _dumps(record), when, when + lag)


def amapi_device(when: float, name: str, mac: str, user: str, lag: float = 3600) -> Raw:
    record = {
        "name": name,
        "managementMode": "DEVICE_OWNER",
        "state": "ACTIVE",
        "lastStatusReportTime": _iso(when),
        "userName": user,
        "hardwareInfo": {"brand": "google", "model": "Pixel 8", "serialNumber": "R5C0001"},
        "softwareInfo": {"androidVersion": "14"},
        "networkInfo": {"wifiMacAddress": mac},
        "mobile_ingress": {"collected_at": _iso(when + lag), "kind": "device"},
    }
    return Raw("mobile", "mdm:amapi:device", _dumps(record), when, when + lag)


def intune_device(when: float, ident: str, mac: str, system: str, user: str, lag: float = 7200) -> Raw:
    record = {
        "id": ident,
        "deviceName": f"device-{ident[:4]}",
        "lastSyncDateTime": _iso(when, 7),
        "operatingSystem": system,
        "osVersion": "14",
        "userPrincipalName": user,
        "wiFiMacAddress": mac,
        "serialNumber": "SN" + ident[:6],
        "mobile_ingress": {"collected_at": _iso(when + lag), "kind": "managedDevice"},
    }
    return Raw("mobile", "mdm:intune:device", _dumps(record), when, when + lag)


def jamf_device(when: float, udid: str, mac: str, ip: str, lag: float = 9000) -> Raw:
    record = {
        "mobileDeviceId": "7",
        "deviceType": "iOS",
        "general": {
            "udid": udid,
            "displayName": "iPhone-G-K",
            "lastInventoryUpdateDate": _iso(when),
            "osVersion": "18.1",
            "ipAddress": ip,
            "managed": True,
        },
        "hardware": {"serialNumber": "F2LX0001", "wifiMacAddress": mac},
        "applications": [],
    }
    return Raw("mobile", "mdm:jamf:mobiledevice", _dumps(record), when, when + lag)


# The devices of HARD_CASES.
D1 = "enterprises/LC04abcd12/devices/3a00d1"  # Android, in AMAPI and (with its own id) in Intune
D1_INTUNE = "0d3f0a01-1111-4222-8333-4444555566d1"
D2 = "00008110-001A2C3E0E8AD2"  # iOS, in Jamf Pro and in Intune
D3, D4 = "enterprises/LC04abcd12/devices/3a00d3", "enterprises/LC04abcd12/devices/3a00d4"  # one MAC
D5 = "0d3f0a01-1111-4222-8333-4444555566d5"  # Android in Intune only
MAC1, MAC2, MAC34, MAC5 = "3c:28:6d:00:00:01", "f0:18:98:00:00:02", "8c:f5:a3:00:00:34", "8c:f5:a3:00:00:05"
LAPTOP = "00:11:22:33:44:55"  # a Windows laptop Intune manages: no mobile device
RANDOM = "a6:1f:4c:93:0b:7d"  # a phone's private MAC
STRANGER = "00:aa:bb:cc:dd:ee"  # nobody's


def hard_cases() -> list[Raw]:
    h = 3600.0
    return [
        # MDM records: D1 in AMAPI (its user changes the next day) and in Intune (12 hex digits)
        amapi_device(T0 + 60, D1, MAC1.upper(), "enterprises/LC04abcd12/users/100"),
        amapi_device(T0 + 86400, D1, MAC1.upper(), "enterprises/LC04abcd12/users/200"),
        intune_device(T0 + 30, D1_INTUNE, MAC1.replace(":", "").upper(), "Android", "ann@contoso.example"),
        jamf_device(T0 + 500, D2, MAC2.upper(), "10.40.50.43"),
        jamf_device(T0 + 40000, D2, MAC2.upper(), "192.0.2.9"),
        intune_device(T0 + 90, "0d3f0a01-1111-4222-8333-4444555566d2", MAC2.replace(":", ""), "iOS", "bo@x"),
        amapi_device(T0 + 70, D3, MAC34, "enterprises/LC04abcd12/users/300"),
        amapi_device(T0 + 80, D4, MAC34, "enterprises/LC04abcd12/users/400"),
        intune_device(T0 + 95, D5, MAC5.replace(":", "-"), "Android", "cy@contoso.example"),
        intune_device(
            T0 + 99, "0d3f0a01-1111-4222-8333-4444555566ff", LAPTOP.replace(":", ""), "Windows", "dee@x"
        ),
        # D1's leases on site A: a stay with two renewals, a gap, the same address again
        zeek_dhcp(T0 + 100, MAC1, "10.20.30.41", first=True),
        zeek_dhcp(T0 + 100 + h / 2, MAC1, "10.20.30.41"),
        zeek_dhcp(T0 + 100 + h, MAC1, "10.20.30.41"),
        zeek_dhcp(T0 + 20000, MAC1, "10.20.30.41", first=True),
        # an exchange without ACK leases nothing
        zeek_dhcp(T0 + 300, MAC1, "10.20.30.60", first=True, ack=False),
        # the laptop (no mobile device) and a private MAC on site A
        zeek_dhcp(T0 + 400, LAPTOP, "10.20.30.50", first=True),
        zeek_dhcp(T0 + 500, RANDOM, "10.20.30.51", first=True),
        # site B: the shared MAC of D3 and D4 (non-extended EVE: twice T1), D5 (extended EVE)
        suricata_dhcp(T0 + 600, MAC34, "10.40.50.41"),
        suricata_dhcp(T0 + 700, MAC5, "10.40.50.42", extended_lease=7200, renewal=3600),
        suricata_dhcp(T0 + 710, MAC5, "10.40.50.44", extended_lease=7200, kind="offer"),  # no lease
        suricata_dhcp(T0 + 720, MAC5, "0.0.0.0"),  # the ACK of an INFORM: no address
        # D2 leases 10.40.50.43; the server gives it to a stranger before it expires: D2's span ends
        suricata_dhcp(T0 + 100, MAC2, "10.40.50.43"),
        suricata_dhcp(T0 + 1000, STRANGER, "10.40.50.43"),
    ]
