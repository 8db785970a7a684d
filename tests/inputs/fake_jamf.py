"""Jamf Pro stand-in: `POST /api/oauth/token` (client credentials), `POST /api/v1/auth/token`
(Basic), `GET /api/v2/mobile-devices/detail` with section (only the requested sections are
answered; GENERAL when none, as Jamf documents), page, page-size, sort=mobileDeviceId:asc and the
RSQL filter `lastInventoryUpdateDate=gt="T"`; records shaped by Jamf's OpenAPI document (checked
by tests/inputs/test_vendor_schemas.py)."""

from __future__ import annotations

import base64
import itertools
import re
from typing import Any

from .fakeserver import Answer, FakeServer, Request

CLIENT_ID = "jamf-client-0c1d"
CLIENT_SECRET = "jamf-SECRET-a8f3e2b7c9d4"
USERNAME = "splunk-reader"
PASSWORD = "jamf-PASSWORD-5e6f7a8b"
_FILTER = re.compile(r'^lastInventoryUpdateDate=gt="([^"]+)"$')


# Jamf's MobileDeviceSection values and the record key each one fills (the OpenAPI document's
# MobileDeviceInventory and its iOS/tvOS/watchOS variants; tests/data/vendor/jamf).
SECTION_KEYS = {
    "GENERAL": "general",
    "HARDWARE": "hardware",
    "USER_AND_LOCATION": "userAndLocation",
    "PURCHASING": "purchasing",
    "SECURITY": "security",
    "APPLICATIONS": "applications",
    "EBOOKS": "ebooks",
    "NETWORK": "network",
    "SERVICE_SUBSCRIPTIONS": "serviceSubscriptions",
    "CERTIFICATES": "certificates",
    "PROFILES": "profiles",
    "USER_PROFILES": "userProfiles",
    "PROVISIONING_PROFILES": "provisioningProfiles",
    "SHARED_USERS": "sharedUsers",
    "EXTENSION_ATTRIBUTES": "extensionAttributes",
}
# (deviceType, model, model identifier) by kind of device: an iPad is deviceType iOS in Jamf.
MODELS = {
    "iPhone": ("iOS", "iPhone 15", "iPhone15,4"),
    "iPad": ("iOS", "iPad Air (5th generation)", "iPad13,16"),
    "AppleTV": ("tvOS", "Apple TV 4K (3rd generation)", "AppleTV14,1"),
}


def wifi_mac(n: int) -> str:
    """As Jamf writes it (the schema's example: C4:84:66:92:78:00): upper case, colons."""
    return f"F0:18:98:{n >> 16 & 0xFF:02X}:{n >> 8 & 0xFF:02X}:{n & 0xFF:02X}"


def device(n: int, updated: str = "2026-11-20T10:00:00.000Z", kind: str = "iPhone") -> dict[str, Any]:
    """A MobileDeviceInventory record with the GENERAL, HARDWARE, APPLICATIONS and SECURITY sections
    (tvOS has no SECURITY section), shaped by Jamf's OpenAPI document."""
    device_type, model, identifier = MODELS[kind]
    record: dict[str, Any] = {
        "mobileDeviceId": str(n),
        "deviceType": device_type,
        "general": {
            "udid": f"00008101-{n:016X}",
            "displayName": f"{kind} {n}",
            "lastInventoryUpdateDate": updated,
            "osVersion": "17.5.1",
            "osBuild": "21F90",
            "ipAddress": f"192.0.2.{n % 250 + 1}",
            "managed": True,
            "supervised": True,
            "deviceOwnershipType": "Institutional",
            "lastEnrolledDate": "2026-01-05T08:00:00.000Z",
        },
        "hardware": {
            "serialNumber": f"F4K{n:09d}",
            "wifiMacAddress": wifi_mac(n),
            "bluetoothMacAddress": f"F0:18:98:FF:{n >> 8 & 0xFF:02X}:{n & 0xFF:02X}",
            "model": model,
            "modelIdentifier": identifier,
            "capacityMb": 122070,
            "availableSpaceMb": 80112,
        },
        "applications": [
            {
                "identifier": "com.apple.mobilesafari",
                "name": "Safari",
                "version": "17.5",
                "shortVersion": "17.5",
                "managementStatus": "Unmanaged",
                "bundleSize": "0",
                "dynamicSize": "0",
            },
            {
                "identifier": f"com.example.field{n % 3}",
                "name": "Field App",
                "version": "4.2.0",
                "shortVersion": "4.2",
                # Jamf's schema writes `Managed` (its example); the builder compares in any case.
                "managementStatus": "Managed",
                "bundleSize": "48234496",
                "dynamicSize": "1048576",
            },
        ],
        "security": {
            "dataProtected": True,
            "blockLevelEncryptionCapable": True,
            "fileLevelEncryptionCapable": True,
            "passcodePresent": True,
            "passcodeCompliant": True,
            "jailBreakDetected": False,
            "activationLockEnabled": True,
        },
    }
    if device_type == "tvOS":
        del record["security"]  # a tvOS inventory has no security section
    return record


