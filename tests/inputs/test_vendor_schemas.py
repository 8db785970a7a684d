"""The stand-ins answer as the real APIs do: every answer a stand-in serves while the inputs run
against it is checked against the vendor's published specification (tests/data/vendor: Google's
discovery documents, Microsoft Graph's v1.0 metadata and beta type mappings, Jamf Pro's OpenAPI
document), key by key, type by type, enum by enum. A stand-in cannot drift from the real API
again without one of these failing; and an endpoint a stand-in serves without a specification
here fails too."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from mobile_ingress_inputs import amapi, intune, jamf

from . import fake_google, fake_graph, fake_jamf
from .fakeserver import Answer, FakeServer, Request, serving
from .support import Harness
from .vendor_schema import (
    check_discovery,
    check_graph,
    check_graph_beta_store_app,
    check_graph_collection,
    check_openapi,
    jamf_sections,
)

Check = Callable[[Any], list[str]]


def pull_response(body: Any) -> list[str]:
    """A Pub/Sub pull answer, and each message's payload as the notification type says."""
    problems = check_discovery(body, "PullResponse", "pubsub.v1")
    for index, item in enumerate(body.get("receivedMessages", []) if isinstance(body, dict) else []):
        message = item.get("message", {})
        kind = message.get("attributes", {}).get("notificationType")
        payload = json.loads(base64.b64decode(message.get("data", "")))
        where = f"$.receivedMessages[{index}].message.data"
        if kind == "USAGE_LOGS":
            problems += check_discovery(payload, "BatchUsageLogEvents", "androidmanagement.v1", where)
        elif kind in ("STATUS_REPORT", "ENROLLMENT"):
            problems += check_discovery(payload, "Device", "androidmanagement.v1", where)
        else:
            problems.append(f"{where}: notification type {kind!r} has no schema here")
    return problems


# Data endpoints (path, method) -> the check of their answer. Token endpoints are OAuth 2.0
# (RFC 6749), not part of these specifications.
SPECS: dict[tuple[str, str], Check] = {
    ("/api/v2/mobile-devices/detail", "GET"): lambda body: check_openapi(
        body, "MobileDeviceInventorySearchResults"
    ),
    ("/v1.0/deviceManagement/managedDevices", "GET"): lambda body: check_graph_collection(
        body, "managedDevice"
    ),
    ("/v1.0/deviceManagement/detectedApps", "GET"): lambda body: check_graph_collection(body, "detectedApp"),
    ("/v1.0/deviceManagement/detectedApps/*/managedDevices", "GET"): lambda body: check_graph_collection(
        body, "managedDevice"
    ),
    ("/v1.0/deviceAppManagement/mobileApps", "GET"): lambda body: check_graph_collection(body, "mobileApp"),
    ("/v1.0/deviceManagement/auditEvents", "GET"): lambda body: check_graph_collection(body, "auditEvent"),
    ("/beta/deviceAppManagement/mobileApps", "GET"): lambda body: [
        p for i, app in enumerate(body["value"]) for p in check_graph_beta_store_app(app, f"$.value[{i}]")
    ],
    (f"/v1/{fake_google.ENTERPRISE}/devices", "GET"): lambda body: check_discovery(
        body, "ListDevicesResponse", "androidmanagement.v1"
    ),
    (f"/v1/{fake_google.ENTERPRISE}/policies", "GET"): lambda body: check_discovery(
        body, "ListPoliciesResponse", "androidmanagement.v1"
    ),
    (f"/v1/{fake_google.SUBSCRIPTION}:pull", "POST"): pull_response,
    # google.protobuf.Empty
    (f"/v1/{fake_google.SUBSCRIPTION}:acknowledge", "POST"): lambda body: (
        [] if body == {} else [f"$: {body!r}"]
    ),
}
TOKEN_PATHS = ("/token", "/api/oauth/token", "/api/v1/auth/token", f"/{fake_graph.TENANT}/oauth2/v2.0/token")


def endpoint_of(request: Request) -> tuple[str, str] | None:
    for path, method in SPECS:
        head, _, tail = path.partition("*")
        matches = request.path == path or (
            tail and request.path.startswith(head) and request.path.endswith(tail)
        )
        if matches and request.method == method:
            return path, method
    return None


def problems_of(server: FakeServer) -> list[str]:
    """Every answer the stand-in served, checked; a data answer with no specification is a problem."""
    out: list[str] = []
    for request, answer in server.answers:
        if request.path in TOKEN_PATHS or not 200 <= answer.status < 300:
            continue
        endpoint = endpoint_of(request)
        if endpoint is None:
            out.append(f"{request.method} {request.path}: no vendor specification covers this answer")
            continue
        out += [f"{request.method} {request.path}: {p}" for p in SPECS[endpoint](answer.body)]
    return out


def served(server: FakeServer) -> set[str]:
    """The data endpoints the stand-in answered (a check of nothing proves nothing)."""
    found = {endpoint_of(r) for r, a in server.answers if r.path not in TOKEN_PATHS and 200 <= a.status < 300}
    return {e[0] for e in found if e is not None}


