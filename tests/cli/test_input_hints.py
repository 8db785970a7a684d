"""Raw events given as normal input: the engine skips every one of them, and the summary says which
`--raw` sourcetype they look like."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from mobile_ingress.cli.main import main

from .test_detect import EVENTS, write_ndjson

SAMPLES = Path(__file__).resolve().parents[2] / "samples"


def detect(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["detect", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_raw_edr_events_as_normal_input_get_a_hint_to_use_raw_once(tmp_path: Path, capsys: Any) -> None:
    edr = shutil.copy(SAMPLES / "mobile_edr_telemetry.json", tmp_path / "edr.json")
    code, out, err = detect(capsys, str(edr))
    hint = f"looks like mobile:edr:telemetry: use --raw mobile:edr:telemetry={edr}"
    assert code == 0 and out == "" and err.count(hint) == 1


@pytest.mark.parametrize(
    ("sample", "sourcetype"), [("bro_files.json", "bro:files:json"), ("suricata_eve.json", "suricata")]
)
def test_raw_sensor_events_are_named_by_their_own_sourcetype(
    tmp_path: Path, capsys: Any, sample: str, sourcetype: str
) -> None:
    code, _, err = detect(capsys, str(SAMPLES / sample))
    assert code == 0 and f"looks like {sourcetype}: use --raw {sourcetype}=" in err


def test_normalized_events_get_no_hint(tmp_path: Path, capsys: Any) -> None:
    bad = [*EVENTS, {"_time": "not a time"}]  # a skip, so the input is looked at
    code, _, err = detect(capsys, str(write_ndjson(tmp_path / "e.ndjson", bad)))
    assert code == 0 and "skipped 1" in err and "looks like" not in err


def test_a_few_raw_events_among_normalized_ones_get_no_hint(tmp_path: Path, capsys: Any) -> None:
    raw = (SAMPLES / "mobile_edr_telemetry.json").read_text().splitlines()[0]
    path = write_ndjson(tmp_path / "e.ndjson", EVENTS * 3)
    path.write_text(path.read_text() + raw + "\n")
    code, _, err = detect(capsys, str(path))
    assert code == 0 and "skipped 1" in err and "looks like" not in err


def test_quiet_gives_no_hint(tmp_path: Path, capsys: Any) -> None:
    code, _, err = detect(capsys, "--quiet", str(SAMPLES / "mobile_edr_telemetry.json"))
    assert code == 0 and err == ""
