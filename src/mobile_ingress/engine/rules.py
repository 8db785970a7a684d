"""The per-event questions the chain rules ask of the lookups (contract sections 2 and 3)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Generic, TypeVar

from .events import Event
from .hosts import HostPattern, parse_ip
from .lookups import AllowedDestination, AllowedPath, BaselineEntry, Lookups
from .settings import Settings

T = TypeVar("T")
FOUND_LIMIT = 1 << 16  # hosts whose rows are remembered (then the memory starts over)


class HostIndex(Generic[T]):
    """Rows keyed by a HostPattern, found for a host without scanning every row."""

    def __init__(self, rows: Sequence[tuple[HostPattern, T]]) -> None:
        self._exact: dict[str, list[T]] = {}
        self._suffix: dict[str, list[T]] = {}
        self._other: list[tuple[HostPattern, T]] = []
        self.catch_all: list[T] = []  # `*` rows: they match whatever names the retrieval
        self._found: dict[str, list[T]] = {}
        for pattern, row in rows:
            if pattern.kind in ("host", "ip"):
                self._exact.setdefault(pattern.host, []).append(row)
            elif pattern.kind == "suffix":
                self._suffix.setdefault(pattern.host, []).append(row)
            else:
                self._other.append((pattern, row))
                if pattern.kind == "any":
                    self.catch_all.append(row)

    def find(self, host: str) -> list[T]:
        """Rows whose pattern matches `host` (normalized), in the order they were given (the rows
        never change: each host's answer is kept, hosts repeat across a fleet)."""
        found = self._found.get(host)
        if found is None:
            if len(self._found) >= FOUND_LIMIT:
                self._found.clear()
            found = self._found[host] = self._find(host)
        return found

    def _find(self, host: str) -> list[T]:
        found: list[T] = list(self._exact.get(host, ()))
        if parse_ip(host) is None:
            labels = host.split(".")
            for i in range(len(labels)):
                found.extend(self._suffix.get(".".join(labels[i:]), ()))
        found.extend(row for pattern, row in self._other if pattern.matches(host))
        return found


def retrieval_hosts(r: Event) -> list[str]:
    """The identities a retrieval is checked by: its dest, dest_ip and URL host; when the host
    name is not corroborated (interface 1, docs/detections.md), only the address the device
    connected to: a Host header (or an address written in it) is evidence, not an allowlist key."""
    if not r.name_corroborated:
        return [r.dest_ip] if r.dest_ip is not None else []
    hosts = []
    for host in (r.dest, r.dest_ip, r.url_host):
        if host is not None and host not in hosts:
            hosts.append(host)
    return hosts


def _rows_for(index: HostIndex[T], r: Event) -> list[T]:
    """The rows of `index` that cover retrieval R (first row first), by the identities above."""
    hosts = retrieval_hosts(r)
    found: list[T] = []
    for host in hosts:
        found.extend(index.find(host))
    if not hosts:  # an uncorroborated name and no address: only a `*` row covers it
        found.extend(index.catch_all)
    return found


class Rules:
    """The lookups and settings, indexed once, answering the rule questions."""

    def __init__(self, lookups: Lookups, settings: Settings) -> None:
        self.lookups = lookups
        self.settings = settings
        self.destinations: HostIndex[AllowedDestination] = HostIndex(
            [(row.pattern, row) for row in lookups.allowed_destinations]
        )
        self.baseline: HostIndex[BaselineEntry] = HostIndex([(row.pattern, row) for row in lookups.baseline])
        # Apps that a destination or baseline row names (not "*"): a retrieval without app is
        # judged for any other app exactly as for every app.
        self.apps_with_own_destination_rows = frozenset(
            [row.app_id for row in lookups.allowed_destinations if row.app_id != "*"]
            + [entry.app_id for entry in lookups.baseline if entry.app_id != "*"]
        )

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

    def path_rows(self, f: Event) -> list[AllowedPath]:
        """Allowed-path rows of F's platform whose pattern matches F's path, whatever their app."""
        assert f.file_path is not None
        return [
            row
            for row in self.lookups.allowed_paths
            if row.platform in ("*", f.platform) and row.regex.match(f.file_path)
        ]

    def allowed_path(self, f: Event, app_id: str | None) -> AllowedPath | None:
        apps = ("*", f.app_id, app_id)
        for row in self.path_rows(f):
            if row.app_id in apps:
                return row
        return None

    def allowed_destination(self, r: Event, app_id: str | None) -> AllowedDestination | None:
        for row in _rows_for(self.destinations, r):
            if row.app_id == "*" or row.app_id == app_id:
                return row
        return None

    def baselined(self, r: Event, app_id: str | None) -> BaselineEntry | None:
        horizon = r.time - self.settings.time_window
        for row in _rows_for(self.baseline, r):
            if (row.app_id == "*" or row.app_id == app_id) and (
                row.first_seen is None or row.first_seen <= horizon
            ):
                return row
        return None

    def destination_apps(self, r: Event) -> tuple[bool, frozenset[str]]:
        """Which apps R's destination is allowlisted or baselined for: (every app, the apps named
        by app-specific rows). Lets a retrieval without app be judged for many files at once."""
        horizon = r.time - self.settings.time_window
        every = False
        apps: set[str] = set()
        for row in _rows_for(self.destinations, r):
            if row.app_id == "*":
                every = True
            else:
                apps.add(row.app_id)
        for entry in _rows_for(self.baseline, r):
            if entry.first_seen is not None and entry.first_seen > horizon:
                continue
            if entry.app_id == "*":
                every = True
            else:
                apps.add(entry.app_id)
        return every, frozenset(apps)

    def retrieval_suppression(self, r: Event) -> str | None:
        """What suppresses an iOS retrieval-only candidate (section 3): an allowed app, an allowed
        destination, or a baseline row old enough; None when nothing does."""
        allowed_app = self.lookups.allowed_app(r.platform, r.app_id)
        if allowed_app is not None:
            return f"mobile_ingress_allowed_apps: {allowed_app.app_id}"
        destination = self.allowed_destination(r, r.app_id)
        if destination is not None:
            return f"mobile_ingress_allowed_destinations: {destination.pattern.text}"
        if self.baselined(r, r.app_id) is not None:
            return "baseline"
        return None

    def path_blocks_every_retrieval(self, f: Event) -> bool:
        """An allowed path for every app or for F's own app covers F: no retrieval stages it
        (unless F is then loaded in-process: `DeviceWindow._query`)."""
        return any(row.app_id in ("*", f.app_id) for row in self.path_rows(f))

    def unapproved_role(self, platform: str, app_id: str | None) -> bool:
        managed = self.lookups.managed_app(platform, app_id)
        return managed is not None and managed.managed and not managed.approved
