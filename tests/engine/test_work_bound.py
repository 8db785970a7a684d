"""Bounded work per event, whatever one device sends (issue 15): the engine counts its operations
(`Correlator.meter`, see engine/work.py) and the count per event stays under a constant as one
device's window fills with thousands of retrievals and files. Counted, never timed: 1,000
retrievals and 1,000 files on one device took 101 s before (the byte sum rescanned for every
candidate of every file)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from mobile_ingress.engine.detector import Detector
from mobile_ingress.engine.findings import MAX_EVIDENCE
from mobile_ingress.engine.settings import Settings
from mobile_ingress.engine.stream import Order

from .support import make_lookups

BASE = 1_700_000_000
BOUND = 120  # counted steps per event; the measured cost is about a third of it at every size
Scenario = Callable[[int], list[dict[str, Any]]]


def _retrieval(i: int, n: int, **extra: Any) -> dict[str, Any]:
    record = {
        "_time": BASE + 250 * i / n,
        "activity": "retrieval",
        "platform": "android",
        "device_id": "noisy",
        "app_id": "com.flood",
        "dest": "cdn.flood.example",
        "url": f"https://cdn.flood.example/r/{i}",
        "bytes_in": 20000,
        "event_id": f"r{i}",
    }
    record.update(extra)
    return {k: v for k, v in record.items() if v is not None}


def _file(i: int, n: int, **extra: Any) -> dict[str, Any]:
    record = {
        "_time": BASE + 250 * i / n + 0.5,
        "activity": "file_create",
        "platform": "android",
        "device_id": "noisy",
        "app_id": "com.flood",
        "file_path": f"/data/data/com.flood/files/p{i}.dex",
        "event_id": f"f{i}",
    }
    record.update(extra)
    return {k: v for k, v in record.items() if v is not None}


def same_app_and_destination(n: int) -> list[dict[str, Any]]:
    """The issue's case: one app, one destination, n retrievals and n files in one window."""
    return [e for i in range(n) for e in (_retrieval(i, n), _file(i, n))]


def every_retrieval_suppressed(n: int) -> list[dict[str, Any]]:
    """No retrieval qualifies (an allowlisted destination for the flow's unknown app): every file
    would walk all of them to find none."""
    return [
        e
        for i in range(n)
        for e in (_retrieval(i, n, app_id=None, dest="play.googleapis.com", url=None), _file(i, n))
    ]


def every_retrieval_below_the_threshold(n: int) -> list[dict[str, Any]]:
    return [e for i in range(n) for e in (_retrieval(i, n, bytes_in=1), _file(i, n, file_size=10))]


def over_many_windows(n: int) -> list[dict[str, Any]]:
    """The same flood spread over many reaches: the streaming batches carry events between them."""
    spread = [e for i in range(n) for e in (_retrieval(i, n), _file(i, n))]
    for e in spread:
        e["_time"] = BASE + (float(e["_time"]) - BASE) * 80
    return spread


def a_file_per_app(n: int) -> list[dict[str, Any]]:
    """Flows without app and files of n different apps."""
    return [
        e
        for i in range(n)
        for e in (
            _retrieval(i, n, app_id=None),
            _file(i, n, app_id=f"com.app{i}", file_path=f"/data/data/com.app{i}/files/p.dex"),
        )
    ]


def loads_of_one_hash(n: int) -> list[dict[str, Any]]:
    """Files sharing a hash and loads of it: every finding has every load as a follow-on stage."""
    events = []
    for i in range(n):
        events.append(_retrieval(i, n))
        events.append(_file(i, n, file_hash="ab" * 32))
        load = {"activity": "load", "load_method": "dexclassloader", "_time": BASE + 250 * i / n + 1}
        events.append({**_file(i, n, file_hash="ab" * 32), **load, "event_id": f"l{i}"})
    return events


def ios_retrieval_only(n: int) -> list[dict[str, Any]]:
    return [
        _retrieval(i, n, platform="ios", app_id="com.acme.notes", device_id="ios", dest=f"h{i % 7}.example")
        for i in range(n)
    ]


SCENARIOS: list[Scenario] = [
    same_app_and_destination,
    every_retrieval_suppressed,
    every_retrieval_below_the_threshold,
    over_many_windows,
    a_file_per_app,
    loads_of_one_hash,
    ios_retrieval_only,
]
LOOKUPS = make_lookups(
    {
        "managed_apps": [
            {"platform": "ios", "app_id": "com.acme.notes", "managed": "true", "approved_roles": ""}
        ]
    }
)


def steps_per_event(events: list[dict[str, Any]], order: Order) -> tuple[float, Detector]:
    if order == Order.DESC:
        events = sorted(events, key=lambda e: -float(e["_time"]))
    detector = Detector(Settings(), LOOKUPS, order)
    for index, record in enumerate(events):
        detector.add_record(record, f"e:{index}")
    detector.finish()
    return detector.correlator.meter.steps / len(events), detector


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.__name__)
@pytest.mark.parametrize("order", [Order.ANY, Order.DESC])
def test_work_per_event_stays_under_a_constant_as_one_device_floods_its_window(
    scenario: Scenario, order: Order
) -> None:
    small, _ = steps_per_event(scenario(200), order)
    large, detector = steps_per_event(scenario(1600), order)
    assert large <= BOUND, (small, large)
    # not growing with the window's size (the log of a binary search aside)
    assert large <= small * 1.5 + 10, (small, large)
    assert detector.report.read == len(scenario(1600))


def test_the_flood_still_finds_every_chain_with_bounded_evidence() -> None:
    _, detector = steps_per_event(same_app_and_destination(1000), Order.ANY)
    findings, _ = detector.finish()
    assert len(findings) == 1000
    assert all(len(f.evidence) <= MAX_EVIDENCE for f in findings)
    crowded = [f for f in findings if f.evidence_cut]
    assert crowded and all("of more events" in f.explanation() for f in crowded)
    assert all("repeat_retrieval" in f.stages for f in findings)


def test_a_quiet_window_names_every_event_in_its_evidence() -> None:
    _, detector = steps_per_event(same_app_and_destination(20), Order.ANY)
    findings, _ = detector.finish()
    assert all(not f.evidence_cut for f in findings)
    assert max(len(f.evidence) for f in findings) < MAX_EVIDENCE
