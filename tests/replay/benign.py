"""Benign behaviour, the same every day so a destination baseline learns it in the first week:
app sessions (unlock, foreground, requests to the app's own hosts, background, lock), background
syncs, and the operating system's cleartext probes on a site's Wi-Fi.

None of it can raise a finding on its own: every file it writes either matches no risk pattern or
lies in a shipped allowed path (WebView, Glide, OkHttp, fsCachedData, WKWebView, CodePush, Play
services modules), and the apps that MDM manages with no approved role on iOS (the retrieval-only
rule of AN1849) only pull small JSON, never two within QUIET_SPACING of each other from one host,
so no sum of their bytes within a (even a widened, 600 s) window reaches the 8192-byte threshold.
Around each planted case its device does nothing on the network (`quiet`), so a case's label
depends only on its own events and the lookups."""

from __future__ import annotations

import base64
import bisect
import hashlib
import random
from collections.abc import Sequence

from .actions import Action, FileWrite, Keyguard, ProcessStart, Request, State
from .catalog import (
    CAPTIVE_IOS,
    CONNECTIVITY_ANDROID,
    OCSP_ANDROID,
    OCSP_COMMON,
    OCSP_IOS,
    OCSP_ONE_DEVICE,
    AppSpec,
    Fetch,
    apps_by_id,
    host_addresses,
)
from .fleet import key_of
from .model import DAYS, Device, Fleet, Platform, Presence, at, day_start, hexstr, rng_for, utc, uuid4

QUIET_SPACING = 660.0  # seconds between two requests of a managed-no-role iOS app to one host
SMALL_BYTES = 4000  # their largest response
ANDROID_UA = "okhttp/4.12.0"
IOS_UA = "CFNetwork/1568.200.51 Darwin/24.1.0"
OCSP_MIME = "application/ocsp-response"


class Locator:
    """The site presence of a device at a time (bisect over its sorted stays)."""

    def __init__(self, presence: Sequence[Presence]) -> None:
        self.stays: dict[str, list[Presence]] = {}
        for span in sorted(presence, key=lambda p: p.arrive):
            self.stays.setdefault(span.device_id, []).append(span)
        self.starts = {d: [s.arrive for s in spans] for d, spans in self.stays.items()}

    def where(self, device_id: str, time: float) -> Presence | None:
        starts = self.starts.get(device_id, [])
        i = bisect.bisect_right(starts, time) - 1
        if i >= 0:
            span = self.stays[device_id][i]
            if span.arrive <= time <= span.leave:
                return span
        return None


def content_hash(*parts: object) -> str:
    return hashlib.sha256(":".join(map(str, parts)).encode()).hexdigest()


