"""tests/dashboards/spl.py: the stages of a search and the fields each stage reads or defines."""

from __future__ import annotations

from . import spl


def test_pipes_inside_subsearches_and_quotes_are_not_stages() -> None:
    stages = spl.stages('search a [| inputlookup x | fields y] | eval z="p|q" | table z')
    assert [command for command, _ in stages] == ["search", "eval", "table"]


def test_subsearches_are_found_nested() -> None:
    assert spl.subsearches("search [| a [| b] | c]") == ["| a [| b] | c", "| b"]


def test_expression_fields_skip_functions_strings_keywords_and_tokens() -> None:
    fields = spl.expression_fields('if(isnull(a) OR b="x y", lower(c), $tok$) AND true()')
    assert fields == {"a", "b", "c"}


def test_eval_defines_its_assignments_only() -> None:
    assert spl.defined_by("eval", 'a=if(x="=", 1, 2), b=round(y, 1)') == ["a", "b"]


def test_stats_reads_its_arguments_and_by_fields() -> None:
    args = 'count(eval(s="high")) AS h dc(d) AS devices max(score) BY app dest'
    assert spl.read_fields("stats", args) == {"s", "d", "score", "app", "dest"}


def test_tstats_defines_its_aggregations_before_where() -> None:
    assert spl.defined_by("tstats", "count AS events max(_time) AS last WHERE index=* BY sourcetype") == [
        "events",
        "last",
    ]


def test_lookup_defines_its_outputs_with_their_aliases_and_reads_its_inputs() -> None:
    args = "inv d OUTPUT ip user AS owner"
    assert spl.defined_by("lookup", args) == ["ip", "owner"]
    assert spl.read_fields("lookup", args) == {"d"}


def test_rex_defines_its_named_groups_and_reads_its_field() -> None:
    args = 'field=suppressed_by "^(mobile_ingress_)?(?<rule>[^:]+)"'
    assert spl.defined_by("rex", args) == ["rule"]
    assert spl.read_fields("rex", args) == {"suppressed_by"}
