"""`ingresscorrelate`: the mobile Ingress Tool Transfer correlation (T1544, DET0718) as a search command.

    index=mobile ... | ingresscorrelate time_window=300 suppressed=false

An eventing command (search command protocol v2, `chunked = true`, type `events`): Splunk runs it on
the search head over every event of the search and replaces the events with one row per finding
(contract section 4, lists as multivalue fields, plus `src` and `dvc` set to the device). With
`suppressed=true` it adds the tuning rows, each with `suppressed_by`.

Options mirror the scalar mutable elements: `time_window`, `ingress_bytes_threshold`,
`foreground_state_required`, `clock_skew` (validated by the engine, so messages match the command
line), plus `suppressed` (default false), `order` (`desc`, the default and Splunk's own order:
newest first, bounded memory; `asc`; `any`: everything held until the end) and `warmup_days` (the
warm-up gate, mobile_ingress_splunk/warmup.py; 0, the default, turns it off). Splunk sends only the
fields of the normalized event (`required_fields`). Each finding row carries `_time` (the staged
file's time, or the retrieval's for a retrieval-only finding), so a notable is stamped with it.

Lookups, for each one the first non-empty of: the KV store collection `mobile_ingress_<name>` (read
through splunkd, see mobile_ingress_splunk/kvstore.py), `lookups/mobile_ingress_<name>_local.csv`,
then the shipped `lookups/mobile_ingress_<name>.csv` (app folder = the parent of bin/).

Failing loudly: when the lookups cannot be read (the KV store unreachable, a lookup unreadable) or
the protocol stream ends before its last chunk, the search fails closed with an error (no findings
rather than findings from part of the data or the wrong lookups), and an ERROR line goes to the
command's log (`ta_mobile_ingress_ingresscorrelate.log`, indexed into `_internal`), which the Data
health dashboard shows. A lookup row or header the engine sets aside is a search warning.

The detection itself is the engine's (`bin/mobile_ingress`): this file only adapts the protocol.
"""

from __future__ import annotations

import gc
import os
import sys
import time
from collections.abc import Iterable, Iterator

APP_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_LIB = os.path.join(APP_DIR, "lib")
if os.path.isdir(_LIB) and _LIB not in sys.path:
    sys.path.insert(0, _LIB)

from mobile_ingress_splunk import warmup  # noqa: E402
from mobile_ingress_splunk.command_support import (  # noqa: E402
    Invalid,
    command_logger,
    format_option,
    kvstore_of,
    lookup_sources,
    parse_option,
    search_latest_time,
)
from mobile_ingress_splunk.protocol import ExactStream, cause_of  # noqa: E402
from splunklib.searchcommands import (  # noqa: E402
    Configuration,
    EventingCommand,
    Option,
    dispatch,
    validators,
)

from mobile_ingress.engine.detector import Detector  # noqa: E402
from mobile_ingress.engine.errors import EngineError, OrderViolation  # noqa: E402
from mobile_ingress.engine.events import EVENT_FIELDS  # noqa: E402
from mobile_ingress.engine.findings import Finding  # noqa: E402
from mobile_ingress.engine.lookups import Lookups  # noqa: E402
from mobile_ingress.engine.settings import SETTING_NAMES, Settings  # noqa: E402
from mobile_ingress.engine.stream import Order  # noqa: E402
from mobile_ingress.engine.timeparse import round_ms  # noqa: E402

FIRST_MESSAGES = 5  # skipped records quoted in the warning; the counts are always complete
LOOKUP_WARNINGS = 10  # lookup rows and headers set aside, each a search warning; the rest counted
MAX_LOGGED_IDS = 200  # finding ids per log line of the warm-up gate


