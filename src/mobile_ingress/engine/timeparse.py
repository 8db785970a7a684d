"""`_time` parsing (contract section 1): epoch seconds or milliseconds, or ISO 8601 with a zone."""

from __future__ import annotations

import math
import re
from datetime import datetime, timedelta, timezone

from .errors import InvalidEvent

_MS_THRESHOLD = 1e11
_ISO = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?"
    r"\s*(Z|z|[+-]\d{2}:?\d{2})$"
)


def parse_number(value: object) -> float | None:
    """A finite number from an int, float or numeric string; None when it is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        number = float(value)
    elif isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        try:
            number = float(text)
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None


def _parse_iso(text: str) -> float:
    match = _ISO.match(text.strip())
    if match is None:
        has_date = re.match(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}", text.strip())
        reason = "ISO time without a zone" if has_date else "not a time"
        raise InvalidEvent(f"invalid _time ({reason})", repr(text))
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    try:
        moment = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second or 0))
    except ValueError as exc:
        raise InvalidEvent("invalid _time (impossible date)", repr(text)) from exc
    if zone in ("Z", "z"):
        offset = timedelta(0)
    else:
        digits = zone[1:].replace(":", "")
        offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
        if zone[0] == "-":
            offset = -offset
    seconds = moment.replace(tzinfo=timezone(offset)).timestamp()
    if fraction:
        seconds += float("0." + fraction)
    return seconds


def parse_time(value: object) -> float:
    """Epoch seconds (float) from any `_time` form the contract allows; InvalidEvent otherwise."""
    if value is None or value == "":
        raise InvalidEvent("missing _time")
    number = parse_number(value)
    if number is not None:
        return number / 1000.0 if abs(number) >= _MS_THRESHOLD else number
    if isinstance(value, str):
        return _parse_iso(value)
    raise InvalidEvent("invalid _time (not a time)", repr(value))


def parse_optional_time(value: object) -> float | None:
    """A time cell of a lookup: empty means open-ended (None)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return parse_time(value)


def round_ms(seconds: float) -> float:
    """Epoch seconds with millisecond precision, as findings carry them."""
    return round(seconds * 1000.0) / 1000.0
