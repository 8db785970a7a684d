"""Every SPL string the app ships uses only what Splunk's grammar (searchbnf.conf 10.4.2) defines.

The shipped strings (saved searches, notable drilldowns, macros after expansion, eventtypes, props
EVALs, dashboard data sources and drilldowns) are read from package/ at test time. Each rule has
its own test over the shipped SPL, and a test on small literal SPL showing the checker catches a
made-up command, option, eval function, stats function and macro.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pytest

from tests.lint.spl_check import Checker, Rule, Violation, commands_of
from tests.lint.spl_strings import (
    Macro,
    SourceError,
    SplString,
    dashboard_queries,
    expand,
    read_macros,
    saved_searches,
    shipped_macros,
    shipped_spl,
)
from tests.lint.splgrammar import (
    Grammar,
    app_commands,
    app_searchbnf_options,
    custom_command,
    declared_options,
)

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "package"
DEFAULT = PACKAGE / "default"
SEARCHBNF = ROOT / "tests" / "data" / "splunk-10.4" / "searchbnf.conf"


@lru_cache(maxsize=1)
def grammar() -> Grammar:
    return Grammar.read(SEARCHBNF)


def literal_checker(**commands: frozenset[str]) -> Checker:
    """A checker with Splunk's grammar and the given own commands (name -> options)."""
    return Checker(grammar(), {name: custom_command(name, options) for name, options in commands.items()})


def shipped_violations(rule: Rule) -> list[Violation]:
    """Violations of one rule over every shipped SPL string, read now from package/."""
    checker = Checker(grammar(), app_commands(DEFAULT, PACKAGE / "bin"))
    macros = shipped_macros(PACKAGE)
    found = []
    for spl in shipped_spl(PACKAGE):
        found += [v for v in checker.lint(spl, macros) if v.rule is rule]
    return found


def report(violations: list[Violation]) -> str:
    return "\n".join(str(v) for v in violations)


def words(violations: list[Violation]) -> list[str]:
    return [v.word for v in violations]


# ------------------------------------------------------------------------------ the shipped SPL


def test_shipped_spl_is_found_in_every_kind_of_source() -> None:
    origins = [s.origin for s in shipped_spl(PACKAGE)]
    for kind in (
        "savedsearches.conf",
        "drilldown_searches",
        "macros.conf",
        "eventtypes.conf",
        "props.conf",
        "data/ui/views",
    ):
        assert any(kind in origin for origin in origins), f"no SPL string collected from {kind}"


def test_every_macro_the_shipped_spl_names_is_defined() -> None:
    violations = shipped_violations(Rule.MACRO)
    assert not violations, "macros:\n" + report(violations)


def test_every_shipped_command_is_built_in_or_the_apps() -> None:
    violations = shipped_violations(Rule.COMMAND) + shipped_violations(Rule.EMPTY)
    assert not violations, "unknown commands:\n" + report(violations)


def test_every_shipped_option_is_in_its_commands_syntax() -> None:
    violations = shipped_violations(Rule.OPTION)
    assert not violations, "options the grammar does not define:\n" + report(violations)


def test_every_shipped_eval_function_is_in_the_grammar() -> None:
    violations = shipped_violations(Rule.EVAL_FUNCTION)
    assert not violations, "eval functions the grammar does not define:\n" + report(violations)


def test_every_shipped_aggregation_is_a_stats_function_of_the_grammar() -> None:
    violations = shipped_violations(Rule.STATS_FUNCTION)
    assert not violations, "stats functions the grammar does not define:\n" + report(violations)


def test_app_commands_are_the_stanzas_of_commands_conf() -> None:
    from tests.lint.conf_specs import stanzas_of

    declared = {name.lower() for name in stanzas_of(DEFAULT / "commands.conf")} - {"default"}
    assert set(app_commands(DEFAULT, PACKAGE / "bin")) == declared


def test_app_searchbnf_declares_the_options_each_command_script_takes() -> None:
    commands = app_commands(DEFAULT, PACKAGE / "bin")
    documented = app_searchbnf_options(DEFAULT)
    mismatches = [
        f"{name}: script {sorted(syntax.options)} != searchbnf.conf {sorted(documented[name])}"
        for name, syntax in commands.items()
        if name in documented and syntax.options != documented[name]
    ]
    assert not mismatches, "package/default/searchbnf.conf is out of date:\n" + "\n".join(mismatches)


# --------------------------------------------------------------------------- the grammar reader


