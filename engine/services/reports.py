"""What managers watch: every case with its stage and whether it is overdue, the deadlines due, met and
missed, and the share of each statutory deadline met over a period. Read from the projections only."""
from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict

from sqlalchemy import func, select

from engine import clock
from engine.services.actor import Actor
from engine.services.core import Core
from engine.services.errors import Forbidden, Invalid
from engine.store.models import Deadline, HumanTask, Instance, ProcessVersion

OPEN_STATUSES = ("running", "waiting", "error", "suspended")


def _manager(actor: Actor) -> None:
    if not actor.is_manager:
        raise Forbidden("only a manager may see every case")


class Reports:
    def __init__(self, core: Core):
        self.core = core

    def cases(self, actor: Actor, process_id: str = "", status: str = "", stage: str = "", overdue: bool = False,
              limit: int = 500) -> list[dict]:
        _manager(actor)
        today = clock.today()
        with self.core.db.reading() as session:
            next_due = (select(HumanTask.instance_id, func.min(HumanTask.due_date).label("due"))
                        .where(HumanTask.state == "open").group_by(HumanTask.instance_id).subquery())
            missed = select(Deadline.instance_id).where(Deadline.status == "missed")
            late_task = select(HumanTask.instance_id).where(HumanTask.state == "open", HumanTask.due_date < today)
            stmt = (select(Instance, ProcessVersion.version, next_due.c.due)
                    .join(ProcessVersion, ProcessVersion.id == Instance.process_version_id)
                    .outerjoin(next_due, next_due.c.instance_id == Instance.id))
            if process_id:
                stmt = stmt.where(Instance.process_id == process_id)
            if status == "open":
                stmt = stmt.where(Instance.status.in_(OPEN_STATUSES))
            elif status:
                stmt = stmt.where(Instance.status == status)
            if overdue:
                stmt = stmt.where(Instance.id.in_(late_task) | (Instance.id.in_(missed)
                                                               & Instance.status.in_(OPEN_STATUSES)))
            rows = session.execute(stmt.order_by(Instance.id.desc()).limit(limit)).all()
            late = set(session.scalars(late_task)) | set(session.scalars(missed))
            out = []
            for inst, version, due in rows:
                if stage and stage not in (inst.active_steps or []):
                    continue
                out.append({"id": inst.id, "business_key": inst.business_key, "process_id": inst.process_id,
                            "version": version, "status": inst.status, "regime": inst.regime,
                            "stage": ", ".join(inst.active_steps or []) or "-",
                            "next_due": due.isoformat() if due else None,
                            "overdue": inst.id in late and inst.status in OPEN_STATUSES,
                            "created_at": inst.created_at.isoformat(),
                            "converted_from": (inst.summary or {}).get("converted_from")})
            return out

    def stages(self, actor: Actor) -> list[str]:
        _manager(actor)
        with self.core.db.reading() as session:
            steps = set()
            for (active,) in session.execute(select(Instance.active_steps).where(Instance.status.in_(OPEN_STATUSES))):
                steps.update(active or [])
            return sorted(steps)

    def deadlines(self, actor: Actor, start: dt.date | None = None, end: dt.date | None = None) -> list[dict]:
        _manager(actor)
        with self.core.db.reading() as session:
            stmt = (select(Deadline, Instance.business_key, Instance.process_id)
                    .join(Instance, Instance.id == Deadline.instance_id))
            if start:
                stmt = stmt.where(Deadline.due_date >= start)
            if end:
                stmt = stmt.where(Deadline.due_date <= end)
            return [{"business_key": bk, "process_id": pid, "key": d.key, "name": d.name, "due_date": d.due_date.isoformat(),
                     "status": d.status, "source": d.source, "on_working_day": d.on_working_day,
                     "closed_at": d.closed_at.isoformat() if d.closed_at else None, "instance_id": d.instance_id}
                    for d, bk, pid in session.execute(stmt.order_by(Deadline.due_date, Deadline.id))]

    def dashboard(self, actor: Actor, start: dt.date, end: dt.date) -> dict:
        _manager(actor)
        if end < start:
            raise Invalid("the period ends before it starts", [{"path": "to", "message": "before 'from'"}])
        today = clock.today()
        week_end = today + dt.timedelta(days=6 - today.weekday())
        with self.core.db.reading() as session:
            by_stage = Counter()
            for process_id, active in session.execute(select(Instance.process_id, Instance.active_steps)
                                                      .where(Instance.status.in_(OPEN_STATUSES))):
                for step in active or ["(waiting)"]:
                    by_stage[(process_id, step)] += 1
            due_this_week = [r for r in self.deadlines(actor, today, week_end) if r["status"] == "pending"]
            missed = [r for r in self.deadlines(actor) if r["status"] == "missed"]
            share = defaultdict(lambda: {"met": 0, "missed": 0, "name": ""})
            for d in session.scalars(select(Deadline).where(Deadline.due_date >= start, Deadline.due_date <= end,
                                                            Deadline.status.in_(("met", "missed")))):
                share[d.key][d.status] += 1
                share[d.key]["name"] = d.name
            shares = [{"key": k, "name": v["name"], "met": v["met"], "missed": v["missed"],
                       "percent": round(100 * v["met"] / (v["met"] + v["missed"]))}
                      for k, v in sorted(share.items(), key=lambda kv: (kv[0][0], len(kv[0]), kv[0]))]
            return {"by_stage": [{"process_id": p, "stage": s, "count": n} for (p, s), n in sorted(by_stage.items())],
                    "due_this_week": due_this_week, "week_end": week_end.isoformat(), "missed": missed,
                    "shares": shares, "from": start.isoformat(), "to": end.isoformat()}
