"""Static catalogue of the simulated fleet: apps, their learned destinations, MDM state.

Real package and bundle ids are used for well-known benign apps (they only ever talk to their own
baselined hosts here). Every app that stages a payload in a planted chain is fictional.
"""

from __future__ import annotations

from dataclasses import dataclass

ANDROID = "android"
IOS = "ios"

DOWNLOADS_PROVIDER = "com.android.providers.downloads"
PACKAGE_INSTALLER = "com.google.android.packageinstaller"


@dataclass(frozen=True)
class App:
    app_id: str
    platform: str
    category: str
    hosts: tuple[str, ...]  # destinations learned in the baseline for this app
    weight: float  # how often a user opens it (relative)
    install_p: float  # probability that a device has it installed
    features: tuple[str, ...] = ()  # webview, codepush, media, browser, store, gms, attachments, video


def _a(
    app_id: str,
    platform: str,
    category: str,
    hosts: tuple[str, ...],
    weight: float,
    install_p: float,
    *features: str,
) -> App:
    return App(app_id, platform, category, hosts, weight, install_p, tuple(features))


ANDROID_APPS: list[App] = [
    _a(
        "com.whatsapp",
        ANDROID,
        "messaging",
        ("g.whatsapp.net", "mmg.whatsapp.net", "static.whatsapp.net"),
        6.0,
        0.85,
        "media",
    ),
    _a(
        "org.telegram.messenger",
        ANDROID,
        "messaging",
        ("venus.web.telegram.org", "cdn4.telesco.pe"),
        2.0,
        0.30,
        "media",
    ),
    _a(
        "com.Slack",
        ANDROID,
        "messaging",
        ("slack.com", "files.slack.com", "a.slack-edge.com"),
        2.5,
        0.45,
        "media",
        "webview",
    ),
    _a(
        "com.microsoft.teams",
        ANDROID,
        "messaging",
        ("teams.microsoft.com", "statics.teams.cdn.office.net"),
        2.5,
        0.55,
        "media",
    ),
    _a(
        "com.chase.sig.android",
        ANDROID,
        "banking",
        ("secure.chase.com", "static.chasecdn.com"),
        0.8,
        0.35,
        "webview",
    ),
    _a(
        "com.infonow.bofa",
        ANDROID,
        "banking",
        ("secure.bankofamerica.com", "www1.bac-assets.com"),
        0.7,
        0.30,
        "webview",
    ),
    _a(
        "com.paypal.android.p2pconsumer",
        ANDROID,
        "banking",
        ("api-m.paypal.com", "www.paypalobjects.com"),
        0.6,
        0.40,
        "webview",
    ),
    _a(
        "com.supercell.clashofclans",
        ANDROID,
        "game",
        ("game-assets.clashofclans.com", "event-assets.clashofclans.com"),
        2.0,
        0.25,
        "media",
    ),
    _a(
        "com.king.candycrushsaga",
        ANDROID,
        "game",
        ("candycrush.king.com", "cdn.king.com"),
        1.8,
        0.30,
        "media",
    ),
    _a(
        "com.mojang.minecraftpe",
        ANDROID,
        "game",
        ("api.minecraftservices.com", "xforgeassets001.xboxlive.com"),
        1.0,
        0.15,
        "media",
    ),
    _a(
        "com.nytimes.android",
        ANDROID,
        "news",
        ("static01.nyt.com", "samizdat-graphql.nytimes.com"),
        1.5,
        0.30,
        "webview",
        "media",
    ),
    _a(
        "com.cnn.mobile.android.phone",
        ANDROID,
        "news",
        ("media.cnn.com", "data.api.cnn.io"),
        1.2,
        0.25,
        "webview",
        "media",
    ),
    _a(
        "bbc.mobile.news.ww",
        ANDROID,
        "news",
        ("ichef.bbci.co.uk", "feeds.bbci.co.uk"),
        1.0,
        0.25,
        "webview",
        "media",
    ),
    _a(
        "com.google.android.apps.maps",
        ANDROID,
        "maps",
        ("maps.googleapis.com", "khms0.googleapis.com", "lh3.googleusercontent.com"),
        2.0,
        0.95,
        "media",
    ),
    _a("com.waze", ANDROID, "maps", ("rtproxy-row.waze.com", "ctilesgc-row.waze.com"), 1.0, 0.30),
    _a("com.spotify.music", ANDROID, "music", ("spclient.wg.spotify.com", "i.scdn.co"), 2.5, 0.55, "media"),
    _a(
        "com.instagram.android",
        ANDROID,
        "social",
        ("i.instagram.com", "scontent.cdninstagram.com"),
        4.0,
        0.60,
        "media",
        "video",
    ),
    _a(
        "com.google.android.youtube",
        ANDROID,
        "video",
        ("youtubei.googleapis.com", "i.ytimg.com", "rr3---sn-4g5e6nsz.googlevideo.com"),
        3.0,
        0.95,
        "media",
        "video",
    ),
    _a(
        "com.google.android.gm",
        ANDROID,
        "mail",
        ("gmail.googleapis.com", "mail-attachment.googleusercontent.com"),
        2.5,
        0.90,
        "attachments",
    ),
    _a(
        "com.microsoft.office.outlook",
        ANDROID,
        "mail",
        ("outlook.office.com", "attachments.office.net"),
        2.0,
        0.50,
        "attachments",
    ),
    _a(
        "com.discord",
        ANDROID,
        "messaging",
        ("discord.com", "cdn.discordapp.com", "codepush.appcenter.ms"),
        1.5,
        0.25,
        "media",
        "codepush",
    ),
    _a("com.android.chrome", ANDROID, "browser", ("www.google.com",), 4.0, 1.0, "browser"),
    _a("org.mozilla.firefox", ANDROID, "browser", ("www.mozilla.org",), 1.0, 0.15, "browser"),
    _a("com.sec.android.app.sbrowser", ANDROID, "browser", ("www.samsung.com",), 1.0, 0.25, "browser"),
    _a(
        "com.android.vending",
        ANDROID,
        "store",
        ("play.googleapis.com", "android.clients.google.com"),
        0.6,
        1.0,
        "store",
    ),
    _a(
        "com.google.android.gms",
        ANDROID,
        "system",
        ("android.clients.google.com", "www.gstatic.com", "edgedl.me.gvt1.com"),
        0.0,
        1.0,
        "gms",
    ),
    # enterprise apps (ACME Corp), some of them managed
    _a("com.acmecorp.expenses", ANDROID, "enterprise", ("expenses-api.acmecorp.com",), 0.5, 0.35),
    _a(
        "com.acmecorp.fieldservice",
        ANDROID,
        "enterprise",
        ("field-api.acmecorp.com", "codepush.appcenter.ms"),
        0.5,
        0.25,
        "codepush",
    ),
    _a("com.acmecorp.docsync", ANDROID, "enterprise", ("docs.acmecorp.com",), 0.5, 0.25),
    # fictional third-party apps that host the planted payload stagers
    _a("com.quickclean.booster", ANDROID, "utility", ("api.quickclean-booster.com",), 0.4, 0.06),
    _a("com.flashlight.brightled", ANDROID, "utility", ("cfg.brightled-app.com",), 0.3, 0.06),
    _a("com.docscan.pdfmaker", ANDROID, "utility", ("api.docscan-pdfmaker.com",), 0.4, 0.06),
    _a("com.wallpapers.hd4k.live", ANDROID, "utility", ("img.hd4k-wallpapers.net",), 0.4, 0.06, "media"),
    _a("com.freevpn.secureproxy", ANDROID, "utility", ("gw.freevpn-secureproxy.com",), 0.3, 0.06),
    _a("com.qrscan.reader.fast", ANDROID, "utility", ("api.qrscan-reader.com",), 0.3, 0.06),
    _a("com.fitpulse.stepcounter", ANDROID, "health", ("sync.fitpulse-app.com",), 0.4, 0.06),
]

