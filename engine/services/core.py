"""What every service shares: the database, the settings and the calendar."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.calendar import WorkingDayCalendar
from engine.config import Settings
from engine.store.db import Database
from engine.store.models import CalendarOverride


@dataclass
class Core:
    settings: Settings
    db: Database
    _calendars: dict = field(default_factory=dict)

    def calendar(self, session: Session) -> WorkingDayCalendar:
        """England's working days with the administrator's overrides (read each command; cached by
        content)."""
        rows = session.execute(select(CalendarOverride.day, CalendarOverride.kind)).all()
        key = (self.settings.holiday_region, tuple(sorted((r.day, r.kind) for r in rows)))
        cal = self._calendars.get(key)
        if cal is None:
            cal = WorkingDayCalendar(
                region=self.settings.holiday_region,
                extra_holidays=[r.day for r in rows if r.kind == "holiday"],
                cancelled_holidays=[r.day for r in rows if r.kind == "working"],
            )
            if len(self._calendars) > 16:
                self._calendars.clear()
            self._calendars[key] = cal
        return cal