class EngineValue(validators.Validator):
    """Converts an option with the engine's parser (typed value, or `Invalid` with its message)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __call__(self, value: object) -> object:
        return parse_option(self.name, value)

    def format(self, value: object) -> str:
        return format_option(value)


# Splunk sends only these fields (selected fields mode): the normalized event of contract section 1.
@Configuration(required_fields=list(EVENT_FIELDS))
class IngressCorrelateCommand(EventingCommand):
    """Correlates retrievals, staged files and follow-on stages into T1544 findings.

    ##Syntax
    ingresscorrelate [time_window=<seconds>] [ingress_bytes_threshold=<bytes>]
        [foreground_state_required=<bool>] [clock_skew=<seconds>] [suppressed=<bool>]
        [order=desc|asc|any] [warmup_days=<days>]

    ##Description
    Replaces the events with one row per finding, `_time` = the staged file's time (a retrieval-only
    finding: the retrieval's). Events newest first (Splunk's order) keep memory bounded; after a
    command that gives no documented order (eventstats) pass order=any. warmup_days holds the
    findings back, with a warning, until the destination baseline has that many days of history.
    """

    time_window = Option(doc="Seconds from a retrieval to the file it stages (default 300)",
                         require=False, validate=EngineValue("time_window"))
    ingress_bytes_threshold = Option(doc="Minimum inbound bytes (default 8192)",
                                     require=False, validate=EngineValue("ingress_bytes_threshold"))
    foreground_state_required = Option(doc="Require the app in the foreground (default false)",
                                       require=False, validate=EngineValue("foreground_state_required"))
    clock_skew = Option(doc="Seconds a staged file may precede its retrieval (default 10)",
                        require=False, validate=EngineValue("clock_skew"))
    suppressed = Option(doc="Also emit tuning rows with suppressed_by (default false)",
                        require=False, default=False, validate=EngineValue("suppressed"))
    order = Option(doc="Time order of the events: desc (default), asc or any",
                   require=False, default="desc", validate=validators.Set("desc", "asc", "any"))
    warmup_days = Option(doc="Days of baseline history before findings are raised (default 0: off)",
                         require=False, default=0.0, validate=EngineValue("warmup_days"))

    app_dir = APP_DIR  # where lookups/ is read; tests point it at a temporary app folder

    def prepare(self) -> None:
        values: dict[str, object] = {}
        errors = []
        for name in (*SETTING_NAMES, "suppressed", "warmup_days"):
            value = getattr(self, name)
            if isinstance(value, Invalid):
                errors.append(f"ingresscorrelate: invalid option {name}={value.raw}: {value.message}")
            elif value is not None and name in SETTING_NAMES:
                values[name] = value
        if not errors:
            try:
                settings = Settings().with_values(values)
            except EngineError as exc:
                errors.append(f"ingresscorrelate: {exc}")
        if not errors:
            try:
                lookups = Lookups.load(lookup_sources(self.app_dir, kvstore_of(self, self.app_dir)))
            except EngineError as exc:  # the KV store unreachable, a lookup unreadable: fail closed
                self._fail(f"ingresscorrelate: {exc}. The search failed closed: no findings were made")
        if errors:
            for error in errors:
                self.write_error("{}", error)
            sys.exit(1)
        self._lookup_warnings(lookups.warnings)
        self._with_suppressed = bool(self.suppressed)
        self._detector = Detector(settings, lookups, Order(self.order or "desc"), self._with_suppressed)
        self._gate = warmup.gate_state(
            (entry.first_seen for entry in lookups.baseline),
            float(self.warmup_days or 0),
            search_latest_time(self) or time.time(),
        )
        self._count = 0

    def _fail(self, message: str, executing: bool = False) -> None:
        """An error for the search, an ERROR line where Data health looks, and exit 1. While
        executing, the last chunk already went out: the error goes in a final one."""
        self.write_error("{}", message)
        command_logger("ingresscorrelate").error("%s", message)
        if executing:
            self._record_writer.write_chunk(finished=True)
        sys.exit(1)

    def _lookup_warnings(self, warnings: list[str]) -> None:
        for warning in warnings[:LOOKUP_WARNINGS]:
            self.write_warning("{}", f"ingresscorrelate: lookup: {warning}")
        if len(warnings) > LOOKUP_WARNINGS:
            self.write_warning(
                "{}", f"ingresscorrelate: lookup: and {len(warnings) - LOOKUP_WARNINGS} more rows set aside"
            )
        if warnings:
            command_logger("ingresscorrelate").warning(
                "lookups: %d rows or headers set aside. First: %s", len(warnings), "; ".join(warnings[:3])
            )

    def _execute_v2(self, ifile: object, process: object) -> None:
        """splunklib's chunk loop, over a stream that refuses a short chunk, then a check that the
        last chunk said `finished` (mobile_ingress_splunk/protocol.py)."""
        try:
            super()._execute_v2(ExactStream(self._as_binary_stream(ifile)), process)
        except RuntimeError as exc:  # splunklib's wrapping of a failed read or header
            self._fail(
                f"ingresscorrelate: the search's event stream broke ({cause_of(exc)}); the events were "
                "not all read, so no findings were written",
                executing=True,
            )
        if not self._finished:
            self._fail(
                "ingresscorrelate: the search's event stream ended before its last chunk (no finished "
                "flag); the events were not all read, so no findings were written",
                executing=True,
            )

    def transform(self, records: Iterable[dict[str, object]]) -> Iterator[dict[str, object]]:
        detector = self._detector
        try:
            for record in records:
                self._count += 1
                detector.add_record(record, f"record {self._count}")
        except OrderViolation as exc:
            self.write_error(
                "{}",
                f"ingresscorrelate: events are out of time order ({exc}). Keep the search's time "
                "order (no sort before this command: newest first, or order=asc for oldest first) "
                "or pass order=any.",
            )
            sys.exit(1)
        if not self._finished:
            return
        self._report()
        findings, tuning = detector.finish()
        if not self._gate.open:
            if findings:
                self._hold_back(findings)
            tuning = [*tuning, *findings]
            for finding in findings:
                finding.suppressed_by = warmup.SUPPRESSED_BY
            findings = []
        for finding in [*findings, *(tuning if self._with_suppressed else [])]:
            yield self._row(finding)

    def _row(self, finding: Finding) -> dict[str, object]:
        fields = finding.to_dict()
        if self._with_suppressed:
            fields.setdefault("suppressed_by", None)
        fields["_time"] = round_ms(finding.anchor_time)
        fields["src"] = fields["device_id"]
        fields["dvc"] = fields["device_id"]
        return fields

    def _hold_back(self, findings: list[Finding]) -> None:
        """A closed warm-up gate says so: a search warning, and a log line for Data health."""
        text = (
            f"ingresscorrelate: warm-up: {len(findings)} findings held back: {self._gate.describe()}"
        )
        self.write_warning("{}", text)
        # The ids let Data health count distinct findings (overlapping runs hold one back again).
        command_logger("ingresscorrelate").warning(
            "warm-up gate closed: held_back=%d history_days=%s required_days=%g finding_ids=%s | %s",
            len(findings),
            "none" if self._gate.history_days is None else f"{self._gate.history_days:.2f}",
            self._gate.required_days,
            ",".join(f.finding_id for f in findings[:MAX_LOGGED_IDS]),
            self._gate.describe(),
        )

    def _report(self) -> None:
        report = self._detector.report
        if report.skipped:
            counts = ", ".join(f"{reason}: {n}" for reason, n in sorted(report.skipped.items()))
            first = [m for m in report.messages if ": skipped: " in m][:FIRST_MESSAGES]
            self.write_warning(
                "{}",
                f"ingresscorrelate: skipped {report.skipped_total} of {report.read} events ({counts}). "
                f"First: {'; '.join(first)}",
            )
            # One INFO line per reason, for Data health's count of unresolved retrievals by reason
            # (the search warning above reaches only the one who runs the search).
            for reason, n in sorted(report.skipped.items()):
                command_logger("ingresscorrelate").info(
                    'skipped events: reason="%s" count=%d read=%d', reason.replace('"', "'"), n, report.read
                )
        # Lookup warnings were each written when the lookups were read; these are the records'.
        record_warnings = [m for m in report.messages if ": warning: " in m]
        count = report.warnings - sum(1 for m in report.messages if m.startswith("warning: "))
        if count > 0:
            first = record_warnings[:FIRST_MESSAGES]
            self.write_warning("{}", f"ingresscorrelate: {count} warnings. First: {'; '.join(first)}")


if __name__ == "__main__":
    # What is loaded now lives as long as the search: the garbage collector need not look at it
    # again and again while the search's records pass through (only as the command, not in tests).
    gc.freeze()
    dispatch(IngressCorrelateCommand, sys.argv, sys.stdin, sys.stdout, __name__)
