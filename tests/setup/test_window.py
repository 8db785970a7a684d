"""The dispatch-window rule the setup page keeps, for every search that passes
`mobile_ingress_time_window`: earliest >= time_window + clock_skew + schedule interval +
max(latest with its snap, ingest lag) (mobile_ingress_splunk/setup_window.py)."""

from __future__ import annotations

import pytest
from mobile_ingress_splunk.setup_window import SavedSearch, WindowError, covered, plan

from tests.splunk.test_knowledge_objects import cron_interval, relative_seconds

LAG = 4500  # the shipped mobile_ingress_ingest_lag_seconds
SHIPPED = SavedSearch("det0718", "*/15 * * * *", "-100m@m", "-5m@m")
OLD = SavedSearch("det0718", "*/15 * * * *", "-45m@m", "-5m@m")  # before the ingest-lag term


def holds(search: SavedSearch, window: float, skew: float, lag: float) -> bool:
    """The rule as tests/splunk/test_knowledge_objects.py states it for the shipped searches."""
    earliest, _ = relative_seconds(search.earliest)
    latest, snap_l = relative_seconds(search.latest)
    return earliest >= window + skew + cron_interval(search.cron) + max(latest + snap_l, lag)


def test_the_shipped_window_needs_no_change_at_the_defaults() -> None:
    assert plan([SHIPPED], 300, 10, LAG) == {}
    assert holds(SHIPPED, 300, 10, LAG)


def test_a_window_too_short_for_the_ingest_lag_is_widened() -> None:
    """The old -45m@m window lost every chain whose last event was indexed an hour late."""
    changes = plan([OLD], 300, 10, LAG)
    assert changes == {"det0718": "-96m@m"}
    assert holds(SavedSearch("det0718", OLD.cron, changes["det0718"], OLD.latest), 300, 10, LAG)
    assert not holds(SavedSearch("det0718", OLD.cron, "-95m@m", OLD.latest), 300, 10, LAG)


def test_without_lag_the_latest_offset_and_its_snap_bound_the_wait() -> None:
    assert plan([OLD], 300, 10, 0) == {}
    assert covered(OLD, 0) == 2700 - 900 - 360


def test_a_window_inside_the_slack_needs_no_change() -> None:
    slack = covered(SHIPPED, LAG)
    assert slack == 6000 - 900 - 4500
    assert plan([SHIPPED], slack - 10, 10, LAG) == {}


def test_a_larger_window_moves_the_dispatch_earliest_time_just_enough() -> None:
    changes = plan([SHIPPED], 3600, 10, LAG)
    assert changes == {"det0718": "-151m@m"}
    moved = SavedSearch("det0718", SHIPPED.cron, changes["det0718"], SHIPPED.latest)
    assert holds(moved, 3600, 10, LAG)
    shorter = SavedSearch("det0718", SHIPPED.cron, "-150m@m", SHIPPED.latest)
    assert not holds(shorter, 3600, 10, LAG)


def test_a_larger_clock_skew_moves_it_too() -> None:
    changes = plan([SHIPPED], 300, 1500, LAG)
    assert holds(SavedSearch("s", SHIPPED.cron, changes["det0718"], SHIPPED.latest), 300, 1500, LAG)


def test_a_larger_ingest_lag_moves_it_too() -> None:
    changes = plan([SHIPPED], 300, 10, 3 * 3600)
    assert holds(SavedSearch("s", SHIPPED.cron, changes["det0718"], SHIPPED.latest), 300, 10, 3 * 3600)


def test_a_schedule_that_is_no_fixed_interval_is_refused_with_the_reason() -> None:
    custom = SavedSearch("det0718", "0 9 * * 1-5", "-45m@m", "-5m@m")
    with pytest.raises(WindowError) as info:
        plan([custom], 300, 10, LAG)
    assert str(info.value) == (
        "Cannot check the dispatch window of the saved search det0718: its schedule '0 9 * * 1-5' is "
        "not a fixed interval. Set time_window and clock_skew in Settings > Advanced search > Search "
        "macros and widen its dispatch.earliest_time yourself."
    )


def test_absolute_dispatch_times_are_refused_with_the_reason() -> None:
    custom = SavedSearch("det0718", "*/15 * * * *", "1700000000", "now")
    with pytest.raises(WindowError, match="are not both relative times like -45m@m"):
        plan([custom], 300, 10, LAG)


def test_a_window_needing_more_than_a_day_of_events_per_run_is_refused() -> None:
    with pytest.raises(WindowError, match=r"search 9\d\d\d\d seconds of events on every run"):
        plan([SHIPPED], 86000, 10, LAG)
