"""The simulator's ground truth is recovered exactly on a 100,000-event fleet, in every order."""

from __future__ import annotations

import json
from contextlib import ExitStack
from pathlib import Path

import pytest

from mobile_ingress.cli.detect import Inputs, correlate, load_lookups
from mobile_ingress.cli.evaluate import evaluate
from mobile_ingress.cli.main import main
from mobile_ingress.engine.settings import Settings


@pytest.fixture(scope="module", params=["asc", "desc", "shuffled"])
def fleet(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp(f"fleet-{request.param}")
    code = main(["simulate", "--devices", "200", "--hours", "9.5", "--seed", "2026", "--order", request.param,
                 "--out", str(out)])  # fmt: skip
    assert code == 0
    return out


def test_ground_truth_is_recovered_exactly_on_a_100k_event_fleet(fleet: Path) -> None:
    events = fleet / "events.ndjson"
    with events.open(encoding="utf-8") as handle:
        count = sum(1 for _ in handle)
    assert count >= 100_000
    with ExitStack() as stack:
        detector, findings, _ = correlate(
            Inputs([str(events)], stack), Settings(), load_lookups(str(fleet / "lookups")), "auto", False
        )
    truth = [json.loads(line) for line in (fleet / "ground_truth.ndjson").read_text().splitlines() if line]
    result = evaluate([f.to_dict() for f in findings], truth)
    assert result.expected > 50
    assert result.missed == [] and result.false_positives == [] and result.detail_mismatches == []
    assert result.precision == 1.0 and result.recall == 1.0
    near_misses = [row for row in truth if not row["expected"]]
    assert len(near_misses) > 20, "a precision of 1.0 only means something with near-misses present"
    assert detector.report.read == count
