from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from mobile_ingress.simulate import cli


def _parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="mobile-ingress simulate")
    cli.add_arguments(parser)
    return parser.parse_args(list(argv))


def test_run_writes_the_outputs_and_a_summary(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = _parse("--devices", "4", "--hours", "1", "--seed", "3", "--out", str(tmp_path))
    assert args.order == "asc"
    assert cli.run(args) == 0
    assert (tmp_path / "events.ndjson").stat().st_size > 0
    assert (tmp_path / "ground_truth.ndjson").stat().st_size > 0
    assert (tmp_path / "lookups" / "mobile_ingress_device_inventory.csv").exists()
    err = capsys.readouterr().err
    assert "events" in err and "expected findings" in err and "near-misses" in err


def test_start_without_zone_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = _parse("--devices", "1", "--hours", "1", "--out", str(tmp_path), "--start", "2025-03-03T08:00:00")
    assert cli.run(args) == 2
    assert "zone" in capsys.readouterr().err


def test_unknown_order_is_rejected_by_the_parser(tmp_path: Path) -> None:
    with pytest.raises(SystemExit):
        _parse("--devices", "1", "--hours", "1", "--out", str(tmp_path), "--order", "random")


def test_start_moves_the_run(tmp_path: Path) -> None:
    args = _parse("--devices", "2", "--hours", "1", "--out", str(tmp_path), "--start", "1700000000")
    assert cli.run(args) == 0
    first = (tmp_path / "events.ndjson").read_text().splitlines()[0]
    assert '"_time":17000' in first
