"""The replays' scale: 100k JSON events of a 20-device fleet indexed, and a 90-minute-window base
search with search-time extraction (cached per event) well under a second."""

from __future__ import annotations

import json
import random
import time
from collections.abc import Iterator

import pytest

from tests.executor import IndexedEvent, Splunk

from .shipped import PACKAGE

START = 1_795_939_200.0  # 2026-11-29T00:00:00Z
EVENTS = 100_000
DAY = 86_400.0
TYPES = ("network.retrieval", "file.create", "app.state", "code.load")


def fleet_events() -> list[IndexedEvent]:
    rng = random.Random(7)
    out = []
    for i in range(EVENTS):
        when = START + DAY * i / EVENTS
        device = rng.randrange(20)
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(when)) + f".{int(when % 1 * 1000):03d}Z"
        raw = {
            "event_id": f"e{i}",
            "event_type": rng.choice(TYPES),
            "timestamp": stamp,
            "device": {
                "id": f"android-{device:03d}",
                "platform": "android",
                "user": f"u{device}@example.com",
                "ip": f"10.0.0.{device}",
            },
            "app": {"id": f"com.example.app{rng.randrange(50)}"},
            "network": {"url": "http://cdn.example/a.apk", "dest_host": "cdn.example", "bytes_in": 50000},
            "file": {"path": f"/data/user/0/com.example/cache/f{i}.apk", "sha256": "ab" * 32},
        }
        out.append(IndexedEvent("mobile", "mobile:edr:telemetry", "edr", "sensor", json.dumps(raw), when + 5))
    return out


@pytest.fixture(scope="module")
def fleet() -> Iterator[tuple[Splunk, float]]:
    sp = Splunk(PACKAGE, seed=0)
    events = fleet_events()
    started = time.perf_counter()
    sp.add_events(events)
    yield sp, time.perf_counter() - started
    sp.close()


def test_indexing_100k_events_takes_seconds_not_minutes(fleet: tuple[Splunk, float]) -> None:
    sp, seconds = fleet
    assert len(sp.store) == EVENTS and seconds < 10


def test_a_90_minute_base_search_is_well_under_a_second(
    fleet: tuple[Splunk, float], capsys: pytest.CaptureFixture[str]
) -> None:
    sp, _ = fleet
    sp.set_macro("mobile_ingress_edr", '(index=mobile sourcetype="mobile:edr:telemetry")')
    now = START + DAY / 2
    timings = []
    for _ in range(3):
        started = time.perf_counter()
        result = sp.search("`mobile_ingress_edr`", now=now, earliest="-95m@m", latest="-5m@m")
        timings.append(time.perf_counter() - started)
    with capsys.disabled():
        print(
            f"\n90-minute window: {len(result.rows)} events; first search {timings[0]:.3f} s (extracting), "
            f"then {timings[1]:.3f} s, {timings[2]:.3f} s (cached)"
        )
    assert len(result.rows) > 5000 and max(timings[1:]) < 1.0 and timings[0] < 2.0
