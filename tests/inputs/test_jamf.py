"""Jamf Pro input against the Jamf stand-in: exact events, incremental sweeps, both token kinds,
and the fault behaviours (throttling, 5xx bursts, slow answers, resets, token expiry mid-paging,
a malformed page)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from mobile_ingress_inputs import jamf, timeutil
from mobile_ingress_inputs.errors import ConfigError

from .fake_jamf import CLIENT_ID, CLIENT_SECRET, PASSWORD, USERNAME, FakeJamf, device
from .fakeserver import Answer, Fault, serving
from .support import Harness, without_meta

SECRETS = (CLIENT_SECRET, PASSWORD)


@pytest.fixture
def fake() -> Iterator[FakeJamf]:
    server = FakeJamf([device(n) for n in range(1, 8)])
    with serving(server.server):
        yield server


def account(fake: FakeJamf, oauth: bool = True) -> jamf.JamfAccount:
    if oauth:
        raw = jamf.JamfAccount(fake.server.url, client_id=CLIENT_ID, client_secret=CLIENT_SECRET)
    else:
        raw = jamf.JamfAccount(fake.server.url, username=USERNAME, password=PASSWORD)
    return raw.validated(allow_loopback_http=True)


def run(h: Harness, fake: FakeJamf, oauth: bool = True) -> dict[str, object]:
    return h.run(lambda ctx: jamf.streams(ctx, account(fake, oauth)))


def harness() -> Harness:
    return Harness("jamf", secrets=SECRETS)


def test_every_device_is_written_once_as_jamf_returns_it(fake: FakeJamf) -> None:
    h = harness()
    summary = run(h, fake)
    assert [without_meta(d) for d in h.data()] == fake.devices
    host = fake.server.url.split("//")[1]
    assert h.ids() == [f"jamf:{host}:mobiledevice:{n}:2026-11-20T10:00:00.000Z" for n in range(1, 8)]
    meta = h.data()[0]["mobile_ingress"]
    assert meta["provider"] == "jamf" and meta["kind"] == "mobiledevice" and meta["source_id"] == h.ids()[0]
    assert {e.sourcetype for e in h.sink.events} == {"mdm:jamf:mobiledevice"}
    assert {e.time for e in h.sink.events} == {timeutil.parse("2026-11-20T10:00:00.000Z")}
    assert summary["status"] == "ok" and summary["records"] == 7 and summary["pages"] == 3
    # Pages of 3 (page-size) over 7 devices: 0, 1, 2, each written before its checkpoint.
    assert [len(b) for b in h.sink.batches] == [3, 3, 1]


def test_the_next_sweep_asks_only_for_newer_inventory(fake: FakeJamf) -> None:
    h = harness()
    run(h, fake)
    fake.devices[2] = device(3, updated="2026-11-21T09:30:00.000Z")
    run(h, fake)
    assert h.ids()[7:] == [f"jamf:{fake.server.url.split('//')[1]}:mobiledevice:3:2026-11-21T09:30:00.000Z"]
    last = fake.server.requests[-1]
    assert last.arg("filter") == 'lastInventoryUpdateDate=gt="2026-11-20T10:00:00.000Z"'


def test_an_unchanged_inventory_writes_nothing_on_the_next_sweep(fake: FakeJamf) -> None:
    h = harness()
    run(h, fake)
    run(h, fake)
    assert len(h.sink.events) == 7


def test_a_server_refusing_the_filter_is_filtered_here_instead(fake: FakeJamf) -> None:
    h = harness()
    fake.server.handler = lambda request: (
        Answer(400, {"httpStatus": 400, "errors": [{"code": "INVALID_FIELD"}]})
        if request.arg("filter")
        else fake.handle(request)
    )
    run(h, fake)
    fake.devices[4] = device(5, updated="2026-11-21T09:30:00.000Z")
    summary = run(h, fake)
    assert [i.split(":")[-4] for i in h.ids()[7:]] == ["5"] and summary["status"] == "ok"
    assert "refused the lastInventoryUpdateDate filter" in h.log
    before = len(fake.server.requests)
    run(h, fake)  # remembered: no filtered request any more
    assert not [r for r in fake.server.requests[before:] if r.arg("filter")]
    assert len(h.sink.events) == 8


def test_user_bearer_token_is_the_fallback(fake: FakeJamf) -> None:
    h = harness()
    run(h, fake, oauth=False)
    assert len(h.sink.events) == 7
    assert fake.server.paths("/api/v1/auth/token") == ["/api/v1/auth/token"]
    assert fake.server.paths("/api/oauth/token") == []


def test_wrong_client_secret_fails_the_run_with_a_clear_message(fake: FakeJamf) -> None:
    h = harness()
    bad = jamf.JamfAccount(fake.server.url, client_id=CLIENT_ID, client_secret="not-the-secret").validated(
        True
    )
    summary = h.run(lambda ctx: jamf.streams(ctx, bad))
    assert summary["status"] == "failed" and h.sink.events == []
    assert "API client token: HTTP 401" in h.log


def test_base_url_must_be_https() -> None:
    with pytest.raises(ConfigError, match="https"):
        jamf.JamfAccount("http://jamf.example.com", CLIENT_ID, CLIENT_SECRET).validated(
            allow_loopback_http=True
        )
    with pytest.raises(ConfigError, match="https"):
        jamf.JamfAccount("http://127.0.0.1:8443", CLIENT_ID, CLIENT_SECRET).validated(
            allow_loopback_http=False
        )
    ok = jamf.JamfAccount("https://acme.jamfcloud.com/", CLIENT_ID, CLIENT_SECRET).validated(False)
    assert ok.base_url == "https://acme.jamfcloud.com"


def test_an_account_needs_client_credentials_or_a_user() -> None:
    with pytest.raises(ConfigError, match="client id and secret, or a user name and password"):
        jamf.JamfAccount("https://acme.jamfcloud.com", client_id=CLIENT_ID).validated(False)


# ---------------------------------------------------------------------------------------- faults


def test_429_with_retry_after_waits_that_long(fake: FakeJamf) -> None:
    h = harness()
    fake.server.inject(Fault("status", "/mobile-devices", status=429, retry_after="7"))
    summary = run(h, fake)
    assert h.sleeps == [7.0]
    assert len(h.sink.events) == 7 and summary["retries"] == 1


def test_429_without_retry_after_backs_off_exponentially(fake: FakeJamf) -> None:
    h = harness()
    fake.server.inject(*[Fault("status", "/mobile-devices", status=429)] * 3)
    run(h, fake)
    # base 0.01 doubling, capped at 0.04; equal jitter puts each wait in [cap/2, cap].
    caps = [0.01, 0.02, 0.04]
    assert len(h.sleeps) == 3
    assert all(cap / 2 <= s <= cap for s, cap in zip(h.sleeps, caps))
    assert len(h.sink.events) == 7


def test_a_burst_of_5xx_is_retried_then_the_page_read(fake: FakeJamf) -> None:
    h = harness()
    fake.server.inject(
        Fault("status", "/mobile-devices", status=500), Fault("status", "/mobile-devices", status=503)
    )
    summary = run(h, fake)
    assert len(h.sink.events) == 7 and summary["retries"] == 2 and summary["status"] == "ok"


def test_5xx_past_the_last_attempt_keeps_the_checkpoint_for_the_next_run(fake: FakeJamf) -> None:
    h = harness()
    run(h, fake)  # watermark set
    fake.devices[0] = device(1, updated="2026-11-22T00:00:00.000Z")
    fake.server.inject(*[Fault("status", "/mobile-devices", status=503)] * 4)
    summary = run(h, fake)
    assert summary["status"] == "failed" and "gave up after 4 attempts: HTTP 503" in h.log
    run(h, fake)
    assert h.ids()[-1].endswith(":1:2026-11-22T00:00:00.000Z") and len(h.sink.events) == 8


def test_a_response_slower_than_the_timeout_is_retried(fake: FakeJamf) -> None:
    h = harness()
    h.policy = type(h.policy)(max_attempts=3, base_delay=0.01, max_delay=0.02, timeout=0.3)
    fake.server.inject(Fault("slow", "/mobile-devices", delay=1.0))
    summary = run(h, fake)
    assert len(h.sink.events) == 7 and summary["retries"] == 1
    assert "timed out after 0.3 s" in h.log


def test_a_connection_reset_is_retried(fake: FakeJamf) -> None:
    h = harness()
    fake.server.inject(Fault("reset", "/mobile-devices"))
    summary = run(h, fake)
    assert len(h.sink.events) == 7 and summary["retries"] == 1
    assert "connection failed" in h.log


def test_a_token_expired_mid_paging_is_renewed_once_and_the_page_retried(fake: FakeJamf) -> None:
    h = harness()
    fake.server.inject(Fault("revoke", "/mobile-devices/detail", after=1))  # on the second page
    summary = run(h, fake)
    assert [without_meta(d) for d in h.data()] == fake.devices
    assert fake.server.paths("/api/oauth/token") == ["/api/oauth/token"] * 2
    assert [r.arg("page") for r in fake.server.requests if r.path.endswith("/detail")] == ["0", "1", "1", "2"]
    assert summary["token_renewals"] == 1 and summary["status"] == "ok"


def test_a_token_refused_again_after_renewal_stops_the_stream(fake: FakeJamf) -> None:
    h = harness()
    original = fake.handle

    def always_revoked(request):  # type: ignore[no-untyped-def]
        if request.path.endswith("/detail"):
            fake.tokens.clear()
        return original(request)

    fake.server.handler = always_revoked
    summary = run(h, fake)
    assert summary["status"] == "failed" and h.sink.events == []
    assert "HTTP 401 again with a freshly issued token" in h.log


def test_a_malformed_page_is_logged_and_the_checkpoint_kept(fake: FakeJamf) -> None:
    h = harness()
    fake.server.inject(Fault("malformed", "/mobile-devices/detail", after=1))  # page 1 is cut short
    summary = run(h, fake)
    assert len(h.sink.events) == 3 and summary["malformed_pages"] == 1 and summary["status"] == "partial"
    assert "page 1: not JSON" in h.log and "body starts" in h.log
    assert h.store.load("jamf.test_input.mobiledevices")["cursor"] == {"page": 1}
    run(h, fake)  # the page is whole again: the sweep resumes at it
    assert [without_meta(d) for d in h.data()] == fake.devices
