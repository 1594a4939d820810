"""The working-day calendar: every statutory deadline rests on it, so each expected date here was
checked by hand against the published England (and Scotland) bank-holiday lists, not against the
code. Convention under test: the anchor day is working day 0 (catalogue §7, README)."""

from __future__ import annotations

import datetime as dt
import random
import time

import holidays
import pytest

from engine.calendar import EXTRA_HOLIDAY_NAME, WorkingDayCalendar, add_months

D = dt.date.fromisoformat
ENG = WorkingDayCalendar()


# -- which days are working days ------------------------------------------------------------------


@pytest.mark.parametrize(
    "day,name",
    [
        ("2026-12-25", "Christmas Day"),  # Friday
        ("2026-12-28", "Boxing Day"),  # Boxing Day is Saturday 26th: substitute Monday 28th
        ("2027-12-27", "Christmas Day"),  # 25th and 26th both on the weekend: substitutes Mon 27th ...
        ("2027-12-28", "Boxing Day"),  # ... and Tue 28th
        ("2022-01-03", "New Year"),  # 1 Jan 2022 a Saturday
        ("2028-01-03", "New Year"),  # 1 Jan 2028 a Saturday
        ("2027-01-01", "New Year"),  # a Friday: no substitute needed
        ("2026-04-03", "Good Friday"),
        ("2026-04-06", "Easter Monday"),
        ("2027-03-26", "Good Friday"),
        ("2027-03-29", "Easter Monday"),
        ("2026-08-31", "Late Summer"),  # missing from the package without subdiv="ENG"
        ("2022-09-19", "State Funeral"),  # one-off
        ("2023-05-08", "Coronation"),  # one-off
        ("2022-06-03", "Platinum Jubilee"),  # one-off
        ("2020-05-08", "May Day"),  # early May holiday moved to VE Day that year
    ],
)
def test_england_bank_holidays_including_substitutes_and_one_offs(day, name):
    assert not ENG.is_working_day(D(day))
    assert name.lower() in ENG.holiday_name(D(day)).lower()


@pytest.mark.parametrize(
    "day",
    [
        "2026-12-24",
        "2026-12-29",
        "2027-12-29",
        "2027-12-24",
        "2022-01-04",
        "2026-04-02",
        "2026-04-07",
        "2027-03-25",
        "2027-03-30",
        "2022-09-20",
        "2023-05-09",
        "2020-05-04",  # 4 May 2020: the holiday moved away
    ],
)
def test_days_either_side_are_working_days(day):
    assert ENG.is_working_day(D(day)) and ENG.holiday_name(D(day)) is None


def test_weekends_are_not_working_days_and_holiday_on_a_weekend_keeps_its_name():
    assert not ENG.is_working_day(D("2026-12-19")) and not ENG.is_working_day(D("2026-12-20"))
    assert ENG.holiday_name(D("2026-12-19")) is None
    assert ENG.holiday_name(D("2026-12-26")) == "Boxing Day"  # Saturday: its substitute is the 28th


def test_the_working_days_of_christmas_2026():
    days = [D("2026-12-21") + dt.timedelta(days=i) for i in range(15)]
    assert [d for d in days if ENG.is_working_day(d)] == [
        D("2026-12-21"),
        D("2026-12-22"),
        D("2026-12-23"),
        D("2026-12-24"),
        D("2026-12-29"),
        D("2026-12-30"),
        D("2026-12-31"),
        D("2027-01-04"),
    ]


def test_2026_has_253_working_days():
    """261 weekdays less 8 weekday bank holidays (1 Jan, 3 and 6 Apr, 4 and 25 May, 31 Aug, 25 and 28 Dec)."""
    assert ENG.working_days_between(D("2025-12-31"), D("2026-12-31")) == 253
    assert ENG.add_working_days(D("2025-12-31"), 253) == D("2026-12-31")


