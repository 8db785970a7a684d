"""The MDM sourcetypes from the add-on's own inputs (package/bin/mobile_ingress_inputs), exactly as
they write them:

- inventories (`mdm:jamf:mobiledevice`, `mdm:amapi:device`, `mdm:amapi:policy`, `mdm:intune:app`,
  `mdm:intune:device`, `mdm:intune:audit`): the real input runs once a day at SWEEP_HOUR against
  the local stand-ins of tests/inputs (Jamf Pro, Microsoft Graph, Google), filled with the
  scenario's fleet, with the checkpoints kept from one sweep to the next (Jamf's incremental
  watermark, Intune's audit bookmark) and the scenario's clock;
- usage logs (`mdm:amapi:usagelog`): each device uploads its logs in batches; the input's hourly
  Pub/Sub pull (at :07) hands each USAGE_LOGS message to the input's own UsageLogs stream
  (`message_events`), without the HTTP round trip, which would add nothing to the events and
  cost a request per hour of scenario.

The stand-in's address in Jamf's source ids (`jamf:127.0.0.1:PORT:...`) is replaced by the
tenant's host name, so the bytes do not depend on the port the stand-in got. Every event is
written as the Splunk adapter writes it (`CollectedEvent.text()`, time to the millisecond)."""

from __future__ import annotations

import base64
import hashlib
import json
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.dont_write_bytecode = True  # the build copies package/ as it is: no bytecode there
# Deliberate: the inputs import as splunkd runs them, bin/ on sys.path (also outside pytest, when
# tools/replay_dashboards.py builds the replay).
_BIN = str(Path(__file__).resolve().parents[2] / "package" / "bin")
if _BIN not in sys.path:
    sys.path.insert(0, _BIN)

from mobile_ingress_inputs import amapi, intune, jamf  # noqa: E402
from mobile_ingress_inputs.events import CollectedEvent  # noqa: E402

from tests.inputs import fake_google, fake_graph, fake_jamf  # noqa: E402
from tests.inputs.fakeserver import FakeServer  # noqa: E402
from tests.inputs.support import Harness  # noqa: E402

from .benign import Locator  # noqa: E402
from .catalog import (  # noqa: E402
    AMAPI_ENTERPRISE,
    AMAPI_POLICIES,
    INTUNE_APPS,
    JAMF_MANAGED,
    PLANTED_APPS,
    apps_by_id,
)
from .model import DAYS, Device, Platform, RawEvent, at, iso_graph, iso_ms, rng_for, uuid4  # noqa: E402
from .sources import UsageLog  # noqa: E402

SWEEP_HOUR = 12
JAMF_HOST = "contoso.jamfcloud.com"
MDM_INDEX = "mobile"
STANZAS = {
    "jamf": "mobile_ingress_jamf://jamf_cloud",
    "intune": "mobile_ingress_intune://tenant",
    "amapi": "mobile_ingress_amapi://android_fleet",
}
INPUT_HOST = "splunk-hf01"
PULL_MINUTE = 7
ADMIN = "it.admin@contoso.example"


