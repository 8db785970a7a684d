"""The detection settings tab against a stand-in splunkd: the macros the saved searches pass to
`ingresscorrelate`, validated by the engine, and the dispatch window kept wide enough."""

from __future__ import annotations

from typing import Any

import pytest
from mobile_ingress_splunk.setup_settings import DetectionSettings, SettingRefused

from tests.splunk.test_knowledge_objects import cron_interval, relative_seconds

from .standin import StandIn

CORRELATION = ("Mobile Ingress - DET0718 Mobile Ingress Tool Transfer - Rule",)
SAVED = "/servicesNS/nobody/TA-mobile-ingress/saved/searches/"
MACROS = "/servicesNS/nobody/TA-mobile-ingress/configs/conf-macros/"


def window_rule_holds(stand_in: StandIn) -> bool:
    """The rule of tests/splunk/test_knowledge_objects.py, over the stand-in's current state."""
    window = float(stand_in.macros["mobile_ingress_time_window"]["definition"])
    skew = float(stand_in.macros["mobile_ingress_clock_skew"]["definition"])
    lag = float(stand_in.macros["mobile_ingress_ingest_lag_seconds"]["definition"])
    for stanza in stand_in.saved.values():
        if "`mobile_ingress_time_window`" not in stanza["search"]:
            continue
        earliest, _ = relative_seconds(stanza["dispatch.earliest_time"])
        latest, snap_l = relative_seconds(stanza["dispatch.latest_time"])
        if earliest < window + skew + cron_interval(stanza["cron_schedule"]) + max(latest + snap_l, lag):
            return False
    return True


def test_the_tab_lists_the_macros_in_force(stand_in: StandIn, splunkd: Any) -> None:
    stand_in.macros["mobile_ingress_clock_skew"]["definition"] = "20"
    assert DetectionSettings(splunkd).values() == {
        "time_window": "300",
        "ingress_bytes_threshold": "8192",
        "foreground_state_required": "false",
        "clock_skew": "20",
    }


def test_a_valid_value_is_written_to_its_macro(stand_in: StandIn, splunkd: Any) -> None:
    change = DetectionSettings(splunkd).edit("ingress_bytes_threshold", " 4096 ")
    assert change.value == "4096" and change.dispatch == {}
    assert stand_in.macros["mobile_ingress_ingress_bytes_threshold"]["definition"] == "4096"
    assert stand_in.writes() == [("POST", MACROS + "mobile_ingress_ingress_bytes_threshold")]


def test_a_boolean_is_written_in_its_canonical_form(stand_in: StandIn, splunkd: Any) -> None:
    DetectionSettings(splunkd).edit("foreground_state_required", "TRUE")
    assert stand_in.macros["mobile_ingress_foreground_state_required"]["definition"] == "true"


def test_a_negative_window_is_refused_with_the_engines_message(stand_in: StandIn, splunkd: Any) -> None:
    with pytest.raises(SettingRefused) as info:
        DetectionSettings(splunkd).edit("time_window", "-5")
    assert str(info.value) == "time_window must be a number of seconds above 0, got '-5'."
    assert stand_in.writes() == []
    assert stand_in.macros["mobile_ingress_time_window"]["definition"] == "300"


def test_a_negative_threshold_is_refused(stand_in: StandIn, splunkd: Any) -> None:
    with pytest.raises(
        SettingRefused, match=r"^ingress_bytes_threshold must be a number at or above 0, got '-1'\.$"
    ):
        DetectionSettings(splunkd).edit("ingress_bytes_threshold", "-1")
    assert stand_in.writes() == []


def test_a_word_that_is_no_boolean_is_refused(stand_in: StandIn, splunkd: Any) -> None:
    with pytest.raises(
        SettingRefused,
        match=r"^foreground_state_required must be true or false \(or 1/0\), got 'sometimes'\.$",
    ):
        DetectionSettings(splunkd).edit("foreground_state_required", "sometimes")


