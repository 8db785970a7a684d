"""The scalar mutable elements (contract section 2)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from .errors import SettingError
from .timeparse import parse_number

PREFIX = "mobile_ingress_"
TRUE_WORDS = ("true", "1", "yes", "t", "y")
FALSE_WORDS = ("false", "0", "no", "f", "n")


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


@dataclass(frozen=True)
class Settings:
    time_window: float = 300.0
    ingress_bytes_threshold: float = 8192.0
    foreground_state_required: bool = False
    clock_skew: float = 10.0

    @property
    def reach(self) -> float:
        """How far (seconds) any rule looks from an anchor event, either way: retrieval to file
        (window), its byte sum (window), the duplicate rules (window), stages and repeats
        (window + skew), and for a retrieval-only finding the chains it may be part of."""
        return 5 * self.time_window + 3 * self.clock_skew + 1.0

    def with_values(self, values: Mapping[str, object]) -> Settings:
        updates: dict[str, Any] = {}
        for name, raw in values.items():
            key = name[len(PREFIX) :] if name.startswith(PREFIX) else name
            updates[key] = parse_setting(key, raw)
        return replace(self, **updates)


def parse_setting(name: str, raw: object) -> object:
    """The typed value of one element; SettingError naming it and what it accepts."""
    if name in ("time_window", "ingress_bytes_threshold", "clock_skew"):
        number = parse_number(raw)
        if name == "time_window":
            if number is None or number <= 0:
                raise SettingError(f"time_window must be a number of seconds above 0, got {raw!r}")
        elif number is None or number < 0:
            raise SettingError(f"{name} must be a number at or above 0, got {raw!r}")
        return number
    if name == "foreground_state_required":
        try:
            return parse_bool(raw)
        except ValueError:
            raise SettingError(
                f"foreground_state_required must be true or false (or 1/0), got {raw!r}"
            ) from None
    known = ", ".join(("time_window", "ingress_bytes_threshold", "foreground_state_required", "clock_skew"))
    raise SettingError(f"unknown element {name!r}; known: {known}")
