"""Field provenance (issue 13): every field a shipped search filters, groups or joins on is produced
by a sourcetype its data macros name or by an earlier command of the same pipeline.

One test runs the check over every SPL string the app ships (read from package/ at test time); the
others run it on small literal pipelines, each rule with a passing and a failing case. Defect 1 of
issue 13 (the baseline searches filtered Zeek and Suricata events on `app_id`, which no mapping of
theirs produces, so the baseline was never built) is the first negative case.
"""

from __future__ import annotations

from dataclasses import replace
from functools import lru_cache

import pytest

from tests.lint.provenance import (
    ROOT,
    Knowledge,
    Rule,
    Use,
    Violation,
    check_shipped,
    check_text,
    is_whole_search,
    searches_to_check,
)
from tests.lint.spl_strings import Macro

FLOW = (
    '(sourcetype="bro:http:json" OR sourcetype="bro:files:json" OR sourcetype="bro:conn:json" '
    'OR sourcetype="suricata")'
)
EDR = '(index=mobile sourcetype="mobile:edr:telemetry")'
FINDINGS = "| inputlookup mobile_ingress_findings"
INVENTORY = "mobile_ingress_device_inventory_kv"
# Defect 1: the baseline search as it was before the fix.
OLD_BASELINE = (
    f"(index=* {FLOW}) activity=retrieval app_id=* "
    "| eval dest=lower(coalesce(dest, dest_ip)) | stats min(_time) AS first_seen BY app_id dest"
)


@lru_cache(maxsize=1)
def knowledge() -> Knowledge:
    return Knowledge.load()


def check(spl: str) -> list[Violation]:
    return check_text(spl, "test search", knowledge())


def fields_of(violations: list[Violation], rule: Rule = Rule.FIELD) -> list[str]:
    return [v.field for v in violations if v.rule == rule]


# ------------------------------------------------------------------------------- shipped SPL


def test_every_shipped_search_filters_groups_and_joins_only_on_fields_produced_upstream() -> None:
    _, violations = check_shipped()
    assert violations == [], "\n".join(str(v) for v in violations)


def test_the_checked_searches_are_saved_searches_drilldowns_dashboards_eventtypes_and_whole_macros() -> None:
    origins = [s.origin for s in searches_to_check(ROOT / "package", knowledge())]
    assert any("savedsearches.conf [mobile_ingress_destination_baseline_update] search" in o for o in origins)
    assert any("drilldown_searches[0]" in o for o in origins)
    assert any("data/ui/views/mobile_ingress_tuning.xml dataSources." in o for o in origins)
    assert any("eventtypes.conf [mobile_ingress_amapi_connect]" in o for o in origins)
    assert any("macros.conf [mobile_ingress_retrievals]" in o for o in origins)
    assert any("macros.conf [mobile_ingress_ip_sources]" in o for o in origins)


def test_pipeline_fragments_scalars_and_term_macros_are_not_checked_as_searches() -> None:
    macros = knowledge().macros
    assert is_whole_search(macros["mobile_ingress_retrievals"].definition, knowledge())
    assert not is_whole_search(macros["mobile_ingress_contract_fields"].definition, knowledge())
    assert not is_whole_search(macros["mobile_ingress_time_window"].definition, knowledge())
    assert not is_whole_search(macros["mobile_ingress_device_networks"].definition, knowledge())


# ----------------------------------------------------------------------- what events carry


def test_a_sourcetype_carries_its_props_targets_and_the_json_keys_of_its_samples() -> None:
    files = knowledge().sourcetype_fields["bro:files:json"]
    assert {"mobile_ingress_activity", "mobile_ingress_join_target", "fuid", "rx_hosts{}"} <= files
    assert "activity" not in files
    assert "app_id" not in files


def test_a_wildcard_sourcetype_names_every_mapped_one_it_matches_and_an_unknown_one_itself() -> None:
    assert knowledge().sources_matching("mdm:intune:*") == {
        "mdm:intune:app",
        "mdm:intune:audit",
        "mdm:intune:device",
    }
    assert knowledge().sources_matching("dhcp:leases") == {"unmapped:dhcp:leases"}


