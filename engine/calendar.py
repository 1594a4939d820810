"""England working days: the only module that counts them.

Convention (README, "Working days and deadlines"): the anchor day is working day 0
whether or not it is a working day; "N working days after X" is the Nth working day
after X, "N before P" the Nth working day before P. A working day is Monday to
Friday and not an England bank holiday (the ``holidays`` package with subdivision
``ENG``: substitute days and one-off holidays included), adjusted by the
administrator's overrides. Calendar months clamp to the month end and are never
moved off a non-working day.
"""
from __future__ import annotations

import calendar as _monthcal
import datetime as dt
from typing import Iterable

import holidays


def _check(day: dt.date) -> dt.date:
    if isinstance(day, dt.datetime) or not isinstance(day, dt.date):
        raise TypeError(f"a date is needed, not {type(day).__name__}")
    return day


class WorkingDayCalendar:
    def __init__(self, region: str = "ENG", extra_holidays: Iterable[dt.date] = (),
                 cancelled_holidays: Iterable[dt.date] = ()):
        self.region = region
        self.extra = frozenset(extra_holidays)
        self.cancelled = frozenset(cancelled_holidays)
        self._years: dict[int, dict[dt.date, str]] = {}

    def _bank_holidays(self, year: int) -> dict[dt.date, str]:
        if year not in self._years:
            self._years[year] = dict(holidays.country_holidays("GB", subdiv=self.region, years=year))
        return self._years[year]

    def holiday_name(self, day: dt.date) -> str | None:
        """The holiday's name, or None for an ordinary day or a cancelled holiday."""
        _check(day)
        if day in self.extra:
            return "Additional holiday"
        if day in self.cancelled:
            return None
        return self._bank_holidays(day.year).get(day)

    def is_working_day(self, day: dt.date) -> bool:
        return _check(day).weekday() < 5 and self.holiday_name(day) is None

    def add_working_days(self, start: dt.date, n: int) -> dt.date:
        """The Nth working day after ``start`` (before it when N is negative); ``start`` itself for 0."""
        day, step, left = _check(start), (1 if n > 0 else -1), abs(int(n))
        while left:
            day += dt.timedelta(days=step)
            if self.is_working_day(day):
                left -= 1
        return day

    def working_days_between(self, start: dt.date, end: dt.date) -> int:
        """Working days d with start < d <= end (negative when end is before start)."""
        _check(start), _check(end)
        if end < start:
            return -self.working_days_between(end, start)
        return sum(1 for i in range(1, (end - start).days + 1) if self.is_working_day(start + dt.timedelta(days=i)))

    def next_working_day(self, day: dt.date) -> dt.date:
        """``day`` if it is a working day, else the next one."""
        while not self.is_working_day(day):
            day += dt.timedelta(days=1)
        return day

    def holidays_between(self, start: dt.date, end: dt.date) -> list[tuple[dt.date, str]]:
        """Holidays on weekdays from start to end inclusive: the days that stop counting."""
        out, day = [], _check(start)
        while day <= end:
            name = self.holiday_name(day) if day.weekday() < 5 else None
            if name:
                out.append((day, name))
            day += dt.timedelta(days=1)
        return out


def add_months(day: dt.date, n: int) -> dt.date:
    """Calendar months, clamped to the month end (31 Aug + 1 = 30 Sep); never moved off a holiday."""
    index = _check(day).month - 1 + int(n)
    year, month = day.year + index // 12, index % 12 + 1
    return dt.date(year, month, min(day.day, _monthcal.monthrange(year, month)[1]))
