"""The eval expression language: operators and the functions the shipped SPL uses."""

from __future__ import annotations

from typing import Any

import pytest

from tests.executor import SplError, Splunk, UnsupportedSpl
from tests.executor.evalexpr import EvalContext, compile_expression, format_result

from .support import T0


def ev(expression: str, now: float = T0, **row: Any) -> Any:
    return format_result(compile_expression(expression)(row, EvalContext(now=now)))


# ------------------------------------------------------------------ operators


def test_plus_adds_numbers_including_numeric_field_text() -> None:
    assert ev("x + 2", x="40") == "42"


def test_plus_concatenates_two_strings() -> None:
    assert ev('"ab" + "cd"') == "abcd"


def test_plus_of_a_number_and_text_is_null() -> None:
    assert ev("x + 1", x="abc") is None


def test_dot_concatenates_numbers_as_text() -> None:
    assert ev('"t=" . x . 1', x="007") == "t=0071"


def test_division_keeps_fractions_and_integral_results_print_without_point() -> None:
    assert (ev("10 / 4"), ev("10 / 5")) == ("2.5", "2")


def test_modulo_of_integers() -> None:
    assert ev("x % 1000", x="1700000000123") == "123"


def test_division_by_zero_is_null() -> None:
    assert ev("1 / 0") is None


def test_comparison_is_numeric_when_both_sides_are_numbers() -> None:
    assert ev("x < y", x="9", y="10") is True


def test_comparison_is_lexicographic_when_one_side_is_text() -> None:
    assert ev('x < "10"', x="9a") is False  # "9a" > "10" by code point


def test_single_and_double_equals_are_the_same_comparison() -> None:
    assert ev('x = "a"', x="a") is True and ev('x == "a"', x="a") is True


def test_equality_of_numbers_ignores_their_text_form() -> None:
    assert ev("x == 1", x="1.0") is True


def test_equality_of_text_is_case_sensitive() -> None:
    assert ev('x == "abc"', x="ABC") is False


def test_comparison_with_null_is_null_and_not_is_null_too() -> None:
    assert ev("x == 1") is None and ev("NOT (x == 1)") is None


def test_and_with_a_false_side_is_false_even_with_null() -> None:
    assert ev("x == 1 AND 1 == 2") is False


def test_or_with_a_true_side_is_true_even_with_null() -> None:
    assert ev("x == 1 OR 1 == 1") is True


def test_xor() -> None:
    assert ev("1 == 1 XOR 1 == 2") is True and ev("1 == 1 XOR 2 == 2") is False


def test_like_operator_uses_percent_and_underscore() -> None:
    assert ev('x LIKE "Incident%"', x="Incident Review") is True and ev('x LIKE "a_c"', x="abbc") is False


def test_in_operator() -> None:
    assert ev('x IN ("a", "b")', x="b") is True and ev('x IN ("a", "b")', x="c") is False


def test_and_binds_tighter_than_or() -> None:
    assert ev("1 == 1 OR 1 == 2 AND 1 == 2") is True


def test_multivalue_operand_of_an_operator_is_refused() -> None:
    with pytest.raises(UnsupportedSpl, match="operator"):
        ev('x . "a"', x=["1", "2"])


def test_a_boolean_cannot_be_assigned_to_a_field(sp: Splunk) -> None:
    with pytest.raises(SplError, match="boolean"):
        sp.search("| makeresults | eval x=1==1", now=T0)


def test_eval_assignments_run_in_order(sp: Splunk) -> None:
    rows = sp.search("| makeresults | eval a=1, b=a+1, a=b*10 | table a b", now=T0).rows
    assert rows == [{"a": "20", "b": "2"}]


def test_eval_null_result_removes_the_field(sp: Splunk) -> None:
    rows = sp.search('| makeresults | eval a="x" | eval a=null() | table a', now=T0).rows
    assert rows == [{}]


# ------------------------------------------------------------------ functions


def test_unknown_function_is_refused_by_name() -> None:
    with pytest.raises(UnsupportedSpl, match=r"sha256\(\)"):
        compile_expression("sha256(x)")


def test_coalesce_returns_first_non_null() -> None:
    assert ev('coalesce(a, b, "z")', b="") == ""


def test_case_returns_first_true_branch_else_null() -> None:
    assert ev('case(x=="a", 1, x=="b", 2)', x="b") == "2" and ev('case(x=="a", 1)', x="c") is None


def test_case_with_unpaired_arguments_is_an_error() -> None:
    with pytest.raises(SplError):
        compile_expression('case(x=="a", 1, 2)')


def test_if_with_a_null_condition_takes_the_else_branch() -> None:
    assert ev('if(x=="a", "yes", "no")') == "no"


def test_isnull_isnotnull_true_null() -> None:
    assert (ev("isnull(x)"), ev("isnotnull(x)", x=""), ev("isnull(null())"), ev("true()")) == (
        True,
        True,
        True,
        True,
    )


def test_isnum_accepts_numeric_text() -> None:
    assert ev("isnum(x)", x="12.5") is True and ev("isnum(x)", x="12a") is False


def test_tonumber_and_base() -> None:
    assert (ev("tonumber(x)", x="0042"), ev('tonumber("ff", 16)'), ev('tonumber("x1")')) == (
        "42",
        "255",
        None,
    )