IOS_APPS: list[App] = [
    _a("net.whatsapp.WhatsApp", IOS, "messaging", ("g.whatsapp.net", "mmg.whatsapp.net"), 6.0, 0.85, "media"),
    _a(
        "ph.telegra.Telegraph",
        IOS,
        "messaging",
        ("venus.web.telegram.org", "cdn4.telesco.pe"),
        2.0,
        0.30,
        "media",
    ),
    _a(
        "com.tinyspeck.chatlyio",
        IOS,
        "messaging",
        ("slack.com", "files.slack.com", "a.slack-edge.com"),
        2.5,
        0.45,
        "media",
        "webview",
    ),
    _a(
        "com.microsoft.skype.teams",
        IOS,
        "messaging",
        ("teams.microsoft.com", "statics.teams.cdn.office.net"),
        2.5,
        0.55,
        "media",
    ),
    _a("com.chase", IOS, "banking", ("secure.chase.com", "static.chasecdn.com"), 0.8, 0.35, "webview"),
    _a(
        "com.bankofamerica.BofA",
        IOS,
        "banking",
        ("secure.bankofamerica.com", "www1.bac-assets.com"),
        0.7,
        0.30,
        "webview",
    ),
    _a(
        "com.yourcompany.PPClient",
        IOS,
        "banking",
        ("api-m.paypal.com", "www.paypalobjects.com"),
        0.6,
        0.40,
        "webview",
    ),
    _a(
        "com.supercell.magic",
        IOS,
        "game",
        ("game-assets.clashofclans.com", "event-assets.clashofclans.com"),
        2.0,
        0.25,
        "media",
    ),
    _a(
        "com.midasplayer.apps.candycrushsaga",
        IOS,
        "game",
        ("candycrush.king.com", "cdn.king.com"),
        1.8,
        0.30,
        "media",
    ),
    _a(
        "com.nytimes.NYTimes",
        IOS,
        "news",
        ("static01.nyt.com", "samizdat-graphql.nytimes.com"),
        1.5,
        0.30,
        "webview",
        "media",
    ),
    _a("com.cnn.iphone", IOS, "news", ("media.cnn.com", "data.api.cnn.io"), 1.2, 0.25, "webview", "media"),
    _a(
        "uk.co.bbc.news", IOS, "news", ("ichef.bbci.co.uk", "feeds.bbci.co.uk"), 1.0, 0.25, "webview", "media"
    ),
    _a("com.google.Maps", IOS, "maps", ("maps.googleapis.com", "khms0.googleapis.com"), 2.0, 0.60, "media"),
    _a("com.waze.iphone", IOS, "maps", ("rtproxy-row.waze.com", "ctilesgc-row.waze.com"), 1.0, 0.30),
    _a("com.spotify.client", IOS, "music", ("spclient.wg.spotify.com", "i.scdn.co"), 2.5, 0.55, "media"),
    _a(
        "com.burbn.instagram",
        IOS,
        "social",
        ("i.instagram.com", "scontent.cdninstagram.com"),
        4.0,
        0.60,
        "media",
        "video",
    ),
    _a(
        "com.google.ios.youtube",
        IOS,
        "video",
        ("youtubei.googleapis.com", "i.ytimg.com"),
        3.0,
        0.80,
        "media",
        "video",
    ),
    _a(
        "com.google.Gmail",
        IOS,
        "mail",
        ("gmail.googleapis.com", "mail-attachment.googleusercontent.com"),
        2.0,
        0.50,
        "attachments",
    ),
    _a(
        "com.microsoft.Office.Outlook",
        IOS,
        "mail",
        ("outlook.office.com", "attachments.office.net"),
        2.0,
        0.55,
        "attachments",
    ),
    _a(
        "com.hammerandchisel.discord",
        IOS,
        "messaging",
        ("discord.com", "cdn.discordapp.com", "codepush.appcenter.ms"),
        1.5,
        0.25,
        "media",
        "codepush",
    ),
    _a("com.apple.mobilesafari", IOS, "browser", ("www.apple.com",), 4.0, 1.0, "browser"),
    _a("com.google.chrome.ios", IOS, "browser", ("www.google.com",), 1.5, 0.35, "webview"),
    _a(
        "com.apple.AppStore",
        IOS,
        "store",
        ("iosapps.itunes.apple.com", "is1-ssl.mzstatic.com"),
        0.5,
        1.0,
        "store",
    ),
    _a("com.acmecorp.expenses", IOS, "enterprise", ("expenses-api.acmecorp.com",), 0.5, 0.35),
    _a("com.acmecorp.timesheets", IOS, "enterprise", ("time-api.acmecorp.com",), 0.5, 0.30),
    _a(
        "com.acmecorp.fieldservice",
        IOS,
        "enterprise",
        ("field-api.acmecorp.com", "codepush.appcenter.ms"),
        0.5,
        0.25,
        "codepush",
    ),
    _a("com.acmecorp.docsync", IOS, "enterprise", ("docs.acmecorp.com",), 0.5, 0.25),
    _a("com.photovault.lockbox", IOS, "utility", ("api.photovault-lockbox.com",), 0.4, 0.06),
    _a("com.fitpulse.tracker", IOS, "health", ("sync.fitpulse-app.com",), 0.4, 0.06),
    _a("com.qrscan.reader", IOS, "utility", ("api.qrscan-reader.com",), 0.3, 0.06),
    _a("com.wallpapers.hd4k", IOS, "utility", ("img.hd4k-wallpapers.net",), 0.4, 0.06, "media"),
]

