"""The planted cases and the setup-page edits. Each case's destination is new to the scenario
(a host and an address of 203.0.113.0/24 nothing else contacts), except the two near misses,
whose destination is the point: one the baseline learned, one the shipped allowlist names.

Each case's device is quiet on the network from 20 minutes before its first event to 20 minutes
after its last (benign.py), so its label depends only on its own events and the lookups."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from .actions import Action, CodeLoad, FileWrite, Request, State
from .benign import ANDROID_UA, IOS_UA, Containers, Locator, content_hash
from .catalog import host_addresses
from .model import (
    DAY,
    START,
    WARMUP_DAYS,
    Device,
    Edit,
    EditKind,
    Fleet,
    Planted,
    Site,
    at,
)

QUIET_MARGIN = 1200.0
AN1848, AN1849 = "AN1848", "AN1849"
EDIT_TIME = at(8, 12, 0)
WARMUP_OPEN = START + WARMUP_DAYS * DAY

EDITS = [
    Edit(
        EDIT_TIME,
        EditKind.ALLOW_DESTINATION,
        {
            "destination": "updates.fieldvendor.example.com",
            "app_id": "com.contoso.fieldservice",
            "comment": "Contoso Field Service vendor SDK updates (triaged 2026-12-01)",
        },
    ),
    Edit(
        EDIT_TIME,
        EditKind.RISK_PATTERN,
        {"platform": "android", "field": "file_name", "pattern": "*.pak", "risk_class": "opaque"},
    ),
    Edit(EDIT_TIME, EditKind.SETTING, {"time_window": 600}),
]


class CasePlanError(ValueError):
    """A case cannot happen as planned (e.g. its device is off site when a sensor must see it)."""


def normalized_path(path: str) -> str:
    """The contract's path normalization for the prefixes the cases use (section 1)."""
    if path.startswith("/data/user/0/"):
        return "/data/data/" + path[len("/data/user/0/") :]
    if path.startswith("/var/"):
        return "/private" + path
    return path


@dataclass
class Cases:
    actions: list[Action] = field(default_factory=list)
    planted: list[Planted] = field(default_factory=list)
    quiet: dict[str, list[tuple[float, float]]] = field(default_factory=dict)


