"""Microsoft identity platform + Graph stand-in: the v2.0 token endpoint (client credentials);
v1.0 managedDevices, detectedApps and their managedDevices, mobileApps with $expand, auditEvents
with the activityDateTime $filter; beta mobileApps filtered by isof('microsoft.graph.
androidManagedStoreApp') (Managed Google Play apps, a type v1.0 does not have); `$top` paging
through absolute `@odata.nextLink`s carrying a `$skiptoken`. Records are shaped by Graph's v1.0
metadata (beta type mappings for the Managed Google Play app), checked by
tests/inputs/test_vendor_schemas.py."""

from __future__ import annotations

import itertools
import re
import urllib.parse
from typing import Any

from .fakeserver import Answer, FakeServer, Request

TENANT = "8f2c6a1e-4b7d-4c3e-9a5f-0d1e2f3a4b5c"
CLIENT_ID = "3c9d8e7f-1a2b-4c5d-8e9f-0a1b2c3d4e5f"
CLIENT_SECRET = "graph~SECRET.q8Zr3Kp7Wm2Xv9Ln4"
_WINDOW = re.compile(r"^activityDateTime ge (\S+) and activityDateTime lt (\S+)$")
STORE_APP_FILTER = "isof('microsoft.graph.androidManagedStoreApp')"


def guid(kind: int, n: int) -> str:
    return f"{kind:08x}-{n % 65536:04x}-4{n // 65536 % 4096:03x}-8000-{n:012x}"


def wifi_mac(n: int) -> str:
    """managedDevice.wiFiMacAddress: Graph types it as a plain string; Intune reports the twelve
    hex digits without separators."""
    return f"A4C3F0{n:06X}"


def managed_device(n: int, synced: str = "2026-11-20T09:15:30.1234567Z") -> dict[str, Any]:
    return {
        "id": f"0d3f0a{n:02d}-1111-4222-8333-444455556666",
        "userId": f"user-{n}",
        "deviceName": f"Pixel-{n}",
        "managedDeviceOwnerType": "company",
        "enrolledDateTime": "2026-01-02T03:04:05Z",
        "lastSyncDateTime": synced,
        "operatingSystem": "Android" if n % 2 else "iOS",
        "complianceState": "compliant",
        "osVersion": "14" if n % 2 else "17.5.1",
        "emailAddress": f"user{n}@contoso.example",
        "azureADDeviceId": f"aad-{n}",
        "userPrincipalName": f"user{n}@contoso.example",
        "wiFiMacAddress": wifi_mac(n),
        "serialNumber": f"SN{n:06d}",
        "managementAgent": "mdm",
    }


def detected_app(n: int) -> dict[str, Any]:
    return {
        "id": f"da{n:040x}",
        "displayName": f"Example Tool {n}",
        "version": f"1.{n}.0",
        "sizeInByte": 1048576 * n,
        "deviceCount": 2,
        "publisher": "Example Ltd",
        "platform": "androidWorkProfile" if n % 2 else "ios",
    }


