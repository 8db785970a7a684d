"""samples/ and pytest-splunk-addon-data.conf: one realistic sample file per mapped sourcetype,
and the EDR samples are the JSON Schema's examples (one per event kind)."""

from __future__ import annotations

import json

import jsonschema
import pytest

from .support import ROOT, SAMPLES, mappings, sample_files, sample_lines, sample_records

SCHEMA_PATH = ROOT / "docs" / "schemas" / "mobile_edr_telemetry.schema.json"
EDR_KINDS = {
    "network.retrieval",
    "file.create",
    "archive.unpack",
    "code.load",
    "file.handoff",
    "app.state",
    "device.lock",
    "user.interaction",
}


def schema() -> dict[str, object]:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


def validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(schema(), format_checker=jsonschema.FormatChecker())


def test_every_mapped_sourcetype_has_one_sample_file() -> None:
    assert sorted(sample_files().values()) == sorted(mappings())


def test_every_sample_file_is_described_in_the_data_conf() -> None:
    assert sorted(p.name for p in SAMPLES.iterdir()) == sorted(sample_files())


@pytest.mark.parametrize("sourcetype", sorted(mappings()))
def test_every_sample_line_is_one_json_object(sourcetype: str) -> None:
    lines = sample_lines(sourcetype)
    assert len(lines) >= 3
    assert all(isinstance(json.loads(line), dict) for line in lines)


def test_the_edr_schema_is_valid_json_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(schema())


def test_the_edr_schema_has_one_example_per_event_kind_and_retrieval_by_both_methods() -> None:
    examples = schema()["examples"]
    assert isinstance(examples, list)
    assert {e["event_type"] for e in examples} == EDR_KINDS
    methods = {e["network"]["method"] for e in examples if e["event_type"] == "network.retrieval"}
    assert methods == {"download_manager", "http"}


def test_the_edr_samples_are_the_schema_examples() -> None:
    assert sample_records("mobile:edr:telemetry") == schema()["examples"]


@pytest.mark.parametrize("index", range(9))
def test_every_edr_example_validates(index: int) -> None:
    example = schema()["examples"][index]  # type: ignore[index]
    assert list(validator().iter_errors(example)) == []


@pytest.mark.parametrize(
    ("change", "path"),
    [
        (lambda e: e.pop("device"), "device"),
        (lambda e: e["file"].pop("size"), "size"),
        (lambda e: e.update(timestamp="2026-11-29T08:00:03Z"), "timestamp"),
        (lambda e: e["device"].update(platform="windows"), "platform"),
        (lambda e: e["file"].update(sha256="xyz"), "sha256"),
    ],
    ids=["no device", "file.create without size", "no milliseconds", "unknown platform", "bad hash"],
)
def test_the_schema_rejects_a_broken_file_create(change, path: str) -> None:  # type: ignore[no-untyped-def]
    event = json.loads(json.dumps(sample_records("mobile:edr:telemetry")[2]))
    assert event["event_type"] == "file.create"
    change(event)
    errors = list(validator().iter_errors(event))
    assert errors and any(path in (e.message + "/".join(map(str, e.path))) for e in errors), errors


def test_zeek_files_samples_hold_both_forms() -> None:
    records = sample_records("bro:files:json")
    assert any("uid" in r and "id.orig_h" in r and "tx_hosts" not in r for r in records)
    assert any("tx_hosts" in r and "rx_hosts" in r and "conn_uids" in r and "uid" not in r for r in records)


def test_suricata_samples_hold_fileinfo_http_flow_and_dhcp() -> None:
    assert {r["event_type"] for r in sample_records("suricata")} == {"fileinfo", "http", "flow", "dhcp"}
