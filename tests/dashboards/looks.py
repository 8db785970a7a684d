"""How a user looks at each dashboard at the end of the replay (tests/replay: nine days, planted
chains on day 7, setup-page edits on day 8, the warm-up gate closed until day 7).

All at `now` = the end of the replay (00:00 UTC after day 8), on a search head without Enterprise
Security (the Finding dashboard is also looked at with ES installed):
- Overview: its defaults (last 7 days, every analytic and severity): every notable of the replay.
- Finding: opened from the Overview on a notable whose evidence has follow-on stages and an event
  without event_id (a Suricata or Zeek retrieval, evidence named `t=...`).
- Tuning: the last two days (`-2d@d,now`): day 7, the first day with the gate open (the planted
  chains and the near misses: a baselined destination, a shipped allowed destination), and day 8
  (the setup-page edits). Day 3 (the warm-up chain held back) is a date range of its own
  (`warmup_day`): a range that ends after the gate opened shows no held findings.
- Data health: the last 7 days (`-7d@d,now`): the default last 24 hours has no add-on log line, so
  the warm-up gate panel would say nothing was held back.
"""

from __future__ import annotations

from typing import Any

from tests.replay.deployment import Deployment

from .recording import Look

DAY = 86400
OVERVIEW = "mobile_ingress_overview"
FINDING = "mobile_ingress_finding"
TUNING = "mobile_ingress_tuning"
DATA_HEALTH = "mobile_ingress_data_health"


class NoFindingToShow(AssertionError):
    """The replay raised no notable the Finding dashboard is meant to show."""


def notable_findings(replay: Deployment) -> list[dict[str, Any]]:
    """The findings store's rows of the replay's notables."""
    notified = {notable.finding_id for notable in replay.es.notables}
    rows = replay.sp.kvstore.all_records("mobile_ingress_findings")
    return sorted((r for r in rows if r["finding_id"] in notified), key=lambda r: str(r["finding_id"]))


def listed(value: Any) -> list[str]:
    if value is None or value == "":
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def focus_finding(replay: Deployment) -> dict[str, Any]:
    """The notable the Finding dashboard opens on: stages after the retrieval, and a piece of
    evidence without event_id (named `t=<epoch>`); the most stages, then the earliest."""
    candidates = [
        row
        for row in notable_findings(replay)
        if len(listed(row.get("stages"))) > 1 and any(e.startswith("t=") for e in listed(row.get("evidence")))
    ]
    if not candidates:
        raise NoFindingToShow("no notable has follow-on stages and evidence without an event_id")
    return min(candidates, key=lambda r: (-len(listed(r.get("stages"))), float(r["first_time"])))


def looks(replay: Deployment) -> dict[str, Look]:
    end = float(replay.scenario.end)
    return {
        OVERVIEW: Look(OVERVIEW, end, why="defaults: the last 7 days, all analytics and severities"),
        FINDING: Look(
            FINDING,
            end,
            {"finding_id": str(focus_finding(replay)["finding_id"])},
            why="a notable with follow-on stages and evidence without event_id",
        ),
        TUNING: Look(TUNING, end, {"global_time": "-2d@d,now"}, why="days 7 and 8"),
        DATA_HEALTH: Look(DATA_HEALTH, end, {"global_time": "-7d@d,now"}, why="the last 7 days"),
    }


def with_es(look: Look) -> Look:
    return Look(look.dashboard, look.now, look.inputs, es_installed=True, why=look.why + ", ES installed")


def warmup_day(replay: Deployment, day: int = 3) -> Look:
    """The Tuning dashboard over one day of the warm-up period (a date range in the time input)."""
    start = int(replay.scenario.start) + day * DAY
    return Look(
        TUNING, float(replay.scenario.end), {"global_time": f"{start},{start + DAY}"}, why=f"day {day}"
    )
