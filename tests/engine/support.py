"""Helpers shared by the engine tests: run the detector on in-memory events and lookups."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from pathlib import Path

from mobile_ingress.engine.detector import Detector, Report
from mobile_ingress.engine.lookups import LOOKUP_NAMES, Lookups, Row, csv_file_source, rows_from_csv
from mobile_ingress.engine.settings import Settings
from mobile_ingress.engine.stream import Order
from mobile_ingress.engine.timeparse import parse_time

SHIPPED = Path(__file__).resolve().parents[2] / "package" / "lookups"


# One iOS app the MDM manages with no approved role: its retrievals may be retrieval-only findings.
IOS_MANAGED_WITHOUT_ROLE = {
    "managed_apps": [
        {
            "platform": "ios",
            "app_id": "com.acme.notes",
            "managed": "true",
            "approved_roles": "",
            "source": "test",
        }
    ]
}


def shipped_rows(name: str) -> list[Row]:
    path = SHIPPED / f"mobile_ingress_{name}.csv"
    return rows_from_csv(path.read_text(encoding="utf-8"), str(path))


def make_lookups(overrides: Mapping[str, Sequence[Mapping[str, object]]] | None = None) -> Lookups:
    """Shipped lookups, with whole lookups replaced by `overrides` (keyed by full or short name)."""
    rows: dict[str, list[Row]] = {}
    given = {k.replace("mobile_ingress_", "", 1): v for k, v in (overrides or {}).items()}
    for name in LOOKUP_NAMES:
        if given.get(name):  # an empty override falls back to the shipped file, as in the CLI
            rows[name] = [
                Row({k: "" if v is None else str(v) for k, v in row.items()}, f"case:{name}:{i + 2}")
                for i, row in enumerate(given[name])
            ]
        else:
            rows[name] = shipped_rows(name)
    return Lookups.from_rows(rows)


def shipped_lookups() -> Lookups:
    return Lookups.load(
        {name: [csv_file_source(str(SHIPPED / f"mobile_ingress_{name}.csv"))] for name in LOOKUP_NAMES}
    )


def run(
    events: Sequence[Mapping[str, object]],
    lookups: Lookups | None = None,
    settings: Settings | None = None,
    order: Order = Order.ANY,
    suppressed: bool = False,
) -> tuple[list[dict], list[dict], Report]:
    """Findings and tuning rows (as dicts) and the report, for events fed in the given sequence."""
    detector = Detector(settings or Settings(), lookups or make_lookups(), order, suppressed)
    for index, record in enumerate(events, start=1):
        detector.add_record(record, f"case:{index}")
    findings, tuning = detector.finish()
    return [f.to_dict() for f in findings], [f.to_dict() for f in tuning], detector.report


def sort_key(record: Mapping[str, object]) -> float:
    try:
        return parse_time(record.get("_time"))
    except Exception:
        return 0.0


def orderings(
    events: Sequence[Mapping[str, object]], seed: int = 0
) -> list[tuple[str, Order, list[Mapping[str, object]]]]:
    """The same events as written, shuffled, ascending and descending, with the order to promise."""
    shuffled = list(events)
    random.Random(seed).shuffle(shuffled)
    ascending = sorted(events, key=sort_key)
    return [
        ("as written", Order.ANY, list(events)),
        ("shuffled", Order.ANY, shuffled),
        ("ascending", Order.ASC, ascending),
        ("descending", Order.DESC, list(reversed(ascending))),
    ]


def canonical(rows: Sequence[dict]) -> list[dict]:
    return sorted(rows, key=lambda r: (r["finding_id"], r.get("suppressed_by") or ""))
