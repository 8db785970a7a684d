"""Google OAuth2 + Android Management API + Pub/Sub stand-in.

- `POST /token`: grant_type jwt-bearer; the assertion's RS256 signature is checked with the
  service account's public key, and its iss, aud, scope, iat and exp claims.
- `GET /v1/enterprises/{e}/devices|policies?pageSize&pageToken` -> {devices|policies, nextPageToken}.
- `POST /v1/projects/{p}/subscriptions/{s}:pull` {maxMessages} -> {receivedMessages: [{ackId,
  message: {data (base64), attributes, messageId, publishTime}}]}; `:acknowledge` {ackIds}.
  Unacknowledged messages are delivered again on the next pull (an ack deadline of zero).
"""

from __future__ import annotations

import base64
import itertools
import json
import time
from functools import lru_cache
from typing import Any

import rsa
from pyasn1.codec.der import encoder
from pyasn1.type import univ
from pyasn1_modules import rfc2437, rfc5208

from .fakeserver import Answer, FakeServer, Request

ENTERPRISE = "enterprises/LC04abcd12"
SUBSCRIPTION = "projects/mdm-telemetry-01/subscriptions/amapi-usage"
CLIENT_EMAIL = "splunk-reader@mdm-telemetry-01.iam.gserviceaccount.com"
KEY_ID = "5f1e2d3c4b5a69788796a5b4c3d2e1f0a9b8c7d6"
SCOPES = "https://www.googleapis.com/auth/androidmanagement https://www.googleapis.com/auth/pubsub"


@lru_cache(maxsize=1)
def keypair() -> tuple[rsa.PublicKey, rsa.PrivateKey]:
    return rsa.newkeys(1024)  # small for speed; the signing path is the one 2048-bit keys take


def pkcs8_pem(private: rsa.PrivateKey) -> str:
    """The key as Google's JSON key files hold it: PKCS#8 `-----BEGIN PRIVATE KEY-----`."""
    info = rfc5208.PrivateKeyInfo()
    info["version"] = 0
    algorithm = rfc5208.AlgorithmIdentifier()
    algorithm["algorithm"] = rfc2437.rsaEncryption
    algorithm["parameters"] = univ.Null("")
    info["privateKeyAlgorithm"] = algorithm
    info["privateKey"] = univ.OctetString(private.save_pkcs1("DER"))
    body = base64.encodebytes(encoder.encode(info)).decode()
    return f"-----BEGIN PRIVATE KEY-----\n{body}-----END PRIVATE KEY-----\n"


def service_account_json(token_uri: str) -> str:
    return json.dumps(
        {
            "type": "service_account",
            "project_id": "mdm-telemetry-01",
            "private_key_id": KEY_ID,
            "private_key": pkcs8_pem(keypair()[1]),
            "client_email": CLIENT_EMAIL,
            "client_id": "104729384756102938475",
            "auth_uri": "https://accounts.google.com/o/oauth2/auth",
            "token_uri": token_uri,
        }
    )


def wifi_mac(n: int) -> str:
    """As the Android Management API writes it (its example: 7c:11:11:11:11:11)."""
    return f"3c:28:6d:{n >> 16 & 0xFF:02x}:{n >> 8 & 0xFF:02x}:{n & 0xFF:02x}"


def device(n: int, reported: str = "2026-11-20T11:22:33.456Z") -> dict[str, Any]:
    return {
        "name": f"{ENTERPRISE}/devices/3a{n:014x}",
        "managementMode": "DEVICE_OWNER",
        "state": "ACTIVE",
        "appliedState": "ACTIVE",
        "policyName": f"{ENTERPRISE}/policies/field",
        "appliedPolicyName": f"{ENTERPRISE}/policies/field",
        "enrollmentTime": "2026-03-01T09:00:00Z",
        "lastStatusReportTime": reported,
        "lastPolicySyncTime": reported,
        "userName": f"{ENTERPRISE}/users/1{n:09d}",
        "hardwareInfo": {"brand": "google", "model": "Pixel 8", "serialNumber": f"SER{n:05d}"},
        "softwareInfo": {"androidVersion": "14", "securityPatchLevel": "2026-10-05"},
        # Reported when the policy sets statusReportingSettings.networkInfoEnabled; the DPC reads
        # the hardware MAC (apps other than the device owner only ever see 02:00:00:00:00:00).
        "networkInfo": {"imei": f"35{n:013d}", "wifiMacAddress": wifi_mac(n)},
        "applicationReports": [
            {
                "packageName": "com.android.chrome",
                "versionName": "131.0.6778.81",
                "versionCode": 677808133,
                "state": "INSTALLED",
                "applicationSource": "INSTALLED_FROM_PLAY_STORE",
                "displayName": "Chrome",
            },
            {
                "packageName": f"com.example.sideloaded{n}",
                "versionName": "0.9",
                "versionCode": 9,
                "state": "INSTALLED",
                # A sideloaded app: its source is APPLICATION_SOURCE_UNSPECIFIED, the enum's zero
                # value, which Google's JSON leaves out.
                "displayName": "Helper",
            },
        ],
    }


def policy(n: int) -> dict[str, Any]:
    return {
        "name": f"{ENTERPRISE}/policies/p{n}",
        "version": str(10 + n),
        "applications": [
            {"packageName": "com.android.chrome", "installType": "FORCE_INSTALLED"},
            {
                "packageName": f"com.contoso.sync{n}",
                "installType": "AVAILABLE",
                "roles": [{"roleType": "COMPANION_APP"}],
            },
        ],
        "usageLog": {
            "enabledLogTypes": ["SECURITY_LOGS", "NETWORK_ACTIVITY_LOGS"],
            "uploadOnCellularAllowed": [],
        },
    }


