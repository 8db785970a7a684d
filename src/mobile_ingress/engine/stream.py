"""Correlation over a stream of events, in any order, with memory bounded on time-ordered input.

Every rule looks at most `Settings.reach` seconds from the event it anchors on (a staged file, or
an iOS retrieval), except context, which holds from the event that set it for as long as nothing
changes it. So, on time-ordered input, the correlator keeps a window of events a few reaches wide:
- ascending: anchors older than the newest time minus one reach are final; events older than the
  window are evicted, and the context they set is folded into a small per-device state;
- descending (as Splunk hands events over): anchors newer than the oldest time plus one reach are
  final, and a context not yet seen waits (as a query, not as events) for the older events that
  set it;
  either way the events held span at most `Settings.retained_span`;
- any order: every event is kept and the whole input is correlated at the end.
An event that breaks the promised order raises OrderViolation, so the caller can fall back.
"""

from __future__ import annotations

import math
from enum import Enum
from typing import Optional

from .analytics import ANALYTICS, Analytics
from .chain import MISSING, DeviceWindow, PendingFinding, RetrievalCandidate, evidence_name
from .errors import OrderViolation
from .events import APP_KEYED_FIELDS, CONTEXT_FIELDS, Event, sort_events
from .findings import CONTEXTS, MAX_EVIDENCE, STAGES, Finding, ordered
from .rules import Rules
from .settings import BLOCK_REACHES
from .work import WorkMeter

SITUATIONAL = frozenset({"background", "device_locked", "no_user_interaction"})


class Order(str, Enum):
    ASC = "asc"
    DESC = "desc"
    ANY = "any"


RunKey = tuple[str, Optional[str], tuple[str, bool], bool]


