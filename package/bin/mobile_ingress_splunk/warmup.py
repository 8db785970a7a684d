"""The warm-up gate of the correlation search: findings are held back until the destination
baseline has `warmup_days` of history, so a new install does not raise every destination its
fleet talks to as never seen before.

The gate is Splunk's alone (the command line is given its baseline and has none). It reads the
baseline in force (KV store collection, `_local` CSV, shipped CSV: the one the engine reads), and
its history is the time from the oldest `first_seen` to the end of the searched period. A baseline
row without `first_seen` is a curated row (a hand-made list, baselined from the start): a baseline
that has one opens the gate. An empty baseline keeps it closed: nothing has been learned.

A closed gate is never silent: the command writes a search warning and a log line (which the Data
health dashboard shows) with the number of findings held back, and with `suppressed=true` the held
findings are tuning rows with `suppressed_by = baseline_warmup`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

DAY = 86400.0
SUPPRESSED_BY = "baseline_warmup"


@dataclass(frozen=True)
class GateState:
    open: bool
    required_days: float
    history_days: float | None  # None: no learned row (empty baseline) or curated rows only
    curated: bool = False

    def describe(self) -> str:
        if self.required_days <= 0:
            return "the warm-up gate is off (warmup_days=0)"
        if self.curated:
            return "the destination baseline has curated rows (no first_seen): the warm-up gate is open"
        if self.history_days is None:
            return (
                "the destination baseline is empty: run mobile_ingress_destination_baseline_initial, "
                "or set mobile_ingress_baseline_warmup_days to 0 if you do not build a baseline"
            )
        return (
            f"the destination baseline has {self.history_days:.1f} days of history "
            f"(mobile_ingress_baseline_warmup_days = {self.required_days:g})"
        )


def gate_state(first_seen: Iterable[float | None], required_days: float, reference: float) -> GateState:
    """The gate at REFERENCE (epoch seconds: the end of the searched period) for the baseline rows'
    `first_seen` values (None = a row without one)."""
    if required_days <= 0:
        return GateState(True, required_days, None)
    oldest: float | None = None
    for value in first_seen:
        if value is None:
            return GateState(True, required_days, None, curated=True)
        oldest = value if oldest is None else min(oldest, value)
    if oldest is None:
        return GateState(False, required_days, None)
    history = max(0.0, (reference - oldest) / DAY)
    return GateState(history >= required_days, required_days, history)
