from __future__ import annotations

import hashlib
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from mobile_ingress.simulate.cases import CASES
from mobile_ingress.simulate.lookups import host_matches

from .reference import Reference, norm_host, parse_time, url_host
from .support import events, key, lookup, truth

ROW_KEYS = {
    "analytic_id",
    "device_id",
    "app_id",
    "file_path",
    "dest",
    "time",
    "expected",
    "clause",
    "label",
    "stages",
    "context",
}
STAGES = ["retrieval", "staging", "unpack", "load", "handoff", "repeat_retrieval"]
CONTEXT = ["background", "device_locked", "no_user_interaction", "unapproved_role"]

# the near-miss twin of each rule the brief lists, by label
NEAR_MISS_RULES = {
    "file just outside time_window": "nm_file_after_window",
    "file earlier than clock skew": "nm_file_before_skew",
    "other device": "nm_other_device",
    "other app, not shared storage": "nm_other_app",
    "allowlisted destination": "nm_allowlisted_destination",
    "baselined destination": "nm_baselined_destination",
    "bytes below threshold": "nm_bytes_below_threshold",
    "benign type": "nm_benign_type_json",
    "allowed path": "nm_allowed_path_codepush",
    "allowlisted app": "nm_allowlisted_app_chrome_apk",
    "iOS retrieval-only with approved role": "nm_ios_retrieval_only_approved_role",
}


def _by_id(out: Path) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for e in events(out):
        if "event_id" in e:
            found.setdefault(e["event_id"], []).append(e)
    return found


def test_rows_have_the_ground_truth_schema(small_fleet: Path) -> None:
    for row in truth(small_fleet):
        assert set(row) >= ROW_KEYS
        assert row["analytic_id"] in ("AN1848", "AN1849")
        assert isinstance(row["expected"], bool)
        assert row["stages"][0] == "retrieval" and row["stages"] == [s for s in STAGES if s in row["stages"]]
        assert row["context"] == [c for c in CONTEXT if c in row["context"]]
        assert (
            round(row["time"] * 1000) == row["time"] * 1000
            or abs(row["time"] * 1000 - round(row["time"] * 1000)) < 1e-3
        )
        if row["file_path"] is None:
            assert row["analytic_id"] == "AN1849" and row["stages"] in (
                ["retrieval"],
                ["retrieval", "repeat_retrieval"],
            )
        else:
            assert "staging" in row["stages"]


def test_finding_id_follows_the_documented_digest(small_fleet: Path) -> None:
    for row in truth(small_fleet):
        text = "|".join(
            [
                row["analytic_id"],
                row["device_id"],
                row["app_id"],
                row["file_path"] or row["dest"],
                str(round(row["time"] * 1000)),
            ]
        )
        assert row["finding_id"] == hashlib.sha256(text.encode()).hexdigest()[:32]


def test_every_row_points_at_events_that_exist(small_fleet: Path) -> None:
    by_id = _by_id(small_fleet)
    for row in truth(small_fleet):
        r = by_id[row["retrieval_event_id"]][0]
        assert r["activity"] == "retrieval" and r["_time"] == row["retrieval_time"]
        if row["file_path"] is not None:
            f = by_id[row["file_event_id"]][0]
            assert f["activity"] == "file_create" and f["_time"] == row["time"]
            assert f["device_id"] == row["device_id"]
        else:
            assert row["time"] == row["retrieval_time"]
        for ref in row["evidence"]:
            assert ref in by_id


def test_chain_deltas_respect_window_and_skew(small_fleet: Path) -> None:
    for row in truth(small_fleet):
        if row["file_path"] is None:
            continue
        d = row["delta_seconds"]
        if row["expected"]:
            assert -10 <= d <= 300, row
        elif row["label"] == "nm_file_after_window":
            assert d == 310
        elif row["label"] == "nm_file_before_skew":
            assert d == -15


def test_every_label_is_planted_several_times_on_a_small_fleet(small_fleet: Path) -> None:
    labels = Counter(r["label"] for r in truth(small_fleet))
    for case in CASES:
        assert labels[case.label] >= 2, case.label
    assert labels["nm_duplicate_staged_file"] >= 2


