"""The one clock of the whole system.

Everything that asks "what time is it" (timers, deadlines, the outbox, audit
entries) asks this module. ``REVIEWFLOW_FAKE_NOW`` fixes it for demos and tests;
tests may also :func:`set_now` directly. SpiffWorkflow's timer module reads
wall-clock time itself, so :mod:`engine.bpmn.timers` points it here.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")
UTC = dt.UTC

_fixed: dt.datetime | None = None


def parse_instant(text: str) -> dt.datetime:
    """An ISO 8601 datetime; a naive one is read as Europe/London local time."""
    value = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=LONDON)
    return value.astimezone(UTC)


def set_now(value: dt.datetime | str | None) -> None:
    """Fix the clock (tests, demos: ``REVIEWFLOW_FAKE_NOW``); ``None`` returns it to wall time."""
    global _fixed
    if isinstance(value, str):
        value = parse_instant(value)
    elif value is not None and value.tzinfo is None:
        value = value.replace(tzinfo=LONDON)
    _fixed = value.astimezone(UTC) if value is not None else None


def advance(**delta) -> dt.datetime:
    """Move a fixed clock forward (``advance(days=3)``)."""
    current = now()
    set_now(current + dt.timedelta(**delta))
    return now()


def now() -> dt.datetime:
    """The current instant, timezone-aware in UTC."""
    if _fixed is not None:
        return _fixed
    return dt.datetime.now(UTC)


def today() -> dt.date:
    """Today's date in England."""
    return now().astimezone(LONDON).date()


def end_of_day(day: dt.date) -> dt.datetime:
    """The instant a day ends in England (midnight that starts the next day), in UTC."""
    nxt = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0, 0), LONDON)
    return nxt.astimezone(UTC)


def at_local(day: dt.date, hour: int = 9, minute: int = 0) -> dt.datetime:
    """A wall-clock time in England on a given day, in UTC."""
    return dt.datetime.combine(day, dt.time(hour, minute), LONDON).astimezone(UTC)
