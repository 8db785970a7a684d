"""The spans of time the prefilter, the neighbourhood rule and the correlator work with: each one
named, derived once in engine/settings.py from the settings, and read from there everywhere."""

from __future__ import annotations

from typing import Any

import pytest

from mobile_ingress.engine.candidates import NeighbourhoodGate
from mobile_ingress.engine.detector import Detector
from mobile_ingress.engine.prefilter import Prefilter
from mobile_ingress.engine.rules import Rules
from mobile_ingress.engine.settings import BLOCK_REACHES, SLACK, Settings
from mobile_ingress.engine.stream import Correlator, Order
from tests.engine.support import make_lookups

TABLES = make_lookups()
SETTINGS = [Settings(), Settings(time_window=60.0, clock_skew=5.0), Settings(time_window=7.5, clock_skew=0.0)]
IDS = ["defaults", "a minute", "no skew"]


@pytest.mark.parametrize("settings", SETTINGS, ids=IDS)
def test_the_neighbourhood_reach_is_two_windows_and_two_skews(settings: Settings) -> None:
    # from a staged file F: retrievals back to F - window, their byte sums a window before each,
    # the skew either way; repeats, stages and earlier copies within a window and a skew
    byte_sums_before_the_retrieval = settings.time_window
    retrieval_before_the_file = settings.time_window + settings.clock_skew
    file_before_the_retrieval = settings.clock_skew
    expected = byte_sums_before_the_retrieval + retrieval_before_the_file + file_before_the_retrieval + SLACK
    assert settings.neighbourhood_reach == expected


@pytest.mark.parametrize("settings", SETTINGS, ids=IDS)
def test_the_decision_delay_is_the_neighbourhood_reach_and_a_window(settings: Settings) -> None:
    # anchors within reach, and the in-process loads (a window after a covered file) that make one
    assert settings.decision_delay == settings.neighbourhood_reach + settings.time_window + SLACK


@pytest.mark.parametrize("settings", SETTINGS, ids=IDS)
def test_the_correlator_reach_is_five_windows_and_three_skews(settings: Settings) -> None:
    window, skew = settings.time_window, settings.clock_skew
    # retrieval to file, byte sum, duplicates, stages and repeats, a retrieval-only finding's chains
    expected = window + window + window + (window + skew) + (window + 2 * skew) + SLACK
    assert settings.reach == expected


@pytest.mark.parametrize("settings", SETTINGS, ids=IDS)
def test_the_correlator_reach_is_wider_than_the_neighbourhood_reach(settings: Settings) -> None:
    """A batch bound must hold every rule's span; the neighbourhood reach is that span."""
    assert settings.reach > settings.neighbourhood_reach


@pytest.mark.parametrize("settings", SETTINGS, ids=IDS)
def test_the_retained_span_is_block_reaches_and_two_reaches_and_a_window(settings: Settings) -> None:
    # a batch waits for BLOCK_REACHES reaches beyond the last final time plus one reach; after it one
    # reach stays, and (ascending) a window of history for the duplicate rule
    expected = BLOCK_REACHES * settings.reach + 2 * settings.reach + settings.time_window + SLACK
    assert settings.retained_span == expected


@pytest.mark.parametrize("settings", SETTINGS, ids=IDS)
def test_each_reader_of_a_span_reads_the_settings_property(settings: Settings) -> None:
    rules = Rules(TABLES, settings)
    gate = NeighbourhoodGate(rules, Order.ASC, False, lambda event: None, lambda event: None)
    assert Prefilter.build(rules).neighbourhood().reach_seconds == settings.neighbourhood_reach
    assert (gate.reach, gate.delay) == (settings.neighbourhood_reach, settings.decision_delay)
    assert Correlator(rules, Order.ASC).reach == settings.reach


def test_no_reader_of_a_span_sums_the_settings_itself() -> None:
    """Negative of the above: with spans no sum of window and skew gives, the readers still agree,
    so none of them computes its own."""

    class Odd(Settings):
        @property
        def neighbourhood_reach(self) -> float:
            return 12345.0

        @property
        def decision_delay(self) -> float:
            return 23456.0

        @property
        def reach(self) -> float:
            return 34567.0

    odd = Odd()
    rules = Rules(TABLES, odd)
    gate = NeighbourhoodGate(rules, Order.ASC, False, lambda event: None, lambda event: None)
    assert Prefilter.build(rules).neighbourhood().reach_seconds == 12345.0
    assert (gate.reach, gate.delay) == (12345.0, 23456.0)
    assert Correlator(rules, Order.ASC).reach == 34567.0


def _fleet(hours: float, step: int) -> list[dict[str, Any]]:
    """Three Android devices, each retrieving and staging a dex every `step` seconds."""
    events: list[dict[str, Any]] = []
    for device in ("d1", "d2", "d3"):
        for index, t in enumerate(range(1_700_000_000, 1_700_000_000 + int(hours * 3600), step)):
            base = {"platform": "android", "device_id": device, "app_id": "com.flash.pro"}
            events.append({**base, "_time": t, "activity": "retrieval", "bytes_in": 20000,
                           "url": f"https://evil.example/{device}/{index}.dex",
                           "event_id": f"{device}r{index}"})
            events.append({**base, "_time": t + 2, "activity": "file_create", "event_id": f"{device}f{index}",
                           "file_path": f"/data/data/com.flash.pro/files/{index}.dex"})  # fmt: skip
    return events


def _widest_held_span(settings: Settings, order: Order) -> float:
    events = sorted(_fleet(hours=3, step=20), key=lambda e: e["_time"], reverse=order == Order.DESC)
    detector = Detector(settings, TABLES, order)
    buffer = detector.correlator.buffer
    widest = 0.0
    for index, record in enumerate(events):
        detector.add_record(record, f"fleet:{index}")
        times = [e.time for held in buffer.values() for e in held]
        if times:
            widest = max(widest, max(times) - min(times))
    findings, _ = detector.finish()
    assert findings  # the fleet is correlated, not filtered away
    return widest


@pytest.mark.parametrize("order", [Order.ASC, Order.DESC])
def test_the_correlator_holds_events_within_the_retained_span(order: Order) -> None:
    settings = SETTINGS[1]
    assert _widest_held_span(settings, order) <= settings.retained_span


@pytest.mark.parametrize("order", [Order.ASC, Order.DESC])
def test_the_correlator_holds_nearly_the_whole_retained_span(order: Order) -> None:
    """Negative of the above: the span held comes within one reach of the bound, so a bound one
    reach smaller (a term left out of the derivation) would fail."""
    settings = SETTINGS[1]
    assert _widest_held_span(settings, order) > settings.retained_span - settings.reach
