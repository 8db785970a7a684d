"""Events as the simulator holds them, devices, and time helpers."""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from . import catalog

# Flags on benign events that the planter must keep away from a planted case (see plan.Zone).
F_NB = 1  # retrieval from a destination not baselined for its app (browsers, new hosts)
F_NOAPP = 2  # retrieval without app_id (NSM flow): matches files of any app
F_RISKY = 4  # file that matches a risk pattern (allowed path or allowlisted app)
F_STATE = 8  # carries device-wide context (lock/unlock)


class Ev:
    """One normalized event; `fields` holds every contract field but `_time` and `event_id`."""

    __slots__ = ("ctx", "dup_of", "event_id", "fields", "flags", "idkind", "ms", "order", "planted")

    def __init__(
        self,
        ms: int,
        fields: dict[str, Any],
        idkind: str | None = "dev",
        planted: bool = False,
        flags: int = 0,
    ) -> None:
        self.ms = ms
        self.fields = fields
        self.idkind = idkind  # "dev": <device>-<seq>; "flow": a Zeek-like uid already set; None: no id
        self.event_id: str | None = None
        self.planted = planted
        self.flags = flags
        self.order = 0
        self.dup_of: Ev | None = None  # an identical re-delivery of another event
        self.ctx: dict[str, dict[str, Any]] = {}  # context probed at this event, per app

    def to_json(self) -> str:
        out: dict[str, Any] = {"_time": self.ms / 1000}
        out.update(self.fields)
        if self.event_id is not None:
            out["event_id"] = self.event_id
        return json.dumps(out, separators=(",", ":"), ensure_ascii=False)


@dataclass
class Device:
    idx: int
    device_id: str
    platform: str
    user: str
    ip: str
    activity: float
    apps: list[str] = field(default_factory=list)

    def container(self, seed: int, app_id: str) -> str:
        """The iOS data container of an app on this device (stable per seed, device and app)."""
        r = random.Random(f"{seed}:container:{self.idx}:{app_id}")
        h = f"{r.getrandbits(128):032X}"
        uid = f"{h[0:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"
        return f"/private/var/mobile/Containers/Data/Application/{uid}"


FIRST = [
    "alex",
    "sam",
    "maria",
    "li",
    "noah",
    "emma",
    "omar",
    "ana",
    "yuki",
    "lucas",
    "priya",
    "jonas",
    "chen",
    "fatima",
    "diego",
    "sofia",
    "ivan",
    "grace",
    "kwame",
    "lea",
    "mateo",
    "nora",
    "ravi",
    "zoe",
]
LAST = [
    "smith",
    "garcia",
    "chen",
    "mueller",
    "rossi",
    "kim",
    "novak",
    "silva",
    "okafor",
    "dubois",
    "tanaka",
    "johansson",
    "patel",
    "nguyen",
    "kowalski",
    "haddad",
    "brown",
    "lopez",
    "berg",
    "costa",
]


def device_ip(idx: int) -> str:
    net, host = divmod(idx, 250)
    return f"10.{20 + net // 256}.{net % 256}.{host + 2}"


def build_fleet(seed: int, n_devices: int) -> list[Device]:
    """Profiles for every device: platform (60/40 Android/iOS), user, stable RFC 1918 IP, apps."""
    rng = random.Random(f"{seed}:fleet")
    n_android = round(n_devices * 0.6)
    if n_devices >= 2:
        n_android = min(max(n_android, 1), n_devices - 1)
    platforms = [catalog.ANDROID] * n_android + [catalog.IOS] * (n_devices - n_android)
    rng.shuffle(platforms)
    devices: list[Device] = []
    users_seen: dict[str, int] = {}
    for idx, platform in enumerate(platforms):
        prefix = "and" if platform == catalog.ANDROID else "ios"
        base = f"{rng.choice(FIRST)}.{rng.choice(LAST)}"
        n = users_seen.get(base, 0)
        users_seen[base] = n + 1
        user = f"{base}{n + 1 if n else ''}@acmecorp.com"
        activity = round(rng.uniform(0.6, 1.4), 3)
        apps = [a.app_id for a in catalog.apps_for(platform) if rng.random() < a.install_p]
        devices.append(Device(idx, f"{prefix}-{idx:05d}", platform, user, device_ip(idx), activity, apps))
    return devices


def iso(ms: int) -> str:
    dt = datetime.fromtimestamp(ms / 1000, tz=timezone.utc)
    frac = ms % 1000
    base = dt.strftime("%Y-%m-%dT%H:%M:%S")
    return f"{base}.{frac:03d}Z" if frac else f"{base}Z"


_ISO = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?"
    r"(?:([Zz])|([+-])(\d{2}):?(\d{2}))?$"
)


def parse_start(value: str) -> int:
    """Epoch seconds (ms when >= 1e11) or ISO 8601 with a zone -> epoch milliseconds."""
    v = value.strip()
    try:
        num = float(v)
    except ValueError:
        num = None
    if num is not None:
        return round(num) if num >= 1e11 else round(num * 1000)
    m = _ISO.match(v)
    if not m:
        raise ValueError(f"not an epoch time or ISO 8601 time: {value!r}")
    year, month, day, hh, mm, ss, frac, z, sign, oh, om = m.groups()
    if not z and not sign:
        raise ValueError(f"ISO time without a zone: {value!r}")
    offset = timedelta(0)
    if sign:
        offset = timedelta(hours=int(oh), minutes=int(om))
        if sign == "-":
            offset = -offset
    dt = datetime(int(year), int(month), int(day), int(hh), int(mm), int(ss or 0), tzinfo=timezone(offset))
    ms = round(dt.timestamp()) * 1000
    if frac:
        ms += round(float("0." + frac) * 1000)
    return ms


def zeek_uid(rng: random.Random) -> str:
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
    return "C" + "".join(rng.choice(alphabet) for _ in range(17))


def sha256_hex(rng: random.Random) -> str:
    return f"{rng.getrandbits(256):064x}"
