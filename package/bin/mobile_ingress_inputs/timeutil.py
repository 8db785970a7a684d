"""RFC 3339 times as the three APIs write them (Graph: 7 fraction digits, Google: up to 9, Jamf:
3), to epoch seconds and back, on Python 3.9 (whose fromisoformat knows no `Z`)."""

from __future__ import annotations

import datetime as dt
import re

_RFC3339 = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|z|[+-]\d{2}:?\d{2})$"
)


def parse(value: object) -> float | None:
    """Epoch seconds, or None for anything that is not an RFC 3339 time with a zone."""
    if not isinstance(value, str):
        return None
    match = _RFC3339.match(value.strip())
    if not match:
        return None
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    try:
        when = dt.datetime(
            int(year), int(month), int(day), int(hour), int(minute), int(second), tzinfo=dt.timezone.utc
        )
    except ValueError:
        return None
    offset = 0
    if zone not in ("Z", "z"):
        sign = 1 if zone[0] == "+" else -1
        digits = zone[1:].replace(":", "")
        offset = sign * (int(digits[:2]) * 3600 + int(digits[2:]) * 60)
    seconds = when.timestamp() - offset
    if fraction:
        seconds += float("0." + fraction[:9])
    return round(seconds, 6)


def iso(epoch: float) -> str:
    """Epoch seconds as UTC RFC 3339 with milliseconds (what every one of the APIs accepts)."""
    when = dt.datetime.fromtimestamp(epoch, tz=dt.timezone.utc)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"
