"""Index-time timestamps and search-time extraction from props, eventtypes and tags."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.executor import IndexedEvent, Splunk, UnsupportedSpl

from .support import JSON_PROPS, T0, json_event, make_app, splunk_with


def first(sp: Splunk, spl: str = "index=main", now: float = T0 + 3600) -> dict[str, Any]:
    rows = sp.search(spl, now=now).rows
    assert rows, spl
    return rows[0]


def event(
    raw: str, sourcetype: str = "json:test", indextime: float = T0 + 100, source: str = "s"
) -> IndexedEvent:
    return IndexedEvent("main", sourcetype, source, "h", raw, indextime)


# ------------------------------------------------------------------ KV_MODE=json


def test_json_nesting_flattens_with_dots_and_braces(tmp_path: Path) -> None:
    sp = splunk_with(tmp_path, [json_event(T0, a={"b": {"c": "x"}}, l=[{"k": 1}, {"k": 2}], s=["p"])])
    row = first(sp)
    assert (row["a.b.c"], row["l{}.k"], row["s{}"]) == ("x", ["1", "2"], "p")


def test_json_numbers_keep_their_text_and_booleans_are_text(tmp_path: Path) -> None:
    sp = splunk_with(tmp_path, [event('{"ts": 1700000000.0, "n": 1.50, "b": false, "z": null}')])
    row = first(sp)
    assert (row["n"], row["b"], "z" in row) == ("1.50", "false", False)


def test_default_fields_are_not_overwritten_by_json_keys(tmp_path: Path) -> None:
    sp = splunk_with(tmp_path, [event('{"ts": 1700000000.0, "host": "from-json"}')])
    assert first(sp)["host"] == "h"


def test_fields_past_the_extraction_cutoff_are_not_extracted(tmp_path: Path) -> None:
    sp = splunk_with(tmp_path, [json_event(T0, early="yes", pad="x" * 6000, late="no")])
    row = first(sp)
    assert row["early"] == "yes" and "late" not in row and "pad" not in row


def test_only_the_first_100_fields_are_extracted(tmp_path: Path) -> None:
    fields = {f"f{i:03d}": i for i in range(120)}
    sp = splunk_with(tmp_path, [json_event(T0, **fields)])
    row = first(sp)
    assert "f098" in row and "f099" not in row  # ts is the first of the 100


# ------------------------------------------------------------------ aliases and calculated fields


def props_with(**settings: str) -> dict[str, dict[str, str]]:
    return {"json:test": {**JSON_PROPS, **settings}}


def test_fieldalias_copies_and_replaces(tmp_path: Path) -> None:
    props = props_with(**{"FIELDALIAS-a": "orig AS target"})
    sp = splunk_with(tmp_path, [json_event(T0, orig="o", target="t")], props=props)
    assert first(sp)["target"] == "o"


def test_fieldalias_as_removes_the_target_when_the_source_is_missing(tmp_path: Path) -> None:
    props = props_with(**{"FIELDALIAS-a": "orig AS target"})
    sp = splunk_with(tmp_path, [json_event(T0, target="t")], props=props)
    assert "target" not in first(sp)


def test_fieldalias_asnew_keeps_an_existing_target(tmp_path: Path) -> None:
    props = props_with(**{"FIELDALIAS-a": "orig ASNEW target"})
    sp = splunk_with(tmp_path, [json_event(T0, orig="o", target="t")], props=props)
    assert first(sp)["target"] == "t"


def test_evals_see_the_fields_before_any_eval(tmp_path: Path) -> None:
    props = props_with(**{"EVAL-x": "y * 2", "EVAL-y": "100"})
    sp = splunk_with(tmp_path, [json_event(T0, y=3)], props=props)
    row = first(sp)
    assert (row["x"], row["y"]) == ("6", "100")


def test_evals_see_aliases(tmp_path: Path) -> None:
    props = props_with(**{"FIELDALIAS-a": "id.orig_h AS src", "EVAL-s": 'src . "!"'})
    sp = splunk_with(tmp_path, [json_event(T0, id={"orig_h": "10.0.0.1"})], props=props)
    assert first(sp)["s"] == "10.0.0.1!"


def test_an_eval_returning_null_removes_the_field(tmp_path: Path) -> None:
    props = props_with(**{"EVAL-bytes_in": 'case(kind=="x", 1)'})
    sp = splunk_with(tmp_path, [json_event(T0, kind="y", bytes_in=5)], props=props)
    assert "bytes_in" not in first(sp)


def test_eventtypes_and_their_tags(tmp_path: Path) -> None:
    eventtypes = {"et_b": {"search": "sourcetype=json:test kind=file"}, "et_a": {"search": "kind=*"}}
    tags = {"eventtype=et_b": {"endpoint": "enabled", "filesystem": "enabled", "old": "disabled"}}
    sp = splunk_with(tmp_path, [json_event(T0, kind="file")], eventtypes=eventtypes, tags=tags)
    row = first(sp)
    assert (row["eventtype"], row["tag"], row["tag::eventtype"]) == (
        ["et_a", "et_b"],
        ["endpoint", "filesystem"],
        ["endpoint", "filesystem"],
    )


def test_search_by_tag_and_eventtype(tmp_path: Path) -> None:
    eventtypes = {"et": {"search": "kind=file"}}
    tags = {"eventtype=et": {"filesystem": "enabled"}}
    sp = splunk_with(
        tmp_path,
        [json_event(T0, kind="file"), json_event(T0 + 1, kind="net")],
        eventtypes=eventtypes,
        tags=tags,
    )
    assert len(sp.search("index=main tag=filesystem eventtype=et", now=T0 + 60).rows) == 1


def test_unknown_props_key_is_refused_by_name(tmp_path: Path) -> None:
    with pytest.raises(UnsupportedSpl, match="REPORT-x"):
        Splunk(make_app(tmp_path, props={"st": {"REPORT-x": "some_transform"}}))


# ------------------------------------------------------------------ timestamps


def test_epoch_with_microseconds_after_the_prefix(tmp_path: Path) -> None:
    sp = splunk_with(tmp_path, [event('{"ts": 1700000000.123456, "a": 1}')])
    assert first(sp)["_time"] == "1700000000.123456"


def test_iso_time_with_milliseconds_and_z(tmp_path: Path) -> None:
    props = {
        "iso": {
            "KV_MODE": "json",
            "TIME_PREFIX": '"timestamp"\\s*:\\s*"',
            "TIME_FORMAT": "%Y-%m-%dT%H:%M:%S.%3N%Z",
        }
    }
    sp = splunk_with(tmp_path, [event('{"timestamp": "2023-11-14T22:13:20.500Z"}', "iso")], props=props)
    assert first(sp)["_time"] == "1700000000.5"


def test_iso_time_with_seven_digits_and_numeric_zone(tmp_path: Path) -> None:
    props = {"iso": {"TIME_PREFIX": '"t":"', "TIME_FORMAT": "%Y-%m-%dT%H:%M:%S.%7N%z", "KV_MODE": "json"}}
    sp = splunk_with(tmp_path, [event('{"t":"2023-11-15T00:13:20.1234560+0200"}', "iso")], props=props)
    assert first(sp)["_time"] == "1700000000.123456"


def test_timestamp_past_the_lookahead_is_not_found(tmp_path: Path) -> None:
    props = {"far": {**JSON_PROPS, "MAX_TIMESTAMP_LOOKAHEAD": "3"}}
    raw = '{"ts": 1700000000.5}'
    sp = splunk_with(tmp_path, [event(raw, "far", indextime=T0 + 77)], props=props)
    assert first(sp)["_time"] == str(int(T0 + 77))  # no timestamp: the index time


def test_no_timestamp_takes_the_previous_event_time_of_the_same_source(tmp_path: Path) -> None:
    sp = splunk_with(tmp_path, [event('{"ts": 1700000000.0}'), event('{"nots": 1}', indextime=T0 + 500)])
    times = [r["_time"] for r in sp.search("index=main", now=T0 + 3600).rows]
    assert times == [str(int(T0)), str(int(T0))]


def test_truncate_cuts_raw_in_bytes_down_to_a_whole_character(tmp_path: Path) -> None:
    props = {"short": {**JSON_PROPS, "TRUNCATE": "12"}}
    sp = splunk_with(tmp_path, [event('{"word": "héllo", "ts": 1700000000.0}', "short")], props=props)
    assert first(sp)["_raw"] == '{"word": "h'


def test_add_props_for_a_test_only_sourcetype(tmp_path: Path) -> None:
    sp = splunk_with(tmp_path)
    sp.add_props(
        "dhcp:test", {"TIME_PREFIX": "^", "TIME_FORMAT": "%Y-%m-%d %H:%M:%S", "EVAL-kind": '"lease"'}
    )
    sp.add_events([event("2023-11-14 22:13:20 lease 10.0.0.1", "dhcp:test")])
    row = first(sp)
    assert (row["_time"], row["kind"]) == (str(int(T0)), "lease")


def test_extraction_is_cached_per_event(tmp_path: Path) -> None:
    sp = splunk_with(tmp_path, [json_event(T0, a=1)])
    first(sp)
    cached = sp.store.events[0].fields
    first(sp)
    assert cached is not None and sp.store.events[0].fields is cached
