"""Where and when the planted cases go, the names they use, and the lookups the fleet needs.

Each device's run is cut into slots of SLOT_MS; a case takes one slot (two devices' same slot for
`nm_other_device`) and keeps its events within [R - 60 s, R + 310 s] where R is 90..120 s into
the slot, so two cases on a device are always more than time_window + clock_skew apart. Within
+-ZONE_PAD_MS of a case's events the device has no benign event that could join its chain:
retrievals from hosts not baselined for their app, flows without app, risky files outside an
allowed path (browser downloads). Within the case's own span it also has no benign state event and
no event of the case's apps, so the context at R and F is exactly what the case sets.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from . import catalog
from .cases import CASES, CaseBuilder, CaseDef, Truth
from .lookups import any_row_matches, host_matches, normalize_host, read_lookup
from .model import F_NB, F_NOAPP, F_RISKY, F_STATE, Device, Ev, iso

SLOT_MS = 720_000
R_OFFSET_MS = 90_000
R_JITTER_MS = 30_000
ZONE_PAD_MS = 320_000
SPAN_PAD_MS = 1_000
DAY_MS = 86_400_000

POSITIVE_RATE = 1 / 50  # planted expected findings per device-hour
NEAR_MISS_RATE = 1 / 50
MIN_PER_LABEL = 2

WIDE_FLAGS = F_NB | F_NOAPP | F_RISKY


@dataclass
class Zone:
    """Benign events a planted case must not see: see the module docstring."""

    lo: int  # [lo, hi]: the case's events +- ZONE_PAD_MS
    hi: int
    span_lo: int  # [span_lo, span_hi]: the case's own events
    span_hi: int
    apps: set[str]

    def drops(self, ev: Ev) -> bool:
        if not (self.lo <= ev.ms <= self.hi):
            return False
        if ev.flags & WIDE_FLAGS:
            return True
        if not (self.span_lo <= ev.ms <= self.span_hi):
            return False
        return bool(ev.flags & F_STATE) or ev.fields.get("app_id") in self.apps


class Planner:
    def __init__(self, seed: int, devices: list[Device], start_ms: int, end_ms: int) -> None:
        self.seed = seed
        self.devices = devices
        self.start = start_ms
        self.end = end_ms
        self.rng = random.Random(f"{seed}:plan")
        shipped = read_lookup("allowed_destinations")
        self.allowed_rows: list[dict[str, str]] = shipped + [
            {"destination": d, "app_id": a, "comment": c} for d, a, c in catalog.ENTERPRISE_ALLOWED
        ]
        self.baseline_rows = self._catalog_baseline()
        self.extra_baseline: list[dict[str, object]] = []
        self.used_hosts: set[str] = set()
        self.used_ips: set[str] = set()
        self.planted: dict[int, list[Ev]] = {}
        self.zones: dict[int, list[Zone]] = {}
        self.truths: list[Truth] = []
        self.placed: dict[str, int] = {}
        self.skipped: dict[str, int] = {}

    # ------------------------------------------------------------ lookups
    def iso_at(self, ms: int) -> str:
        return iso(ms)

    def iso_days_before(self, days: float) -> str:
        return iso(self.start - int(days * DAY_MS))

    def _catalog_baseline(self) -> list[dict[str, object]]:
        r = random.Random(f"{self.seed}:baseline")
        rows: list[dict[str, object]] = []
        seen: set[tuple[str, str]] = set()
        for a in catalog.ANDROID_APPS + catalog.IOS_APPS:
            for h in a.hosts:
                if (a.app_id, h) in seen:
                    continue
                seen.add((a.app_id, h))
                rows.append(
                    {
                        "app_id": a.app_id,
                        "dest": h,
                        "first_seen": iso(self.start - r.randint(20, 400) * DAY_MS - r.randint(0, DAY_MS)),
                        "last_seen": iso(self.start - r.randint(1, 3) * DAY_MS),
                        "count": r.randint(50, 250_000),
                    }
                )
        for h in catalog.SHARED_HOSTS:
            rows.append(
                {
                    "app_id": "*",
                    "dest": h,
                    "first_seen": iso(self.start - 365 * DAY_MS),
                    "last_seen": iso(self.start - DAY_MS),
                    "count": r.randint(100_000, 9_000_000),
                }
            )
        return rows

    def baseline_lookup(self) -> list[dict[str, object]]:
        return self.baseline_rows + self.extra_baseline

    def managed_lookup(self) -> list[dict[str, object]]:
        rows: list[dict[str, object]] = []
        for (platform, app_id), roles in catalog.MANAGED.items():
            rows.append(
                {
                    "platform": platform,
                    "app_id": app_id,
                    "managed": "true",
                    "approved_roles": roles,
                    "source": "intune",
                }
            )
        for platform, app_id in catalog.UNMANAGED_LISTED:
            rows.append(
                {
                    "platform": platform,
                    "app_id": app_id,
                    "managed": "false",
                    "approved_roles": "",
                    "source": "intune",
                }
            )
        return rows

    def inventory_lookup(self) -> list[dict[str, object]]:
        r = random.Random(f"{self.seed}:inventory")
        rows: list[dict[str, object]] = []
        for d in self.devices:
            first = self.start - r.randint(30, 400) * DAY_MS
            rows.append(
                {
                    "device_id": d.device_id,
                    "platform": d.platform,
                    "ip": d.ip,
                    "user": d.user,
                    "first_seen": iso(first),
                    "last_seen": iso(self.end + 3_600_000),
                }
            )
            if r.random() < 0.05:  # the address was leased to a retired device before: not in force now
                prefix = d.device_id.split("-", 1)[0]
                rows.append(
                    {
                        "device_id": f"{prefix}-r{d.idx:05d}",
                        "platform": d.platform,
                        "ip": d.ip,
                        "user": "former.employee@acmecorp.com",
                        "first_seen": iso(first - 500 * DAY_MS),
                        "last_seen": iso(first - DAY_MS),
                    }
                )
        return rows

    def allowed_destinations_lookup(self) -> list[dict[str, str]]:
        return list(self.allowed_rows)

    # ------------------------------------------------------------ names
    def _clean(self, host: str) -> bool:
        h = normalize_host(host)
        if h in self.used_hosts:
            return False
        if any_row_matches(self.allowed_rows, "destination", [h]):
            return False
        return not any_row_matches(self.baseline_lookup(), "dest", [h])

    def bad_host(self) -> str:
        r = self.rng
        while True:
            stem = r.choice(catalog.BAD_STEMS) + (str(r.randint(1, 99)) if r.random() < 0.5 else "")
            tld = r.choice(catalog.BAD_TLDS)
            form = r.random()
            if form < 0.4:
                h = f"{r.choice(catalog.BAD_WORDS)}.{stem}.{tld}"
            elif form < 0.7:
                h = f"{r.choice(catalog.BAD_WORDS)}-{stem}.{tld}"
            else:
                w1, n, w2 = r.choice(catalog.BAD_WORDS), r.randint(1, 9), r.choice(catalog.BAD_WORDS)
                h = f"{w1}{n}.{w2}-{stem}.{tld}"
            if self._clean(h):
                self.used_hosts.add(h)
                return h

    def bad_ip(self) -> str:
        r = self.rng
        while True:
            a, b, c = r.choice(catalog.BAD_IP_OCTETS), r.randint(0, 255), r.randint(0, 255)
            ip = f"{a}.{b}.{c}.{r.randint(1, 254)}"
            if ip not in self.used_ips and not any_row_matches(self.allowed_rows, "destination", [ip]):
                self.used_ips.add(ip)
                return ip

    def cidr_ip(self) -> str:
        ip = f"{catalog.ENTERPRISE_CIDR_PREFIX}{self.rng.randint(2, 254)}"
        assert any_row_matches(self.allowed_rows, "destination", [ip])
        return ip

    def cidr_adjacent_ip(self) -> str:
        while True:
            low, high = self.rng.randint(1, 60), self.rng.randint(200, 254)
            ip = self.rng.choice([f"198.51.101.{low}", f"198.51.99.{high}"])
            if ip not in self.used_ips and not any_row_matches(self.allowed_rows, "destination", [ip]):
                self.used_ips.add(ip)
                return ip

    def _exact_rows(self) -> list[str]:
        out = []
        for row in self.allowed_rows:
            d = row.get("destination", "").strip()
            if row.get("app_id", "").strip() not in ("", "*") or not d or "*" in d or "/" in d:
                continue
            if d.replace(".", "").isdigit() or ":" in d:
                continue
            out.append(d)
        return out

    def _suffix_rows(self) -> list[str]:
        return [
            row["destination"].strip()[2:]
            for row in self.allowed_rows
            if row.get("destination", "").strip().startswith("*.")
            and row.get("app_id", "").strip() in ("", "*")
        ]

    def has_suffix_row(self) -> bool:
        return bool(self._suffix_rows())

    def allowlisted_exact(self) -> str:
        rows = self._exact_rows()
        return rows[0] if rows else "play.googleapis.com"

    def allowlisted_host(self, rng: random.Random) -> str:
        suffixes = self._suffix_rows()
        if suffixes and rng.random() < 0.5:
            h = f"{rng.choice(['dl', 'redirector', 'edgedl.me', 'r3---sn-a8au'])}.{rng.choice(suffixes)}"
        else:
            h = rng.choice(self._exact_rows() or ["play.googleapis.com"])
        assert any_row_matches(self.allowed_rows, "destination", [h]), h
        return h

    def lookalike_exact(self) -> str:
        while True:
            h = f"{self.allowlisted_exact()}.{self.bad_host()}"
            if self._clean(h):
                self.used_hosts.add(h)
                return h

    def lookalike_boundary(self) -> str:
        suffixes = self._suffix_rows()
        while True:
            s = self.rng.choice(suffixes)
            h = f"{self.rng.choice(['update', 'dl', 'edge', 'cdn', 'secure'])}{self.rng.randint(0, 99)}{s}"
            if self._clean(h):
                assert not host_matches("*." + s, h)
                self.used_hosts.add(h)
                return h

    # ------------------------------------------------------------ placement
    def counts(self) -> dict[str, int]:
        hours = (self.end - self.start) / 3_600_000
        device_hours = len(self.devices) * hours
        pos = [c for c in CASES if c.expected]
        neg = [c for c in CASES if not c.expected]
        per_pos = max(MIN_PER_LABEL, round(device_hours * POSITIVE_RATE / max(1, len(pos))))
        per_neg = max(MIN_PER_LABEL, round(device_hours * NEAR_MISS_RATE / max(1, len(neg))))
        out: dict[str, int] = {}
        for c in CASES:
            if c.needs == "suffix_row" and not self.has_suffix_row():
                continue
            out[c.label] = per_pos if c.expected else per_neg
        return out

    def plan(self) -> None:
        n_slots = max(0, (self.end - self.start) // SLOT_MS)
        free: dict[str, dict[int, list[int]]] = {catalog.ANDROID: {}, catalog.IOS: {}}
        for d in self.devices:
            for k in range(n_slots):
                free[d.platform].setdefault(k, []).append(d.idx)
        counts = self.counts()
        rounds = max(counts.values()) if counts else 0
        seq = 0
        for rnd in range(rounds):
            for case in CASES:
                if counts.get(case.label, 0) <= rnd:
                    continue
                slot = self._take(free[case.platform], case.devices)
                if slot is None:
                    self.skipped[case.label] = self.skipped.get(case.label, 0) + 1
                    continue
                k, devs = slot
                self._build(case, k, [self.devices[i] for i in devs], seq)
                seq += 1

    def _take(self, free: dict[int, list[int]], n: int) -> tuple[int, list[int]] | None:
        ks = sorted(k for k, v in free.items() if len(v) >= n)
        if not ks:
            return None
        k = self.rng.choice(ks)
        pool = free[k]
        chosen = []
        for _ in range(n):
            i = self.rng.randrange(len(pool))
            pool[i], pool[-1] = pool[-1], pool[i]
            chosen.append(pool.pop())
        if not pool:
            del free[k]
        return k, chosen

    def _build(self, case: CaseDef, k: int, devs: list[Device], seq: int) -> None:
        rng = random.Random(f"{self.seed}:case:{seq}")
        r_ms = self.start + k * SLOT_MS + R_OFFSET_MS + rng.randint(0, R_JITTER_MS)
        b = CaseBuilder(self, rng, case.label, devs, r_ms, self.seed)
        case.build(b)
        by_dev: dict[int, list[Ev]] = {}
        for dev, ev in b.events:
            by_dev.setdefault(dev.idx, []).append(ev)
        for idx, evs in by_dev.items():
            self.planted.setdefault(idx, []).extend(evs)
            first = min(e.ms for e in evs)
            last = max(e.ms for e in evs)
            self.zones.setdefault(idx, []).append(
                Zone(
                    first - ZONE_PAD_MS,
                    last + ZONE_PAD_MS,
                    first - SPAN_PAD_MS,
                    last + SPAN_PAD_MS,
                    set(b.apps),
                )
            )
        for t in b.truths:
            for probe in t.probes:
                probe.ctx.setdefault(t.app_id or "", {})
        self.truths.extend(b.truths)
        self.placed[case.label] = self.placed.get(case.label, 0) + 1
