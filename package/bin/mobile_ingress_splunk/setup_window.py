"""The dispatch-window rule of the correlation searches, for the setup page.

A run at T searches `_time` in [T - earliest, T - latest) and sees only the events indexed by T.
A chain spans at most `time_window` + `clock_skew` (S); its last event reaches the index at most
`ingest_lag` (G) after its time. The first run at or after the chain's end + max(latest, G)
sees it whole when its earliest edge still reaches the chain's start, and that run comes at most
one schedule interval (I) later. So the rule (docs/splunk.md, "Schedule"; the shipped searches
are checked by tests/splunk/test_knowledge_objects.py, and the replays in tests/replay exercise
it with late events) is:

    earliest >= S + I + max(latest + its snap, G)

where a snap (`@m`) can move `latest` up to one unit earlier. When the setup page raises the
window, the skew or the lag, `plan` says which searches need a wider `dispatch.earliest_time`, or
refuses with the reason when it cannot tell or the window would be unreasonable.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
# Above this a search every few minutes would re-read more than a day of events on each run.
MAX_DISPATCH_SECONDS = 86400
_RELATIVE = re.compile(r"-(\d+)([smhd])(?:@([smhd]))?")


class WindowError(ValueError):
    """A change that would break the window rule; the message is what the user sees."""


@dataclass(frozen=True)
class SavedSearch:
    name: str
    cron: str
    earliest: str
    latest: str


def relative_seconds(text: str) -> tuple[int, int] | None:
    """(seconds before now, snap unit in seconds) of `-45m@m` or `now`; None for other forms."""
    text = text.strip()
    if text in ("now", ""):
        return 0, 0
    match = _RELATIVE.fullmatch(text)
    if not match:
        return None
    snap = UNITS[match.group(3)] if match.group(3) else 0
    return int(match.group(1)) * UNITS[match.group(2)], snap


def cron_interval(cron: str) -> int | None:
    """Seconds between runs of a cron schedule of a fixed interval; None for other schedules."""
    parts = cron.split()
    if len(parts) != 5:
        return None
    minute, hour = parts[:2]
    if minute.startswith("*/") and minute[2:].isdigit() and hour == "*":
        return int(minute[2:]) * 60
    if minute.isdigit() and hour == "*":
        return 3600
    if minute.isdigit() and hour.startswith("*/") and hour[2:].isdigit():
        return int(hour[2:]) * 3600
    if minute.isdigit() and hour.isdigit() and parts[2:] == ["*", "*", "*"]:
        return 86400
    return None


def covered(search: SavedSearch, ingest_lag: float) -> int:
    """The longest chain (seconds) every event of which one run surely sees: earliest minus the
    schedule interval minus the later of `latest` (with its snap) and the ingest lag."""
    interval = _interval(search)
    earliest, latest = _times(search)
    return earliest[0] - interval - max(latest[0] + latest[1], math.ceil(ingest_lag))


def needed_earliest(search: SavedSearch, time_window: float, clock_skew: float, ingest_lag: float) -> int:
    """The smallest `dispatch.earliest_time` (seconds before the run) the rule allows."""
    latest = _times(search)[1]
    return math.ceil(time_window + clock_skew) + _interval(search) + max(
        latest[0] + latest[1], math.ceil(ingest_lag)
    )


def _interval(search: SavedSearch) -> int:
    interval = cron_interval(search.cron)
    if interval is None:
        raise WindowError(
            f"Cannot check the dispatch window of the saved search {search.name}: its schedule "
            f"{search.cron!r} is not a fixed interval. Set time_window and clock_skew in "
            "Settings > Advanced search > Search macros and widen its dispatch.earliest_time yourself."
        )
    return interval


def plan(
    searches: list[SavedSearch], time_window: float, clock_skew: float, ingest_lag: float = 0.0
) -> dict[str, str]:
    """The new `dispatch.earliest_time` of each search whose window is now too short (the others
    are left alone: a wider window never breaks the rule). WindowError when any search cannot be
    checked or would need more than MAX_DISPATCH_SECONDS."""
    changes: dict[str, str] = {}
    for search in searches:
        need = needed_earliest(search, time_window, clock_skew, ingest_lag)
        if _times(search)[0][0] >= need:
            continue
        # `-Nm@m`: whole minutes, snapped to the minute like the shipped searches (a snap only
        # widens the earliest edge).
        minutes = math.ceil(need / 60)
        if minutes * 60 > MAX_DISPATCH_SECONDS:
            raise WindowError(
                f"time_window {time_window:g} with clock_skew {clock_skew:g} and an ingest lag of "
                f"{ingest_lag:g} seconds would make the saved search {search.name} search "
                f"{minutes * 60} seconds of events on every run (more than {MAX_DISPATCH_SECONDS}); "
                "choose a smaller value."
            )
        changes[search.name] = f"-{minutes}m@m"
    return changes


def _times(search: SavedSearch) -> tuple[tuple[int, int], tuple[int, int]]:
    earliest = relative_seconds(search.earliest)
    latest = relative_seconds(search.latest)
    if earliest is None or latest is None:
        raise WindowError(
            f"Cannot check the dispatch window of the saved search {search.name}: "
            f"dispatch.earliest_time {search.earliest!r} and dispatch.latest_time {search.latest!r} "
            "are not both relative times like -45m@m. Widen its dispatch window yourself."
        )
    return earliest, latest
