"""Android Management API (service account -> OAuth2 token from a signed JWT).

Streams:
- `devices`   GET {api}/v1/{enterprise}/devices?pageSize=N&pageToken=T  -> mdm:amapi:device
              (Device resources as returned, `applicationReports` included)
- `policies`  GET {api}/v1/{enterprise}/policies?pageSize=N&pageToken=T -> mdm:amapi:policy
              (`applications[]` with `installType`, `roles[]`, ...)
- `usageLogs` Pub/Sub pull on the enterprise's notification subscription:
              POST {pubsub}/v1/{subscription}:pull, then :acknowledge only after the events are
              written. USAGE_LOGS messages (BatchUsageLogEvents) become one mdm:amapi:usagelog
              event per UsageLogEvent (its own keys, `connectEvent`/`dnsEvent`/
              `keyguardSecuredEvent`/... unchanged, plus the batch's `device`, `user` and
              `retrievalTime`); STATUS_REPORT and ENROLLMENT messages carry a Device and become
              mdm:amapi:device events; other notification types are acknowledged and counted.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from . import google_jwt, timeutil
from .auth import BearerAuth, Token, token_from_answer
from .checkpoint import State
from .errors import ConfigError, MalformedPage
from .events import CollectedEvent, with_meta
from .httpclient import form, validate_base_url
from .provider import RunContext, SweepStream, json_object, record_ids
from .runner import Page

API_URL = "https://androidmanagement.googleapis.com"
PUBSUB_URL = "https://pubsub.googleapis.com"
SCOPES = "https://www.googleapis.com/auth/androidmanagement https://www.googleapis.com/auth/pubsub"
_ENTERPRISE = re.compile(r"^enterprises/[A-Za-z0-9_-]+$")
_SUBSCRIPTION = re.compile(r"^projects/[a-z][a-z0-9-]{4,28}[a-z0-9]/subscriptions/[A-Za-z][\w.~+%-]{2,254}$")
# Pulls per run: a backlog drains over several runs instead of one endless one.
DEFAULT_MAX_PULLS = 50
DEVICE_MESSAGE_TYPES = frozenset({"STATUS_REPORT", "ENROLLMENT"})


@dataclass(frozen=True)
class AmapiAccount:
    enterprise: str
    service_account_json: str
    subscription: str = ""
    # Test hooks (loopback only under the test override, docs/inputs.md).
    api_url: str = API_URL
    pubsub_url: str = PUBSUB_URL

    def validated(self, allow_loopback_http: bool) -> tuple[AmapiAccount, google_jwt.ServiceAccount]:
        if not _ENTERPRISE.match(self.enterprise):
            raise ConfigError(
                f"Android Management API account: enterprise {self.enterprise!r} is not enterprises/<id>"
            )
        if self.subscription and not _SUBSCRIPTION.match(self.subscription):
            raise ConfigError(
                f"Android Management API account: subscription {self.subscription!r} is not "
                "projects/<project>/subscriptions/<name>"
            )
        key = google_jwt.ServiceAccount.from_json(self.service_account_json)
        validate_base_url(
            key.token_uri, allow_loopback_http=allow_loopback_http, what="service account token_uri"
        )
        google_jwt.load_private_key(key.private_key)  # fails now, with a clear message, not mid-run
        api = validate_base_url(self.api_url, allow_loopback_http=allow_loopback_http, what="API URL")
        pubsub = validate_base_url(
            self.pubsub_url, allow_loopback_http=allow_loopback_http, what="Pub/Sub URL"
        )
        return AmapiAccount(self.enterprise, self.service_account_json, self.subscription, api, pubsub), key


def google_auth(ctx: RunContext, key: google_jwt.ServiceAccount) -> BearerAuth:
    cache = f"google:{key.client_email}:{key.private_key_id}"
    if cache in ctx.auths:
        return ctx.auths[cache]
    ctx.redactor.add(key.private_key)

    def fetch() -> Token:
        context = f"service account {key.client_email}: token"
        signed = google_jwt.assertion(key, SCOPES, ctx.clock())
        ctx.redactor.add(signed)
        answer = ctx.client.request(
            "POST",
            key.token_uri,
            context=context,
            headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"},
            body=form({"grant_type": google_jwt.JWT_BEARER, "assertion": signed}),
        )
        return token_from_answer(answer, context, ctx.clock)

    auth = BearerAuth(fetch, ctx.redactor, ctx.clock)
    ctx.auths[cache] = auth
    return auth


def device_source_id(record: Mapping[str, Any]) -> str | None:
    name = record.get("name")
    if not name:
        return None
    return f"amapi:{name}:{record.get('lastStatusReportTime') or ''}"


class ListStream(SweepStream):
    provider = "amapi"
    collection = ""
    time_field = ""

    def __init__(self, ctx: RunContext, account: AmapiAccount, key: google_jwt.ServiceAccount) -> None:
        super().__init__(ctx)
        self.account = account
        self.auth = google_auth(ctx, key)

    @property
    def identity(self) -> str:
        return f"{self.account.api_url}/{self.account.enterprise}"

    def cursor_problem(self, cursor: Any) -> str | None:
        return None if isinstance(cursor, str) else f"the page token {cursor!r} is not a string"

    def first_cursor(self, state: State) -> Any:
        return ""  # no page token: the first page

    def source_id(self, record: Mapping[str, Any]) -> str | None:
        raise NotImplementedError

    def fetch(self, state: State) -> Page:
        token = state["cursor"]
        query = [("pageSize", str(self.ctx.page_size))] + ([("pageToken", token)] if token else [])
        url = (
            f"{self.account.api_url}/v1/{self.account.enterprise}/{self.collection}?"
            + urllib.parse.urlencode(query)
        )
        context = self.context(f"page {token[:40]!r}" if token else "first page")
        data, items = json_object(
            self.auth.get(self.ctx.client, url, context=context), context, self.collection
        )
        following = data.get("nextPageToken") or None
        if following is not None and not isinstance(following, str):
            raise MalformedPage(f"{context}: nextPageToken is not a string")
        events, skipped = self.events(
            items,
            state,
            source_id=self.source_id,
            time_of=lambda r: r.get(self.time_field) if self.time_field else None,
            where=context,
        )
        return Page(events, following, skipped, record_ids=record_ids(items, self.source_id))


class Devices(ListStream):
    name = collection = "devices"
    kind = "device"
    sourcetype = "mdm:amapi:device"
    time_field = "lastStatusReportTime"

    def source_id(self, record: Mapping[str, Any]) -> str | None:
        return device_source_id(record)


class Policies(ListStream):
    name = collection = "policies"
    kind = "policy"
    sourcetype = "mdm:amapi:policy"

    def source_id(self, record: Mapping[str, Any]) -> str | None:
        name = record.get("name")
        return f"amapi:{name}:{record.get('version') or ''}" if name else None


class UsageLogs(SweepStream):
    """Pub/Sub pull: no checkpoint of its own; the subscription keeps what is not acknowledged,
    and a message is acknowledged only once its events are written."""

    name = "usageLogs"
    provider = "amapi"
    kind = "usagelog"
    sourcetype = "mdm:amapi:usagelog"
    checks_loops = False

    def __init__(
        self,
        ctx: RunContext,
        account: AmapiAccount,
        key: google_jwt.ServiceAccount,
        max_pulls: int = DEFAULT_MAX_PULLS,
    ) -> None:
        super().__init__(ctx)
        self.account = account
        self.auth = google_auth(ctx, key)
        self.max_pulls = max_pulls
        self.ignored = 0

    def state_problem(self, state: State) -> str | None:
        return None  # nothing of a saved state is used: each run pulls afresh

    def begin(self, saved: State | None) -> State:
        return {"cursor": 0}  # each run pulls afresh; nothing to resume

    def complete(self, state: State) -> State:
        return {}

    def restart(self, state: State) -> State:
        return {}

    def url(self, verb: str) -> str:
        return f"{self.account.pubsub_url}/v1/{self.account.subscription}:{verb}"

    def fetch(self, state: State) -> Page:
        context = self.context(f"pull {state['cursor'] + 1}")
        response = self.auth.get(
            self.ctx.client,
            self.url("pull"),
            context=context,
            method="POST",
            body=json.dumps({"maxMessages": self.ctx.page_size}).encode(),
            headers={"Content-Type": "application/json"},
        )
        _, received = json_object(response, context, "receivedMessages")
        events: list[CollectedEvent] = []
        ack_ids: list[str] = []
        skipped = 0
        for position, item in enumerate(received):
            ack_id = item.get("ackId") if isinstance(item, Mapping) else None
            if not isinstance(ack_id, str) or not ack_id:
                raise MalformedPage(f"{context}: message {position} has no ackId")
            ack_ids.append(ack_id)
            built, bad = self.message_events(item.get("message"), f"{context} message {position}")
            events.extend(built)
            skipped += bad
        following = state["cursor"] + 1 if received and state["cursor"] + 1 < self.max_pulls else None
        return Page(events, following, skipped, {"ack_ids": ack_ids})

    def advance(self, state: State, page: Page) -> State:
        ack_ids = page.info.get("ack_ids") or []
        if ack_ids:
            context = self.context(f"acknowledge {len(ack_ids)} messages")
            self.auth.get(
                self.ctx.client,
                self.url("acknowledge"),
                context=context,
                method="POST",
                body=json.dumps({"ackIds": ack_ids}).encode(),
                headers={"Content-Type": "application/json"},
            )
        return {"cursor": page.next_cursor}

    def message_events(self, message: Any, where: str) -> tuple[list[CollectedEvent], int]:
        """Events of one Pub/Sub message; a message that cannot be read is logged and skipped
        (it is still acknowledged: it would never read better)."""
        if not isinstance(message, Mapping):
            self.ctx.logger.warning("%s: no message object; skipped", where)
            return [], 1
        message_id = message.get("messageId", "?")
        where = f"{where} (messageId {message_id}, published {message.get('publishTime', '?')})"
        attributes = message.get("attributes")
        if not isinstance(attributes, Mapping):
            attributes = {}
        kind = attributes.get("notificationType", "")
        try:
            payload = json.loads(base64.b64decode(message.get("data", ""), validate=True).decode("utf-8"))
        except (binascii.Error, ValueError, UnicodeDecodeError, TypeError) as exc:
            self.ctx.logger.warning(
                "%s: %s data is not base64 JSON (%s); skipped", where, kind or "message", exc
            )
            return [], 1
        if not isinstance(payload, Mapping):
            self.ctx.logger.warning("%s: data is not a JSON object; skipped", where)
            return [], 1
        collected = self.ctx.now_iso()
        if kind == "USAGE_LOGS":
            return self.usage_events(payload, where, collected)
        if kind in DEVICE_MESSAGE_TYPES:
            ident = device_source_id(payload)
            if ident is None:
                self.ctx.logger.warning("%s: %s device has no name; skipped", where, kind)
                return [], 1
            when = timeutil.parse(payload.get("lastStatusReportTime"))
            data = with_meta(payload, "amapi", "device", ident, collected)
            data["mobile_ingress"]["notification"] = kind
            stamp = when if when is not None else self.ctx.clock()
            return [CollectedEvent(data, "mdm:amapi:device", stamp, ident)], 0
        self.ignored += 1
        self.ctx.logger.debug("%s: notification type %r is not collected; acknowledged", where, kind)
        return [], 0

    def usage_events(
        self, batch: Mapping[str, Any], where: str, collected: str
    ) -> tuple[list[CollectedEvent], int]:
        items = batch.get("usageLogEvents")
        if not isinstance(items, list):
            self.ctx.logger.warning("%s: USAGE_LOGS without a usageLogEvents list; skipped", where)
            return [], 1
        device = batch.get("device", "")
        events: list[CollectedEvent] = []
        skipped = 0
        for position, item in enumerate(items):
            if not isinstance(item, Mapping) or not item.get("eventId"):
                skipped += 1
                self.ctx.logger.warning("%s: usage log event %d has no eventId; skipped", where, position)
                continue
            record = dict(item)
            for key in ("device", "user", "retrievalTime"):
                if key in batch:
                    record[key] = batch[key]
            ident = f"amapi:{device}:usagelog:{item['eventId']}"
            when = timeutil.parse(item.get("eventTime"))
            events.append(
                CollectedEvent(
                    with_meta(record, "amapi", "usagelog", ident, collected),
                    self.sourcetype,
                    when if when is not None else self.ctx.clock(),
                    ident,
                )
            )
        return events, skipped


STREAMS = ("devices", "policies", "usageLogs")


def streams(
    ctx: RunContext, account: AmapiAccount, key: google_jwt.ServiceAccount, names: tuple[str, ...] = STREAMS
) -> list[SweepStream]:
    unknown = [n for n in names if n not in STREAMS]
    if unknown:
        raise ConfigError(
            f"Android Management API input: unknown collections {unknown} (known: {', '.join(STREAMS)})"
        )
    out: list[SweepStream] = []
    for name in names:
        if name == "devices":
            out.append(Devices(ctx, account, key))
        elif name == "policies":
            out.append(Policies(ctx, account, key))
        elif account.subscription:
            out.append(UsageLogs(ctx, account, key))
        else:
            ctx.logger.warning(
                "%s: no Pub/Sub subscription on the account; usage logs are not collected", ctx.health.input
            )
    return out
