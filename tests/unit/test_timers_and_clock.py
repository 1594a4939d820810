"""Timer values as modellers type them, and the one clock."""

from __future__ import annotations

import datetime as dt

import pytest

from engine import clock, config
from engine.bpmn.script_engine import ISO_LITERAL, normalise_timer_value


@pytest.mark.parametrize(
    "text", ["P5D", "PT1H", "R3/P1D", "2026-12-24", "2026-12-24T12:00:00Z", "2026-12-24T12:00:00+01:00"]
)
def test_iso_literals_are_recognised(text):
    assert ISO_LITERAL.match(text)


@pytest.mark.parametrize("text", ['deadline("R1")', "due", "f'P{n}D'"])
def test_expressions_are_not_literals(text):
    assert not ISO_LITERAL.match(text)


def test_dates_and_naive_times_are_england_local_then_utc():
    assert normalise_timer_value("2026-07-01") == "2026-06-30T23:00:00+00:00"  # BST
    assert normalise_timer_value("2026-12-01") == "2026-12-01T00:00:00+00:00"  # GMT
    assert normalise_timer_value("2026-07-01T09:00:00") == "2026-07-01T08:00:00+00:00"
    assert normalise_timer_value(dt.date(2026, 7, 1)) == "2026-06-30T23:00:00+00:00"
    assert normalise_timer_value("P5D") == "P5D"


def test_end_of_day_across_clock_changes():
    assert clock.end_of_day(dt.date(2026, 3, 28)).isoformat() == "2026-03-29T00:00:00+00:00"
    assert clock.end_of_day(dt.date(2026, 7, 1)).isoformat() == "2026-07-01T23:00:00+00:00"


def test_a_service_whose_settings_fix_the_clock_runs_at_that_instant(tmp_path):
    from engine.services import Reviewflow

    clock.set_now(None)
    settings = config.load(
        {
            "REVIEWFLOW_DATABASE_URL": f"sqlite:///{tmp_path}/c.db",
            "REVIEWFLOW_FAKE_NOW": "2027-04-01T10:00:00+01:00",
        }
    )
    Reviewflow(settings).db.dispose()
    assert clock.now().isoformat() == "2027-04-01T09:00:00+00:00"
    assert clock.today() == dt.date(2027, 4, 1)
    with pytest.raises(config.ConfigError):
        config.load({"REVIEWFLOW_ENV": "production", "REVIEWFLOW_FAKE_NOW": "2027-01-01T00:00:00Z"})