def test_grammar_knows_builtin_commands_and_their_aliases() -> None:
    assert grammar().command("outputlookup") is not None
    assert grammar().command("bucket").name == "bin"  # `alias = bucket, discretize` of [bin-command]
    assert grammar().command("ingresscorrelate") is None


def test_grammar_reads_options_through_referenced_stanzas() -> None:
    assert grammar().command("append").allows_option("maxout")  # via <subsearch-options>
    assert grammar().command("timechart").allows_option("span")  # via <bin-options> <bin-span>
    assert not grammar().command("append").allows_option("append")


def test_grammar_reads_eval_and_stats_functions() -> None:
    assert {"coalesce", "mvfilter", "relative_time"} <= grammar().eval_functions
    assert "bogus" not in grammar().eval_functions
    stats = grammar().command("stats")
    assert all(stats.is_aggregation(f) for f in ("count", "dc", "values", "latest", "perc95", "p50"))
    assert not stats.is_aggregation("percent")


def test_eval_functions_include_those_the_grammar_examples_call() -> None:
    # [eval-command] example3 calls in(...), which the [eval-function] list leaves out.
    assert "in" not in grammar().literal_words("eval-function")
    assert "in" in grammar().eval_functions


def test_expression_commands_take_no_options() -> None:
    assert grammar().command("search").expression_arguments == "logical-expression"
    assert grammar().command("where").expression_arguments == "eval-expression"
    assert grammar().command("eval").eval_assignments
    assert grammar().command("tstats").expression_keywords == {"where": "logical-expression"}


# --------------------------------------------------------------------- the checker, on literals


def test_splits_at_top_level_pipes_only() -> None:
    spl = 'index=x "a|b" (c | d) [search e | head 1] | stats count'
    assert [c.name for c in commands_of(spl)] == ["search", "stats"]


def test_a_leading_pipe_starts_with_a_command() -> None:
    assert [c.name for c in commands_of("| inputlookup x | head 1")] == ["inputlookup", "head"]


@pytest.mark.parametrize(
    "spl",
    [
        "| inputlookup x | outputlookup append=true key_field=finding_id override_if_empty=false y",
        "index=x | sort 0 - a | head 10",
        "index=x | spath path=a{}.b output=c input=d",
        "| tstats count AS n FROM datamodel=Web.Web WHERE (index=x sourcetype=y) BY _time span=1h host",
        'index=x | rex field=a "^(?<b>\\S+)" max_match=2',
        '| makeresults | transpose 0 column_name=field | rename "row 1" AS value',
        "| rest splunk_server=local count=0 /services/apps/local",
        '| inputlookup append=true x where a="b c" | lookup l a OUTPUT b AS c | lookup l a OUTPUTNEW d',
        'index=x a=b c!=d | where e=f AND like(g, "h%") | eval i=j, k=coalesce(l, m)',
        'index=x | stats count count(eval(a="b")) AS c dc(d) values(e) latest(f) sum(count) BY g',
        "index=x | eventstats min(eval(if(a=1, _time, null()))) AS t, values(b) AS c BY d",
        "index=x | timechart span=1h sum(count) BY sourcetype | fillnull value=0 a",
        "index=x | chart count over a by b | streamstats window=5 count",
        "index=x | append maxout=10 [| inputlookup y | fields a] | mvexpand a limit=5",
    ],
)
def test_grammar_allows_the_forms_splunk_documents(spl: str) -> None:
    assert not literal_checker().check(spl, "literal")


def test_a_made_up_command_is_caught() -> None:
    violations = literal_checker().check("index=x | evall a=1", "literal")
    assert [(v.rule, v.command, v.word) for v in violations] == [(Rule.COMMAND, "evall", "evall")]


def test_a_made_up_command_in_a_subsearch_is_caught() -> None:
    violations = literal_checker().check("index=x [search y | evall a=1 | fields b]", "literal")
    assert [(v.origin, v.word) for v in violations] == [("literal > [subsearch]", "evall")]


def test_a_made_up_option_is_caught() -> None:
    spl = "| inputlookup x | outputlookup overwrite_if_empty=false y"
    violations = literal_checker().check(spl, "literal")
    assert [(v.rule, v.command, v.word) for v in violations] == [
        (Rule.OPTION, "outputlookup", "overwrite_if_empty=false")
    ]


def test_a_made_up_option_after_an_expression_keyword_is_caught() -> None:
    spl = "| tstats count WHERE index=x BY host span=1h bogus=1"
    assert words(literal_checker().check(spl, "literal")) == ["bogus=1"]


