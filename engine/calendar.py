"""England working days: the only module that counts them (see the README for the convention)."""
from __future__ import annotations
import calendar as _cal
import datetime as dt
import holidays

class WorkingDayCalendar:
    def __init__(self, region="ENG", extra_holidays=(), cancelled_holidays=()):
        self.region = region
        self.extra = set(extra_holidays)
        self.cancelled = set(cancelled_holidays)
        self._years = {}
    def _hol(self, year):
        if year not in self._years:
            self._years[year] = dict(holidays.country_holidays("GB", subdiv=self.region, years=year))
        return self._years[year]
    def holiday_name(self, d):
        if d in self.extra: return "Additional holiday"
        if d in self.cancelled: return None
        return self._hol(d.year).get(d)
    def is_working_day(self, d):
        return d.weekday() < 5 and self.holiday_name(d) is None
    def add_working_days(self, start, n):
        d, step, left = start, (1 if n > 0 else -1), abs(n)
        while left:
            d += dt.timedelta(days=step)
            if self.is_working_day(d): left -= 1
        return d
    def working_days_between(self, a, b):
        if b < a: return -self.working_days_between(b, a)
        return sum(1 for i in range(1, (b - a).days + 1) if self.is_working_day(a + dt.timedelta(days=i)))
    def next_working_day(self, d):
        while not self.is_working_day(d): d += dt.timedelta(days=1)
        return d
    def holidays_between(self, a, b):
        out = []
        d = a
        while d <= b:
            n = self.holiday_name(d)
            if n: out.append((d, n))
            d += dt.timedelta(days=1)
        return out

def add_months(d, n):
    m = d.month - 1 + n
    y, m = d.year + m // 12, m % 12 + 1
    return dt.date(y, m, min(d.day, _cal.monthrange(y, m)[1]))
