"""Jamf Pro input against the Jamf stand-in: exact events, incremental sweeps, both token kinds,
and the fault behaviours (throttling, 5xx bursts, slow answers, resets, token expiry mid-paging,
a malformed page)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from mobile_ingress_inputs import jamf, timeutil
from mobile_ingress_inputs.errors import ConfigError

from . import fake_jamf
from .fake_jamf import CLIENT_ID, CLIENT_SECRET, PASSWORD, USERNAME, FakeJamf, device
from .fakeserver import Answer, Fault, Request, serving
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


# ------------------------------------------------------------------- sections and MAC addresses


def test_the_hardware_section_with_the_wifi_mac_is_requested(fake: FakeJamf) -> None:
    h = harness()
    run(h, fake)
    asked = [r.query.get("section") for r in fake.server.requests if r.path.endswith("/detail")]
    assert all("HARDWARE" in sections for sections in asked)
    assert {d["hardware"]["wifiMacAddress"] for d in h.data()} == {fake_jamf.wifi_mac(n) for n in range(1, 8)}


# ------------------------------------------------------------ hostile servers and admins' edits


def ignoring_page(fake: FakeJamf, total: bool, limit: int = 20) -> None:
    """A server that answers the first page whatever page is asked (and, after LIMIT answers, 500:
    an input that never stops is cut short instead of running for minutes)."""
    answered = [0]

    def handle(request: Request) -> Answer:
        if not request.path.endswith("/detail"):
            return fake.handle(request)
        answered[0] += 1
        if answered[0] > limit:
            return Answer(500, {"httpStatus": 500})
        page = fake.handle(
            Request(request.method, request.path, {**request.query, "page": ["0"]}, request.headers, b"")
        )
        if not total:
            page.body.pop("totalCount")
        return page

    fake.server.handler = handle


def test_a_server_that_ignores_page_is_read_once_and_the_health_line_says_so(fake: FakeJamf) -> None:
    h = harness()
    ignoring_page(fake, total=False)
    summary = run(h, fake)
    assert len(h.sink.events) == 3  # page 0, once
    stream = summary["streams"]["mobiledevices"]
    assert summary["status"] == "partial" and summary["paging_loops"] == 1
    assert stream["error"].startswith("paging stopped: the page at {'page': 1} repeats 3 records")
    assert len([r for r in fake.server.requests if r.path.endswith("/detail")]) == 2


def test_a_server_that_ignores_page_with_a_true_total_writes_no_page_twice(fake: FakeJamf) -> None:
    h = harness()
    ignoring_page(fake, total=True)
    summary = run(h, fake)
    # 7 devices in pages of 3: three pages asked, the first answered each time; the second repeats.
    assert len(h.sink.events) == 3 and summary["status"] == "partial"


def test_more_records_than_the_servers_total_stop_the_sweep(fake: FakeJamf) -> None:
    h = harness()
    counter = iter(range(1000))

    def endless(request: Request) -> Answer:
        if not request.path.endswith("/detail"):
            return fake.handle(request)
        # Fresh devices on every page, five at a time, against a total of 4.
        results = [device(100 + next(counter)) for _ in range(5)]
        return Answer(200, {"totalCount": 4, "results": results})

    fake.server.handler = endless
    summary = run(h, fake)
    assert len(h.sink.events) == 5 and summary["status"] == "partial"
    assert "more than the server's totalCount 4" in summary["streams"]["mobiledevices"]["error"]


def test_an_input_moved_to_another_server_reads_it_from_the_configured_start() -> None:
    old = FakeJamf([device(n, updated="2026-11-25T10:00:00.000Z") for n in range(1, 4)])
    new = FakeJamf([device(n, updated="2026-11-20T10:00:00.000Z") for n in range(1, 5)])
    h = harness()
    with serving(old.server):
        run(h, old)
    with serving(new.server):
        summary = run(h, new)
    # The old server's watermark (2026-11-25) would hide every device of the new one.
    assert len(h.sink.events) == 3 + 4 and summary["status"] == "ok"
    assert summary["streams"]["mobiledevices"]["checkpoint"] == (
        f"reset: saved for {old.server.url}, the input now reads {new.server.url}"
    )
    assert "it is reset and collection starts from the configured start" in h.log
    assert h.store.load("jamf.test_input.mobiledevices")["server"] == new.server.url


def test_the_same_server_keeps_its_checkpoint(fake: FakeJamf) -> None:
    h = harness()
    run(h, fake)
    summary = run(h, fake)
    assert len(h.sink.events) == 7 and summary["streams"]["mobiledevices"]["checkpoint"] == ""


def test_a_checkpoint_saved_before_servers_were_recorded_is_kept(fake: FakeJamf) -> None:
    h = harness()
    h.store.save("jamf.test_input.mobiledevices", {"watermark": timeutil.parse("2026-11-21T00:00:00.000Z")})
    summary = run(h, fake)
    assert h.sink.events == [] and summary["streams"]["mobiledevices"]["checkpoint"] == ""


@pytest.mark.parametrize(
    "damaged",
    [
        {"cursor": "page-2", "sweep": "2026-11-20T09:00:00.000Z"},
        {"watermark": "yesterday"},
        {"cursor": {"page": -1}},
        {"server_filter": "no"},
    ],
)
def test_a_damaged_checkpoint_falls_back_to_the_configured_start_and_says_so(
    fake: FakeJamf, damaged: dict[str, object]
) -> None:
    h = harness()
    h.store.save("jamf.test_input.mobiledevices", damaged)
    summary = run(h, fake)
    assert [without_meta(d) for d in h.data()] == fake.devices
    stream = summary["streams"]["mobiledevices"]
    assert stream["status"] == "partial" and stream["checkpoint"].startswith("damaged (")
    assert "is damaged" in h.log and "collecting from the configured start instead" in h.log
    assert "cursor" not in h.store.load("jamf.test_input.mobiledevices")  # replaced by the next save


def test_a_run_stops_at_its_checkpoint_when_its_time_budget_is_used_up(fake: FakeJamf) -> None:
    now = [1_800_000_000.0]
    h = harness()
    h.clock = lambda: now[0]
    h.run_budget = 100.0
    slow = fake.server.handler

    def minute_per_page(request: Request) -> Answer:
        if request.path.endswith("/detail"):
            now[0] += 60.0
        return slow(request)

    fake.server.handler = minute_per_page
    summary = run(h, fake)
    assert len(h.sink.events) == 6  # pages 0 and 1; page 2 would start after the budget
    assert summary["status"] == "partial" and summary["stopped"] == "run time budget used up"
    assert "time budget is used up" in summary["streams"]["mobiledevices"]["error"]
    assert h.store.load("jamf.test_input.mobiledevices")["cursor"] == {"page": 2}
    run(h, fake)  # a new run, a new budget: it resumes at page 2
    assert [without_meta(d) for d in h.data()] == fake.devices
