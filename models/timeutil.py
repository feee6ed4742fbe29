"""Calendar arithmetic on the simulation clock (R1: UTC, seconds since start)."""
from __future__ import annotations

import calendar
from datetime import datetime, timedelta, timezone

UTC = timezone.utc


def add_months(when: datetime, months: int) -> datetime:
    """Same day-of-month `months` later, clamped to the month's last day.

    12 months after 31 Jan is 31 Jan; after 29 Feb it is 28 Feb (R7).
    """
    total = when.month - 1 + months
    year, month = when.year + total // 12, total % 12 + 1
    day = min(when.day, calendar.monthrange(year, month)[1])
    return when.replace(year=year, month=month, day=day)


def monthly(start: datetime, end: datetime, day: int) -> list[datetime]:
    """Day-of-month `day` (1-28) at 00:00 of every month, from `start` (included) to `end`."""
    when = start.replace(day=day, hour=0, minute=0, second=0, microsecond=0)
    if when < start:
        when = add_months(when, 1)
    out = []
    while when < end:
        out.append(when)
        when = add_months(when, 1)
    return out


def month_start(when: datetime) -> datetime:
    return when.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


class Clock:
    """Converts between UTC datetimes and integer seconds since the scenario start."""

    def __init__(self, start: datetime):
        if start.tzinfo is None:
            start = start.replace(tzinfo=UTC)
        self.start = start.astimezone(UTC)
        # iso() of whole seconds: the date part cached per day (same text as strftime)
        s = self.start
        self._whole = s.microsecond == 0
        self._s0 = s.hour * 3600 + s.minute * 60 + s.second
        self._days: dict[int, str] = {}

    def to_dt(self, t: int) -> datetime:
        return self.start + timedelta(seconds=t)

    def to_t(self, when: datetime) -> int:
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        return int((when - self.start).total_seconds() // 1)

    def iso(self, t: int) -> str:
        if type(t) is int and self._whole:
            day, sec = divmod(self._s0 + t, 86400)
            date = self._days.get(day)
            if date is None:
                date = self._days[day] = self.to_dt(t).strftime("%Y-%m-%dT")
            h, sec = divmod(sec, 3600)
            m, sec = divmod(sec, 60)
            return f"{date}{h:02d}:{m:02d}:{sec:02d}Z"
        return self.to_dt(t).strftime("%Y-%m-%dT%H:%M:%SZ")

    def month_starts(self, horizon: int) -> list[int]:
        """Instants (> 0, < horizon) at which the calendar month changes (R4 reset)."""
        out = []
        nxt = add_months(month_start(self.start), 1)
        while (t := self.to_t(nxt)) < horizon:
            out.append(t)
            nxt = add_months(nxt, 1)
        return out

    def month_key(self, t: int) -> str:
        return self.to_dt(t).strftime("%Y-%m")

    def plus_months(self, t: int, months: int) -> int:
        return self.to_t(add_months(self.to_dt(t), months))
