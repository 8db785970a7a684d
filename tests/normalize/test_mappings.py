"""The mapping model: the loader's checks (each error names the file and the key), the
expression vocabulary in Python and its SPL rendering, and the executor on bad input."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mobile_ingress.normalize import MappingError, Skip, load_mapping, load_mappings, normalize_line
from mobile_ingress.normalize.expr import Call, Field, Func, evaluate, resolve, to_spl
from mobile_ingress.normalize.model import FieldClass

from .support import mappings

GOOD = """\
sourcetype: "test:json"
title: Test
origin: a test
onboarding: "[monitor:///x]"
timestamp: {field: ts, format: epoch}
fields:
  activity: {map: {of: kind, values: {get: retrieval}}}
  src_ip: a.b
"""


def write(tmp_path: Path, text: str, name: str = "test_json.yml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_a_good_mapping_loads(tmp_path: Path) -> None:
    mapping = load_mapping(write(tmp_path, GOOD))
    assert mapping.sourcetype == "test:json" and [o.name for o in mapping.outputs] == ["activity", "src_ip"]
    assert mapping.output("src_ip").field_class == FieldClass.ALIAS  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("  src_ip: a.b", "  src_ip: {upper: a.b}"), "fields.src_ip: unknown construct 'upper'"),
        (("  src_ip: a.b", "  src_ip: 12"), "fields.src_ip: expected a field name or a one-key construct"),
        (("  src_ip: a.b", '  src_ip: {lower: "tx{}"}'), "fields.src_ip.lower: 'tx{}' is multivalue"),
        (("  src_ip: a.b", '  src_ip: "a b"'), "fields.src_ip: 'a b' is not a Splunk JSON field name"),
        (("  src_ip: a.b", "  src_ip: a.b\n  dest: {lower: src_ip}\n  x: src_ip"), None),
        (
            ("  src_ip: a.b", "  src_ip: a.b\n  dest: {lower: a.b}\n  Bad: a"),
            "fields.Bad: 'Bad' is not an output",
        ),
        (("format: epoch", "format: unix"), "timestamp.format: 'unix' is not one of epoch, iso8601"),
        (
            ("format: epoch}", "format: iso8601}"),
            "timestamp: an iso8601 timestamp needs its Splunk time_format",
        ),
        (("title: Test", "title: Test\ncolour: red"), "(top): unknown key 'colour'"),
        (("title: Test\n", ""), "(top): missing key 'title'"),
        (
            ("values: {get: retrieval}", "values: {}"),
            "fields.activity.map.values: a value map needs at least one",
        ),
        (
            ("  src_ip: a.b", "  src_ip: {concat: [a]}"),
            "fields.src_ip.concat: concat takes a list of at least two",
        ),
        (("  src_ip: a.b", "  src_ip: {splunk: index}"), "fields.src_ip.splunk: 'index' is not one of host"),
        (("  src_ip: a.b", "  host: a.b"), "fields.host: host is Splunk's own field"),
        (("  src_ip: a.b", "  src_ip: {raw: a.b}"), "fields.src_ip.raw: 'a.b': raw reads one top-level"),
        (("  src_ip: a.b", '  src_ip: {lower: {raw: "tx{}"}}'), "fields.src_ip.lower: 'tx{}' is multivalue"),
    ],
)
def test_a_bad_mapping_is_refused_naming_file_and_key(
    tmp_path: Path, change: tuple[str, str], message: str
) -> None:
    path = write(tmp_path, GOOD.replace(*change))
    if message is None:  # an expression reading a name an alias writes
        alias = r"test_json\.yml: fields\.dest: reads 'src_ip', which an alias"
        with pytest.raises(MappingError, match=alias):
            load_mapping(path)
        return
    with pytest.raises(MappingError) as caught:
        load_mapping(path)
    assert str(caught.value).startswith("test_json.yml: ") and message in str(caught.value), str(caught.value)


def test_the_file_is_named_after_its_sourcetype(tmp_path: Path) -> None:
    with pytest.raises(MappingError, match=r"must be named test_json\.yml"):
        load_mapping(write(tmp_path, GOOD, "other.yml"))


def test_yaml_that_does_not_parse_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(MappingError, match=r"test_json\.yml: \(top\): not YAML"):
        load_mapping(write(tmp_path, "fields: [unclosed\n"))


def test_a_join_from_an_unmapped_sourcetype_is_refused(tmp_path: Path) -> None:
    join = 'join: {namespace: t, key: uid, from: {sourcetype: "nope:json", key: uid}, fill: [dest]}\n'
    write(tmp_path, GOOD + join)
    with pytest.raises(
        MappingError, match=r"test_json\.yml: join\.from\.sourcetype: 'nope:json' is not mapped"
    ):
        load_mappings(tmp_path)


def test_a_join_must_fill_fields_its_source_maps(tmp_path: Path) -> None:
    write(
        tmp_path,
        GOOD + 'join: {namespace: t, key: uid, from: {sourcetype: "test:json", key: uid}, fill: [url]}\n',
    )
    with pytest.raises(MappingError, match=r"join\.fill: test:json has no output 'url'"):
        load_mappings(tmp_path)


def _join(key: str, source_key: str) -> str:
    source = f'{{sourcetype: "test:json", key: {source_key}}}'
    return f"join: {{namespace: t, key: {key}, from: {source}, fill: [src_ip]}}\n"


def test_a_join_source_may_be_keyed_by_every_value_of_an_array(tmp_path: Path) -> None:
    write(tmp_path, GOOD + _join("fid", '"fids{}"'))
    join = load_mappings(tmp_path)["test:json"].join
    assert join is not None and join.source.multivalue


def test_a_scalar_join_source_key_is_one_value(tmp_path: Path) -> None:
    write(tmp_path, GOOD + _join("fid", "fid"))
    join = load_mappings(tmp_path)["test:json"].join
    assert join is not None and not join.source.multivalue


def test_the_detection_events_join_key_must_be_one_value(tmp_path: Path) -> None:
    with pytest.raises(MappingError, match=r"test_json\.yml: join\.key: 'fids\{\}' is multivalue"):
        load_mapping(write(tmp_path, GOOD + _join('"fids{}"', "fid")))


def test_a_multivalue_join_source_key_is_a_field_mvmap_can_iterate(tmp_path: Path) -> None:
    with pytest.raises(MappingError, match=r"join\.from\.key: a multivalue key is a `\{\}` field"):
        load_mapping(write(tmp_path, GOOD + _join("fid", '{raw: "fids{}"}')))


def test_the_join_index_files_a_source_under_each_of_its_keys(tmp_path: Path) -> None:
    from mobile_ingress.normalize import JoinIndex, Normalized, apply

    write(tmp_path, GOOD + _join("fid", '"fids{}"'))
    mapping = load_mappings(tmp_path)["test:json"]
    assert mapping.join is not None
    index = JoinIndex(mapping.join, mapping)
    index.add({"ts": 1, "fids": ["F1", "F2"], "a": {"b": "10.0.0.9"}})
    index.add({"ts": 2, "fids": ["F3"], "a": {"b": "10.0.0.7"}})
    assert sorted(index.values) == ["t:F1", "t:F2", "t:F3"]
    for fid, ip in (("F2", "10.0.0.9"), ("F3", "10.0.0.7"), ("F4", None)):
        record = {"ts": 3, "kind": "get", "fid": fid}
        event = apply(mapping, record)
        assert isinstance(event, Normalized)
        index.fill(event, record)
        assert event.fields.get("src_ip") == ip


def test_two_mappings_may_not_share_an_eventtype(tmp_path: Path) -> None:
    cim = "cim:\n  - {eventtype: mobile_ingress_t, data_set: Web.Web, tags: [web], description: d}\n"
    write(tmp_path, GOOD + cim)
    write(tmp_path, GOOD.replace("test:json", "test2:json") + cim, "test2_json.yml")
    with pytest.raises(MappingError, match="eventtype 'mobile_ingress_t' also in"):
        load_mappings(tmp_path)


def test_the_shipped_mappings_load() -> None:
    assert sorted(mappings()) == [
        "bro:conn:json",
        "bro:dhcp:json",
        "bro:files:json",
        "bro:http:json",
        "mdm:amapi:device",
        "mdm:amapi:policy",
        "mdm:amapi:usagelog",
        "mdm:intune:app",
        "mdm:intune:audit",
        "mdm:intune:device",
        "mdm:jamf:mobiledevice",
        "mobile:edr:telemetry",
        "suricata",
    ]


# ------------------------------------------------------------------------------ expressions


def test_a_dotted_name_is_a_key_with_dots_or_a_nested_path() -> None:
    assert resolve({"id.orig_h": "10.0.0.1"}, "id.orig_h") == "10.0.0.1"
    assert resolve({"fileinfo": {"sha256": "ab"}}, "fileinfo.sha256") == "ab"
    assert resolve({"fileinfo": {"sha256": {"x": 1}}}, "fileinfo.sha256") is None  # an object is no field
    assert resolve({"id": {"orig_h": "x"}}, "id.resp_h") is None


def test_braces_walk_arrays_into_multivalue_as_spath_names_them() -> None:
    record = {"applicationReports": [{"packageName": "a"}, {"packageName": "b"}, {"x": 1}], "tx": ["1.2.3.4"]}
    assert resolve(record, "applicationReports{}.packageName") == ["a", "b"]
    assert resolve(record, "tx{}") == ["1.2.3.4"] and resolve(record, "none{}") is None
    assert evaluate(Call(Func.FIRST, (Field("applicationReports{}.packageName"),)), record) == "a"


def test_json_booleans_are_the_strings_splunk_shows() -> None:
    assert resolve({"is_orig": False}, "is_orig") == "false"


@pytest.mark.parametrize(
    ("func", "args", "record", "value"),
    [
        (Func.LOWER, ("p",), {"p": "TCP"}, "tcp"),
        (Func.LOWER, ("p",), {"p": ["a", "b"]}, None),
        (Func.BASENAME, ("p",), {"p": "/v2/payload/stage2.apk"}, "stage2.apk"),
        (Func.BASENAME, ("p",), {"p": "C:\\dl\\x.exe"}, "x.exe"),
        (Func.LENGTH, ("p",), {"p": "okhttp"}, 6),
        (Func.TONUMBER, ("p",), {"p": "12.5"}, 12.5),
        (Func.TONUMBER, ("p",), {"p": "lots"}, None),
        (Func.ADD, ("a", "b"), {"a": 1, "b": "2"}, 3),
        (Func.ADD, ("a", "b"), {"a": 1, "b": "x"}, None),
        (Func.CONCAT, ("a", "b"), {"a": "x", "b": 1}, "x1"),
        (Func.CONCAT, ("a", "b"), {"a": "x"}, None),
        (Func.COALESCE, ("a", "b"), {"b": 0}, 0),
        (Func.COUNT, ("l{}",), {"l": ["1.2.3.4", "5.6.7.8"]}, 2),
        (Func.COUNT, ("a",), {"a": "x"}, 1),
        (Func.COUNT, ("a",), {}, None),
    ],
)
def test_each_function(func: Func, args: tuple[str, ...], record: dict[str, object], value: object) -> None:
    assert evaluate(Call(func, tuple(Field(a) for a in args)), record) == value


def test_spl_rendering_quotes_fields_and_reads_reserved_names_from_the_event() -> None:
    assert (
        to_spl(Call(Func.COALESCE, (Field("id.orig_h"), Field("host"))))
        == "coalesce('id.orig_h', spath(_raw, \"host\"))"
    )
    assert to_spl(Call(Func.ADD, (Field("a"), Field("b")))) == "tonumber('a') + tonumber('b')"


# -------------------------------------------------------------------------------- executor


def test_a_line_longer_than_truncate_is_skipped() -> None:
    mapping = mappings()["bro:conn:json"]
    line = json.dumps({"ts": 1.0, "pad": "x" * mapping.max_event_bytes})
    result = normalize_line(line, mapping)
    assert isinstance(result, Skip) and "TRUNCATE" in result.reason


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)
KEYS = st.sampled_from(
    [
        "ts",
        "timestamp",
        "event_type",
        "is_orig",
        "id.orig_h",
        "uid",
        "fileinfo",
        "http",
        "device",
        "file",
        "network",
        "tx_hosts",
        "rx_hosts",
        "conn_uids",
        "host",
        "source",
    ]
)


@settings(max_examples=150, deadline=None)
@given(record=st.dictionaries(KEYS, JSON, max_size=8), sourcetype=st.sampled_from(sorted(mappings())))
def test_any_json_object_gives_fields_or_a_skip_never_an_exception(
    record: dict[str, object], sourcetype: str
) -> None:
    result = normalize_line(json.dumps(record), mappings()[sourcetype])
    assert isinstance(result, Skip) or "_time" in result.fields


@settings(max_examples=200, deadline=None)
@given(line=st.text(max_size=200))
def test_any_text_line_gives_fields_or_a_skip(line: str) -> None:
    result = normalize_line(line, mappings()["suricata"])
    assert isinstance(result, Skip) or "_time" in result.fields
