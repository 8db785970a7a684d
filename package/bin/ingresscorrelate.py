"""`ingresscorrelate`: the mobile Ingress Tool Transfer correlation (T1544, DET0718) as a search command.

    index=mobile ... | ingresscorrelate time_window=300 suppressed=false

An eventing command (search command protocol v2, `chunked = true`, type `events`): Splunk runs it on
the search head over every event of the search and replaces the events with one row per finding
(contract section 4, lists as multivalue fields, plus `src` and `dvc` set to the device). With
`suppressed=true` it adds the tuning rows, each with `suppressed_by`.

Options mirror the scalar mutable elements: `time_window`, `ingress_bytes_threshold`,
`foreground_state_required`, `clock_skew` (validated by the engine, so messages match the command
line), plus `suppressed` (default false) and `order` (`desc`, the default and Splunk's own order:
newest first, bounded memory; `asc`; `any`: everything held until the end).

Lookups, for each one the first non-empty of: the KV store collection `mobile_ingress_<name>` (read
through splunkd, see mobile_ingress_splunk/kvstore.py), `lookups/mobile_ingress_<name>_local.csv`,
then the shipped `lookups/mobile_ingress_<name>.csv` (app folder = the parent of bin/).

The detection itself is the engine's (`bin/mobile_ingress`): this file only adapts the protocol.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator

APP_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_LIB = os.path.join(APP_DIR, "lib")
if os.path.isdir(_LIB) and _LIB not in sys.path:
    sys.path.insert(0, _LIB)

from mobile_ingress_splunk.kvstore import KVStoreReader  # noqa: E402
from splunklib.searchcommands import (  # noqa: E402
    Configuration,
    EventingCommand,
    Option,
    dispatch,
    validators,
)

from mobile_ingress.engine.detector import Detector  # noqa: E402
from mobile_ingress.engine.errors import EngineError, OrderViolation  # noqa: E402
from mobile_ingress.engine.lookups import (  # noqa: E402
    LOOKUP_NAMES,
    Lookups,
    LookupSource,
    csv_file_source,
    lookup_name,
)
from mobile_ingress.engine.settings import Settings, parse_bool, parse_setting  # noqa: E402
from mobile_ingress.engine.stream import Order  # noqa: E402

SETTING_NAMES = ("time_window", "ingress_bytes_threshold", "foreground_state_required", "clock_skew")
FIRST_MESSAGES = 5  # skipped records quoted in the warning; the counts are always complete


class Invalid:
    """A value the engine refused: kept so `prepare` reports the engine's own message."""

    def __init__(self, raw: object, message: str) -> None:
        self.raw = raw
        self.message = message


class EngineValue(validators.Validator):
    """Converts an option with the engine's parser (typed value, or `Invalid` with its message)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __call__(self, value: object) -> object:
        if value is None:
            return None
        try:
            if self.name == "suppressed":
                return parse_bool(value)
            return parse_setting(self.name, value)
        except (EngineError, ValueError) as exc:
            message = str(exc)
            if self.name == "suppressed":
                message = f"suppressed must be true or false (or 1/0), got {value!r}"
            return Invalid(value, message)

    def format(self, value: object) -> str:
        if isinstance(value, Invalid):
            return str(value.raw)
        return "" if value is None else str(value).lower() if isinstance(value, bool) else str(value)


def lookup_sources(app_dir: str, kvstore: KVStoreReader | None) -> dict[str, list[LookupSource]]:
    """For each lookup: the KV store collection (when splunkd is reachable), the `_local` CSV, then
    the shipped CSV in APP_DIR/lookups; the first non-empty one is used."""
    folder = os.path.join(app_dir, "lookups")
    sources: dict[str, list[LookupSource]] = {}
    for name in LOOKUP_NAMES:
        chain = [] if kvstore is None else [kvstore.source(lookup_name(name))]
        chain.append(csv_file_source(os.path.join(folder, lookup_name(name) + "_local.csv")))
        chain.append(csv_file_source(os.path.join(folder, lookup_name(name) + ".csv")))
        sources[name] = chain
    return sources


@Configuration()
class IngressCorrelateCommand(EventingCommand):
    """Correlates retrievals, staged files and follow-on stages into T1544 findings.

    ##Syntax
    ingresscorrelate [time_window=<seconds>] [ingress_bytes_threshold=<bytes>]
        [foreground_state_required=<bool>] [clock_skew=<seconds>] [suppressed=<bool>]
        [order=desc|asc|any]

    ##Description
    Replaces the events with one row per finding. Events newest first (Splunk's order) keep memory
    bounded; a search that re-sorts events must keep time order or pass order=any.
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

    app_dir = APP_DIR  # where lookups/ is read; tests point it at a temporary app folder
    app_name = "TA-mobile-ingress"  # the app whose KV store collections are read

    def prepare(self) -> None:
        values: dict[str, object] = {}
        errors = []
        for name in (*SETTING_NAMES, "suppressed"):
            value = getattr(self, name)
            if isinstance(value, Invalid):
                errors.append(f"ingresscorrelate: invalid option {name}={value.raw}: {value.message}")
            elif value is not None and name != "suppressed":
                values[name] = value
        if not errors:
            try:
                settings = Settings().with_values(values)
                lookups = Lookups.load(lookup_sources(self.app_dir, self._kvstore()))
            except EngineError as exc:
                errors.append(f"ingresscorrelate: {exc}")
        if errors:
            for error in errors:
                self.write_error("{}", error)
            sys.exit(1)
        self._with_suppressed = bool(self.suppressed)
        self._detector = Detector(settings, lookups, Order(self.order or "desc"), self._with_suppressed)
        self._count = 0

    def _kvstore(self) -> KVStoreReader | None:
        """The KV store through splunkd, when the getinfo message says where splunkd is."""
        searchinfo = self._metadata.searchinfo
        if not getattr(searchinfo, "splunkd_uri", None) or not getattr(searchinfo, "session_key", None):
            return None
        service = self.service
        return None if service is None else KVStoreReader(service, self.app_name)

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
        for finding in [*findings, *(tuning if self._with_suppressed else [])]:
            yield self._row(finding.to_dict())

    def _row(self, fields: dict[str, object]) -> dict[str, object]:
        if self._with_suppressed:
            fields.setdefault("suppressed_by", None)
        fields["src"] = fields["device_id"]
        fields["dvc"] = fields["device_id"]
        return fields

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
        if report.warnings:
            first = [m for m in report.messages if "warning: " in m][:FIRST_MESSAGES]
            self.write_warning(
                "{}", f"ingresscorrelate: {report.warnings} warnings. First: {'; '.join(first)}"
            )


if __name__ == "__main__":
    dispatch(IngressCorrelateCommand, sys.argv, sys.stdin, sys.stdout, __name__)
