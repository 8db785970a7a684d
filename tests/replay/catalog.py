"""What the fleet runs: real apps with the hosts they contact every day (API hosts, CDNs), what
each fetch looks like and where the EDR sees its response written, and the fictional apps the
planted cases use. Destination addresses come from the documentation ranges (RFC 5737)."""

from __future__ import annotations

from dataclasses import dataclass

from .model import Platform


@dataclass(frozen=True)
class Fetch:
    """One kind of request an app makes. `store` says where the response lands on the device
    (None: kept in memory or a database the EDR does not report)."""

    host: str
    path: str  # template: {hex}, {n}, {id}
    mime: str
    size: tuple[int, int]
    store: str | None
    weight: float = 1.0
    scheme: str = "https"


@dataclass(frozen=True)
class AppSpec:
    app_id: str
    platform: Platform
    name: str
    version: str
    fetches: tuple[Fetch, ...]
    usage: float  # relative chance a session opens this app
    sync_minutes: int = 0  # background sync period (0: none)
    process: str = ""  # the iOS executable name


A = Platform.ANDROID
I = Platform.IOS  # noqa: E741

JSON = "application/json"
JPEG = "image/jpeg"
PNG = "image/png"
PDF = "application/pdf"
HTML = "text/html"

ANDROID_APPS: tuple[AppSpec, ...] = (
    AppSpec(
        "com.whatsapp",
        A,
        "WhatsApp",
        "2.24.24.76",
        (
            Fetch("g.whatsapp.net", "/v1/sync/{hex}", JSON, (300, 4000), None, 3),
            Fetch("mmg.whatsapp.net", "/v/t62.7118-24/{n}_{n}_n.enc", JPEG, (40_000, 400_000), "media", 2),
            Fetch("static.whatsapp.net", "/rsrc.php/v4/{id}.png", PNG, (1_000, 30_000), "glide", 1),
        ),
        6,
        sync_minutes=45,
    ),
    AppSpec(
        "com.microsoft.teams",
        A,
        "Microsoft Teams",
        "1416/1.0.0.2024223701",
        (
            Fetch(
                "teams.microsoft.com",
                "/api/chatsvc/emea/v1/users/ME/conversations/{hex}/messages",
                JSON,
                (1_000, 20_000),
                None,
                3,
            ),
            Fetch(
                "statics.teams.cdn.office.net",
                "/evergreen-assets/icons/{id}.png",
                PNG,
                (5_000, 60_000),
                "glide",
            ),
        ),
        4,
        sync_minutes=30,
    ),
    AppSpec(
        "com.microsoft.office.outlook",
        A,
        "Microsoft Outlook",
        "4.2445.1",
        (
            Fetch(
                "outlook.office365.com",
                "/api/v2.0/me/mailfolders/inbox/messages?$top=25&$skip={n}",
                JSON,
                (2_000, 40_000),
                None,
                4,
            ),
            Fetch(
                "attachments.office.net",
                "/owa/attachments/{hex}/report-{n}.pdf",
                PDF,
                (50_000, 2_000_000),
                "attachment",
                1,
            ),
        ),
        4,
        sync_minutes=20,
    ),
    AppSpec(
        "com.google.android.apps.maps",
        A,
        "Google Maps",
        "11.152.0101",
        (
            Fetch(
                "maps.googleapis.com",
                "/maps/api/place/details/json?place_id={id}",
                JSON,
                (2_000, 30_000),
                None,
                2,
            ),
            Fetch("khms0.googleapis.com", "/kh?v=979&x={n}&y={n}&z=17", JPEG, (10_000, 40_000), "okhttp", 3),
            Fetch("lh3.googleusercontent.com", "/p/{id}=w408-h306-k-no", JPEG, (20_000, 120_000), "glide", 1),
        ),
        2,
    ),
    AppSpec(
        "com.spotify.music",
        A,
        "Spotify",
        "8.9.96.476",
        (
            Fetch("spclient.wg.spotify.com", "/metadata/4/track/{hex}", JSON, (1_000, 12_000), None, 2),
            Fetch("i.scdn.co", "/image/ab67616d0000b273{hex}", JPEG, (20_000, 150_000), "glide", 2),
        ),
        3,
    ),
    AppSpec(
        "com.nytimes.android",
        A,
        "The New York Times",
        "10.112.0",
        (
            Fetch(
                "samizdat-graphql.nytimes.com",
                "/graphql/v2?operationName=HomeQuery&id={hex}",
                JSON,
                (5_000, 60_000),
                "json",
                2,
            ),
            Fetch(
                "static01.nyt.com",
                "/images/2026/11/{n}/multimedia/{id}-articleLarge.jpg",
                JPEG,
                (30_000, 200_000),
                "glide",
                2,
            ),
            Fetch("www.nytimes.com", "/2026/11/{n}/world/{id}.html", HTML, (40_000, 250_000), "webview", 1),
        ),
        2,
    ),
    AppSpec(
        "com.google.android.youtube",
        A,
        "YouTube",
        "19.47.53",
        (
            Fetch("youtubei.googleapis.com", "/youtubei/v1/browse?key={id}", JSON, (10_000, 90_000), None, 2),
            Fetch("i.ytimg.com", "/vi/{id}/hqdefault.jpg", JPEG, (15_000, 60_000), "glide", 3),
        ),
        3,
    ),
    AppSpec(
        "com.instagram.android",
        A,
        "Instagram",
        "357.0.0.34.87",
        (
            Fetch("i.instagram.com", "/api/v1/feed/timeline/?max_id={hex}", JSON, (5_000, 80_000), None, 2),
            Fetch(
                "scontent.cdninstagram.com",
                "/v/t51.2885-15/{n}_{n}_n.jpg",
                JPEG,
                (40_000, 300_000),
                "glide",
                3,
            ),
        ),
        4,
    ),
    AppSpec(
        "com.android.chrome",
        A,
        "Chrome",
        "131.0.6778.81",
        (
            Fetch("www.google.com", "/search?q={id}", HTML, (30_000, 180_000), None, 2),
            Fetch(
                "www.gstatic.com",
                "/og/_/js/k=og.qtm.en_US.{id}.js",
                "text/javascript",
                (20_000, 200_000),
                None,
                1,
            ),
        ),
        3,
    ),
    AppSpec(
        "com.google.android.gms",
        A,
        "Google Play services",
        "24.45.33",
        (
            Fetch(
                "play.googleapis.com",
                "/download/by-token/download?token={hex}",
                "application/vnd.android.package-archive",
                (800_000, 6_000_000),
                "chimera",
                1,
            ),
        ),
        0,
        sync_minutes=1440,
    ),
    AppSpec(
        "com.contoso.fieldservice",
        A,
        "Contoso Field Service",
        "5.3.1",
        (
            Fetch("api.fieldservice.contoso.com", "/v2/jobs?since={n}", JSON, (500, 8_000), "json", 4),
            Fetch(
                "docs.fieldservice.contoso.com",
                "/manuals/model-{n}.pdf",
                PDF,
                (200_000, 3_000_000),
                "manual",
                1,
                scheme="http",
            ),
            Fetch(
                "cdn.fieldservice.contoso.com",
                "/codepush/{hex}/download.zip",
                "application/zip",
                (500_000, 2_000_000),
                "codepush",
                0.2,
            ),
        ),
        4,
        sync_minutes=60,
    ),
    AppSpec(
        "com.lookout.enterprise",
        A,
        "Lookout for Work",
        "10.34.1",
        (
            Fetch("mtp.lookout.com", "/api/v1/device/{hex}/status", JSON, (300, 3_000), None, 3),
            Fetch(
                "dl.lookout.com",
                "/defs/android/{n}.bin",
                "application/octet-stream",
                (100_000, 900_000),
                "definitions",
                1,
            ),
        ),
        0,
        sync_minutes=240,
    ),
)

