"""Jamf Pro: mobile device inventory with GENERAL, HARDWARE, APPLICATIONS and SECURITY sections
(HARDWARE holds `wifiMacAddress`, which device attribution joins to DHCP leases, and the serial).

    GET {base}/api/v2/mobile-devices/detail?section=GENERAL&section=HARDWARE&section=APPLICATIONS
        &section=SECURITY&page=N&page-size=M&sort=mobileDeviceId:asc
        [&filter=lastInventoryUpdateDate=gt="T"]
    -> {"totalCount": n, "results": [MobileDeviceInventory, ...]}

A server that ignores `page` would answer the first page forever: a page whose devices this sweep
has all read already ends the sweep (runner), and so does a sweep that has read more records than
the server's own `totalCount` (here), each with a health line that says so.

Incremental by `general.lastInventoryUpdateDate`: after a complete sweep the watermark moves to the
newest inventory time seen (never past the sweep's start less an overlap, so a device updated
while the sweep ran is read again next time rather than missed); the next sweep asks only for
newer devices (RSQL filter) and also drops older ones itself in case a server ignores the filter.

Tokens: API client credentials (`POST /api/oauth/token`, client_credentials) or, as the fallback,
a user's bearer token (`POST /api/v1/auth/token` with Basic auth -> {token, expires}).
"""

from __future__ import annotations

import base64
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from . import timeutil
from .auth import BearerAuth, Token, token_from_answer
from .checkpoint import State
from .errors import AuthError, ConfigError, HttpStatusError, PagingAnomaly
from .httpclient import form, validate_base_url
from .provider import RunContext, SweepStream, json_object, record_ids
from .runner import Page

SOURCETYPE = "mdm:jamf:mobiledevice"
SECTIONS = ("GENERAL", "HARDWARE", "APPLICATIONS", "SECURITY")
# Seconds the watermark stays behind the start of the sweep that set it.
DEFAULT_OVERLAP = 300.0


@dataclass(frozen=True)
class JamfAccount:
    base_url: str
    client_id: str = ""
    client_secret: str = ""
    username: str = ""
    password: str = ""

    def validated(self, allow_loopback_http: bool) -> JamfAccount:
        base = validate_base_url(self.base_url, allow_loopback_http=allow_loopback_http, what="Jamf Pro URL")
        if not (self.client_id and self.client_secret) and not (self.username and self.password):
            raise ConfigError(
                "Jamf Pro account: give an API client id and secret, or a user name and password"
            )
        return JamfAccount(base, self.client_id, self.client_secret, self.username, self.password)

    @property
    def secrets(self) -> tuple[str, ...]:
        return (self.client_secret, self.password)


def jamf_auth(ctx: RunContext, account: JamfAccount) -> BearerAuth:
    key = f"jamf:{account.base_url}"
    if key in ctx.auths:
        return ctx.auths[key]

    def fetch() -> Token:
        if account.client_id and account.client_secret:
            context = f"Jamf Pro {account.base_url}: API client token"
            answer = ctx.client.request(
                "POST",
                account.base_url + "/api/oauth/token",
                context=context,
                headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"},
                body=form(
                    {
                        "grant_type": "client_credentials",
                        "client_id": account.client_id,
                        "client_secret": account.client_secret,
                    }
                ),
            )
            return token_from_answer(answer, context, ctx.clock)
        context = f"Jamf Pro {account.base_url}: user bearer token"
        basic = base64.b64encode(f"{account.username}:{account.password}".encode()).decode("ascii")
        ctx.redactor.add(basic)
        answer = ctx.client.request(
            "POST",
            account.base_url + "/api/v1/auth/token",
            context=context,
            headers={"Authorization": f"Basic {basic}", "Accept": "application/json"},
        )
        data = answer.json(context)
        if not isinstance(data, dict) or not isinstance(data.get("token"), str) or not data["token"]:
            raise AuthError(f"{context}: the answer has no token")
        expires = timeutil.parse(data.get("expires"))
        return Token(data["token"], expires if expires is not None else ctx.clock() + 1200)

    auth = BearerAuth(fetch, ctx.redactor, ctx.clock)
    ctx.auths[key] = auth
    return auth


def _inventory_time(record: Mapping[str, Any]) -> Any:
    general = record.get("general")
    return general.get("lastInventoryUpdateDate") if isinstance(general, Mapping) else None


