"""Splunk's time syntax, in UTC (the executor's only time zone; see README).

- Time modifiers (`-45m@m`, `@d`, `-7d@w1`, `now`, epoch numbers, `%m/%d/%Y:%H:%M:%S`), as in
  https://help.splunk.com/splunk-enterprise/spl-search-reference/9.4/time-format-variables-and-modifiers/time-modifiers
- strftime/strptime with Splunk's format variables (`%s`, `%<n>N`, `%N`, `%Q`, `%Z`, `%z`, ...),
  https://help.splunk.com/splunk-enterprise/spl-search-reference/9.4/time-format-variables-and-modifiers/date-and-time-format-variables
"""

from __future__ import annotations

import calendar
import math
import re
from datetime import datetime, timedelta, timezone

from .errors import SplError, UnsupportedSpl

_UNITS = {
    "s": "s",
    "sec": "s",
    "secs": "s",
    "second": "s",
    "seconds": "s",
    "m": "m",
    "min": "m",
    "mins": "m",
    "minute": "m",
    "minutes": "m",
    "h": "h",
    "hr": "h",
    "hrs": "h",
    "hour": "h",
    "hours": "h",
    "d": "d",
    "day": "d",
    "days": "d",
    "w": "w",
    "week": "w",
    "weeks": "w",
    "mon": "mon",
    "month": "mon",
    "months": "mon",
    "q": "q",
    "qtr": "q",
    "qtrs": "q",
    "quarter": "q",
    "quarters": "q",
    "y": "y",
    "yr": "y",
    "yrs": "y",
    "year": "y",
    "years": "y",
}
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_OFFSET = re.compile(r"([+-])(\d*)([a-zA-Z]+)")
_SNAP = re.compile(r"@([a-zA-Z]+\d?)")
_ABSOLUTE = "%m/%d/%Y:%H:%M:%S"


def _add_months(dt: datetime, months: int) -> datetime:
    index = dt.year * 12 + dt.month - 1 + months
    year, month = divmod(index, 12)
    day = min(dt.day, calendar.monthrange(year, month + 1)[1])
    return dt.replace(year=year, month=month + 1, day=day)


def _snap(dt: datetime, unit: str) -> datetime:
    if unit in ("w0", "w1", "w2", "w3", "w4", "w5", "w6", "w7"):
        target = int(unit[1]) % 7  # w0 and w7 are Sunday
        day = dt.replace(hour=0, minute=0, second=0, microsecond=0)
        back = (day.isoweekday() % 7 - target) % 7
        return day - timedelta(days=back)
    name = _UNITS.get(unit)
    if name is None:
        raise SplError(f"Invalid time modifier snap unit '@{unit}'")
    if name == "s":
        return dt.replace(microsecond=0)
    if name == "m":
        return dt.replace(second=0, microsecond=0)
    if name == "h":
        return dt.replace(minute=0, second=0, microsecond=0)
    if name == "d":
        return dt.replace(hour=0, minute=0, second=0, microsecond=0)
    if name == "w":
        return _snap(dt, "w0")
    if name == "mon":
        return dt.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    if name == "q":
        month = (dt.month - 1) // 3 * 3 + 1
        return dt.replace(month=month, day=1, hour=0, minute=0, second=0, microsecond=0)
    return dt.replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0)


def relative(modifier: str, now: float) -> float:
    """The epoch time a modifier names, relative to `now` (UTC)."""
    text = modifier.strip()
    if text in ("", "now"):
        return now
    try:
        return float(text)
    except ValueError:
        pass
    if "/" in text and ":" in text:
        try:
            return datetime.strptime(text, _ABSOLUTE).replace(tzinfo=timezone.utc).timestamp()
        except ValueError as exc:
            raise SplError(f"Invalid time modifier {modifier!r}") from exc
    if text.startswith("rt"):
        raise UnsupportedSpl(f"real-time modifier {modifier!r}")
    whole, fraction = math.floor(now), now - math.floor(now)
    dt = datetime.fromtimestamp(whole, tz=timezone.utc)
    pos = 0
    snapped = False
    while pos < len(text):
        match = _OFFSET.match(text, pos)
        if match is not None:
            sign = -1 if match.group(1) == "-" else 1
            amount = int(match.group(2) or "1") * sign
            unit = _UNITS.get(match.group(3))
            if unit is None:
                raise SplError(f"Invalid time modifier {modifier!r}: unknown unit {match.group(3)!r}")
            if unit in _SECONDS:
                dt = dt + timedelta(seconds=amount * _SECONDS[unit])
            elif unit == "mon":
                dt = _add_months(dt, amount)
            elif unit == "q":
                dt = _add_months(dt, 3 * amount)
            else:
                dt = _add_months(dt, 12 * amount)
            pos = match.end()
            continue
        match = _SNAP.match(text, pos)
        if match is not None:
            dt = _snap(dt, match.group(1))
            snapped = True
            pos = match.end()
            continue
        raise SplError(f"Invalid time modifier {modifier!r}")
    result = dt.timestamp()
    return result if snapped else result + fraction


# --------------------------------------------------------------------------- strftime


def _subseconds(t: float, digits: int) -> str:
    fraction = t - math.floor(t)
    value = int(fraction * 10**digits + 1e-6)
    return str(min(value, 10**digits - 1)).rjust(digits, "0")


