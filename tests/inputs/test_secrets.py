"""No secret in any log line or event: every provider run against its stand-in with faults that
make the code log (retries, refused secrets, token renewals, errors that echo the request), then
every line and event searched for every secret and every token the stand-ins issued."""

from __future__ import annotations

import logging
import re
import urllib.parse
from typing import Any

from mobile_ingress_inputs import amapi, intune, jamf
from mobile_ingress_inputs.redact import MASK, Redactor

from . import fake_google, fake_graph, fake_jamf
from .fakeserver import Answer, Fault, Request, serving
from .support import Harness

ISSUED = re.compile(r"jamf-token-\d+-x+|graph-\d+\.s+|ya29\.c\.fake-\d+-t+")


def echoing(handler: Any) -> Any:
    """A token endpoint that, when it refuses, echoes the request body (some servers do)."""

    def handle(request: Request) -> Answer:
        answer = handler(request)
        if request.method == "POST" and answer.status >= 400:
            answer.body = {"error": "invalid", "received": request.body.decode()}
        return answer

    return handle


def leaks(h: Harness, secrets: list[str]) -> list[str]:
    texts = h.handler.lines + [e.text() for e in h.sink.events]
    found = [s[:12] for s in secrets for t in texts if s and s in t]
    found += [m.group(0) for t in texts for m in [ISSUED.search(t)] if m]
    return found


def test_no_secret_or_token_in_jamf_logs_or_events() -> None:
    fake = fake_jamf.FakeJamf([fake_jamf.device(n) for n in range(1, 5)])
    fake.server.handler = echoing(fake.handle)
    with serving(fake.server):
        h = Harness("jamf", secrets=(fake_jamf.CLIENT_SECRET, fake_jamf.PASSWORD))
        fake.server.inject(Fault("status", "/detail", status=503), Fault("revoke", "/detail", after=1))
        good = jamf.JamfAccount(fake.server.url, fake_jamf.CLIENT_ID, fake_jamf.CLIENT_SECRET).validated(True)
        h.run(lambda ctx: jamf.streams(ctx, good))
        user = jamf.JamfAccount(
            fake.server.url, username=fake_jamf.USERNAME, password=fake_jamf.PASSWORD
        ).validated(True)
        fake.tokens.clear()
        h.store = type(h.store)()
        h.run(lambda ctx: jamf.streams(ctx, user))
        # A refused secret: the server echoes it back in its error.
        wrong = "jamf-WRONG-secret-77aa"
        bad = jamf.JamfAccount(fake.server.url, fake_jamf.CLIENT_ID, wrong).validated(True)
        h.secrets = (*h.secrets, wrong)
        h.run(lambda ctx: jamf.streams(ctx, bad))
    assert len(h.sink.events) == 8 and h.summaries[-1]["status"] == "failed"
    assert "received" in h.log  # the echo was logged, redacted
    assert leaks(h, [fake_jamf.CLIENT_SECRET, fake_jamf.PASSWORD, wrong]) == []


def test_no_secret_or_token_in_intune_logs_or_events() -> None:
    fake = fake_graph.FakeGraph()
    fake.server.handler = echoing(fake.handle)
    with serving(fake.server):
        h = Harness("intune", page_size=2, secrets=(fake_graph.CLIENT_SECRET,))
        fake.server.inject(
            Fault("revoke", "/managedDevices", after=1), Fault("status", "/mobileApps", status=429)
        )
        acct = intune.IntuneAccount(
            fake_graph.TENANT,
            fake_graph.CLIENT_ID,
            fake_graph.CLIENT_SECRET,
            login_url=fake.server.url,
            graph_url=fake.server.url,
        ).validated(True)
        h.run(lambda ctx: intune.streams(ctx, acct))
        wrong = "graph~WRONG.secret.9911"
        bad = intune.IntuneAccount(
            fake_graph.TENANT,
            fake_graph.CLIENT_ID,
            wrong,
            login_url=fake.server.url,
            graph_url=fake.server.url,
        ).validated(True)
        h.secrets = (*h.secrets, wrong)
        h.run(lambda ctx: intune.streams(ctx, bad, ("managedDevices",)))
    assert h.summaries[0]["status"] == "ok" and h.summaries[-1]["status"] == "failed"
    assert leaks(h, [fake_graph.CLIENT_SECRET, wrong]) == []


