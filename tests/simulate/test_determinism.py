from __future__ import annotations

import filecmp
from pathlib import Path

from mobile_ingress.simulate import simulate

from .conftest import SMALL


def _files(out: Path) -> list[str]:
    return sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())


def test_same_seed_writes_identical_files(small_fleet: Path, tmp_path: Path) -> None:
    simulate(out=str(tmp_path), **SMALL)
    assert _files(tmp_path) == _files(small_fleet)
    for name in _files(small_fleet):
        assert filecmp.cmp(small_fleet / name, tmp_path / name, shallow=False), name


def test_different_seed_writes_different_events_and_truth(small_fleet: Path, tmp_path: Path) -> None:
    simulate(out=str(tmp_path), **{**SMALL, "seed": 8})
    for name in ("events.ndjson", "ground_truth.ndjson", "lookups/mobile_ingress_device_inventory.csv"):
        assert (tmp_path / name).read_bytes() != (small_fleet / name).read_bytes(), name


def test_shuffled_order_is_deterministic_too(small_orders: dict, tmp_path: Path) -> None:
    simulate(out=str(tmp_path), order="shuffled", **SMALL)
    expected = (small_orders["shuffled"] / "events.ndjson").read_bytes()
    assert (tmp_path / "events.ndjson").read_bytes() == expected


def test_iso_and_epoch_start_give_the_same_run(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    simulate(devices=3, hours=1, seed=5, out=str(a), start_ms=1_700_000_000_000)
    from mobile_ingress.simulate.model import parse_start

    simulate(devices=3, hours=1, seed=5, out=str(b), start_ms=parse_start("2023-11-14T22:13:20Z"))
    assert (a / "events.ndjson").read_bytes() == (b / "events.ndjson").read_bytes()
    assert parse_start("1700000000") == parse_start("1700000000000")
    assert parse_start("1700000000") == parse_start("2023-11-14T23:13:20+01:00")
