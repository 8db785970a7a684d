"""The MDM records of the samples (samples/mdm_*.json) and of the replay scenario (tests/replay)
follow the vendors' published specifications too, as the stand-ins' answers do
(test_vendor_schemas.py): a sample or a replayed record cannot drift from the real APIs either.
Each line is what the input writes: the provider's record plus the input's own `mobile_ingress`
key, which is left out before the check."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from .vendor_schema import check_discovery, check_graph, check_graph_beta_store_app, check_openapi

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
Check = Callable[[Any], list[str]]


def _intune_app(record: Any) -> list[str]:
    if record.get("@odata.type") == "#microsoft.graph.androidManagedStoreApp":  # beta only (intune.py)
        return check_graph_beta_store_app(record)
    return check_graph(record, "mobileApp")


# The kind the input writes in `mobile_ingress.kind` -> the vendor type of the record.
BY_KIND: dict[str, Check] = {
    "mobiledevice": lambda r: check_openapi(r, "MobileDeviceResponse"),
    "managedDevice": lambda r: check_graph(r, "managedDevice"),
    "mobileApp": _intune_app,
    "detectedApp": lambda r: check_graph(r, "detectedApp"),
    "auditEvent": lambda r: check_graph(r, "auditEvent"),
    "device": lambda r: check_discovery(r, "Device", "androidmanagement.v1"),
    "policy": lambda r: check_discovery(r, "Policy", "androidmanagement.v1"),
    "usagelog": lambda r: check_discovery(r, "UsageLogEvent", "androidmanagement.v1"),
}
# Keys the input adds to a usage-log event beyond the API's UsageLogEvent: the batch's device and
# user, and when it was retrieved (docs/inputs.md).
USAGE_LOG_EXTRAS = ("device", "user", "retrievalTime")


def problems(line: str) -> list[str]:
    record = json.loads(line)
    kind = str(record.pop("mobile_ingress")["kind"])
    if kind == "usagelog":
        for key in USAGE_LOG_EXTRAS:
            record.pop(key, None)
    return BY_KIND[kind](record)


SAMPLE_FILES = sorted(SAMPLES.glob("mdm_*.json"))


@pytest.mark.parametrize("path", SAMPLE_FILES, ids=[p.name for p in SAMPLE_FILES])
def test_every_mdm_sample_follows_its_vendors_specification(path: Path) -> None:
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert lines
    found = [f"{path.name}:{n}: {p}" for n, line in enumerate(lines, 1) for p in problems(line)]
    assert found == []


def test_a_drifted_record_is_caught() -> None:
    line = (SAMPLES / "mdm_intune_audit.json").read_text(encoding="utf-8").splitlines()[0]
    record = json.loads(line)
    record["actor"]["type"] = "ItPro"  # the beta-only key the mapping used to read
    assert problems(json.dumps(record))


def test_every_mdm_record_of_the_replay_follows_its_vendors_specification() -> None:
    from tests.replay.scenario import build_scenario

    events = [e for e in build_scenario(seed=7).events if e.sourcetype.startswith("mdm:")]
    kinds = {json.loads(e.raw)["mobile_ingress"]["kind"] for e in events}
    assert kinds == set(BY_KIND)
    found = [f"{e.sourcetype} {e.raw[:80]}: {p}" for e in events[::7] for p in problems(e.raw)]
    assert found == []
