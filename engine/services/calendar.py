"""Working-day questions for the API and the web app, and the administrator's holiday overrides.

A change to the calendar moves the open deadlines whose count crosses the day, in the transaction that
changes it (engine/services/instances.py ``move_deadlines``): the override, every moved deadline and task due
date, and their audit rows are kept together or not at all. A **preview** is the same change made and rolled
back: what it reports is what the change does, computed by the same code. It carries a digest of the moves;
confirming with that digest applies the change only if it still moves exactly those deadlines (else
:class:`PreviewChanged`, with the new preview, and nothing is kept).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json

import holidays
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from engine import clock, inputs
from engine.services import access, audit
from engine.services.actor import Actor
from engine.services.core import Core, calendar_changed
from engine.services.errors import BadRequest, Conflict, Forbidden, Invalid
from engine.statuses import DeadlineStatus, TaskStatus
from engine.store.models import CalendarOverride, Deadline, HumanTask, Instance

#: what an override makes of its day (``none``: remove the override)
KINDS = {"holiday": "Not a working day", "working": "A working day"}


def parse_day(text, field: str = "from") -> dt.date:
    try:
        return dt.date.fromisoformat(str(text))
    except (TypeError, ValueError):
        raise Invalid(
            f"'{field}' must be a date (YYYY-MM-DD)", [{"path": field, "message": "not a date"}]
        ) from None


class PreviewChanged(Conflict):
    """Confirming a change whose moves are no longer those previewed (a case moved on, the calendar changed
    meanwhile): nothing was kept; ``preview`` is what the change would do now."""

    def __init__(self, preview: dict):
        super().__init__("the deadlines this change moves are no longer those shown; check them again")
        self.preview = preview


class _RollBack(Exception):
    """Ends a previewed change's transaction without keeping anything."""

    def __init__(self, result: dict):
        self.result = result


def _long(day: dt.date) -> str:
    return f"{day.day} {day:%B %Y}"


