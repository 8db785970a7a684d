"""The one entry point the command line and the search command share.

Records in (dicts, from any reader), findings out. Validation, counting, the prefilter and the
correlation all happen here, so both front ends give the same findings on the same events.

Candidates first (engine/compact.py, engine/candidates.py): a record is read compactly when it is
clean and anchors nothing, normalized in full otherwise (every skip and warning then, in input
order); the neighbourhood rule passes on only the items within reach of an anchor (and what the
duplicate and context rules need of the others), which alone are normalized and correlated.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from .analytics import ANALYTICS, Analytics
from .candidates import NeighbourhoodGate
from .compact import Compactor, Item
from .errors import InvalidEvent
from .events import Event, normalize_record
from .findings import Finding
from .lookups import Lookups
from .prefilter import Prefilter
from .rules import Rules
from .settings import Settings
from .stream import Correlator, Order

MAX_MESSAGES = 1000  # messages kept for the report; counts are always complete


@dataclass
class Report:
    """What happened to the input: the summary line and the per-record messages."""

    read: int = 0
    kept: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    warnings: int = 0
    filtered: int = 0
    messages: list[str] = field(default_factory=list)
    dropped_messages: int = 0

    def note(self, message: str) -> None:
        if len(self.messages) < MAX_MESSAGES:
            self.messages.append(message)
        else:
            self.dropped_messages += 1

    @property
    def skipped_total(self) -> int:
        return sum(self.skipped.values())


class Detector:
    """Validate, prefilter and correlate records; `results()` gives findings and tuning rows."""

    def __init__(
        self,
        settings: Settings,
        lookups: Lookups,
        order: Order = Order.ANY,
        with_suppressed: bool = False,
        use_prefilter: bool = True,
        candidates_first: bool = True,
        analytics: Analytics = ANALYTICS,
    ) -> None:
        self.rules = Rules(lookups, settings)
        self.use_prefilter = use_prefilter  # off only to prove the prefilter exact
        self.prefilter = Prefilter.build(self.rules, keep_all_retrievals=with_suppressed)
        self.correlator = Correlator(self.rules, order, with_suppressed, analytics)
        self.report = Report()
        self._results: dict[tuple[str, bool], Finding] = {}
        for warning in lookups.warnings:
            self.report.warnings += 1
            self.report.note(f"warning: {warning}")
        # Off only to prove it exact: every record is then normalized and correlated.
        self.candidates_first = candidates_first
        self.compactor = Compactor(self.rules, with_suppressed)
        self.gate = NeighbourhoodGate(self.rules, order, with_suppressed, self.add_event, self._add_hint)
        self._admit = self.gate.admitter() if candidates_first else self._add_without_gate

    def event_from(self, record: Mapping[str, object], where: str) -> Event | None:
        """The normalized event, or None (counted and reported) when it is skipped."""
        self.report.read += 1
        try:
            event, warnings = normalize_record(record, self.rules.lookups)
        except InvalidEvent as exc:
            self.report.skipped[exc.reason] += 1
            self.report.note(f"{where}: skipped: {exc.message}")
            return None
        for warning in warnings:
            self.report.warnings += 1
            self.report.note(f"{where}: warning: {warning}")
        return event

    def count_irrelevant(self, lines: int) -> None:
        """Valid events a reader proved irrelevant from the prefilter's declaration and did not parse."""
        self.report.read += lines
        self.report.filtered += lines

    def item_from(self, record: Mapping[str, object], where: str) -> Item | None:
        """The record as an item for `push` (compact when it is clean and anchors nothing), or None
        (counted and reported) when it is skipped."""
        if self.candidates_first:
            item = self.compactor.compact(record)
            if item is not None:
                self.report.read += 1
                return item
        return self.item_in_full(record, where)

    def item_in_full(self, record: Mapping[str, object], where: str) -> Item | None:
        """The record normalized in full (its skip or warnings reported now) as an item."""
        event = self.event_from(record, where)
        return None if event is None else self.item_of(event)

    def compacter(self) -> Callable[[Mapping[str, object]], Item | None] | None:
        """For a reader's own loop: the compact reading (the reader counts what it reads with it,
        `count_compact`), or None when every record is normalized in full."""
        return self.compactor.compact if self.candidates_first else None

    def count_compact(self, records: int) -> None:
        self.report.read += records

    def item_of(self, event: Event) -> Item:
        return self.gate.item_of(event)

    def push(self, item: Item) -> None:
        """An item in (in the order promised): the neighbourhood rule decides what is correlated."""
        self._admit(item)

    def pusher(self) -> Callable[[Item], None]:
        """`push` itself, for a reader's loop."""
        return self._admit

    def admit_all(self, items: Iterable[Item]) -> None:
        """`push` for many items at once (the neighbourhood rule's loop runs once for them)."""
        if self.candidates_first and self.gate.order != Order.ANY:
            self.gate.admit_all(items)
        else:
            for item in items:
                self._admit(item)

    def _add_without_gate(self, item: Item) -> None:
        event = item.event
        assert event is not None
        self.add_event(event)

    def _add_hint(self, event: Event) -> None:
        self._collect(self.correlator.add_context(event))

    def add_event(self, event: Event) -> None:
        """A normalized event to correlate: the prefilter, then the correlator (what the
        neighbourhood rule keeps; without it, every event)."""
        if self.use_prefilter and not self.prefilter.matters(event):
            self.report.filtered += 1
            if event.event_id is not None:
                self.correlator.add_dropped(event)
            return
        self.report.kept += 1
        self._collect(self.correlator.add(event))

    def add_record(self, record: Mapping[str, object], where: str) -> None:
        item = self.item_from(record, where)
        if item is not None:
            self.push(item)

    def _collect(self, findings: list[Finding]) -> None:
        for finding in findings:
            key = (finding.finding_id, finding.suppressed_by is not None)
            if key in self._results:
                self._results[key].merge(finding)
            else:
                self._results[key] = finding

    def finish(self) -> tuple[list[Finding], list[Finding]]:
        """Findings, then suppressed tuning rows, each sorted by time and id."""
        if self.candidates_first:
            self.gate.finish()
            self.report.filtered += self.gate.dropped
            self.gate.dropped = 0
        self._collect(self.correlator.finish())
        ordered = sorted(self._results.values(), key=lambda f: (f.anchor_time, f.finding_id))
        return (
            [f for f in ordered if f.suppressed_by is None],
            [f for f in ordered if f.suppressed_by is not None],
        )
