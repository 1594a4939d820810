"""England working days across Christmas, New Year, Easter, substitute and one-off holidays,
and the deadline rule sets computed on them. Expected dates are from the published calendars."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from engine.calendar import WorkingDayCalendar, add_months
from engine.rules import (
    DeadlineError,
    RuleSetError,
    compute_due,
    load_rulesets,
    parse_ruleset_text,
    resolve_rulesets,
)

D = dt.date.fromisoformat
ENG = WorkingDayCalendar()
RULESETS = load_rulesets(Path(__file__).resolve().parents[2] / "processes" / "rulesets")


@pytest.mark.parametrize(
    "day,name",
    [
        ("2026-12-25", "Christmas Day"),
        ("2026-12-28", "Boxing Day"),  # Boxing Day Sat -> Mon 28
        ("2027-12-27", "Christmas Day"),
        ("2027-12-28", "Boxing Day"),  # both on a weekend
        ("2022-01-03", "New Year's Day"),
        ("2028-01-03", "New Year's Day"),  # Sat 1 Jan -> Mon 3
        ("2026-04-03", "Good Friday"),
        ("2026-04-06", "Easter Monday"),
        ("2027-03-26", "Good Friday"),
        ("2027-03-29", "Easter Monday"),
        ("2022-09-19", "State Funeral"),
        ("2023-05-08", "Coronation"),
        ("2020-05-08", "May Day"),
    ],
)
def test_bank_holidays_including_substitutes_and_one_offs(day, name):
    assert not ENG.is_working_day(D(day))
    assert name.split()[0].lower() in ENG.holiday_name(D(day)).lower()


def test_weekdays_around_christmas_2026():
    working = [
        d for d in (D("2026-12-21") + dt.timedelta(days=i) for i in range(15)) if ENG.is_working_day(d)
    ]
    assert [d.day for d in working] == [21, 22, 23, 24, 29, 30, 31, 4] and working[-1].month == 1


@pytest.mark.parametrize(
    "start,n,expected",
    [
        ("2026-12-21", 5, "2026-12-30"),  # R1 from Mon 21 Dec: 22 23 24 | 29 30
        ("2026-12-24", 1, "2026-12-29"),
        ("2026-12-31", 1, "2027-01-04"),  # New Year's Day Fri 1 Jan 2027
        ("2027-03-25", 1, "2027-03-30"),  # Easter 2027
        ("2027-03-24", 15, "2027-04-16"),
        ("2026-12-26", 1, "2026-12-29"),  # counting from a non-working day
        ("2026-12-26", 0, "2026-12-26"),  # day 0 is the anchor itself
        ("2027-01-05", -7, "2026-12-22"),  # "7 working days before": 4 Jan, 31 30 29, 24 23 22 Dec
        ("2026-04-07", -1, "2026-04-02"),  # before Easter 2026
    ],
)
def test_add_working_days(start, n, expected):
    assert ENG.add_working_days(D(start), n) == D(expected)


def test_working_days_between_inverts_add():
    for offset in range(0, 400, 7):
        start = D("2026-01-01") + dt.timedelta(days=offset)
        for n in (0, 1, 5, 10, 15, 23):
            assert ENG.working_days_between(start, ENG.add_working_days(start, n)) == n
            assert ENG.working_days_between(ENG.add_working_days(start, n), start) == -n


def test_overrides_add_and_cancel_holidays():
    cal = WorkingDayCalendar(extra_holidays=[D("2026-12-29")], cancelled_holidays=[D("2026-12-28")])
    assert not cal.is_working_day(D("2026-12-29")) and cal.is_working_day(D("2026-12-28"))
    assert cal.add_working_days(D("2026-12-24"), 2) == D("2026-12-30")
    assert [d for d, _ in cal.holidays_between(D("2026-12-24"), D("2026-12-31"))] == [
        D("2026-12-25"),
        D("2026-12-29"),
    ]


def test_region_setting():
    scotland = WorkingDayCalendar(region="SCT")
    assert not scotland.is_working_day(D("2026-01-02")) and ENG.is_working_day(D("2026-01-02"))
    assert ENG.is_working_day(D("2026-11-30")) and not scotland.is_working_day(
        D("2026-11-30")
    )  # St Andrew's Day


@pytest.mark.parametrize(
    "start,n,expected",
    [
        ("2026-08-31", 1, "2026-09-30"),
        ("2027-01-31", 1, "2027-02-28"),
        ("2028-01-31", 1, "2028-02-29"),
        ("2026-03-31", -1, "2026-02-28"),
        ("2026-06-15", 6, "2026-12-15"),
        ("2026-11-30", 3, "2027-02-28"),
    ],
)
def test_calendar_months_clamp_to_month_end(start, n, expected):
    assert add_months(D(start), n) == D(expected)


def test_rule_sets_hold_every_deadline_of_the_catalogue():
    assert {f"R{i}" for i in range(1, 12)} <= set(RULESETS["WT2018"].rules)
    assert RULESETS["WT2023"].rules == RULESETS["WT2018"].rules
    assert {f"S{i}" for i in range(1, 9)} <= set(RULESETS["WT2015"].rules)
    assert "S9" not in RULESETS["WT2015"].rules
    bolton = RULESETS["BOLTON_PRE2015"]
    assert (
        bolton.rules["S4"].count == 4 and "S9" in bolton.rules and RULESETS["WT2015"].rules["S4"].count == 6
    )
    for rs in RULESETS.values():
        for rule in rs.rules.values():
            assert rule.source and rule.name and rule.anchor


@pytest.mark.parametrize(
    "ruleset,key,data,due,on_working_day",
    [
        ("WT2018", "R1", {"date_aware": "2026-12-21"}, "2026-12-30", True),
        ("WT2018", "R6", {"notification_date": "2027-03-15"}, "2027-04-07", True),  # across Easter 2027
        (
            "WT2018",
            "R10",
            {"publication_date": "2027-01-05"},
            "2026-12-22",
            True,
        ),  # 7 WD before, over Christmas
        ("WT2018", "R9", {"decision_date": "2026-08-31"}, "2027-02-28", False),  # 6 months, a Sunday: flagged
        ("WT2018", "R11", {"publication_date": "2028-02-29"}, "2029-02-28", True),
        ("WT2015", "S2", {"notification_date": "2027-01-31"}, "2027-02-28", False),
        ("WT2015", "S3", {"decision_date": "2027-03-25"}, "2027-04-05", True),  # 30 31 1 2 | 5 Apr
        ("BOLTON_PRE2015", "S4", {"decision_date": "2026-10-31"}, "2027-02-28", False),
        ("WT2015", "S8", {"information_required_by": "2026-12-24"}, "2026-12-24", True),
    ],
)
def test_due_dates(ruleset, key, data, due, on_working_day):
    result = compute_due(RULESETS[ruleset].rules[key], data, ENG)
    assert (result.due_date, result.on_working_day) == (D(due), on_working_day)


def test_missing_or_bad_anchor_is_a_clear_error():
    with pytest.raises(DeadlineError, match=r"R1.*date_aware"):
        compute_due(RULESETS["WT2018"].rules["R1"], {}, ENG)
    with pytest.raises(DeadlineError, match="not a date"):
        compute_due(RULESETS["WT2018"].rules["R1"], {"date_aware": "21/12/2026"}, ENG)


@pytest.mark.parametrize(
    "text,key,message",
    [
        ('name = "X1"\n[deadlines.R1\n', None, "not valid TOML"),
        (
            'name = "X1"\n[deadlines.R1]\nname="n"\nanchor="a"\ncount=5\nunit="fortnights"\n'
            'direction="after"\nsource="s"\n',
            "R1",
            "unit must be one of",
        ),
        (
            'name = "X1"\n[deadlines.R1]\nname="n"\nanchor="a"\ncount=-1\nunit="working_days"\n'
            'direction="after"\nsource="s"\n',
            "R1",
            "count",
        ),
        (
            'name = "X1"\n[deadlines.R1]\nname="n"\nanchor="a"\ncount=1\nunit="working_days"\n'
            'direction="after"\n',
            "R1",
            "missing source",
        ),
    ],
)
def test_malformed_rule_sets_name_file_and_key(text, key, message):
    with pytest.raises(RuleSetError) as exc:
        parse_ruleset_text("local.toml", text)
    assert exc.value.file == "local.toml" and exc.value.key == key and message in exc.value.message


def test_unknown_parent_and_cycles():
    a = parse_ruleset_text("a.toml", 'name = "AA"\nextends = "BB"\n')
    with pytest.raises(RuleSetError, match="BB, which does not exist"):
        resolve_rulesets([a])
    b = parse_ruleset_text("b.toml", 'name = "BB"\nextends = "AA"\n')
    with pytest.raises(RuleSetError, match="cycle"):
        resolve_rulesets([a, b])


def test_datetimes_are_refused_where_a_date_is_meant():
    with pytest.raises(TypeError):
        ENG.add_working_days(dt.datetime(2026, 12, 21, 9), 1)