IOS_APPS: tuple[AppSpec, ...] = (
    AppSpec(
        "net.whatsapp.WhatsApp",
        I,
        "WhatsApp",
        "24.23.79",
        (
            Fetch("g.whatsapp.net", "/v1/sync/{hex}", JSON, (300, 4000), None, 3),
            Fetch("mmg.whatsapp.net", "/v/t62.7118-24/{n}_{n}_n.enc", JPEG, (40_000, 400_000), "images", 2),
        ),
        6,
        sync_minutes=45,
        process="WhatsApp",
    ),
    AppSpec(
        "com.microsoft.skype.teams",
        I,
        "Microsoft Teams",
        "6.24.1",
        (
            Fetch(
                "teams.microsoft.com",
                "/api/chatsvc/emea/v1/users/ME/conversations/{hex}/messages",
                JSON,
                (1_000, 20_000),
                None,
                3,
            ),
            Fetch(
                "statics.teams.cdn.office.net",
                "/evergreen-assets/icons/{id}.png",
                PNG,
                (5_000, 60_000),
                "fscache",
            ),
        ),
        4,
        sync_minutes=30,
        process="Teams",
    ),
    AppSpec(
        "com.microsoft.Office.Outlook",
        I,
        "Microsoft Outlook",
        "4.2446.0",
        (
            Fetch(
                "outlook.office365.com",
                "/api/v2.0/me/mailfolders/inbox/messages?$top=25&$skip={n}",
                JSON,
                (2_000, 40_000),
                None,
                4,
            ),
            Fetch(
                "attachments.office.net",
                "/owa/attachments/{hex}/report-{n}.pdf",
                PDF,
                (50_000, 2_000_000),
                "attachment",
                1,
            ),
        ),
        4,
        sync_minutes=20,
        process="Outlook-iOS",
    ),
    AppSpec(
        "com.google.Maps",
        I,
        "Google Maps",
        "6.135.2",
        (
            Fetch(
                "maps.googleapis.com",
                "/maps/api/place/details/json?place_id={id}",
                JSON,
                (2_000, 30_000),
                None,
                2,
            ),
            Fetch("khms0.googleapis.com", "/kh?v=979&x={n}&y={n}&z=17", JPEG, (10_000, 40_000), "fscache", 3),
        ),
        2,
        process="GoogleMaps",
    ),
    AppSpec(
        "com.spotify.client",
        I,
        "Spotify",
        "8.9.96",
        (
            Fetch("spclient.wg.spotify.com", "/metadata/4/track/{hex}", JSON, (1_000, 12_000), None, 2),
            Fetch("i.scdn.co", "/image/ab67616d0000b273{hex}", JPEG, (20_000, 150_000), "fscache", 2),
        ),
        3,
        process="Spotify",
    ),
    AppSpec(
        "com.nytimes.NYTimes",
        I,
        "The New York Times",
        "10.112.0",
        (
            Fetch(
                "samizdat-graphql.nytimes.com",
                "/graphql/v2?operationName=HomeQuery&id={hex}",
                JSON,
                (5_000, 60_000),
                "json",
                2,
            ),
            Fetch(
                "static01.nyt.com",
                "/images/2026/11/{n}/multimedia/{id}-articleLarge.jpg",
                JPEG,
                (30_000, 200_000),
                "images",
                2,
            ),
            Fetch("www.nytimes.com", "/2026/11/{n}/world/{id}.html", HTML, (40_000, 250_000), "wkwebview", 1),
        ),
        2,
        process="NYTimes",
    ),
    AppSpec(
        "com.burbn.instagram",
        I,
        "Instagram",
        "357.0.0",
        (
            Fetch("i.instagram.com", "/api/v1/feed/timeline/?max_id={hex}", JSON, (5_000, 80_000), None, 2),
            Fetch(
                "scontent.cdninstagram.com",
                "/v/t51.2885-15/{n}_{n}_n.jpg",
                JPEG,
                (40_000, 300_000),
                "fscache",
                3,
            ),
        ),
        4,
        process="Instagram",
    ),
    AppSpec(
        "com.apple.mobilesafari",
        I,
        "Safari",
        "18.1",
        (Fetch("www.google.com", "/search?q={id}", HTML, (30_000, 180_000), None, 2),),
        3,
        process="MobileSafari",
    ),
    # Managed by Jamf with no approved role (AN1849's retrieval-only rule watches it): it only ever
    # pulls small JSON, so its benign traffic stays under the bytes threshold (see benign.py).
    AppSpec(
        "com.contoso.fieldservice",
        I,
        "Contoso Field Service",
        "5.3.1",
        (Fetch("api.fieldservice.contoso.com", "/v2/jobs?since={n}", JSON, (500, 3_900), "json", 4),),
        4,
        sync_minutes=60,
        process="FieldService",
    ),
)