def test_a_larger_window_moves_the_correlation_searches_dispatch_window_first(
    stand_in: StandIn, splunkd: Any
) -> None:
    change = DetectionSettings(splunkd).edit("time_window", "3600")
    assert change.dispatch == {name: "-151m@m" for name in CORRELATION}
    for name in CORRELATION:
        assert stand_in.saved[name]["dispatch.earliest_time"] == "-151m@m"
    assert stand_in.macros["mobile_ingress_time_window"]["definition"] == "3600"
    assert window_rule_holds(stand_in)
    # the searches are widened before the macro is written: a failure in between errs wide
    assert stand_in.writes() == [("POST", SAVED + name) for name in CORRELATION] + [
        ("POST", MACROS + "mobile_ingress_time_window")
    ]


def test_the_baseline_searches_are_left_alone(stand_in: StandIn, splunkd: Any) -> None:
    before = {n: s["dispatch.earliest_time"] for n, s in stand_in.saved.items() if n not in CORRELATION}
    DetectionSettings(splunkd).edit("time_window", "3600")
    assert {
        n: s["dispatch.earliest_time"] for n, s in stand_in.saved.items() if n not in CORRELATION
    } == before


def test_a_window_inside_the_slack_leaves_the_dispatch_window(stand_in: StandIn, splunkd: Any) -> None:
    DetectionSettings(splunkd).edit("time_window", "580")
    assert [s["dispatch.earliest_time"] for n, s in stand_in.saved.items() if n in CORRELATION] == [
        "-100m@m"
    ]
    assert window_rule_holds(stand_in)


def test_a_larger_clock_skew_also_keeps_the_rule(stand_in: StandIn, splunkd: Any) -> None:
    DetectionSettings(splunkd).edit("clock_skew", "1800")
    assert stand_in.macros["mobile_ingress_clock_skew"]["definition"] == "1800"
    assert window_rule_holds(stand_in)


def test_without_the_move_the_rule_would_break(stand_in: StandIn) -> None:
    """The check above can fail: the shipped window with time_window 3600 breaks the rule."""
    stand_in.macros["mobile_ingress_time_window"]["definition"] = "3600"
    assert not window_rule_holds(stand_in)


def test_a_longer_ingest_lag_widens_the_window_with_the_next_change(stand_in: StandIn, splunkd: Any) -> None:
    """An admin who set mobile_ingress_ingest_lag_seconds to 3 hours (a slow EDR feed): the next
    change on the page sizes the dispatch window for it."""
    stand_in.macros["mobile_ingress_ingest_lag_seconds"]["definition"] = "10800"
    change = DetectionSettings(splunkd).edit("time_window", "300")
    assert change.dispatch == {name: "-201m@m" for name in CORRELATION}
    assert window_rule_holds(stand_in)


def test_a_window_the_rule_cannot_be_checked_for_is_refused_with_the_reason(
    stand_in: StandIn, splunkd: Any
) -> None:
    stand_in.saved[CORRELATION[0]]["cron_schedule"] = "0 9 * * 1-5"
    with pytest.raises(
        SettingRefused, match=f"Cannot check the dispatch window of the saved search {CORRELATION[0]}"
    ):
        DetectionSettings(splunkd).edit("time_window", "3600")
    assert stand_in.writes() == []
    assert stand_in.macros["mobile_ingress_time_window"]["definition"] == "300"


def test_a_window_needing_over_a_day_per_run_is_refused(stand_in: StandIn, splunkd: Any) -> None:
    with pytest.raises(SettingRefused, match="more than 86400"):
        DetectionSettings(splunkd).edit("time_window", "90000")
    assert stand_in.writes() == []


def test_an_unknown_setting_is_refused_with_the_engines_message(stand_in: StandIn, splunkd: Any) -> None:
    with pytest.raises(SettingRefused) as info:
        DetectionSettings(splunkd).create("window")
    assert str(info.value) == (
        "unknown element 'window'; known: time_window, ingress_bytes_threshold, "
        "foreground_state_required, clock_skew."
    )


def test_a_setting_cannot_be_deleted(stand_in: StandIn, splunkd: Any) -> None:
    with pytest.raises(SettingRefused, match="cannot be deleted: every detection needs it"):
        DetectionSettings(splunkd).remove("clock_skew")
