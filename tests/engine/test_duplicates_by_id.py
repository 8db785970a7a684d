"""Duplicates by event id (contract section 1) across the prefilter and the streaming batches."""

from __future__ import annotations

from typing import Any

import pytest

from mobile_ingress.engine.detector import Detector
from mobile_ingress.engine.settings import Settings
from mobile_ingress.engine.stream import Order

from .strategies import BASE, LOOKUPS, SETTINGS
from .support import canonical, make_lookups, orderings, run

CONFIG = Settings().with_values(SETTINGS)
TABLES = make_lookups(LOOKUPS)
APP = "com.flash.pro"
FILES = f"/data/data/{APP}/files"


def android(t: float, activity: str, event_id: str, **fields: Any) -> dict[str, Any]:
    return {
        "_time": t, "activity": activity, "platform": "android", "device_id": "d1",
        "app_id": APP, "event_id": event_id, **fields,
    }  # fmt: skip


# A benign file (dropped by the prefilter), then a dex with the same event id and activity 10 s
# later: the dex is the benign file's duplicate, so there is no chain.
SHARED_ID = [
    android(BASE, "retrieval", "a", url="https://evil.example/dl/p.dex", bytes_in=9000),
    android(BASE + 10, "file_create", "r0", file_path=f"{FILES}/img.png"),
    android(BASE + 20, "file_create", "r0", file_path=f"{FILES}/p.dex"),
]


def findings_of(events: list[dict[str, Any]], use_prefilter: bool, order: Order = Order.ANY) -> list[dict]:
    detector = Detector(CONFIG, TABLES, order, use_prefilter=use_prefilter)
    for index, record in enumerate(events):
        detector.add_record(record, f"t:{index}")
    findings, tuning = detector.finish()
    return canonical([f.to_dict() for f in findings + tuning])


@pytest.mark.parametrize("use_prefilter", [True, False])
def test_an_event_the_prefilter_drops_still_makes_a_later_event_with_its_id_a_duplicate(
    use_prefilter: bool,
) -> None:
    assert findings_of(SHARED_ID, use_prefilter) == []


def test_a_later_event_with_a_dropped_events_id_counts_once_the_window_has_passed() -> None:
    events = [*SHARED_ID[:2], android(BASE + 75, "retrieval", "b", url="https://evil.example/dl/p.dex"),
              android(BASE + 80, "file_create", "r0", file_path=f"{FILES}/p.dex")]  # fmt: skip
    assert len(findings_of(events, use_prefilter=True)) == 1
    assert findings_of(events, use_prefilter=True) == findings_of(events, use_prefilter=False)


# Two events with one id at one time: the one whose canonical JSON sorts first counts, so the lock
# of the other (a duplicate) never reaches the chain an hour later, in any order of input.
DUPLICATE_CONTEXT = [
    android(BASE, "state", "r0", device_locked=True),
    android(BASE, "state", "r0", app_state="foreground", device_locked=False),
    android(BASE + 700, "retrieval", "b", url="https://evil.example/dl/p.dex"),
    android(BASE + 700, "file_create", "c", file_path=f"{FILES}/p.dex"),
]


def test_the_context_of_a_duplicate_never_counts_in_any_order() -> None:
    results = []
    for name, order, ordered in orderings(DUPLICATE_CONTEXT, seed=3):
        findings, _, _ = run(ordered, TABLES, CONFIG, order)
        results.append((name, [f["context"] for f in findings]))
    assert results == [(name, [[]]) for name, _ in results]


def test_the_context_of_the_event_that_counts_reaches_a_chain_an_hour_later() -> None:
    locked = [DUPLICATE_CONTEXT[0], *DUPLICATE_CONTEXT[2:]]
    for _, order, ordered in orderings(locked, seed=3):
        findings, _, _ = run(ordered, TABLES, CONFIG, order)
        assert [f["context"] for f in findings] == [["device_locked"]]
