"""The chain rules of contract section 3, evaluated over one device's events in a time window.

`DeviceWindow` is built from a device's events sorted by position (time, canonical JSON). It
drops duplicates, indexes what the rules look up, and turns each staged file into a `PendingFinding`: a
finding whose context may still wait on events not yet seen (see `stream`).
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from functools import cached_property
from typing import Optional

from .analytics import ANALYTICS, Analytics, Platform, Rule
from .events import APP_KEYED_FIELDS, CONTEXT_FIELDS, IN_PROCESS_LOADS, Event, sort_events
from .findings import MAX_EVIDENCE, STAGES, Confidence, Finding, ordered
from .paths import DOWNLOADS_PROVIDER
from .rules import Rules
from .work import WorkMeter

APP_KEYED = frozenset(APP_KEYED_FIELDS)
MISSING = object()


def evidence_name(event: Event) -> str:
    return event.event_id if event.event_id is not None else f"t={event.time:.3f}".rstrip("0").rstrip(".")


def _event_id_key(event: Event) -> tuple[int, str]:
    return (0, event.event_id) if event.event_id is not None else (1, "")


@dataclass
class ContextQuery:
    """The value of one context field in force at `event` for a device (and app)."""

    event: Event
    field: str
    app_id: str | None
    value: object = MISSING
    resolved: bool = False

    def settle(self, value: object) -> None:
        self.value = value
        self.resolved = True


Group = tuple[Optional[str], tuple[str, bool]]  # (app or none, destination key): "the same destination"
RepeatSpan = tuple[Group, float, float]


@dataclass
class PendingFinding:
    """A finding (or a suppressed tuning row) waiting for its context queries."""

    finding: Finding
    queries: list[ContextQuery] = field(default_factory=list)
    retrieval: Event | None = None  # R
    repeat_spans: list[RepeatSpan] = field(default_factory=list)  # where its repeats are: (group, from, to)

    @property
    def pending(self) -> bool:
        return any(not q.resolved for q in self.queries)

    def context_flags(self) -> set[str]:
        flags = set()
        for q in self.queries:
            if q.field == "app_state" and q.value == "background":
                flags.add("background")
            elif q.field == "device_locked" and q.value is True:
                flags.add("device_locked")
            elif q.field == "recent_user_interaction" and q.value is False:
                flags.add("no_user_interaction")
        return flags


@dataclass
class RetrievalCandidate:
    """An iOS retrieval that may be, or join, a retrieval-only finding."""

    proto: PendingFinding
    retrieval: Event
    key: tuple[str, str | None, tuple[str, bool], bool]  # device, app, destination key, suppressed
    qualifies: bool  # known bytes at or above the threshold

    @property
    def time(self) -> float:
        return self.retrieval.time


def queries_for(events: Sequence[Event], app_id: str | None) -> list[ContextQuery]:
    return [
        ContextQuery(event, name, app_id if name in APP_KEYED else None)
        for event in events
        for name in CONTEXT_FIELDS
    ]


def _kinds(event: Event) -> tuple[str, ...]:
    """What a follow-on stage counts as: its activity, and a load its method too."""
    if event.activity == "load" and event.load_method:
        return ("load", "load:" + event.load_method)
    return (event.activity,)


class Timeline:
    """Events in time order with their times, for range queries, and running counts of their
    kinds, so that what a range holds (a load, an in-process load) is known without walking it."""

    __slots__ = ("counts", "events", "times")

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.times: list[float] = []
        self.counts: dict[str, list[int]] = {}

    def add(self, event: Event) -> None:
        size = len(self.events)  # each count list holds size + 1 running totals
        self.events.append(event)
        self.times.append(event.time)
        kinds = _kinds(event)
        for kind in kinds:
            if kind not in self.counts:
                self.counts[kind] = [0] * (size + 1)
        for kind, counts in self.counts.items():
            counts.append(counts[-1] + (1 if kind in kinds else 0))

    def span(self, start: float, end: float, meter: WorkMeter) -> tuple[int, int]:
        """The index range of the events with start <= time <= end."""
        meter.search(len(self.times))
        return bisect_left(self.times, start), bisect_right(self.times, end)

    def kinds_in(self, lo: int, hi: int) -> set[str]:
        return {kind for kind, counts in self.counts.items() if counts[hi] > counts[lo]}

    def between(self, start: float, end: float, meter: WorkMeter, limit: int | None = None) -> list[Event]:
        """The events with start <= time <= end (the first `limit` of them)."""
        lo, hi = self.span(start, end, meter)
        if limit is not None:
            hi = min(hi, lo + limit)
        meter.add(hi - lo)
        return self.events[lo:hi]


EMPTY = Timeline()
# At most this many retrievals within a file's reach are looked at one by one (bounded work per
# file); a file with more finds its retrieval through the lanes' filtered views instead.
DIRECT_CANDIDATES = 32


@dataclass(frozen=True)
class _Query:
    """What a staged file asks of the retrievals, once the suppressions that depend on the file
    alone are settled. `key_for` is the part a lane's filtered view depends on, so files that ask
    the same share one view."""

    size_passes: bool  # a retrieval with no known bytes passes (F's size is unknown or enough)
    any_suppression: bool  # the tuning pool: suppressions are reported, not applied
    in_process: bool  # F is then loaded in-process: no allowed app or path covers it
    file_app: str | None  # the app a retrieval without app is judged for ("*": no row names F's app)
    path_apps: frozenset[str]  # apps whose own allowed-path rows match F's path (not "*", not F's)
    same_blocked: bool  # F's own app or a path row for it or for every app suppresses F
    cross_blocked: bool  # a path row for every app or for F's app suppresses F

    def key_for(self, same_app: bool) -> tuple[object, ...]:
        if self.any_suppression:
            return (self.size_passes,)
        if same_app:  # retrievals of F's app or of none: judged for F's app
            return (self.size_passes, self.in_process, self.file_app)
        return (self.size_passes, self.in_process, self.path_apps)  # judged for their own app


class _Lane:
    """Retrievals that may correlate with a staged file in one way (same app, no app, any app, by
    name, ...), sorted by (time, event_id, position): the first of a time is the one the ties
    prefer. `views` caches the lane filtered by what a file asks (see `DeviceWindow._view`)."""

    __slots__ = ("events", "views")

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.views: dict[tuple[object, ...], tuple[list[float], list[Event]]] = {}


class DeviceWindow:
    """One device's events in a time window, indexed so that every rule question costs a few
    binary searches: the work per event is bounded whatever the device sends (`meter` counts it;
    a lane's filtered view is built once per distinct question, see `_Query`)."""

    def __init__(
        self,
        events: Sequence[Event],
        rules: Rules,
        dropped: Sequence[Event] = (),
        meter: WorkMeter | None = None,
        analytics: Analytics = ANALYTICS,
    ) -> None:
        self.rules = rules
        self.analytics = analytics  # which analytic a finding of each rule and platform belongs to
        self.meter = meter if meter is not None else WorkMeter()
        self.window = rules.settings.time_window
        self.skew = rules.settings.clock_skew
        self.live = self._dedupe(events, dropped)
        self.meter.add(len(events) + len(dropped))
        self.retrievals = [e for e in self.live if e.activity == "retrieval"]
        self.retrieval_times = [e.time for e in self.retrievals]
        self.stages = [e for e in self.live if e.activity in ("unpack", "load", "handoff")]
        self._totals: dict[int, float | None] = {}
        self._under: dict[str, Timeline] | None = None  # loads and handoffs by each folder above them
        # The indexes below are built on first use: most windows hold no staged file to evaluate.
        self.files: list[tuple[Event, str]] = []
        for e in self.live:
            if e.activity == "file_create":
                risk = rules.risk_class(e)
                if risk is not None:
                    self.files.append((e, risk))
        self.file_times = [f.time for f, _ in self.files]
        # Context carriers by field (and app, for the app-keyed fields), in position order.
        self.context: dict[tuple[str, str | None], tuple[list[float], list[Event]]] = {}
        for e in self.live:
            for name in CONTEXT_FIELDS:
                if getattr(e, name) is not None:
                    times, carriers = self.context.setdefault(
                        (name, e.app_id if name in APP_KEYED else None), ([], [])
                    )
                    times.append(e.time)
                    carriers.append(e)
        self._evaluated: dict[tuple[int, bool], PendingFinding | None] = {}
        self._dest_apps: dict[int, tuple[bool, frozenset[str]]] = {}

    @cached_property
    def rank(self) -> dict[int, int]:
        """Each live event's place in position order."""
        self.meter.add(len(self.live))
        return {id(e): i for i, e in enumerate(self.live)}

    @cached_property
    def by_app_dest(self) -> dict[Group, Timeline]:
        """ "The same destination" (byte sums, repeats): by app (or none) and destination key."""
        groups: dict[Group, Timeline] = {}
        for r in self.retrievals:
            assert r.dest_key is not None
            groups.setdefault((r.app_id, r.dest_key), Timeline()).add(r)
        self.meter.add(len(self.retrievals))
        return groups

    @cached_property
    def lanes(self) -> dict[tuple[object, ...], _Lane]:
        lanes: dict[tuple[object, ...], _Lane] = {}
        for r in self.retrievals:
            for key in _lane_keys(r):
                lanes.setdefault(key, _Lane()).events.append(r)
        for lane in lanes.values():
            lane.events.sort(key=self._tie_key)
            self.meter.search(len(lane.events))
        return lanes

    @cached_property
    def stage_index(self) -> tuple[dict[str, Timeline], ...]:
        """Follow-on stages by path and by hash, and the unpacks with a target among them."""
        by_path: dict[str, Timeline] = {}
        by_hash: dict[str, Timeline] = {}
        unpacks_by_path: dict[str, Timeline] = {}
        unpacks_by_hash: dict[str, Timeline] = {}
        for s in self.stages:
            unpacks = s.activity == "unpack" and s.target_path is not None
            if s.file_path is not None:
                by_path.setdefault(s.file_path, Timeline()).add(s)
                if unpacks:
                    unpacks_by_path.setdefault(s.file_path, Timeline()).add(s)
            if s.file_hash is not None:
                by_hash.setdefault(s.file_hash, Timeline()).add(s)
                if unpacks:
                    unpacks_by_hash.setdefault(s.file_hash, Timeline()).add(s)
        self.meter.add(len(self.stages))
        return by_path, by_hash, unpacks_by_path, unpacks_by_hash

    @cached_property
    def files_by(self) -> dict[tuple[object, ...], tuple[list[int], list[Event]]]:
        """Staged-file candidates by path (any hash) and by path and hash, in position order."""
        index: dict[tuple[object, ...], tuple[list[int], list[Event]]] = {}
        for f, _ in self.files:
            for key in (("path", f.file_path), ("hash", f.file_path, f.file_hash)):
                ranks, same = index.setdefault(key, ([], []))
                ranks.append(self.rank[id(f)])
                same.append(f)
        self.meter.add(len(self.files))
        return index

    def total(self, r: Event) -> float | None:
        """R's byte sum (section 3), computed for its whole group on first use."""
        if id(r) not in self._totals:
            assert r.dest_key is not None
            self._sum_bytes(self.by_app_dest[(r.app_id, r.dest_key)])
        return self._totals[id(r)]

    def _tie_key(self, r: Event) -> tuple[float, tuple[int, str], int]:
        """Section 3's order among retrievals: time, event_id (missing last), then canonical JSON
        (which at equal times is the position order, so the rank stands in for it)."""
        return (r.time, _event_id_key(r), self.rank[id(r)])

    def _sum_bytes(self, group: Timeline) -> None:
        """Each retrieval's byte sum (section 3): the known bytes_in of its group within the window
        up to it, from prefix sums (exact: ints, or fractions for a count that is not whole)."""
        times = group.times
        prefix: list[int | Fraction] = [0]
        known = [0]
        for e in group.events:
            value = e.bytes_in
            if value is None:
                prefix.append(prefix[-1])
                known.append(known[-1])
            else:
                prefix.append(prefix[-1] + (int(value) if float(value).is_integer() else Fraction(value)))
                known.append(known[-1] + 1)
        for e in group.events:
            lo = bisect_left(times, e.time - self.window)
            hi = bisect_right(times, e.time)
            self.meter.search(len(times))
            self._totals[id(e)] = None if known[hi] == known[lo] else float(prefix[hi] - prefix[lo])

    def _dedupe(self, events: Sequence[Event], dropped: Sequence[Event] = ()) -> list[Event]:
        """Section 1 duplicates: same event_id and activity, or identical content, within the
        window after another: the earliest (by position) counts.

        `dropped` are events the prefilter left out that carry an event_id: they still make a later
        event with their id and activity a duplicate. (Never one with their content: the prefilter
        decides from content, so an event with a dropped event's content is dropped too.)"""
        sequence: Sequence[Event] = events
        tombstones: set[int] = set()
        if dropped:
            keys = {(e.event_id, e.activity) for e in events if e.event_id is not None}
            shared = [d for d in dropped if (d.event_id, d.activity) in keys]
            if shared:
                tombstones = {id(d) for d in shared}
                merged = [*events, *shared]
                sort_events(merged)
                sequence = merged
        last_by_id: dict[tuple[str, str], float] = {}
        last_by_content: dict[tuple[object, ...], float] = {}
        live = []
        for e in sequence:
            duplicate = False
            if e.event_id is not None:
                key = (e.event_id, e.activity)
                seen = last_by_id.get(key)
                duplicate = seen is not None and e.time - seen <= self.window
                last_by_id[key] = e.time
                if tombstones and id(e) in tombstones:
                    continue
            content = e.content
            seen = last_by_content.get(content)
            if seen is not None and e.time - seen <= self.window:
                duplicate = True
            last_by_content[content] = e.time
            if not duplicate:
                live.append(e)
        return live

    # Context ---------------------------------------------------------------------------

    def resolve(self, query: ContextQuery, floor: float) -> object:
        """The value in force at the query's event from this window's events above `floor`
        (exclusive), or MISSING when none of them sets it."""
        own = getattr(query.event, query.field)
        if own is not None:
            return own
        key = (query.field, query.app_id if query.field in APP_KEYED else None)
        times, carriers = self.context.get(key, ([], []))
        at = query.event.time
        self.meter.search(len(times))
        index = bisect_left(times, at)
        top = bisect_right(times, at)
        if top > index:  # carriers at the same time come first when their canonical JSON sorts first
            mine = query.event.canonical
            while index < top:
                mid = (index + top) // 2
                self.meter.add()
                if carriers[mid].canonical < mine:
                    index = mid + 1
                else:
                    top = mid
        if index == 0:
            return MISSING
        carrier = carriers[index - 1]
        return MISSING if carrier.time <= floor else getattr(carrier, query.field)

    # Chains ----------------------------------------------------------------------------

    def byte_sum(self, r: Event) -> float | None:
        """Known bytes_in over retrievals of the same device, app and destination within the
        window up to R; None when none is known."""
        return self.total(r)

    def _follow_on(self, f: Event) -> _Gathered:
        """F's follow-on stages (section 3): by its path or hash within [F, F + window], and the
        loads and handoffs under the target of an unpack among them (at or after the unpack)."""
        assert f.file_path is not None
        end = f.time + self.window
        out = _Gathered()
        by_path, by_hash, unpacks_by_path, unpacks_by_hash = self.stage_index
        direct = [by_path.get(f.file_path, EMPTY)]
        unpacks = [unpacks_by_path.get(f.file_path, EMPTY)]
        if f.file_hash is not None:
            direct.append(by_hash.get(f.file_hash, EMPTY))
            unpacks.append(unpacks_by_hash.get(f.file_hash, EMPTY))
        for timeline in direct:
            out.take(timeline, *timeline.span(f.time, end, self.meter))
        earliest: dict[str, float] = {}  # each target once, from its earliest unpack (the widest range)
        for timeline in unpacks:
            for unpack in timeline.between(f.time, end, self.meter):
                assert unpack.target_path is not None
                target = unpack.target_path.rstrip("/")
                earliest[target] = min(unpack.time, earliest.get(target, unpack.time))
        # One range per distinct target: the one cost that grows with what a file has (its unpacks
        # to distinct folders), not with the window (docs/detections.md).
        for target, start in earliest.items():
            under = self._loads_under(target)
            out.take(under, *under.span(start, end, self.meter))
        return out

    def _loads_under(self, folder: str) -> Timeline:
        """Loads and handoffs whose path is the folder or under it, in time order."""
        if self._under is None:
            under: dict[str, Timeline] = {}
            for s in self.stages:
                if s.activity not in ("load", "handoff") or s.file_path is None:
                    continue
                path = s.file_path
                under.setdefault(path, Timeline()).add(s)
                cut = path.rfind("/")
                while cut >= 0:  # every folder above it, the root as ""
                    self.meter.add()
                    under.setdefault(path[:cut], Timeline()).add(s)
                    cut = path.rfind("/", 0, cut)
            self._under = under
        return self._under.get(folder.rstrip("/"), EMPTY)

    def _duplicate_file(self, f: Event) -> bool:
        """A staged-file candidate with the same path and hash (or an unknown one) within the
        window before F adds no finding."""
        keys: list[tuple[object, ...]] = (
            [("path", f.file_path)]
            if f.file_hash is None
            else [("hash", f.file_path, f.file_hash), ("hash", f.file_path, None)]
        )
        mine = self.rank[id(f)]
        for key in keys:
            ranks, group = self.files_by.get(key, ([], []))
            self.meter.search(len(ranks))
            index = bisect_left(ranks, mine)  # the latest candidate before F by position
            if index > 0 and f.time - group[index - 1].time <= self.window:
                return True
        return False

    def _suppression(self, r: Event, f: Event, app_id: str | None, loaded_in_process: bool) -> str | None:
        """The first suppression that holds (section 3). An allowed app or an allowed path never
        covers a file that is then loaded in-process, so then the destination row or the baseline
        that still holds is named."""
        rules = self.rules
        if not loaded_in_process:
            allowed_app = rules.lookups.allowed_app(f.platform, app_id)
            if allowed_app is not None:
                return f"mobile_ingress_allowed_apps: {allowed_app.app_id}"
            path = rules.allowed_path(f, app_id)
            if path is not None:
                return f"mobile_ingress_allowed_paths: {path.pattern}"
        destination = rules.allowed_destination(r, app_id)
        if destination is not None:
            return f"mobile_ingress_allowed_destinations: {destination.pattern.text}"
        if rules.baselined(r, app_id) is not None:
            return "baseline"
        return None

    def evaluate_file(self, f: Event, risk: str, with_suppressed: bool) -> PendingFinding | None:
        """The finding F makes (or, with `with_suppressed`, its suppressed tuning row)."""
        memo_key = (id(f), with_suppressed)
        if memo_key not in self._evaluated:
            self._evaluated[memo_key] = self._evaluate_file(f, risk, with_suppressed)
        return self._evaluated[memo_key]

    def _evaluate_file(self, f: Event, risk: str, with_suppressed: bool) -> PendingFinding | None:
        self.meter.add()
        if self._duplicate_file(f):
            return None
        follow_on = self._follow_on(f)
        load_methods = sorted(kind[len("load:") :] for kind in follow_on.kinds if kind.startswith("load:"))
        in_process = any(m in IN_PROCESS_LOADS for m in load_methods)
        size_passes = f.file_size is None or f.file_size >= self.rules.settings.ingress_bytes_threshold
        # A qualifying retrieval always wins; a tuning row is written only when none qualifies.
        chosen = self._choose(f, self._query(f, in_process, size_passes))
        reason = None
        if chosen is None and with_suppressed:
            tuning = _Query(size_passes, True, in_process, None, frozenset(), False, False)
            chosen = self._choose(f, tuning)
            if chosen is not None:
                app_id = chosen.app_id if chosen.app_id is not None else f.app_id
                reason = self._suppression(chosen, f, app_id, in_process)
        if chosen is None:
            return None
        return self._proto(f, risk, chosen, follow_on, load_methods, reason)

    def _query(self, f: Event, in_process: bool, size_passes: bool) -> _Query:
        """What F asks of the retrievals, with the suppressions that depend on F alone settled."""
        rules = self.rules
        same_blocked = cross_blocked = False
        path_apps: frozenset[str] = frozenset()
        if not in_process:
            self.meter.add(len(rules.lookups.allowed_paths))
            rows = rules.path_rows(f)
            cross_blocked = any(
                row.app_id in ("*", f.app_id) for row in rows
            )  # rules.path_blocks_every_retrieval
            path_apps = frozenset(row.app_id for row in rows if row.app_id not in ("*", f.app_id))
            same_blocked = cross_blocked or rules.lookups.allowed_app(f.platform, f.app_id) is not None
        file_app = f.app_id if f.app_id in rules.apps_with_own_destination_rows else "*"
        return _Query(size_passes, False, in_process, file_app, path_apps, same_blocked, cross_blocked)

    def _destination_apps(self, r: Event) -> tuple[bool, frozenset[str]]:
        cached = self._dest_apps.get(id(r))
        if cached is None:
            self.meter.add()
            cached = self._dest_apps[id(r)] = self.rules.destination_apps(r)
        return cached

    def _qualifies(self, r: Event, query: _Query) -> bool:
        """R passes the byte threshold for the file and (outside the tuning pool) no suppression
        that depends on R holds."""
        total = self.total(r)
        if total is None:
            if not query.size_passes:
                return False
        elif total < self.rules.settings.ingress_bytes_threshold:
            return False
        if query.any_suppression:
            return True
        app_id = r.app_id if r.app_id is not None else query.file_app
        every, apps = self._destination_apps(r)
        if every or app_id in apps:
            return False
        if r.app_id is not None and not query.in_process:
            allowed = self.rules.lookups.allowed_app(r.platform, r.app_id)
            if allowed is not None or r.app_id in query.path_apps:
                return False
        return True

    def _view(self, lane: _Lane, query: _Query, same_app: bool) -> tuple[list[float], list[Event]]:
        """The lane's retrievals that qualify for the query, built once per distinct question."""
        key = query.key_for(same_app)
        view = lane.views.get(key)
        if view is None:
            kept = [r for r in lane.events if self._qualifies(r, query)]
            self.meter.add(len(lane.events))
            view = lane.views[key] = ([r.time for r in kept], kept)
        return view

    def _choose(self, f: Event, query: _Query) -> Event | None:
        """Section 3: the first rank that has a qualifying retrieval; within it the latest at or
        before F, else the earliest after; ties by event_id, then canonical JSON. A few candidates
        are looked at one by one; many through the lanes' filtered views."""
        lo = bisect_left(self.retrieval_times, f.time - self.window)
        hi = bisect_right(self.retrieval_times, f.time + self.skew)
        self.meter.search(len(self.retrieval_times))
        if hi - lo <= DIRECT_CANDIDATES:
            return self._choose_among(f, query, self.retrievals[lo:hi])
        return self._choose_by_lanes(f, query)

    def _choose_among(self, f: Event, query: _Query, retrievals: Sequence[Event]) -> Event | None:
        best: tuple[int, bool, tuple[float, tuple[int, str], int]] | None = None
        chosen = None
        self.meter.add(len(retrievals))
        for r in retrievals:
            relation = _relation(r, f)
            if relation is None:
                continue
            rank, same_app = relation
            if not query.any_suppression and (query.same_blocked if same_app else query.cross_blocked):
                continue
            if not self._qualifies(r, query):
                continue
            after = r.time > f.time
            key = (rank, after, self._tie_key(r) if after else _latest_key(self, r))
            if best is None or key < best:
                best, chosen = key, r
        return chosen

    def _choose_by_lanes(self, f: Event, query: _Query) -> Event | None:
        for lanes in _ranked_lanes(f):
            before: Event | None = None
            after: Event | None = None
            for lane_key, same_app in lanes:
                lane = self.lanes.get(lane_key)
                if lane is None:
                    continue
                if not query.any_suppression and (query.same_blocked if same_app else query.cross_blocked):
                    continue
                times, events = self._view(lane, query, same_app)
                self.meter.search(len(times))
                index = bisect_right(times, f.time)  # the first after F
                if index > 0 and times[index - 1] >= f.time - self.window:
                    candidate = events[bisect_left(times, times[index - 1], 0, index)]
                    if before is None or _latest_key(self, candidate) < _latest_key(self, before):
                        before = candidate
                if index < len(times) and times[index] <= f.time + self.skew:
                    candidate = events[index]
                    if after is None or self._tie_key(candidate) < self._tie_key(after):
                        after = candidate
            if before is not None or after is not None:
                return before if before is not None else after
        return None

    def _proto(
        self, f: Event, risk: str, r: Event, follow_on: _Gathered, load_methods: list[str], reason: str | None
    ) -> PendingFinding:
        app_id = r.app_id if r.app_id is not None else f.app_id
        assert r.dest_key is not None
        start, end = f.time - self.skew, f.time + self.window
        gathered = _Gathered()
        spans: list[RepeatSpan] = []
        for app in dict.fromkeys((app_id, None)):  # repeats: by the app, or by no app
            group = self.by_app_dest.get((app, r.dest_key), EMPTY)
            spans.append(((app, r.dest_key), start, end))
            lo, hi = group.span(start, end, self.meter)
            if lo < hi and group.events[lo] is r:
                lo += 1
            if lo < hi and group.events[hi - 1] is r:
                hi -= 1
            gathered.take(group, lo, hi, skip=r)
        stages = ["retrieval", "staging"] + [k for k in ("unpack", "load", "handoff") if k in follow_on.kinds]
        if gathered.events:
            stages.append("repeat_retrieval")
        gathered.merge(follow_on)
        unique = {id(e): e for e in (r, f, *gathered.events)}
        members = sorted(unique.values(), key=lambda e: self.rank[id(e)])
        names_file = f.file_name is not None and f.file_name in (r.url_name, r.file_name)
        same_app = r.app_id is not None and r.app_id == f.app_id
        context = ["unapproved_role"] if self.rules.unapproved_role(f.platform, app_id) else []
        evidence = _evidence(members, (r, f))
        finding = Finding(
            analytic=self.analytics.chain(f.platform),
            platform=f.platform,
            device_id=f.device_id,
            user=r.user or f.user,
            app_id=app_id,
            dest=r.dest or "",
            dest_ip=r.dest_ip,
            url=r.url,
            bytes_in=self.total(r),
            file_path=f.file_path,
            file_name=f.file_name,
            file_hash=f.file_hash,
            file_type=f.file_type,
            risk_class=risk,
            stages=ordered(stages, STAGES),
            context=context,
            first_time=min(r.time, f.time, gathered.first_time),
            last_time=max(r.time, f.time, gathered.last_time),
            delta_seconds=f.time - r.time,
            confidence=Confidence.HIGH if names_file or same_app else Confidence.MEDIUM,
            evidence=evidence,
            anchor_time=f.time,
            load_methods=load_methods,
            suppressed_by=reason,
            evidence_cut=gathered.cut or len(evidence) < len(members),
        )
        return PendingFinding(finding, queries_for((r, f), app_id), r, spans)

    def chains(self, lo: float, hi: float, with_suppressed: bool) -> list[tuple[Event, PendingFinding]]:
        out = []
        start = bisect_left(self.file_times, lo)
        stop = bisect_left(self.file_times, hi)
        for f, risk in self.files[start:stop]:
            proto = self.evaluate_file(f, risk, with_suppressed)
            if proto is not None:
                out.append((f, proto))
        return out

    # iOS retrieval-only --------------------------------------------------------------------

    def retrieval_candidates(self, lo: float, hi: float, with_suppressed: bool) -> list[RetrievalCandidate]:
        """iOS retrievals in [lo, hi) by a managed app with no approved role that are in no
        chain and pass the allowlists and baseline (or, with `with_suppressed`, fail only those).
        None of them when no analytic of the registry runs the rule."""
        analytic = self.analytics.running(Rule.IOS_RETRIEVAL_ONLY, Platform.IOS)
        if analytic is None:
            return []
        margin = self.window + self.skew
        used = _UsedRetrievals()
        for f, proto in self.chains(lo - margin, hi + margin, with_suppressed=False):
            if f.platform == Platform.IOS.value:
                used.add(proto)
        threshold = self.rules.settings.ingress_bytes_threshold
        out = []
        start = bisect_left(self.retrieval_times, lo)
        stop = bisect_left(self.retrieval_times, hi)
        for r in self.retrievals[start:stop]:
            self.meter.add()
            if r.platform != Platform.IOS.value or r.app_id is None or used.holds(r):
                continue
            if not self.rules.unapproved_role(r.platform, r.app_id):
                continue
            reason = self.rules.retrieval_suppression(r)
            if reason is not None and not with_suppressed:
                continue
            total = self.byte_sum(r)
            finding = Finding(
                analytic=analytic,
                platform=r.platform,
                device_id=r.device_id,
                user=r.user,
                app_id=r.app_id,
                dest=r.dest or "",
                dest_ip=r.dest_ip,
                url=r.url,
                bytes_in=total,
                file_path=None,
                file_name=None,
                file_hash=None,
                file_type=None,
                risk_class=None,
                stages=["retrieval"],
                context=["unapproved_role"],
                first_time=r.time,
                last_time=r.time,
                delta_seconds=None,
                confidence=Confidence.LOW,
                evidence=[evidence_name(r)],
                anchor_time=r.time,
                suppressed_by=reason,
            )
            assert r.dest_key is not None
            out.append(
                RetrievalCandidate(
                    PendingFinding(finding, queries_for((r,), r.app_id)),
                    r,
                    (r.device_id, r.app_id, r.dest_key, reason is not None),
                    total is not None and total >= threshold,
                )
            )
        return out


def _relation(r: Event, f: Event) -> tuple[int, bool] | None:
    """The rank at which R may stage F (section 3, as `_ranked_lanes` sorts the lanes) and whether
    R is judged for F's app (R of F's app or of none) rather than for its own; None when the app
    rule lets R and F not correlate."""
    if r.platform != f.platform:
        return None
    if r.app_id is not None and r.app_id == f.app_id:
        rank, same_app = 2, True
    elif r.app_id is None:
        rank, same_app = 3, True
    elif (f.app_id is None and f.shared) or (
        r.retrieval_method == "download_manager" and (f.app_id == DOWNLOADS_PROVIDER or f.shared)
    ):
        rank, same_app = 4, False
    else:
        return None
    if f.file_name and f.file_name in (r.url_name, r.file_name):
        rank = 1
    return rank, same_app


def _latest_key(window: DeviceWindow, r: Event) -> tuple[float, tuple[int, str], int]:
    """Orders retrievals at or before F: the latest first, then section 3's ties."""
    time, event_id, rank = window._tie_key(r)
    return (-time, event_id, rank)


def _lane_keys(r: Event) -> list[tuple[object, ...]]:
    """The lanes R is in: (platform, name, kind...): by its app (or none), any app, DownloadManager
    with an app; with no name and under each name R gives the downloaded file (its URL's last
    segment, or its own file_name, e.g. Zeek's Content-Disposition name)."""
    kinds: list[tuple[object, ...]]
    if r.app_id is None:
        kinds = [("none",)]
    else:
        kinds = [("app", r.app_id), ("anyapp",)]
        if r.retrieval_method == "download_manager":
            kinds.append(("dmapp",))
    names = sorted({n for n in (r.url_name, r.file_name) if n is not None})
    return [(r.platform, name, *kind) for name in (None, *names) for kind in kinds]


def _ranked_lanes(f: Event) -> list[list[tuple[tuple[object, ...], bool]]]:
    """For each rank of section 3 (1: a retrieval that names the file; 2: same app; 3: no app;
    4: any other the app rule lets in), the lanes holding its retrievals, each with whether its
    retrievals are judged for F's app (same app or none) rather than their own."""
    p, app = f.platform, f.app_id
    same: list[tuple[tuple[object, ...], bool]] = [((p, None, "app", app), True)] if app is not None else []
    none: list[tuple[tuple[object, ...], bool]] = [((p, None, "none"), True)]
    other: list[tuple[tuple[object, ...], bool]] = []
    if app is None and f.shared:
        other = [((p, None, "anyapp"), False)]
    elif app == DOWNLOADS_PROVIDER or f.shared:
        other = [((p, None, "dmapp"), False)]
    named = [((p, f.file_name, *key[2:]), judged) for key, judged in same + none + other]
    if not f.file_name:
        named = []
    return [named, same, none, other]


def _evidence(members: list[Event], keep: tuple[Event, ...]) -> list[str]:
    """The evidence names of a finding's events, in position order: all of them, or R, F and the
    earliest others up to MAX_EVIDENCE."""
    if len(members) > MAX_EVIDENCE:
        kept = {id(e) for e in keep}
        others = [e for e in members if id(e) not in kept][: MAX_EVIDENCE - len(kept)]
        chosen = kept | {id(e) for e in others}
        members = [e for e in members if id(e) in chosen]
    return [evidence_name(e) for e in members]


class _Gathered:
    """Events of a finding gathered from timelines: what kinds the ranges hold (all of them, from
    the running counts), and the first MAX_EVIDENCE events of each range (`cut` when a range held
    more)."""

    def __init__(self) -> None:
        self.kinds: set[str] = set()
        self.events: list[Event] = []
        self.first_time = math.inf
        self.last_time = -math.inf
        self.cut = False

    def take(self, timeline: Timeline, lo: int, hi: int, skip: Event | None = None) -> None:
        if hi <= lo:
            return
        self.kinds |= timeline.kinds_in(lo, hi)
        self.first_time = min(self.first_time, timeline.times[lo])
        self.last_time = max(self.last_time, timeline.times[hi - 1])
        top = min(hi, lo + MAX_EVIDENCE + 1)
        self.events.extend(e for e in timeline.events[lo:top] if e is not skip)
        self.cut = self.cut or hi - lo > MAX_EVIDENCE + 1

    def merge(self, other: _Gathered) -> None:
        self.kinds |= other.kinds
        self.events.extend(other.events)
        self.first_time = min(self.first_time, other.first_time)
        self.last_time = max(self.last_time, other.last_time)
        self.cut = self.cut or other.cut


class _UsedRetrievals:
    """The iOS retrievals that are some chain's R or repeat ("in no chain", section 3), answered
    by interval: a chain's repeats are every retrieval of a group within a span."""

    def __init__(self) -> None:
        self.retrievals: set[int] = set()
        self.spans: dict[Group, list[tuple[float, float]]] = {}
        self._index: dict[Group, tuple[list[float], list[float]]] = {}

    def add(self, proto: PendingFinding) -> None:
        if proto.retrieval is not None:
            self.retrievals.add(id(proto.retrieval))
        for group, start, end in proto.repeat_spans:
            self.spans.setdefault(group, []).append((start, end))
        self._index.clear()

    def holds(self, r: Event) -> bool:
        if id(r) in self.retrievals:
            return True
        assert r.dest_key is not None
        group = (r.app_id, r.dest_key)
        if group not in self.spans:
            return False
        if group not in self._index:
            spans = sorted(self.spans[group])
            reach: list[float] = []
            for _, end in spans:
                reach.append(max(end, reach[-1]) if reach else end)
            self._index[group] = ([start for start, _ in spans], reach)
        starts, reach = self._index[group]
        index = bisect_right(starts, r.time) - 1
        return index >= 0 and reach[index] >= r.time