class Calendar:
    def __init__(self, core: Core, instances):
        self.core = core
        self.instances = instances  # engine/services/instances.Instances: moves the deadlines

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
        with self.core.db.reading() as session:
            return [
                {
                    "day": o.day.isoformat(),
                    "kind": o.kind,
                    "note": o.note,
                    "created_by": o.created_by,
                    "created_at": o.created_at.isoformat(),
                }
                for o in session.scalars(select(CalendarOverride).order_by(CalendarOverride.day))
            ]

    def bank_holidays(self, actor: Actor, years: tuple[int, ...] | None = None) -> dict:
        """England's bank holidays of this year and the next as the ``holidays`` package lists them, each
        with whether the engine counts it (an override may make it a working day), and the overrides."""
        if not access.may_view_section(actor, "calendar"):
            raise Forbidden("only a manager or an administrator may see the calendar's settings")
        today = clock.today()
        years = years or (today.year, today.year + 1)
        with self.core.db.reading() as session:
            cal = self.core.calendar(session)
        listed = []
        for year in years:
            for day, name in sorted(
                holidays.country_holidays("GB", subdiv=self.core.settings.holiday_region, years=year).items()
            ):
                listed.append(
                    {"day": day.isoformat(), "name": name, "working": cal.is_working_day(day), "year": year}
                )
        return {"years": list(years), "holidays": listed, "overrides": self.overrides()}

    # --- changing it ----------------------------------------------------------------------------------------

    def set_override(self, day: str, kind: str, note: str, actor: Actor) -> dict:
        """Set or remove (``kind`` ``none``) one day's override, moving the open deadlines (the API and the
        command line: no preview, an existing override replaced)."""
        result = self.change(day, kind, note, actor, replace=True)
        return {"day": result["day"], "kind": kind, "cases_recomputed": len(result["cases"])}

    def preview(self, day: str, kind: str, note: str, actor: Actor, replace: bool = False) -> dict:
        """What :meth:`change` would do, made and rolled back: the same code, nothing kept."""
        return self._run(day, kind, note, actor, replace=replace, keep=False, expected=None)

    def change(
        self,
        day: str,
        kind: str,
        note: str,
        actor: Actor,
        replace: bool = False,
        expected: str | None = None,
    ) -> dict:
        """Add (``holiday``: not a working day; ``working``: a bank holiday worked), or remove (``none``) the
        override of ``day``, moving the open deadlines it affects, in one transaction, audited. ``replace``
        False refuses a day that already has an override (the administration pages add and remove; the API
        and the command line replace). ``expected``: the preview's digest; the change is kept only if it
        still moves exactly what was previewed."""
        return self._run(day, kind, note, actor, replace=replace, keep=True, expected=expected)

    def _check(self, day: str, kind: str, note: str, actor: Actor) -> tuple[dt.date, str]:
        if not access.may_administer(actor):
            raise Forbidden("only an administrator may change the calendar")
        problems = []
        try:
            d = parse_day(day, "day")
        except Invalid:
            d = None
            problems.append({"path": "day", "message": "Enter a real date, for example 2027-01-05"})
        if kind not in (*KINDS, "none"):
            problems.append({"path": "kind", "message": "Select whether the day is a working day or not"})
        note = (note or "").strip()
        try:
            inputs.check_text(note, "note", limit=100_000, single_line=False)
        except Invalid:
            problems.append({"path": "note", "message": "The note must be plain text"})
        if len(note) > 255:
            problems.append({"path": "note", "message": "The note must be 255 characters or fewer"})
        if problems:
            raise Invalid(problems[0]["message"], problems)
        return d, note

    def _run(
        self, day: str, kind: str, note: str, actor: Actor, *, replace: bool, keep: bool, expected: str | None
    ) -> dict:
        d, note = self._check(day, kind, note, actor)
        try:
            with self.core.db.transaction() as session:
                result = self._apply(session, d, kind, note, actor, replace)
                if not keep:
                    raise _RollBack(result)
                if expected is not None and expected != result["digest"]:
                    raise _RollBack({**result, "changed": True})
        except _RollBack as ended:
            self.core.forget_calendar()  # nothing of the rolled-back change may stay cached
            if ended.result.get("changed"):
                raise PreviewChanged({k: v for k, v in ended.result.items() if k != "changed"}) from None
            return ended.result
        for iid, reason in result["unreadable"]:
            self.instances.quarantine(iid, reason, "calendar change")
        return result

    def _apply(self, session, d: dt.date, kind: str, note: str, actor: Actor, replace: bool) -> dict:
        """The change itself, in ``session``: the override, the deadlines it moves, the audit rows; returns
        what moved (the preview shows this, the confirmation keeps it). The calendar's revision is bumped
        first: its row lock makes calendar changes wait for each other, so each reads the one before it."""
        calendar_changed(session)
        old_calendar = self.core.calendar_as_stored(session)
        row = session.get(CalendarOverride, d)
        before = {"kind": row.kind, "note": row.note} if row else None
        if kind == "none":
            if row is None and not replace:
                raise Invalid(
                    f"{_long(d)} has no override to remove", [{"path": "day", "message": "no override"}]
                )
            if row is not None:
                session.delete(row)
        else:
            if row is not None and not replace:
                raise Invalid(
                    f"{_long(d)} already has an override: remove it first",
                    [{"path": "day", "message": f"{_long(d)} already has an override: remove it first"}],
                )
            if not replace:
                self._refuse_no_change(old_calendar, d, kind)
            if row is None:
                session.add(
                    CalendarOverride(
                        day=d, kind=kind, note=note, created_by=actor.username, created_at=clock.now()
                    )
                )
            else:
                row.kind, row.note = kind, note
        try:
            session.flush()
        except IntegrityError:  # the same day added at the same moment by someone else
            raise Conflict(f"{_long(d)} was changed by someone else at the same time; try again") from None
        new_calendar = self.core.calendar_as_stored(session)
        after = None if kind == "none" else {"kind": kind, "note": note}
        cases, unreadable, moves = [], [], []
        if old_calendar.is_working_day(d) != new_calendar.is_working_day(d):  # else no count can change
            before_rows = self._open_dates(session, d)
            because = {"calendar_day": d.isoformat(), "calendar_change": kind}
            cases, unreadable = self.instances.move_deadlines(
                session, d, new_calendar, actor.username, because
            )
            session.flush()
            moves = self._moves(session, before_rows, cases, actor, because)
        digest = hashlib.sha256(
            json.dumps([d.isoformat(), kind, [m["digest_row"] for m in moves]]).encode()
        ).hexdigest()
        for m in moves:
            m.pop("digest_row")
        audit.record(
            session,
            "calendar_changed",
            actor.username,
            detail={
                "day": d.isoformat(),
                "before": before,
                "after": after,
                "note": note,
                "cases": len(cases),
                "moved": [
                    {k: m[k] for k in ("case", "what", "key", "before", "after", "status")} for m in moves
                ],
            },
        )
        return {
            "day": d.isoformat(),
            "kind": kind,
            "note": note,
            "before": before,
            "after": after,
            "working_before": old_calendar.is_working_day(d),
            "working_after": new_calendar.is_working_day(d),
            "holiday_name": old_calendar.holiday_name(d),
            "cases": cases,
            "unreadable": unreadable,
            "moves": moves,
            "digest": digest,
        }

    @staticmethod
    def _refuse_no_change(cal, d: dt.date, kind: str) -> None:
        """An override that would not change whether its day is worked is a mistake, said plainly."""
        if kind == "holiday" and not cal.is_working_day(d):
            what = cal.holiday_name(d) or ("a Saturday" if d.weekday() == 5 else "a Sunday")
            message = f"{_long(d)} is already not a working day ({what})"
        elif kind == "working" and cal.is_working_day(d):
            message = f"{_long(d)} is already a working day"
        elif kind == "working" and d.weekday() >= 5:
            message = f"{_long(d)} is a weekend day: only a bank holiday can be made a working day"
        else:
            return
        raise Invalid(message, [{"path": "day", "message": message}])

    @staticmethod
    def _open_dates(session, d: dt.date) -> dict:
        """The open deadlines and open tasks' due dates of the cases whose deadlines' counts cross ``d``
        (read before the change, to say what it moved)."""
        crossing = ((Deadline.anchor_date <= d) & (Deadline.due_date >= d)) | (
            (Deadline.due_date <= d) & (Deadline.anchor_date >= d)
        )
        cases = (
            select(Deadline.instance_id)
            .where(Deadline.status.in_((DeadlineStatus.PENDING, DeadlineStatus.PLANNED)), crossing)
            .scalar_subquery()
        )
        deadlines = {
            r.id: r
            for r in session.execute(
                select(
                    Deadline.id,
                    Deadline.instance_id,
                    Deadline.key,
                    Deadline.name,
                    Deadline.element_id,
                    Deadline.status,
                    Deadline.due_date,
                ).where(
                    Deadline.instance_id.in_(cases),
                    Deadline.status.in_((DeadlineStatus.PENDING, DeadlineStatus.PLANNED)),
                )
            )
        }
        tasks = {
            r.id: r
            for r in session.execute(
                select(HumanTask.id, HumanTask.instance_id, HumanTask.name, HumanTask.due_date).where(
                    HumanTask.instance_id.in_(cases), HumanTask.state == TaskStatus.OPEN
                )
            )
        }
        return {"deadlines": deadlines, "tasks": tasks}

    @staticmethod
    def _moves(session, before: dict, cases: list[int], actor: Actor, because: dict) -> list[dict]:
        """What moved, by case reference (never a child's name): each deadline and open task whose date or
        status changed, from what to what. A planned deadline's move is audited here (an armed one's by the
        engine as it re-arms it)."""
        if not cases:
            return []
        refs = {
            r.id: r.business_key
            for r in session.execute(select(Instance.id, Instance.business_key).where(Instance.id.in_(cases)))
        }
        after_deadlines = {
            r.id: r
            for r in session.execute(
                select(Deadline.id, Deadline.status, Deadline.due_date).where(Deadline.instance_id.in_(cases))
            )
        }
        after_tasks = {
            r.id: r
            for r in session.execute(
                select(HumanTask.id, HumanTask.state, HumanTask.due_date).where(
                    HumanTask.instance_id.in_(cases)
                )
            )
        }
        moves = []
        for r in before["deadlines"].values():
            if r.instance_id not in refs:
                continue
            now = after_deadlines.get(r.id)
            status = now.status if now is not None else "gone"
            due = now.due_date if now is not None else None
            if due == r.due_date and status == r.status:
                continue
            moves.append(
                {
                    "case": refs[r.instance_id] or f"#{r.instance_id}",
                    "instance_id": r.instance_id,
                    "kind": "deadline",
                    "what": r.name,
                    "key": r.key,
                    "before": r.due_date.isoformat(),
                    "after": due.isoformat() if due else None,
                    "status": "pending" if status == DeadlineStatus.PLANNED else status,
                    "digest_row": ["d", r.id, str(r.due_date), str(due), status],
                }
            )
            if r.status == DeadlineStatus.PLANNED and now is not None and due != r.due_date:
                audit.record(
                    session,
                    "deadline_moved",
                    actor.username,
                    instance_id=r.instance_id,
                    element_id=r.element_id,
                    detail={
                        "key": r.key,
                        "before": r.due_date.isoformat(),
                        "after": due.isoformat(),
                        "planned": True,
                        **because,
                    },
                )
        for r in before["tasks"].values():
            if r.instance_id not in refs:
                continue
            now = after_tasks.get(r.id)
            if now is None or (now.due_date == r.due_date and now.state == TaskStatus.OPEN):
                continue
            moves.append(
                {
                    "case": refs[r.instance_id] or f"#{r.instance_id}",
                    "instance_id": r.instance_id,
                    "kind": "task",
                    "what": r.name,
                    "key": None,
                    "before": r.due_date.isoformat() if r.due_date else None,
                    "after": now.due_date.isoformat() if now.due_date else None,
                    "status": now.state,
                    "digest_row": ["t", r.id, str(r.due_date), str(now.due_date), now.state],
                }
            )
        moves.sort(key=lambda m: (m["case"], m["kind"], m["before"] or "", m["what"]))
        return moves
