from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from mobile_ingress.simulate import simulate

from .conftest import SMALL


def _lines(out: Path) -> list[str]:
    return (out / "events.ndjson").read_text(encoding="utf-8").splitlines()


def _times(out: Path) -> list[float]:
    return [json.loads(line)["_time"] for line in _lines(out)]


def test_asc_desc_and_shuffled_hold_the_same_multiset_of_lines(small_orders: dict[str, Path]) -> None:
    asc = Counter(_lines(small_orders["asc"]))
    assert Counter(_lines(small_orders["desc"])) == asc
    assert Counter(_lines(small_orders["shuffled"])) == asc


def test_asc_is_ascending_and_desc_is_its_exact_reverse(small_orders: dict[str, Path]) -> None:
    t = _times(small_orders["asc"])
    assert t == sorted(t)
    assert _lines(small_orders["desc"]) == list(reversed(_lines(small_orders["asc"])))


def test_shuffled_is_not_time_ordered(small_orders: dict[str, Path]) -> None:
    t = _times(small_orders["shuffled"])
    assert t != sorted(t) and t != sorted(t, reverse=True)


def test_spilled_runs_merge_to_the_same_bytes_as_in_memory_sort(
    small_orders: dict[str, Path], tmp_path: Path
) -> None:
    for order in ("asc", "desc"):
        out = tmp_path / order
        simulate(out=str(out), order=order, run_events=97, **SMALL)  # ~25 sorted runs merged on disk
        assert (out / "events.ndjson").read_bytes() == (small_orders[order] / "events.ndjson").read_bytes()
        assert not list(out.glob(".simulate-*")), "temporary runs are removed"


def test_bucketed_shuffle_keeps_every_line_and_removes_its_buckets(
    small_orders: dict[str, Path], tmp_path: Path
) -> None:
    simulate(out=str(tmp_path), order="shuffled", shuffle_events=300, **SMALL)  # several bucket files
    assert Counter(_lines(tmp_path)) == Counter(_lines(small_orders["asc"]))
    t = [json.loads(line)["_time"] for line in _lines(tmp_path)]
    assert t != sorted(t)
    assert not list(tmp_path.glob(".simulate-*"))