def sections_of(record: dict[str, Any], sections: list[str]) -> dict[str, Any]:
    """The record as Jamf answers for SECTIONS: its ids and the requested sections only."""
    keys = {"mobileDeviceId", "deviceType"} | {SECTION_KEYS[s] for s in sections}
    return {k: v for k, v in record.items() if k in keys}


class FakeJamf:
    def __init__(self, devices: list[dict[str, Any]], token_lifetime: int = 1200) -> None:
        self.devices = devices
        self.tokens: set[str] = set()
        self.counter = itertools.count(1)
        self.token_lifetime = token_lifetime
        self.server = FakeServer(self.handle)
        self.server.on_revoke = self.tokens.clear

    def _issue(self) -> str:
        token = f"jamf-token-{next(self.counter)}-{'x' * 24}"
        self.tokens.add(token)
        return token

    def handle(self, request: Request) -> Answer:
        if request.path == "/api/oauth/token" and request.method == "POST":
            fields = request.form()
            if (
                fields.get("grant_type") != "client_credentials"
                or fields.get("client_id") != CLIENT_ID
                or fields.get("client_secret") != CLIENT_SECRET
            ):
                return Answer(401, {"error": "invalid_client"})
            return Answer(
                200,
                {
                    "access_token": self._issue(),
                    "scope": "api-role:1",
                    "token_type": "Bearer",
                    "expires_in": self.token_lifetime,
                },
            )
        if request.path == "/api/v1/auth/token" and request.method == "POST":
            expected = "Basic " + base64.b64encode(f"{USERNAME}:{PASSWORD}".encode()).decode()
            if request.headers.get("authorization") != expected:
                return Answer(401, {"httpStatus": 401, "errors": []})
            return Answer(200, {"token": self._issue(), "expires": "2099-01-01T00:00:00.000Z"})
        if request.path == "/api/v2/mobile-devices/detail" and request.method == "GET":
            auth = request.headers.get("authorization", "")
            if not auth.startswith("Bearer ") or auth[7:] not in self.tokens:
                return Answer(401, {"httpStatus": 401, "errors": [{"code": "INVALID_TOKEN"}]})
            sections = request.query.get("section") or ["GENERAL"]
            if any(s not in SECTION_KEYS for s in sections):
                return Answer(400, {"httpStatus": 400, "errors": [{"description": "section"}]})
            page = int(request.arg("page", "0") or 0)
            size = int(request.arg("page-size", "100") or 100)
            selected = sorted(self.devices, key=lambda d: int(d["mobileDeviceId"]))
            rsql = request.arg("filter")
            if rsql:
                match = _FILTER.match(rsql)
                if not match:
                    return Answer(400, {"httpStatus": 400, "errors": [{"description": "filter"}]})
                # The fixtures write every time in one format, so text order is time order.
                since = match.group(1)
                selected = [d for d in selected if d["general"]["lastInventoryUpdateDate"] > since]
            results = [sections_of(d, sections) for d in selected[page * size : (page + 1) * size]]
            return Answer(200, {"totalCount": len(selected), "results": results})
        return Answer(404, {"httpStatus": 404})
