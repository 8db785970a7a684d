"""The rendered confs: up to date with the mappings, every field they read exists in the samples,
and on every sample event they give what the Python mapping gives (through tests/normalize/spl.py,
a model of Splunk's extraction, FIELDALIAS and parallel EVAL, then tests/normalize/spl_search.py,
a model of the commands the rendered macros run)."""

from __future__ import annotations

import json
import re

import pytest
import render_normalization  # tools/ (pytest's pythonpath)

from mobile_ingress.normalize import apply
from mobile_ingress.normalize import render as r
from mobile_ingress.normalize.expr import resolve
from tests.splunk.test_knowledge_objects import read_conf

from . import pipeline, spl, spl_search
from .pipeline import macros
from .support import DEFAULT, flatten, mappings, sample_records

HOST = "sensor-1.example.net"
DEFAULT_FIELDS = {"host", "source", "sourcetype", "_raw", "_time"}


def props() -> dict[str, dict[str, str]]:
    return read_conf(DEFAULT / "props.conf")


@pytest.mark.parametrize("path", sorted(render_normalization.rendered()), ids=lambda p: p.name)
def test_rendered_file_matches_the_mappings(path) -> None:  # type: ignore[no-untyped-def]
    expected = render_normalization.rendered()[path]
    assert path.read_text(encoding="utf-8") == expected, f"run `make render`: {path.name} is stale"


