"""England working days: the only module that counts them.

Convention (README, "Working days and deadlines"; process catalogue §7): the anchor day
is working day 0 whether or not it is a working day; "N working days after X" is the
Nth working day strictly after X, "N before P" the Nth working day strictly before P.
A working day is Monday to Friday and not a bank holiday of the region (the
``holidays`` package, ``GB`` with subdivision ``ENG`` by default: without it Easter
Monday and the late-August holiday are missing; substitute days and one-off holidays
are included), adjusted by the administrator's overrides, because new one-off holidays
only arrive with package releases. Calendar months clamp to the month end and are
never moved off a non-working day: the catalogue says show that, do not hide it.

Speed: each year is turned once into a sorted list of its working days (as ordinals),
so counting is a binary search per year crossed, not a walk day by day.
"""

from __future__ import annotations

import calendar as _monthcal
import datetime as dt
from bisect import bisect_left, bisect_right
from collections.abc import Iterable

import holidays

__all__ = ["EXTRA_HOLIDAY_NAME", "WorkingDayCalendar", "add_months"]

#: Name shown for a day the administrator added as a non-working day.
EXTRA_HOLIDAY_NAME = "Additional holiday"


def _check(day: object, what: str = "day") -> dt.date:
    """Refuse anything but a plain date: a datetime is a date subclass and would count wrongly."""
    if isinstance(day, dt.datetime) or not isinstance(day, dt.date):
        raise TypeError(f"{what} must be a datetime.date, not {type(day).__name__}")
    return day


def _check_count(n: object) -> int:
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"a whole number of days or months is needed, not {type(n).__name__}")
    return n


class WorkingDayCalendar:
    """Working days of one region with the administrator's overrides; immutable once built.

    ``extra_holidays`` are one-off non-working days the package does not know yet;
    ``cancelled_holidays`` are listed bank holidays to treat as working days.
    """

    def __init__(
        self,
        region: str = "ENG",
        extra_holidays: Iterable[dt.date] = (),
        cancelled_holidays: Iterable[dt.date] = (),
    ) -> None:
        self.region = str(region).upper()
        if self.region not in holidays.country_holidays("GB").subdivisions:
            raise ValueError(
                f"unknown holiday region {region!r}: use one of "
                f"{', '.join(holidays.country_holidays('GB').subdivisions)}"
            )
        self.extra: frozenset[dt.date] = frozenset(_check(d, "an extra holiday") for d in extra_holidays)
        self.cancelled: frozenset[dt.date] = frozenset(
            _check(d, "a cancelled holiday") for d in cancelled_holidays
        )
        self._names: dict[int, dict[dt.date, str]] = {}  # year -> bank holidays, as the package lists them
        self._working: dict[int, list[int]] = {}  # year -> sorted ordinals of its working days

    # -- per-year caches --------------------------------------------------------------------------

    def _bank_holidays(self, year: int) -> dict[dt.date, str]:
        names = self._names.get(year)
        if names is None:
            names = dict(holidays.country_holidays("GB", subdiv=self.region, years=year))
            self._names[year] = names
        return names

    def _working_days(self, year: int) -> list[int]:
        days = self._working.get(year)
        if days is None:
            if not dt.MINYEAR <= year <= dt.MAXYEAR:
                raise OverflowError("the count runs outside the years a date can hold")
            closed = {d for d in self._bank_holidays(year) if d not in self.cancelled} | self.extra
            first, last = dt.date(year, 1, 1).toordinal(), dt.date(year, 12, 31).toordinal()
            days = [
                o for o in range(first, last + 1) if (o - 1) % 7 < 5 and dt.date.fromordinal(o) not in closed
            ]  # ordinal 1 is a Monday
            self._working[year] = days
        return days

    # -- questions about one day ------------------------------------------------------------------

    def holiday_name(self, day: dt.date) -> str | None:
        """The holiday's name (weekends included, as the package lists them), or None for an
        ordinary day or a holiday the administrator cancelled."""
        _check(day)
        if day in self.extra:
            return EXTRA_HOLIDAY_NAME
        if day in self.cancelled:
            return None
        return self._bank_holidays(day.year).get(day)

    def is_working_day(self, day: dt.date) -> bool:
        """Monday to Friday and not a (non-cancelled) holiday."""
        _check(day)
        days = self._working_days(day.year)
        o = day.toordinal()
        i = bisect_left(days, o)
        return i < len(days) and days[i] == o

    def next_working_day(self, day: dt.date) -> dt.date:
        """``day`` if it is a working day, else the first working day after it."""
        return day if self.is_working_day(day) else self.add_working_days(day, 1)

    # -- counting ---------------------------------------------------------------------------------

    def add_working_days(self, start: dt.date, n: int) -> dt.date:
        """The Nth working day strictly after ``start`` (the |N|th strictly before it when N is
        negative); ``start`` itself, unchanged, for 0. ``start`` is day 0 even when it is not a
        working day."""
        _check(start, "start")
        _check_count(n)
        if n == 0:
            return start
        o, year, left = start.toordinal(), start.year, abs(n)
        days = self._working_days(year)
        if n > 0:
            i = bisect_right(days, o)  # first working day after start
            while left > len(days) - i:
                left -= len(days) - i
                year += 1
                days, i = self._working_days(year), 0
            return dt.date.fromordinal(days[i + left - 1])
        i = bisect_left(days, o)  # working days of the year before start
        while left > i:
            left -= i
            year -= 1
            days = self._working_days(year)
            i = len(days)
        return dt.date.fromordinal(days[i - left])

    def working_days_between(self, start: dt.date, end: dt.date) -> int:
        """Working days d with start < d <= end (negative mirror when end is before start), so that
        ``working_days_between(x, add_working_days(x, n)) == n``."""
        _check(start, "start"), _check(end, "end")
        if end < start:
            return -self.working_days_between(end, start)
        s, e = start.toordinal(), end.toordinal()
        return sum(
            bisect_right(days, e) - bisect_right(days, s)
            for days in map(self._working_days, range(start.year, end.year + 1))
        )

    def holidays_between(self, start: dt.date, end: dt.date) -> list[tuple[dt.date, str]]:
        """Holidays on weekdays from start to end, both included, in date order: the days that stop
        a count. Either order of the two dates gives the same list."""
        _check(start, "start"), _check(end, "end")
        if end < start:
            start, end = end, start
        out: dict[dt.date, str] = {}
        for year in range(start.year, end.year + 1):
            for day in self._bank_holidays(year):
                if start <= day <= end and day.weekday() < 5 and day not in self.cancelled:
                    out[day] = self._bank_holidays(year)[day]
        for day in self.extra:
            if start <= day <= end and day.weekday() < 5:
                out[day] = EXTRA_HOLIDAY_NAME
        return sorted(out.items())


def add_months(day: dt.date, n: int) -> dt.date:
    """``n`` calendar months after ``day`` (before it when negative), clamped to the month end
    (31 Aug + 1 = 30 Sep, 31 Jan + 1 = 28 or 29 Feb). The result is never moved off a weekend or
    holiday: callers flag it instead (catalogue §7)."""
    _check(day)
    index = day.month - 1 + _check_count(n)
    year, month = day.year + index // 12, index % 12 + 1
    if not dt.MINYEAR <= year <= dt.MAXYEAR:
        raise OverflowError("the result is outside the years a date can hold")
    return dt.date(year, month, min(day.day, _monthcal.monthrange(year, month)[1]))