# --------------------------------------------------------------------------- defect 1


def test_the_old_baseline_search_fails_naming_app_id_and_activity() -> None:
    violations = check(OLD_BASELINE)
    assert fields_of(violations) == ["activity", "app_id", "app_id"]
    first = violations[1]
    assert (first.origin, first.command, first.use) == ("test search", "1 `search`", Use.FILTER)
    assert "`app_id` (filter)" in str(first)
    assert violations[2].command == "3 `stats`" and violations[2].use == Use.GROUP


def test_the_same_search_on_the_fields_zeek_and_suricata_props_give_passes() -> None:
    spl = (
        f"(index=* {FLOW}) mobile_ingress_activity=retrieval "
        "| eval dest=lower(coalesce(mobile_ingress_dest, mobile_ingress_dest_ip)) "
        "| stats min(_time) AS first_seen BY dest"
    )
    assert check(spl) == []


# -------------------------------------------------------------------- producing commands


def test_a_stats_by_a_field_an_earlier_eval_produced_passes() -> None:
    assert check(f"{EDR} | eval bucket=floor(_time / 60) | stats count BY bucket") == []


def test_a_stats_by_a_field_nothing_produced_fails() -> None:
    violations = check(f"{EDR} | stats count BY bucket")
    assert [(v.field, v.use, v.command) for v in violations] == [("bucket", Use.GROUP, "2 `stats`")]


def test_a_lookup_whose_input_field_was_produced_passes() -> None:
    assert check(f"{FINDINGS} | lookup {INVENTORY} device_id OUTPUT ip") == []


def test_a_lookup_whose_input_field_nothing_produced_fails() -> None:
    violations = check(f"{EDR} | stats count BY app_id | lookup {INVENTORY} device_id OUTPUT ip")
    assert [(v.field, v.use) for v in violations] == [("device_id", Use.JOIN)]


def test_a_lookup_naming_a_column_its_table_lacks_fails() -> None:
    violations = check(f"{FINDINGS} | lookup {INVENTORY} device_id OUTPUT risk")
    assert fields_of(violations, Rule.LOOKUP_COLUMN) == ["risk"]


def test_a_field_renamed_away_before_its_use_fails() -> None:
    violations = check(f"{EDR} | rename app_id AS application | where isnotnull(app_id)")
    assert [(v.field, v.command) for v in violations] == [("app_id", "3 `where`")]


def test_a_field_used_under_its_new_name_after_a_rename_passes() -> None:
    assert check(f"{EDR} | rename app_id AS application | where isnotnull(application)") == []


def test_fields_removed_by_a_fields_minus_wildcard_are_gone() -> None:
    assert fields_of(check(f"{EDR} | fields - app_* | dedup app_id")) == ["app_id"]
    assert check(f"{EDR} | fields - file_* | dedup app_id") == []


def test_eventstats_by_keys_are_joins_and_its_statistics_are_new_fields() -> None:
    violations = check(f"{EDR} | eventstats count AS n BY session | where n > 1")
    assert [(v.field, v.use) for v in violations] == [("session", Use.JOIN)]
    assert check(f"{EDR} | eventstats count AS n BY device_id | where n > 1") == []


@pytest.mark.parametrize("command", ["dedup session", "mvexpand session"])
def test_dedup_and_mvexpand_filter_on_their_fields(command: str) -> None:
    assert [(v.field, v.use) for v in check(f"{EDR} | {command}")] == [("session", Use.FILTER)]
    assert check(f"{EDR} | eval session=device_id | {command}") == []


def test_dedup_keepempty_keeps_results_without_the_field_so_it_filters_on_nothing() -> None:
    assert check(f"{EDR} | dedup session keepempty=true") == []


def test_an_eval_based_macro_cannot_be_read_and_says_so() -> None:
    macros = dict(knowledge().macros)
    macros["computed"] = Macro("computed", (), '"index=mobile"', iseval=True)
    violations = check_text("`computed` | stats count", "test search", replace(knowledge(), macros=macros))
    assert [(v.rule, v.field) for v in violations][:1] == [(Rule.FORM, "`computed`")]


