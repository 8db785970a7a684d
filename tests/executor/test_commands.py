"""The streaming, ordering, generating and combining commands."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.executor import IndexedEvent, SplError, Splunk, UnsupportedSpl

from .support import T0, json_event, splunk_with


def mk(sp: Splunk, spl: str, now: float = T0 + 600, **kwargs: Any) -> list[dict[str, Any]]:
    return sp.search(spl, now=now, **kwargs).rows


@pytest.fixture
def three(tmp_path: Path) -> Splunk:
    events = [
        json_event(T0 + 1, name="ann", score=30, apps=["a", "b", "c"], doc={"k": [{"v": 1}, {"v": 2}]}),
        json_event(T0 + 2, name="bob", score=4, apps=["d"]),
        json_event(T0 + 3, name="cy", score="n/a"),
    ]
    return splunk_with(tmp_path, events)


# ------------------------------------------------------------------ where / fields / table / rename


def test_where_keeps_true_rows_comparing_text_with_a_number_as_text(three: Splunk) -> None:
    # cy's score "n/a" is not a number: compared as text, "n/a" > "5".
    assert mk(three, "index=main | where score > 5 | table name") == [{"name": "cy"}, {"name": "ann"}]


def test_where_with_a_non_boolean_is_an_error(three: Splunk) -> None:
    with pytest.raises(SplError, match="Boolean"):
        mk(three, "index=main | where score")


def test_fields_keeps_listed_and_internal_fields(three: Splunk) -> None:
    row = mk(three, "index=main | fields name")[0]
    assert set(row) == {"name", "_raw", "_time", "_indextime"}


def test_fields_minus_with_wildcard(three: Splunk) -> None:
    row = mk(
        three, "index=main | head 1 | fields - apps* doc* _* ts index source* host linecount splunk_server"
    )[0]
    assert row == {"name": "cy", "score": "n/a"}


def test_table_orders_columns_and_drops_the_rest(three: Splunk) -> None:
    result = three.search("index=main | table score n*", now=T0 + 60)
    assert result.fields == ["score", "name"] and result.rows[0] == {"score": "n/a", "name": "cy"}


def test_rename_replaces_the_target_column(three: Splunk) -> None:
    rows = mk(three, 'index=main | eval old="x" | eval new=name | rename old AS new | table new')
    assert {r["new"] for r in rows} == {"x"}


def test_rename_quoted_name(three: Splunk) -> None:
    assert mk(three, '| makeresults | eval "row 1"="v" | rename "row 1" AS value | table value') == [
        {"value": "v"}
    ]


def test_rename_with_wildcards_is_refused(three: Splunk) -> None:
    with pytest.raises(UnsupportedSpl, match="wildcards"):
        mk(three, "index=main | rename a* AS b*")


def test_fillnull_listed_fields(three: Splunk) -> None:
    rows = mk(three, "index=main | table name apps{} | fillnull value=none apps{}")
    assert [r["apps{}"] for r in rows] == ["none", "d", ["a", "b", "c"]]


def test_fillnull_default_zero_for_every_field(three: Splunk) -> None:
    rows = mk(three, "index=main | table name apps{} | fillnull")
    assert rows[0] == {"name": "cy", "apps{}": "0"}


# ------------------------------------------------------------------ head / sort / dedup


def test_head_default_ten_and_count(tmp_path: Path) -> None:
    sp = splunk_with(tmp_path, [json_event(T0 + i, n=i) for i in range(12)])
    assert len(mk(sp, "index=main | head")) == 10 and len(mk(sp, "index=main | head 3")) == 3


def test_sort_auto_numbers_before_text_and_missing_last(three: Splunk) -> None:
    rows = mk(three, "index=main | eval s=score | sort s | table name")
    assert [r["name"] for r in rows] == ["bob", "ann", "cy"]


def test_sort_descending_with_space_after_minus(three: Splunk) -> None:
    assert [r["name"] for r in mk(three, "index=main | sort 0 - name | table name")] == ["cy", "bob", "ann"]


def test_sort_missing_values_last_also_descending(three: Splunk) -> None:
    rows = mk(three, 'index=main | eval s=if(name=="bob", null(), 1) | sort -s | table name')
    assert rows[-1] == {"name": "bob"}


def test_sort_default_limit_is_10000(sp: Splunk) -> None:
    assert len(mk(sp, "| makeresults count=10005 | sort _time")) == 10000


def test_sort_zero_keeps_everything(sp: Splunk) -> None:
    assert len(mk(sp, "| makeresults count=10005 | sort 0 _time")) == 10005


def test_sort_str_function_sorts_numbers_as_text(sp: Splunk) -> None:
    rows = mk(
        sp,
        '| makeresults count=3 | streamstats count AS n | eval v=case(n==1, "10", n==2, "9", true(), "100")'
        " | sort str(v) | table v",
    )
    assert [r["v"] for r in rows] == ["10", "100", "9"]


def test_dedup_keeps_first_and_drops_rows_without_the_field(three: Splunk) -> None:
    rows = mk(three, 'index=main | eval k=if(name=="cy", null(), "same") | dedup k | table name')
    assert rows == [{"name": "bob"}]


def test_dedup_keepempty(three: Splunk) -> None:
    rows = mk(
        three, 'index=main | eval k=if(name=="cy", null(), "same") | dedup k keepempty=true | table name'
    )
    assert rows == [{"name": "cy"}, {"name": "bob"}]


# ------------------------------------------------------------------ mvexpand / rex / spath


def test_mvexpand_one_result_per_value_with_limit(three: Splunk) -> None:
    rows = mk(three, "index=main | rename apps{} AS app | mvexpand app limit=2 | table name app")
    assert rows == [{"name": "bob", "app": "d"}, {"name": "ann", "app": "a"}, {"name": "ann", "app": "b"}]


def test_mvexpand_drops_results_without_the_field(three: Splunk) -> None:
    assert "cy" not in {r["name"] for r in mk(three, "index=main | rename apps{} AS app | mvexpand app")}


def test_rex_named_groups_on_raw(three: Splunk) -> None:
    rows = mk(three, 'index=main | rex "\\"name\\": \\"(?<first>\\w)" | table first')
    assert [r["first"] for r in rows] == ["c", "b", "a"]


def test_rex_max_match_zero_gives_multivalue(three: Splunk) -> None:
    rows = mk(
        three, 'index=main name=ann | rex field=_raw max_match=0 "\\"(?<letter>[abc])\\"" | table letter'
    )
    assert rows == [{"letter": ["a", "b", "c"]}]


def test_rex_without_match_leaves_the_result(three: Splunk) -> None:
    rows = mk(three, 'index=main name=ann | eval x="keep" | rex field=name "(?<x>zzz)" | table x')
    assert rows == [{"x": "keep"}]


def test_spath_path_with_array_braces_and_output(three: Splunk) -> None:
    rows = mk(three, "index=main name=ann | spath path=doc.k{}.v output=vals | table vals")
    assert rows == [{"vals": ["1", "2"]}]


def test_spath_array_elements_as_json_then_input(three: Splunk) -> None:
    spl = (
        "index=main name=ann | spath path=doc.k{} output=item | mvexpand item"
        " | spath input=item path=v output=v | table v"
    )
    assert [r["v"] for r in mk(three, spl)] == ["1", "2"]


def test_spath_without_path_extracts_everything(three: Splunk) -> None:
    rows = mk(three, '| makeresults | eval j="{\\"a\\":{\\"b\\":true}}" | spath input=j | table a.b')
    assert rows == [{"a.b": "true"}]


# ------------------------------------------------------------------ generating / info / transpose


def test_unknown_option_is_refused_by_name(sp: Splunk) -> None:
    with pytest.raises(UnsupportedSpl, match="option 'annotate' of command 'makeresults'"):
        mk(sp, "| makeresults annotate=true")


def test_makeresults_count_and_time(sp: Splunk) -> None:
    assert mk(sp, "| makeresults count=2", now=T0 + 0.5) == [{"_time": str(int(T0))}] * 2


def test_addinfo_gives_the_time_range_and_infinity_for_all_time(sp: Splunk) -> None:
    bounded = mk(sp, "| makeresults | addinfo", now=T0, earliest="-1h", latest="now")[0]
    unbounded = mk(sp, "| makeresults | addinfo", now=T0)[0]
    assert (bounded["info_min_time"], bounded["info_max_time"]) == (f"{T0 - 3600:.3f}", f"{T0:.3f}")
    assert (unbounded["info_min_time"], unbounded["info_max_time"]) == ("0.000", "+Infinity")


def test_transpose_all_rows_with_column_name(sp: Splunk) -> None:
    rows = mk(
        sp,
        '| makeresults | eval a="1", b="2" | table a b | transpose 0 column_name=field'
        ' | rename "row 1" AS value',
    )
    assert rows == [{"field": "a", "value": "1"}, {"field": "b", "value": "2"}]


def test_transpose_default_is_five_rows(sp: Splunk) -> None:
    result = sp.search("| makeresults count=7 | eval a=1 | table a | transpose", now=T0)
    assert result.fields == ["column", "row 1", "row 2", "row 3", "row 4", "row 5"]


# ------------------------------------------------------------------ timechart / tstats


@pytest.fixture
def hourly(tmp_path: Path) -> Splunk:
    events = [json_event(T0 + 3600 * h + m, kind=k) for h, m, k in [(0, 5, "a"), (0, 6, "b"), (2, 1, "a")]]
    events.append(json_event(T0 + 3600 * 2 + 9))
    return splunk_with(tmp_path, events)


def test_timechart_count_by_fills_empty_buckets_with_zero(hourly: Splunk) -> None:
    start = 1699999200  # T0 snapped to the hour
    rows = mk(
        hourly,
        "index=main | timechart span=1h count BY kind",
        now=start + 4 * 3600,
        earliest=start,
        latest=start + 3 * 3600,
    )
    assert rows == [
        {"_time": str(start), "a": "1", "b": "1", "NULL": "0"},
        {"_time": str(start + 3600), "a": "0", "b": "0", "NULL": "0"},
        {"_time": str(start + 7200), "a": "1", "b": "0", "NULL": "1"},
    ]


def test_timechart_sum_leaves_empty_cells_empty(hourly: Splunk) -> None:
    rows = mk(
        hourly,
        "index=main | eval one=1 | timechart span=1h sum(one) BY kind usenull=false",
        now=T0 + 5 * 3600,
    )
    assert rows[1] == {"_time": str(1699999200 + 3600)}


def test_timechart_limit_puts_the_rest_in_other(tmp_path: Path) -> None:
    events = [json_event(T0 + i, kind=k) for i, k in enumerate("aaabbc")]
    sp = splunk_with(tmp_path, events)
    result = sp.search("index=main | timechart span=1d limit=1 count BY kind", now=T0 + 60)
    assert result.fields == ["_time", "a", "OTHER"] and result.rows[0]["OTHER"] == "3"


def test_timechart_without_span_is_refused(hourly: Splunk) -> None:
    with pytest.raises(UnsupportedSpl, match="span"):
        mk(hourly, "index=main | timechart count")


def test_tstats_count_by_time_span_and_sourcetype(hourly: Splunk) -> None:
    rows = mk(hourly, "| tstats count WHERE index=main BY _time span=1h sourcetype", now=T0 + 5 * 3600)
    assert rows == [
        {"_time": "1699999200", "sourcetype": "json:test", "count": "2"},
        {"_time": "1700006400", "sourcetype": "json:test", "count": "2"},
    ]


def test_tstats_max_time_by_indexed_fields(hourly: Splunk) -> None:
    rows = mk(
        hourly, "| tstats count AS events max(_time) AS last WHERE index=* BY index source", now=T0 + 5 * 3600
    )
    assert rows == [{"index": "main", "source": "test.log", "events": "4", "last": str(int(T0 + 7209))}]


def test_tstats_on_a_non_indexed_field_is_refused(hourly: Splunk) -> None:
    with pytest.raises(UnsupportedSpl, match="non-indexed field kind"):
        mk(hourly, "| tstats count WHERE index=main kind=a")


def test_tstats_from_a_data_model_uses_its_constraint_and_tags(tmp_path: Path) -> None:
    eventtypes = {"web_et": {"search": "sourcetype=json:test kind=a"}}
    tags = {"eventtype=web_et": {"web": "enabled"}}
    events = [json_event(T0 + i, kind=k) for i, k in enumerate("aab")]
    sp = splunk_with(tmp_path, events, eventtypes=eventtypes, tags=tags)
    rows = mk(sp, "| tstats count FROM datamodel=Web.Web WHERE index=main BY sourcetype")
    assert rows == [{"sourcetype": "json:test", "count": "2"}]


def test_tstats_summariesonly_reads_nothing_of_an_unaccelerated_model(tmp_path: Path) -> None:
    sp = splunk_with(tmp_path, [json_event(T0)])
    sp.accelerated_datamodels.clear()
    assert mk(sp, "| tstats summariesonly=true count FROM datamodel=Web.Web WHERE index=main") == [
        {"count": "0"}
    ]


# ------------------------------------------------------------------ rest


def test_rest_app_endpoint_answers_installed_apps(sp: Splunk) -> None:
    sp.installed_apps["SplunkEnterpriseSecuritySuite"] = {"version": "8.1.0"}
    rows = mk(
        sp,
        "| rest splunk_server=local count=0 /services/apps/local/SplunkEnterpriseSecuritySuite"
        " | fields version",
    )
    assert rows == [{"version": "8.1.0"}]


def test_rest_app_endpoint_without_the_app_gives_nothing_and_a_warning(sp: Splunk) -> None:
    result = sp.search(
        "| rest splunk_server=local count=0 /services/apps/local/SplunkEnterpriseSecuritySuite", now=T0
    )
    assert result.rows == [] and "Not Found" in result.texts("WARN")[0]


def test_rest_macros_endpoint_gives_the_instance_macros(tmp_path: Path) -> None:
    sp = splunk_with(tmp_path, macros={"m_one": {"definition": "1"}})
    sp.set_macro("m_one", "5")
    rows = mk(
        sp,
        "| rest splunk_server=local count=0 /servicesNS/-/test_app/configs/conf-macros"
        " | table title definition",
    )
    assert rows == [{"title": "m_one", "definition": "5"}]


def test_rest_other_endpoints_are_refused(sp: Splunk) -> None:
    with pytest.raises(UnsupportedSpl, match="rest endpoint"):
        mk(sp, "| rest /services/server/info")


# ------------------------------------------------------------------ append / multisearch / union


def test_append_adds_the_subsearch_rows_after(three: Splunk) -> None:
    rows = mk(
        three, '| makeresults | eval a="first" | append [| makeresults count=2 | eval a="sub"] | table a'
    )
    assert [r["a"] for r in rows] == ["first", "sub", "sub"]


def test_append_subsearch_is_limited_to_maxout_with_a_message(sp: Splunk) -> None:
    result = sp.search("| makeresults | append [| makeresults count=10003]", now=T0)
    assert len(result.rows) == 10001 and "truncating to maxout 10000" in result.texts("WARN")[0]


def test_append_maxout_option(sp: Splunk) -> None:
    assert len(mk(sp, "| makeresults | append maxout=2 [| makeresults count=5]")) == 3


def test_multisearch_interleaves_newest_first_without_row_limits(tmp_path: Path) -> None:
    events = [json_event(T0 + i, index="a" if i % 2 else "b", n=i) for i in range(6)]
    sp = splunk_with(tmp_path, events)
    rows = mk(sp, "| multisearch [search index=a] [search index=b | eval x=1] | table n")
    assert [r["n"] for r in rows] == ["5", "4", "3", "2", "1", "0"]


def test_multisearch_refuses_a_non_streaming_subsearch(sp: Splunk) -> None:
    with pytest.raises(SplError, match="streaming"):
        mk(sp, "| multisearch [search index=a | stats count] [search index=b]")


def test_union_of_streaming_searches_interleaves(tmp_path: Path) -> None:
    events = [json_event(T0 + i, index="a" if i % 2 else "b", n=i) for i in range(4)]
    sp = splunk_with(tmp_path, events)
    assert [r["n"] for r in mk(sp, "| union [search index=a] [search index=b] | table n")] == [
        "3",
        "2",
        "1",
        "0",
    ]


def test_union_after_a_pipe_appends(sp: Splunk) -> None:
    assert len(mk(sp, "| makeresults | union [| makeresults count=2]")) == 3


def test_text_events_without_props_get_only_default_fields(tmp_path: Path) -> None:
    sp = splunk_with(
        tmp_path, [IndexedEvent("main", "dhcp", "dhcp.log", "h", "lease ip=10.0.0.1", T0 + 5, time=T0)]
    )
    row = mk(sp, "index=main sourcetype=dhcp")[0]
    assert "ip" not in row and row["_time"] == str(int(T0)) and row["_raw"] == "lease ip=10.0.0.1"