@contextmanager
def serving(server: FakeServer) -> Iterator[FakeServer]:
    """tests.inputs.fakeserver.serving, polling for shutdown every 20 ms instead of 500 ms (a
    scenario serves and stops three stand-ins; half a second each is most of its build time)."""
    thread = threading.Thread(target=server.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.server.shutdown()
        server.server.server_close()
        thread.join()


class InputRunFailed(RuntimeError):
    """An input's run against its stand-in did not end ok: the scenario would lack its events."""


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class ScenarioGoogle(fake_google.FakeGoogle):
    """The Google stand-in, checking the JWT's times against the scenario's clock (the input signs
    it with the clock it is given) instead of the wall clock."""

    def __init__(self, clock: Clock) -> None:
        super().__init__()
        self.clock = clock

    def check_assertion(self, jwt: str) -> str | None:
        problem = super().check_assertion(jwt)
        if problem != "invalid_grant: times":
            return problem
        claims = self.assertions[-1]["claims"]
        ok = claims["iat"] - 300 <= self.clock() <= claims["exp"] and claims["exp"] - claims["iat"] <= 3600
        return None if ok else problem


@dataclass(frozen=True)
class Written:
    """One event an input wrote, and when the sweep that wrote it ran."""

    event: CollectedEvent
    provider: str
    at: float


def raw_of(written: Written, indextime: int) -> RawEvent:
    data = dict(written.event.data)
    meta = dict(data.get("mobile_ingress", {}))
    if written.provider == "jamf":
        ident = meta.get("source_id", "")
        parts = ident.split(":")
        meta["source_id"] = ":".join([parts[0], JAMF_HOST, *parts[3:]]) if len(parts) > 3 else ident
        data["mobile_ingress"] = meta
    event = CollectedEvent(data, written.event.sourcetype, written.event.time, meta.get("source_id", ""))
    return RawEvent(
        MDM_INDEX,
        event.sourcetype,
        STANZAS[written.provider],
        INPUT_HOST,
        event.text(),
        indextime,
        round(event.time, 3),
    )


def ok(summary: dict[str, Any], harness: Harness, what: str) -> None:
    if summary.get("status") != "ok":
        raise InputRunFailed(
            f"{what}: the input's run ended {summary.get('status')!r}:\n{harness.log[-2000:]}"
        )


# ------------------------------------------------------------------------------- inventories


class Inventories:
    """The fleet as each MDM reports it, day by day."""

    def __init__(self, seed: int, devices: Sequence[Device], locator: Locator) -> None:
        self.seed = seed
        self.android = [d for d in devices if d.platform == Platform.ANDROID]
        self.ios = [d for d in devices if d.platform == Platform.IOS]
        self.devices = list(devices)
        self.locator = locator
        self.apps = apps_by_id()

    def version(self, device: Device, app_id: str) -> str:
        spec = self.apps.get((device.platform, app_id))
        return spec.version if spec is not None else PLANTED_APPS[app_id][2]

    def name(self, device: Device, app_id: str) -> str:
        spec = self.apps.get((device.platform, app_id))
        return spec.name if spec is not None else PLANTED_APPS[app_id][1]

    def jamf_devices(self, day: int) -> list[dict[str, Any]]:
        """Each iOS device checks in once a day in the morning: from its site (its lease's address,
        with at least an hour of the lease left) or from home (its home router's public address)."""
        out = []
        for n, device in enumerate(self.ios, start=1):
            rng = rng_for(self.seed, "jamf", device.device_id, day)
            updated = at(day, 9, 30) + rng.uniform(0, 5400)
            stay = self.locator.where(device.device_id, updated)
            ip = stay.ip if stay is not None and stay.leave - updated >= 3600 else f"192.0.2.{20 + n}"
            apps = []
            for app_id in device.apps:
                status = "Managed" if app_id in JAMF_MANAGED else "Unmanaged"  # Jamf's schema
                apps.append(
                    {
                        "identifier": app_id,
                        "name": self.name(device, app_id),
                        "version": self.version(device, app_id),
                        "shortVersion": self.version(device, app_id),
                        "managementStatus": status,
                        "bundleSize": str(20_000_000 + 1_048_576 * len(app_id)),
                        "dynamicSize": str(1_048_576 * (1 + len(app_id) % 7)),
                    }
                )
            out.append(
                {
                    "mobileDeviceId": str(n),
                    "deviceType": "iOS",
                    "general": {
                        "udid": device.device_id,
                        "displayName": device.name,
                        "lastInventoryUpdateDate": iso_ms(updated),
                        "osVersion": device.os_version,
                        "osBuild": "22B83",
                        "ipAddress": ip,
                        "managed": True,
                        "supervised": True,
                        "deviceOwnershipType": "Institutional",
                        "lastEnrolledDate": "2026-01-05T08:00:00.000Z",
                    },
                    "hardware": {
                        "serialNumber": device.serial,
                        "wifiMacAddress": device.wifi_mac.upper(),
                    },
                    "applications": apps,
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
            )
        return out

    def policy_of(self, device: Device) -> str:
        return "managers" if device.user.startswith(("ben.", "emma.")) else "fieldworkers"

    def amapi_devices(self, day: int) -> list[dict[str, Any]]:
        out = []
        for n, device in enumerate(self.android, start=1):
            rng = rng_for(self.seed, "amapi-device", device.device_id, day)
            reported = iso_ms(at(day, 11, 0) + rng.uniform(0, 3000))
            policy = f"{AMAPI_ENTERPRISE}/policies/{self.policy_of(device)}"
            reports = []
            for app_id in device.apps:
                sideloaded = app_id in PLANTED_APPS
                reports.append(
                    {
                        "packageName": app_id,
                        "versionName": self.version(device, app_id),
                        "versionCode": 100000 + len(app_id) * 37,
                        "state": "INSTALLED",
                        "displayName": self.name(device, app_id),
                    }
                )
                if not sideloaded:  # the API leaves applicationSource out for a sideloaded app
                    reports[-1]["applicationSource"] = "INSTALLED_FROM_PLAY_STORE"
            out.append(
                {
                    "name": device.device_id,
                    "managementMode": "DEVICE_OWNER",
                    "state": "ACTIVE",
                    "appliedState": "ACTIVE",
                    "policyName": policy,
                    "appliedPolicyName": policy,
                    "enrollmentTime": "2026-03-01T09:00:00Z",
                    "lastStatusReportTime": reported,
                    "lastPolicySyncTime": reported,
                    "userName": amapi_user(n),
                    "hardwareInfo": {
                        "brand": "samsung" if device.model.startswith("SM-") else "google",
                        "model": device.model,
                        "serialNumber": device.serial,
                    },
                    "softwareInfo": {"androidVersion": device.os_version, "securityPatchLevel": "2026-11-05"},
                    "networkInfo": {
                        "imei": f"35{abs(hash_int(device.device_id)) % 10**13:013d}",
                        "wifiMacAddress": device.wifi_mac.upper(),
                    },
                    "applicationReports": reports,
                }
            )
        return out

    def amapi_policies(self) -> list[dict[str, Any]]:
        return [
            {
                "name": f"{AMAPI_ENTERPRISE}/policies/{name}",
                "version": str(40 + n),
                "applications": applications,
                "usageLog": {
                    "enabledLogTypes": ["SECURITY_LOGS", "NETWORK_ACTIVITY_LOGS"],
                    "uploadOnCellularAllowed": [],
                },
            }
            for n, (name, applications) in enumerate(sorted(AMAPI_POLICIES.items()))
        ]

    # ------------------------------------------------------------------------------- Intune
    def intune_id(self, what: str) -> str:
        return uuid4(rng_for(0, "intune", what))

    def intune_devices(self, day: int) -> list[dict[str, Any]]:
        out = []
        for device in self.devices:
            rng = rng_for(self.seed, "intune-device", device.device_id, day)
            synced = iso_graph(at(day, 7, 0) + rng.uniform(0, 7200), rng.randint(0, 9_999_999))
            system = "Android" if device.platform == Platform.ANDROID else "iOS"
            out.append(
                {
                    "id": self.intune_id(device.device_id),
                    "userId": self.intune_id(device.user),
                    "deviceName": device.name,
                    "managedDeviceOwnerType": "company",
                    "enrolledDateTime": "2026-03-02T10:11:12Z",
                    "lastSyncDateTime": synced,
                    "operatingSystem": system,
                    "complianceState": "compliant",
                    "osVersion": device.os_version,
                    "emailAddress": device.user,
                    "azureADDeviceId": self.intune_id("aad:" + device.device_id),
                    "userPrincipalName": device.user,
                    "wiFiMacAddress": device.wifi_mac.replace(":", ""),
                    "serialNumber": device.serial,
                    "managementAgent": "googleCloudDevicePolicyController" if system == "Android" else "jamf",
                    "model": device.model,
                }
            )
        return out

    def intune_apps(self, day: int) -> tuple[list[dict[str, Any]], dict[str, Any], dict[str, Any]]:
        """mobileApps, their assignments and categories. Their lastModifiedDateTime is weeks before
        the scenario, as for any catalogue app nobody touched lately, except Teams for iOS, whose
        assignment the administrator changes on day 1 (see the audit events)."""
        apps, assignments, categories = [], {}, {}
        for n, (odata, app_id, name, category, intents) in enumerate(INTUNE_APPS):
            ident = self.intune_id("app:" + app_id + odata)
            modified = iso_graph(at(-40 + n * 3, 9, 12), 1_234_567 + n)
            if app_id == "com.microsoft.skype.teams" and day >= 1:
                modified = iso_graph(at(1, 10, 4, 31), 5_550_123)
            key = "bundleId" if "ios" in odata.lower() else "packageId"
            apps.append(
                {
                    "@odata.type": odata,
                    "id": ident,
                    "displayName": name,
                    "publisher": "Microsoft" if "microsoft" in app_id else "TikTok Pte. Ltd.",
                    "createdDateTime": "2026-02-01T00:00:00Z",
                    "lastModifiedDateTime": modified,
                    "isFeatured": False,
                    key: app_id,
                }
            )
            assignments[ident] = [
                {
                    "id": f"{ident}_{i}",
                    "intent": intent,
                    "target": {"@odata.type": "#microsoft.graph.allDevicesAssignmentTarget"},
                }
                for i, intent in enumerate(intents)
            ]
            categories[ident] = [
                {
                    "id": self.intune_id("category:" + category),
                    "displayName": category,
                    "lastModifiedDateTime": "2026-01-01T00:00:00Z",
                }
            ]
        return apps, assignments, categories

    def intune_detected(self) -> tuple[list[dict[str, Any]], dict[str, list[dict[str, Any]]]]:
        names = {
            "com.whatsapp": "WhatsApp",
            "com.spotify.music": "Spotify",
            "com.instagram.android": "Instagram",
            "net.whatsapp.WhatsApp": "WhatsApp",
            "com.burbn.instagram": "Instagram",
        }
        detected, devices = [], {}
        for app_id, name in sorted(names.items()):
            holders = [d for d in self.devices if app_id in d.apps]
            android = holders and holders[0].platform == Platform.ANDROID
            ident = f"{hash_int(app_id) % 16**44:044x}"
            detected.append(
                {
                    "id": ident,
                    "displayName": name,
                    "version": self.version(holders[0], app_id),
                    "sizeInByte": 80_000_000 + len(app_id) * 1_048_576,
                    "deviceCount": len(holders),
                    "publisher": name,
                    "platform": "androidDedicatedAndFullyManaged" if android else "ios",
                }
            )
            devices[ident] = [{"id": self.intune_id(d.device_id), "deviceName": d.name} for d in holders]
        return detected, devices

    def intune_audit(self) -> list[dict[str, Any]]:
        events = []
        for n, (day, hour, minute, what, target) in enumerate(
            (
                (1, 10, 4, "Assign MobileApp", "Microsoft Teams"),
                (3, 14, 22, "Patch MobileApp", "Microsoft Outlook"),
                (7, 9, 5, "Assign MobileApp", "Intune Company Portal"),
            )
        ):
            operation = what.split(" ", 1)[0]
            events.append(
                {
                    "id": self.intune_id(f"audit:{n}"),
                    "displayName": what,
                    "componentName": "MobileApps",
                    "actor": {
                        "auditActorType": "ItPro",
                        "userPrincipalName": ADMIN,
                        "applicationDisplayName": "Microsoft Intune portal",
                        "ipAddress": "198.18.4.21",
                        "userId": self.intune_id(ADMIN),
                        "applicationId": "5926fc8e-304e-4f59-8bed-58ca97cc39a4",
                        "userPermissions": ["*"],
                        "servicePrincipalName": None,
                    },
                    "activityDateTime": iso_graph(at(day, hour, minute, 11), 2_345_671 + n),
                    "activityType": what,
                    "activityOperationType": operation,
                    "activityResult": "Success",
                    "correlationId": self.intune_id(f"correlation:{n}"),
                    "resources": [
                        {
                            "displayName": target,
                            "resourceId": self.intune_id(target),
                            "auditResourceType": "MobileApp",
                            "modifiedProperties": [
                                {
                                    "displayName": "Assignments",
                                    "oldValue": None,
                                    "newValue": '["all devices"]',
                                }
                            ],
                        }
                    ],
                    "category": "Application",
                }
            )
        return events


def amapi_user(n: int) -> str:
    return f"{AMAPI_ENTERPRISE}/users/1{n:09d}"


def hash_int(text: str) -> int:
    return int(hashlib.sha256(text.encode()).hexdigest(), 16)


def sweeps(inventories: Inventories) -> list[Written]:
    """One sweep a day of each input, each run by the input's own code against its stand-in."""
    clock = Clock()
    written: list[Written] = []
    google = ScenarioGoogle(clock)
    jamf_fake = fake_jamf.FakeJamf([])
    graph = fake_graph.FakeGraph()
    graph.detected, graph.app_devices = inventories.intune_detected()
    graph.audit = inventories.intune_audit()
    google.policies = inventories.amapi_policies()
    hosts = {
        "jamf": Harness("jamf", page_size=100),
        "intune": Harness("intune", page_size=100),
        "amapi": Harness("amapi", page_size=100),
    }
    for harness in hosts.values():
        harness.clock = clock
    with serving(google.server), serving(jamf_fake.server), serving(graph.server):
        jamf_account = jamf.JamfAccount(
            jamf_fake.server.url, client_id=fake_jamf.CLIENT_ID, client_secret=fake_jamf.CLIENT_SECRET
        ).validated(True)
        intune_account = intune.IntuneAccount(
            fake_graph.TENANT,
            fake_graph.CLIENT_ID,
            fake_graph.CLIENT_SECRET,
            login_url=graph.server.url,
            graph_url=graph.server.url,
        ).validated(True)
        amapi_account, key = amapi.AmapiAccount(
            AMAPI_ENTERPRISE,
            fake_google.service_account_json(google.token_uri),
            api_url=google.server.url,
            pubsub_url=google.server.url,
        ).validated(True)
        for day in range(DAYS):
            jamf_fake.devices = inventories.jamf_devices(day)
            google.devices = inventories.amapi_devices(day)
            graph.devices = inventories.intune_devices(day)
            graph.apps, graph.assignments, graph.categories = inventories.intune_apps(day)
            runs = (
                ("jamf", 0, lambda ctx: jamf.streams(ctx, jamf_account)),
                ("amapi", 20, lambda ctx: amapi.streams(ctx, amapi_account, key, ("devices", "policies"))),
                ("intune", 40, lambda ctx: intune.streams(ctx, intune_account)),
            )
            for provider, offset, streams in runs:
                clock.now = at(day, SWEEP_HOUR, 0, offset)
                harness = hosts[provider]
                before = len(harness.sink.events)
                ok(harness.run(streams), harness, f"{provider} sweep of day {day}")
                written.extend(Written(e, provider, clock.now) for e in harness.sink.events[before:])
    return written


def sweep_events(written: Sequence[Written], seed: int) -> list[RawEvent]:
    rng = rng_for(seed, "sweep-index")
    out = []
    for n, item in enumerate(written):
        out.append(raw_of(item, int(item.at + 1 + n % 40 * 0.1 + rng.uniform(0, 2))))
    return out


# -------------------------------------------------------------------------------- usage logs


def usage_events(seed: int, logs: Sequence[UsageLog], devices: Sequence[Device]) -> list[RawEvent]:
    """Batches as each device uploads them, pulled from Pub/Sub hourly at :07 by the input's code."""
    android = [d for d in devices if d.platform == Platform.ANDROID]
    users = {d.device_id: amapi_user(n) for n, d in enumerate(android, start=1)}
    clock = Clock()
    harness = Harness("amapi", page_size=100)
    harness.clock = clock
    account, key = amapi.AmapiAccount(
        AMAPI_ENTERPRISE,
        fake_google.service_account_json("https://oauth2.googleapis.com/token"),
        fake_google.SUBSCRIPTION,
    ).validated(False)
    stream = amapi.UsageLogs(harness.context(), account, key)
    messages: list[tuple[float, dict[str, Any]]] = []
    for device in android:
        mine = sorted((log for log in logs if log.device.device_id == device.device_id), key=lambda g: g.time)
        rng = rng_for(seed, "uploads", device.device_id)
        upload = mine[0].time + rng.uniform(300, 3600) if mine else 0.0
        i = 0
        while i < len(mine):
            batch = []
            while i < len(mine) and mine[i].time <= upload - 2:
                batch.append(mine[i].record)
                i += 1
            if batch:
                payload = {
                    "device": device.device_id,
                    "user": users[device.device_id],
                    "retrievalTime": iso_ms(upload),
                    "usageLogEvents": batch,
                }
                published = upload + rng.uniform(1, 6)
                messages.append(
                    (
                        published,
                        {
                            "data": base64.b64encode(
                                json.dumps(payload, separators=(",", ":")).encode()
                            ).decode(),
                            "attributes": {
                                "notificationType": "USAGE_LOGS",
                                "enterprise": AMAPI_ENTERPRISE.split("/", 1)[1],
                            },
                            "messageId": str(11_000_000_000 + len(messages) * 7 + rng.randint(0, 6)),
                            "publishTime": iso_ms(published),
                        },
                    )
                )
            upload += rng.uniform(1800, 4200)
    out: list[RawEvent] = []
    rng = rng_for(seed, "pulls")
    for n, (published, message) in enumerate(sorted(messages, key=lambda m: (m[0], m[1]["messageId"]))):
        pull = next_pull(published)
        clock.now = pull + rng.uniform(0.5, 3)
        events, skipped = stream.message_events(message, f"pull at {iso_ms(pull)} message {n}")
        if skipped:
            raise InputRunFailed(f"the usage-log message of {iso_ms(published)} lost {skipped} events")
        for position, event in enumerate(events):
            written = Written(event, "amapi", clock.now)
            out.append(raw_of(written, int(clock.now + 1 + position * 0.02)))
    return out


def next_pull(published: float) -> float:
    """The first hourly pull at :07 after a message is published."""
    hour = (int(published) // 3600) * 3600
    pull = hour + PULL_MINUTE * 60
    return pull if pull > published else pull + 3600
