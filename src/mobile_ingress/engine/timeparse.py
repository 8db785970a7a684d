"""`_time` parsing (contract section 1): epoch seconds or milliseconds, or ISO 8601 with a zone."""

from __future__ import annotations

import math
import re
from datetime import datetime, timedelta, timezone

from .errors import InvalidEvent

_MS_THRESHOLD = 1e11
# Python's datetime range (years 1 to 9999), in epoch seconds: a time outside it cannot be shown or
# compared with an ISO time, so it is invalid rather than a crash further on.
EARLIEST = -62135596800.0
LATEST = 253402300799.999
_ISO = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?"
    r"\s*(Z|z|[+-]\d{2}:?\d{2})$"
)


def parse_number(value: object) -> float | None:
    """A finite number from an int, float or numeric string; None when it is not one."""
    if isinstance(value, bool):
        return None
    try:
        if isinstance(value, (int, float)):
            number = float(value)  # an int beyond a float raises OverflowError
        elif isinstance(value, str):
            text = value.strip()
            if not text:
                return None
            number = float(text)
        else:
            return None
    except (ValueError, OverflowError):
        return None
    return number if math.isfinite(number) else None


def _parse_iso(text: str) -> float:
    match = _ISO.match(text.strip())
    if match is None:
        has_date = re.match(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}", text.strip())
        reason = "ISO time without a zone" if has_date else "not a time"
        raise InvalidEvent(f"invalid _time ({reason})", _excerpt(text))
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    try:
        moment = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second or 0))
    except ValueError as exc:
        raise InvalidEvent("invalid _time (impossible date)", _excerpt(text)) from exc
    if zone in ("Z", "z"):
        offset = timedelta(0)
    else:
        digits = zone[1:].replace(":", "")
        hours, minutes = int(digits[:2]), int(digits[2:])
        if hours > 23 or minutes > 59:  # a zone is less than a day from UTC
            raise InvalidEvent("invalid _time (zone offset out of range)", _excerpt(text))
        offset = timedelta(hours=hours, minutes=minutes)
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
        seconds = number / 1000.0 if abs(number) >= _MS_THRESHOLD else number
    elif isinstance(value, str):
        seconds = _parse_iso(value)
    elif isinstance(value, int) and not isinstance(value, bool):  # beyond a float: no time either
        raise InvalidEvent("invalid _time (outside the years 1 to 9999)", _excerpt(value))
    else:
        raise InvalidEvent("invalid _time (not a time)", _excerpt(value))
    if not EARLIEST <= seconds <= LATEST:
        raise InvalidEvent("invalid _time (outside the years 1 to 9999)", _excerpt(value))
    return seconds


def _excerpt(value: object, limit: int = 80) -> str:
    """A value for a message, cut short (an integer of thousands of digits must not fill it)."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 256:
        # str() of an int this long is slow, and refused beyond 4300 digits
        return f"an integer of about {int(value.bit_length() * 0.30103) + 1} digits"
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def parse_optional_time(value: object) -> float | None:
    """A time cell of a lookup: empty means open-ended (None)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return parse_time(value)


def round_ms(seconds: float) -> float:
    """Epoch seconds with millisecond precision, as findings carry them."""
    return round(seconds * 1000.0) / 1000.0
