"""Android Management API input against the Google stand-in: the pure-Python RS256 service-account
JWT, devices and policies as returned, usage logs from Pub/Sub acknowledged only after they are
written, and the account checks."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import pytest
import rsa
from mobile_ingress_inputs import amapi, google_jwt, timeutil
from mobile_ingress_inputs.errors import ConfigError

from .fake_google import (
    CLIENT_EMAIL,
    ENTERPRISE,
    KEY_ID,
    SCOPES,
    SUBSCRIPTION,
    FakeGoogle,
    keypair,
    message,
    service_account_json,
    usage_batch,
)
from .fakeserver import Fault, serving
from .stores import ListSink
from .support import Harness, without_meta


@pytest.fixture
def fake() -> Iterator[FakeGoogle]:
    server = FakeGoogle()
    with serving(server.server):
        yield server


def account(fake: FakeGoogle, subscription: str = SUBSCRIPTION) -> tuple[amapi.AmapiAccount, Any]:
    raw = amapi.AmapiAccount(
        ENTERPRISE,
        service_account_json(fake.token_uri),
        subscription,
        api_url=fake.server.url,
        pubsub_url=fake.server.url,
    )
    return raw.validated(allow_loopback_http=True)


def harness() -> Harness:
    return Harness("amapi", page_size=2, secrets=(service_account_json("x"),))


def run(h: Harness, fake: FakeGoogle, *names: str) -> dict[str, Any]:
    acct, key = account(fake)
    return h.run(lambda ctx: amapi.streams(ctx, acct, key, names or amapi.STREAMS))


def test_the_jwt_is_rs256_signed_by_the_service_account_key() -> None:
    key = google_jwt.ServiceAccount.from_json(service_account_json("https://oauth2.googleapis.com/token"))
    jwt = google_jwt.assertion(key, SCOPES, 1_790_000_000.0)
    head, body, signature = jwt.split(".")
    pad = lambda s: s + "=" * (-len(s) % 4)  # noqa: E731
    rsa.verify(f"{head}.{body}".encode(), base64.urlsafe_b64decode(pad(signature)), keypair()[0])
    assert json.loads(base64.urlsafe_b64decode(pad(head))) == {"alg": "RS256", "typ": "JWT", "kid": KEY_ID}
    assert json.loads(base64.urlsafe_b64decode(pad(body))) == {
        "iss": CLIENT_EMAIL,
        "scope": SCOPES,
        "aud": "https://oauth2.googleapis.com/token",
        "iat": 1_790_000_000,
        "exp": 1_790_003_600,
    }


def test_a_tampered_jwt_does_not_verify() -> None:
    key = google_jwt.ServiceAccount.from_json(service_account_json("https://oauth2.googleapis.com/token"))
    head, _, signature = google_jwt.assertion(key, SCOPES, 1_790_000_000.0).split(".")
    forged = base64.urlsafe_b64encode(json.dumps({"iss": "someone@else"}).encode()).rstrip(b"=").decode()
    pad = lambda s: s + "=" * (-len(s) % 4)  # noqa: E731
    with pytest.raises(rsa.VerificationError):
        rsa.verify(f"{head}.{forged}".encode(), base64.urlsafe_b64decode(pad(signature)), keypair()[0])


def test_a_pkcs1_private_key_signs_too() -> None:
    pem = keypair()[1].save_pkcs1("PEM").decode()
    assert google_jwt.load_private_key(pem) == keypair()[1]


def test_an_unreadable_private_key_is_a_config_error_without_the_key() -> None:
    broken = (
        "-----BEGIN PRIVATE KEY-----\nMIIBVgIBADANBgkqhkiG9w0BAQEFAASCAUAwggE8AgEAAkEAq7BF\n"
        "-----END PRIVATE KEY-----\n"
    )
    with pytest.raises(ConfigError) as error:
        google_jwt.load_private_key(broken)
    assert "cannot be read" in str(error.value) and "MIIB" not in str(error.value)


def test_devices_are_written_with_their_application_reports(fake: FakeGoogle) -> None:
    h = harness()
    summary = run(h, fake, "devices")
    assert [without_meta(d) for d in h.data()] == fake.devices
    assert h.ids()[0] == f"amapi:{fake.devices[0]['name']}:2026-11-20T11:22:33.456Z"
    assert {e.sourcetype for e in h.sink.events} == {"mdm:amapi:device"}
    assert h.sink.events[0].time == timeutil.parse("2026-11-20T11:22:33.456Z")
    assert summary["pages"] == 3 and summary["status"] == "ok"
    token_request = fake.assertions[0]["claims"]
    assert token_request["iss"] == CLIENT_EMAIL and token_request["scope"] == SCOPES


def test_policies_are_written_with_install_types_and_roles(fake: FakeGoogle) -> None:
    h = harness()
    run(h, fake, "policies")
    assert [without_meta(d) for d in h.data()] == fake.policies
    assert h.ids() == [f"amapi:{p['name']}:{p['version']}" for p in fake.policies]
    assert {e.sourcetype for e in h.sink.events} == {"mdm:amapi:policy"}


def test_usage_logs_become_one_event_per_usage_log_event(fake: FakeGoogle) -> None:
    h = harness()
    batch = usage_batch(1, 0, 4)
    fake.messages = [message(1, "USAGE_LOGS", batch)]
    run(h, fake, "usageLogs")
    expected = [
        {**e, "device": batch["device"], "user": batch["user"], "retrievalTime": batch["retrievalTime"]}
        for e in batch["usageLogEvents"]
    ]
    assert [without_meta(d) for d in h.data()] == expected
    assert [d["eventType"] for d in h.data()] == ["CONNECT", "DNS", "KEYGUARD_SECURED", "KEYGUARD_DISMISSED"]
    assert h.data()[0]["connectEvent"] == {
        "destinationIpAddress": "203.0.113.7",
        "destinationPort": 443,
        "packageName": "com.example.sideloaded1",
    }
    assert h.ids()[0] == f"amapi:{batch['device']}:usagelog:1000"
    assert h.sink.events[1].time == timeutil.parse("2026-11-20T12:00:01.000Z")
    assert {e.sourcetype for e in h.sink.events} == {"mdm:amapi:usagelog"}
    assert fake.messages == [] and fake.acked == ["9000001"]


def test_messages_are_acknowledged_only_after_their_events_are_written(fake: FakeGoogle) -> None:
    h = harness()
    fake.messages = [message(n, "USAGE_LOGS", usage_batch(n, 10 * n, 2)) for n in range(1, 6)]
    acked_at_write: list[list[str]] = []

    class Watching(ListSink):
        def write(self, events):  # type: ignore[no-untyped-def]
            acked_at_write.append(list(fake.acked))
            super().write(events)

    h.sink = Watching()
    run(h, fake, "usageLogs")
    # pulls of 2 messages: each batch is written while none of its messages is acknowledged.
    assert acked_at_write == [[], ["9000001", "9000002"], ["9000001", "9000002", "9000003", "9000004"]]
    assert len(h.sink.events) == 10 and fake.messages == []


def test_a_failed_write_leaves_the_messages_to_be_delivered_again(fake: FakeGoogle) -> None:
    h = harness()
    fake.messages = [message(1, "USAGE_LOGS", usage_batch(1, 0, 3))]

    class Broken(ListSink):
        def write(self, events):  # type: ignore[no-untyped-def]
            raise BrokenPipeError("splunkd closed stdin")

    h.sink = Broken()
    summary = run(h, fake, "usageLogs")
    assert summary["status"] == "failed" and fake.acked == [] and len(fake.messages) == 1
    h.sink = ListSink()
    run(h, fake, "usageLogs")
    assert h.ids() == [f"amapi:{ENTERPRISE}/devices/3a{1:014x}:usagelog:{1000 + i}" for i in range(3)]


def test_status_reports_are_device_events_and_other_notifications_are_acknowledged(fake: FakeGoogle) -> None:
    h = harness()
    fake.messages = [
        message(1, "STATUS_REPORT", fake.devices[0]),
        message(2, "COMMAND", {"name": "enterprises/x/devices/y/operations/1"}),
        message(3, "test", {}),
    ]
    summary = run(h, fake, "usageLogs")
    assert [without_meta(d) for d in h.data()] == [fake.devices[0]]
    assert h.sink.events[0].sourcetype == "mdm:amapi:device"
    assert h.data()[0]["mobile_ingress"]["notification"] == "STATUS_REPORT"
    assert fake.messages == [] and summary["skipped_records"] == 0


def test_a_malformed_message_is_logged_skipped_and_acknowledged(fake: FakeGoogle) -> None:
    h = harness()
    fake.messages = [
        message(1, "USAGE_LOGS", None, raw=b"{not json"),
        message(2, "USAGE_LOGS", usage_batch(2, 0, 1)),
    ]
    summary = run(h, fake, "usageLogs")
    assert len(h.sink.events) == 1 and summary["skipped_records"] == 1
    assert "messageId 9000001" in h.log and "not base64 JSON" in h.log
    assert fake.messages == []


def test_pubsub_5xx_then_success(fake: FakeGoogle) -> None:
    h = harness()
    fake.messages = [message(1, "USAGE_LOGS", usage_batch(1, 0, 2))]
    fake.server.inject(Fault("status", ":pull", status=503), Fault("status", ":acknowledge", status=500))
    summary = run(h, fake, "usageLogs")
    assert len(h.sink.events) == 2 and summary["retries"] == 2 and fake.messages == []


def test_no_subscription_means_no_usage_log_stream(fake: FakeGoogle) -> None:
    h = harness()
    acct, key = account(fake, subscription="")
    h.run(lambda ctx: amapi.streams(ctx, acct, key))
    assert not fake.server.paths(":pull")
    assert "no Pub/Sub subscription" in h.log


@pytest.mark.parametrize(
    ("field", "value", "message_part"),
    [
        ("enterprise", "LC04abcd12", "is not enterprises/<id>"),
        ("subscription", "amapi-usage", "projects/<project>/subscriptions/<name>"),
        ("service_account_json", "{}", "service account JSON key"),
    ],
)
def test_account_fields_are_checked(fake: FakeGoogle, field: str, value: str, message_part: str) -> None:
    values = {
        "enterprise": ENTERPRISE,
        "service_account_json": service_account_json(fake.token_uri),
        "subscription": SUBSCRIPTION,
        field: value,
    }
    with pytest.raises(ConfigError, match=message_part.replace("(", r"\(")):
        amapi.AmapiAccount(**values).validated(allow_loopback_http=True)


def test_the_token_uri_must_be_https() -> None:
    acct = amapi.AmapiAccount(ENTERPRISE, service_account_json("http://oauth2.example/token"))
    with pytest.raises(ConfigError, match="token_uri"):
        acct.validated(allow_loopback_http=False)
