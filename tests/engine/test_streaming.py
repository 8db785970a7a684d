"""Memory on time-ordered input stays bounded by a few windows of events (counted, not timed)."""

from __future__ import annotations

from bisect import bisect_right
from typing import Any

import pytest

from mobile_ingress.engine.settings import Settings
from mobile_ingress.engine.stream import Order

from .support import IOS_MANAGED_WITHOUT_ROLE, canonical, make_lookups, run

SETTINGS = Settings().with_values({"time_window": 60, "clock_skew": 5})


def long_input(hours: int = 20) -> list[dict[str, Any]]:
    """A steady stream over many windows: state changes, benign files, and a chain every 10 min."""
    events: list[dict[str, Any]] = []
    start = 1_700_000_000
    for step in range(hours * 3600 // 4):
        t = start + step * 4
        device = f"d{step % 3}"
        platform = "ios" if device == "d2" else "android"
        app = "com.acme.notes" if platform == "ios" else "com.flash.pro"
        base = {"_time": t, "platform": platform, "device_id": device, "app_id": app, "event_id": f"e{step}"}
        if step % 150 == 0:
            events.append({**base, "activity": "retrieval", "dest": "stage.evil.example", "bytes_in": 20000})
            name = "lib.dylib" if platform == "ios" else "p.dex"
            folder = (
                "/private/var/mobile/Containers/Data/Application/U/tmp"
                if platform == "ios"
                else (f"/data/data/{app}/files")
            )
            events.append(
                {
                    **base,
                    "_time": t + 3,
                    "activity": "file_create",
                    "file_path": f"{folder}/{step}/{name}",
                    "event_id": f"f{step}",
                }
            )
        elif step % 7 == 0:
            events.append(
                {**base, "activity": "state", "app_state": "background" if step % 2 else "foreground"}
            )
        elif step % 5 == 0 and platform == "ios":
            events.append({**base, "activity": "retrieval", "dest": "api.evil.example", "bytes_in": 9000})
        else:
            events.append(
                {
                    **base,
                    "activity": "file_create",
                    "file_path": f"/data/data/{app}/files/{step}.json",
                    "platform": "android",
                }
            )
    return events


def widest_span_count(times: list[float], span: float) -> int:
    ordered = sorted(times)
    return max(bisect_right(ordered, t + span) - i for i, t in enumerate(ordered))


@pytest.mark.parametrize("order", [Order.ASC, Order.DESC])
def test_retained_events_stay_within_a_few_windows_on_time_ordered_input(order: Order) -> None:
    events = long_input()
    ordered = sorted(events, key=lambda e: e["_time"], reverse=order == Order.DESC)
    from mobile_ingress.engine.detector import Detector

    detector = Detector(SETTINGS, make_lookups(IOS_MANAGED_WITHOUT_ROLE), order)
    for index, record in enumerate(ordered):
        detector.add_record(record, f"long:{index}")
    findings, _ = detector.finish()
    kept_times = [float(e["_time"]) for e in events if not str(e.get("file_path", "")).endswith(".json")]
    # A few reaches, plus (ascending) one window of history for the duplicate rule.
    bound = widest_span_count(kept_times, SETTINGS.retained_span)
    assert detector.correlator.max_retained <= bound
    assert detector.correlator.max_retained < len(kept_times) / 20
    assert len(findings) > 100


def test_streamed_findings_equal_the_whole_input_correlated_at_once() -> None:
    events = long_input(hours=6)
    lookups = make_lookups(IOS_MANAGED_WITHOUT_ROLE)
    whole, _, _ = run(events, lookups, SETTINGS, Order.ANY)
    ascending, _, _ = run(sorted(events, key=lambda e: e["_time"]), lookups, SETTINGS, Order.ASC)
    descending, _, _ = run(sorted(events, key=lambda e: -e["_time"]), lookups, SETTINGS, Order.DESC)
    assert canonical(ascending) == canonical(whole) == canonical(descending)
    assert any(f["analytic_id"] == "AN1849" and not f["file_path"] for f in whole)


@pytest.mark.parametrize("order", [Order.ASC, Order.DESC, Order.ANY])
def test_context_set_long_before_retrieval_only_findings_reaches_them_in_any_order(order: Order) -> None:
    """A lock set at the start holds for every later finding. Retrievals less than a window apart
    keep one run of retrieval-only candidates open across every batch, so on descending input
    their context is settled only when the lock, the oldest event, finally arrives."""
    start = 1_700_000_000
    ios = {"platform": "ios", "device_id": "iphone-1", "app_id": "com.acme.notes"}
    events: list[dict[str, Any]] = [{**ios, "_time": start, "activity": "state", "device_locked": True}]
    events += [
        {
            **ios,
            "_time": start + 40 + 40 * i,
            "activity": "retrieval",
            "dest": "stage.evil.example",
            "bytes_in": 20000,
            "event_id": f"r{i}",
        }
        for i in range(300)
    ]
    ordered = sorted(events, key=lambda e: e["_time"], reverse=order == Order.DESC)
    findings, _, _ = run(ordered, make_lookups(IOS_MANAGED_WITHOUT_ROLE), SETTINGS, order)
    assert len(findings) == 150  # each finding takes the next retrieval as its repeat
    assert all(f["context"] == ["device_locked", "unapproved_role"] for f in findings)
