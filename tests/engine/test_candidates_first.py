"""Candidates first (engine/compact.py, engine/candidates.py) changes nothing the engine reports:
the findings, tuning rows, skips, warnings and messages are those of every record normalized and
correlated, in every input order, over fleets of every shape, tidy and untidy. And it is what makes
the engine cheap: events far from every anchor are never normalized."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, find, given, settings
from hypothesis import strategies as st

from mobile_ingress.cli import detect as detect_cli
from mobile_ingress.engine import candidates
from mobile_ingress.engine.detector import Detector
from mobile_ingress.engine.settings import Settings
from mobile_ingress.engine.stream import Order
from mobile_ingress.simulate.generate import simulate
from mobile_ingress.simulate.shapes import SHAPES as FLEET_SHAPES
from mobile_ingress.simulate.shapes import shape_named

from .strategies import BASE, INVENTORY, LOOKUPS, SETTINGS, SHAPES, neighbourhoods, untidy_fleets
from .support import canonical, make_lookups, orderings

CONFIG = Settings().with_values(SETTINGS)
TABLES = make_lookups({**LOOKUPS, "device_inventory": INVENTORY})
Outcome = tuple[object, ...]


def outcome(
    events: list[dict[str, Any]], order: Order, suppressed: bool, candidates_first: bool, weaken: Any = None
) -> Outcome:
    """Everything the engine reports for EVENTS fed in this order."""
    detector = Detector(CONFIG, TABLES, order, suppressed, candidates_first=candidates_first)
    if weaken is not None:
        weaken(detector.gate)
    for index, record in enumerate(events):
        detector.add_record(record, f"p:{index}")
    findings, tuning = detector.finish()
    report = detector.report
    return (
        canonical([f.to_dict() for f in findings + tuning]),
        report.read,
        dict(report.skipped),
        report.warnings,
        report.messages,
        report.dropped_messages,
        report.kept + report.filtered,
    )


def spread(events: list[dict[str, Any]], seed: int) -> list[dict[str, Any]]:
    """The same events at times anywhere in two hours: every distance to an anchor."""
    import random

    rnd = random.Random(seed)
    return [{**e, "_time": BASE + rnd.randint(0, 7200)} for e in events]


ANY_SHAPE = st.sampled_from(sorted(SHAPES)).flatmap(
    lambda shape: untidy_fleets(max_size=60, shape=shape, share=0.2)
)


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ANY_SHAPE, st.randoms(use_true_random=False), st.booleans(), st.booleans())
def test_candidates_first_reports_what_correlating_everything_reports_in_every_order(
    events: list[dict[str, Any]], rnd: Any, suppressed: bool, spread_out: bool
) -> None:
    if spread_out:
        events = spread(events, rnd.randint(0, 10**6))
    for _, order, ordered in orderings(events, seed=rnd.randint(0, 10**6)):
        assert outcome(ordered, order, suppressed, True) == outcome(ordered, order, suppressed, False)


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(neighbourhoods(), min_size=1, max_size=3), st.randoms(use_true_random=False), st.booleans())
def test_candidates_first_reports_the_same_just_beyond_an_anchors_reach(
    groups: list[list[dict[str, Any]]], rnd: Any, suppressed: bool
) -> None:
    """Chains with their byte sums, duplicates and context a little beyond reach (several chains
    an hour apart: what one leaves out, the next may need)."""
    events = [{**e, "_time": e["_time"] + 3600 * i} for i, group in enumerate(groups) for e in group]
    for _, order, ordered in orderings(events, seed=rnd.randint(0, 10**6)):
        assert outcome(ordered, order, suppressed, True) == outcome(ordered, order, suppressed, False)


def _simulated(tmp_path: Path, shape: str, seed: int) -> tuple[list[dict[str, Any]], Any]:
    out = tmp_path / shape
    simulate(devices=60, hours=2, seed=seed, out=str(out), shape=shape_named(shape))
    lines = (out / "events.ndjson").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines], detect_cli.load_lookups(str(out / "lookups"))


@pytest.mark.parametrize("shape", sorted(FLEET_SHAPES))
def test_a_simulated_fleet_of_every_shape_gives_the_same_findings_bytes_either_way(
    tmp_path: Path, shape: str
) -> None:
    events, lookups = _simulated(tmp_path, shape, seed=5)
    results = []
    for order, ordered in ((Order.ASC, events), (Order.DESC, list(reversed(events)))):
        for first in (True, False):
            detector = Detector(Settings(), lookups, order, candidates_first=first)
            for index, record in enumerate(ordered):
                detector.add_record(record, f"s:{index}")
            findings, _ = detector.finish()
            results.append(json.dumps([f.to_dict() for f in findings], sort_keys=True))
            if first:
                assert detector.report.filtered > len(events) / 2  # most of the fleet never correlated
    assert results[0] == results[1] == results[2] == results[3]
    assert json.loads(results[0]), "the planted chains are found"


# Each part of the rule is needed: without it, the property above finds a difference ---------


def _without_hints(gate: Any) -> None:
    gate._hint = lambda event: None


def _without_partners(gate: Any) -> None:
    class Forgetful(dict):  # type: ignore[type-arg]
        def __setitem__(self, key: object, value: object) -> None:
            pass

    gate.ids = Forgetful()
    gate.older_ids = Forgetful()
    gate._fresh_index = Forgetful


def _within_one_window(gate: Any) -> None:
    gate.reach = gate.window


@pytest.mark.parametrize(
    ("weaken", "order"),
    [(_without_hints, Order.ASC), (_without_hints, Order.DESC), (_without_partners, Order.ASC),
     (_without_partners, Order.DESC), (_within_one_window, Order.ASC)],
)  # fmt: skip
def test_the_property_finds_the_fault_when_a_part_of_the_rule_is_left_out(weaken: Any, order: Order) -> None:
    def differs(events: list[dict[str, Any]]) -> bool:
        ordered = sorted(events, key=lambda e: e["_time"], reverse=order == Order.DESC)
        return outcome(ordered, order, False, True, weaken) != outcome(ordered, order, False, False)

    found = find(
        st.lists(neighbourhoods(), min_size=1, max_size=3).map(
            lambda groups: [{**e, "_time": e["_time"] + 3600 * i} for i, g in enumerate(groups) for e in g]
        ),
        differs,
        settings=settings(max_examples=1000, deadline=None, database=None),
    )
    assert found


def test_the_property_finds_the_fault_when_events_sharing_a_time_are_not_kept(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class Forgetful(candidates._Device):
        __slots__ = ()
        last_time = property(lambda self: math.nan, lambda self, value: None)  # type: ignore[assignment]

    monkeypatch.setattr(candidates, "_Device", Forgetful)
    test_the_property_finds_the_fault_when_a_part_of_the_rule_is_left_out(lambda gate: None, Order.ASC)


# The parts of the rule, each on its own ---------------------------------------------------------

APP = "com.flash.pro"
FILES = f"/data/data/{APP}/files"


def android(t: float, activity: str, event_id: str | None = None, **fields: Any) -> dict[str, Any]:
    record = {
        "_time": t,
        "activity": activity,
        "platform": "android",
        "device_id": "d1",
        "app_id": APP,
        **fields,
    }
    if event_id is not None:
        record["event_id"] = event_id
    return record


def chain(t: float, bytes_in: int = 20000) -> list[dict[str, Any]]:
    return [
        android(t, "retrieval", f"r{t}", url="https://evil.example/dl/p.dex", bytes_in=bytes_in),
        android(t + 5, "file_create", f"f{t}", file_path=f"{FILES}/p.dex"),
    ]


def run_both(events: list[dict[str, Any]], order: Order) -> tuple[list[dict[str, Any]], Detector]:
    ordered = sorted(events, key=lambda e: e["_time"], reverse=order == Order.DESC)
    results = []
    for first in (True, False):
        detector = Detector(CONFIG, TABLES, order, candidates_first=first)
        for index, record in enumerate(ordered):
            detector.add_record(record, f"t:{index}")
        findings, _ = detector.finish()
        results.append(([f.to_dict() for f in findings], detector))
    assert results[0][0] == results[1][0]
    return results[0]


QUIET = [android(BASE + 100 + 20 * i, "state", f"q{i}", app_state="foreground") for i in range(300)]


@pytest.mark.parametrize("order", [Order.ASC, Order.DESC])
def test_a_lock_set_hours_before_a_chain_reaches_it(order: Order) -> None:
    events = [android(BASE, "state", "lock", device_locked=True), *QUIET, *chain(BASE + 7200)]
    findings, detector = run_both(events, order)
    assert [f["context"] for f in findings] == [["device_locked"]]
    assert detector.report.filtered >= 290  # the quiet hours were never correlated


@pytest.mark.parametrize("order", [Order.ASC, Order.DESC])
def test_an_unlock_after_the_lock_and_before_the_chain_is_what_holds(order: Order) -> None:
    unlock = android(BASE + 3000, "state", "unlock", device_locked=False)
    events = [android(BASE, "state", "lock", device_locked=True), *QUIET, unlock, *chain(BASE + 7200)]
    findings, _ = run_both(events, order)
    assert [f["context"] for f in findings] == [[]]


def _byte_sum_case(partner_gap: float) -> list[dict[str, Any]]:
    """R's 5,000 bytes reach the threshold only with C's 5,000 a window before it; C repeats the
    event id of P, PARTNER_GAP before C, which is beyond every anchor's reach."""
    t = BASE + 5000
    file = android(t, "file_create", "f", file_path=f"{FILES}/p.dex")
    r = android(t - 60, "retrieval", "r", url="https://evil.example/dl/p.dex", bytes_in=5000)
    c = android(t - 120, "retrieval", "c", url="https://evil.example/dl/x", bytes_in=5000)
    p = android(t - 120 - partner_gap, "retrieval", "c", url="https://evil.example/dl/y", bytes_in=1)
    return [p, c, r, file]