@pytest.fixture
def jamf_fake() -> Iterator[fake_jamf.FakeJamf]:
    devices = [fake_jamf.device(1), fake_jamf.device(2, kind="iPad"), fake_jamf.device(3, kind="AppleTV")]
    fake = fake_jamf.FakeJamf(devices)
    with serving(fake.server):
        yield fake


def test_every_jamf_answer_follows_jamfs_openapi_document(jamf_fake: fake_jamf.FakeJamf) -> None:
    account = jamf.JamfAccount(jamf_fake.server.url, fake_jamf.CLIENT_ID, fake_jamf.CLIENT_SECRET).validated(
        True
    )
    Harness("jamf").run(lambda ctx: jamf.streams(ctx, account))
    assert served(jamf_fake.server) == {"/api/v2/mobile-devices/detail"}
    assert problems_of(jamf_fake.server) == []


def test_every_graph_answer_follows_graphs_metadata() -> None:
    fake = fake_graph.FakeGraph()
    fake.store_apps = [fake_graph.store_app(n) for n in (1, 2)]
    fake.assignments[fake.store_apps[0]["id"]] = [fake_graph.assignment(9)]
    fake.audit = [fake_graph.audit_event(n, f"2026-11-2{n}T10:00:00.1234567Z") for n in range(4, 7)]
    with serving(fake.server):
        account = intune.IntuneAccount(
            fake_graph.TENANT,
            fake_graph.CLIENT_ID,
            fake_graph.CLIENT_SECRET,
            login_url=fake.server.url,
            graph_url=fake.server.url,
        ).validated(True)
        h = Harness("intune", page_size=2)
        h.clock = lambda: 1_796_025_600.0  # 2026-11-30T08:00Z: the audit events are in the first window
        h.run(lambda ctx: intune.streams(ctx, account))
    assert len(served(fake.server)) == 6  # five v1.0 lists (one of them per detected app), one beta
    audit = [a.body for r, a in fake.server.answers if r.path.endswith("/auditEvents")]
    assert [len(body["value"]) for body in audit] == [2, 1]  # the three events, pages of 2
    assert problems_of(fake.server) == []


def test_every_google_answer_follows_googles_discovery_documents() -> None:
    fake = fake_google.FakeGoogle()
    fake.messages = [
        fake_google.message(1, "USAGE_LOGS", fake_google.usage_batch(1, 0, 8)),
        fake_google.message(2, "STATUS_REPORT", fake_google.device(2)),
    ]
    with serving(fake.server):
        acct, key = amapi.AmapiAccount(
            fake_google.ENTERPRISE,
            fake_google.service_account_json(fake.token_uri),
            fake_google.SUBSCRIPTION,
            api_url=fake.server.url,
            pubsub_url=fake.server.url,
        ).validated(True)
        Harness("amapi", page_size=2).run(lambda ctx: amapi.streams(ctx, acct, key))
    assert len(served(fake.server)) == 4  # devices, policies, pull, acknowledge
    assert problems_of(fake.server) == []


def test_an_answer_on_an_endpoint_without_a_specification_is_a_problem() -> None:
    server = FakeServer(lambda request: Answer(200, {"value": []}))
    server.answers.append(
        (Request("GET", "/v1.0/deviceManagement/somethingElse", {}, {}, b""), Answer(200, {}))
    )
    assert problems_of(server) == [
        "GET /v1.0/deviceManagement/somethingElse: no vendor specification covers this answer"
    ]


# ------------------------------------------------------------- the checks catch real drift


def test_a_beta_only_audit_resource_type_key_is_refused_in_v1() -> None:
    event = fake_graph.audit_event(1, "2026-11-20T10:00:00Z")
    event["resources"][0]["type"] = "MobileApp"
    assert check_graph(event, "auditEvent") == [
        "$.resources[0]: key 'type' is not a property of auditResource in Graph v1.0"
    ]


def test_a_beta_only_app_type_in_a_v1_list_is_refused() -> None:
    app = fake_graph.store_app(1)
    assert check_graph(app, "mobileApp") == [
        "$: @odata.type '#microsoft.graph.androidManagedStoreApp' is not a v1.0 type (beta only, or unknown)"
    ]


def test_an_enum_value_google_does_not_list_is_refused() -> None:
    device = fake_google.device(1)
    device["applicationReports"][0]["applicationSource"] = "SIDELOADED"
    problems = check_discovery(device, "Device", "androidmanagement.v1")
    assert len(problems) == 1 and problems[0].startswith(
        "$.applicationReports[0].applicationSource: 'SIDELOADED'"
    )


def test_a_jamf_device_type_outside_the_discriminator_is_refused() -> None:
    record = fake_jamf.device(1)
    record["deviceType"] = "iPadOS"
    assert check_openapi(record, "MobileDeviceResponse") == [
        "$: deviceType 'iPadOS' is not one of ['iOS', 'tvOS', 'watchOS']"
    ]


def test_a_null_where_jamf_declares_no_null_is_refused() -> None:
    record = fake_jamf.device(1)
    record["general"]["assetTag"] = None
    assert check_openapi(record, "MobileDeviceResponse") == [
        "$.general.assetTag: null, but the schema is not nullable"
    ]


def test_the_stand_in_knows_every_section_jamf_documents() -> None:
    assert sorted(fake_jamf.SECTION_KEYS) == sorted(jamf_sections())