def mobile_app(n: int) -> dict[str, Any]:
    """A v1.0 mobileApp of one of the types Intune deploys to phones: Android store app (managed
    by app protection), Android LOB app (its version in versionName), iOS LOB app (versionNumber),
    iOS store app (no version at all)."""
    common = {
        "id": f"ma-{n:04d}-7777-4888-9999-aaaabbbbcccc",
        "displayName": f"Field App {n}",
        "publisher": "Contoso",
        "createdDateTime": "2026-02-01T00:00:00Z",
        "lastModifiedDateTime": f"2026-11-1{n % 10}T12:00:00Z",
        "isFeatured": False,
        "publishingState": "published",
    }
    kind = n % 4
    if kind == 1:
        return {
            "@odata.type": "#microsoft.graph.managedAndroidStoreApp",
            **common,
            "appAvailability": "global",
            "version": f"3.{n}.0",
            "packageId": f"com.contoso.field{n}",
            "appStoreUrl": f"https://play.google.com/store/apps/details?id=com.contoso.field{n}",
            "minimumSupportedOperatingSystem": {"v8_0": True},
        }
    if kind == 2:
        return {
            "@odata.type": "#microsoft.graph.androidLobApp",
            **common,
            "committedContentVersion": "1",
            "fileName": f"field{n}.apk",
            "size": 48234496,
            "packageId": f"com.contoso.lob{n}",
            "versionName": f"2.{n}.1",
            "versionCode": str(200 + n),
            "minimumSupportedOperatingSystem": {"v8_0": True},
        }
    if kind == 3:
        return {
            "@odata.type": "#microsoft.graph.iosLobApp",
            **common,
            "committedContentVersion": "1",
            "fileName": f"field{n}.ipa",
            "size": 30123008,
            "bundleId": f"com.contoso.ios.lob{n}",
            "versionNumber": f"5.{n}",
            "buildNumber": f"5{n}07",
            "applicableDeviceType": {"iPad": True, "iPhoneAndIPod": True},
        }
    return {
        "@odata.type": "#microsoft.graph.iosStoreApp",
        **common,
        "bundleId": f"com.contoso.ios.store{n}",
        "appStoreUrl": f"https://apps.apple.com/app/id{1000000 + n}",
        "applicableDeviceType": {"iPad": True, "iPhoneAndIPod": True},
    }


def store_app(n: int) -> dict[str, Any]:
    """A Managed Google Play app (beta androidManagedStoreApp): its package id and no version."""
    return {
        "@odata.type": "#microsoft.graph.androidManagedStoreApp",
        "id": f"mgp-{n:04d}-1111-4222-8333-444455556666",
        "displayName": f"Contoso Play App {n}",
        "publisher": "Contoso",
        "createdDateTime": "2026-02-03T00:00:00Z",
        "lastModifiedDateTime": "2026-11-02T08:00:00Z",
        "isFeatured": False,
        "publishingState": "published",
        "packageId": f"com.contoso.play{n}",
        "appIdentifier": f"com.contoso.play{n}",
        "appStoreUrl": f"https://play.google.com/work/apps/details?id=com.contoso.play{n}",
        "isPrivate": False,
        "isSystemApp": False,
        "usedLicenseCount": 0,
        "totalLicenseCount": 0,
    }


def assignment(n: int) -> dict[str, Any]:
    return {
        "id": f"as-{n}",
        "intent": "required",
        "target": {"@odata.type": "#microsoft.graph.allDevicesAssignmentTarget"},
    }


def category(n: int) -> dict[str, Any]:
    return {"id": f"cat-{n}", "displayName": "Productivity", "lastModifiedDateTime": "2026-01-01T00:00:00Z"}


def audit_event(n: int, when: str) -> dict[str, Any]:
    return {
        "id": f"ae-{n:06d}-0000-4000-8000-000000000000",
        "displayName": "Assign MobileApp",
        "componentName": "MobileApps",
        "actor": {
            "auditActorType": "ItPro",
            "userPrincipalName": "admin@contoso.example",
            "applicationDisplayName": "Intune",
        },
        "activityDateTime": when,
        "activityType": "Assign MobileApp",
        "activityOperationType": "Assign",
        "activityResult": "Success",
        "correlationId": guid(0xC0, n),
        "resources": [
            {
                "displayName": "Field App",
                # v1.0 names the resource's type auditResourceType (beta also has `type`).
                "auditResourceType": "MobileApp",
                "resourceId": f"ma-{n}",
                "modifiedProperties": [],
            }
        ],
        "category": "Application",
    }