# Cleartext requests the operating system makes on a site's Wi-Fi (no app): OCSP checks by GET
# (RFC 5019), captive-portal and connectivity probes. Seen only by the network sensors.
OCSP_ANDROID = ("ocsp.pki.goog", "/gts1c3/{b64}")
OCSP_COMMON = ("ocsp.digicert.com", "/{b64}")
OCSP_IOS = ("ocsp.apple.com", "/ocsp03-wwdrg3{n}/{b64}")
CAPTIVE_IOS = ("captive.apple.com", "/hotspot-detect.html")
CONNECTIVITY_ANDROID = ("connectivitycheck.gstatic.com", "/generate_204")
# One device's own certificate checks (its VPN profile's CA): seen by one device only, so the
# baseline learns no `*` row for it.
OCSP_ONE_DEVICE = {"i3": ("ocsp.sectigo.com", "/{b64}")}

# Fictional apps of the planted cases (installed on their devices, never seen fetching before).
PLANTED_APPS: dict[str, tuple[Platform, str, str]] = {
    "com.gamebooster.turbo": (A, "Game Booster Turbo", "3.1.0"),
    "com.speedbooster.cleaner": (A, "Speed Booster Cleaner", "1.9.4"),
    "com.quickplug.launcher": (A, "QuickPlug Launcher", "2.0.7"),
    "com.flashlight.pro2": (A, "Flashlight Pro 2", "4.4.1"),
    "com.wallpaper.hd4k": (A, "HD Wallpapers 4K", "7.2.0"),
    "com.vpnfree.shield": (A, "Shield VPN Free", "1.0.3"),
    "com.arcadeworld.racing": (A, "Arcade World Racing", "12.1.0"),
    "com.photoeditor.magic": (A, "Magic Photo Editor", "6.5.2"),
    "com.pdfmagic.scanner": (I, "PDF Magic Scanner", "2.3.1"),
}

