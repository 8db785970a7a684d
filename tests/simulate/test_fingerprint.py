"""The simulator's output, pinned: the small fleet's files have the digests recorded here.

Recorded from the simulator as it was before the case table and the app catalogue moved from
Python into simulate/data/ (issue 17); the move left every byte as it was. The digests change with
the simulator, its data files, or the shipped allowed_destinations lookup (every fleet copies it).
When such a change is meant, re-record them with:

    .venv/bin/python -c "import hashlib,pathlib,tempfile; from mobile_ingress.simulate import simulate; \
d=pathlib.Path(tempfile.mkdtemp()); simulate(out=str(d), devices=20, hours=2.0, seed=7); \
[print(repr(str(p.relative_to(d))), hashlib.sha256(p.read_bytes()).hexdigest()) \
for p in sorted(d.rglob('*')) if p.is_file()]"
"""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path

import pytest

from mobile_ingress.simulate import cases, simulate

from .conftest import SMALL

# `simulate(devices=20, hours=2.0, seed=7)`, ascending (the small_fleet fixture)
FINGERPRINT = {
    "events.ndjson": "13c22f4557eb9a6dca17dfde2360561673c3dbbadacefaf583c04513b08f5e7b",
    "ground_truth.ndjson": "33ab0aa3c5b65f3fe0a614bf6ed9bc723cac76ef83e5a90c62052a8db819f3bc",
    "lookups/mobile_ingress_allowed_destinations.csv": (
        "d7ec266fd11e2c12ca151aae83dc668e9f6c7b3eb7f355622422d43f9d838a85"
    ),
    "lookups/mobile_ingress_destination_baseline.csv": (
        "e57f2300bf28c89e328f75cf6140ef6f2d56e733ba0400ac09d7fc66e7ea14aa"
    ),
    "lookups/mobile_ingress_device_inventory.csv": (
        "10b09c2997bd8e9a864ff50934a7a8918ab2052a5620f1a799942e1c312a9df6"
    ),
    "lookups/mobile_ingress_managed_apps.csv": (
        "d3c885efa6437bbc22315fff05d8d53dee99a036b8c937750c18cc22632fb7ce"
    ),
}
HINT = "the simulator's output changed; if that is meant, re-record FINGERPRINT (see this module's docstring)"


def _digests(out: Path) -> dict[str, str]:
    return {
        str(p.relative_to(out)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(out.rglob("*"))
        if p.is_file()
    }


def test_small_fleet_has_the_recorded_fingerprint(small_fleet: Path) -> None:
    assert _digests(small_fleet) == FINGERPRINT, HINT


def test_fingerprint_changes_when_the_case_data_change(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The planted names come from cases.yaml's words: reordered, the events differ, while the
    devices (not drawn from the case data) stay the same."""
    reordered = dataclasses.replace(cases.TABLE, words=tuple(reversed(cases.TABLE.words)))
    monkeypatch.setattr(cases, "TABLE", reordered)
    simulate(out=str(tmp_path), **SMALL)
    got = _digests(tmp_path)
    assert got["events.ndjson"] != FINGERPRINT["events.ndjson"]
    inventory = "lookups/mobile_ingress_device_inventory.csv"
    assert got[inventory] == FINGERPRINT[inventory]
