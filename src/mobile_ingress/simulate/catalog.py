"""Catalogue of the simulated fleet: apps, their learned destinations, MDM state, hosts, app pools.

The data live in data/apps.csv, data/managed_apps.csv and data/fleet.yaml (checked by datafiles.py);
this module names them for the simulator and answers questions about them. Real package and bundle
ids are used for well-known benign apps (they only ever talk to their own baselined hosts here).
Every app that stages a payload in a planted chain is fictional.
"""

from __future__ import annotations

from .datafiles import ANDROID as ANDROID
from .datafiles import IOS as IOS
from .datafiles import App as App
from .datafiles import load_apps, load_fleet, load_managed_apps

# Android system components the planted and benign traffic name (platform facts, not fleet data).
DOWNLOADS_PROVIDER = "com.android.providers.downloads"
PACKAGE_INSTALLER = "com.google.android.packageinstaller"

_CATALOGUE = load_apps()
ANDROID_APPS: list[App] = [a for a in _CATALOGUE if a.platform == ANDROID]
IOS_APPS: list[App] = [a for a in _CATALOGUE if a.platform == IOS]
APPS: dict[tuple[str, str], App] = {(a.platform, a.app_id): a for a in ANDROID_APPS + IOS_APPS}


def apps_for(platform: str) -> list[App]:
    return ANDROID_APPS if platform == ANDROID else IOS_APPS


def app(platform: str, app_id: str) -> App:
    return APPS[(platform, app_id)]


_MDM_EXPORT = load_managed_apps(APPS)
# MDM state: (platform, app_id) -> approved roles ("" = managed with no approved role).
MANAGED: dict[tuple[str, str], str] = {
    (m.platform, m.app_id): m.approved_roles for m in _MDM_EXPORT if m.managed
}
# Listed in the MDM export but not managed (managed=false rows exercise the boolean column).
UNMANAGED_LISTED: list[tuple[str, str]] = [(m.platform, m.app_id) for m in _MDM_EXPORT if not m.managed]


def managed_roles(platform: str, app_id: str) -> str | None:
    """None when the app is not managed, else its approved roles ("" = none)."""
    return MANAGED.get((platform, app_id))


def unapproved(platform: str, app_id: str | None) -> bool:
    return app_id is not None and MANAGED.get((platform, app_id)) == ""


FLEET = load_fleet(APPS)


def pool(name: str, platform: str) -> list[str]:
    """The apps of pool NAME (fleet.yaml app_pools) on PLATFORM; empty when it has none there."""
    return list(FLEET.app_pools.get(name, {}).get(platform, ()))


# Pools the planted cases draw their app from.
ANDROID_STAGERS = pool("stager", ANDROID)
IOS_STAGERS = pool("stager", IOS)
ANDROID_MANAGED_NO_ROLE = pool("managed_no_role", ANDROID)
IOS_MANAGED_NO_ROLE = pool("managed_no_role", IOS)
IOS_MANAGED_WITH_ROLE = pool("managed_role", IOS)
ANDROID_ALLOWLISTED_BROWSERS = pool("allow_browser", ANDROID)

# Hosts every app on the fleet talks to; baselined with app "*" (NSM flows carry no app).
SHARED_HOSTS = list(FLEET.shared_hosts)
# Sites the browsers visit (never baselined: browsers go anywhere).
WEB_SITES = list(FLEET.web_sites)
DOWNLOAD_SITES = list(FLEET.download_sites)

# Enterprise endpoints the fleet's allowlist adds to the shipped one: (destination, app_id, comment).
ENTERPRISE_ALLOWED = [(row.destination, row.app_id, row.comment) for row in FLEET.enterprise_allowed]
ENTERPRISE_CATALOG_HOST = FLEET.enterprise_catalog_host
ENTERPRISE_CIDR_PREFIX = FLEET.enterprise_cidr_prefix

# Planted (malicious) destination name parts.
BAD_WORDS = list(FLEET.bad_words)
BAD_STEMS = list(FLEET.bad_stems)
BAD_TLDS = list(FLEET.bad_tlds)
# First octets used for planted destination IPs (benign host IPs use others).
BAD_IP_OCTETS = list(FLEET.bad_ip_octets)
BENIGN_IP_PREFIXES = list(FLEET.benign_ip_prefixes)