def test_no_key_assertion_or_token_in_amapi_logs_or_events() -> None:
    fake = fake_google.FakeGoogle()
    fake.server.handler = echoing(fake.handle)
    with serving(fake.server):
        key_json = fake_google.service_account_json(fake.token_uri)
        h = Harness("amapi", page_size=2, secrets=(key_json,))
        fake.messages = [fake_google.message(1, "USAGE_LOGS", fake_google.usage_batch(1, 0, 3))]
        fake.server.inject(Fault("revoke", "/devices", after=1), Fault("status", "/token", status=500))
        acct, key = amapi.AmapiAccount(
            fake_google.ENTERPRISE,
            key_json,
            fake_google.SUBSCRIPTION,
            api_url=fake.server.url,
            pubsub_url=fake.server.url,
        ).validated(True)
        h.run(lambda ctx: amapi.streams(ctx, acct, key))
        # A token URI that refuses every assertion (and echoes it back).
        fake.server.inject(*[Fault("status", "/token", status=400)] * 8)
        original = fake.server.handler

        def refuse(request: Request) -> Answer:
            if request.path == "/token":
                return Answer(400, {"error": "invalid_grant", "received": request.body.decode()})
            return original(request)

        fake.server.handler = refuse
        fake.server.faults.clear()
        h.run(lambda ctx: amapi.streams(ctx, acct, key, ("policies",)))
    assert h.summaries[0]["status"] == "ok" and h.summaries[-1]["status"] == "failed"
    assert "received" in h.log
    private_lines = [line for line in key.private_key.splitlines() if len(line) > 20]
    # The start of every signed assertion: base64url of '{"alg":"RS256",'.
    assert "eyJhbGciOiJSUzI1NiIs" not in h.log
    assert leaks(h, [key.private_key, *private_lines]) == []


def test_the_redactor_masks_registered_secrets_in_messages_arguments_and_tracebacks() -> None:
    redactor = Redactor()
    redactor.add("s3cr3t-VALUE-123")
    records: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(self.format(record))

    logger = logging.getLogger("tests.inputs.redactor")
    logger.handlers[:] = [Keep()]
    logger.propagate = False
    logger.addFilter(redactor)
    logger.warning("a %s b", "s3cr3t-VALUE-123")
    try:
        raise ValueError("bad s3cr3t-VALUE-123")
    except ValueError:
        logger.exception("failed")
    assert all("s3cr3t-VALUE-123" not in r for r in records) and MASK in records[0]
    assert "ValueError: bad ***" in records[1]


def test_the_redactor_masks_credential_shapes_it_was_never_told_about() -> None:
    redactor = Redactor()
    text = redactor.redact(
        'Authorization: Bearer abcdefghijkl12345 client_secret=zzzzzzzz&x=1 {"password": "hunter2hunter2"}'
    )
    assert text == 'Authorization: Bearer *** client_secret=***&x=1 {"password": "***"}'


def test_the_redactor_leaves_ordinary_text_alone() -> None:
    redactor = Redactor()
    redactor.add("abc")  # too short to mask safely: refused by the account checks instead
    line = "jamf test_input mobiledevices page 1: HTTP 503; retry 1 of 3 in 0.010 s"
    assert redactor.redact(line) == line


# ------------------------------------- a refused secret echoed back, in every encoding


def refused_with(raw: bytes) -> tuple[Harness, str]:
    """Run the Jamf input with a wrong client secret against a token endpoint that refuses it
    with RAW as its body; the log of that run."""
    fake = fake_jamf.FakeJamf([fake_jamf.device(1)])
    wrong = WRONG_SECRET
    original = fake.handle

    def refuse(request: Request) -> Answer:
        if request.path == "/api/oauth/token":
            return Answer(401, None, raw=raw)
        return original(request)

    fake.server.handler = refuse
    with serving(fake.server):
        h = Harness("jamf", secrets=(wrong,))
        account = jamf.JamfAccount(fake.server.url, fake_jamf.CLIENT_ID, wrong).validated(True)
        summary = h.run(lambda ctx: jamf.streams(ctx, account))
    assert summary["status"] == "failed" and "API client token: HTTP 401" in h.log
    return h, h.log


# Characters a form percent-encodes and a JSON writer may escape.
WRONG_SECRET = "jamf+WRONG/secret=77aa"


def test_a_secret_the_excerpt_would_cut_is_masked_before_the_cut() -> None:
    body = '{"error": "invalid_client", "pad": "' + "." * 140 + '", "received": "' + WRONG_SECRET + '"}'
    assert body.index(WRONG_SECRET) < 200 < body.index(WRONG_SECRET) + len(WRONG_SECRET)
    _, log = refused_with(body.encode())
    assert "jamf+WRO" not in log and "***" in log


def test_a_json_escaped_secret_is_masked() -> None:
    escaped = WRONG_SECRET.replace("/", "\\/")
    _, log = refused_with(('{"error": "invalid_client", "received": "' + escaped + '"}').encode())
    assert "WRONG\\/secret" not in log and "***" in log


def test_a_percent_encoded_secret_under_an_unnamed_key_is_masked() -> None:
    encoded = urllib.parse.quote(WRONG_SECRET, safe="")  # jamf%2BWRONG%2Fsecret%3D77aa
    _, log = refused_with(('{"error": "invalid_client", "detail": "' + encoded + '"}').encode())
    assert "WRONG%2Fsecret" not in log and "***" in log


def test_a_form_encoded_secret_with_lower_case_hex_is_masked() -> None:
    encoded = re.sub(
        r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), urllib.parse.quote_plus(WRONG_SECRET, safe="")
    )
    _, log = refused_with(('{"error": "invalid_client", "x": "' + encoded + '"}').encode())
    assert "WRONG%2fsecret" not in log and "***" in log


def test_the_error_without_the_secret_is_still_shown() -> None:
    _, log = refused_with(b'{"error": "invalid_client", "error_description": "unknown client"}')
    assert "unknown client" in log
