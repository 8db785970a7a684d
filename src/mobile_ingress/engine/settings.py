"""The scalar mutable elements (contract section 2), and the spans of time derived from them.

Each element is declared once, as a field of `Settings` whose metadata says what it accepts;
`SETTING_NAMES` and the parsing (`parse_setting`) are derived from those fields. Each span the
engine works with (how far a rule looks, how long an item waits, how much the correlator holds) is
one named property of `Settings`, derived here and read everywhere else.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from enum import Enum
from typing import Any

from .errors import SettingError
from .timeparse import parse_number

PREFIX = "mobile_ingress_"
TRUE_WORDS = ("true", "1", "yes", "t", "y")
FALSE_WORDS = ("false", "0", "no", "f", "n")
# How many correlator reaches of anchors one batch finalizes (engine/stream.py): a wider batch is
# fewer, larger batches at the price of more events held.
BLOCK_REACHES = 2
# Slack against rounding, added once to each span below.
SLACK = 1.0


def parse_bool(value: object) -> bool:
    """`true`/`false`/`1`/`0` (and yes/no), any case; ValueError otherwise."""
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        word = value.strip().lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
    raise ValueError(f"{value!r} is not a boolean")


class Accepts(Enum):
    """What one element accepts (the metadata of its field)."""

    SECONDS_ABOVE_ZERO = "seconds above 0"
    AT_OR_ABOVE_ZERO = "a number at or above 0"
    FLAG = "true or false"


def _element(default: object, accepts: Accepts) -> Any:
    return field(default=default, metadata={"accepts": accepts})


@dataclass(frozen=True)
class Settings:
    time_window: float = _element(300.0, Accepts.SECONDS_ABOVE_ZERO)
    ingress_bytes_threshold: float = _element(8192.0, Accepts.AT_OR_ABOVE_ZERO)
    foreground_state_required: bool = _element(False, Accepts.FLAG)
    clock_skew: float = _element(10.0, Accepts.AT_OR_ABOVE_ZERO)

    @property
    def neighbourhood_reach(self) -> float:
        """How far (seconds) any rule looks from an anchor (a staged file that may be risky, an
        iOS retrieval that may be a finding on its own), either way: from a staged file F, at
        retrievals in [F - window, F + skew] and at their byte sums a window before each (so from
        F - 2 windows - skew), and at repeats, stages and earlier copies of F within a window after
        or before it (window + skew). Duplicates by event id are kept apart and identical content
        shares a time, so the duplicate rules need no margin. Two windows and two skews, plus slack.
        The neighbourhood rule (`Prefilter.neighbourhood()`, engine/candidates.py, the fast reader)
        leaves out what lies farther than this from every anchor."""
        return 2 * self.time_window + 2 * self.clock_skew + SLACK

    @property
    def decision_delay(self) -> float:
        """How long (seconds, in the order of arrival) the neighbourhood rule holds an item before
        deciding it: its anchors within `neighbourhood_reach` must have arrived, and a covered
        file within that reach becomes an anchor once its in-process loads (up to a window after
        it) have arrived. The reach, a window, plus slack."""
        return self.neighbourhood_reach + self.time_window + SLACK

    @property
    def reach(self) -> float:
        """How far (seconds) the correlator batches around an anchor, either way (engine/stream.py):
        retrieval to file (window), its byte sum (window), the duplicate rules (window), stages and
        repeats (window + skew), and for a retrieval-only finding the chains it may be part of
        (window + two skews): five windows and three skews, plus slack. Deliberately wider than
        `neighbourhood_reach` (each rule's own span): a batch bound, never a filter."""
        return 5 * self.time_window + 3 * self.clock_skew + SLACK

    @property
    def retained_span(self) -> float:
        """The widest span of time (seconds) of the events the correlator holds at once on
        time-ordered input (engine/stream.py): a batch is cut once the newest event lies
        `BLOCK_REACHES` reaches beyond the last final one plus a reach, and after it the events
        within a reach of the batch's end stay, with (ascending) a window of history for the
        duplicate rule: (BLOCK_REACHES + 2) reaches and a window, plus slack."""
        return (BLOCK_REACHES + 2) * self.reach + self.time_window + SLACK

    def with_values(self, values: Mapping[str, object]) -> Settings:
        updates: dict[str, Any] = {}
        for name, raw in values.items():
            key = name[len(PREFIX) :] if name.startswith(PREFIX) else name
            updates[key] = parse_setting(key, raw)
        return replace(self, **updates)


ACCEPTS: dict[str, Accepts] = {f.name: f.metadata["accepts"] for f in fields(Settings)}
SETTING_NAMES: tuple[str, ...] = tuple(ACCEPTS)


def parse_setting(name: str, raw: object) -> object:
    """The typed value of one element; SettingError naming it and what it accepts."""
    accepts = ACCEPTS.get(name)
    if accepts is None:
        raise SettingError(f"unknown element {name!r}; known: {', '.join(SETTING_NAMES)}")
    if accepts is Accepts.FLAG:
        try:
            return parse_bool(raw)
        except ValueError:
            raise SettingError(f"{name} must be true or false (or 1/0), got {raw!r}") from None
    number = parse_number(raw)
    if accepts is Accepts.SECONDS_ABOVE_ZERO:
        if number is None or number <= 0:
            raise SettingError(f"{name} must be a number of seconds above 0, got {raw!r}")
    elif number is None or number < 0:
        raise SettingError(f"{name} must be a number at or above 0, got {raw!r}")
    return number