def test_an_event_id_repeated_beyond_every_anchors_reach_still_makes_a_duplicate() -> None:
    findings, _ = run_both(_byte_sum_case(partner_gap=60), Order.ASC)
    assert findings == []  # C is P's duplicate: its bytes do not count


def test_an_event_id_repeated_more_than_a_window_before_makes_no_duplicate() -> None:
    findings, _ = run_both(_byte_sum_case(partner_gap=61), Order.ASC)
    assert [f["bytes_in"] for f in findings] == [10000]


def _twin_case(twin_gap: float) -> list[dict[str, Any]]:
    """S1 repeats E's event id (a duplicate); S2, with S1's content, TWIN_GAP after it."""
    e = android(BASE, "state", "a", device_locked=False)
    s1 = android(BASE + 30, "state", "a", device_locked=True)
    s2 = android(BASE + 30 + twin_gap, "state", "b", device_locked=True)
    return [e, s1, s2, *QUIET[100:], *chain(BASE + 7200)]


@pytest.mark.parametrize("order", [Order.ASC, Order.DESC])
def test_identical_content_at_one_time_counts_once_even_far_from_every_anchor(order: Order) -> None:
    findings, _ = run_both(_twin_case(twin_gap=0), order)
    assert [f["context"] for f in findings] == [[]]  # S2 is S1's twin, S1 E's duplicate: E holds


