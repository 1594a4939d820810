"""What managers watch: every case with its stage and whether it is overdue, the deadlines due, met and
missed, and the share of each statutory deadline met over a period.

A partnership's database only grows, so every report here is a query the database answers from the
projections kept beside the cases (``instance.next_due``/``overdue_from``, ``instance_step``,
``deadline_tally``) through an index that fits it: lists are pages read by key (never by offset), counts stop
at :data:`COUNT_LIMIT`, figures are aggregates, and exports are streamed. No report reads more rows than it
shows, plus a constant, however many cases there have been; the open cases of the day bound the rest."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from sqlalchemy import exists, func, literal, select
from sqlalchemy.orm import aliased

from engine import clock
from engine.services.actor import Actor
from engine.services.case_search import read_term
from engine.services.core import Core
from engine.services.errors import Forbidden, Invalid
from engine.services.workflow import OPEN_STATUSES
from engine.statuses import DeadlineStatus
from engine.store.models import Deadline, DeadlineTally, Instance, InstanceStep, ProcessVersion

PAGE_SIZE = 50  # cases on one page of the case list
COUNT_LIMIT = 1000  # a count of cases stops here: "1,000 or more" is as useful as the exact figure
LIST_LIMIT = 25  # deadlines listed on the dashboard; the rest are counted and exported
MAX_DUE_SOON_DAYS = 60  # the due-soon list looks at most this many working days ahead
STREAM_BATCH = 500  # rows fetched at a time by an export (a server-side cursor on PostgreSQL)


def _manager(actor: Actor) -> None:
    if not actor.is_manager:
        raise Forbidden("only a manager may see every case")


def _period(start: dt.date | None, end: dt.date | None) -> None:
    if start and end and end < start:
        raise Invalid("the period ends before it starts", [{"path": "to", "message": "before 'from'"}])


CASE_COLUMNS = (
    Instance.id,
    Instance.business_key,
    Instance.process_id,
    ProcessVersion.version,
    Instance.status,
    Instance.regime,
    Instance.active_steps,
    Instance.next_due,
    Instance.overdue_from,
    Instance.created_at,
    Instance.summary,
)


def _case_row(row, today: dt.date) -> dict:
    return {
        "id": row.id,
        "business_key": row.business_key,
        "process_id": row.process_id,
        "version": row.version,
        "status": row.status,
        "regime": row.regime,
        "stage": ", ".join(row.active_steps or []) or "-",
        "next_due": row.next_due.isoformat() if row.next_due else None,
        "overdue": row.overdue_from is not None and row.overdue_from <= today and row.status in OPEN_STATUSES,
        "created_at": row.created_at.isoformat(),
        "converted_from": (row.summary or {}).get("converted_from"),
        "child_initials": (row.summary or {}).get("child_initials"),
    }


DEADLINE_COLUMNS = (
    Deadline.id,
    Deadline.instance_id,
    Deadline.key,
    Deadline.name,
    Deadline.due_date,
    Deadline.status,
    Deadline.source,
    Deadline.on_working_day,
    Deadline.closed_at,
    Instance.business_key,
    Instance.process_id,
)


def _deadline_row(row) -> dict:
    return {
        "business_key": row.business_key,
        "process_id": row.process_id,
        "key": row.key,
        "name": row.name,
        "due_date": row.due_date.isoformat(),
        "status": _shown_status(row.status),
        "source": row.source,
        "on_working_day": row.on_working_day,
        "closed_at": row.closed_at.isoformat() if row.closed_at else None,
        "instance_id": row.instance_id,
    }


# a planned deadline (its timer not armed yet, engine/services/statutory.py) is shown as pending
PENDING = (DeadlineStatus.PENDING, DeadlineStatus.PLANNED)


def _shown_status(status: str) -> str:
    return DeadlineStatus.PENDING if status in PENDING else status


def _status_is(status: str):
    return Deadline.status.in_(PENDING) if status == DeadlineStatus.PENDING else Deadline.status == status


class CaseFilter:
    """The case list's filters as one query: which cases, and the column they are ordered and paged by
    (with a stage, the stage index's own copy of the case id, so the database reads that index in order)."""

    def __init__(
        self,
        process_id: str = "",
        status: str = "",
        stage: str = "",
        overdue: bool = False,
        started_from: dt.date | None = None,
        started_to: dt.date | None = None,
        search: str = "",
        cases: bool = False,
    ):
        _period(started_from, started_to)
        self.process_id, self.status, self.stage, self.overdue = process_id, status, stage, overdue
        self.started_from, self.started_to = started_from, started_to
        self.search, self.cases = read_term(search), cases

    def apply(self, stmt, today: dt.date):
        if self.cases:
            return self._apply_cases(stmt, today), Instance.id
        key = Instance.id
        if self.stage:
            stmt = stmt.join(
                InstanceStep, (InstanceStep.instance_id == Instance.id) & (InstanceStep.step == self.stage)
            )
            key = InstanceStep.instance_id
        if self.process_id:
            stmt = stmt.where(Instance.process_id == self.process_id)
        if self.status == "open":
            stmt = stmt.where(Instance.status.in_(OPEN_STATUSES))
        elif self.status:
            stmt = stmt.where(Instance.status == self.status)
        if self.overdue:
            stmt = stmt.where(Instance.overdue_from <= today, Instance.status.in_(OPEN_STATUSES))
        if self.started_from:
            stmt = stmt.where(Instance.created_at >= clock.at_local(self.started_from, 0))
        if self.started_to:
            stmt = stmt.where(Instance.created_at < clock.end_of_day(self.started_to))
        return stmt, key

    def _apply_cases(self, stmt, today: dt.date):
        """One row per case (its first process, which has no parent): the process, status, stage and overdue
        filters match a case when any of its processes matches them (its sub-processes share its reference,
        found through the reference's index); the period is the case's start; the search its reference or
        its child's initials."""
        stmt = stmt.where(Instance.parent_instance_id.is_(None))
        member = aliased(Instance)
        family = []
        if self.stage:
            family.append(
                exists().where(InstanceStep.instance_id == member.id, InstanceStep.step == self.stage)
            )
        if self.process_id:
            family.append(member.process_id == self.process_id)
        if self.status == "open":
            family.append(member.status.in_(OPEN_STATUSES))
        elif self.status in CLOSED:  # a case is closed when none of its processes is open
            opened = aliased(Instance)
            stmt = stmt.where(
                Instance.status == self.status,
                Instance.business_key.not_in(  # (no NULL in it: NOT IN a list holding NULL is never true)
                    select(opened.business_key)
                    .where(opened.status.in_(OPEN_STATUSES), opened.business_key.is_not(None))
                    .scalar_subquery()
                ),
            )
        elif self.status:
            family.append(member.status == self.status)
        if self.overdue:
            family.append(member.overdue_from <= today)
            family.append(member.status.in_(OPEN_STATUSES))
        if family:
            stmt = stmt.where(
                Instance.business_key.in_(select(member.business_key).where(*family).scalar_subquery())
            )
        if self.started_from:
            stmt = stmt.where(Instance.created_at >= clock.at_local(self.started_from, 0))
        if self.started_to:
            stmt = stmt.where(Instance.created_at < clock.end_of_day(self.started_to))
        kind, term = self.search
        if kind == "reference":  # the reference's index: exactly, or the references that begin with it
            stmt = stmt.where(Instance.business_key >= term, Instance.business_key.like(_prefix(term), "\\"))
        elif kind == "initials":
            # the initials are in the case's summary, which has no index: they are searched among the cases
            # the other filters narrow to, and among the open cases when nothing else narrows them (the open
            # cases of the day bound the rest, through the status index)
            if not (family or self.started_from or self.started_to):
                opened = aliased(Instance)
                stmt = stmt.where(
                    Instance.business_key.in_(
                        select(opened.business_key).where(opened.status.in_(OPEN_STATUSES)).scalar_subquery()
                    )
                )
            stored = Instance.summary["child_initials"].as_string()
            stmt = stmt.where((literal(" ") + stored + literal(" ")).like(f"% {term} %"))
        return stmt


def _prefix(term: str) -> str:
    """A LIKE pattern for the values that begin with ``term`` (its own ``%`` and ``_`` taken literally)."""
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


FAMILY_COLUMNS = (
    Instance.id,
    Instance.business_key,
    Instance.process_id,
    Instance.status,
    Instance.active_steps,
    Instance.next_due,
    Instance.overdue_from,
)

CLOSED = ("completed", "cancelled")

# a case's worst status first: a failed step, then an overdue step, a step due soon, on time, closed
WORST = ("error", "overdue", "due_soon", "on_time", "closed")


def _standing(row, today: dt.date, soon: dt.date) -> str:
    if row.status not in OPEN_STATUSES:
        return "closed"
    if row.status == "error":
        return "error"
    if row.overdue_from is not None and row.overdue_from <= today:
        return "overdue"
    if row.next_due is not None and row.next_due <= soon:
        return "due_soon"
    return "on_time"


def _fold(rows: list[dict], members: list, today: dt.date, soon: dt.date) -> None:
    """Each case's sub-processes folded into its row: their steps, the case's next due date (the earliest
    of its processes') and its worst status."""
    by_case: dict[str, list] = {}
    for m in members:
        by_case.setdefault(m.business_key, []).append(m)
    for row in rows:
        subs = by_case.get(row["business_key"], [])
        row["sub_processes"] = [
            {
                "id": m.id,
                "process_id": m.process_id,
                "status": m.status,
                "stage": ", ".join(m.active_steps or []) or "-",
                "next_due": m.next_due.isoformat() if m.next_due else None,
            }
            for m in subs
        ]
        dues = [row["next_due"]] + [s["next_due"] for s in row["sub_processes"]]
        row["case_next_due"] = min((d for d in dues if d), default=None)
        row["worst"] = min(
            [row.pop("_standing")] + [_standing(m, today, soon) for m in subs], key=WORST.index
        )


class Reports:
    def __init__(self, core: Core):
        self.core = core

    # --- the case list --------------------------------------------------------------------------
    def case_page(
        self,
        actor: Actor,
        filters: CaseFilter,
        before: int | None = None,
        after: int | None = None,
        limit: int | None = None,
    ) -> dict:
        """One page of cases, newest first: those older than case ``before`` (the next page), or newer than
        case ``after`` (the previous page), or the newest. ``newer``/``older`` are the cursors of the pages
        either side (``None`` where there is none); ``count`` is the number of cases the filters match,
        counted up to :data:`COUNT_LIMIT` (``count_capped`` says it stopped there)."""
        _manager(actor)
        today, limit = clock.today(), limit or PAGE_SIZE
        with self.core.db.reading() as session:
            stmt, key = filters.apply(
                select(*CASE_COLUMNS).join(ProcessVersion, ProcessVersion.id == Instance.process_version_id),
                today,
            )
            if after is not None:
                found = session.execute(stmt.where(key > after).order_by(key.asc()).limit(limit + 1)).all()
                more_newer, found = len(found) > limit, found[:limit][::-1]
                more_older = True
            else:
                if before is not None:
                    stmt = stmt.where(key < before)
                found = session.execute(stmt.order_by(key.desc()).limit(limit + 1)).all()
                more_older, found = len(found) > limit, found[:limit]
                more_newer = before is not None
            counted, _ = filters.apply(select(Instance.id), today)
            count = session.scalar(
                select(func.count()).select_from(counted.limit(COUNT_LIMIT + 1).subquery())
            )
            rows = [_case_row(r, today) for r in found]
            if filters.cases:
                soon = self._due_soon_end(session, today)
                for row, r in zip(rows, found, strict=True):
                    row["_standing"] = _standing(r, today, soon)
                keys = [r["business_key"] for r in rows if r["business_key"]]
                members = (
                    session.execute(
                        select(*FAMILY_COLUMNS)
                        .where(Instance.business_key.in_(keys), Instance.parent_instance_id.is_not(None))
                        .order_by(Instance.id)
                    ).all()
                    if keys
                    else []
                )
                _fold(rows, members, today, soon)
            return {
                "rows": rows,
                "count": min(count, COUNT_LIMIT),
                "count_capped": count > COUNT_LIMIT,
                "newer": rows[0]["id"] if rows and more_newer else None,
                "older": rows[-1]["id"] if rows and more_older else None,
            }

    def case_export(self, actor: Actor, filters: CaseFilter) -> Iterator[dict]:
        """Every case the filters match, newest first, streamed (for the CSV)."""
        _manager(actor)
        today = clock.today()
        stmt, key = filters.apply(
            select(*CASE_COLUMNS).join(ProcessVersion, ProcessVersion.id == Instance.process_version_id),
            today,
        )
        return self._stream(stmt.order_by(key.desc()), lambda r: _case_row(r, today))

    def related(self, actor: Actor, instance_id: int, business_key: str | None) -> list[dict]:
        """The other processes of the same case (one case reference, handed over from process to process)."""
        _manager(actor)
        if not business_key:
            return []
        today = clock.today()
        with self.core.db.reading() as session:
            stmt = (
                select(*CASE_COLUMNS)
                .join(ProcessVersion, ProcessVersion.id == Instance.process_version_id)
                .where(Instance.business_key == business_key, Instance.id != instance_id)
                .order_by(Instance.id.desc())
                .limit(PAGE_SIZE)
            )
            return [_case_row(r, today) for r in session.execute(stmt)]

    def stages(self, actor: Actor) -> list[str]:
        """The steps open cases stand at (the stage filter's choices)."""
        _manager(actor)
        with self.core.db.reading() as session:
            return list(session.scalars(select(InstanceStep.step).distinct().order_by(InstanceStep.step)))

    def _due_soon_end(self, session, today: dt.date, days: int | None = None) -> dt.date:
        """The last day of "due soon": ``days`` working days from today (the setting by default)."""
        days = self.core.settings.due_soon_working_days if days is None else days
        return self.core.calendar(session).add_working_days(today, days) if days else today

    # --- due soon -------------------------------------------------------------------------------
    def due_soon(
        self, actor: Actor, days: int | None = None, after: tuple[dt.date, int] | None = None, limit: int = 0
    ) -> dict:
        """The pending statutory deadlines of every case falling due from today to ``days`` working days
        ahead (England's working days with the partnership's overrides), by due date: one page after the
        ``after`` cursor (a due date and a deadline id), with the cursor of the next page and the number of
        them in all (counted up to :data:`COUNT_LIMIT`)."""
        _manager(actor)
        today, limit = clock.today(), limit or PAGE_SIZE
        if days is not None and not 0 <= days <= MAX_DUE_SOON_DAYS:
            raise Invalid(
                f"give a number of working days from 0 to {MAX_DUE_SOON_DAYS}",
                [{"path": "days", "message": "out of range"}],
            )
        with self.core.db.reading() as session:
            end = self._due_soon_end(session, today, days)
            due = (_status_is(DeadlineStatus.PENDING), Deadline.due_date >= today, Deadline.due_date <= end)
            stmt = select(*DEADLINE_COLUMNS).join(Instance, Instance.id == Deadline.instance_id).where(*due)
            if after is not None:
                day, ident = after
                stmt = stmt.where(
                    (Deadline.due_date > day) | ((Deadline.due_date == day) & (Deadline.id > ident))
                )
            found = session.execute(stmt.order_by(Deadline.due_date, Deadline.id).limit(limit + 1)).all()
            count = session.scalar(
                select(func.count()).select_from(
                    select(Deadline.id).where(*due).limit(COUNT_LIMIT + 1).subquery()
                )
            )
        more, found = len(found) > limit, found[:limit]
        return {
            "rows": [_deadline_row(r) | {"id": r.id} for r in found],
            "next": (found[-1].due_date, found[-1].id) if more else None,
            "count": min(count, COUNT_LIMIT),
            "count_capped": count > COUNT_LIMIT,
            "end": end.isoformat(),
            "today": today.isoformat(),
        }

    def due_soon_export(self, actor: Actor, days: int | None = None) -> Iterator[dict]:
        """Every deadline :meth:`due_soon` finds, by due date, streamed (for the CSV)."""
        _manager(actor)
        today = clock.today()
        with self.core.db.reading() as session:
            end = self._due_soon_end(session, today, days)
        return self.deadline_export(actor, today, end, DeadlineStatus.PENDING)

    # --- deadlines ------------------------------------------------------------------------------
    def deadline_export(
        self, actor: Actor, start: dt.date | None = None, end: dt.date | None = None, status: str = ""
    ) -> Iterator[dict]:
        """Every deadline falling due in the period (all of them without one), by due date, streamed."""
        _manager(actor)
        _period(start, end)
        stmt = select(*DEADLINE_COLUMNS).join(Instance, Instance.id == Deadline.instance_id)
        if start:
            stmt = stmt.where(Deadline.due_date >= start)
        if end:
            stmt = stmt.where(Deadline.due_date <= end)
        if status:
            stmt = stmt.where(_status_is(status))
        return self._stream(stmt.order_by(Deadline.due_date, Deadline.id), _deadline_row)

    def deadlines(
        self, actor: Actor, start: dt.date | None = None, end: dt.date | None = None, status: str = ""
    ) -> list[dict]:
        return list(self.deadline_export(actor, start, end, status))

    def _stream(self, stmt, shape) -> Iterator[dict]:
        """Rows as they are fetched, ``STREAM_BATCH`` at a time, in one read transaction that ends with them
        (or when the reader stops early)."""

        def rows():
            with self.core.db.reading() as session:
                for row in session.execute(stmt, execution_options={"yield_per": STREAM_BATCH}):
                    yield shape(row)

        return rows()

    # --- the dashboard ----------------------------------------------------------------------------
    def dashboard(self, actor: Actor, start: dt.date, end: dt.date) -> dict:
        """Open cases by stage; deadlines due this week; deadlines missed in the period, newest first; the
        share of each statutory deadline met in the period. Lists show :data:`LIST_LIMIT` rows and say how
        many there are in all."""
        _manager(actor)
        if end < start:
            raise Invalid("the period ends before it starts", [{"path": "to", "message": "before 'from'"}])
        today = clock.today()
        week_end = today + dt.timedelta(days=6 - today.weekday())
        with self.core.db.reading() as session:
            by_stage = [
                (p, s, n)
                for p, s, n in session.execute(
                    select(InstanceStep.process_id, InstanceStep.step, func.count()).group_by(
                        InstanceStep.process_id, InstanceStep.step
                    )
                )
            ]
            standing = exists().where(InstanceStep.instance_id == Instance.id)
            by_stage += [
                (p, "(waiting)", n)
                for p, n in session.execute(
                    select(Instance.process_id, func.count())
                    .where(Instance.status.in_(OPEN_STATUSES), ~standing)
                    .group_by(Instance.process_id)
                )
            ]
            due = (
                _status_is(DeadlineStatus.PENDING),
                Deadline.due_date >= today,
                Deadline.due_date <= week_end,
            )
            due_this_week = self._deadline_list(session, due, (Deadline.due_date, Deadline.id))
            due_count = session.scalar(select(func.count()).select_from(Deadline).where(*due))
            missed = (
                Deadline.status == DeadlineStatus.MISSED,
                Deadline.due_date >= start,
                Deadline.due_date <= end,
            )
            missed_list = self._deadline_list(session, missed, (Deadline.due_date.desc(), Deadline.id.desc()))
            tally = session.execute(
                select(
                    DeadlineTally.key,
                    func.max(DeadlineTally.name),
                    func.sum(DeadlineTally.met),
                    func.sum(DeadlineTally.missed),
                )
                .where(DeadlineTally.due_date >= start, DeadlineTally.due_date <= end)
                .group_by(DeadlineTally.key)
            ).all()
        shares = [
            {"key": k, "name": name, "met": met, "missed": miss, "percent": round(100 * met / (met + miss))}
            for k, name, met, miss in sorted(tally, key=lambda r: (r[0][0], len(r[0]), r[0]))
            if met + miss
        ]
        return {
            "by_stage": [{"process_id": p, "stage": s, "count": n} for p, s, n in sorted(by_stage)],
            "due_this_week": due_this_week,
            "due_this_week_count": due_count,
            "week_end": week_end.isoformat(),
            "missed": missed_list,
            "missed_count": sum(s["missed"] for s in shares),
            "shares": shares,
            "from": start.isoformat(),
            "to": end.isoformat(),
            "today": today.isoformat(),
        }

    @staticmethod
    def _deadline_list(session, where, order) -> list[dict]:
        stmt = (
            select(*DEADLINE_COLUMNS)
            .join(Instance, Instance.id == Deadline.instance_id)
            .where(*where)
            .order_by(*order)
            .limit(LIST_LIMIT)
        )
        return [_deadline_row(r) for r in session.execute(stmt)]