def test_other_regions_differ():
    scotland = WorkingDayCalendar(region="SCT")
    assert not scotland.is_working_day(D("2026-01-02")) and ENG.is_working_day(D("2026-01-02"))
    assert scotland.is_working_day(D("2026-04-06")) and not ENG.is_working_day(
        D("2026-04-06")
    )  # Easter Monday
    assert not scotland.is_working_day(D("2026-08-03")) and ENG.is_working_day(D("2026-08-03"))
    assert scotland.is_working_day(D("2026-08-31")) and not ENG.is_working_day(D("2026-08-31"))
    assert not scotland.is_working_day(D("2026-11-30"))  # St Andrew's Day
    assert scotland.add_working_days(D("2025-12-31"), 1) == D("2026-01-05")
    assert ENG.add_working_days(D("2025-12-31"), 1) == D("2026-01-02")


def test_region_is_checked_when_the_calendar_is_built():
    assert WorkingDayCalendar(region="eng").region == "ENG"
    with pytest.raises(ValueError, match="XYZ"):
        WorkingDayCalendar(region="XYZ")


# -- administrator overrides ----------------------------------------------------------------------


def test_extra_and_cancelled_holidays():
    cal = WorkingDayCalendar(extra_holidays=[D("2026-12-29")], cancelled_holidays=[D("2026-12-28")])
    assert not cal.is_working_day(D("2026-12-29")) and cal.holiday_name(D("2026-12-29")) == EXTRA_HOLIDAY_NAME
    assert cal.is_working_day(D("2026-12-28")) and cal.holiday_name(D("2026-12-28")) is None
    assert cal.add_working_days(D("2026-12-24"), 2) == D("2026-12-30")  # 28 (cancelled) | 29 (extra) | 30
    assert ENG.add_working_days(D("2026-12-24"), 2) == D("2026-12-30")  # 29 | 30 without the overrides
    assert cal.add_working_days(D("2026-12-24"), 1) == D("2026-12-28")
    assert cal.holidays_between(D("2026-12-24"), D("2026-12-31")) == [
        (D("2026-12-25"), "Christmas Day"),
        (D("2026-12-29"), EXTRA_HOLIDAY_NAME),
    ]


def test_overrides_on_a_weekend_change_nothing():
    cal = WorkingDayCalendar(extra_holidays=[D("2026-12-27")], cancelled_holidays=[D("2026-12-26")])
    assert not cal.is_working_day(D("2026-12-26"))  # a cancelled Saturday holiday is still a Saturday
    assert cal.add_working_days(D("2026-12-24"), 1) == ENG.add_working_days(D("2026-12-24"), 1)
    assert cal.holidays_between(D("2026-12-26"), D("2026-12-27")) == []


def test_overrides_must_be_dates():
    with pytest.raises(TypeError):
        WorkingDayCalendar(extra_holidays=[dt.datetime(2026, 12, 29)])
    with pytest.raises(TypeError):
        WorkingDayCalendar(cancelled_holidays=["2026-12-28"])


# -- counting -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "start,n,expected",
    [
        ("2026-12-22", 5, "2026-12-31"),  # 23 24 | 29 30 31
        ("2026-12-21", 5, "2026-12-30"),
        ("2026-12-24", 1, "2026-12-29"),  # over Christmas and the Boxing Day substitute
        ("2026-12-31", 1, "2027-01-04"),  # New Year's Day, Friday 1 Jan 2027
        ("2027-12-24", 1, "2027-12-29"),  # both Christmas substitutes, 27 and 28 Dec 2027
        ("2022-12-23", 1, "2022-12-28"),  # 2022: Boxing Day Mon 26, Christmas substitute Tue 27
        ("2021-12-31", 1, "2022-01-04"),  # New Year substitute Mon 3 Jan 2022
        ("2027-12-31", 1, "2028-01-04"),  # New Year substitute Mon 3 Jan 2028
        ("2026-03-30", 10, "2026-04-15"),  # over Easter 2026
        ("2027-03-15", 15, "2027-04-07"),  # over Easter 2027
        ("2022-09-16", 1, "2022-09-20"),  # the State Funeral
        ("2023-05-05", 1, "2023-05-09"),  # the Coronation
    ],
)
def test_n_working_days_after(start, n, expected):
    assert ENG.add_working_days(D(start), n) == D(expected)