class Containers:
    """iOS app data containers: one UUID per device and app, stable for the whole scenario."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.known: dict[tuple[str, str], str] = {}

    def of(self, device: Device, app_id: str) -> str:
        key = (device.device_id, app_id)
        if key not in self.known:
            self.known[key] = uuid4(rng_for(self.seed, "container", *key)).upper()
        return f"/var/mobile/Containers/Data/Application/{self.known[key]}"


def fill(template: str, rng: random.Random) -> str:
    out = template
    while "{" in out:
        if "{hex}" in out:
            out = out.replace("{hex}", hexstr(rng, 16), 1)
        elif "{n}" in out:
            out = out.replace("{n}", str(rng.randint(10, 9999)), 1)
        elif "{id}" in out:
            out = out.replace(
                "{id}", "".join(rng.choice("abcdefghijkmnpqrstuvwxyz0123456789") for _ in range(11)), 1
            )
        elif "{b64}" in out:
            out = out.replace("{b64}", "MFMwUTBPME0wSzAJBgUrDgMCGgUABBT" + hexstr(rng, 24), 1)
        else:
            raise ValueError(f"unknown placeholder in {template!r}")
    return out


def store_path(
    device: Device, app_id: str, store: str, uri: str, when: float, rng: random.Random, containers: Containers
) -> str:
    """Where the response of a fetch lands on the device, as the EDR reports the path."""
    name = uri.rsplit("/", 1)[-1].split("?", 1)[0]
    if device.platform == Platform.ANDROID:
        base = f"/data/user/0/{app_id}"
        paths = {
            "json": f"{base}/files/cache/{hexstr(rng, 16)}.json",
            "glide": f"{base}/cache/image_manager_disk_cache/{hexstr(rng, 64)}.0",
            "okhttp": f"{base}/cache/okhttp/{hexstr(rng, 32)}.1",
            "webview": f"{base}/cache/WebView/Default/HTTP Cache/Cache_Data/{hexstr(rng, 16)}_0",
            "media": "/storage/emulated/0/Android/media/com.whatsapp/WhatsApp/Media/WhatsApp Images/"
            f"IMG-{utc(when):%Y%m%d}-WA{rng.randint(0, 9999):04d}.jpg",
            "attachment": f"{base}/files/attachments/{name}",
            "manual": f"{base}/files/manuals/{name}",
            "codepush": f"{base}/files/CodePush/download.zip",
            "chimera": f"/data/user/0/com.google.android.gms/app_chimera/m/{hexstr(rng, 8)}/"
            f"DynamiteModulesC_{rng.randint(240000000, 249999999)}.apk",
            "definitions": f"{base}/files/definitions/{name}",
        }
    else:
        base = containers.of(device, app_id)
        paths = {
            "json": f"{base}/Documents/cache/{hexstr(rng, 16)}.json",
            "images": f"{base}/Library/Caches/images/{hexstr(rng, 32)}.jpg",
            "fscache": f"{base}/Library/Caches/{app_id}/fsCachedData/{uuid4(rng).upper()}",
            "wkwebview": f"{base}/Library/Caches/WebKit/NetworkCache/Version 16/Records/"
            f"{hexstr(rng, 40).upper()}/Resource/{hexstr(rng, 40).upper()}",
            "attachment": f"{base}/Documents/Attachments/{name}",
        }
    if store not in paths:
        raise ValueError(f"store {store!r} is not known on {device.platform.value}")
    return paths[store]


class Benign:
    def __init__(
        self,
        seed: int,
        fleet: Fleet,
        quiet: dict[str, list[tuple[float, float]]],
        constrained: set[tuple[str, str]],
    ) -> None:
        self.seed = seed
        self.fleet = fleet
        self.quiet = quiet
        self.constrained = constrained  # (platform, app_id): managed with no approved role on iOS
        self.locator = Locator(fleet.presence)
        self.apps = apps_by_id()
        self.ips = host_addresses()
        self.containers = Containers(seed)

    # ---------------------------------------------------------------------------------------
    def actions(self) -> list[Action]:
        out: list[Action] = []
        for device in self.fleet.devices:
            mine: list[Action] = []
            for day in range(DAYS):
                rng = rng_for(self.seed, "benign", device.device_id, day)
                mine.extend(self.sessions(device, day, rng))
                mine.extend(self.syncs(device, day, rng))
            mine.extend(self.probes(device))
            out.extend(self.keep(device, mine))
        return out

    def keep(self, device: Device, actions: list[Action]) -> list[Action]:
        """Drop requests inside the device's quiet windows, and space the constrained apps' ones."""
        windows = self.quiet.get(device.device_id, [])
        last: dict[tuple[str | None, str], float] = {}
        kept: list[Action] = []
        for action in sorted(actions, key=lambda a: a.time):
            if isinstance(action, Request):
                if any(lo <= action.time <= hi for lo, hi in windows):
                    continue
                if action.app_id is not None and (device.platform.value, action.app_id) in self.constrained:
                    key = (action.app_id, action.host)
                    if action.time - last.get(key, -1e12) < QUIET_SPACING or action.size > SMALL_BYTES:
                        continue
                    last[key] = action.time
            kept.append(action)
        return kept

    def installed(self, device: Device) -> list[AppSpec]:
        return [self.apps[(device.platform, a)] for a in device.apps if (device.platform, a) in self.apps]

    # ---------------------------------------------------------------------------------------
    def sessions(self, device: Device, day: int, rng: random.Random) -> list[Action]:
        apps = [a for a in self.installed(device) if a.usage > 0]
        weights = [a.usage for a in apps]
        starts = sorted(rng.uniform(at(day, 6, 30), at(day, 23, 0)) for _ in range(rng.randint(36, 54)))
        out: list[Action] = []
        free_from = 0.0
        for start in starts:
            if start < free_from:
                continue
            app = rng.choices(apps, weights)[0]
            length = rng.uniform(60, 600)
            end = start + length
            free_from = end + 120
            unlock = start - rng.uniform(2, 15)
            out.append(State(unlock, device, "device.lock", None, {"device_locked": False}))
            if device.android:
                out.append(Keyguard(unlock + 0.05, device, secured=False))
                if rng.random() < 0.3:
                    out.append(ProcessStart(start - 0.4, device, app.app_id, self.apk_hash(app)))
            out.append(State(start, device, "app.state", app.app_id, {"app_state": "foreground"}))
            out.append(
                State(
                    start + rng.uniform(1, 4),
                    device,
                    "user.interaction",
                    app.app_id,
                    {"recent_user_interaction": True},
                )
            )
            times = sorted(rng.uniform(start + 2, end - 1) for _ in range(rng.randint(2, 7)))
            for when in times:
                fetch = rng.choices(app.fetches, [f.weight for f in app.fetches])[0]
                out.append(self.request(device, app, fetch, when, rng, background=False))
            out.append(State(end, device, "app.state", app.app_id, {"app_state": "background"}))
            lock = end + rng.uniform(5, 90)
            out.append(State(lock, device, "device.lock", None, {"device_locked": True}))
            if device.android:
                out.append(Keyguard(lock + 0.05, device, secured=True))
        return out

    def syncs(self, device: Device, day: int, rng: random.Random) -> list[Action]:
        out: list[Action] = []
        for app in self.installed(device):
            if not app.sync_minutes:
                continue
            period = app.sync_minutes * 60
            when = day_start(day) + rng.uniform(0, period)
            while when < day_start(day + 1) - 300:  # the last sync of day 8 ends inside the scenario
                fetch = app.fetches[0] if app.usage > 0 or len(app.fetches) == 1 else rng.choice(app.fetches)
                out.append(self.request(device, app, fetch, when, rng, background=True))
                when += period * rng.uniform(0.9, 1.1)
        return out

    def request(
        self, device: Device, app: AppSpec, fetch: Fetch, when: float, rng: random.Random, background: bool
    ) -> Request:
        uri = fill(fetch.path, rng)
        size = int(rng.uniform(*fetch.size))
        content = content_hash(self.seed, fetch.host, uri, size)
        request = Request(
            when,
            device,
            app.app_id,
            fetch.host,
            self.ips[fetch.host],
            uri,
            fetch.mime,
            size,
            content,
            scheme=fetch.scheme,
            background=background,
            user_agent=ANDROID_UA if device.android else IOS_UA,
            context={"app_state": "background"} if background else {},
        )
        if fetch.store is not None:
            path = store_path(device, app.app_id, fetch.store, uri, when, rng, self.containers)
            request.file = FileWrite(
                when + rng.uniform(0.3, 2.5), device, app.app_id, path, size, fetch.mime, content
            )
        return request

    def apk_hash(self, app: AppSpec) -> str:
        digest = hashlib.sha256(f"{app.app_id}:{app.version}".encode()).digest()
        return base64.b64encode(digest).decode()

    # ------------------------------------------------------------------ the OS on a site's Wi-Fi
    def probes(self, device: Device) -> list[Action]:
        rng = rng_for(self.seed, "probes", device.device_id)
        out: list[Action] = []
        for stay in self.locator.stays.get(device.device_id, []):
            first = stay.arrive + rng.uniform(2, 10)
            if device.android:
                out.append(self.probe(device, CONNECTIVITY_ANDROID, first, rng, status=204))
            else:
                out.append(self.probe(device, CAPTIVE_IOS, first, rng))
            when = stay.arrive + rng.uniform(600, 3600)
            while when < stay.leave - 120:
                hosts = (OCSP_ANDROID, OCSP_COMMON) if device.android else (OCSP_IOS, OCSP_COMMON)
                hosts += tuple(v for k, v in OCSP_ONE_DEVICE.items() if k == key_of(device))
                host = rng.choice(hosts)
                conn = f"ocsp-{device.device_id}-{when:.0f}"
                for n in range(rng.randint(1, 3)):  # one keep-alive connection, a request per certificate
                    out.append(self.probe(device, host, when + n * rng.uniform(0.05, 0.4), rng, conn=conn))
                if device.android and rng.random() < 0.5:
                    out.append(self.probe(device, CONNECTIVITY_ANDROID, when + 30, rng, status=204))
                when += rng.uniform(2400, 7200)
        return out

    def probe(
        self,
        device: Device,
        target: tuple[str, str],
        when: float,
        rng: random.Random,
        status: int = 200,
        conn: str | None = None,
    ) -> Request:
        host, template = target
        uri = fill(template, rng)
        if status == 204:
            mime, size = "", 0
        elif host == CAPTIVE_IOS[0]:
            mime, size = "text/html", 68
        else:
            mime, size = OCSP_MIME, rng.randint(1400, 1800)
        agent = "Dalvik/2.1.0 (Linux; U; Android 14)" if device.android else "com.apple.trustd/3.0"
        if host == CAPTIVE_IOS[0]:
            agent = "CaptiveNetworkSupport-491.0.1 wispr"
        return Request(
            when,
            device,
            None,
            host,
            self.ips[host],
            uri,
            mime,
            size,
            content_hash(self.seed, host, uri, size),
            scheme="http",
            status=status,
            edr=False,
            amapi=False,
            conn=conn,
            user_agent=agent,
        )