def usage_batch(device_n: int, first_event: int, count: int) -> dict[str, Any]:
    events: list[dict[str, Any]] = []
    for i in range(first_event, first_event + count):
        when = f"2026-11-20T12:{i // 60 % 60:02d}:{i % 60:02d}.000Z"
        kind = i % 4
        if kind == 0:
            event = {
                "eventType": "CONNECT",
                "connectEvent": {
                    "destinationIpAddress": "203.0.113.7",
                    "destinationPort": 443,
                    "packageName": "com.example.sideloaded1",
                },
            }
        elif kind == 1:
            event = {
                "eventType": "DNS",
                "dnsEvent": {
                    "hostname": "payload.example.net",
                    "ipAddresses": ["203.0.113.7"],
                    "totalIpAddressesReturned": "1",
                    "packageName": "com.example.sideloaded1",
                },
            }
        elif kind == 2:
            event = {"eventType": "KEYGUARD_SECURED", "keyguardSecuredEvent": {}}
        else:
            event = {"eventType": "KEYGUARD_DISMISSED", "keyguardDismissedEvent": {}}
        events.append({"eventId": str(1000 + i), "eventTime": when, **event})
    return {
        "device": f"{ENTERPRISE}/devices/3a{device_n:014x}",
        "user": f"{ENTERPRISE}/users/1{device_n:09d}",
        "retrievalTime": "2026-11-20T13:00:00.000Z",
        "usageLogEvents": events,
    }


def message(n: int, kind: str, payload: Any, raw: bytes | None = None) -> dict[str, Any]:
    data = raw if raw is not None else json.dumps(payload).encode()
    return {
        "data": base64.b64encode(data).decode(),
        "attributes": {"notificationType": kind},
        "messageId": str(9000000 + n),
        "publishTime": "2026-11-20T13:00:01.000Z",
    }


class FakeGoogle:
    def __init__(self) -> None:
        self.devices = [device(n) for n in range(1, 6)]
        self.policies = [policy(n) for n in range(1, 4)]
        self.messages: list[dict[str, Any]] = []  # unacknowledged, in order
        self.acked: list[str] = []  # messageIds
        self.tokens: set[str] = set()
        self.counter = itertools.count(1)
        self.assertions: list[dict[str, Any]] = []
        self.server = FakeServer(self.handle)
        self.server.on_revoke = self.tokens.clear

    @property
    def token_uri(self) -> str:
        return self.server.url + "/token"

    def check_assertion(self, jwt: str) -> str | None:
        try:
            header_b64, claims_b64, signature_b64 = jwt.split(".")
            pad = lambda s: s + "=" * (-len(s) % 4)  # noqa: E731
            header = json.loads(base64.urlsafe_b64decode(pad(header_b64)))
            claims = json.loads(base64.urlsafe_b64decode(pad(claims_b64)))
            rsa.verify(
                f"{header_b64}.{claims_b64}".encode(),
                base64.urlsafe_b64decode(pad(signature_b64)),
                keypair()[0],
            )
        except (ValueError, rsa.VerificationError) as exc:
            return f"invalid_grant: {exc}"
        self.assertions.append({"header": header, "claims": claims})
        if header != {"alg": "RS256", "typ": "JWT", "kid": KEY_ID}:
            return "invalid_grant: header"
        now = time.time()
        if (
            claims.get("iss") != CLIENT_EMAIL
            or claims.get("aud") != self.token_uri
            or claims.get("scope") != SCOPES
        ):
            return "invalid_grant: claims"
        if not claims["iat"] - 300 <= now <= claims["exp"] or claims["exp"] - claims["iat"] > 3600:
            return "invalid_grant: times"
        return None

    def handle(self, request: Request) -> Answer:
        if request.path == "/token" and request.method == "POST":
            fields = request.form()
            if fields.get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer":
                return Answer(400, {"error": "unsupported_grant_type"})
            problem = self.check_assertion(fields.get("assertion", ""))
            if problem:
                return Answer(400, {"error": "invalid_grant", "error_description": problem})
            token = f"ya29.c.fake-{next(self.counter)}-{'t' * 30}"
            self.tokens.add(token)
            return Answer(200, {"access_token": token, "expires_in": 3599, "token_type": "Bearer"})
        auth = request.headers.get("authorization", "")
        if not auth.startswith("Bearer ") or auth[7:] not in self.tokens:
            return Answer(401, {"error": {"code": 401, "status": "UNAUTHENTICATED"}})
        for collection, items in (("devices", self.devices), ("policies", self.policies)):
            if request.path == f"/v1/{ENTERPRISE}/{collection}" and request.method == "GET":
                size = int(request.arg("pageSize", "100") or 100)
                start = int(request.arg("pageToken", "0") or 0)
                body: dict[str, Any] = {}
                if items[start : start + size]:
                    body[collection] = items[start : start + size]
                if start + size < len(items):
                    body["nextPageToken"] = str(start + size)
                return Answer(200, body)
        if request.path == f"/v1/{SUBSCRIPTION}:pull" and request.method == "POST":
            size = int(request.json().get("maxMessages", 1))
            pull = next(self.counter)
            batch = self.messages[:size]
            received = [{"ackId": f"ack-{m['messageId']}-{pull}", "message": m} for m in batch]
            return Answer(200, {"receivedMessages": received} if received else {})
        if request.path == f"/v1/{SUBSCRIPTION}:acknowledge" and request.method == "POST":
            ids = {a.split("-")[1] for a in request.json().get("ackIds", [])}
            self.acked.extend(m["messageId"] for m in self.messages if m["messageId"] in ids)
            self.messages = [m for m in self.messages if m["messageId"] not in ids]
            return Answer(200, {})
        return Answer(404, {"error": {"code": 404, "status": "NOT_FOUND"}})