APPS: dict[tuple[str, str], App] = {(a.platform, a.app_id): a for a in ANDROID_APPS + IOS_APPS}


def apps_for(platform: str) -> list[App]:
    return ANDROID_APPS if platform == ANDROID else IOS_APPS


def app(platform: str, app_id: str) -> App:
    return APPS[(platform, app_id)]


# MDM state: (platform, app_id) -> approved roles ("" = managed with no approved role).
MANAGED: dict[tuple[str, str], str] = {
    (ANDROID, "com.microsoft.office.outlook"): "sync",
    (ANDROID, "com.microsoft.teams"): "",
    (ANDROID, "com.Slack"): "",
    (ANDROID, "com.acmecorp.expenses"): "",
    (ANDROID, "com.acmecorp.fieldservice"): "update",
    (ANDROID, "com.acmecorp.docsync"): "sync|content_delivery",
    (IOS, "com.microsoft.Office.Outlook"): "sync",
    (IOS, "com.microsoft.skype.teams"): "",
    (IOS, "com.tinyspeck.chatlyio"): "",
    (IOS, "com.acmecorp.expenses"): "",
    (IOS, "com.acmecorp.timesheets"): "",
    (IOS, "com.acmecorp.fieldservice"): "update",
    (IOS, "com.acmecorp.docsync"): "sync|content_delivery",
}
# Listed in the MDM export but not managed (managed=false rows exercise the boolean column).
UNMANAGED_LISTED: list[tuple[str, str]] = [(IOS, "com.spotify.client"), (ANDROID, "com.spotify.music")]


