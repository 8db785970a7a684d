"""CIM: every CIM-tagged eventtype puts its sourcetype's events in its data set with each required
field of that data set. The required fields, tags and expected values come from
pytest-splunk-addon 6.4's data model definitions (installed in .venv-psa by `make setup`), never
from a list written here."""

from __future__ import annotations

import json
from functools import cache

import pytest

from mobile_ingress.normalize import apply
from mobile_ingress.normalize.model import CimEventtype, FieldClass, SourcetypeMapping
from tests.splunk.test_knowledge_objects import read_conf

from .support import DEFAULT, mappings, psa_package, sample_records

EVENTTYPES = [(m, item) for _, m in sorted(mappings().items()) for item in m.cim]
IDS = [item.name for _, item in EVENTTYPES]


@cache
def data_set(path: str) -> dict[str, object]:
    """The definition of Model.Dataset in pytest-splunk-addon's data_models/<Model>.json."""
    model, name = path.split(".")
    definition = json.loads((psa_package() / "data_models" / f"{model}.json").read_text(encoding="utf-8"))
    stack = list(definition["objects"])
    while stack:
        item = stack.pop()
        if item["name"] == name:
            return item  # type: ignore[no-any-return]
        stack += item.get("child_dataset", [])
    raise AssertionError(f"{path}: no such data set in pytest-splunk-addon's data models")


def required(path: str) -> list[dict[str, object]]:
    return [f for f in data_set(path)["fields"] if f.get("type") == "required"]  # type: ignore[union-attr]


def provided(mapping: SourcetypeMapping) -> set[str]:
    """Fields the props stanza gives by alias or EVAL, and JSON fields kept under their name."""
    stanza = read_conf(DEFAULT / "props.conf")[mapping.sourcetype]
    names = {k[len("EVAL-") :] for k in stanza if k.startswith("EVAL-")}
    names |= {v.partition(" AS ")[2].strip() for k, v in stanza.items() if k.startswith("FIELDALIAS-")}
    names |= {o.name for o in mapping.outputs if o.field_class == FieldClass.EXTRACTION}
    return names


def matching(mapping: SourcetypeMapping, item: CimEventtype) -> list[dict[str, object]]:
    records = [
        r
        for r in sample_records(mapping.sourcetype)
        if all(str(r.get(name)) == value for name, value in item.where)
    ]
    assert records, f"{item.name}: no sample event matches {item.where}"
    return records


def test_the_data_model_definitions_are_read_from_pytest_splunk_addon() -> None:
    names = [f["name"] for f in required("Endpoint.Filesystem")]
    assert {"action", "dest", "file_name", "file_path", "file_size", "user", "vendor_product"} <= set(names)


def test_an_unknown_data_set_is_an_error() -> None:
    with pytest.raises(AssertionError, match="no such data set"):
        data_set("Web.Nothing")


def test_every_data_set_of_our_own_sourcetypes_is_mapped() -> None:
    # Web (Zeek http.log, EVE http) is the vendor add-ons' (cim_owner); the EDR and MDM data sets
    # are ours.
    mapped = {item.data_set for _, item in EVENTTYPES}
    assert {"Network_Traffic.All_Traffic", "Endpoint.Filesystem", "Endpoint.Processes"} <= mapped
    assert all(mapping.cim_owner is None for mapping, _ in EVENTTYPES)


@pytest.mark.parametrize(("mapping", "item"), EVENTTYPES, ids=IDS)
def test_eventtype_tags_are_the_data_sets_tags(mapping: SourcetypeMapping, item: CimEventtype) -> None:
    tags = read_conf(DEFAULT / "tags.conf")[f"eventtype={item.name}"]
    assert all(value == "enabled" for value in tags.values())
    assert sorted(tags) in [sorted(group) for group in data_set(item.data_set)["tags"]]  # type: ignore[union-attr]


@pytest.mark.parametrize(("mapping", "item"), EVENTTYPES, ids=IDS)
def test_eventtype_search_names_the_sourcetype(mapping: SourcetypeMapping, item: CimEventtype) -> None:
    search = read_conf(DEFAULT / "eventtypes.conf")[item.name]["search"]
    assert search.startswith(f'sourcetype="{mapping.sourcetype}"')
    for name, value in item.where:
        assert f'{name}="{value}"' in search


@pytest.mark.parametrize(("mapping", "item"), EVENTTYPES, ids=IDS)
def test_the_sourcetype_provides_every_required_field(mapping: SourcetypeMapping, item: CimEventtype) -> None:
    names = {str(f["name"]) for f in required(item.data_set)}
    gaps = {name for name, _ in item.gaps}
    assert names - provided(mapping) <= gaps, "every required field is provided or a documented gap"
    assert gaps <= names, "a gap names a required field"


@pytest.mark.parametrize(("mapping", "item"), EVENTTYPES, ids=IDS)
def test_a_documented_gap_is_really_missing_from_the_events(
    mapping: SourcetypeMapping, item: CimEventtype
) -> None:
    for record in matching(mapping, item):
        fields = apply(mapping, record, {"host": "sensor-1"}).fields  # type: ignore[union-attr]
        for name, _ in item.gaps:
            assert fields.get(name) is None, f"{item.name}: {name} is provided; drop the gap"


@pytest.mark.parametrize(("mapping", "item"), EVENTTYPES, ids=IDS)
def test_sample_events_carry_every_required_field_with_a_valid_value(
    mapping: SourcetypeMapping, item: CimEventtype
) -> None:
    gaps = {name for name, _ in item.gaps}
    for record in matching(mapping, item):
        fields = apply(mapping, record, {"host": "sensor-1"}).fields  # type: ignore[union-attr]
        for spec in required(item.data_set):
            name = str(spec["name"])
            if name in gaps:
                continue
            value = fields.get(name)
            assert value not in (None, ""), f"{item.name}: {name} missing in {record}"
            expected = spec.get("expected_values")
            if expected:
                assert str(value) in expected, f"{item.name}: {name}={value!r} not in {expected}"


def test_the_required_field_check_sees_a_missing_field() -> None:
    mapping, item = next((m, i) for m, i in EVENTTYPES if i.data_set == "Endpoint.Filesystem")
    record = dict(matching(mapping, item)[0])
    record.pop("device")
    fields = apply(mapping, record).fields  # type: ignore[union-attr]
    assert fields.get("user") is None and fields.get("dest") is None
