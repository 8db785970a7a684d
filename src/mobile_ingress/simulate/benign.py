"""Benign traffic of one device: app sessions, background sync, store and update delivery, caches.

Nothing here can raise a finding on its own: every benign retrieval goes to a destination that is
baselined for its app (or for `*`) or allowlisted, except browser and ad-SDK traffic (flagged
F_NB), which never comes with a risky file outside an allowed path or an allowlisted app. Files of
a risky type are only written to allowed paths (caches, CodePush, Play delivery), which can never
be staged files, or by allowlisted browsers to shared storage (flagged F_RISKY: a planted
download_manager retrieval of another app could claim them, so the planter keeps them away).
"""

from __future__ import annotations

import hashlib
import math
import random
from typing import Any

from . import catalog
from .catalog import ANDROID, DOWNLOADS_PROVIDER, IOS, PACKAGE_INSTALLER
from .model import F_NB, F_NOAPP, F_RISKY, F_STATE, Device, Ev, sha256_hex, zeek_uid
from .shapes import DEFAULT, Shape

HOUR_MS = 3_600_000

SESSIONS_PER_HOUR = 3.6
BG_SYNCS_PER_HOUR = 3.5
SHARED_FLOWS_PER_HOUR = 2.0

AD_HOSTS = [
    "securepubads.g.doubleclick.net",
    "ads.pubmatic.com",
    "ib.adnxs.com",
    "cdn.taboola.com",
    "tpc.googlesyndication.com",
]

MEDIA_TYPES = [  # (extension, MIME, min bytes, max bytes, weight)
    ("jpg", "image/jpeg", 20_000, 600_000, 4.0),
    ("png", "image/png", 4_000, 300_000, 2.0),
    ("webp", "image/webp", 5_000, 200_000, 3.0),
    ("mp4", "video/mp4", 300_000, 20_000_000, 1.0),
]


def host_ip(host: str) -> str:
    """A stable public-looking address for a benign host name."""
    d = hashlib.sha256(host.encode()).digest()
    a, b = catalog.BENIGN_IP_PREFIXES[d[0] % len(catalog.BENIGN_IP_PREFIXES)]
    return f"{a}.{b}.{d[1]}.{1 + d[2] % 253}"


def diurnal(ms: int) -> float:
    """Usage intensity by UTC hour: mean 1 over a day, low at 03:00, high at 15:00."""
    hod = (ms / HOUR_MS) % 24
    return 1.0 + 0.4 * math.cos(2 * math.pi * (hod - 15) / 24)


