"""When Splunk's scheduler runs a saved search: its `cron_schedule` (five fields: minute, hour, day
of month, month, day of week), in UTC, exactly on time (a replay has no skew or skipped runs).

Only the cron forms the app ships are read (`*`, `N`, `*/N`, `A-B`, `A,B`); anything else is
refused by name, as the executor refuses SPL it does not know.
https://docs.splunk.com/Documentation/Splunk/latest/Alert/CronExpressions
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from dataclasses import dataclass

RANGES = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 6))  # minute, hour, day, month, weekday (0 = Sunday)


class CronError(ValueError):
    """A cron schedule this model does not read."""


def _field(text: str, low: int, high: int) -> frozenset[int]:
    values: set[int] = set()
    for part in text.split(","):
        step = 1
        if "/" in part:
            part, _, step_text = part.partition("/")
            if not step_text.isdigit() or int(step_text) == 0:
                raise CronError(f"cron field {text!r}: bad step")
            step = int(step_text)
        if part == "*":
            start, end = low, high
        elif "-" in part:
            a, _, b = part.partition("-")
            if not (a.isdigit() and b.isdigit()):
                raise CronError(f"cron field {text!r}: not understood")
            start, end = int(a), int(b)
        elif part.isdigit():
            start = end = int(part)
        else:
            raise CronError(f"cron field {text!r}: not understood")
        if not low <= start <= end <= high:
            raise CronError(f"cron field {text!r}: out of range {low}-{high}")
        values.update(range(start, end + 1, step))
    return frozenset(values)


@dataclass(frozen=True)
class Cron:
    text: str
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]

    @classmethod
    def parse(cls, text: str) -> Cron:
        parts = text.split()
        if len(parts) != 5:
            raise CronError(f"cron {text!r}: expected five fields")
        fields = [_field(part, low, high) for part, (low, high) in zip(parts, RANGES)]
        return cls(text, *fields)

    def fires(self, epoch: int) -> bool:
        moment = datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc)
        weekday = (moment.weekday() + 1) % 7  # Python: Monday 0; cron: Sunday 0
        return (
            moment.minute in self.minutes
            and moment.hour in self.hours
            and moment.day in self.days
            and moment.month in self.months
            and weekday in self.weekdays
        )

    def times(self, start: float, end: float) -> Iterator[int]:
        """Every minute in (start, end] at which the schedule fires."""
        minute = (int(start) // 60 + 1) * 60
        while minute <= end:
            if self.fires(minute):
                yield minute
            minute += 60
