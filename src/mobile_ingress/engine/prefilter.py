"""The prefilter: one declarative, per-event predicate that says whether an event can matter.

It is exact: the engine applies it itself before correlating, so applying it (or any looser form
of it) earlier never changes the findings. One rule reaches past it: a dropped event still makes a
later event with its `event_id` and activity a duplicate, so the engine keeps the dropped events
that carry an id for that rule alone (`Correlator.add_dropped`). A reader that leaves events out
must keep every event whose id repeats (the fast reader does); the SPL base search cannot know, so
in Splunk such a later event counts (docs/splunk.md). An event can matter when
- its activity is `state`, `unpack`, `load` or `handoff` (context and follow-on stages), or
- it carries a context field (`app_state`, `device_locked`, `recent_user_interaction`), or
- it is a `file_create` that matches a risk pattern of its platform, or
- it is a `retrieval`, unless its own `dest` is allowlisted for its app (a `*` row when it has
  no app) or baselined with an empty `first_seen`: then every retrieval it could join (as the
  chain's retrieval, a repeat, or a byte sum) has the same destination and app, and is suppressed
  too. A retrieval whose host name is not corroborated (`dest_corroborated` false) is matched by
  its address alone, which others of its destination need not share: only a `*` row drops it.
  With `--suppressed` every retrieval is kept, because suppressed chains are written.

A reader that sees the whole input at once (the command line's fast reader) may also apply the
neighbourhood rule (`neighbourhood()`): every rule looks at most `Settings.neighbourhood_reach`
seconds (two windows and two skews) from an anchor (a staged file that may be risky, an iOS
retrieval that may be a finding on its own); so on a device an event farther than that from every
anchor can matter only through the context it sets, and of those only the last setter of each
context key before the next anchor's neighbourhood. (`Settings.reach` is the correlator's wider
batching bound, no filter.) A risky file that
an allowed path suppresses for any retrieval (a row for every app or for its own app) anchors
nothing, unless suppressed chains are written or the device loads something in-process within a
window after it (an allowed path never covers a file loaded in-process).

The declaration is typed data (`Declaration`, `Neighbourhood`), rendered three times: here as
Python (`matters`), as SPL for the indexers (package/bin/mobile_ingress_splunk/prefilter_spl.py)
and as SQL for the fast reader (cli/fastread.py). tests/engine/test_prefilter_renderings.py holds
the three against each other on the same records.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from .events import APP_KEYED_FIELDS, CONTEXT_FIELDS, Activity, Event
from .lookups import RiskPattern
from .rules import Rules

ALWAYS_KEPT: frozenset[str] = frozenset(
    {Activity.STATE.value, Activity.UNPACK.value, Activity.LOAD.value, Activity.HANDOFF.value}
)
# Destination kinds a vectorized rendering can match exactly (a CIDR row needs address arithmetic).
PLAIN_DESTINATION_KINDS = ("host", "suffix", "ip", "any")


class _FieldsAsMapping(Mapping[str, Any]):
    """Read-only access by field name, for readers that take a declaration as data (JSON dumps,
    tests): `declaration["context_fields"]` is `declaration.context_fields`."""

    __slots__ = ()

    def __getitem__(self, key: str) -> Any:
        if key not in self._names():
            raise KeyError(key)
        return getattr(self, key)

    def __iter__(self) -> Iterator[str]:
        return iter(self._names())

    def __len__(self) -> int:
        return len(self._names())

    def _names(self) -> tuple[str, ...]:
        return tuple(f.name for f in fields(self))  # type: ignore[arg-type]


@dataclass(frozen=True)
class DroppedDestination(_FieldsAsMapping):
    """A destination whose retrievals (of the app, or of any app for `*`) the prefilter drops."""

    destination: str
    app_id: str


@dataclass(frozen=True)
class Declaration(_FieldsAsMapping):
    """The per-event predicate as data: what the SPL rendering (package/bin/mobile_ingress_splunk/
    prefilter_spl.py) and the SQL rendering (cli/fastread.py) are made from."""

    always_kept_activities: tuple[str, ...]  # sorted
    context_fields: tuple[str, ...]
    # platform (or `*`) -> field -> the risk patterns' globs, in lookup order
    file_create_risk_patterns: Mapping[str, Mapping[str, tuple[str, ...]]]
    retrieval_dropped_destinations: tuple[DroppedDestination, ...]


@dataclass(frozen=True)
class PlatformApp(_FieldsAsMapping):
    platform: str  # `*`: every platform
    app_id: str  # `*`: every app


@dataclass(frozen=True)
class SuppressingDestination(_FieldsAsMapping):
    """An allowed destination (`first_seen` None) or a baseline row (suppressing once it is older
    than a window), of a kind in PLAIN_DESTINATION_KINDS."""

    kind: str
    host: str
    app_id: str
    first_seen: float | None


@dataclass(frozen=True)
class AllowedPath(_FieldsAsMapping):
    platform: str
    app_id: str
    path_pattern: str


@dataclass(frozen=True)
class Neighbourhood(_FieldsAsMapping):
    """The neighbourhood rule as data (see the module docstring): what the SQL rendering reads."""

    reach_seconds: float  # Settings.neighbourhood_reach
    context_fields: tuple[str, ...]
    app_keyed_context_fields: tuple[str, ...]
    time_window: float
    anchor_retrieval_apps: tuple[PlatformApp, ...]  # managed, not approved, on iOS (or `*`)
    # A retrieval these suppress is no retrieval-only candidate (unless suppressed rows are
    # written): an allowed app, an allowed destination, a baseline row once it is old enough.
    suppressing_allowed_apps: tuple[PlatformApp, ...]
    suppressing_destinations: tuple[SuppressingDestination, ...]
    suppressing_allowed_paths: tuple[AllowedPath, ...]


@dataclass(frozen=True)
class Prefilter:
    """The declaration. `describe()` is what the SPL and vectorized renderings are made from."""

    rules: Rules
    keep_all_retrievals: bool = False
    always_kept: frozenset[str] = ALWAYS_KEPT
    context_fields: tuple[str, ...] = CONTEXT_FIELDS
    risk_patterns: tuple[RiskPattern, ...] = field(default=())

    @classmethod
    def build(cls, rules: Rules, keep_all_retrievals: bool = False) -> Prefilter:
        return cls(rules, keep_all_retrievals, risk_patterns=tuple(rules.lookups.risk_patterns))

    def matters(self, event: Event) -> bool:
        if event.activity in self.always_kept or event.carries_context():
            return True
        if event.activity == "file_create":
            return self.rules.risk_class(event) is not None
        if event.activity == "retrieval":
            return self.keep_all_retrievals or not self._always_suppressed(event)
        return True

    def _always_suppressed(self, r: Event) -> bool:
        assert r.dest is not None
        if not r.name_corroborated:
            # Its group ("the same destination": the same name, uncorroborated) may hold
            # retrievals to other addresses: only a row that covers every retrieval drops it.
            return any(
                row.app_id == "*" or (r.app_id is not None and row.app_id == r.app_id)
                for row in self.rules.destinations.catch_all
            )
        for row in self.rules.destinations.find(r.dest):
            if row.app_id == "*" or (r.app_id is not None and row.app_id == r.app_id):
                return True
        for entry in self.rules.baseline.find(r.dest):
            if entry.first_seen is None and (
                entry.app_id == "*" or (r.app_id is not None and entry.app_id == r.app_id)
            ):
                return True
        return False

    def neighbourhood(self) -> Neighbourhood:
        """The neighbourhood rule as data (see the module docstring)."""
        settings = self.rules.settings
        lookups = self.rules.lookups
        apps: tuple[PlatformApp, ...] = ()
        destinations: tuple[SuppressingDestination, ...] = ()
        paths: tuple[AllowedPath, ...] = ()
        if not self.keep_all_retrievals:  # suppressed chains are written: nothing suppresses
            apps = tuple(PlatformApp(row.platform, row.app_id) for row in lookups.allowed_apps)
            destinations = tuple(
                SuppressingDestination(row.pattern.kind, row.pattern.host, row.app_id, None)
                for row in lookups.allowed_destinations
                if row.pattern.kind in PLAIN_DESTINATION_KINDS
            ) + tuple(
                SuppressingDestination(entry.pattern.kind, entry.pattern.host, entry.app_id, entry.first_seen)
                for entry in lookups.baseline
                if entry.pattern.kind in PLAIN_DESTINATION_KINDS
            )
            paths = tuple(AllowedPath(row.platform, row.app_id, row.pattern) for row in lookups.allowed_paths)
        return Neighbourhood(
            reach_seconds=settings.neighbourhood_reach,
            context_fields=self.context_fields,
            app_keyed_context_fields=APP_KEYED_FIELDS,
            time_window=settings.time_window,
            anchor_retrieval_apps=tuple(
                PlatformApp(m.platform, m.app_id)
                for m in lookups.managed_apps.values()
                if m.managed and not m.approved and m.platform in ("*", "ios")
            ),
            suppressing_allowed_apps=apps,
            suppressing_destinations=destinations,
            suppressing_allowed_paths=paths,
        )

    def describe(self) -> Declaration:
        """The predicate as data: activities always kept, context fields, risk patterns by
        platform and field, and the destinations whose retrievals are dropped."""
        patterns: dict[str, dict[str, list[str]]] = {}
        for row in self.risk_patterns:
            patterns.setdefault(row.platform, {}).setdefault(row.field, []).append(row.pattern)
        lookups = self.rules.lookups
        dropped: tuple[DroppedDestination, ...] = ()
        if not self.keep_all_retrievals:
            dropped = tuple(
                DroppedDestination(row.pattern.text, row.app_id) for row in lookups.allowed_destinations
            ) + tuple(
                DroppedDestination(entry.pattern.text, entry.app_id)
                for entry in lookups.baseline
                if entry.first_seen is None
            )
        return Declaration(
            always_kept_activities=tuple(sorted(self.always_kept)),
            context_fields=self.context_fields,
            file_create_risk_patterns={
                platform: {name: tuple(globs) for name, globs in by_field.items()}
                for platform, by_field in patterns.items()
            },
            retrieval_dropped_destinations=dropped,
        )
