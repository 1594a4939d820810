"""What every service shares: the database, the settings and the calendar."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from engine.calendar import WorkingDayCalendar
from engine.config import Settings
from engine.store.db import Database
from engine.store.models import CalendarOverride, Revision, RuleSetVersion

#: the calendar's revision, bumped with every change to its overrides; a command reads it in its first query
CALENDAR_REVISION = select(Revision.value).where(Revision.name == "calendar")


#: who can be e-mailed about a task, bumped by the database itself (migration 0012); read the same way
PEOPLE_REVISION = select(Revision.value).where(Revision.name == "people")

#: which rule sets are deployed: their versions are only ever added, so the newest id names them all (0: none
#: is deployed, a revision like any other, not the "not read" of None)
RULESETS_REVISION = select(func.coalesce(func.max(RuleSetVersion.id), 0))


def calendar_changed(session: Session) -> None:
    """Record, in the transaction that changes an override, that every process must read the calendar
    again."""
    session.execute(update(Revision).where(Revision.name == "calendar").values(value=Revision.value + 1))


@dataclass
class Core:
    settings: Settings
    db: Database
    _calendar: tuple[int, WorkingDayCalendar] | None = None

    def calendar(self, session: Session, revision: int | None = None) -> WorkingDayCalendar:
        """England's working days with the administrator's overrides. The overrides are read again only when
        the calendar's revision has moved: ``revision`` as the caller's own query read it, else read here."""
        if revision is None:
            revision = session.scalar(CALENDAR_REVISION)
        if revision is not None and self._calendar is not None and self._calendar[0] == revision:
            return self._calendar[1]
        cal = self.calendar_as_stored(session)
        if revision is not None:
            self._calendar = (revision, cal)
        return cal

    def calendar_as_stored(self, session: Session) -> WorkingDayCalendar:
        """The calendar with the overrides this session sees, uncached: a change being made (or previewed
        and then rolled back) reads its own overrides without leaving them in the cache."""
        rows = session.execute(select(CalendarOverride.day, CalendarOverride.kind)).all()
        return WorkingDayCalendar(
            region=self.settings.holiday_region,
            extra_holidays=[r.day for r in rows if r.kind == "holiday"],
            cancelled_holidays=[r.day for r in rows if r.kind == "working"],
        )

    def forget_calendar(self) -> None:
        """Drop the cached calendar (after a change was previewed and rolled back)."""
        self._calendar = None