def test_lower_and_len() -> None:
    assert ev("lower(x)", x="AbC") == "abc" and ev("len(x)", x="héllo") == "5"


def test_replace_with_backreference_and_escaped_backslash_class() -> None:
    assert ev(r'replace(x, "^.*[/\\\\]", "")', x=r"C:\dir\file.apk") == "file.apk"
    assert ev('replace(x, "(\\w+)@(\\w+)", "\\2 at \\1")', x="bob@example") == "example at bob"


def test_substr_is_one_based_and_negative_counts_from_the_end() -> None:
    assert (ev('substr("abcdef", 2, 3)'), ev('substr("00" . 7, -3)'), ev('substr("abc", 0, 2)')) == (
        "bcd",
        "007",
        "a",
    )


def test_spath_reads_a_path_of_json_text() -> None:
    raw = '{"a": {"b": [1, 2.50]}, "host": "x"}'
    assert ev('spath(r, "a.b{}")', r=raw) == ["1", "2.50"] and ev('spath(r, "host")', r=raw) == "x"


def test_spath_of_missing_path_or_non_json_is_null() -> None:
    assert ev('spath(r, "nope")', r='{"a":1}') is None and ev('spath(r, "a")', r="not json") is None


def test_now_is_the_search_time() -> None:
    assert ev("now()", now=T0 + 5) == str(int(T0 + 5))


def test_relative_time_snaps_to_the_unit() -> None:
    assert ev('relative_time(t, "-1d@d")', t="1700000000") == "1699833600"  # 2023-11-13T00:00:00Z


def test_relative_time_months() -> None:
    assert ev('relative_time(t, "-1mon@mon")', t="1700000000") == "1696118400"  # 2023-10-01


def test_strftime_with_subseconds_and_zone() -> None:
    assert ev('strftime(t, "%Y-%m-%d %H:%M:%S.%3N %Z")', t="1700000000.25") == "2023-11-14 22:13:20.250 UTC"


def test_strptime_with_subseconds_and_zulu() -> None:
    assert ev('strptime(s, "%Y-%m-%dT%H:%M:%S.%3N%Z")', s="2023-11-14T22:13:20.500Z") == "1700000000.5"


def test_strptime_of_text_that_does_not_match_is_null() -> None:
    assert ev('strptime(s, "%Y-%m-%d")', s="yesterday") is None


def test_round_is_half_away_from_zero_and_digits() -> None:
    assert (ev("round(2.5)"), ev("round(-2.5)"), ev("round(x, 1)", x="66.66")) == ("3", "-3", "66.7")


def test_floor_and_ceiling() -> None:
    assert (ev("floor(x)", x="12.7"), ev("ceiling(x)", x="12.2")) == ("12", "13")


def test_max_and_min_treat_strings_as_greater_than_numbers() -> None:
    assert (ev('max(3, x, "foo")', x="10"), ev('min(3, x, "foo")', x="10")) == ("foo", "3")


def test_max_skips_nulls() -> None:
    assert ev("max(x, 4)") == "4"


def test_mvappend_and_mvdedup_keep_order() -> None:
    assert ev('mvdedup(mvappend(a, "x", b))', a=["x", "y"], b="y") == ["x", "y"]


def test_mvfilter_evaluates_per_value() -> None:
    assert ev('mvfilter(s=="load" OR s=="unpack")', s=["retrieval", "unpack", "load"]) == ["unpack", "load"]


def test_mvfilter_over_two_fields_is_an_error() -> None:
    with pytest.raises(SplError, match="exactly one field"):
        compile_expression("mvfilter(a==b)")


def test_mvjoin_mvcount_mvindex() -> None:
    values = ["a", "b", "c", "d"]
    assert (
        ev('mvjoin(v, "|")', v=values),
        ev("mvcount(v)", v=values),
        ev("mvindex(v, -1)", v=values),
        ev("mvindex(v, 1, 2)", v=values),
        ev("mvindex(v, 9)", v=values),
    ) == ("a|b|c|d", "4", "d", ["b", "c"], None)


def test_mvcount_of_missing_field_is_null() -> None:
    assert ev("mvcount(v)") is None


def test_mvmap_binds_the_field_to_each_value() -> None:
    assert ev('mvmap(c, "category|" . c)', c=["A", "B"]) == ["category|A", "category|B"]


def test_mvfind_returns_index_of_first_match() -> None:
    assert (
        ev('mvfind(v, "^avail")', v=["required", "available"]) == "1"
        and ev('mvfind(v, "x")', v=["a"]) is None
    )


def test_mvzip_pairs_values() -> None:
    assert ev("mvzip(a, b)", a=["tcp", "udp"], b=["80", "53"]) == ["tcp,80", "udp,53"]


def test_split_makes_a_multivalue() -> None:
    assert ev('split(x, "|")', x="a|b|c") == ["a", "b", "c"]


def test_like_and_match_functions() -> None:
    assert ev('like(x, "%.apk")', x="a.apk") is True and ev('match(x, "^(true|1)$")', x="1") is True


def test_cidrmatch() -> None:
    assert (
        ev('cidrmatch("10.0.0.0/8", ip)', ip="10.2.3.4") is True
        and ev('cidrmatch("10.0.0.0/8", ip)', ip="11.0.0.1") is False
    )


def test_in_function() -> None:
    assert ev('in(st, "bro:conn:json", "suricata")', st="suricata") is True