class FakeGraph:
    def __init__(self) -> None:
        self.devices = [managed_device(n) for n in range(1, 6)]
        self.detected = [detected_app(n) for n in range(1, 4)]
        # Devices per detected app id.
        self.app_devices = {a["id"]: self.devices[i : i + 2] for i, a in enumerate(self.detected)}
        self.apps = [mobile_app(n) for n in range(1, 5)]
        self.assignments = {a["id"]: [assignment(i)] for i, a in enumerate(self.apps)}
        self.categories = {a["id"]: [category(i)] for i, a in enumerate(self.apps)}
        self.audit: list[dict[str, Any]] = []
        # Managed Google Play apps (Graph beta only); none unless a test adds them.
        self.store_apps: list[dict[str, Any]] = []
        self.tokens: set[str] = set()
        self.counter = itertools.count(1)
        self.server = FakeServer(self.handle)
        self.server.on_revoke = self.tokens.clear
        # Replace a nextLink (by the skip offset it would carry) to script loops.
        self.link_override: dict[int, str] = {}

    def handle(self, request: Request) -> Answer:
        if request.path == f"/{TENANT}/oauth2/v2.0/token" and request.method == "POST":
            fields = request.form()
            if fields.get("client_id") != CLIENT_ID or fields.get("client_secret") != CLIENT_SECRET:
                return Answer(
                    401,
                    {"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret."},
                )
            if fields.get("grant_type") != "client_credentials" or not fields.get("scope", "").endswith(
                "/.default"
            ):
                return Answer(400, {"error": "invalid_request"})
            token = f"eyJ0eXAiOiJKV1Qi.graph-{next(self.counter)}.{'s' * 30}"
            self.tokens.add(token)
            return Answer(
                200,
                {"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": token},
            )
        auth = request.headers.get("authorization", "")
        if not auth.startswith("Bearer ") or auth[7:] not in self.tokens:
            return Answer(
                401, {"error": {"code": "InvalidAuthenticationToken", "message": "Access token has expired."}}
            )
        if request.path == "/beta/deviceAppManagement/mobileApps":
            if request.arg("$filter") != STORE_APP_FILTER:
                return Answer(400, {"error": {"code": "BadRequest", "message": "expected the isof filter"}})
            return self.paged(request, self.expanded(request, self.store_apps))
        if not request.path.startswith("/v1.0/"):
            return Answer(404, {"error": {"code": "ResourceNotFound"}})
        path = request.path.removeprefix("/v1.0/")
        if path == "deviceManagement/managedDevices":
            return self.paged(request, self.devices)
        if path == "deviceManagement/detectedApps":
            return self.paged(request, self.detected)
        match = re.fullmatch(r"deviceManagement/detectedApps/([^/]+)/managedDevices", path)
        if match and match.group(1) in self.app_devices:
            return self.paged(request, self.app_devices[match.group(1)])
        if path == "deviceAppManagement/mobileApps":
            return self.paged(request, self.expanded(request, self.apps))
        if path == "deviceManagement/auditEvents":
            items = self.audit
            window = request.arg("$filter")
            if window is not None:
                match = _WINDOW.match(window)
                if not match:
                    return Answer(400, {"error": {"code": "BadRequest", "message": "Invalid filter clause"}})
                start, end = match.groups()
                # Fixture times share one format (milliseconds, Z), so text order is time order.
                items = [e for e in items if start <= e["activityDateTime"] < end]
            return self.paged(request, items)
        return Answer(404, {"error": {"code": "ResourceNotFound"}})

    def expanded(self, request: Request, apps: list[dict[str, Any]]) -> list[dict[str, Any]]:
        expand = (request.arg("$expand") or "").split(",")
        items = []
        for app in apps:
            item = dict(app)
            if "assignments" in expand:
                item["assignments"] = self.assignments.get(app["id"], [])
            if "categories" in expand:
                item["categories"] = self.categories.get(app["id"], [])
            items.append(item)
        return items

    def paged(self, request: Request, items: list[dict[str, Any]]) -> Answer:
        top = int(request.arg("$top", "2") or 2)
        skip = int(request.arg("$skiptoken", "0") or 0)
        body: dict[str, Any] = {
            "@odata.context": f"{self.server.url}/v1.0/$metadata#{request.path.rsplit('/', 1)[-1]}",
            "value": items[skip : skip + top],
        }
        if skip + top < len(items):
            query = [(k, v[0]) for k, v in request.query.items() if k != "$skiptoken"]
            query.append(("$skiptoken", str(skip + top)))
            link = f"{self.server.url}{request.path}?" + urllib.parse.urlencode(query, safe="$,:")
            body["@odata.nextLink"] = self.link_override.get(skip + top, link)
        return Answer(200, body)
