"""The HTTP client's retry rules in isolation against a scripted local server: Retry-After as an
HTTP date and its cap, statuses that are never retried, the number of attempts."""

from __future__ import annotations

import email.utils
import logging
import time
from collections.abc import Iterator

import pytest
from mobile_ingress_inputs.errors import BudgetExhausted, HttpStatusError, ResponseTooLarge, RetriesExhausted
from mobile_ingress_inputs.health import RunHealth
from mobile_ingress_inputs.httpclient import HttpClient, RetryPolicy, _retry_after

from .fakeserver import Answer, FakeServer, Fault, Request, serving

POLICY = RetryPolicy(max_attempts=3, base_delay=0.01, max_delay=0.04, max_retry_after=30.0, timeout=2.0)


@pytest.fixture
def server() -> Iterator[FakeServer]:
    fake = FakeServer(lambda request: Answer(200, {"ok": True}) if request.path == "/ok" else Answer(404, {}))
    with serving(fake):
        yield fake


def client(sleeps: list[float], now: float = 1_000_000.0) -> HttpClient:
    return HttpClient(
        POLICY,
        RunHealth("p", "i", 0.0),
        logging.getLogger("tests.inputs.http"),
        sleep=sleeps.append,
        clock=lambda: now,
    )


def test_retry_after_as_an_http_date_waits_until_then() -> None:
    date = email.utils.formatdate(1_000_042.0, usegmt=True)
    assert _retry_after(date, 1_000_000.0) == 42.0
    assert _retry_after("12", 0.0) == 12.0
    assert _retry_after("soon", 0.0) is None and _retry_after(None, 0.0) is None


def test_a_retry_after_longer_than_the_cap_is_cut_to_it(server: FakeServer) -> None:
    sleeps: list[float] = []
    server.inject(Fault("status", "/ok", status=429, retry_after="86400"))
    assert client(sleeps).request("GET", server.url + "/ok", context="t").status == 200
    assert sleeps == [30.0]


def test_a_404_is_not_retried(server: FakeServer) -> None:
    sleeps: list[float] = []
    with pytest.raises(HttpStatusError, match="t: HTTP 404"):
        client(sleeps).request("GET", server.url + "/missing", context="t")
    assert sleeps == [] and len(server.requests) == 1


def test_an_expected_status_is_returned_not_raised(server: FakeServer) -> None:
    assert client([]).request("GET", server.url + "/missing", context="t", expect={404}).status == 404


def test_transient_failures_stop_after_the_last_attempt(server: FakeServer) -> None:
    sleeps: list[float] = []
    server.inject(*[Fault("status", "/ok", status=502)] * 3)
    with pytest.raises(RetriesExhausted, match="gave up after 3 attempts: HTTP 502"):
        client(sleeps).request("GET", server.url + "/ok", context="t")
    assert len(sleeps) == 2 and len(server.requests) == 3


def test_a_refused_connection_is_retried_then_reported() -> None:
    sleeps: list[float] = []
    with pytest.raises(RetriesExhausted, match="connection failed"):
        client(sleeps).request("GET", "http://127.0.0.1:9/", context="t")
    assert len(sleeps) == 2


def test_redirects_are_not_followed(server: FakeServer) -> None:
    def redirect(request: Request) -> Answer:
        return Answer(302, {}, {"Location": "https://elsewhere.example/"})

    server.handler = redirect
    with pytest.raises(HttpStatusError, match="HTTP 302"):
        client([]).request("GET", server.url + "/ok", context="t", headers={"Authorization": "Bearer x" * 3})


# ------------------------------------------------------------------ limits of one request


def bounded(
    sleeps: list[float],
    *,
    timeout: float = 2.0,
    max_bytes: int = 1024 * 1024,
    deadline: float | None = None,
    now: float = 1_000_000.0,
) -> HttpClient:
    policy = RetryPolicy(
        max_attempts=2, base_delay=0.01, max_delay=0.02, timeout=timeout, max_response_bytes=max_bytes
    )
    return HttpClient(
        policy,
        RunHealth("p", "i", 0.0),
        logging.getLogger("tests.inputs.http"),
        sleep=sleeps.append,
        clock=lambda: now,
        deadline=deadline,
    )


def test_a_trickled_answer_times_out_after_the_timeout_not_after_its_last_byte(server: FakeServer) -> None:
    # 2 KB at 16 bytes every 0.05 s: each read is quick, the whole body would take 6 s.
    big = {"value": ["x" * 2000]}
    server.handler = lambda request: Answer(200, big)
    server.inject(*[Fault("trickle", "/ok", delay=0.05, chunk=16)] * 2)
    started = time.monotonic()
    with pytest.raises(RetriesExhausted, match=r"took longer than 0\.5 s to arrive"):
        bounded([], timeout=0.5).request("GET", server.url + "/ok", context="t")
    assert time.monotonic() - started < 3.0


def test_an_answer_announced_over_the_size_cap_is_refused_unread(server: FakeServer) -> None:
    server.inject(Fault("huge", "/ok", size=40 * 1024 * 1024))
    with pytest.raises(ResponseTooLarge, match="is 41943040 bytes, more than the 1048576 byte cap"):
        bounded([]).request("GET", server.url + "/ok", context="t")
    assert len(server.requests) == 1  # never retried: it would be as large again


def test_an_answer_without_a_length_is_refused_once_it_passes_the_cap(server: FakeServer) -> None:
    server.inject(Fault("huge", "/ok", size=40 * 1024 * 1024, length=False))
    with pytest.raises(ResponseTooLarge, match="passed the 1048576 byte cap"):
        bounded([]).request("GET", server.url + "/ok", context="t")


def test_an_answer_under_the_cap_is_read_whole(server: FakeServer) -> None:
    assert bounded([]).request("GET", server.url + "/ok", context="t").json("t") == {"ok": True}


def test_a_retry_after_past_the_run_budget_stops_the_run_instead_of_waiting(server: FakeServer) -> None:
    sleeps: list[float] = []
    server.inject(Fault("status", "/ok", status=429, retry_after="600"))
    with pytest.raises(
        BudgetExhausted, match=r"waiting 600 s would pass the run's time budget \(20 s left\)"
    ):
        bounded(sleeps, deadline=1_000_020.0).request("GET", server.url + "/ok", context="t")
    assert sleeps == []


def test_no_request_starts_once_the_run_budget_is_used_up(server: FakeServer) -> None:
    with pytest.raises(BudgetExhausted, match="time budget is used up"):
        bounded([], deadline=999_999.0).request("GET", server.url + "/ok", context="t")
    assert server.requests == []


def test_an_error_excerpt_is_cut_after_redaction(server: FakeServer) -> None:
    secret = "SeCrEt-" + "k" * 40
    server.handler = lambda request: Answer(400, {"pad": "." * 170, "echo": secret})
    client = bounded([])
    client.redact = lambda text: text.replace(secret, "***")
    with pytest.raises(HttpStatusError) as error:
        client.request("GET", server.url + "/ok", context="t")
    assert "SeCrEt" not in str(error.value) and "***" in str(error.value)
