"""The dispatch-window rule the setup page keeps: dispatch window >= time_window + clock_skew +
schedule interval for every search that passes `mobile_ingress_time_window`."""

from __future__ import annotations

import pytest
from mobile_ingress_splunk.setup_window import SavedSearch, WindowError, plan, span

from tests.splunk.test_knowledge_objects import cron_interval, relative_seconds

SHIPPED = SavedSearch("an1848", "*/15 * * * *", "-45m@m", "-5m@m")


def holds(search: SavedSearch, window: float, skew: float) -> bool:
    """The rule as tests/splunk/test_knowledge_objects.py states it for the shipped searches."""
    earliest, snap_e = relative_seconds(search.earliest)
    latest, snap_l = relative_seconds(search.latest)
    return earliest - latest - max(snap_e, snap_l) >= window + skew + cron_interval(search.cron)


def test_the_shipped_window_needs_no_change_at_the_defaults() -> None:
    assert plan([SHIPPED], 300, 10) == {}


def test_a_window_inside_the_slack_needs_no_change() -> None:
    assert span(SHIPPED) == 2340
    assert plan([SHIPPED], 2340 - 900 - 10, 10) == {}


def test_a_larger_window_moves_the_dispatch_earliest_time_just_enough() -> None:
    changes = plan([SHIPPED], 3600, 10)
    assert changes == {"an1848": "-82m@m"}
    moved = SavedSearch("an1848", SHIPPED.cron, changes["an1848"], SHIPPED.latest)
    assert holds(moved, 3600, 10)
    shorter = SavedSearch("an1848", SHIPPED.cron, "-81m@m", SHIPPED.latest)
    assert not holds(shorter, 3600, 10)


def test_a_larger_clock_skew_moves_it_too() -> None:
    changes = plan([SHIPPED], 300, 1500)
    assert holds(SavedSearch("s", SHIPPED.cron, changes["an1848"], SHIPPED.latest), 300, 1500)


def test_a_schedule_that_is_no_fixed_interval_is_refused_with_the_reason() -> None:
    custom = SavedSearch("an1849", "0 9 * * 1-5", "-45m@m", "-5m@m")
    with pytest.raises(WindowError) as info:
        plan([custom], 300, 10)
    assert str(info.value) == (
        "Cannot check the dispatch window of the saved search an1849: its schedule '0 9 * * 1-5' is "
        "not a fixed interval. Set time_window and clock_skew in Settings > Advanced search > Search "
        "macros and widen its dispatch.earliest_time yourself."
    )


def test_absolute_dispatch_times_are_refused_with_the_reason() -> None:
    custom = SavedSearch("an1849", "*/15 * * * *", "1700000000", "now")
    with pytest.raises(WindowError, match="are not both relative times like -45m@m"):
        plan([custom], 300, 10)


def test_a_window_needing_more_than_a_day_of_events_per_run_is_refused() -> None:
    with pytest.raises(WindowError, match=r"search 87\d\d\d seconds of events on every run"):
        plan([SHIPPED], 86000, 10)