def strftime(t: float, fmt: str) -> str:
    """Format epoch seconds in UTC with Splunk's variables."""
    dt = datetime.fromtimestamp(math.floor(t), tz=timezone.utc)
    out = []
    i = 0
    while i < len(fmt):
        char = fmt[i]
        if char != "%" or i + 1 >= len(fmt):
            out.append(char)
            i += 1
            continue
        spec = fmt[i + 1]
        i += 2
        if spec.isdigit() and i < len(fmt) and fmt[i] == "N":
            out.append(_subseconds(t, int(spec)))
            i += 1
        elif spec == "N" or spec == "Q":
            out.append(_subseconds(t, 3))
        elif spec == "s":
            out.append(str(math.floor(t)))
        elif spec == "Z":
            out.append("UTC")
        elif spec == "z":
            out.append("+0000")
        elif spec == "e":
            out.append(str(dt.day).rjust(2))
        elif spec == "%":
            out.append("%")
        elif spec in "YmdHMSjaAbBpIyTFwu":
            out.append(dt.strftime("%" + spec))
        else:
            raise UnsupportedSpl(f"strftime format variable %{spec}")
    return "".join(out)


# --------------------------------------------------------------------------- strptime

_MONTHS = {m.lower(): i for i, m in enumerate(calendar.month_abbr) if m}
_PATTERN_CACHE: dict[str, tuple[re.Pattern[str], list[str]]] = {}


def _compile(fmt: str) -> tuple[re.Pattern[str], list[str]]:
    cached = _PATTERN_CACHE.get(fmt)
    if cached is not None:
        return cached
    parts: list[str] = []
    names: list[str] = []
    i = 0
    while i < len(fmt):
        char = fmt[i]
        if char != "%" or i + 1 >= len(fmt):
            parts.append(r"\s+" if char == " " else re.escape(char))
            i += 1
            continue
        spec = fmt[i + 1]
        i += 2
        if spec.isdigit() and i < len(fmt) and fmt[i] == "N":
            parts.append(r"(\d{1," + spec + "})")
            names.append("frac")
            i += 1
            continue
        table = {
            "Y": (r"(\d{4})", "Y"),
            "m": (r"(\d{1,2})", "m"),
            "d": (r"(\d{1,2})", "d"),
            "e": (r"\s?(\d{1,2})", "d"),
            "H": (r"(\d{1,2})", "H"),
            "M": (r"(\d{1,2})", "M"),
            "S": (r"(\d{1,2})", "S"),
            "s": (r"(\d{9,10})", "s"),
            "N": (r"(\d{1,9})", "frac"),
            "Q": (r"(\d{1,3})", "frac"),
            "y": (r"(\d{2})", "y"),
            "j": (r"(\d{1,3})", "j"),
            "b": (r"([A-Za-z]{3})", "b"),
            "z": (r"([+-]\d{2}:?\d{2}|Z)", "z"),
            "Z": (r"(Z|UTC|GMT|[+-]\d{2}:?\d{2})", "z"),
            "T": (r"(\d{1,2}):(\d{1,2}):(\d{1,2})", "T"),
            "F": (r"(\d{4})-(\d{1,2})-(\d{1,2})", "F"),
            "%": (r"%", ""),
        }
        if spec not in table:
            raise UnsupportedSpl(f"strptime format variable %{spec}")
        pattern, name = table[spec]
        parts.append(pattern)
        if name:
            names.append(name)
    compiled = (re.compile("".join(parts)), names)
    _PATTERN_CACHE[fmt] = compiled
    return compiled


def strptime_prefix(text: str, fmt: str) -> tuple[float, int] | None:
    """Parse a timestamp at the start of `text`: (epoch seconds, characters used), or None."""
    pattern, names = _compile(fmt)
    match = pattern.match(text)
    if match is None:
        return None
    values = dict(Y=1970, m=1, d=1, H=0, M=0, S=0)
    fraction = 0.0
    offset = 0
    epoch: int | None = None
    groups = iter(match.groups())
    for name in names:
        if name == "T":
            values["H"], values["M"], values["S"] = (int(next(groups)) for _ in range(3))
        elif name == "F":
            values["Y"], values["m"], values["d"] = (int(next(groups)) for _ in range(3))
        else:
            raw = next(groups)
            if name == "frac":
                fraction = int(raw) / 10 ** len(raw)
            elif name == "s":
                epoch = int(raw)
            elif name == "z":
                if raw not in ("Z", "UTC", "GMT"):
                    sign = -1 if raw[0] == "-" else 1
                    digits = raw[1:].replace(":", "")
                    offset = sign * (int(digits[:2]) * 3600 + int(digits[2:]) * 60)
            elif name == "b":
                month = _MONTHS.get(raw.lower())
                if month is None:
                    return None
                values["m"] = month
            elif name == "y":
                values["Y"] = 2000 + int(raw) if int(raw) < 69 else 1900 + int(raw)
            elif name == "j":
                values["j"] = int(raw)
            else:
                values[name] = int(raw)
    if epoch is not None:
        return epoch + fraction, match.end()
    try:
        dt = datetime(
            values["Y"], values["m"], values["d"], values["H"], values["M"], values["S"], tzinfo=timezone.utc
        )
    except ValueError:
        return None
    if "j" in values:
        dt = dt.replace(month=1, day=1) + timedelta(days=values["j"] - 1)
    return dt.timestamp() - offset + fraction, match.end()


def strptime(text: str, fmt: str) -> float | None:
    """eval's strptime: the whole format must match from the start of the text."""
    parsed = strptime_prefix(text, fmt)
    return None if parsed is None else parsed[0]


def format_time(t: float) -> str:
    """`_time` as text: epoch seconds, with microseconds when there is a fraction."""
    if float(t).is_integer():
        return str(int(t))
    return f"{t:.6f}".rstrip("0")
