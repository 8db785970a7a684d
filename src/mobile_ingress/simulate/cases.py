"""Planted cases: attack chains that must raise a finding and their near-miss twins that must not.

Every case is built inside one slot of one device (two devices for `nm_other_device`), with all its
events within [R - 60 s, R + 310 s]; the planner keeps slots apart and keeps risky benign traffic
away from them (see plan.py), so the label of each case depends only on its own events and on the
lookups. Each case yields one or more `Truth` rows that become lines of ground_truth.ndjson.

The cases themselves, their moods and payload kinds are data (data/cases.yaml, checked by
datafiles.py); this module builds the events they describe.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Callable

from ..engine.analytics import ANALYTICS, Rule
from . import catalog
from .benign import host_ip
from .catalog import ANDROID, DOWNLOADS_PROVIDER, IOS, PACKAGE_INSTALLER
from .datafiles import Chain, NamePattern, RetrievalOnly, load_case_table
from .model import Device, Ev, sha256_hex

S = 1000  # one second in ms

STAGE_ORDER = ["retrieval", "staging", "unpack", "load", "handoff", "repeat_retrieval"]
CONTEXT_ORDER = ["background", "device_locked", "no_user_interaction", "unapproved_role"]

TABLE = load_case_table(catalog.FLEET)

# (app_state, device_locked, recent_user_interaction)
MOODS: dict[str, tuple[str, bool, bool]] = {
    m.name: (m.app_state, m.device_locked, m.recent_user_interaction) for m in TABLE.moods
}
MOOD_WEIGHTS = [(m.name, m.weight) for m in TABLE.moods]


def mood_context(mood: str) -> list[str]:
    state, locked, rui = MOODS[mood]
    out = []
    if state == "background":
        out.append("background")
    if locked:
        out.append("device_locked")
    if not rui:
        out.append("no_user_interaction")
    return out


def normalize_path(path: str) -> str:
    """The few contract path normalizations the planted raw paths use."""
    for raw, norm in (
        ("/data/user/0/", "/data/data/"),
        ("/sdcard/", "/storage/emulated/0/"),
        ("/storage/self/primary/", "/storage/emulated/0/"),
        ("/var/", "/private/var/"),
    ):
        if path.startswith(raw):
            return norm + path[len(raw) :]
    return path


def android_app_from_path(path: str) -> str | None:
    p = normalize_path(path)
    for prefix in (
        "/data/data/",
        "/storage/emulated/0/Android/data/",
        "/storage/emulated/0/Android/obb/",
        "/storage/emulated/0/Android/media/",
    ):
        if p.startswith(prefix):
            return p[len(prefix) :].split("/", 1)[0]
    return None


def url_last_segment(url: str | None) -> str | None:
    if not url:
        return None
    rest = url.split("://", 1)[-1]
    path = rest.split("/", 1)[1] if "/" in rest else ""
    path = path.split("?", 1)[0].split("#", 1)[0]
    return path.rsplit("/", 1)[-1] if path else None


@dataclass
class Truth:
    label: str
    clause: str
    expected: bool
    analytic_id: str
    platform: str
    device: Device  # the finding's device (F's device for a chain)
    app_id: str | None  # the finding's app
    r: Ev
    f: Ev | None  # None for a retrieval-only row
    dest: str
    stages: list[str]
    extra: list[Ev] = field(default_factory=list)  # follow-on and repeat events (evidence)
    probes: list[Ev] = field(default_factory=list)  # events where context is read (R, and F)
    intended_context: list[str] | None = None
    r_device: Device | None = None
    note: str = ""

    def file_path(self) -> str | None:
        return normalize_path(self.f.fields["file_path"]) if self.f is not None else None


class CaseBuilder:
    """Builds the events of one planted case (all times in epoch ms)."""

    def __init__(
        self, planner: Any, rng: random.Random, label: str, devices: list[Device], r_ms: int, seed: int
    ) -> None:
        self.p = planner
        self.rng = rng
        self.label = label
        self.devices = devices
        self.dev = devices[0]
        self.r_ms = r_ms
        self.seed = seed
        self.events: list[tuple[Device, Ev]] = []
        self.truths: list[Truth] = []
        self.apps: list[str] = []

    # ------------------------------------------------------------ primitives
    def emit(self, dev: Device, ms: int, fields: dict[str, Any], idkind: str | None = "dev") -> Ev:
        ev = Ev(int(ms), fields, idkind=idkind, planted=True)
        self.events.append((dev, ev))
        app_id = fields.get("app_id")
        if app_id and app_id not in self.apps:
            self.apps.append(app_id)
        return ev

    @staticmethod
    def base(dev: Device, activity: str, app_id: str | None) -> dict[str, Any]:
        f: dict[str, Any] = {
            "activity": activity,
            "platform": dev.platform,
            "device_id": dev.device_id,
            "user": dev.user,
        }
        if app_id is not None:
            f["app_id"] = app_id
        return f

    @staticmethod
    def put_mood(f: dict[str, Any], mood: str | None, app_scoped: bool = True) -> None:
        if mood is None:
            return
        state, locked, rui = MOODS[mood]
        if app_scoped:
            f["app_state"] = state
            f["recent_user_interaction"] = rui
        f["device_locked"] = locked

    def state(self, dev: Device, ms: int, app_id: str, mood: str) -> Ev:
        f = self.base(dev, "state", app_id)
        self.put_mood(f, mood)
        return self.emit(dev, ms, f)

    def retrieval(
        self,
        dev: Device,
        ms: int,
        app_id: str | None,
        dest: str | None,
        *,
        bytes_in: int | None,
        url: str | None,
        dest_ip: str | None,
        method: str | None = "http",
        mood: str | None = None,
        dest_port: int = 443,
    ) -> Ev:
        f = self.base(dev, "retrieval", app_id)
        if dest is not None:
            f["dest"] = dest
        if dest_ip is not None:
            f["dest_ip"] = dest_ip
        f["dest_port"] = dest_port
        if url is not None:
            f["url"] = url
        if bytes_in is not None:
            f["bytes_in"] = bytes_in
        if method is not None:
            f["retrieval_method"] = method
        self.put_mood(f, mood, app_scoped=app_id is not None)
        return self.emit(dev, ms, f)

    def flow(self, dev: Device, ms: int, dest: str, dest_ip: str, bytes_in: int | None) -> Ev:
        """An NSM flow: no device_id, no platform, no app; the device is found by src_ip."""
        f: dict[str, Any] = {
            "activity": "retrieval",
            "src_ip": dev.ip,
            "dest": dest,
            "dest_ip": dest_ip,
            "dest_port": 443,
        }
        if bytes_in is not None:
            f["bytes_in"] = bytes_in
        ev = self.emit(dev, ms, f, idkind="flow")
        ev.event_id = f"C{self.rng.getrandbits(68):017x}"
        return ev

    def file(
        self,
        dev: Device,
        ms: int,
        app_id: str | None,
        path: str,
        *,
        size: int | None,
        ftype: str | None,
        file_hash: str | None = None,
        mood: str | None = None,
        app_scoped_mood: bool = True,
    ) -> Ev:
        f = self.base(dev, "file_create", app_id)
        f["file_path"] = path
        f["file_name"] = path.rsplit("/", 1)[-1]
        if size is not None:
            f["file_size"] = size
        f["file_hash"] = file_hash or sha256_hex(self.rng)
        if ftype:
            f["file_type"] = ftype
        self.put_mood(f, mood, app_scoped=app_scoped_mood and app_id is not None)
        return self.emit(dev, ms, f)

    def follow(self, dev: Device, ms: int, activity: str, app_id: str, path: str, **extra: Any) -> Ev:
        f = self.base(dev, activity, app_id)
        f["file_path"] = path
        f.update(extra)
        return self.emit(dev, ms, f)

    # ------------------------------------------------------------ names
    def word(self) -> str:
        return self.rng.choice(TABLE.words)

    def hexs(self, n: int) -> str:
        return f"{self.rng.getrandbits(4 * n):0{n}x}"

    def bad_url(self, dest: str, name: str, names_file: bool) -> str:
        scheme = "https" if self.rng.random() < 0.8 else "http"
        if names_file:
            d = self.rng.choice(TABLE.url_dirs)
            return f"{scheme}://{dest}/{d}/{name}"
        query = f"?v={self.rng.randint(1, 99)}" if self.rng.random() < 0.5 else ""
        return f"{scheme}://{dest}/c/{self.hexs(24)}{query}"

    def pick_mood(self) -> str:
        return self.rng.choices([m for m, _ in MOOD_WEIGHTS], [w for _, w in MOOD_WEIGHTS])[0]

    def ensure_app(self, dev: Device, app_id: str) -> None:
        if app_id not in dev.apps:
            dev.apps.append(app_id)


# ---------------------------------------------------------------------------- payload files
def render_name(b: CaseBuilder, pattern: NamePattern) -> str:
    """A file name from a name pattern of cases.yaml, drawing left to right (see its header)."""
    names = []
    for template in pattern.templates:
        out = []
        for part in template:
            if part.kind == "text":
                out.append(part.text)
            elif part.kind == "word":
                out.append(b.word())
            elif part.kind == "Word":
                out.append(b.word().capitalize())
            elif part.kind == "hex":
                out.append(b.hexs(part.digits))
            else:
                out.append(b.rng.choice(part.choices))
        names.append("".join(out))
    return b.rng.choice(names) if pattern.pick else names[0]


def _payload_table(platform: str) -> dict[str, tuple[Callable[[CaseBuilder], str], str | None, int, int]]:
    """kind: (name maker, file_type, min size, max size)."""
    return {
        kind: (partial(render_name, pattern=p.name), p.file_type, p.min_size, p.max_size)
        for kind, p in TABLE.payloads[platform].items()
    }


PAYLOADS_ANDROID = _payload_table(ANDROID)
PAYLOADS_IOS = _payload_table(IOS)


def payload_path(b: CaseBuilder, dev: Device, app_id: str, kind: str, name: str, where: str) -> str:
    """Raw path of a planted file (normalized later by normalize_path where the raw form differs)."""
    if dev.platform == ANDROID:
        sub = b.rng.choice(["", "dex/", "plugins/", "modules/", ".cache/", "app_data/"])
        if where == "cache":
            return f"/data/data/{app_id}/cache/{sub}{name}"
        if where == "app_dir":
            return f"/data/data/{app_id}/app_{b.rng.choice(['dex', 'outdex', 'payload'])}/{name}"
        if where == "ext":
            return f"/storage/emulated/0/Android/data/{app_id}/files/{sub}{name}"
        if where == "user0":
            return f"/data/user/0/{app_id}/files/{sub}{name}"
        if where == "download":
            return f"/storage/emulated/0/Download/{name}"
        if where == "sdcard":
            return f"/sdcard/{b.rng.choice(['Download', 'Documents', 'Documents/.sys'])}/{name}"
        if where == "codepush":
            return f"/data/data/{app_id}/files/CodePush/{b.hexs(64)}/CodePush/{name}"
        return f"/data/data/{app_id}/files/{sub}{name}"
    container = dev.container(b.seed, app_id)
    if kind == "framework":
        return f"{container}/Library/Application Support/Frameworks/{name}.framework/{name}"
    if where == "codepush":
        return f"{container}/Library/Application Support/CodePush/{b.hexs(64)}/{name}"
    if where == "var":
        container = container.replace("/private/var/", "/var/", 1)
    sub = {"tmp": "tmp", "docs": "Documents", "support": "Library/Application Support/" + b.word()}.get(
        where, "Library/Caches/" + b.rng.choice(["com.plugin", "assets", "rt"])
    )
    return f"{container}/{sub}/{name}"


# ---------------------------------------------------------------------------- the chain
def dest_for(b: CaseBuilder, mode: str, app_id: str) -> tuple[str, str | None, str]:
    """(dest, dest_ip, normalized dest) of the planted retrieval."""
    p = b.p
    if mode == "bad":
        d = p.bad_host()
        return d, p.bad_ip(), d
    if mode == "raw_ip":
        ip = p.bad_ip()
        return ip, ip, ip
    if mode == "lookalike_exact":
        d = p.lookalike_exact()
        return d, p.bad_ip(), d
    if mode == "lookalike_boundary":
        d = p.lookalike_boundary()
        return d, p.bad_ip(), d
    if mode == "cidr_adjacent":
        d = p.bad_host()
        return d, p.cidr_adjacent_ip(), d
    if mode == "baselined_other_app":
        d = p.bad_host()
        other = b.rng.choice([a for a in catalog.ANDROID_STAGERS + catalog.IOS_STAGERS if a != app_id])
        p.extra_baseline.append(
            {
                "app_id": other,
                "dest": d,
                "first_seen": p.iso_days_before(45),
                "last_seen": p.iso_days_before(1),
                "count": b.rng.randint(20, 900),
            }
        )
        return d, p.bad_ip(), d
    if mode == "baseline_recent":
        d = p.bad_host()
        p.extra_baseline.append(
            {
                "app_id": app_id,
                "dest": d,
                "first_seen": p.iso_at(b.r_ms - 120 * S),
                "last_seen": p.iso_at(b.r_ms - 100 * S),
                "count": 1,
            }
        )
        return d, p.bad_ip(), d
    if mode == "allowlisted":
        d = p.allowlisted_host(b.rng)
        return d, host_ip(d), d
    if mode == "allowlisted_case_dot":
        d = p.allowlisted_exact()
        odd = "".join(c.upper() if b.rng.random() < 0.5 else c for c in d) + "."
        return odd, host_ip(d), d
    if mode == "enterprise_catalog":
        d = catalog.ENTERPRISE_CATALOG_HOST
        return d, host_ip(d), d
    if mode == "enterprise_cidr":
        d = f"pkg{b.rng.randint(1, 40)}.acmecorp-cdn.net"
        return d, p.cidr_ip(), d
    if mode == "baselined":
        d = b.rng.choice(catalog.app(b.dev.platform, app_id).hosts)
        return d, host_ip(d), d
    if mode == "baselined_star":
        d = b.rng.choice(catalog.SHARED_HOSTS)
        return d, host_ip(d), d
    if mode == "loopback":
        return "127.0.0.1", "127.0.0.1", "127.0.0.1"
    raise ValueError(mode)


def choose_app(b: CaseBuilder, dev: Device, which: str, avoid: str | None = None) -> str:
    pool = catalog.pool(which, dev.platform)
    if not pool:
        raise ValueError(f"app pool {which!r} has no {dev.platform} app (fleet.yaml app_pools)")
    pool = [a for a in pool if a != avoid] or pool
    app_id = b.rng.choice(pool)
    b.ensure_app(dev, app_id)
    return app_id


def sizes_for(b: CaseBuilder, c: Chain, lo: int, hi: int) -> tuple[int | None, int | None, int | None]:
    """(bytes_in of R, file_size of F, bytes_in of an earlier partial R0 or None)."""
    r = b.rng
    size = r.randint(lo, hi)
    if c.bytes_mode == "normal":
        return size + r.randint(300, 2_000), size, None
    if c.bytes_mode == "unknown":
        return None, max(size, 9_000), None
    if c.bytes_mode == "unknown_both":
        return None, None, None
    if c.bytes_mode == "summed":
        first = r.randint(4_200, 5_000)
        second = r.randint(4_200, 5_000)
        return second, first + second - 500, first
    if c.bytes_mode == "exact":
        return 8_192, 7_900, None
    if c.bytes_mode == "below":
        return 2_000, 2_000, None
    if c.bytes_mode == "below_unknown":
        return None, 2_000, None
    if c.bytes_mode == "dup":
        return 5_000, max(size, 30_000), None
    if c.bytes_mode == "small_file":
        return r.randint(20_000, 60_000), 4_000, None
    raise ValueError(c.bytes_mode)


def retrieval_only_analytic() -> str:
    """The analytic whose findings a planted iOS retrieval-only case expects (the registry's)."""
    owner = ANALYTICS.running(Rule.IOS_RETRIEVAL_ONLY, IOS)
    assert owner is not None, "the shipped registry runs the iOS retrieval-only rule"
    return owner.id


def analytic(platform: str) -> str:
    """The analytic whose chain findings a planted chain on PLATFORM expects (the registry's)."""
    return ANALYTICS.chain(platform).id


def plant_chain(b: CaseBuilder, c: Chain) -> None:
    r = b.rng
    dev = b.dev
    fdev = b.devices[1] if len(b.devices) > 1 else dev  # other-device twin: F on the second device
    app_id = choose_app(b, dev, c.app)
    if fdev is not dev:
        b.ensure_app(fdev, app_id)
    payloads = PAYLOADS_ANDROID if dev.platform == ANDROID else PAYLOADS_IOS
    namer, ftype, lo, hi = payloads[c.kind]
    name = namer(b)
    f_app: str | None = app_id
    if c.f_mode == "other_app":
        f_app = choose_app(b, dev, "stager", avoid=app_id)
    elif c.f_mode == "provider":
        f_app = DOWNLOADS_PROVIDER
    path_app = f_app if f_app is not None and c.f_mode in ("app", "other_app", "path_app") else app_id
    path = payload_path(b, fdev, path_app, c.kind, name, c.where)
    if c.f_mode in ("shared_noapp", "path_app"):
        f_app = None
    mood = c.mood or b.pick_mood()

    r_ms = b.r_ms
    if c.whole_seconds:
        r_ms = (r_ms // S) * S
    if c.delta_s is None:
        delta_ms = r.randint(500, 120_000) if r.random() < 0.85 else -r.randint(500, 9_500)
    else:
        delta_ms = round(c.delta_s * S)
    f_ms = r_ms + delta_ms

    dest, dest_ip, ndest = dest_for(b, c.dest_mode, app_id)
    url_names = c.url_names if c.url_names is not None else (r.random() < 0.7)
    url: str | None = (
        b.bad_url(dest, name, url_names) if c.dest_mode not in ("allowlisted_case_dot", "loopback") else None
    )
    if c.dest_mode == "loopback":
        url = f"http://127.0.0.1:{r.choice([8080, 8888, 31337])}/{name}"
    if c.dest_mode in ("allowlisted", "enterprise_catalog", "baselined", "baselined_star"):
        url = f"https://{dest}/{r.choice(['download', 'files', 'static'])}/{name}"
    bytes_in, fsize, partial = sizes_for(b, c, lo, hi)

    r_app = app_id if c.r_mode == "edr" else None
    # context: a state event for the finding's app just before R (and before F when F comes first)
    # sets what a flow R, or an F written by another app or without app, cannot carry
    b.state(dev, min(r_ms, f_ms) - r.randint(5, 30) * S, app_id, mood)
    if fdev is not dev:
        b.state(fdev, f_ms - r.randint(5, 30) * S, app_id, mood)
    if partial is not None:  # bytes summed over two retrievals of the same destination
        if c.r_mode == "flow":
            b.flow(dev, r_ms - 60 * S, dest, dest_ip or dest, partial)
        else:
            b.retrieval(
                dev,
                r_ms - 60 * S,
                r_app,
                dest,
                bytes_in=partial,
                url=url,
                dest_ip=dest_ip,
                method=c.method,
                mood=mood,
            )
    if c.r_mode == "flow":
        rev = b.flow(dev, r_ms, dest, dest_ip or dest, bytes_in)
    else:
        rev = b.retrieval(
            dev, r_ms, r_app, dest, bytes_in=bytes_in, url=url, dest_ip=dest_ip, method=c.method, mood=mood
        )
    if c.bytes_mode == "dup":  # the same event delivered twice (same event_id, same content)
        dup = Ev(rev.ms, dict(rev.fields), idkind="dev", planted=True)
        dup.dup_of = rev
        b.events.append((dev, dup))
    decoy = None
    if c.rank_decoy:  # a closer retrieval whose url does not name the file: rank 1 must still win
        d2 = b.p.bad_host()
        decoy = b.retrieval(
            dev,
            f_ms - r.randint(5, 15) * S,
            app_id,
            d2,
            bytes_in=(bytes_in or 0) + 1_000,
            url=b.bad_url(d2, name, False),
            dest_ip=b.p.bad_ip(),
            method=c.method,
            mood=mood,
        )
    f_mood_scoped = f_app == app_id
    fev = b.file(fdev, f_ms, f_app, path, size=fsize, ftype=ftype, mood=mood, app_scoped_mood=f_mood_scoped)

    extra: list[Ev] = []
    stages = ["retrieval", "staging"]
    t = f_ms
    if c.unpack:
        target = path.rsplit(".", 1)[0] + "/"
        t += r.randint(1, 5) * S
        extra.append(b.follow(fdev, t, "unpack", app_id, path, target_path=target))
        stages.append("unpack")
        member = target + ("classes.dex" if dev.platform == ANDROID else f"lib{b.word()}.dylib")
        t += r.randint(2, 20) * S
        extra.append(b.follow(fdev, t, "load", app_id, member, load_method=c.load or "dexclassloader"))
        stages.append("load")
    elif c.load:
        t += r.randint(3, 40) * S
        extra.append(b.follow(fdev, t, "load", app_id, path, load_method=c.load))
        stages.append("load")
    if c.handoff:
        t += r.randint(5, 30) * S
        target_app = PACKAGE_INSTALLER if dev.platform == ANDROID else "com.apple.mobileslideshow"
        extra.append(b.follow(fdev, t, "handoff", app_id, path, target_app=target_app))
        stages.append("handoff")
        if c.app == "chrome":  # the user installs it: the installer loads it (not in-process)
            t += r.randint(10, 40) * S
            extra.append(b.follow(fdev, t, "load", PACKAGE_INSTALLER, path, load_method="install"))
            stages.insert(stages.index("handoff"), "load")
    if c.repeat:
        t2 = max(f_ms, r_ms) + r.randint(20, 60) * S
        if c.r_mode == "flow":
            extra.append(b.flow(dev, t2, dest, dest_ip or dest, r.randint(9_000, 300_000)))
        else:
            extra.append(
                b.retrieval(
                    dev,
                    t2,
                    r_app,
                    dest,
                    bytes_in=r.randint(9_000, 300_000),
                    url=url,
                    dest_ip=dest_ip,
                    method=c.method,
                    mood=mood,
                )
            )
        stages.append("repeat_retrieval")
    stages = [s for s in STAGE_ORDER if s in stages]

    intended = mood_context(mood)
    if catalog.unapproved(dev.platform, app_id):
        intended.append("unapproved_role")
    note = ""
    if c.f_mode == "other_app":
        note = f"F written by {f_app}"
    if fdev is not dev:
        note = f"R on {dev.device_id}, F on {fdev.device_id}"
    t_main = Truth(
        b.label,
        c.clause,
        c.expected,
        analytic(dev.platform),
        dev.platform,
        fdev,
        app_id,
        rev,
        fev,
        ndest,
        stages,
        extra,
        [rev, fev],
        intended,
        r_device=dev,
        note=note,
    )
    b.truths.append(t_main)
    if c.recreate:  # the same file written again: no second finding
        f2 = b.file(
            fdev,
            f_ms + r.randint(40, 90) * S,
            f_app,
            path,
            size=fsize,
            ftype=ftype,
            file_hash=fev.fields["file_hash"],
            mood=mood,
            app_scoped_mood=f_mood_scoped,
        )
        b.truths.append(
            Truth(
                "nm_duplicate_staged_file",
                "1 duplicates: a file_create with the same device, path and hash as one within "
                "time_window before it adds no finding",
                False,
                analytic(dev.platform),
                dev.platform,
                fdev,
                app_id,
                rev,
                f2,
                ndest,
                list(stages),
                [],
                [rev, f2],
                None,
                r_device=dev,
                note="re-creation of the file of the twin row",
            )
        )
    _ = decoy


def plant_retrieval_only(
    b: CaseBuilder,
    *,
    app: str,
    bytes_mode: str,
    repeat: bool,
    expected: bool,
    clause: str,
    summed: bool = False,
) -> None:
    r = b.rng
    dev = b.dev
    app_id = choose_app(b, dev, app)
    mood = b.pick_mood()
    dest = b.p.bad_host()
    dest_ip = b.p.bad_ip()
    name = render_name(b, TABLE.retrieval_only_names)
    url = b.bad_url(dest, name, r.random() < 0.5)
    r_ms = b.r_ms
    b.state(dev, r_ms - r.randint(5, 30) * S - (30 * S if summed else 0), app_id, mood)
    sizes: dict[str, int | None] = {"normal": r.randint(20_000, 3_000_000), "below": 2_000, "unknown": None}
    bytes_in = sizes[bytes_mode]
    if summed:
        first = b.retrieval(
            dev,
            r_ms - 30 * S,
            app_id,
            dest,
            bytes_in=r.randint(4_200, 5_000),
            url=url,
            dest_ip=dest_ip,
            mood=mood,
        )
        bytes_in = r.randint(4_200, 5_000)
        _ = first
    rev = b.retrieval(dev, r_ms, app_id, dest, bytes_in=bytes_in, url=url, dest_ip=dest_ip, mood=mood)
    extra: list[Ev] = []
    stages = ["retrieval"]
    if repeat:
        extra.append(
            b.retrieval(
                dev,
                r_ms + r.randint(60, 240) * S,
                app_id,
                dest,
                bytes_in=r.randint(2_000, 400_000),
                url=url,
                dest_ip=dest_ip,
                mood=mood,
            )
        )
        stages.append("repeat_retrieval")
    intended = mood_context(mood)
    if catalog.unapproved(dev.platform, app_id):
        intended.append("unapproved_role")
    b.truths.append(
        Truth(
            b.label,
            clause,
            expected,
            retrieval_only_analytic(),
            dev.platform,
            dev,
            app_id,
            rev,
            None,
            dest,
            stages,
            extra,
            [rev],
            intended,
            r_device=dev,
        )
    )


# ---------------------------------------------------------------------------- the labels
@dataclass(frozen=True)
class CaseDef:
    label: str
    platform: str
    expected: bool
    build: Callable[[CaseBuilder], None]
    devices: int = 1
    needs: str = ""  # "suffix_row": needs a `*.suffix` allowlist row


def _chain(**kw: Any) -> Callable[[CaseBuilder], None]:
    c = Chain(**kw)
    return lambda b: plant_chain(b, c)


def _ronly(**kw: Any) -> Callable[[CaseBuilder], None]:
    return lambda b: plant_retrieval_only(b, **kw)


def _build(plan: Chain | RetrievalOnly, expected: bool, clause: str) -> Callable[[CaseBuilder], None]:
    if isinstance(plan, Chain):
        return lambda b: plant_chain(b, plan)
    return _ronly(
        app=plan.app,
        bytes_mode=plan.bytes_mode,
        repeat=plan.repeat,
        summed=plan.summed,
        expected=expected,
        clause=clause,
    )


# In cases.yaml order: the planner plants them in this order.
CASES: list[CaseDef] = [
    CaseDef(c.label, c.platform, c.expected, _build(c.plan, c.expected, c.clause), c.devices, c.needs)
    for c in TABLE.cases
]
CASES_BY_LABEL = {c.label: c for c in CASES}
