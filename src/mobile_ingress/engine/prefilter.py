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
neighbourhood rule (`neighbourhood()`): every rule looks at most `Settings.reach` seconds from an
anchor (a staged file that may be risky, an iOS retrieval that may be a finding on its own); so on
a device an event farther than that from every anchor
can matter only through the context it sets, and of those only the last setter of each context
key before the next anchor's neighbourhood. (The reach is two windows and two skews: see
`neighbourhood()`; `Settings.reach` is the correlator's wider batching bound.) A risky file that
an allowed path suppresses for any retrieval (a row for every app or for its own app) anchors
nothing, unless suppressed chains are written or the device loads something in-process within a
window after it (an allowed path never covers a file loaded in-process).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .events import CONTEXT_FIELDS, Event
from .lookups import RiskPattern
from .rules import Rules

ALWAYS_KEPT: frozenset[str] = frozenset({"state", "unpack", "load", "handoff"})


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

    def neighbourhood(self) -> dict[str, object]:
        """The neighbourhood rule as data (see the module docstring)."""
        settings = self.rules.settings
        window, skew = settings.time_window, settings.clock_skew
        # From a staged file F, the rules look at retrievals in [F - window, F + skew], at their
        # byte sums a window before each (so from F - 2 windows), and at repeats, stages and earlier
        # copies of F within a window after or before it; from an iOS retrieval, at its byte sum.
        # Duplicates by event id are never left out, and identical content shares a time, so the
        # duplicate rules need no margin. One second of slack against rounding.
        reach = 2 * window + 2 * skew + 1.0
        return {
            "reach_seconds": reach,
            "context_fields": list(self.context_fields),
            "app_keyed_context_fields": ["app_state", "recent_user_interaction"],
            "time_window": settings.time_window,
            "anchor_retrieval_apps": [
                {"platform": m.platform, "app_id": m.app_id}
                for m in self.rules.lookups.managed_apps.values()
                if m.managed and not m.approved and m.platform in ("*", "ios")
            ],
            # A retrieval these suppress is no retrieval-only candidate (unless suppressed rows are
            # written): an allowed app, an allowed destination, a baseline row once it is old enough.
            "suppressing_allowed_apps": []
            if self.keep_all_retrievals
            else [
                {"platform": row.platform, "app_id": row.app_id} for row in self.rules.lookups.allowed_apps
            ],
            "suppressing_destinations": []
            if self.keep_all_retrievals
            else [
                {"kind": row.pattern.kind, "host": row.pattern.host, "app_id": row.app_id, "first_seen": None}
                for row in self.rules.lookups.allowed_destinations
                if row.pattern.kind in ("host", "suffix", "ip", "any")
            ]
            + [
                {
                    "kind": entry.pattern.kind,
                    "host": entry.pattern.host,
                    "app_id": entry.app_id,
                    "first_seen": entry.first_seen,
                }
                for entry in self.rules.lookups.baseline
                if entry.pattern.kind in ("host", "suffix", "ip", "any")
            ],
            "suppressing_allowed_paths": []
            if self.keep_all_retrievals
            else [
                {"platform": row.platform, "app_id": row.app_id, "path_pattern": row.pattern}
                for row in self.rules.lookups.allowed_paths
            ],
        }

    def describe(self) -> dict[str, object]:
        """The predicate as data: activities always kept, context fields, risk patterns by
        platform and field, and the destinations whose retrievals are dropped."""
        patterns: dict[str, dict[str, list[str]]] = {}
        for row in self.risk_patterns:
            patterns.setdefault(row.platform, {}).setdefault(row.field, []).append(row.pattern)
        return {
            "always_kept_activities": sorted(self.always_kept),
            "context_fields": list(self.context_fields),
            "file_create_risk_patterns": patterns,
            "retrieval_dropped_destinations": []
            if self.keep_all_retrievals
            else [
                {"destination": row.pattern.text, "app_id": row.app_id}
                for row in self.rules.lookups.allowed_destinations
            ]
            + [
                {"destination": entry.pattern.text, "app_id": entry.app_id}
                for entry in self.rules.lookups.baseline
                if entry.first_seen is None
            ],
        }
