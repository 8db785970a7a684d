"""What the `--raw` tests share (tests/cli/test_raw.py, tests/normalize/test_mdm.py): the events
`--raw` hands the detector, a `detect` run, and the check that a sourcetype maps to CIM only."""

from __future__ import annotations

import json
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

from mobile_ingress.cli.detect import load_lookups
from mobile_ingress.cli.main import main
from mobile_ingress.cli.raw import RawInputs
from mobile_ingress.engine.detector import Detector
from mobile_ingress.engine.settings import Settings


def normalized(lookups: Path, *specs: str) -> list[dict[str, object]]:
    """The contract events `--raw` hands the detector (validated Events, as the engine sees them)."""
    detector = Detector(Settings(), load_lookups(str(lookups)))
    with ExitStack() as stack:
        raw = RawInputs.open(list(specs), stack)
        return [e.to_dict() for stream in raw.event_streams(detector, lambda: None) for e in stream]


def detect(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, list[dict[str, Any]], str]:
    code = main(["detect", *argv])
    out, err = capsys.readouterr()
    return code, [json.loads(line) for line in out.splitlines()], err


def assert_cim_only(lookups: Path, sourcetype: str, path: Path, capsys: Any) -> None:
    """The sample's three lines give no contract event, and `detect --raw` says they are CIM only."""
    assert normalized(lookups, f"{sourcetype}={path}") == []
    code, rows, err = detect(capsys, "--lookups", str(lookups), "--raw", f"{sourcetype}={path}")
    assert (
        code == 0
        and rows == []
        and f"raw {sourcetype} {path}: 3 lines, 0 detection events, 3 CIM only" in err
    )
