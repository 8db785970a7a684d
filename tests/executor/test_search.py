"""Search-command expressions and the event search itself."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.executor import IndexedEvent, Splunk, UnsupportedSpl

from .support import T0, json_event, splunk_with


def names(sp: Splunk, spl: str, now: float = T0 + 3600, **kwargs: Any) -> list[str]:
    return [row.get("name", "") for row in sp.search(spl + " | table name", now=now, **kwargs).rows]


@pytest.fixture
def people(tmp_path: Path) -> Splunk:
    events = [
        json_event(T0 + 1, name="ann", role="Admin", age=31, ip="10.1.2.3"),
        json_event(T0 + 2, name="bob", role="user", age=9, tags=["x", "y"]),
        json_event(T0 + 3, name="cy", age=100, ip="192.168.0.1"),
        json_event(T0 + 4, index="other", name="dee", role="user"),
    ]
    return splunk_with(tmp_path, events)


def test_values_match_case_insensitively(people: Splunk) -> None:
    assert names(people, "index=main role=admin") == ["ann"]


def test_field_names_are_case_sensitive(people: Splunk) -> None:
    assert names(people, "index=main Role=admin") == []


def test_wildcard_in_a_quoted_value_is_a_wildcard(people: Splunk) -> None:
    assert names(people, 'index=main name="*n*"') == ["ann"]


def test_not_equal_needs_the_field(people: Splunk) -> None:
    assert names(people, "index=main role!=admin") == ["bob"]


def test_not_keeps_events_without_the_field(people: Splunk) -> None:
    assert names(people, "index=main NOT role=admin") == ["cy", "bob"]


def test_field_star_needs_a_value(people: Splunk) -> None:
    assert names(people, "index=main ip=*") == ["cy", "ann"]


def test_in_list_with_wildcards(people: Splunk) -> None:
    assert names(people, "index=main name IN (a*, cy)") == ["cy", "ann"]


def test_cidr_value_matches_ip_fields(people: Splunk) -> None:
    assert names(people, "index=main ip=10.0.0.0/8") == ["ann"]


def test_numeric_comparison_when_both_are_numbers(people: Splunk) -> None:
    assert names(people, "index=main age>30") == ["cy", "ann"]


def test_multivalue_field_matches_any_value(people: Splunk) -> None:
    assert names(people, "index=main tags{}=y") == ["bob"]


def test_not_equal_on_a_multivalue_field_is_refused(people: Splunk) -> None:
    with pytest.raises(UnsupportedSpl, match="multivalue"):
        names(people, "index=main tags{}!=y")


def test_or_binds_tighter_than_the_implicit_and(people: Splunk) -> None:
    # (name=ann OR name=bob) AND role=user
    assert names(people, "index=main name=ann OR name=bob role=user") == ["bob"]


def test_parentheses_and_explicit_and(people: Splunk) -> None:
    assert names(people, "index=main (name=ann AND role=admin) OR name=cy") == ["cy", "ann"]


def test_without_an_index_term_only_main_is_searched(people: Splunk) -> None:
    assert names(people, "role=user") == ["bob"]


def test_index_star_reaches_every_non_internal_index(tmp_path: Path) -> None:
    events = [json_event(T0, index="_internal", name="log"), json_event(T0 + 1, index="apps", name="app")]
    sp = splunk_with(tmp_path, events)
    assert names(sp, "index=*") == ["app"] and names(sp, "index=_internal") == ["log"]


def test_sourcetype_and_host_terms(tmp_path: Path) -> None:
    sp = splunk_with(
        tmp_path, [json_event(T0, name="a", host="web1"), json_event(T0 + 1, name="b", host="db1")]
    )
    assert names(sp, "index=main sourcetype=json:test host=web*") == ["a"]


def test_bare_term_matches_a_whole_segment_of_raw(tmp_path: Path) -> None:
    raws = ["2023 ERROR disk full", "2023 ERRORS are plural", "x=1,WARNING:late"]
    events = [IndexedEvent("main", "text", "s", "h", raw, T0 + i, time=T0 + i) for i, raw in enumerate(raws)]
    sp = splunk_with(tmp_path, events)
    rows = sp.search("index=main (error OR warning) | table _raw", now=T0 + 100).rows
    assert [r["_raw"] for r in rows] == ["x=1,WARNING:late", "2023 ERROR disk full"]


def test_quoted_phrase_term(tmp_path: Path) -> None:
    events = [
        IndexedEvent("main", "text", "s", "h", r, T0 + i, time=T0 + i)
        for i, r in enumerate(["a warm-up gate closed", "gate"])
    ]
    sp = splunk_with(tmp_path, events)
    assert len(sp.search('index=main "warm-up gate closed"', now=T0 + 100).rows) == 1


def test_wildcard_in_a_bare_term_is_refused(people: Splunk) -> None:
    with pytest.raises(UnsupportedSpl, match="bare search term"):
        names(people, "index=main ann*")


def test_events_come_newest_first(people: Splunk) -> None:
    assert names(people, "index=main") == ["cy", "bob", "ann"]


def test_time_range_is_earliest_inclusive_latest_exclusive(people: Splunk) -> None:
    assert names(people, "index=main", now=T0 + 60, earliest=T0 + 1, latest=T0 + 3) == ["bob", "ann"]


def test_a_search_sees_only_events_indexed_by_its_now(tmp_path: Path) -> None:
    sp = splunk_with(tmp_path, [json_event(T0, name="early", lag=5), json_event(T0, name="late", lag=500)])
    assert names(sp, "index=main", now=T0 + 60) == ["early"]


def test_equal_times_come_in_a_seeded_order_that_ignores_arrival(tmp_path: Path) -> None:
    events = [json_event(T0, name=str(i)) for i in range(8)]
    orders = {
        tuple(names(splunk_with(tmp_path / str(seed), events, seed=seed), "index=main")) for seed in range(4)
    }
    assert len(orders) > 1 and tuple(str(i) for i in range(8)) not in orders


def test_same_seed_same_order(tmp_path: Path) -> None:
    events = [json_event(T0, name=str(i)) for i in range(8)]
    first = names(splunk_with(tmp_path / "a", events, seed=3), "index=main")
    assert names(splunk_with(tmp_path / "b", events, seed=3), "index=main") == first


def test_index_earliest_filters_on_index_time(tmp_path: Path) -> None:
    sp = splunk_with(tmp_path, [json_event(T0, name="a", lag=10), json_event(T0, name="b", lag=400)])
    assert names(sp, f"index=main _index_earliest={T0 + 300}", now=T0 + 900) == ["b"]


def test_time_modifier_under_or_is_refused(people: Splunk) -> None:
    with pytest.raises(UnsupportedSpl, match="time modifier"):
        names(people, "index=main (earliest=-1h OR name=ann)")


def test_search_command_filters_results(people: Splunk) -> None:
    rows = people.search(
        'index=main | eval kind=if(age>30, "old", "young") | search kind=OLD | table name', now=T0 + 60
    ).rows
    assert rows == [{"name": "cy"}, {"name": "ann"}]