class Correlator:
    """Feed events with `add`; collect what it returns and what `finish` returns."""

    def __init__(
        self,
        rules: Rules,
        order: Order = Order.ANY,
        with_suppressed: bool = False,
        analytics: Analytics = ANALYTICS,
    ) -> None:
        self.rules = rules
        self.analytics = analytics  # which analytic each rule's findings belong to, per platform
        self.settings = rules.settings
        self.order = order
        self.with_suppressed = with_suppressed
        self.reach = self.settings.reach
        self.buffer: dict[str, list[Event]] = {}
        self.dropped: dict[str, list[Event]] = {}  # see add_dropped
        self.folded = -math.inf  # ASC: context of events below this is in `base`
        self.retained = 0
        self.max_retained = 0
        self.t_max = -math.inf
        self.t_min = math.inf
        self.frontier = -math.inf if order != Order.DESC else math.inf
        self.done = -math.inf if order != Order.DESC else math.inf  # ASC: done below; DESC: above
        self.base: dict[tuple[str, str, str | None], object] = {}
        self.pending: dict[str, list[PendingFinding]] = {}
        self.runs: dict[RunKey, list[RetrievalCandidate]] = {}
        self.finished = False
        self.meter = WorkMeter()  # the correlation's counted work (tests bound it per event)

    # Input ---------------------------------------------------------------------------------

    def add(self, event: Event) -> list[Finding]:
        t = event.time
        self._check_order(t)
        self.buffer.setdefault(event.device_id, []).append(event)
        self.retained += 1
        if self.retained > self.max_retained:
            self.max_retained = self.retained
        if t > self.t_max:
            self.t_max = t
        if t < self.t_min:
            self.t_min = t
        if self.order == Order.ASC and self.t_max - self.reach - self.done >= BLOCK_REACHES * self.reach:
            return self._batch(self.done, self.t_max - self.reach, floor=self._folded_floor())
        if self.order == Order.DESC and self.done - (self.t_min + self.reach) >= BLOCK_REACHES * self.reach:
            lo = math.nextafter(self.t_min + self.reach, math.inf)
            # A context carrier within a window above the oldest event seen may still turn out to
            # be a duplicate of an older event not yet seen: only those above that are trusted.
            return self._batch(lo, self.done, floor=self.t_min + self.settings.time_window)
        return []

    def add_dropped(self, event: Event) -> None:
        """An event the prefilter dropped that carries an event_id: it correlates with nothing, but
        a later event with its id and activity within the window is still its duplicate, so it is
        kept (as long as an event would be) for the duplicate rule alone."""
        self._check_order(event.time)
        self.dropped.setdefault(event.device_id, []).append(event)

    def add_context(self, event: Event) -> list[Finding]:
        """A hint (engine/candidates.py): a state event with the context of an event that was not
        kept, passed on because it is the last setter of its keys before a kept event of its device.
        It is no duplicate of anything (the events that could make it one are kept). Ascending it
        may be older than events already correlated: it is the newest setter of its keys on its
        device, so below the fold its context becomes the folded state, above it the event waits in
        the buffer with the others (sorted at each batch). Descending and in any order it comes in
        time like any event."""
        if self.order != Order.ASC:
            return self.add(event)
        if event.time < self.folded:
            for name in CONTEXT_FIELDS:
                value = getattr(event, name)
                if value is not None:
                    app = event.app_id if name in APP_KEYED_FIELDS else None
                    self.base[(event.device_id, name, app)] = value
            return []
        self.buffer.setdefault(event.device_id, []).append(event)
        self.retained += 1
        self.max_retained = max(self.max_retained, self.retained)
        return []

    def _check_order(self, t: float) -> None:
        if self.order == Order.ASC and t < self.frontier:
            raise OrderViolation(f"event at {t} arrived after events up to {self.frontier} were final")
        if self.order == Order.DESC and t > self.frontier:
            raise OrderViolation(f"event at {t} arrived after events down to {self.frontier} were final")

    def finish(self) -> list[Finding]:
        if self.finished:
            return []
        self.finished = True
        if self.order == Order.DESC:
            out = self._batch(-math.inf, self.done, floor=-math.inf)
        else:
            out = self._batch(self.done, math.inf, floor=self._folded_floor())
        for protos in self.pending.values():
            for proto in protos:
                for query in proto.queries:
                    if not query.resolved:
                        query.settle(None)
                finding = self._finalize(proto)
                if finding is not None:
                    out.append(finding)
        self.pending.clear()
        return out

    # One batch: anchors in [lo, hi) become final ---------------------------------------------

    def _batch(self, lo: float, hi: float, floor: float) -> list[Finding]:
        ready: list[PendingFinding] = []
        windows: dict[str, DeviceWindow] = {}
        for device, events in self.buffer.items():
            sort_events(events)
            window = windows[device] = DeviceWindow(
                events, self.rules, self.dropped.get(device, ()), self.meter, analytics=self.analytics
            )
            for _, proto in window.chains(lo, hi, self.with_suppressed):
                self._resolve(proto, window, device, floor)
                ready.append(proto)
            for candidate in window.retrieval_candidates(lo, hi, self.with_suppressed):
                self._resolve(candidate.proto, window, device, floor)
                self.runs.setdefault(candidate.key, []).append(candidate)
            waiting = self.pending.pop(device, [])
            for proto in waiting:
                self._resolve(proto, window, device, floor)
            ready.extend(waiting)
        # Candidates wait in runs across batches: their context, like a parked finding's, is
        # settled by older events as they arrive (descending input).
        for candidates in self.runs.values():
            for candidate in candidates:
                if candidate.proto.pending and candidate.retrieval.device_id in windows:
                    device = candidate.retrieval.device_id
                    self._resolve(candidate.proto, windows[device], device, floor)
        ready.extend(self._close_runs(lo, hi))
        out: list[Finding] = []
        for proto in ready:
            if proto.pending:
                device = proto.finding.device_id
                self.pending.setdefault(device, []).append(proto)
                continue
            finding = self._finalize(proto)
            if finding is not None:
                out.append(finding)
        self._evict(lo, hi, windows)
        if self.order == Order.DESC:
            self.done, self.frontier = lo, self.t_min
        else:
            self.done, self.frontier = hi, self.t_max
        return out

    def _resolve(self, proto: PendingFinding, window: DeviceWindow, device: str, floor: float) -> None:
        for query in proto.queries:
            if query.resolved:
                continue
            value = window.resolve(query, floor)
            if value is not MISSING:
                query.settle(value)
            elif self.order != Order.DESC:
                app = query.app_id if query.field in APP_KEYED_FIELDS else None
                query.settle(self.base.get((device, query.field, app)))

    def _folded_floor(self) -> float:
        """Context carriers below the fold are read from `base`, not from the window (ASC)."""
        return math.nextafter(self.folded, -math.inf)

    def _evict(self, lo: float, hi: float, windows: dict[str, DeviceWindow]) -> None:
        """Drop events no rule can reach any more. Ascending, the context set by the live (not
        duplicate) ones among them is folded into `base`, and a window of them stays as the
        history the duplicate rule needs for the events after them."""
        if self.order == Order.ANY:
            return
        cut = hi - self.reach if self.order == Order.ASC else lo + self.reach
        margin = cut - self.settings.time_window
        for device in list(self.buffer):
            events = self.buffer[device]
            if self.order == Order.ASC:
                live = {id(e) for e in windows[device].live} if device in windows else set()
                for e in events:  # already sorted by position: the latest value wins
                    if self.folded <= e.time < cut and id(e) in live:
                        for name in CONTEXT_FIELDS:
                            value = getattr(e, name)
                            if value is not None:
                                app = e.app_id if name in APP_KEYED_FIELDS else None
                                self.base[(device, name, app)] = value
                keep = [e for e in events if e.time >= margin]
            else:
                keep = [e for e in events if e.time < cut]
            self.retained -= len(events) - len(keep)
            if keep:
                self.buffer[device] = keep
            else:
                del self.buffer[device]
        for device in list(self.dropped):
            if self.order == Order.ASC:
                kept = [e for e in self.dropped[device] if e.time >= margin]
            else:
                kept = [e for e in self.dropped[device] if e.time < cut]
            if kept:
                self.dropped[device] = kept
            else:
                del self.dropped[device]
        if self.order == Order.ASC:
            self.folded = cut

    # iOS retrieval-only grouping -------------------------------------------------------------

    def _close_runs(self, lo: float, hi: float) -> list[PendingFinding]:
        """Group candidates whose run (candidates less than a window apart) can no longer grow."""
        window = self.settings.time_window
        out: list[PendingFinding] = []
        for key in list(self.runs):
            candidates = sorted(self.runs[key], key=lambda c: c.retrieval.position)
            runs: list[list[RetrievalCandidate]] = []
            for candidate in candidates:
                if runs and candidate.time - runs[-1][-1].time <= window:
                    runs[-1].append(candidate)
                else:
                    runs.append([candidate])
            keep: list[RetrievalCandidate] = []
            for run in runs:
                closed = (
                    self.finished
                    or (self.order != Order.DESC and hi > run[-1].time + window)
                    or (self.order == Order.DESC and lo <= run[0].time - window)
                )
                if closed:
                    out.extend(_group(run, window))
                else:
                    keep.extend(run)
            if keep:
                self.runs[key] = keep
            else:
                del self.runs[key]
        return out

    # Output --------------------------------------------------------------------------------

    def _finalize(self, proto: PendingFinding) -> Finding | None:
        finding = proto.finding
        flags = proto.context_flags()
        finding.context = ordered(list(set(finding.context) | flags), CONTEXTS)
        if self.settings.foreground_state_required and not flags & SITUATIONAL:
            if not self.with_suppressed:
                return None
            if finding.suppressed_by is None:
                finding.suppressed_by = "foreground_state_required"
        if finding.suppressed_by is not None and not self.with_suppressed:
            return None
        return finding


def _group(run: list[RetrievalCandidate], window: float) -> list[PendingFinding]:
    """Section 3: the first qualifying retrieval starts a finding; the run's later retrievals
    within the window of it join as repeat_retrieval; the next group starts after that."""
    out: list[PendingFinding] = []
    index = 0
    while index < len(run):
        first = run[index]
        if not first.qualifies:
            index += 1
            continue
        joiners = []
        index += 1
        while index < len(run) and run[index].time <= first.time + window:
            joiners.append(run[index])
            index += 1
        finding = first.proto.finding
        if joiners:
            finding.stages = ordered([*finding.stages, "repeat_retrieval"], STAGES)
            named = [first.retrieval] + [j.retrieval for j in joiners[: MAX_EVIDENCE - 1]]
            finding.evidence = [evidence_name(r) for r in named]
            finding.evidence_cut = len(joiners) > MAX_EVIDENCE - 1
            finding.last_time = max(j.time for j in joiners)
        out.append(first.proto)
    return out