class JamfMobileDevices(SweepStream):
    name = "mobiledevices"
    provider = "jamf"
    kind = "mobiledevice"
    sourcetype = SOURCETYPE
    SWEEP_KEYS = ("since", "max_seen", "received")
    NUMERIC_KEYS = ("watermark", "since", "max_seen", "received")

    def __init__(self, ctx: RunContext, account: JamfAccount, overlap: float = DEFAULT_OVERLAP) -> None:
        super().__init__(ctx)
        self.account = account
        self.auth = jamf_auth(ctx, account)
        self.overlap = overlap
        self.host = urllib.parse.urlsplit(account.base_url).netloc

    @property
    def identity(self) -> str:
        return self.account.base_url

    def cursor_problem(self, cursor: Any) -> str | None:
        page = cursor.get("page") if isinstance(cursor, dict) else None
        if (
            not isinstance(cursor, dict)
            or set(cursor) != {"page"}
            or isinstance(page, bool)
            or not (isinstance(page, int) and page >= 0)
        ):
            return f'the cursor {cursor!r} is not {{"page": N}}'
        return None

    def state_problem(self, state: State) -> str | None:
        problem = super().state_problem(state)
        if problem is None and not isinstance(state.get("server_filter", True), bool):
            problem = f"`server_filter` is {state['server_filter']!r}, not true or false"
        return problem

    def first_cursor(self, state: State) -> Any:
        state["since"] = state.get("watermark")
        state["max_seen"] = state.get("watermark")
        state["received"] = 0
        return {"page": 0}

    def url(self, state: State) -> str:
        query: list[tuple[str, str]] = [("section", s) for s in SECTIONS]
        query += [
            ("page", str(state["cursor"]["page"])),
            ("page-size", str(self.ctx.page_size)),
            ("sort", "mobileDeviceId:asc"),
        ]
        if state.get("since") is not None and state.get("server_filter", True):
            query.append(("filter", f'lastInventoryUpdateDate=gt="{timeutil.iso(state["since"])}"'))
        return self.account.base_url + "/api/v2/mobile-devices/detail?" + urllib.parse.urlencode(query)

    def source_id(self, record: Mapping[str, Any]) -> str | None:
        ident = record.get("mobileDeviceId")
        if ident in (None, ""):
            return None
        return f"jamf:{self.host}:mobiledevice:{ident}:{_inventory_time(record) or ''}"

    def fetch(self, state: State) -> Page:
        page_number = state["cursor"]["page"]
        context = self.context(f"page {page_number}")
        try:
            response = self.auth.get(self.ctx.client, self.url(state), context=context)
        except HttpStatusError as exc:
            refused_filter = exc.status == 400 and page_number == 0 and state.get("since") is not None
            if not refused_filter or not state.get("server_filter", True):
                raise
            # A server that refuses the RSQL filter: read every device from page 0 and keep the
            # newer ones here (same result, more transfer); remembered for later sweeps.
            self.ctx.logger.warning(
                "%s: the server refused the lastInventoryUpdateDate filter (%s); filtering here instead",
                context,
                exc,
            )
            state["server_filter"] = False
            state["cursor"] = {"page": 0}
            state["received"] = 0
            page_number = 0
            context = self.context("page 0 (unfiltered)")
            response = self.auth.get(self.ctx.client, self.url(state), context=context)
        data, results = json_object(response, context, "results")
        since = state.get("since")

        def newer(record: Mapping[str, Any]) -> bool:
            when = timeutil.parse(_inventory_time(record))
            return since is None or when is None or when > since

        events, skipped = self.events(
            results, state, source_id=self.source_id, time_of=_inventory_time, where=context, keep=newer
        )
        times = [
            t
            for t in (timeutil.parse(_inventory_time(r)) for r in results if isinstance(r, Mapping))
            if t is not None
        ]
        total = data.get("totalCount")
        received = int(state.get("received") or 0) + len(results)
        # One page of slack: devices enrolled while the sweep runs shift the pages.
        if isinstance(total, int) and received > total + self.ctx.page_size:
            raise PagingAnomaly(
                f"{received} records read by page {page_number}, more than the server's totalCount "
                f"{total}: the server does not page as asked"
            )
        more = bool(results) and (
            not isinstance(total, int) or (page_number + 1) * self.ctx.page_size < total
        )
        return Page(
            events,
            {"page": page_number + 1} if more else None,
            skipped,
            {"max_time": max(times) if times else None, "received": received},
            record_ids(results, self.source_id),
        )

    def on_page(self, state: State, page: Page) -> None:
        state["received"] = page.info.get("received", 0)
        newest = page.info.get("max_time")
        if newest is not None and (state.get("max_seen") is None or newest > state["max_seen"]):
            state["max_seen"] = newest

    def on_complete(self, state: State) -> None:
        max_seen = state.get("max_seen")
        started = timeutil.parse(state.get("sweep"))
        if max_seen is None:
            return
        ceiling = started - self.overlap if started is not None else max_seen
        state["watermark"] = min(max_seen, ceiling)
        if state.get("watermark") is not None and state.get("since") is not None:
            state["watermark"] = max(state["watermark"], state["since"])


def streams(ctx: RunContext, account: JamfAccount) -> list[SweepStream]:
    return [JamfMobileDevices(ctx, account)]