class Planter:
    def __init__(self, seed: int, fleet: Fleet, locator: Locator, containers: Containers) -> None:
        self.seed = seed
        self.fleet = fleet
        self.locator = locator
        self.containers = containers
        self.cases = Cases()
        self.addresses = host_addresses()
        self.next_ip = 200

    def device(self, key: str) -> Device:
        from .fleet import key_of

        for device in self.fleet.devices:
            if key_of(device) == key:
                return device
        raise CasePlanError(f"no device {key}")

    def ip(self, host: str) -> str:
        if host in self.addresses:
            return self.addresses[host]
        self.addresses[host] = f"203.0.113.{self.next_ip}"
        self.next_ip += 1
        return self.addresses[host]

    # ----------------------------------------------------------------------------- building blocks
    def retrieval(
        self,
        device: Device,
        app_id: str | None,
        url: str,
        size: int,
        mime: str,
        when: float,
        *,
        edr: bool = True,
        amapi: bool = False,
        network: bool = False,
        conn: str | None = None,
        context: dict[str, object] | None = None,
    ) -> Request:
        scheme, rest = url.split("://", 1)
        host, _, path = rest.partition("/")
        return Request(
            when,
            device,
            app_id,
            host,
            self.ip(host),
            "/" + path,
            mime,
            size,
            content_hash(self.seed, "planted", url),
            scheme=scheme,
            edr=edr,
            amapi=amapi,
            network=network,
            conn=conn,
            context=dict(context or {}),
            user_agent=ANDROID_UA if device.android else IOS_UA,
        )

    def staged(
        self,
        device: Device,
        app_id: str | None,
        path: str,
        r: Request,
        delay: float,
        mime: str,
        index_delay: float | None = None,
    ) -> FileWrite:
        return FileWrite(r.time + delay, device, app_id, path, r.size, mime, r.content, index_delay)

    def add(self, actions: Sequence[Action], *planted: Planted) -> None:
        self.cases.actions.extend(actions)
        self.cases.planted.extend(planted)
        device = actions[0].device
        times = [a.time for a in actions]
        self.cases.quiet.setdefault(device.device_id, []).append(
            (min(times) - QUIET_MARGIN, max(times) + QUIET_MARGIN)
        )

    def planted(
        self,
        label: str,
        analytic: str,
        f: FileWrite | None,
        r: Request,
        expected: bool,
        note: str,
        replay: bool | None = None,
        dest: str | None = None,
        with_url: bool = True,
    ) -> Planted:
        when = round(f.time if f is not None else r.time, 3)
        after = when >= WARMUP_OPEN + 3600
        return Planted(
            label=label,
            analytic_id=analytic,
            device_id=r.device.device_id,
            app_id=r.app_id if r.app_id is not None else (f.app_id if f is not None else None),
            platform=r.device.platform.value,
            file_path=normalized_path(f.path) if f is not None else None,
            dest=dest or r.host.lower(),
            time=when,
            expected=expected,
            after_warmup=after,
            note=note,
            replay_expected=(expected if replay is None else replay) and after,
            url=r.url if with_url else None,
        )

    def on_site(self, device: Device, when: float, site: Site) -> None:
        stay = self.locator.where(device.device_id, when)
        if stay is None or stay.site != site:
            raise CasePlanError(
                f"{device.name} is not on site {site.value} at {when}: the sensor cannot see it"
            )

    # ------------------------------------------------------------------------------------ cases
    def plant(self) -> Cases:
        self.edr_dex()
        self.zeek_keepalive()
        self.suricata_so()
        self.amapi_jar()
        self.edr_dylib()
        self.retrieval_only()
        self.late_arrival()
        self.warmup()
        self.near_miss_baselined()
        self.near_miss_allowed()
        self.edit_allow_destination()
        self.edit_risk_pattern()
        self.edit_time_window()
        return self.cases

    def edr_dex(self) -> None:
        d, app = self.device("a0"), "com.gamebooster.turbo"
        t = at(7, 9, 40, 12.418)
        hidden = {"app_state": "background", "device_locked": False, "recent_user_interaction": False}
        r = self.retrieval(
            d,
            app,
            "https://files.turbo-assets.example.net/p/7f3a/plugin.dex",
            96_412,
            "application/octet-stream",
            t,
            context=hidden,
        )
        f = self.staged(d, app, f"/data/user/0/{app}/files/plugin.dex", r, 2.31, "application/x-dex")
        load = CodeLoad(f.time + 1.9, d, app, f.path, "dexclassloader", f.sha256)
        self.add(
            [State(t - 41.2, d, "app.state", app, {"app_state": "background"}), r, f, load],
            self.planted(
                "an1848_edr_dex",
                AN1848,
                f,
                r,
                True,
                "EDR retrieval by the app in the background, a .dex in files/, loaded by DexClassLoader",
            ),
        )

    def zeek_keepalive(self) -> None:
        d, app = self.device("a1"), "com.speedbooster.cleaner"
        t = at(7, 10, 30, 4.102)
        self.on_site(d, t, Site.A)
        base = "http://dl.boostcleaner.example.net/v3"
        first = self.retrieval(
            d,
            None,
            f"{base}/manifest.json",
            2_148,
            "application/json",
            t,
            edr=False,
            network=True,
            conn="planted-keepalive",
        )
        second = self.retrieval(
            d,
            None,
            f"{base}/pkg/update.apk",
            3_214_560,
            "application/vnd.android.package-archive",
            t + 1.377,
            edr=False,
            network=True,
            conn="planted-keepalive",
        )
        f = self.staged(
            d,
            app,
            "/storage/emulated/0/Download/update.apk",
            second,
            9.84,
            "application/vnd.android.package-archive",
        )
        self.add(
            [first, second, f],
            self.planted(
                "an1848_zeek_keepalive",
                AN1848,
                f,
                second,
                True,
                "Zeek files.log retrieval (no app, device by its DHCP lease) on a keep-alive connection with "
                "two requests and two files on one uid; the file of the 2nd request is staged in Download/: "
                "the finding's URL must be the 2nd request's (resp_fuids <-> fuid), not the 1st's",
            ),
        )

    def suricata_so(self) -> None:
        d, app = self.device("a3"), "com.quickplug.launcher"
        t = at(7, 11, 20, 37.654)
        self.on_site(d, t, Site.B)
        r = self.retrieval(
            d,
            None,
            "http://static.quickplug.example.org/lib/arm64-v8a/libquickplug.so",
            412_344,
            "application/x-sharedlib",
            t,
            edr=False,
            network=True,
        )
        f = self.staged(
            d, app, f"/data/user/0/{app}/files/libquickplug.so", r, 6.02, "application/x-sharedlib"
        )
        load = CodeLoad(f.time + 2.2, d, app, f.path, "loadlibrary", f.sha256)
        self.add(
            [r, f, load],
            self.planted(
                "an1848_suricata_so",
                AN1848,
                f,
                r,
                True,
                "Suricata fileinfo retrieval (no app, device by its DHCP lease), a .so in the app's files/",
            ),
        )

    def amapi_jar(self) -> None:
        d, app = self.device("a2"), "com.flashlight.pro2"
        t = at(7, 13, 10, 51.007)
        r = self.retrieval(
            d,
            app,
            "https://sdk.adnet-cdn.example.com/v1/modules/ads-core.jar",
            231_408,
            "application/java-archive",
            t,
            edr=False,
            amapi=True,
            network=True,
        )
        f = self.staged(
            d, app, f"/data/user/0/{app}/files/plugins/ads-core.jar", r, 4.4, "application/java-archive"
        )
        self.add(
            [r, f],
            self.planted(
                "an1848_amapi_connect",
                AN1848,
                f,
                r,
                True,
                "Android network logs: DNS then CONNECT by the app to a new address (no bytes: the .jar's "
                "size stands in); the CONNECT is the latest retrieval before the file, and the DNS event "
                "names its address, so dest is the host name (corroborated) and dest_ip the address",
                with_url=False,
            ),
        )

    def edr_dylib(self) -> None:
        d, app = self.device("i0"), "com.pdfmagic.scanner"
        t = at(7, 14, 0, 8.75)
        r = self.retrieval(
            d,
            app,
            "https://cdn.pdfmagic-plugins.example.com/ios/ocrkit.dylib",
            356_112,
            "application/octet-stream",
            t,
        )
        path = f"{self.containers.of(d, app)}/Documents/Plugins/ocrkit.dylib"
        f = self.staged(d, app, path, r, 3.12, "application/x-mach-binary")
        load = CodeLoad(f.time + 1.7, d, app, path, "dlopen", f.sha256)
        self.add(
            [r, f, load],
            self.planted(
                "an1849_edr_dylib",
                AN1849,
                f,
                r,
                True,
                "EDR retrieval, a .dylib in the app's container, dlopen",
            ),
        )

    def retrieval_only(self) -> None:
        d, app = self.device("i1"), "com.contoso.fieldservice"
        t = at(7, 15, 0, 3.3)
        r = self.retrieval(
            d,
            app,
            "https://sync.fieldops-partner.example.net/export/bundle-2026-11.dat",
            524_288,
            "application/octet-stream",
            t,
            network=True,
        )
        self.add(
            [r],
            self.planted(
                "an1849_retrieval_only",
                AN1849,
                None,
                r,
                True,
                "Jamf-managed app with no approved role pulls 512 KiB from a new destination; no file",
            ),
        )

    def late_arrival(self) -> None:
        d, app = self.device("a4"), "com.wallpaper.hd4k"
        t = at(7, 16, 0, 19.9)
        r = self.retrieval(
            d,
            app,
            "https://img.hdwalls-cdn.example.org/packs/themepack.apk",
            1_832_004,
            "application/vnd.android.package-archive",
            t,
        )
        f = self.staged(
            d,
            app,
            f"/data/user/0/{app}/cache/themepack.apk",
            r,
            5.06,
            "application/vnd.android.package-archive",
            index_delay=4200.0,
        )
        self.add(
            [r, f],
            self.planted(
                "an1848_late_arrival",
                AN1848,
                f,
                r,
                True,
                "the staged file's EDR event is indexed 70 minutes after its time",
            ),
        )

    def warmup(self) -> None:
        d, app = self.device("a0"), "com.vpnfree.shield"
        t = at(3, 11, 0, 44.4)
        r = self.retrieval(
            d, app, "https://update.shieldvpn.example.com/mod/core.dex", 88_120, "application/octet-stream", t
        )
        f = self.staged(d, app, f"/data/user/0/{app}/files/core.dex", r, 1.93, "application/x-dex")
        self.add(
            [r, f],
            self.planted(
                "an1848_warmup",
                AN1848,
                f,
                r,
                True,
                "day 3: the command line raises it; the Splunk warm-up gate (7 days) holds it back",
            ),
        )

    def near_miss_baselined(self) -> None:
        d, app = self.device("a5"), "com.spotify.music"
        t = at(7, 10, 0, 15.0)
        r = self.retrieval(
            d, app, "https://i.scdn.co/ads/bundle/ad-creative.zip", 81_920, "application/zip", t
        )
        f = self.staged(d, app, f"/data/user/0/{app}/files/ads/ad-creative.zip", r, 2.8, "application/zip")
        self.add(
            [r, f],
            self.planted(
                "near_miss_baselined",
                AN1848,
                f,
                r,
                False,
                "the app's own CDN, learned by the destination baseline in the first week: no finding",
            ),
        )

    def near_miss_allowed(self) -> None:
        d, app = self.device("a5"), "com.google.android.apps.maps"
        t = at(7, 12, 0, 40.0)
        r = self.retrieval(
            d,
            app,
            "https://edgedl.me.gvt1.com/edgedl/android/maps/voice/en_GB/voice_instructions.zip",
            5_242_880,
            "application/zip",
            t,
        )
        f = self.staged(
            d, app, f"/data/user/0/{app}/files/voice/en_GB/voice_instructions.zip", r, 6.4, "application/zip"
        )
        self.add(
            [r, f],
            self.planted(
                "near_miss_allowed_destination",
                AN1848,
                f,
                r,
                False,
                "*.gvt1.com is in the shipped mobile_ingress_allowed_destinations.csv: no finding",
            ),
        )

    def edit_allow_destination(self) -> None:
        d, app = self.device("a2"), "com.contoso.fieldservice"
        for hour, version, label in ((10, "4.2", "before"), (14, "4.3", "after")):
            t = at(8, hour, 0, 21.5)
            r = self.retrieval(
                d,
                app,
                f"https://updates.fieldvendor.example.com/sdk/vendor-sdk-{version}.jar",
                402_112,
                "application/java-archive",
                t,
            )
            f = self.staged(
                d,
                app,
                f"/data/user/0/{app}/files/plugins/vendor-sdk-{version}.jar",
                r,
                3.9,
                "application/java-archive",
            )
            after = label == "after"
            note = (
                "after the allow_destination edit of 12:00: Splunk suppresses it; the command line, "
                "without the row, raises it"
                if after
                else "before the allow_destination edit: a finding"
            )
            self.add(
                [r, f],
                self.planted(f"edit_allow_destination_{label}", AN1848, f, r, True, note, replay=not after),
            )

    def edit_risk_pattern(self) -> None:
        d, app = self.device("a3"), "com.arcadeworld.racing"
        for hour, level, label in ((10, 5, "before"), (14, 6, "after")):
            t = at(8, hour, 0, 9.25)
            r = self.retrieval(
                d,
                app,
                f"https://assets.arcadeworld-cdn.example.net/dlc/level{level}.pak",
                8_388_608,
                "application/octet-stream",
                t,
            )
            f = self.staged(
                d, app, f"/data/user/0/{app}/files/dlc/level{level}.pak", r, 7.7, "application/octet-stream"
            )
            after = label == "after"
            note = (
                "after the risk_pattern edit (*.pak opaque): Splunk raises it; the command line, without "
                "the pattern, does not"
                if after
                else "before the risk_pattern edit: .pak is no risk, no finding"
            )
            self.add(
                [r, f], self.planted(f"edit_risk_pattern_{label}", AN1848, f, r, False, note, replay=after)
            )

    def edit_time_window(self) -> None:
        d, app = self.device("a4"), "com.photoeditor.magic"
        for hour, n, label in ((10, 1, "before"), (14, 2, "after")):
            t = at(8, hour, 0, 2.6)
            r = self.retrieval(
                d,
                app,
                f"https://cdn.magicfilters.example.com/filters/fx-pack-{n}.zip",
                1_048_576,
                "application/zip",
                t,
            )
            f = self.staged(
                d, app, f"/data/user/0/{app}/files/filters/fx-pack-{n}.zip", r, 400.0, "application/zip"
            )
            after = label == "after"
            note = (
                "after the time_window=600 edit: the file 400 s after its retrieval is a chain in Splunk; "
                "the command line (300 s) does not raise it"
                if after
                else "before the time_window edit: 400 s is outside the 300 s window, no finding"
            )
            self.add(
                [r, f], self.planted(f"edit_time_window_{label}", AN1848, f, r, False, note, replay=after)
            )