def test_render_check_mode_reports_a_hand_edit(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    edited = tmp_path / "props.conf"
    edited.write_text((DEFAULT / "props.conf").read_text(encoding="utf-8") + "EVAL-x = 1\n", encoding="utf-8")
    monkeypatch.setattr(render_normalization, "PROPS", edited)
    assert render_normalization.main(["--check"]) == 1
    assert "EVAL-x" in edited.read_text(encoding="utf-8")  # --check never writes


def test_macros_outside_the_rendered_section_are_kept() -> None:
    current = (DEFAULT / "macros.conf").read_text(encoding="utf-8")
    head, rest = current.split(r.MACROS_BEGIN)
    _, tail = rest.split(r.MACROS_END)
    section = r.render_macros_section(mappings())
    spliced = r.splice(
        head + "[changed]\n" + r.MACROS_BEGIN + "old" + r.MACROS_END + tail,
        r.MACROS_BEGIN,
        r.MACROS_END,
        section,
        "",
    )
    assert spliced == head + "[changed]\n" + section + tail
    assert "[mobile_ingress_edr]" in head and "rendered by tools/render_detections.py" in tail


def test_transforms_conf_holds_only_the_hand_written_lookup_definitions() -> None:
    # Value maps render as case() EVALs: normalization adds no transform and no lookup.
    for name, stanza in read_conf(DEFAULT / "transforms.conf").items():
        assert "REGEX" not in stanza and "SOURCE_KEY" not in stanza, name
    assert not any(k.startswith(("LOOKUP-", "REPORT-", "TRANSFORMS-")) for s in props().values() for k in s)


def test_props_has_one_stanza_per_mapped_sourcetype() -> None:
    assert sorted(props()) == sorted(mappings())


@pytest.mark.parametrize("sourcetype", sorted(mappings()))
def test_line_breaking_timestamp_and_json_settings(sourcetype: str) -> None:
    stanza = props()[sourcetype]
    mapping = mappings()[sourcetype]
    assert stanza["SHOULD_LINEMERGE"] == "false" and stanza["LINE_BREAKER"] == r"([\r\n]+)"
    assert stanza["KV_MODE"] == "json" and stanza["TRUNCATE"] == str(mapping.max_event_bytes)
    assert stanza["TIME_FORMAT"] == mapping.timestamp.time_format
    # TIME_PREFIX finds the timestamp of every sample event.
    prefix = re.compile(stanza["TIME_PREFIX"])
    for record in sample_records(sourcetype):
        text = json.dumps(record, separators=(",", ":"))
        match = prefix.search(text)
        assert match is not None, text[:80]
        stamp = next(resolve(record, f) for f in mapping.timestamp.fields if resolve(record, f) is not None)
        assert text[match.end() :].startswith(str(stamp))


def _reads(sourcetype: str) -> set[str]:
    fields: set[str] = set()
    for key, value in props()[sourcetype].items():
        if key.startswith("EVAL-"):
            fields |= spl.fields_of(spl.parse(value))
        elif key.startswith("FIELDALIAS-"):
            fields.add(value.partition(" AS ")[0].strip())
    return fields


@pytest.mark.parametrize("sourcetype", sorted(mappings()))
def test_every_eval_and_alias_reads_fields_that_exist(sourcetype: str) -> None:
    present = set().union(*(flatten(record) for record in sample_records(sourcetype))) | DEFAULT_FIELDS
    missing = _reads(sourcetype) - present
    assert missing == set(), f"{sourcetype}: props read fields no sample event has: {sorted(missing)}"


def test_the_field_check_catches_a_misspelt_field() -> None:
    present = set().union(*(flatten(record) for record in sample_records("bro:files:json")))
    assert "id.resp_h" in present and "id.resp_hh" not in present
    assert spl.fields_of(spl.parse("coalesce('id.resp_hh', spath(_raw, \"sourze\"))")) == {
        "id.resp_hh",
        "sourze",
    }


@pytest.mark.parametrize("sourcetype", sorted(mappings()))
def test_every_eval_uses_only_the_known_spl_vocabulary(sourcetype: str) -> None:
    for key, value in props()[sourcetype].items():
        if key.startswith("EVAL-"):
            spl.parse(value)  # raises on an unknown function or token


def test_the_spl_model_refuses_an_unknown_function() -> None:
    with pytest.raises(ValueError, match="unknown function"):
        spl.parse("upper('x')")


def _compared(sourcetype: str) -> list[str]:
    """The outputs Splunk gives this sourcetype's events after props and the contract macro: all
    of them, or only the contract fields where a vendor add-on owns the CIM fields."""
    mapping = mappings()[sourcetype]
    outputs = mapping.contract_outputs if mapping.cim_owner is not None else mapping.outputs
    return [o.name for o in outputs]


def _both_sides(sourcetype: str, record: dict[str, object]) -> tuple[dict[str, object], dict[str, object]]:
    mapping = mappings()[sourcetype]
    python = apply(mapping, record, {"host": HOST})
    assert not hasattr(python, "reason"), python
    row = spl_search.row_of(spl.run_stanza(props()[sourcetype], record, HOST, sourcetype))
    (row,) = spl_search.run(f"`{r.CONTRACT_MACRO}`", [row], macros())
    names = _compared(sourcetype)
    left = {name: pipeline.comparable(python.fields.get(name)) for name in names}  # type: ignore[union-attr]
    right = {name: pipeline.comparable(row.get(name)) for name in names}
    return left, right


CASES = [(st, i) for st in sorted(mappings()) for i in range(len(sample_records(st)))]


@pytest.mark.parametrize(("sourcetype", "index"), CASES)
def test_rendered_props_give_what_the_python_mapping_gives(sourcetype: str, index: int) -> None:
    left, right = _both_sides(sourcetype, sample_records(sourcetype)[index])
    assert left == right


def _mutations(record: dict[str, object]) -> list[dict[str, object]]:
    """The sample with one field at a time removed, emptied, or of another type."""
    out = []
    for key in list(record):
        for replacement in (None, "", 0, True, ["x", "y"], {"k": 1}):
            changed = dict(record)
            if replacement is None:
                del changed[key]
            else:
                changed[key] = replacement
            out.append(changed)
    return out


@pytest.mark.parametrize("sourcetype", sorted(mappings()))
def test_both_sides_agree_on_damaged_events(sourcetype: str) -> None:
    for record in sample_records(sourcetype):
        for changed in _mutations(record):
            stamps = mappings()[sourcetype].timestamp.fields
            if any(resolve(changed, f) != resolve(record, f) for f in stamps):  # skipped (test_raw_cli)
                continue
            left, right = _both_sides(sourcetype, changed)
            assert left == right, changed


def test_the_equivalence_check_sees_a_wrong_rendering() -> None:
    stanza = dict(props()["bro:files:json"])
    # the sender, not the receiver
    stanza["EVAL-mobile_ingress_src_ip"] = "coalesce(mvindex('tx_hosts{}', 0), 'id.orig_h')"
    record = sample_records("bro:files:json")[1]
    mapping = mappings()["bro:files:json"]
    python = apply(mapping, record, {"host": HOST})
    row = spl_search.row_of(spl.run_stanza(stanza, record, HOST, "bro:files:json"))
    (row,) = spl_search.run(f"`{r.CONTRACT_MACRO}`", [row], macros())
    assert row["src_ip"] == ["198.51.100.23"] != [python.fields["src_ip"]]  # type: ignore[union-attr]


def test_an_alias_of_an_absent_field_removes_its_target_on_both_sides() -> None:
    # FIELDALIAS `AS` removes the target when the source is absent (props.conf.spec): a raw key
    # named like the target must not show through, in props or in Python.
    record = dict(sample_records("mobile:edr:telemetry")[2], dest_port="raw")
    assert "network" not in record
    python = apply(mappings()["mobile:edr:telemetry"], record)
    assert python.fields.get("dest_port") is None  # type: ignore[union-attr]
    assert "dest_port" not in spl.run_stanza(props()["mobile:edr:telemetry"], record, HOST)
    kept = dict(record, network={"dest_port": 443})
    assert spl.run_stanza(props()["mobile:edr:telemetry"], kept, HOST)["dest_port"] == "443"


def test_the_join_macro_reads_the_fields_props_write() -> None:
    written: set[str] = set()
    for stanza in props().values():
        written |= {k[len("EVAL-") :] for k in stanza if k.startswith("EVAL-")}
    definition = macros()[r.JOIN_MACRO]
    used = set(re.findall(r"mobile_ingress_join_[a-z_]+", definition)) - {r.JOIN_KEY}
    assert used and used <= written
    assert macros()[r.JOIN_SOURCES_MACRO] == f"({r.JOIN_SOURCE}=* OR {r.ASOF_SOURCE}=*)"


def test_the_asof_join_macro_reads_the_fields_props_write() -> None:
    written: set[str] = set()
    for stanza in props().values():
        written |= {k[len("EVAL-") :] for k in stanza if k.startswith("EVAL-")}
    definition = macros()[r.ASOF_MACRO]
    assert {r.ASOF_TARGET, r.ASOF_SOURCE, r.ASOF_VALUE} <= written
    used = set(re.findall(r"mobile_ingress_asof_[a-z_]+", definition))
    assert {r.ASOF_TARGET, r.ASOF_SOURCE, r.ASOF_VALUE} <= used


def test_the_join_macro_expands_the_key_before_eventstats() -> None:
    steps = spl_search.commands(macros()[r.JOIN_MACRO])
    assert steps[1] == f"mvexpand {r.JOIN_KEY}" and steps[2].startswith("eventstats ")
    assert steps[2].endswith(f"BY {r.JOIN_KEY}")


def test_the_normalize_macro_is_the_contract_fields_then_the_joins() -> None:
    # the as-of join first: its sources (no activity) leave with the flow join's `where`
    assert macros()[r.NORMALIZE_MACRO] == f"`{r.CONTRACT_MACRO}` | `{r.ASOF_MACRO}` | `{r.JOIN_MACRO}`"


def _correlation_searches() -> list[str]:
    searches = read_conf(DEFAULT / "savedsearches.conf").values()
    return [stanza["search"] for stanza in searches if "ingresscorrelate" in stanza.get("search", "")]


def test_correlation_searches_normalize_before_ingresscorrelate() -> None:
    """The base search takes the join sources too, then mobile_ingress_normalize runs before the
    engine (through whatever macros the search uses)."""
    marked = {**macros(), r.NORMALIZE_MACRO: "NORMALIZE", r.JOIN_SOURCES_MACRO: "JOIN_SOURCES"}
    searches = _correlation_searches()
    assert searches
    for search in searches:
        steps = spl_search.commands(spl_search.expand(search, marked))
        names = [step.split(" ", 1)[0] for step in steps]
        assert "JOIN_SOURCES" in steps[0], search
        assert names.index("NORMALIZE") < names.index("ingresscorrelate"), search


CONSTRUCTS = {
    "count": {"count": "tx{}"},
    "first": {"first": "tx{}"},
    "tonumber": {"tonumber": "n"},
    "length": {"length": "s"},
    "lower": {"lower": "s"},
    "basename": {"basename": "p"},
    "add": {"add": ["n", "m"]},
    "concat": {"concat": [{"const": "x:"}, "s"]},
    "coalesce": {"coalesce": ["missing", "a.b", {"const": "none"}]},
    "if_present": {"if_present": {"field": "s", "then": {"const": "yes"}, "else": {"const": "no"}}},
    "map": {"map": {"of": "flag", "values": {"true": "on"}, "default": "off"}},
    "switch": {"switch": {"of": "kind", "cases": {"a": "s", "b": "n"}, "default": "p"}},
    "reserved": {"coalesce": ["host", {"splunk": "host"}]},
    "raw": {"concat": [{"raw": "kind"}, {"const": ":"}, {"raw": "n"}]},
    "raw_array": {"count": {"raw": "tx{}"}},
    "mac": {"mac": "mac"},
    "if_contains": {
        "if_contains": {"field": "types{}", "value": "ACK", "then": "s", "else": {"const": "no"}}
    },
}
RECORDS = [
    {"tx": ["1.2.3.4", "5.6.7.8"], "n": "12", "m": 3, "s": "MiXed", "p": "/a/b/c.apk", "a": {"b": "ab"},
     "flag": True, "kind": "a", "host": "eve-sensor", "mac": "AA-BB-CC-DD-EE-0F",
     "types": ["REQUEST", "ACK"]},
    {"tx": [], "n": "x", "s": ["l", "m"], "p": "noslash", "flag": False, "kind": "b", "mac": "aabb.ccdd.ee0f",
     "types": ["DISCOVER", "OFFER"]},
    {"tx": "9.9.9.9", "n": 1.5, "m": None, "kind": "c", "mac": "AABBCCDDEE0F", "types": "ACK", "s": "one"},
    {"mac": "aa:bb:cc", "types": ["ACKNOWLEDGED"]},
    {"mac": "gg:bb:cc:dd:ee:ff"},
    {},
]  # fmt: skip


@pytest.mark.parametrize("name", sorted(CONSTRUCTS))
def test_every_construct_renders_to_spl_with_the_same_meaning(name: str) -> None:
    from mobile_ingress.normalize.expr import evaluate, to_spl
    from mobile_ingress.normalize.loader import _Where, parse_expr

    expr = parse_expr(CONSTRUCTS[name], _Where("test.yml", name))
    rendered = to_spl(expr)
    for record in RECORDS:
        python = evaluate(expr, record, {"host": HOST})
        splunk = spl.run_stanza({"EVAL-out": rendered}, record, HOST)["out"]
        assert spl.as_text(python) == spl.as_text(splunk), (name, rendered, record)
