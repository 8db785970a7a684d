"""The one entry point the command line and the search command share.

Records in (dicts, from any reader), findings out. Validation, counting, the prefilter and the
correlation all happen here, so both front ends give the same findings on the same events.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

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
    ) -> None:
        self.rules = Rules(lookups, settings)
        self.use_prefilter = use_prefilter  # off only to prove the prefilter exact
        self.prefilter = Prefilter.build(self.rules, keep_all_retrievals=with_suppressed)
        self.correlator = Correlator(self.rules, order, with_suppressed)
        self.report = Report()
        self._results: dict[tuple[str, bool], Finding] = {}
        for warning in lookups.warnings:
            self.report.warnings += 1
            self.report.note(f"warning: {warning}")

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

    def add_event(self, event: Event) -> None:
        if self.use_prefilter and not self.prefilter.matters(event):
            self.report.filtered += 1
            if event.event_id is not None:
                self.correlator.add_dropped(event)
            return
        self.report.kept += 1
        self._collect(self.correlator.add(event))

    def add_record(self, record: Mapping[str, object], where: str) -> None:
        event = self.event_from(record, where)
        if event is not None:
            self.add_event(event)

    def add_records(self, records: Iterable[tuple[Mapping[str, object], str]]) -> None:
        for record, where in records:
            self.add_record(record, where)

    def _collect(self, findings: list[Finding]) -> None:
        for finding in findings:
            key = (finding.finding_id, finding.suppressed_by is not None)
            if key in self._results:
                self._results[key].merge(finding)
            else:
                self._results[key] = finding

    def finish(self) -> tuple[list[Finding], list[Finding]]:
        """Findings, then suppressed tuning rows, each sorted by time and id."""
        self._collect(self.correlator.finish())
        ordered = sorted(self._results.values(), key=lambda f: (f.anchor_time, f.finding_id))
        return (
            [f for f in ordered if f.suppressed_by is None],
            [f for f in ordered if f.suppressed_by is not None],
        )