@pytest.mark.parametrize(
    "start,n,expected",
    [
        ("2027-01-05", -7, "2026-12-22"),  # 4 Jan | 31 30 29 | 24 23 22 Dec
        ("2026-04-09", -7, "2026-03-27"),  # 8 7 | 2 1 | 31 30 27: Easter 2026 skipped
        ("2026-04-07", -1, "2026-04-02"),
        ("2022-01-04", -1, "2021-12-31"),
        ("2026-04-04", -1, "2026-04-02"),  # from a Saturday
    ],
)
def test_n_working_days_before(start, n, expected):
    assert ENG.add_working_days(D(start), n) == D(expected)


@pytest.mark.parametrize("start", ["2026-12-26", "2026-12-25", "2026-12-22"])
def test_zero_returns_the_start_unchanged_even_on_a_non_working_day(start):
    assert ENG.add_working_days(D(start), 0) == D(start)


@pytest.mark.parametrize(
    "start,expected",
    [
        ("2026-12-26", "2026-12-29"),  # Saturday: Sunday, the Monday substitute, then Tuesday
        ("2026-12-25", "2026-12-29"),  # a holiday is still day 0
        ("2026-04-05", "2026-04-07"),  # Easter Sunday
        ("2026-12-19", "2026-12-21"),  # an ordinary Saturday
    ],
)
def test_start_on_a_weekend_or_holiday_is_day_zero(start, expected):
    assert ENG.add_working_days(D(start), 1) == D(expected)


def test_next_working_day():
    assert ENG.next_working_day(D("2026-12-22")) == D("2026-12-22")
    assert ENG.next_working_day(D("2026-12-25")) == D("2026-12-29")
    assert ENG.next_working_day(D("2027-12-25")) == D("2027-12-29")


def test_working_days_between_counts_start_exclusive_end_inclusive():
    assert ENG.working_days_between(D("2026-12-22"), D("2026-12-22")) == 0
    assert ENG.working_days_between(D("2026-12-22"), D("2026-12-31")) == 5
    assert ENG.working_days_between(D("2026-12-31"), D("2026-12-22")) == -5
    assert ENG.working_days_between(D("2026-12-24"), D("2026-12-28")) == 0
    assert ENG.working_days_between(D("2026-12-25"), D("2026-12-29")) == 1


def test_working_days_between_inverts_add_working_days():
    """For n >= 0 (and for n < 0 from a working day, whose own day is then counted)."""
    for offset in range(0, 800, 3):  # every weekday and weekend, 2026 to early 2028
        start = D("2026-01-01") + dt.timedelta(days=offset)
        for n in (0, 1, 2, 5, 7, 10, 15, 23, 60):
            end = ENG.add_working_days(start, n)
            assert ENG.working_days_between(start, end) == n
            assert ENG.working_days_between(end, start) == -n
            if ENG.is_working_day(start):
                assert ENG.working_days_between(start, ENG.add_working_days(start, -n)) == -n


def test_counting_agrees_with_a_day_by_day_count_on_the_package_list():
    """An independent reference: walk day by day over the package's own holiday list."""
    listed = holidays.country_holidays("GB", subdiv="ENG", years=range(2019, 2032))

    def walk(day: dt.date, n: int) -> dt.date:
        step = 1 if n > 0 else -1
        while n:
            day += dt.timedelta(days=step)
            if day.weekday() < 5 and day not in listed:
                n -= step
        return day

    rng = random.Random(20261222)
    for _ in range(300):
        start = D("2020-01-01") + dt.timedelta(days=rng.randrange(0, 365 * 10))
        n = rng.randrange(-300, 301)
        assert ENG.add_working_days(start, n) == walk(start, n), (start, n)


