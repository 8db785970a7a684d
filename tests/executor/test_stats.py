"""stats, eventstats, streamstats and their functions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.executor import SplError, Splunk, UnsupportedSpl

from .support import T0, json_event, splunk_with

ROWS = [
    {"app": "b", "dest": "x.example", "bytes": 10, "kind": "retrieval"},
    {"app": "a", "dest": "y.example", "bytes": 2, "kind": "retrieval"},
    {"app": "a", "dest": "Y.example", "bytes": 30, "kind": "file"},
    {"app": "a", "dest": "x.example", "kind": "retrieval"},
    {"dest": "z.example", "bytes": 5, "kind": "file"},
]


@pytest.fixture
def flows(tmp_path: Path) -> Splunk:
    return splunk_with(tmp_path, [json_event(T0 + i, **row) for i, row in enumerate(ROWS)])


def run(sp: Splunk, spl: str) -> list[dict[str, Any]]:
    return sp.search("index=main | " + spl, now=T0 + 600).rows


def test_count_without_by_is_one_row_even_over_nothing(flows: Splunk) -> None:
    assert run(flows, "where 1==2 | stats count") == [{"count": "0"}]


def test_rows_with_a_null_by_field_are_dropped(flows: Splunk) -> None:
    assert run(flows, "stats count BY app") == [{"app": "a", "count": "3"}, {"app": "b", "count": "1"}]


def test_rows_are_ordered_by_the_by_values(flows: Splunk) -> None:
    assert [r["dest"] for r in run(flows, "stats count BY dest")] == [
        "Y.example",
        "x.example",
        "y.example",
        "z.example",
    ]


def test_count_of_a_field_and_of_an_eval(flows: Splunk) -> None:
    rows = run(flows, 'stats count(bytes) AS with_bytes count(eval(kind="file")) AS files')
    assert rows == [{"with_bytes": "4", "files": "2"}]


def test_count_eval_without_as_is_an_error(flows: Splunk) -> None:
    with pytest.raises(SplError, match="AS"):
        run(flows, 'stats count(eval(kind="file"))')


def test_dc_and_dc_of_eval(flows: Splunk) -> None:
    rows = run(flows, 'stats dc(dest) AS d dc(eval(if(kind="file", dest, null()))) AS f')
    assert rows == [{"d": "4", "f": "2"}]


def test_values_are_distinct_and_lexicographic(flows: Splunk) -> None:
    assert run(flows, "stats values(bytes) AS b values(dest) AS d")[0] == {
        "b": ["10", "2", "30", "5"],
        "d": ["Y.example", "x.example", "y.example", "z.example"],
    }


def test_list_keeps_input_order_and_duplicates(flows: Splunk) -> None:
    assert run(flows, "stats list(kind) AS k")[0]["k"] == [
        "file",
        "retrieval",
        "file",
        "retrieval",
        "retrieval",
    ]


def test_min_max_numeric_and_lexicographic(flows: Splunk) -> None:
    assert run(flows, "stats min(bytes) AS lo max(bytes) AS hi max(dest) AS d")[0] == {
        "lo": "2",
        "hi": "30",
        "d": "z.example",
    }


def test_max_of_mixed_values_is_the_text(tmp_path: Path) -> None:
    sp = splunk_with(tmp_path, [json_event(T0, v="7"), json_event(T0 + 1, v="true")])
    assert sp.search("index=main | stats max(v) AS m min(v) AS n", now=T0 + 60).rows == [
        {"m": "true", "n": "7"}
    ]


def test_sum_and_avg_over_numeric_values(flows: Splunk) -> None:
    assert run(flows, "stats sum(bytes) AS s avg(bytes) AS a")[0] == {"s": "47", "a": "11.75"}


def test_first_and_last_follow_arrival_order(flows: Splunk) -> None:
    # events arrive newest first: first = the newest
    assert run(flows, "stats first(dest) AS f last(dest) AS l")[0] == {"f": "z.example", "l": "x.example"}


def test_earliest_and_latest_follow_time(flows: Splunk) -> None:
    rows = run(flows, "sort 0 dest | stats earliest(dest) AS e latest(dest) AS l")
    assert rows[0] == {"e": "x.example", "l": "z.example"}


def test_min_of_time(flows: Splunk) -> None:
    assert run(flows, "stats min(_time) AS t")[0]["t"] == str(int(T0))


def test_by_a_multivalue_field_is_refused(flows: Splunk) -> None:
    with pytest.raises(UnsupportedSpl, match="multivalue"):
        run(flows, 'eval m=split("a,b", ",") | stats count BY m')


def test_unknown_stats_function_is_refused(flows: Splunk) -> None:
    with pytest.raises(UnsupportedSpl, match="perc95"):
        run(flows, "stats perc95(bytes)")


def test_eventstats_leaves_rows_without_the_by_field_unchanged(flows: Splunk) -> None:
    rows = run(flows, "eventstats count AS n BY app | table app n")
    assert sorted((r.get("app", "-"), r.get("n", "-")) for r in rows) == [
        ("-", "-"),
        ("a", "3"),
        ("a", "3"),
        ("a", "3"),
        ("b", "1"),
    ]


def test_eventstats_output_order_is_not_the_input_order(tmp_path: Path) -> None:
    events = [json_event(T0 + i, n=str(i)) for i in range(10)]
    sp = splunk_with(tmp_path, events, seed=0)
    rows = sp.search("index=main | eventstats count | table n", now=T0 + 60).rows
    assert [r["n"] for r in rows] != [str(i) for i in reversed(range(10))]
    assert sorted(r["n"] for r in rows) == sorted(str(i) for i in range(10))


def test_eventstats_of_an_eval(flows: Splunk) -> None:
    rows = run(flows, 'eventstats min(eval(if(kind="file", bytes, null()))) AS m | table m')
    assert {r["m"] for r in rows} == {"5"}


def test_streamstats_counts_so_far(flows: Splunk) -> None:
    rows = run(flows, "streamstats count AS n | table n")
    assert [r["n"] for r in rows] == ["1", "2", "3", "4", "5"]


def test_streamstats_current_false_excludes_the_row(flows: Splunk) -> None:
    rows = run(flows, "streamstats current=false max(bytes) AS m | table m")
    assert [r.get("m") for r in rows] == [None, "5", "5", "30", "30"]


def test_streamstats_window_by_group(flows: Splunk) -> None:
    rows = run(flows, "streamstats window=2 global=false sum(bytes) AS s BY app | table app s")
    assert [(r.get("app"), r.get("s")) for r in rows] == [
        (None, None),
        ("a", None),
        ("a", "30"),
        ("a", "32"),
        ("b", "10"),
    ]


def test_streamstats_reset_on_change(flows: Splunk) -> None:
    rows = run(flows, "eval k=kind | streamstats reset_on_change=true count AS n BY k | table k n")
    assert [r["n"] for r in rows] == ["1", "1", "1", "1", "2"]


def test_streamstats_time_window_is_refused(flows: Splunk) -> None:
    with pytest.raises(UnsupportedSpl, match="time_window"):
        run(flows, "streamstats time_window=5m count")
