"""tests/dashboards/spl.py: the fields a search outputs and reads, one form at a time."""

from __future__ import annotations

import pytest

from . import spl


def test_table_fixes_the_fields_in_order() -> None:
    assert spl.output("| inputlookup x | table b a c").fields == ("b", "a", "c")


def test_stats_outputs_by_fields_then_aliases() -> None:
    out = spl.output('search x | stats count AS n count(eval(s="high")) AS h dc(d) AS devices BY app dest')
    assert out.fields == ("app", "dest", "n", "h", "devices")


def test_stats_without_alias_names_the_function() -> None:
    assert spl.output("search x | stats count max(score) BY app").fields == ("app", "count", "max(score)")


def test_timechart_by_splits_on_the_values_of_a_field() -> None:
    assert spl.output("search x | timechart span=1h count BY severity") == spl.Output(("_time",), "severity")


def test_tstats_reads_aggregations_before_where_and_by_fields() -> None:
    out = spl.output("| tstats count AS events max(_time) AS last WHERE index=* BY _time span=1h sourcetype")
    assert out.fields == ("_time", "sourcetype", "events", "last")


def test_eval_rename_and_sort_keep_a_fixed_list() -> None:
    out = spl.output("| inputlookup x | table a b | eval c=a+1 | rename b AS bee | sort - c | head 3")
    assert out.fields == ("a", "bee", "c")


def test_transpose_then_rename_gives_field_and_value() -> None:
    out = spl.output('| inputlookup x | table a b | transpose 0 column_name=field | rename "row 1" AS value')
    assert out.fields == ("field", "value")


def test_lookup_outputs_are_added_with_their_aliases() -> None:
    out = spl.output(
        "| inputlookup x | fields d | lookup inv d OUTPUT ip user AS owner | lookup a d OUTPUTNEW m"
    )
    assert out.fields == ("d", "ip", "owner", "m")


def test_pipes_inside_subsearches_and_quotes_are_not_stages() -> None:
    stages = spl.stages('search a [| inputlookup x | fields y] | eval z="p|q" | table z')
    assert [command for command, _ in stages] == ["search", "eval", "table"]


def test_subsearches_are_found_nested() -> None:
    assert spl.subsearches("search [| a [| b] | c]") == ["| a [| b] | c", "| b"]


def test_a_search_that_does_not_fix_its_fields_is_refused() -> None:
    with pytest.raises(spl.SplError, match="does not end in a command"):
        spl.output("search index=main | where x>1")


def test_an_unknown_command_is_refused() -> None:
    with pytest.raises(spl.SplError, match="`xyseries`"):
        spl.output("| inputlookup x | xyseries a b c")


def test_expression_fields_skip_functions_strings_keywords_and_tokens() -> None:
    fields = spl.expression_fields('if(isnull(a) OR b="x y", lower(c), $tok$) AND true()')
    assert fields == {"a", "b", "c"}


def test_eval_defines_its_assignments_only() -> None:
    assert spl.defined_by("eval", 'a=if(x="=", 1, 2), b=round(y, 1)') == ["a", "b"]