def test_holidays_between_lists_weekday_holidays_in_either_order():
    expected = [
        (D("2026-12-25"), "Christmas Day"),
        (D("2026-12-28"), "Boxing Day (observed)"),
        (D("2027-01-01"), "New Year's Day"),
    ]
    assert ENG.holidays_between(D("2026-12-20"), D("2027-01-05")) == expected
    assert ENG.holidays_between(D("2027-01-05"), D("2026-12-20")) == expected
    assert ENG.holidays_between(D("2026-12-25"), D("2026-12-25")) == expected[:1]
    assert ENG.holidays_between(D("2026-12-29"), D("2026-12-31")) == []


def test_adding_a_few_hundred_working_days_is_fast():
    cal = WorkingDayCalendar()
    cal.add_working_days(D("2026-01-01"), 300)  # first use loads the years
    began = time.perf_counter()
    for i in range(1000):
        cal.add_working_days(D("2026-01-01") + dt.timedelta(days=i % 90), 300)
    assert (time.perf_counter() - began) / 1000 < 0.001  # well under a millisecond each


@pytest.mark.parametrize(
    "call",
    [
        lambda: ENG.add_working_days(dt.datetime(2026, 12, 21, 9), 1),
        lambda: ENG.is_working_day(dt.datetime(2026, 12, 21)),
        lambda: ENG.holiday_name("2026-12-25"),
        lambda: ENG.working_days_between(D("2026-12-21"), dt.datetime(2026, 12, 31)),
        lambda: ENG.next_working_day(dt.datetime(2026, 12, 25)),
        lambda: ENG.holidays_between(dt.datetime(2026, 12, 1), D("2026-12-31")),
        lambda: ENG.add_working_days(D("2026-12-21"), 1.5),
        lambda: ENG.add_working_days(D("2026-12-21"), True),
        lambda: add_months(dt.datetime(2026, 8, 31), 1),
        lambda: add_months(D("2026-08-31"), 1.0),
    ],
)
def test_datetimes_and_non_integers_are_refused(call):
    """A datetime is a date subclass; taking one silently would count from the wrong day."""
    with pytest.raises(TypeError):
        call()


# -- calendar months ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "start,n,expected",
    [
        ("2026-08-31", 1, "2026-09-30"),  # clamped to the month end
        ("2027-01-31", 1, "2027-02-28"),  # not a leap year
        ("2028-01-31", 1, "2028-02-29"),  # leap year
        ("2028-02-29", 12, "2029-02-28"),
        ("2026-06-15", 6, "2026-12-15"),
        ("2026-11-30", 3, "2027-02-28"),
        ("2026-10-31", 4, "2027-02-28"),
        ("2026-12-22", 0, "2026-12-22"),
        ("2026-03-31", -1, "2026-02-28"),  # negative, clamped
        ("2028-03-31", -1, "2028-02-29"),
        ("2027-01-15", -2, "2026-11-15"),  # negative across a year
        ("2027-01-31", -13, "2025-12-31"),
    ],
)
def test_add_months_clamps_to_the_month_end(start, n, expected):
    assert add_months(D(start), n) == D(expected)


def test_add_months_does_not_move_a_date_off_a_non_working_day():
    """Catalogue §7: show that a month-based date lands on a weekend or holiday, do not move it."""
    assert add_months(D("2026-08-31"), 6) == D("2027-02-28")  # a Sunday
    assert not ENG.is_working_day(add_months(D("2026-08-31"), 6))
    assert add_months(D("2026-12-25"), 12) == D("2027-12-25")  # Christmas Day, a Saturday
    assert add_months(D("2026-03-06"), 1) == D("2026-04-06")  # Easter Monday
