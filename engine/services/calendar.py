"""Working-day questions for the API and the web app, and the administrator's holiday overrides."""

from __future__ import annotations

import datetime as dt

from engine import clock, inputs
from engine.services import audit
from engine.services.actor import Actor
from engine.services.core import Core, calendar_changed
from engine.services.errors import BadRequest, Forbidden, Invalid
from engine.store.models import CalendarOverride


def parse_day(text, field: str = "from") -> dt.date:
    try:
        return dt.date.fromisoformat(str(text))
    except (TypeError, ValueError):
        raise Invalid(
            f"'{field}' must be a date (YYYY-MM-DD)", [{"path": field, "message": "not a date"}]
        ) from None


class Calendar:
    def __init__(self, core: Core, on_change=None):
        self.core = core
        self.on_change = on_change  # called with the day after it changed: moves armed deadlines

    def working_days(self, start: str, days: str | int) -> dict:
        day = parse_day(start, "from")
        try:
            n = int(days)
        except (TypeError, ValueError):
            raise Invalid(
                "'days' must be a whole number", [{"path": "days", "message": "not an integer"}]
            ) from None
        if abs(n) > 3660:
            raise BadRequest("'days' is limited to ±3660")
        with self.core.db.reading() as session:
            cal = self.core.calendar(session)
            try:
                result = cal.add_working_days(day, n)
            except OverflowError:
                raise Invalid(
                    f"{n} working days from {day.isoformat()} is outside the years the calendar holds",
                    [{"path": "days", "message": "the count runs past year 1 or year 9999"}],
                ) from None
            return {
                "from": day.isoformat(),
                "days": n,
                "date": result.isoformat(),
                "holidays_skipped": [
                    {"date": d.isoformat(), "name": name}
                    for d, name in cal.holidays_between(min(day, result), max(day, result))
                ],
            }

    def snapshot(self):
        """The working-day calendar with today's overrides, to answer many questions in one request."""
        with self.core.db.reading() as session:
            return self.core.calendar(session)

    def overrides(self) -> list[dict]:
        from sqlalchemy import select

        with self.core.db.reading() as session:
            return [
                {"day": o.day.isoformat(), "kind": o.kind, "note": o.note, "created_by": o.created_by}
                for o in session.scalars(select(CalendarOverride).order_by(CalendarOverride.day))
            ]

    def set_override(self, day: str, kind: str, note: str, actor: Actor) -> dict:
        if "admin" not in actor.roles:
            raise Forbidden("only an administrator may change the calendar")
        d = parse_day(day, "day")
        inputs.check_text(note, "note", single_line=False)
        if kind not in ("holiday", "working", "none"):
            raise Invalid("kind is holiday, working or none", [{"path": "kind", "message": "invalid"}])
        with self.core.db.transaction() as session:
            row = session.get(CalendarOverride, d)
            before = {"kind": row.kind, "note": row.note} if row else None
            if kind == "none":
                if row:
                    session.delete(row)
            elif row:
                row.kind, row.note = kind, note
            else:
                session.add(
                    CalendarOverride(
                        day=d, kind=kind, note=note, created_by=actor.username, created_at=clock.now()
                    )
                )
            calendar_changed(session)
            audit.record(
                session,
                "calendar_changed",
                actor.username,
                detail={"day": d.isoformat(), "before": before, "after": kind, "note": note},
            )
        moved = self.on_change(d) if self.on_change else []
        return {"day": d.isoformat(), "kind": kind, "cases_recomputed": len(moved)}