# The enterprise's MDM configuration (what the inventories report).
AMAPI_ENTERPRISE = "enterprises/LC04abcd12"
AMAPI_POLICIES: dict[str, list[dict[str, object]]] = {
    "fieldworkers": [
        {"packageName": "com.contoso.fieldservice", "installType": "FORCE_INSTALLED"},
        {"packageName": "com.microsoft.teams", "installType": "AVAILABLE"},
        {"packageName": "com.microsoft.office.outlook", "installType": "FORCE_INSTALLED"},
        {"packageName": "com.android.chrome", "installType": "FORCE_INSTALLED"},
        {
            "packageName": "com.lookout.enterprise",
            "installType": "FORCE_INSTALLED",
            "roles": [{"roleType": "MOBILE_THREAT_DEFENSE_ENDPOINT_DETECTION_RESPONSE"}],
        },
        {"packageName": "com.zhiliaoapp.musically", "installType": "BLOCKED"},
    ],
    "managers": [
        {
            "packageName": "com.microsoft.teams",
            "installType": "FORCE_INSTALLED",
            "roles": [{"roleType": "COMPANION_APP"}],
        },
        {"packageName": "com.microsoft.office.outlook", "installType": "FORCE_INSTALLED"},
        {"packageName": "com.android.chrome", "installType": "FORCE_INSTALLED"},
        {
            "packageName": "com.lookout.enterprise",
            "installType": "FORCE_INSTALLED",
            "roles": [{"roleType": "MOBILE_THREAT_DEFENSE_ENDPOINT_DETECTION_RESPONSE"}],
        },
    ],
}
# Intune mobileApps: (odata type, package or bundle id, name, category, intents).
INTUNE_APPS: tuple[tuple[str, str, str, str, tuple[str, ...]], ...] = (
    (
        "#microsoft.graph.managedAndroidStoreApp",
        "com.microsoft.teams",
        "Microsoft Teams",
        "Collaboration & Social",
        ("required",),
    ),
    (
        "#microsoft.graph.managedAndroidStoreApp",
        "com.microsoft.windowsintune.companyportal",
        "Intune Company Portal",
        "Computer management",
        ("required",),
    ),
    (
        "#microsoft.graph.iosVppApp",
        "com.microsoft.skype.teams",
        "Microsoft Teams",
        "Collaboration & Social",
        ("required",),
    ),
    (
        "#microsoft.graph.iosVppApp",
        "com.microsoft.Office.Outlook",
        "Microsoft Outlook",
        "Collaboration & Social",
        ("required",),
    ),
    ("#microsoft.graph.iosStoreApp", "com.zhiliaoapp.musically", "TikTok", "Other apps", ("uninstall",)),
)
# Apps Jamf Pro installs and manages on the iOS devices (the others are the user's own).
JAMF_MANAGED = frozenset(
    {"com.contoso.fieldservice", "com.microsoft.skype.teams", "com.microsoft.Office.Outlook"}
)


def apps_by_id() -> dict[tuple[Platform, str], AppSpec]:
    return {(app.platform, app.app_id): app for app in ANDROID_APPS + IOS_APPS}


def benign_hosts() -> list[str]:
    hosts = {f.host for app in ANDROID_APPS + IOS_APPS for f in app.fetches}
    probes = (OCSP_ANDROID, OCSP_COMMON, OCSP_IOS, CAPTIVE_IOS, CONNECTIVITY_ANDROID)
    probes += tuple(OCSP_ONE_DEVICE.values())
    hosts |= {h for h, _ in probes}
    return sorted(hosts)


def host_addresses() -> dict[str, str]:
    """A fixed address per benign host (198.51.100.0/24); planted hosts use 203.0.113.0/24."""
    return {host: f"198.51.100.{10 + n}" for n, host in enumerate(benign_hosts())}
