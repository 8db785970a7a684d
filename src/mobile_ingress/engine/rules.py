"""The per-event questions the chain rules ask of the lookups (contract sections 2 and 3)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Generic, TypeVar

from .events import Event
from .hosts import HostPattern, parse_ip
from .lookups import AllowedDestination, AllowedPath, BaselineEntry, Lookups
from .paths import DOWNLOADS_PROVIDER
from .settings import Settings

T = TypeVar("T")


class HostIndex(Generic[T]):
    """Rows keyed by a HostPattern, found for a host without scanning every row."""

    def __init__(self, rows: Sequence[tuple[HostPattern, T]]) -> None:
        self._exact: dict[str, list[T]] = {}
        self._suffix: dict[str, list[T]] = {}
        self._other: list[tuple[HostPattern, T]] = []
        for pattern, row in rows:
            if pattern.kind in ("host", "ip"):
                self._exact.setdefault(pattern.host, []).append(row)
            elif pattern.kind == "suffix":
                self._suffix.setdefault(pattern.host, []).append(row)
            else:
                self._other.append((pattern, row))

    def find(self, host: str) -> list[T]:
        """Rows whose pattern matches `host` (normalized), in the order they were given."""
        found: list[T] = list(self._exact.get(host, ()))
        if parse_ip(host) is None:
            labels = host.split(".")
            for i in range(len(labels)):
                found.extend(self._suffix.get(".".join(labels[i:]), ()))
        found.extend(row for pattern, row in self._other if pattern.matches(host))
        return found


def retrieval_hosts(r: Event) -> list[str]:
    """The identities a retrieval is checked by: its dest, dest_ip and URL host."""
    hosts = []
    for host in (r.dest, r.dest_ip, r.url_host):
        if host is not None and host not in hosts:
            hosts.append(host)
    return hosts


class Rules:
    """The lookups and settings, indexed once, answering the rule questions."""

    def __init__(self, lookups: Lookups, settings: Settings) -> None:
        self.lookups = lookups
        self.settings = settings
        self.destinations: HostIndex[AllowedDestination] = HostIndex(
            [(row.pattern, row) for row in lookups.allowed_destinations]
        )
        self.baseline: HostIndex[BaselineEntry] = HostIndex([(row.pattern, row) for row in lookups.baseline])

    def risk_class(self, f: Event) -> str | None:
        """The risk class of the first risk pattern row that the staged file matches (remembered on
        the event: the prefilter and every window that holds the file ask again)."""
        memo = f.risk_memo
        if memo is not None and memo[0] is self:
            return memo[1]
        risk = self._risk_class(f)
        f.risk_memo = (self, risk)
        return risk

    def _risk_class(self, f: Event) -> str | None:
        for row in self.lookups.risk_patterns:
            if row.platform not in ("*", f.platform):
                continue
            if row.regex is None:
                name = f.file_name or ""
                if (
                    "." not in name[1:]
                    and f.file_size is not None
                    and f.file_size >= self.settings.ingress_bytes_threshold
                ):
                    return row.risk_class
                continue
            value = getattr(f, row.field)
            if value is not None and row.regex.match(value):
                return row.risk_class
        return None

    def allowed_path(self, f: Event, app_id: str | None) -> AllowedPath | None:
        assert f.file_path is not None
        apps = ("*", f.app_id, app_id)
        for row in self.lookups.allowed_paths:
            if row.platform in ("*", f.platform) and row.app_id in apps and row.regex.match(f.file_path):
                return row
        return None

    def allowed_destination(self, r: Event, app_id: str | None) -> AllowedDestination | None:
        for host in retrieval_hosts(r):
            for row in self.destinations.find(host):
                if row.app_id == "*" or row.app_id == app_id:
                    return row
        return None

    def baselined(self, r: Event, app_id: str | None) -> BaselineEntry | None:
        horizon = r.time - self.settings.time_window
        for host in retrieval_hosts(r):
            for row in self.baseline.find(host):
                if (row.app_id == "*" or row.app_id == app_id) and (
                    row.first_seen is None or row.first_seen <= horizon
                ):
                    return row
        return None

    def unapproved_role(self, platform: str, app_id: str | None) -> bool:
        managed = self.lookups.managed_app(platform, app_id)
        return managed is not None and managed.managed and not managed.approved


def app_relation(r: Event, f: Event) -> int | None:
    """The rank (2 to 4) that the app rule of section 3 lets R and F correlate at, or None.

    2: same app; 3: R without app; 4: F in shared storage without app, or a DownloadManager
    retrieval and a file of the downloads provider or in shared storage."""
    if r.app_id is not None and r.app_id == f.app_id:
        return 2
    if r.app_id is None:
        return 3
    if f.app_id is None and f.shared:
        return 4
    if r.retrieval_method == "download_manager" and (f.app_id == DOWNLOADS_PROVIDER or f.shared):
        return 4
    return None
