"""The scenario's vocabulary: the raw events it emits, the labelled cases, the setup-page edits,
the fleet, and the time and id formats the sources write."""

from __future__ import annotations

import datetime as dt
import random
import time
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

START = 1795392000  # 2026-11-23T00:00:00Z, a Monday: days 5 and 6 are the weekend
DAYS = 9
DAY = 86400
END = START + DAYS * DAY
WARMUP_DAYS = 7  # mobile_ingress_baseline_warmup_days: findings before START + 7 days are held back


class Platform(str, Enum):
    ANDROID = "android"
    IOS = "ios"


class Site(str, Enum):
    """Where a device has a DHCP lease; a network sensor watches each site."""

    A = "A"  # Zeek
    B = "B"  # Suricata


@dataclass(frozen=True)
class RawEvent:
    """One event as Splunk indexes it: `raw` is the exact text, `time` what props extract."""

    index: str
    sourcetype: str
    source: str
    host: str
    raw: str
    indextime: int
    time: float


class EditKind(str, Enum):
    ALLOW_DESTINATION = "allow_destination"
    RISK_PATTERN = "risk_pattern"
    SETTING = "setting"


@dataclass(frozen=True)
class Edit:
    """A setup-page edit made mid-replay; it takes effect from the next scheduled run."""

    time: float
    kind: EditKind
    payload: dict[str, Any]


@dataclass(frozen=True)
class Planted:
    """A labelled case. `expected`: the command line raises it with `lookups_for_cli(day=7)` (no
    warm-up gate, no setup edits). `replay_expected`: the Splunk replay raises it as a notable
    (warm-up gate closed before day 7, each edit in force from its time). Matching key: analytic,
    device, app, and file_path (a chain) or dest (a retrieval-only finding)."""

    label: str
    analytic_id: str
    device_id: str
    app_id: str | None
    platform: str
    file_path: str | None  # normalized (contract section 1); None for retrieval-only
    dest: str  # the finding's dest (normalized host or IP)
    time: float  # F's time, or R's for a retrieval-only case
    expected: bool
    after_warmup: bool
    note: str
    replay_expected: bool
    url: str | None = None  # the URL the finding must carry, where R has one

    @property
    def key(self) -> tuple[str, str, str | None, str]:
        return (self.analytic_id, self.device_id, self.app_id, self.file_path or self.dest)


@dataclass(frozen=True)
class Device:
    device_id: str  # EDR device.id = AMAPI device name (Android) = Jamf UDID (iOS) = DHCP device_id
    platform: Platform
    user: str
    wifi_mac: str
    model: str
    os_version: str
    home_site: Site
    apps: tuple[str, ...]
    name: str  # the MDM display name
    serial: str

    @property
    def android(self) -> bool:
        return self.platform == Platform.ANDROID


@dataclass(frozen=True)
class Lease:
    """One DHCP lease span: from the first lease event to the last one's expiry, never across a gap."""

    device_id: str
    ip: str
    site: Site
    start: float
    end: float
    mac: str = ""  # the MAC the device held it with: its Wi-Fi MAC, or a randomized one


@dataclass(frozen=True)
class Presence:
    """A device on a site's network from `arrive` to `leave`, holding `ip`."""

    device_id: str
    site: Site
    arrive: float
    leave: float
    ip: str = ""


@dataclass
class Fleet:
    devices: list[Device]
    leases: list[Lease] = field(default_factory=list)
    presence: list[Presence] = field(default_factory=list)

    def device(self, device_id: str) -> Device:
        for device in self.devices:
            if device.device_id == device_id:
                return device
        raise KeyError(f"no device {device_id!r} in the fleet")


# ------------------------------------------------------------------------------------ formats


def utc(epoch: float) -> dt.datetime:
    return dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc) + dt.timedelta(microseconds=round(epoch * 1e6))


def _seconds(whole: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole))


def iso_ms(epoch: float) -> str:
    """EDR, Google and Jamf times: milliseconds and Z."""
    millis = round(epoch * 1000)
    return f"{_seconds(millis // 1000)}.{millis % 1000:03d}Z"


def iso_us_offset(epoch: float) -> str:
    """Suricata EVE: microseconds and +0000."""
    micros = round(epoch * 1_000_000)
    return f"{_seconds(micros // 1_000_000)}.{micros % 1_000_000:06d}+0000"


def iso_graph(epoch: float, ticks: int) -> str:
    """Microsoft Graph: seven fraction digits (100 ns ticks given by the caller) and Z."""
    when = utc(int(epoch))
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ticks:07d}Z"


def zeek_ts(epoch: float) -> str:
    """Zeek's JSON writer: epoch seconds with six decimals."""
    micros = round(epoch * 1e6)
    return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"


def day_start(day: int) -> int:
    return START + day * DAY


def at(day: int, hour: int, minute: int = 0, second: float = 0.0) -> float:
    return day_start(day) + hour * 3600 + minute * 60 + second


# ---------------------------------------------------------------------------------------- ids

BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def rng_for(seed: int, *purpose: object) -> random.Random:
    """One generator per purpose: a change in one part of the scenario never shifts another."""
    return random.Random(":".join([str(seed), *map(str, purpose)]))


def uuid4(rng: random.Random) -> str:
    value = rng.getrandbits(128)
    value = (value & ~(0xF000 << 64)) | (0x4000 << 64)  # version 4
    value = (value & ~(0xC000 << 48)) | (0x8000 << 48)  # RFC 4122 variant
    text = f"{value:032x}"
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


def zeek_id(rng: random.Random, prefix: str) -> str:
    """Zeek's connection (C...) and file (F...) ids: a letter and 17 base62 characters."""
    return prefix + "".join(rng.choice(BASE62) for _ in range(17))


def hexstr(rng: random.Random, length: int) -> str:
    return f"{rng.getrandbits(length * 4):0{length}x}"