def managed_roles(platform: str, app_id: str) -> str | None:
    """None when the app is not managed, else its approved roles ("" = none)."""
    return MANAGED.get((platform, app_id))


def unapproved(platform: str, app_id: str | None) -> bool:
    return app_id is not None and MANAGED.get((platform, app_id)) == ""


# Pools the planted cases draw their app from.
ANDROID_STAGERS = [
    "com.quickclean.booster",
    "com.flashlight.brightled",
    "com.docscan.pdfmaker",
    "com.wallpapers.hd4k.live",
    "com.freevpn.secureproxy",
    "com.qrscan.reader.fast",
    "com.fitpulse.stepcounter",
]
ANDROID_MANAGED_NO_ROLE = ["com.acmecorp.expenses"]
IOS_STAGERS = ["com.photovault.lockbox", "com.fitpulse.tracker", "com.qrscan.reader", "com.wallpapers.hd4k"]
IOS_MANAGED_NO_ROLE = ["com.acmecorp.expenses", "com.acmecorp.timesheets"]
IOS_MANAGED_WITH_ROLE = ["com.acmecorp.docsync"]
ANDROID_ALLOWLISTED_BROWSERS = ["com.sec.android.app.sbrowser", "org.mozilla.firefox"]

# Hosts every app on the fleet talks to; baselined with app "*" (NSM flows carry no app).
SHARED_HOSTS = [
    "fonts.gstatic.com",
    "www.googleapis.com",
    "firebaseinstallations.googleapis.com",
    "app-measurement.com",
    "graph.facebook.com",
    "api.mixpanel.com",
    "settings.crashlytics.com",
]

# Sites the browsers visit (never baselined: browsers go anywhere).
WEB_SITES = [
    "en.wikipedia.org",
    "www.reddit.com",
    "www.amazon.com",
    "news.ycombinator.com",
    "github.com",
    "stackoverflow.com",
    "www.espn.com",
    "weather.com",
    "www.bbc.com",
    "www.imdb.com",
    "www.theguardian.com",
    "www.booking.com",
    "www.ikea.com",
    "www.allrecipes.com",
    "medium.com",
    "www.linkedin.com",
    "www.airbnb.com",
    "www.zillow.com",
    "www.nasa.gov",
    "www.python.org",
]
DOWNLOAD_SITES = [
    "f-droid.org",
    "www.apkmirror.com",
    "downloads.vivaldi.com",
    "dl.videolan.org",
    "download.documentfoundation.org",
]

# Enterprise endpoints the fleet's allowlist adds to the shipped one.
ENTERPRISE_ALLOWED = [
    ("apps.acmecorp.com", "*", "ACME enterprise app catalog (in-house app and update distribution)"),
    ("198.51.100.0/24", "*", "ACME update servers behind the corporate proxy (CIDR)"),
]
ENTERPRISE_CATALOG_HOST = "apps.acmecorp.com"
ENTERPRISE_CIDR_PREFIX = "198.51.100."

# Planted (malicious) destination name parts.
BAD_WORDS = [
    "cdn",
    "update",
    "static",
    "assets",
    "sync",
    "cloud",
    "dl",
    "files",
    "mirror",
    "edge",
    "push",
    "media",
    "res",
    "pkg",
    "img",
]
BAD_STEMS = [
    "kaptor",
    "velnia",
    "orbisk",
    "trandex",
    "moxira",
    "zentrel",
    "pulsarq",
    "quorvo",
    "lumetra",
    "brixel",
    "novacor",
    "fenwik",
    "qubitra",
    "saltrix",
    "vortiq",
    "yandelo",
    "crimsa",
    "draxis",
]
BAD_TLDS = ["xyz", "top", "icu", "site", "online", "click", "live", "shop", "info", "net", "com", "biz"]
# First octets used for planted destination IPs (benign host IPs use others).
BAD_IP_OCTETS = [5, 31, 45, 91, 146, 185, 193, 194]
BENIGN_IP_PREFIXES = [
    (142, 250),
    (172, 217),
    (151, 101),
    (104, 16),
    (23, 45),
    (157, 240),
    (13, 107),
    (52, 84),
    (34, 120),
    (99, 86),
]