def test_an_unknown_command_is_a_violation_never_skipped() -> None:
    violations = check(f"{EDR} | frobnicate device_id")
    assert [(v.rule, v.field) for v in violations] == [(Rule.COMMAND, "frobnicate")]


def test_ingresscorrelate_reads_the_normalized_event_fields_and_produces_the_finding_fields() -> None:
    read = check("index=_internal | ingresscorrelate | where isnotnull(suppressed_by)")
    assert {v.use for v in read} == {Use.READ}
    assert {"activity", "device_id", "app_id"} <= set(fields_of(read))
    assert "suppressed_by" not in fields_of(read)


# ----------------------------------------------------------------------- the base search


def test_a_term_is_checked_against_the_sourcetypes_of_its_own_branch() -> None:
    spl = '(sourcetype="mobile:edr:telemetry" OR (sourcetype="bro:conn:json" app_id=x))'
    violations = check(spl)
    assert [(v.field, v.use) for v in violations] == [("app_id", Use.FILTER)]
    assert "bro:conn:json" in violations[0].reason and "mobile:edr" not in violations[0].reason
    assert check('(sourcetype="bro:conn:json" OR (sourcetype="mobile:edr:telemetry" app_id=x))') == []


def test_a_search_that_names_no_sourcetype_reads_unknown_events() -> None:
    assert [v.rule for v in check("index=mobile app_id=x")] == [Rule.SOURCE]


def test_internal_events_carry_only_raw_so_their_fields_come_from_rex() -> None:
    assert fields_of(check('index=_internal "warm-up" | where held_back > 0')) == ["held_back"]
    assert check('index=_internal "warm-up" | rex "held_back=(?<held_back>\\d+)" | where held_back > 0') == []


def test_a_tag_value_must_come_from_an_eventtype_of_the_searched_sourcetypes() -> None:
    assert fields_of(check(f"{EDR} tag=network"), Rule.TAG) == ["tag=network"]
    assert check(f"{EDR} tag=endpoint tag=filesystem") == []


def test_a_user_configured_sourcetype_carries_what_its_fields_command_declares() -> None:
    declared = 'search index=mobile sourcetype="my:dhcp" | fields _time device_id ip | where isnotnull(ip)'
    assert check(declared) == []
    assert fields_of(check('search index=mobile sourcetype="my:dhcp" ip=* | fields _time ip')) == ["ip"]
    undeclared = 'search index=mobile sourcetype="my:dhcp" | fields _time ip | where isnotnull(user)'
    assert fields_of(check(undeclared)) == ["user"]


# ------------------------------------------------------------------------------ subsearches


def test_a_subsearch_output_field_the_outer_events_lack_fails() -> None:
    violations = check(f"{EDR} [{FINDINGS} | fields finding_id]")
    assert [(v.field, v.use) for v in violations] == [("finding_id", Use.FILTER)]
    assert "a subsearch returns it" in violations[0].reason


def test_a_subsearch_output_field_the_outer_events_carry_passes() -> None:
    assert check(f"{EDR} [{FINDINGS} | fields device_id]") == []


@pytest.mark.parametrize(
    "subsearch",
    [
        "[| ingressprefilter]",
        "[| inputlookup mobile_ingress_findings | eval earliest=1, latest=2 | fields earliest latest]",
    ],
    ids=["search", "time-range"],
)
def test_a_subsearch_returning_search_or_a_time_range_names_no_field(subsearch: str) -> None:
    assert check(f"{EDR} {subsearch}") == []


def test_a_subsearch_is_analysed_as_a_pipeline_of_its_own() -> None:
    violations = check(f"{EDR} | append [{FINDINGS} | stats count BY nothing]")
    assert [(v.field, v.origin) for v in violations] == [
        ("nothing", "test search > command 2 `append` [subsearch 1]")
    ]


# ---------------------------------------------------------------------------------- tstats


def test_tstats_filters_and_groups_on_indexed_fields_only() -> None:
    assert check(f"| tstats count WHERE {EDR} BY _time span=1h sourcetype") == []
    violations = check(f"| tstats count WHERE {EDR} app_id=x BY sourcetype")
    assert [(v.field, v.use) for v in violations] == [("app_id", Use.FILTER)]