class BenignGenerator:
    def __init__(self, seed: int, device: Device, start_ms: int, end_ms: int, shape: Shape = DEFAULT) -> None:
        self.seed = seed
        self.shape = shape
        self.dev = device
        self.start = start_ms
        self.end = end_ms
        self.rng = random.Random(f"{seed}:benign:{device.idx}")
        self.events: list[Ev] = []
        self.apps = [catalog.app(device.platform, a) for a in device.apps]
        self.use_apps = [a for a in self.apps if a.weight > 0]
        self.weights = [a.weight for a in self.use_apps]
        self.locked = self.rng.random() < 0.5
        self.counter = 0

    # ---------------------------------------------------------------- helpers
    def base(self, activity: str, app_id: str | None = None) -> dict[str, Any]:
        f: dict[str, Any] = {
            "activity": activity,
            "platform": self.dev.platform,
            "device_id": self.dev.device_id,
            "user": self.dev.user,
        }
        if app_id is not None:
            f["app_id"] = app_id
        return f

    def emit(self, ms: int, fields: dict[str, Any], flags: int = 0, idkind: str | None = "dev") -> Ev:
        ev = Ev(int(ms), fields, idkind=idkind, flags=flags)
        self.events.append(ev)
        return ev

    def hexname(self, n: int) -> str:
        return f"{self.rng.getrandbits(4 * n):0{n}x}"

    def android_dir(self, pkg: str) -> str:
        return f"/data/data/{pkg}"

    def ios_dir(self, bundle: str) -> str:
        return self.dev.container(self.seed, bundle)

    def retrieval(
        self,
        ms: int,
        app_id: str,
        host: str,
        path: str,
        nbytes: int,
        fg: bool,
        method: str = "http",
        flags: int = 0,
    ) -> Ev:
        f = self.base("retrieval", app_id)
        f.update(
            {
                "dest": host,
                "dest_ip": host_ip(host),
                "dest_port": 443,
                "url": f"https://{host}{path}",
                "bytes_in": nbytes,
                "retrieval_method": method,
                "app_state": "foreground" if fg else "background",
                "recent_user_interaction": fg,
            }
        )
        ev = self.emit(ms, f, flags)
        if self.rng.random() < self.shape.flow_share:
            self.flow(ms + self.rng.randint(-300, 900), host, int(nbytes * 1.02) + 620)
        return ev

    def flow(self, ms: int, host: str, nbytes: int) -> Ev:
        f: dict[str, Any] = {
            "activity": "retrieval",
            "src_ip": self.dev.ip,
            "dest": host,
            "dest_ip": host_ip(host),
            "dest_port": 443,
            "bytes_in": nbytes,
        }
        if self.rng.random() < 0.05:
            return self.emit(ms, f, F_NOAPP, idkind=None)
        ev = self.emit(ms, f, F_NOAPP, idkind="flow")
        ev.event_id = zeek_uid(self.rng)
        return ev

    def file(
        self,
        ms: int,
        app_id: str | None,
        path: str,
        size: int,
        ftype: str | None,
        flags: int = 0,
        fg: bool | None = None,
    ) -> Ev:
        f = self.base("file_create", app_id)
        f.update(
            {
                "file_path": path,
                "file_name": path.rsplit("/", 1)[-1],
                "file_size": size,
                "file_hash": sha256_hex(self.rng),
            }
        )
        if ftype:
            f["file_type"] = ftype
        if fg is not None and app_id is not None and self.rng.random() < 0.5:
            f["app_state"] = "foreground" if fg else "background"
        return self.emit(ms, f, flags)

    def state_app(self, ms: int, app_id: str, fg: bool) -> Ev:
        f = self.base("state", app_id)
        f.update({"app_state": "foreground" if fg else "background", "recent_user_interaction": fg})
        return self.emit(ms, f, F_STATE)

    def state_lock(self, ms: int, locked: bool) -> Ev:
        self.locked = locked
        f = self.base("state")
        f["device_locked"] = locked
        return self.emit(ms, f, F_STATE)

    def pick_app(self) -> catalog.App:
        return self.rng.choices(self.use_apps, self.weights)[0]

    def may_go_off_baseline(self, app: catalog.App) -> bool:
        # an iOS managed app without an approved role never leaves its baseline here: such a
        # retrieval of 8 KiB or more would be a (true) AN1849 retrieval-only finding
        return not (app.platform == IOS and catalog.unapproved(IOS, app.app_id))

    # ---------------------------------------------------------------- content
    def media_file(self, ms: int, app: catalog.App, fg: bool) -> int:
        r = self.rng
        ext, mime, lo, hi, _w = r.choices(MEDIA_TYPES, [m[4] for m in MEDIA_TYPES])[0]
        if ext == "mp4" and "video" not in app.features and r.random() < 0.7:
            ext, mime, lo, hi, _w = MEDIA_TYPES[0]
        size = r.randint(lo, hi)
        name = f"{self.hexname(16)}.{ext}"
        if self.dev.platform == ANDROID:
            if app.app_id == "com.whatsapp" and ext == "jpg":
                path = (
                    f"/storage/emulated/0/Android/media/com.whatsapp/WhatsApp/Media/WhatsApp Images/"
                    f"IMG-{r.randint(20240101, 20250228)}-WA{r.randint(0, 9999):04d}.jpg"
                )
            elif r.random() < 0.3:
                path = f"/storage/emulated/0/Android/data/{app.app_id}/files/Pictures/{name}"
            else:
                path = f"{self.android_dir(app.app_id)}/cache/images/{name}"
        else:
            sub = r.choice(["Library/Caches/images", "Documents/media", "tmp"])
            path = f"{self.ios_dir(app.app_id)}/{sub}/{name}"
        host = r.choice(app.hosts) if app.hosts else "www.gstatic.com"
        self.retrieval(ms, app.app_id, host, f"/media/{name}", size + r.randint(200, 900), fg)
        self.file(ms + r.randint(30, 1800), app.app_id, path, size, mime, fg=fg)
        return size

    def json_exchange(self, ms: int, app: catalog.App, fg: bool) -> None:
        r = self.rng
        host = r.choice(catalog.SHARED_HOSTS) if r.random() < 0.15 else r.choice(app.hosts)
        endpoint = r.choice(["feed", "sync", "config", "messages", "profile", "events", "inbox", "state"])
        size = r.randint(300, 40_000)
        self.retrieval(ms, app.app_id, host, f"/api/v2/{endpoint}", size, fg)
        if r.random() < self.shape.json_file_share:
            name = f"{endpoint}_{self.hexname(8)}.json"
            if self.dev.platform == ANDROID:
                path = f"{self.android_dir(app.app_id)}/files/{endpoint}/{name}"
            else:
                path = f"{self.ios_dir(app.app_id)}/Library/Caches/{endpoint}/{name}"
            self.file(ms + r.randint(20, 900), app.app_id, path, size, "application/json", fg=fg)

    def cache_entry(self, ms: int, app: catalog.App) -> None:
        """Allowed-path caches: WebView/WKWebView, NSURLCache fsCachedData, Glide, OkHttp."""
        r = self.rng
        size = r.randint(1_000, 180_000)
        if self.dev.platform == ANDROID:
            kinds = ["webview", "glide", "okhttp"] if "webview" in app.features else ["glide", "okhttp"]
            kind = r.choice(kinds)
            d = self.android_dir(app.app_id)
            if kind == "webview":
                # no extension and often >= 8 KiB: opaque, but in an allowed path
                path, flags = f"{d}/cache/WebView/Default/HTTP Cache/Cache_Data/{self.hexname(16)}_0", 0
            elif kind == "glide":
                path, flags = f"{d}/cache/image_manager_disk_cache/{self.hexname(64)}.0", 0
            else:
                path, flags = f"{d}/cache/okhttp/{self.hexname(32)}.1", 0
        else:
            d = self.ios_dir(app.app_id)
            if "webview" in app.features and r.random() < 0.6:
                h1, h2 = self.hexname(40).upper(), self.hexname(40).upper()
                path = f"{d}/Library/Caches/WebKit/NetworkCache/Version 16/Records/{h1}/Resource/{h2}"
            else:
                u = self.hexname(32).upper()
                uid = f"{u[0:8]}-{u[8:12]}-{u[12:16]}-{u[16:20]}-{u[20:32]}"
                path = f"{d}/Library/Caches/{app.app_id}/fsCachedData/{uid}"
            flags = 0  # opaque, in an allowed path
        self.file(ms, app.app_id, path, size, None, flags)

    def browse(self, ms: int, app: catalog.App) -> None:
        r = self.rng
        site = r.choice(catalog.WEB_SITES)
        page = "/" + r.choice(["", "index.html", "news", "search", "wiki/Main"])
        self.retrieval(ms, app.app_id, site, page, r.randint(15_000, 900_000), True, flags=F_NB)
        if app.platform == IOS and r.random() < 0.5:
            self.cache_entry(ms + r.randint(50, 800), app)

    def ad_request(self, ms: int, app: catalog.App, fg: bool) -> None:
        r = self.rng
        host = r.choice(AD_HOSTS)
        self.retrieval(
            ms, app.app_id, host, f"/gampad/ads?{self.hexname(8)}", r.randint(800, 60_000), fg, flags=F_NB
        )

    # ---------------------------------------------------------------- activities
    def session(self, t: int) -> int:
        r = self.rng
        app = self.pick_app()
        if self.locked:
            self.state_lock(t, False)
            t += r.randint(500, 4000)
        self.state_app(t, app.app_id, True)
        shape = self.shape
        n = r.randint(*shape.steps)
        for _ in range(n):
            t += r.randint(1_500, 40_000)
            if "browser" in app.features or (app.app_id == "com.google.chrome.ios"):
                self.browse(t, app)
            # (the default shape draws no number here: its fleets stay byte for byte as they were)
            elif (shape.media_share is not None and app.hosts and r.random() < shape.media_share) or (
                "media" in app.features and r.random() < 0.45
            ):
                self.media_file(t, app, True)
            elif r.random() < 0.05 and self.may_go_off_baseline(app):
                self.ad_request(t, app, True)
            else:
                self.json_exchange(t, app, True)
            if r.random() < shape.cache_share and "browser" not in app.features:
                self.cache_entry(t + r.randint(40, 1500), app)
            if shape.state_flips is not None:
                self.state_flips(t, app)
            if shape.local_files is not None:
                self.local_files(t, app)
        t += r.randint(5_000, 60_000)
        self.state_app(t, app.app_id, False)
        if r.random() < 0.5:
            t += r.randint(20_000, 120_000)
            self.state_lock(t, True)
        return t

    def state_flips(self, t: int, app: catalog.App) -> None:
        """Between two steps of a session: the user switches away and back, a notification pulls
        another app forward, the screen locks and unlocks. The session's app ends in front."""
        r = self.rng
        assert self.shape.state_flips is not None
        for _ in range(r.randint(*self.shape.state_flips)):
            t += r.randint(150, 1_200)
            kind = r.random()
            if kind < 0.4:
                self.state_app(t, app.app_id, False)
                t += r.randint(150, 1_200)
                self.state_app(t, app.app_id, True)
            elif kind < 0.7:
                other = self.pick_app()
                if other.app_id != app.app_id:
                    self.state_app(t, other.app_id, True)
                    t += r.randint(150, 1_200)
                    self.state_app(t, other.app_id, False)
            else:
                self.state_lock(t, True)
                t += r.randint(150, 1_200)
                self.state_lock(t, False)

    LOCAL_FILES = (  # (folder under the app's data, name pattern, MIME or None): none is risky
        ("databases", "{app}.db-journal", None),
        ("files/logs", "app-{hex}.log", "text/plain"),
        ("cache/thumbnails", "{hex}.jpg", "image/jpeg"),
        ("files/state", "state_{hex}.json", "application/json"),
        ("shared_prefs", "{app}_preferences.xml", "application/xml"),
    )
    IOS_LOCAL_FILES = (
        ("Library/Application Support", "{app}.sqlite-wal", None),
        ("Library/Caches/Logs", "log-{hex}.txt", "text/plain"),
        ("Library/Caches/Thumbnails", "{hex}.jpg", "image/jpeg"),
        ("Documents/state", "state_{hex}.json", "application/json"),
        ("Library/Preferences", "{app}.plist", "application/x-plist"),
    )

    def local_files(self, t: int, app: catalog.App) -> None:
        """Files an app writes on its own between two steps: journals, logs, thumbnails, state."""
        r = self.rng
        assert self.shape.local_files is not None
        android = self.dev.platform == ANDROID
        kinds = self.LOCAL_FILES if android else self.IOS_LOCAL_FILES
        base = self.android_dir(app.app_id) if android else self.ios_dir(app.app_id)
        for _ in range(r.randint(*self.shape.local_files)):
            t += r.randint(20, 900)
            folder, pattern, mime = r.choice(kinds)
            name = pattern.format(app=app.app_id.rsplit(".", 1)[-1], hex=self.hexname(12))
            self.file(t, app.app_id, f"{base}/{folder}/{name}", r.randint(200, 400_000), mime)

    def background_sync(self, t: int) -> None:
        r = self.rng
        app = r.choice(self.apps)
        if not app.hosts or "browser" in app.features or app.category == "store":
            return
        if app.app_id == "com.google.android.gms":
            self.gms_module(t)
            return
        self.json_exchange(t, app, False)

    def store_update(self, t: int) -> None:
        r = self.rng
        if self.dev.platform == IOS:
            f = self.retrieval(
                t,
                "com.apple.AppStore",
                "iosapps.itunes.apple.com",
                f"/itunes-assets/Purple/v4/{self.hexname(2)}/{self.hexname(32)}.signed.dpkg.ipa",
                r.randint(8_000_000, 250_000_000),
                False,
            )
            f.fields["retrieval_method"] = "stream"
            return
        size = r.randint(2_000_000, 90_000_000)
        self.retrieval(
            t,
            "com.android.vending",
            "play.googleapis.com",
            f"/download/by-token/download?token={self.hexname(24)}",
            size,
            False,
        )
        target = r.choice([a for a in self.apps if a.category != "system"] or self.apps)
        if r.random() < 0.3:
            path = (
                f"/data/data/{target.app_id}/files/splitcompat/{r.randint(100, 9999)}/verified-splits/"
                f"split_{r.choice(['feature_camera', 'dynamic_maps', 'ar_module', 'chat_stickers'])}.apk"
            )
            self.file(
                t + r.randint(200, 4000), target.app_id, path, size, "application/vnd.android.package-archive"
            )
            return
        path = f"/data/app/vmdl{r.randint(10_000_000, 2_000_000_000)}.tmp/base.apk"
        self.file(
            t + r.randint(200, 4000),
            "com.android.vending",
            path,
            size,
            "application/vnd.android.package-archive",
        )
        ld = self.base("load", "com.android.vending")
        ld.update({"file_path": path, "load_method": "install"})
        self.emit(t + r.randint(5_000, 30_000), ld)

    def gms_module(self, t: int) -> None:
        r = self.rng
        name = r.choice(["Vision", "MlkitBarcodeUi", "FontsModule", "Nearby", "PhenotypeModule"])
        ver = r.randint(231500000, 243999999)
        size = r.randint(200_000, 12_000_000)
        self.retrieval(
            t,
            "com.google.android.gms",
            "edgedl.me.gvt1.com",
            f"/edgedl/chimera-module/{name.lower()}_{ver}.apk",
            size,
            False,
        )
        path = f"/data/data/com.google.android.gms/app_chimera/m/{self.hexname(8)}/dl-{name}.integ_{ver}.apk"
        self.file(
            t + r.randint(300, 5000),
            "com.google.android.gms",
            path,
            size,
            "application/vnd.android.package-archive",
        )

    def codepush(self, t: int, app: catalog.App) -> None:
        r = self.rng
        size = r.randint(200_000, 3_000_000)
        self.retrieval(
            t,
            app.app_id,
            "codepush.appcenter.ms",
            f"/v0.1/public/codepush/report_status/download/{self.hexname(12)}",
            size,
            False,
        )
        if self.dev.platform == ANDROID:
            base, bundle = f"/data/data/{app.app_id}/files/CodePush", "index.android.bundle"
        else:
            base, bundle = f"{self.ios_dir(app.app_id)}/Library/Application Support/CodePush", "main.jsbundle"
        zpath = f"{base}/download.zip"
        self.file(t + r.randint(300, 3000), app.app_id, zpath, size, "application/zip")
        target = f"{base}/{self.hexname(64)}"
        up = self.base("unpack", app.app_id)
        up.update({"file_path": zpath, "target_path": target + "/"})
        self.emit(t + r.randint(3_100, 5_000), up)
        ld = self.base("load", app.app_id)
        ld.update({"file_path": f"{target}/CodePush/{bundle}", "load_method": "other"})
        self.emit(t + r.randint(5_100, 20_000), ld)

    def browser_download(self, t: int) -> None:
        r = self.rng
        browsers = [a for a in self.apps if "browser" in a.features]
        if not browsers:
            return
        app = r.choice(browsers)
        site = r.choice(catalog.DOWNLOAD_SITES)
        kind = r.random()
        if self.dev.platform == ANDROID:
            if kind < 0.35:
                name, mime = (
                    r.choice(["F-Droid.apk", "vlc-3.5.4-arm64-v8a.apk", "Vivaldi.6.5.apk"]),
                    "application/vnd.android.package-archive",
                )
            elif kind < 0.5:
                name, mime = r.choice(["wallpapers.zip", "LibreOffice_help.zip"]), "application/zip"
            else:
                name = r.choice(["boarding-pass.pdf", "manual.pdf", "invoice-2025-02.pdf"])
                mime = "application/pdf"
            path = f"/storage/emulated/0/Download/{name}"
        else:
            if kind < 0.3:
                name, mime = r.choice(["wallpapers.zip", "presentation.zip"]), "application/zip"
            else:
                name, mime = r.choice(["boarding-pass.pdf", "manual.pdf", "menu.pdf"]), "application/pdf"
            group = self.ios_dir("group.com.apple.FileProvider")
            group = group.replace("Data/Application", "Shared/AppGroup")
            path = f"{group}/File Provider Storage/Downloads/{name}"
        size = r.randint(200_000, 60_000_000)
        self.retrieval(t, app.app_id, site, f"/releases/{name}", size, True, flags=F_NB)
        risky = F_RISKY if not name.endswith(".pdf") else 0
        self.file(t + r.randint(800, 30_000), app.app_id, path, size, mime, risky)
        if name.endswith(".apk"):
            ho = self.base("handoff", app.app_id)
            ho.update({"file_path": path, "target_app": PACKAGE_INSTALLER})
            self.emit(t + r.randint(31_000, 60_000), ho)
            ld = self.base("load", PACKAGE_INSTALLER)
            ld.update({"file_path": path, "load_method": "install"})
            self.emit(t + r.randint(61_000, 90_000), ld)

    def attachment(self, t: int) -> None:
        r = self.rng
        mailers = [a for a in self.apps if "attachments" in a.features]
        if not mailers:
            return
        app = r.choice(mailers)
        ext, mime = r.choice(
            [
                ("pdf", "application/pdf"),
                ("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
                ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
                ("jpg", "image/jpeg"),
            ]
        )
        stem = r.choice(["report", "invoice", "scan", "agenda", "photo", "notes"])
        name = f"{stem}_{r.randint(1, 999)}.{ext}"
        size = r.randint(30_000, 4_000_000)
        host = app.hosts[-1]
        if self.dev.platform == ANDROID:
            self.retrieval(
                t, app.app_id, host, f"/attachment/{self.hexname(20)}", size, True, method="download_manager"
            )
            self.file(
                t + r.randint(500, 8000),
                DOWNLOADS_PROVIDER,
                f"/storage/emulated/0/Download/{name}",
                size,
                mime,
            )
        else:
            self.retrieval(t, app.app_id, host, f"/attachment/{self.hexname(20)}", size, True)
            path = f"{self.ios_dir(app.app_id)}/Documents/Attachments/{name}"
            self.file(t + r.randint(500, 8000), app.app_id, path, size, mime)

    def screenshot(self, t: int) -> None:
        if self.dev.platform != ANDROID:
            return
        r = self.rng
        name = f"Screenshot_{r.randint(20250101, 20250331)}-{r.randint(0, 235959):06d}.png"
        self.file(
            t,
            None,
            f"/storage/emulated/0/Pictures/Screenshots/{name}",
            r.randint(80_000, 900_000),
            "image/png",
        )

    def shared_flow(self, t: int) -> None:
        host = self.rng.choice(catalog.SHARED_HOSTS)
        self.flow(t, host, self.rng.randint(400, 20_000))

    # ---------------------------------------------------------------- driver
    def poisson_times(self, per_hour: float, scale_by_day: bool = True) -> list[int]:
        """Event times of a (diurnal) Poisson process over [start, end) by thinning."""
        r = self.rng
        rate_max = per_hour * (1.4 if scale_by_day else 1.0) / HOUR_MS
        out: list[int] = []
        if rate_max <= 0:
            return out
        t = float(self.start)
        while True:
            t += r.expovariate(rate_max)
            if t >= self.end:
                return out
            accept = (diurnal(int(t)) / 1.4) if scale_by_day else 1.0
            if r.random() < accept:
                out.append(int(t))

    def generate(self) -> list[Ev]:
        r = self.rng
        act = self.dev.activity
        if self.use_apps:
            t = self.start + int(r.expovariate(SESSIONS_PER_HOUR * act / HOUR_MS))
            while t < self.end:
                t = self.session(t)
                rate = SESSIONS_PER_HOUR * act * diurnal(t) / HOUR_MS
                t += int(r.expovariate(rate))
        for t in self.poisson_times(BG_SYNCS_PER_HOUR * act):
            self.background_sync(t)
        for t in self.poisson_times(SHARED_FLOWS_PER_HOUR, False):
            self.shared_flow(t)
        for t in self.poisson_times(0.09 if self.dev.platform == ANDROID else 0.05):
            self.store_update(t)
        if self.dev.platform == ANDROID:
            for t in self.poisson_times(0.04):
                self.gms_module(t)
            for t in self.poisson_times(0.03):
                self.screenshot(t)
        for a in self.apps:
            if "codepush" in a.features:
                for t in self.poisson_times(0.05):
                    self.codepush(t, a)
        for t in self.poisson_times(0.05):
            self.browser_download(t)
        for t in self.poisson_times(0.06):
            self.attachment(t)
        return [e for e in self.events if self.start <= e.ms < self.end]
