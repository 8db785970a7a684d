"""Microsoft Intune through Microsoft Graph v1.0, app-only (OAuth2 client credentials).

Streams (each follows `@odata.nextLink` to the end, resuming from the saved link after a kill):
- `managedDevices`  GET /deviceManagement/managedDevices                    -> mdm:intune:device
- `detectedApps`    GET /deviceManagement/detectedApps, and for each app its
                    /deviceManagement/detectedApps/{id}/managedDevices      -> mdm:intune:app
                    (the devices under `managedDevices`, as `$expand` would put them)
- `mobileApps`      GET /deviceAppManagement/mobileApps?$expand=assignments,categories
                                                                            -> mdm:intune:app
                    and, from Graph beta, the Managed Google Play apps (stream
                    `managedStoreApps`): GET /beta/deviceAppManagement/mobileApps?$filter=
                    isof('microsoft.graph.androidManagedStoreApp')&$expand=...
                    v1.0 has no androidManagedStoreApp type, and a v1.0 list leaves out the
                    records of types v1.0 does not define (as it left out win32LobApp before it
                    came to v1.0: microsoft/Intune-PowerShell-SDK#28,
                    ThomasKur/IntuneDocumentation#29), so the Android Enterprise apps an
                    organization approves in Managed Google Play are only ever listed by beta.
                    This one list is read from beta; its events carry graph_version "beta".
- `auditEvents`     GET /deviceManagement/auditEvents?$filter=activityDateTime ge S and
                    activityDateTime lt E, window [bookmark, now - delay)   -> mdm:intune:audit

The cloud picks the token and Graph hosts (global, US Government L4 and L5/DoD, China/21Vianet).
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from . import timeutil
from .auth import BearerAuth, Token, token_from_answer
from .checkpoint import State
from .errors import ConfigError, InputError, MalformedPage, PagingLoop
from .httpclient import form, validate_base_url
from .provider import RunContext, SweepStream, json_object, record_ids
from .runner import Page

# cloud -> (token host, Graph host)
CLOUDS: dict[str, tuple[str, str]] = {
    "global": ("https://login.microsoftonline.com", "https://graph.microsoft.com"),
    "usgov": ("https://login.microsoftonline.us", "https://graph.microsoft.us"),
    "usgov_dod": ("https://login.microsoftonline.us", "https://dod-graph.microsoft.us"),
    "china": ("https://login.chinacloudapi.cn", "https://microsoftgraph.chinacloudapi.cn"),
}
# First audit window on a new input: this far back.
DEFAULT_AUDIT_LOOKBACK = 7 * 86400.0
# Audit events can reach Graph a little after their activityDateTime: the window ends this early.
DEFAULT_AUDIT_DELAY = 300.0
NEXT_LINK = "@odata.nextLink"


@dataclass(frozen=True)
class IntuneAccount:
    tenant_id: str
    client_id: str
    client_secret: str
    cloud: str = "global"
    # Test hook: both hosts replaced (loopback only under the test override, docs/inputs.md).
    login_url: str = ""
    graph_url: str = ""

    def validated(self, allow_loopback_http: bool) -> IntuneAccount:
        if self.cloud not in CLOUDS:
            raise ConfigError(f"Intune account: unknown cloud {self.cloud!r} (one of {', '.join(CLOUDS)})")
        for name, value in (
            ("tenant id", self.tenant_id),
            ("client id", self.client_id),
            ("client secret", self.client_secret),
        ):
            if not value:
                raise ConfigError(f"Intune account: the {name} is missing")
        if not all(c.isalnum() or c in "-." for c in self.tenant_id):
            raise ConfigError(f"Intune account: tenant id {self.tenant_id!r} is not a GUID or domain name")
        login, graph = CLOUDS[self.cloud]
        login = validate_base_url(
            self.login_url or login, allow_loopback_http=allow_loopback_http, what="login URL"
        )
        graph = validate_base_url(
            self.graph_url or graph, allow_loopback_http=allow_loopback_http, what="Graph URL"
        )
        return IntuneAccount(self.tenant_id, self.client_id, self.client_secret, self.cloud, login, graph)

    @property
    def scope(self) -> str:
        # The scope names the Graph resource of the cloud, not the test override.
        return CLOUDS[self.cloud][1] + "/.default"


def intune_auth(ctx: RunContext, account: IntuneAccount) -> BearerAuth:
    key = f"intune:{account.login_url}:{account.tenant_id}:{account.client_id}"
    if key in ctx.auths:
        return ctx.auths[key]
    url = f"{account.login_url}/{urllib.parse.quote(account.tenant_id)}/oauth2/v2.0/token"

    def fetch() -> Token:
        context = f"Intune tenant {account.tenant_id}: token"
        answer = ctx.client.request(
            "POST",
            url,
            context=context,
            headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"},
            body=form(
                {
                    "client_id": account.client_id,
                    "client_secret": account.client_secret,
                    "scope": account.scope,
                    "grant_type": "client_credentials",
                }
            ),
        )
        return token_from_answer(answer, context, ctx.clock)

    auth = BearerAuth(fetch, ctx.redactor, ctx.clock)
    ctx.auths[key] = auth
    return auth


class GraphStream(SweepStream):
    provider = "intune"
    path = ""
    version = "v1.0"
    query: tuple[tuple[str, str], ...] = ()
    time_field = ""
    versioned_by = ""

    def __init__(self, ctx: RunContext, account: IntuneAccount) -> None:
        super().__init__(ctx)
        self.account = account
        self.auth = intune_auth(ctx, account)

    @property
    def identity(self) -> str:
        return f"{self.account.graph_url}/{self.account.tenant_id}"

    def cursor_problem(self, cursor: Any) -> str | None:
        # A saved link is followed with the bearer token: it must be on the Graph host too.
        if not isinstance(cursor, str):
            return f"the cursor {cursor!r} is not a URL"
        try:
            self.checked_link(cursor, "saved cursor")
        except InputError as exc:
            return str(exc)
        return None

    def first_url(self, state: State) -> str:
        query = [*self.query, ("$top", str(self.ctx.page_size))]
        return f"{self.account.graph_url}/{self.version}/{self.path}?" + urllib.parse.urlencode(
            query, safe="$,"
        )

    def first_cursor(self, state: State) -> Any:
        return self.first_url(state)

    def checked_link(self, link: Any, context: str) -> str | None:
        """A nextLink must stay on the Graph host: the bearer token never goes anywhere else."""
        if link is None:
            return None
        if not isinstance(link, str):
            raise MalformedPage(f"{context}: {NEXT_LINK} is not a string")
        ours = urllib.parse.urlsplit(self.account.graph_url)
        theirs = urllib.parse.urlsplit(link)
        if (theirs.scheme, theirs.netloc) != (ours.scheme, ours.netloc):
            raise InputError(f"{context}: {NEXT_LINK} points to another host ({theirs.netloc}); not followed")
        return link

    def page(self, url: str, context: str) -> tuple[list[Any], str | None]:
        response = self.auth.get(self.ctx.client, url, context=context)
        data, items = json_object(response, context, "value")
        return items, self.checked_link(data.get(NEXT_LINK), context)

    def source_id(self, record: Mapping[str, Any]) -> str | None:
        ident = record.get("id")
        if not ident:
            return None
        version = f":{record.get(self.versioned_by) or ''}" if self.versioned_by else ""
        return f"intune:{self.account.tenant_id}:{self.kind}:{ident}{version}"

    def context_of(self, state: State) -> str:
        return self.context(f"page {urllib.parse.urlsplit(state['cursor']).query[:120]!r}")

    def fetch(self, state: State) -> Page:
        context = self.context_of(state)
        items, following = self.page(state["cursor"], context)
        items = self.enrich(items, context)
        events, skipped = self.events(
            items,
            state,
            source_id=self.source_id,
            time_of=lambda r: r.get(self.time_field) if self.time_field else None,
            where=context,
            keep=lambda r: self.keep(r, state),
        )
        return Page(events, following, skipped, record_ids=record_ids(items, self.source_id))

    def enrich(self, items: list[Any], context: str) -> list[Any]:
        return items

    def keep(self, record: Mapping[str, Any], state: State) -> bool:
        return True


class ManagedDevices(GraphStream):
    name = "managedDevices"
    kind = "managedDevice"
    sourcetype = "mdm:intune:device"
    path = "deviceManagement/managedDevices"
    time_field = "lastSyncDateTime"
    versioned_by = "lastSyncDateTime"


class DetectedApps(GraphStream):
    name = "detectedApps"
    kind = "detectedApp"
    sourcetype = "mdm:intune:app"
    path = "deviceManagement/detectedApps"
    # Devices listed per app; a large tenant pages these too.
    MAX_DEVICE_PAGES = 1000

    def enrich(self, items: list[Any], context: str) -> list[Any]:
        out = []
        for item in items:
            if not isinstance(item, Mapping) or not item.get("id"):
                out.append(item)  # logged and skipped by events()
                continue
            app_id = urllib.parse.quote(str(item["id"]), safe="")
            url: str | None = (
                f"{self.account.graph_url}/v1.0/deviceManagement/detectedApps/{app_id}/managedDevices"
            )
            devices: list[Any] = []
            seen: set[str] = set()
            while url is not None:
                if url in seen or len(seen) >= self.MAX_DEVICE_PAGES:
                    raise PagingLoop(f"{context}: devices of detected app {item['id']}: {NEXT_LINK} repeats")
                seen.add(url)
                page, url = self.page(url, f"{context} devices of app {item['id']}")
                devices.extend(page)
            out.append({**item, "managedDevices": devices})
        return out


class MobileApps(GraphStream):
    name = "mobileApps"
    kind = "mobileApp"
    sourcetype = "mdm:intune:app"
    path = "deviceAppManagement/mobileApps"
    query: tuple[tuple[str, str], ...] = (("$expand", "assignments,categories"),)
    # A catalogue snapshot: stamped with its collection time (no time_field). Its
    # lastModifiedDateTime is an admin's last edit, often weeks ago: as the event time, every sweep
    # fell outside the managed-apps builder's window of the last day.
    time_field = ""
    versioned_by = "lastModifiedDateTime"


class ManagedStoreApps(MobileApps):
    """Managed Google Play apps, from Graph beta (see the module's docstring): part of the
    `mobileApps` collection, the same kind and sourcetype."""

    name = "managedStoreApps"
    version = "beta"
    query = (
        ("$filter", "isof('microsoft.graph.androidManagedStoreApp')"),
        ("$expand", "assignments,categories"),
    )
    META: ClassVar[dict[str, str]] = {"graph_version": "beta"}


class AuditEvents(GraphStream):
    name = "auditEvents"
    kind = "auditEvent"
    sourcetype = "mdm:intune:audit"
    path = "deviceManagement/auditEvents"
    time_field = "activityDateTime"
    SWEEP_KEYS = ("window_start", "window_end")
    NUMERIC_KEYS = ("bookmark", "window_start", "window_end")

    def __init__(
        self,
        ctx: RunContext,
        account: IntuneAccount,
        lookback: float = DEFAULT_AUDIT_LOOKBACK,
        delay: float = DEFAULT_AUDIT_DELAY,
    ) -> None:
        super().__init__(ctx, account)
        self.lookback = lookback
        self.delay = delay

    def first_cursor(self, state: State) -> Any:
        now = self.ctx.clock()
        start = state.get("bookmark")
        if start is None:
            start = now - self.lookback
        end = now - self.delay
        if end <= start:
            return None
        state["window_start"], state["window_end"] = start, end
        window = f"activityDateTime ge {timeutil.iso(start)} and activityDateTime lt {timeutil.iso(end)}"
        query = [("$filter", window), ("$top", str(self.ctx.page_size))]
        return f"{self.account.graph_url}/v1.0/{self.path}?" + urllib.parse.urlencode(query, safe="$,:")

    def keep(self, record: Mapping[str, Any], state: State) -> bool:
        # Inside the window even when a server ignores the filter: windows never overlap.
        when = timeutil.parse(record.get("activityDateTime"))
        return when is None or state["window_start"] <= when < state["window_end"]

    def on_complete(self, state: State) -> None:
        state["bookmark"] = state["window_end"]


STREAMS = {cls.name: cls for cls in (ManagedDevices, DetectedApps, MobileApps, AuditEvents)}
# A collection read as more than one list.
EXTRA_STREAMS: dict[str, tuple[type[GraphStream], ...]] = {"mobileApps": (ManagedStoreApps,)}


def streams(
    ctx: RunContext, account: IntuneAccount, names: tuple[str, ...] = tuple(STREAMS)
) -> list[SweepStream]:
    unknown = [n for n in names if n not in STREAMS]
    if unknown:
        raise ConfigError(f"Intune input: unknown collections {unknown} (known: {', '.join(STREAMS)})")
    out: list[SweepStream] = []
    for name in names:
        out += [cls(ctx, account) for cls in (STREAMS[name], *EXTRA_STREAMS.get(name, ()))]
    return out
