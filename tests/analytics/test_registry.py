"""The shipped analytics registry: its invariants, and the registries it refuses (each with its own
error type and a message naming what was wrong)."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest

from mobile_ingress.engine.analytics import (
    ANALYTICS,
    DET0718_SCORING,
    RULE_PLATFORMS,
    Analytic,
    Analytics,
    BadScoring,
    DuplicateAnalytic,
    MalformedAnalyticId,
    MalformedAttackId,
    MissingText,
    Platform,
    Rule,
    RuleClaimedTwice,
    RuleNotOnPlatform,
    SeverityBands,
    UncoveredPlatform,
    UnknownAnalytic,
    UnknownPlatform,
    UnknownRule,
)
from mobile_ingress.engine.lookups import PLATFORMS

ANDROID = ANALYTICS.get("AN1848")
IOS = ANALYTICS.get("AN1849")


def android(**changes: object) -> Analytic:
    """The shipped Android analytic with some fields changed (validated again)."""
    return replace(ANDROID, **changes)


# ----------------------------------------------------------------- invariants of the real registry


def test_shipped_ids_are_an_and_four_digits() -> None:
    assert ANALYTICS.ids and all(re.fullmatch(r"AN\d{4}", i) for i in ANALYTICS.ids)


def test_shipped_ids_are_unique() -> None:
    assert len(set(ANALYTICS.ids)) == len(ANALYTICS.ids) == len(ANALYTICS)


def test_the_registry_platforms_are_the_contracts() -> None:
    assert {p.value for p in Platform} == set(PLATFORMS)


def test_every_platform_of_the_contract_runs_the_chain_rule_in_exactly_one_analytic() -> None:
    for platform in PLATFORMS:
        chain = [a.id for a in ANALYTICS if a.platform.value == platform and a.runs(Rule.CHAIN)]
        assert chain == [ANALYTICS.chain(platform).id], platform


def test_the_ios_retrieval_only_rule_is_run_by_one_ios_analytic() -> None:
    running = [a for a in ANALYTICS if a.runs(Rule.IOS_RETRIEVAL_ONLY)]
    assert [a.id for a in running] == ["AN1849"] and running[0].platform is Platform.IOS
    assert ANALYTICS.running(Rule.IOS_RETRIEVAL_ONLY, "android") is None


def test_shipped_texts_and_attack_ids_are_given() -> None:
    for analytic in ANALYTICS:
        assert analytic.name.strip(), analytic.id
        assert (analytic.technique, analytic.detection_strategy) == ("T1544", "DET0718"), analytic.id


def test_every_rule_has_its_platforms_and_a_base_score() -> None:
    assert set(RULE_PLATFORMS) == set(Rule) == set(DET0718_SCORING.base)


# --------------------------------------------------------------------------- refused registries


def test_a_duplicate_id_is_refused() -> None:
    with pytest.raises(DuplicateAnalytic, match=r"^analytic AN1848 is declared twice$"):
        Analytics([ANDROID, IOS, android(platform=Platform.IOS, rules=frozenset({Rule.IOS_RETRIEVAL_ONLY}))])


def test_distinct_ids_are_accepted() -> None:
    third = android(id="AN9999", platform=Platform.IOS, rules=frozenset({Rule.IOS_RETRIEVAL_ONLY}))
    assert Analytics([ANDROID, replace(IOS, rules=frozenset({Rule.CHAIN})), third]).ids[-1] == "AN9999"


@pytest.mark.parametrize("bad", ["AN184", "AN18480", "an1848", "AN-1848", "DET0718", ""])
def test_a_malformed_id_is_refused(bad: str) -> None:
    with pytest.raises(MalformedAnalyticId, match=rf"^analytic id {re.escape(repr(bad))} is not AN followed"):
        android(id=bad)


def test_a_well_formed_id_is_accepted() -> None:
    assert android(id="AN0001").id == "AN0001"


def test_an_unknown_rule_is_refused() -> None:
    with pytest.raises(
        UnknownRule, match=r"^analytic AN1848: rule 'android_retrieval_only' is not one the engine"
    ):
        android(rules=frozenset({"android_retrieval_only"}))


def test_a_rule_given_by_its_value_is_accepted() -> None:
    assert android(rules=frozenset({"chain"})).rules == frozenset({Rule.CHAIN})


def test_an_analytic_that_runs_no_rule_is_refused() -> None:
    with pytest.raises(UnknownRule, match=r"^analytic AN1848: runs no rule"):
        android(rules=frozenset())


def test_the_retrieval_only_rule_off_ios_is_refused() -> None:
    with pytest.raises(RuleNotOnPlatform, match=r"rule ios_retrieval_only runs on ios only, not on android$"):
        android(rules=frozenset({Rule.CHAIN, Rule.IOS_RETRIEVAL_ONLY}))


def test_an_unknown_platform_is_refused() -> None:
    with pytest.raises(
        UnknownPlatform, match=r"^analytic AN1848: platform 'windows' is not one of android, ios$"
    ):
        android(platform="windows")


@pytest.mark.parametrize(("field", "value"), [("technique", "1544"), ("detection_strategy", "DET718")])
def test_a_malformed_attack_id_is_refused(field: str, value: str) -> None:
    with pytest.raises(MalformedAttackId, match=rf"^analytic AN1848: {field} '{value}' is not of the form"):
        android(**{field: value})


def test_a_sub_technique_is_accepted() -> None:
    assert android(technique="T1544.001").technique == "T1544.001"


def test_an_empty_name_is_refused() -> None:
    with pytest.raises(MissingText, match=r"^analytic AN1848: the display name is empty$"):
        android(name="  ")


def test_a_platform_without_a_chain_analytic_is_refused() -> None:
    with pytest.raises(UncoveredPlatform, match=r"^no analytic runs rule chain on ios$"):
        Analytics([ANDROID])


def test_two_analytics_running_one_rule_on_one_platform_are_refused() -> None:
    second = android(id="AN9999")
    with pytest.raises(
        RuleClaimedTwice, match=r"^analytics AN1848 and AN9999 both run rule chain on android$"
    ):
        Analytics([ANDROID, IOS, second])


def test_an_id_the_registry_does_not_hold_is_refused() -> None:
    with pytest.raises(
        UnknownAnalytic, match=r"^analytic 'AN9999' is not in the registry \(AN1848, AN1849\)$"
    ):
        ANALYTICS.get("AN9999")


# ------------------------------------------------------------------------------------- scoring


@pytest.mark.parametrize(
    ("score", "severity"), [(0, "low"), (24, "low"), (25, "medium"), (49, "medium"), (50, "high"),
                            (74, "high"), (75, "critical"), (100, "critical")],
)  # fmt: skip
def test_the_shipped_bands_are_those_docs_detections_md_gives(score: int, severity: str) -> None:
    assert DET0718_SCORING.severity(score).value == severity


def test_bands_out_of_order_are_refused() -> None:
    with pytest.raises(BadScoring, match=r"got medium=50, high=25, critical=75$"):
        SeverityBands(medium=50, high=25, critical=75)


def test_a_scoring_without_a_base_for_a_rule_is_refused() -> None:
    with pytest.raises(BadScoring, match=r"no base score for rule\(s\) ios_retrieval_only$"):
        replace(DET0718_SCORING, base={Rule.CHAIN: 25})


def test_negative_points_are_refused() -> None:
    with pytest.raises(
        BadScoring, match=r"^stage_points must be non-negative, got negative points for load$"
    ):
        replace(DET0718_SCORING, stage_points={"load": -5})


def test_a_shared_scoring_cannot_be_changed_through_an_analytic() -> None:
    with pytest.raises(TypeError):
        ANDROID.scoring.stage_points["load"] = 0  # type: ignore[index]


# ------------------------------------------------------------------ the one copy outside the engine


def test_the_findings_store_recomputes_severity_with_the_registry_bands() -> None:
    """The findings store macro (hand-written in macros.conf) re-derives severity after merging
    two sightings: its bands must be the registry's, which therefore must be one set for all."""
    bands = {a.scoring.bands for a in ANALYTICS}
    assert len(bands) == 1
    [b] = bands
    expected = (
        f'severity=case(risk_score<{b.medium}, "low", risk_score<{b.high}, "medium", '
        f'risk_score<{b.critical}, "high", true(), "critical")'
    )
    macros = Path(__file__).resolve().parents[2] / "package" / "default" / "macros.conf"
    assert expected in macros.read_text(encoding="utf-8")