def test_an_option_of_an_app_command_comes_from_its_declaration() -> None:
    checker = literal_checker(mycommand=frozenset({"window"}))
    assert not checker.check("index=x | mycommand window=5", "literal")
    assert words(checker.check("index=x | mycommand windows=5", "literal")) == ["windows=5"]


def test_a_made_up_eval_function_is_caught() -> None:
    violations = literal_checker().check("index=x | eval a=coalesce(b, iff(c, 1, 2))", "literal")
    assert [(v.rule, v.command, v.word) for v in violations] == [(Rule.EVAL_FUNCTION, "eval", "iff(")]


def test_a_made_up_eval_function_in_where_and_in_stats_eval_is_caught() -> None:
    spl = 'index=x | where lenght(a) > 1 | stats count(eval(strlen(b)="c")) AS d'
    assert words(literal_checker().check(spl, "literal")) == ["lenght(", "strlen("]


def test_a_function_name_inside_a_string_is_not_a_call() -> None:
    assert not literal_checker().check("index=x | eval a=\"iff(b)\", 'c(d)'=1", "literal")


def test_a_made_up_stats_function_is_caught() -> None:
    violations = literal_checker().check("index=x | stats count distinct(a) AS b BY c", "literal")
    assert [(v.rule, v.command, v.word) for v in violations] == [
        (Rule.STATS_FUNCTION, "stats", "distinct(a)")
    ]


@pytest.mark.parametrize("command", ["eventstats", "streamstats", "timechart", "chart"])
def test_a_made_up_stats_function_is_caught_in_every_aggregating_command(command: str) -> None:
    violations = literal_checker().check(f"index=x | {command} average(a) BY b", "literal")
    assert words(violations) == ["average(a)"]


def test_a_made_up_tstats_aggregation_is_caught() -> None:
    assert words(literal_checker().check("| tstats cnt WHERE index=x BY host", "literal")) == ["cnt"]


# ------------------------------------------------------------------------ macros and tokens


def macros(*stanzas: tuple[str, str, str]) -> dict[str, Macro]:
    """(stanza, args, definition) -> macros as read from macros.conf."""
    return {
        name: Macro(name, tuple(a.strip() for a in args.split(",") if a.strip()), definition, False)
        for name, args, definition in stanzas
    }


def test_macros_expand_recursively_with_arguments() -> None:
    defined = macros(
        ("outer", "", 'index=x | `inner(a, "b,c")`'),
        ("inner(2)", "field, value", "eval $field$=$value$ | `leaf`"),
        ("leaf", "", "head 1"),
    )
    expansion = expand("`outer` | stats count", defined)
    assert expansion.text == 'index=x | eval a="b,c" | head 1 | stats count'
    assert not expansion.errors


def test_an_undefined_macro_is_caught() -> None:
    spl = SplString("literal", "index=x | `missing` | `defined(1)`")
    violations = literal_checker().lint(spl, macros(("defined", "", "head 1")))
    assert [(v.rule, v.word) for v in violations if v.rule is Rule.MACRO] == [
        (Rule.MACRO, "`missing`"),
        (Rule.MACRO, "`defined(1)`"),
    ]


def test_a_macro_with_a_made_up_command_is_caught_where_it_is_used() -> None:
    spl = SplString("literal", "index=x | `bad`")
    violations = literal_checker().lint(spl, macros(("bad", "", "evall a=1")))
    assert [(v.origin, v.word) for v in violations] == [("literal", "evall")]


def test_an_eval_based_macro_is_reported_not_skipped() -> None:
    spl = SplString("literal", 'if(a, "head 1", "evall")', iseval=True)
    assert [(v.rule, v.word) for v in literal_checker().lint(spl, {})] == [(Rule.MACRO, "iseval")]


def test_comments_are_not_macros() -> None:
    expansion = expand("index=x ```a `comment` | evall``` | head 1", {})
    assert (expansion.text, expansion.errors) == ("index=x   | head 1", ())


def test_dashboard_tokens_become_a_placeholder() -> None:
    assert expand('| inputlookup x where id="$finding_id$" | head $n$', {}).text == (
        '| inputlookup x where id="TOKEN" | head TOKEN'
    )