@pytest.mark.parametrize("order", [Order.ASC, Order.DESC])
def test_the_same_values_a_moment_later_count(order: Order) -> None:
    findings, _ = run_both(_twin_case(twin_gap=1), order)
    assert [f["context"] for f in findings] == [["device_locked"]]


@pytest.mark.parametrize(("method", "expected"), [("dexclassloader", 1), ("webview", 0)])
@pytest.mark.parametrize("order", [Order.ASC, Order.DESC])
def test_a_cached_file_loaded_in_process_anchors_its_retrieval(
    order: Order, method: str, expected: int
) -> None:
    cached = f"/data/data/{APP}/cache/okhttp/p.dex"
    events = [
        *QUIET,
        android(BASE + 8000, "retrieval", "r", url="https://evil.example/p", bytes_in=20000),
        android(BASE + 8005, "file_create", "f", file_path=cached),
        android(BASE + 8050, "load", "l", file_path=cached, load_method=method),
    ]
    findings, _ = run_both(events, order)
    assert len(findings) == expected


def count_normalized(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The records the neighbourhood rule normalizes, from now on in this test."""
    calls: list[Any] = []
    original = candidates.normalize_record

    def counting(record: Any, lookups: Any) -> Any:
        calls.append(record)
        return original(record, lookups)

    monkeypatch.setattr(candidates, "normalize_record", counting)
    return calls


def test_only_the_neighbourhoods_are_normalized(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = count_normalized(monkeypatch)
    run_both([*QUIET, *chain(BASE + 7200)], Order.ASC)
    assert len(calls) <= 3  # the chain, and the last state event before it as a hint at most


def test_everything_within_reach_of_a_chain_is_normalized(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = count_normalized(monkeypatch)
    near = [android(BASE + 7200 - 60 + i, "state", f"n{i}", app_state="foreground") for i in range(50)]
    run_both([*near, *chain(BASE + 7200)], Order.ASC)
    assert len(calls) == 50  # the 50 near it (the retrieval, without dest, and the file: in full at once)
