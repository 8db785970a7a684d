"""The chain rules of contract section 3, evaluated over one device's events in a time window.

`DeviceWindow` is built from a device's events sorted by position (time, canonical JSON). It
drops duplicates, indexes what the rules look up, and turns each staged file into a `Proto`: a
finding whose context may still wait on events not yet seen (see `stream`).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field

from .events import CONTEXT_FIELDS, IN_PROCESS_LOADS, Event, sort_events
from .findings import ANALYTIC_BY_PLATFORM, STAGES, Confidence, Finding, ordered
from .paths import is_under
from .rules import Rules, app_relation

APP_KEYED = frozenset({"app_state", "recent_user_interaction"})
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


@dataclass
class Proto:
    """A finding (or a suppressed tuning row) waiting for its context queries."""

    finding: Finding
    queries: list[ContextQuery] = field(default_factory=list)
    retrievals: list[Event] = field(default_factory=list)  # R and its repeats

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

    proto: Proto
    retrieval: Event
    key: tuple[str, str | None, str, bool]  # device, app, dest, suppressed
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


class DeviceWindow:
    def __init__(self, events: Sequence[Event], rules: Rules, dropped: Sequence[Event] = ()) -> None:
        self.rules = rules
        self.window = rules.settings.time_window
        self.skew = rules.settings.clock_skew
        self.live = self._dedupe(events, dropped)
        self.retrievals = [e for e in self.live if e.activity == "retrieval"]
        self.retrieval_times = [e.time for e in self.retrievals]
        self.by_app_dest: dict[tuple[str | None, str], list[Event]] = {}
        for r in self.retrievals:
            assert r.dest is not None
            self.by_app_dest.setdefault((r.app_id, r.dest), []).append(r)
        self.stages = [e for e in self.live if e.activity in ("unpack", "load", "handoff")]
        self.stage_times = [e.time for e in self.stages]
        self.files: list[tuple[Event, str]] = []
        for e in self.live:
            if e.activity == "file_create":
                risk = rules.risk_class(e)
                if risk is not None:
                    self.files.append((e, risk))
        self.file_times = [f.time for f, _ in self.files]
        self.context: dict[str, tuple[list[float], list[Event]]] = {}
        for name in CONTEXT_FIELDS:
            carriers = [e for e in self.live if getattr(e, name) is not None]
            self.context[name] = ([e.time for e in carriers], carriers)

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
        times, carriers = self.context[query.field]
        at = query.event.time
        lo = bisect_left(times, at)
        hi = bisect_right(times, at)
        index = lo
        if hi > lo:  # carriers at the same time come first when their canonical JSON sorts first
            mine = query.event.canonical
            while index < hi and carriers[index].canonical < mine:
                index += 1
        index -= 1
        while index >= 0:
            carrier = carriers[index]
            if carrier.time <= floor:
                return MISSING
            if query.field not in APP_KEYED or carrier.app_id == query.app_id:
                return getattr(carrier, query.field)
            index -= 1
        return MISSING

    # Chains ----------------------------------------------------------------------------

    def byte_sum(self, r: Event) -> float | None:
        """Known bytes_in over retrievals of the same device, app and destination within the
        window up to R; None when none is known."""
        assert r.dest is not None
        total: float | None = None
        for other in self.by_app_dest.get((r.app_id, r.dest), ()):
            if r.time - self.window <= other.time <= r.time and other.bytes_in is not None:
                total = (total or 0.0) + other.bytes_in
        return total

    def _stages_of(self, f: Event) -> list[Event]:
        end = f.time + self.window
        lo = bisect_left(self.stage_times, f.time)
        hi = bisect_right(self.stage_times, end)
        direct = [
            s
            for s in self.stages[lo:hi]
            if s.file_path == f.file_path or (f.file_hash is not None and s.file_hash == f.file_hash)
        ]
        found = list(direct)
        for unpack in direct:
            if unpack.activity != "unpack" or unpack.target_path is None:
                continue
            start = bisect_left(self.stage_times, unpack.time)
            for s in self.stages[start:hi]:
                if (
                    s.activity in ("load", "handoff")
                    and s not in found
                    and s.file_path is not None
                    and is_under(s.file_path, unpack.target_path)
                ):
                    found.append(s)
        return found

    def _duplicate_file(self, f: Event) -> bool:
        """A staged-file candidate with the same path and hash (or an unknown one) within the
        window before F adds no finding."""
        lo = bisect_left(self.file_times, f.time - self.window)
        for other, _ in self.files[lo:]:
            if other is f or other.time > f.time or (other.time == f.time and other.canonical >= f.canonical):
                break
            if other.file_path == f.file_path and (
                other.file_hash is None or f.file_hash is None or other.file_hash == f.file_hash
            ):
                return True
        return False

    def _suppression(self, r: Event, f: Event, app_id: str | None, loaded_in_process: bool) -> str | None:
        rules = self.rules
        allowed_app = rules.lookups.allowed_app(f.platform, app_id)
        if allowed_app is not None and not loaded_in_process:
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

    def evaluate_file(self, f: Event, risk: str, with_suppressed: bool) -> Proto | None:
        """The finding F makes (or, with `with_suppressed`, its suppressed tuning row)."""
        if self._duplicate_file(f):
            return None
        stage_events = self._stages_of(f)
        load_methods = sorted({s.load_method for s in stage_events if s.activity == "load" and s.load_method})
        in_process = any(m in IN_PROCESS_LOADS for m in load_methods)
        threshold = self.rules.settings.ingress_bytes_threshold
        lo = bisect_left(self.retrieval_times, f.time - self.window)
        hi = bisect_right(self.retrieval_times, f.time + self.skew)
        candidates: list[_Candidate] = []
        for r in self.retrievals[lo:hi]:
            if r.platform != f.platform:
                continue
            rank = app_relation(r, f)
            if rank is None:
                continue
            if r.url_name is not None and r.url_name == f.file_name:
                rank = 1
            total = self.byte_sum(r)
            measure = total if total is not None else f.file_size
            if measure is not None and measure < threshold:
                continue
            app_id = r.app_id if r.app_id is not None else f.app_id
            reason = self._suppression(r, f, app_id, in_process)
            if reason is None or with_suppressed:
                candidates.append(_Candidate(rank, r, total, reason))
        # A qualifying retrieval always wins; a tuning row is written only when none qualifies.
        pool = [c for c in candidates if c.reason is None] or candidates
        if not pool:
            return None
        chosen = _choose(f, pool)
        return self._proto(f, risk, chosen.retrieval, chosen.total, stage_events, load_methods, chosen.reason)

    def _proto(
        self,
        f: Event,
        risk: str,
        r: Event,
        total: float | None,
        stage_events: list[Event],
        load_methods: list[str],
        reason: str | None,
    ) -> Proto:
        app_id = r.app_id if r.app_id is not None else f.app_id
        repeats = self.repeats(r, app_id, f.time - self.skew, f.time + self.window)
        stages = ["retrieval", "staging"] + [s.activity for s in stage_events]
        if repeats:
            stages.append("repeat_retrieval")
        members = sorted([r, f, *stage_events, *repeats], key=lambda e: e.position)
        names_file = r.url_name is not None and r.url_name == f.file_name
        same_app = r.app_id is not None and r.app_id == f.app_id
        context = ["unapproved_role"] if self.rules.unapproved_role(f.platform, app_id) else []
        finding = Finding(
            analytic_id=ANALYTIC_BY_PLATFORM[f.platform],
            platform=f.platform,
            device_id=f.device_id,
            user=r.user or f.user,
            app_id=app_id,
            dest=r.dest or "",
            dest_ip=r.dest_ip,
            url=r.url,
            bytes_in=total,
            file_path=f.file_path,
            file_name=f.file_name,
            file_hash=f.file_hash,
            file_type=f.file_type,
            risk_class=risk,
            stages=ordered(stages, STAGES),
            context=context,
            first_time=members[0].time,
            last_time=max(e.time for e in members),
            delta_seconds=f.time - r.time,
            confidence=Confidence.HIGH if names_file or same_app else Confidence.MEDIUM,
            evidence=[evidence_name(e) for e in members],
            anchor_time=f.time,
            load_methods=load_methods,
            suppressed_by=reason,
        )
        return Proto(finding, queries_for((r, f), app_id), [r, *repeats])

    def repeats(self, r: Event, app_id: str | None, start: float, end: float) -> list[Event]:
        """Other retrievals by the device from R's destination, by the app or by no app."""
        lo = bisect_left(self.retrieval_times, start)
        hi = bisect_right(self.retrieval_times, end)
        return [
            x
            for x in self.retrievals[lo:hi]
            if x is not r and x.dest == r.dest and (x.app_id is None or x.app_id == app_id)
        ]

    def chains(self, lo: float, hi: float, with_suppressed: bool) -> list[tuple[Event, Proto]]:
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
        chain and pass the allowlists and baseline (or, with `with_suppressed`, fail only those)."""
        margin = self.window + self.skew
        used: set[int] = set()
        for f, proto in self.chains(lo - margin, hi + margin, with_suppressed=False):
            if f.platform == "ios":
                used.update(id(e) for e in proto.retrievals)
        threshold = self.rules.settings.ingress_bytes_threshold
        out = []
        start = bisect_left(self.retrieval_times, lo)
        stop = bisect_left(self.retrieval_times, hi)
        for r in self.retrievals[start:stop]:
            if r.platform != "ios" or r.app_id is None or id(r) in used:
                continue
            if not self.rules.unapproved_role(r.platform, r.app_id):
                continue
            reason = self._retrieval_suppression(r)
            if reason is not None and not with_suppressed:
                continue
            total = self.byte_sum(r)
            finding = Finding(
                analytic_id="AN1849",
                platform="ios",
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
            assert r.dest is not None
            out.append(
                RetrievalCandidate(
                    Proto(finding, queries_for((r,), r.app_id)),
                    r,
                    (r.device_id, r.app_id, r.dest, reason is not None),
                    total is not None and total >= threshold,
                )
            )
        return out

    def _retrieval_suppression(self, r: Event) -> str | None:
        allowed_app = self.rules.lookups.allowed_app(r.platform, r.app_id)
        if allowed_app is not None:
            return f"mobile_ingress_allowed_apps: {allowed_app.app_id}"
        destination = self.rules.allowed_destination(r, r.app_id)
        if destination is not None:
            return f"mobile_ingress_allowed_destinations: {destination.pattern.text}"
        if self.rules.baselined(r, r.app_id) is not None:
            return "baseline"
        return None


@dataclass
class _Candidate:
    rank: int
    retrieval: Event
    total: float | None
    reason: str | None  # the suppression that stops it, if any


def _choose(f: Event, candidates: list[_Candidate]) -> _Candidate:
    """Section 3: the first rank that has one; within it the latest R at or before F, else the
    earliest after; ties by event_id, then canonical JSON."""
    best_rank = min(c.rank for c in candidates)
    in_rank = [c for c in candidates if c.rank == best_rank]
    before = [c for c in in_rank if c.retrieval.time <= f.time]
    if before:
        return min(
            before, key=lambda c: (-c.retrieval.time, _event_id_key(c.retrieval), c.retrieval.canonical)
        )
    return min(in_rank, key=lambda c: (c.retrieval.time, _event_id_key(c.retrieval), c.retrieval.canonical))
