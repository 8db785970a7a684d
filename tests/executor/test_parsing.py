"""Pipelines, macros and subsearches."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.executor import SplError, UnsupportedSpl
from tests.executor.pipeline import format_results, split_pipeline

from .support import T0, json_event, splunk_with


def test_pipes_inside_quotes_brackets_and_parentheses_do_not_split() -> None:
    stages = split_pipeline('x="a|b" [| makeresults | eval y=1] | eval z=if(a=="|", 1, 2)')
    assert [s.name for s in stages] == ["search", "eval"]


def test_a_search_without_leading_pipe_starts_with_the_event_search() -> None:
    assert [(s.name, s.piped) for s in split_pipeline("search index=a | head 1")] == [
        ("search", False),
        ("head", True),
    ]


def test_unknown_command_is_refused_by_name(tmp_path: Path) -> None:
    sp = splunk_with(tmp_path)
    with pytest.raises(UnsupportedSpl, match="command 'iplocation'"):
        sp.search("| makeresults | iplocation clientip", now=T0)


def test_a_non_generating_command_first_is_an_error(tmp_path: Path) -> None:
    sp = splunk_with(tmp_path)
    with pytest.raises(SplError, match="must be the first command"):
        sp.search("| eval x=1", now=T0)


def test_macros_expand_recursively(tmp_path: Path) -> None:
    macros = {"outer": {"definition": "eval a=`inner`"}, "inner": {"definition": "41 + 1"}}
    sp = splunk_with(tmp_path, macros=macros)
    assert sp.search("| makeresults | `outer` | table a", now=T0).rows == [{"a": "42"}]


def test_set_macro_overrides_the_app_definition(tmp_path: Path) -> None:
    sp = splunk_with(tmp_path, macros={"m": {"definition": "1"}})
    sp.set_macro("m", "2")
    assert sp.search("| makeresults | eval a=`m` | table a", now=T0).rows == [{"a": "2"}]


def test_macro_arguments_replace_dollar_names(tmp_path: Path) -> None:
    macros = {"add(2)": {"args": "x, y", "definition": "eval s=$x$ + $y$"}}
    sp = splunk_with(tmp_path, macros=macros)
    assert sp.search("| makeresults | `add(2, 3)` | table s", now=T0).rows == [{"s": "5"}]


def test_eval_macro_expands_to_its_string_value(tmp_path: Path) -> None:
    sp = splunk_with(tmp_path)
    sp.set_macro("seven", '"eval n=" . (3 + 4)', iseval=True)
    assert sp.search("| makeresults | `seven` | table n", now=T0).rows == [{"n": "7"}]


def test_backticks_inside_quotes_are_not_macros(tmp_path: Path) -> None:
    sp = splunk_with(tmp_path)
    assert sp.search('| makeresults | eval t="`nomacro`" | table t', now=T0).rows == [{"t": "`nomacro`"}]


def test_undefined_macro_is_an_error_naming_it(tmp_path: Path) -> None:
    sp = splunk_with(tmp_path)
    with pytest.raises(SplError, match="'not_there' cannot be found"):
        sp.search("| makeresults | `not_there`", now=T0)


def test_format_of_rows_fields_and_multivalues() -> None:
    text = format_results([{"a": "1", "b": ["x", 'y"z'], "_time": "5"}, {"a": "2"}], ["a", "b", "_time"])
    assert text == '( ( a="1" AND ( b="x" OR b="y\\"z" ) ) OR ( a="2" ) )'


def test_format_of_no_rows_is_not_empty_group() -> None:
    assert format_results([], ["a"]) == "NOT ( )"


def test_format_inserts_a_search_field_as_is() -> None:
    assert format_results([{"search": "finding_id=x OR *"}], ["search"]) == "( ( finding_id=x OR * ) )"


def test_subsearch_results_filter_the_outer_search(tmp_path: Path) -> None:
    events = [json_event(T0 + i, user=u) for i, u in enumerate(["a", "b", "c"])]
    sp = splunk_with(tmp_path, events)
    spl = 'index=main [| makeresults count=1 | eval user="b" | fields user] | table user'
    assert sp.search(spl, now=T0 + 100).rows == [{"user": "b"}]


def test_empty_subsearch_matches_nothing(tmp_path: Path) -> None:
    sp = splunk_with(tmp_path, [json_event(T0, user="a")])
    spl = 'index=main [| makeresults | where 1==2 | eval user="b" | fields user]'
    assert sp.search(spl, now=T0 + 100).rows == []


def test_subsearch_rows_are_truncated_to_maxout_with_a_message(tmp_path: Path) -> None:
    sp = splunk_with(tmp_path, [json_event(T0, n="1")])
    result = sp.search("index=main [| makeresults count=10001 | eval n=1 | fields n] | table n", now=T0 + 100)
    assert result.rows == [{"n": "1"}]
    assert "Subsearch produced 10001 results, truncating to maxout 10000." in result.texts("WARN")[0]


def test_subsearch_earliest_and_latest_become_the_time_range(tmp_path: Path) -> None:
    events = [json_event(T0 + i * 100, n=str(i)) for i in range(5)]
    sp = splunk_with(tmp_path, events)
    subsearch = f"| makeresults | eval earliest={T0 + 100}, latest={T0 + 300} | fields earliest latest"
    spl = f"index=main [{subsearch}] | table n"
    assert sp.search(spl, now=T0 + 1000, earliest="-5m", latest="now").rows == [{"n": "2"}, {"n": "1"}]


def test_check_parses_without_running(tmp_path: Path) -> None:
    sp = splunk_with(tmp_path)
    commands = sp.check("| makeresults | eval a=1 | stats count BY a | sort - count")
    assert len(commands) == 4