def test_macro_definitions_used_after_a_pipe_are_checked_as_commands(tmp_path: Path) -> None:
    default = tmp_path / "package" / "default"
    default.mkdir(parents=True)
    (default / "macros.conf").write_text("[frag]\ndefinition = evall a=1\n\n[base]\ndefinition = x=1\n")
    (default / "savedsearches.conf").write_text("[s]\nsearch = `base` | `frag`\n")
    by_origin = {s.origin: s for s in shipped_spl(tmp_path / "package")}
    assert by_origin["package/default/macros.conf [frag] definition"].pipeline is True
    assert by_origin["package/default/macros.conf [base] definition"].pipeline is False
    frag = by_origin["package/default/macros.conf [frag] definition"]
    assert words(literal_checker().lint(frag, read_macros(default / "macros.conf"))) == ["evall"]


# ------------------------------------------------------------------ saved searches and views


def test_notable_drilldown_searches_are_collected(tmp_path: Path) -> None:
    default = tmp_path / "package" / "default"
    default.mkdir(parents=True)
    drilldowns = '[{"name": "d", "search": "index=x device_id=\\"$device_id$\\" | evall"}]'
    (default / "savedsearches.conf").write_text(
        f"[s]\nsearch = index=x\naction.notable.param.drilldown_searches = {drilldowns}\n"
    )
    texts = {s.origin: s.text for s in saved_searches(tmp_path / "package")}
    origin = "package/default/savedsearches.conf [s] action.notable.param.drilldown_searches[0] (d)"
    assert texts[origin] == 'index=x device_id="$device_id$" | evall'


def test_malformed_drilldown_json_is_an_error(tmp_path: Path) -> None:
    default = tmp_path / "package" / "default"
    default.mkdir(parents=True)
    (default / "savedsearches.conf").write_text("[s]\naction.notable.param.drilldown_searches = [{\n")
    with pytest.raises(SourceError, match=r"\[s\] action.notable.param.drilldown_searches is not JSON"):
        saved_searches(tmp_path / "package")


def write_view(tmp_path: Path, definition: str) -> Path:
    """A package folder with one Dashboard Studio view holding `definition`."""
    package = tmp_path / "package"
    views = package / "default" / "data" / "ui" / "views"
    views.mkdir(parents=True)
    cdata = f"<definition><![CDATA[{definition}]]></definition>"
    (views / "v.xml").write_text(f'<dashboard version="2"><label>v</label>{cdata}</dashboard>')
    return package


def test_a_chain_data_source_is_appended_to_its_base(tmp_path: Path) -> None:
    package = write_view(
        tmp_path,
        '{"dataSources": {"base": {"type": "ds.search", "options": {"query": "index=x"}},'
        ' "mid": {"type": "ds.chain", "options": {"extend": "base", "query": "| fields a"}},'
        ' "leaf": {"type": "ds.chain", "options": {"extend": "mid", "query": "| stats count"}}}}',
    )
    texts = {s.origin: s.text for s in dashboard_queries(package)}
    assert (
        texts["package/default/data/ui/views/v.xml dataSources.leaf query"]
        == "index=x\n| fields a\n| stats count"
    )


def test_a_chain_without_its_base_is_an_error(tmp_path: Path) -> None:
    package = write_view(
        tmp_path,
        '{"dataSources": {"c": {"type": "ds.chain", "options": {"extend": "gone", "query": "| x"}}}}',
    )
    with pytest.raises(SourceError, match="data source 'gone' is missing"):
        dashboard_queries(package)


def test_a_link_to_search_drilldown_is_collected(tmp_path: Path) -> None:
    package = write_view(
        tmp_path,
        '{"dataSources": {}, "visualizations": {"viz": {"eventHandlers": [{"type": "drilldown.linkToSearch",'
        ' "options": {"query": "index=x host=$row.host.value$"}}]}}}',
    )
    assert [s.text for s in dashboard_queries(package)] == ["index=x host=$row.host.value$"]


# ---------------------------------------------------------------- the app's command options


def test_options_are_read_from_the_dispatched_class_without_importing(tmp_path: Path) -> None:
    script = tmp_path / "cmd.py"
    script.write_text(
        "import does_not_exist\n"
        "class Helper:\n    unused = Option()\n"
        "class Base(EventingCommand):\n    inherited = Option()\n"
        "class Cmd(Base):\n"
        "    window = Option(require=False)\n"
        '    renamed_attr = Option(name="span")\n'
        "    other = 3\n"
        "dispatch(Cmd, sys.argv)\n"
    )
    assert declared_options(script) == {"window", "span", "inherited"}