def test_a_near_miss_is_planted_for_each_rule(small_fleet: Path) -> None:
    rows = truth(small_fleet)
    for rule, label in NEAR_MISS_RULES.items():
        mine = [r for r in rows if r["label"] == label]
        assert mine and not any(r["expected"] for r in mine), rule


def test_lookalike_of_an_allowlisted_host_is_expected_to_alert(small_fleet: Path) -> None:
    allowed = [r["destination"] for r in lookup(small_fleet, "allowed_destinations")]
    look = [r for r in truth(small_fleet) if r["label"] == "lookalike_of_allowlisted_host"]
    assert look and all(r["expected"] for r in look)
    for r in look:
        assert any(r["dest"].startswith(a + ".") for a in allowed if "*" not in a)
        assert not any(host_matches(a, r["dest"]) for a in allowed)


def test_expected_retrievals_are_neither_allowlisted_nor_baselined_and_pass_bytes(small_fleet: Path) -> None:
    ref = Reference(small_fleet)
    by_id = _by_id(small_fleet)
    for row in truth(small_fleet):
        if not row["expected"]:
            continue
        r = dict(by_id[row["retrieval_event_id"]][0])
        r["t"] = parse_time(r["_time"])
        assert not ref.dest_allowed(r, row["app_id"]), row["label"]
        assert not ref.baselined(r, row["app_id"]), row["label"]
        hosts = {norm_host(r.get("dest")), url_host(r.get("url"))} - {None}
        assert row["dest"] in hosts or row["dest"] == norm_host(r.get("dest_ip"))
        if (
            r.get("bytes_in") is not None
            and row["label"] != "bytes_summed_over_retrievals"
            and row["label"] != "ios_retrieval_only_summed_bytes"
        ):
            assert r["bytes_in"] >= 8192, row["label"]


def test_labels_agree_with_a_literal_reading_of_the_rules(small_fleet: Path) -> None:
    """Findings of tests/simulate/reference.py on the whole fleet, benign traffic included, are exactly
    the expected rows (same stages, context and destination), and no near-miss is among them."""
    rows = truth(small_fleet)
    expected = {key(r): r for r in rows if r["expected"]}
    near = {key(r) for r in rows if not r["expected"]}
    found = {key(f): f for f in Reference(small_fleet).findings()}
    assert not (near & set(found))
    assert set(found) == set(expected)
    for k, f in found.items():
        e = expected[k]
        assert (f["stages"], f["context"], f["dest"]) == (e["stages"], e["context"], e["dest"]), e["label"]


def test_labels_hold_in_shuffled_order_on_a_busier_fleet(tmp_path: Path) -> None:
    from mobile_ingress.simulate import simulate

    simulate(devices=40, hours=6, seed=21, out=str(tmp_path), order="shuffled")
    rows = truth(tmp_path)
    expected = {key(r) for r in rows if r["expected"]}
    assert {key(f) for f in Reference(tmp_path).findings()} == expected


def test_context_is_set_before_a_file_that_precedes_its_retrieval(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """F up to clock_skew before R, written by another app, without app, or seen after a flow: the
    context the case intends still holds at F (the simulator checks this itself and raises)."""
    from mobile_ingress.simulate import plan, simulate
    from mobile_ingress.simulate.cases import CaseDef, _chain

    cases = [
        CaseDef(f"neg_{i}", "android", True, _chain(kind=k, delta_s=-9.5, mood=m, **kw))
        for i, (k, m, kw) in enumerate(
            [
                ("apk", "fg", {"method": "download_manager", "f_mode": "provider", "where": "download"}),
                ("apk", "locked", {"f_mode": "shared_noapp", "where": "download"}),
                ("dex", "bg_recent", {"f_mode": "path_app"}),
                ("dex", "idle", {"r_mode": "flow"}),
            ]
        )
    ]
    monkeypatch.setattr(plan, "CASES", cases)
    monkeypatch.setattr(plan, "MIN_PER_LABEL", 6)
    simulate(devices=12, hours=2, seed=3, out=str(tmp_path))
    rows = truth(tmp_path)
    assert len(rows) == 24 and all(r["delta_seconds"] == -9.5 for r in rows)
    assert {key(f) for f in Reference(tmp_path).findings()} == {key(r) for r in rows}
