"""Phase-1 interface 2: a flow whose device stays unknown is counted under one of two reasons, and
its message names the address and the time."""

from __future__ import annotations

from .support import make_lookups, run

T = 1_700_000_000
NO_ROW = "unresolved device (no inventory row)"
COVERS = "unresolved device: no inventory row covers"
ROW = {"platform": "android", "user": "", "first_seen": str(T - 100), "last_seen": str(T + 100)}
LOOKUPS = make_lookups(
    {
        "device_inventory": [
            {**ROW, "device_id": "a", "ip": "10.0.0.1"},
            {**ROW, "device_id": "b", "ip": "10.0.0.2"},
            {**ROW, "device_id": "c", "ip": "10.0.0.2"},
        ]
    }
)


def flow(ip: str) -> dict[str, object]:
    return {"_time": T, "activity": "retrieval", "src_ip": ip, "dest": "evil.example", "bytes_in": 1}


def test_no_covering_row_and_several_are_two_reasons_in_the_summary() -> None:
    _, _, report = run([flow("10.0.0.9"), flow("10.0.0.9"), flow("10.0.0.2"), flow("10.0.0.1")], LOOKUPS)
    assert dict(report.skipped) == {NO_ROW: 2, "unresolved device (ambiguous)": 1}
    assert report.messages[0] == f"case:1: skipped: {COVERS} 10.0.0.9 at {T}"
    assert report.messages[2] == (
        f"case:3: skipped: unresolved device: 2 inventory rows cover 10.0.0.2 at {T} (ambiguous)"
    )


def test_a_row_outside_its_span_does_not_cover_the_flow() -> None:
    late = {**flow("10.0.0.1"), "_time": T + 500}
    _, _, report = run([late], LOOKUPS)
    assert dict(report.skipped) == {NO_ROW: 1}
    assert report.messages == [f"case:1: skipped: {COVERS} 10.0.0.1 at {T + 500}"]
