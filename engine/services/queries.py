"""Read models for instances: lists for managers, one case with its tasks, deadlines and history."""

from __future__ import annotations

from sqlalchemy import func, select

from engine.services import access, case_file, statutory
from engine.services import workflow as wfsvc
from engine.services.actor import Actor
from engine.services.core import Core
from engine.services.errors import NotFound
from engine.services.tasks import task_dict
from engine.statuses import DeadlineStatus, TaskStatus
from engine.store.models import AuditEvent, Deadline, HumanTask, Instance, OutboxMessage, ProcessVersion


def deadline_dict(d: Deadline, process_id: str | None = None) -> dict:
    """A deadline row; a planned one (its timer not armed yet) is ``pending`` and names the process that will
    arm it (``process_id``: the case's own process for an armed one)."""
    planned = d.status == statutory.PLANNED
    return {
        "key": d.key,
        "name": d.name,
        "due_date": d.due_date.isoformat(),
        "status": DeadlineStatus.PENDING if planned else d.status,
        "source": d.source,
        "anchor_date": d.anchor_date.isoformat(),
        "element_id": None if planned else d.element_id,
        "on_working_day": d.on_working_day,
        "fires_at": d.fires_at.isoformat(),
        "closed_at": d.closed_at.isoformat() if d.closed_at else None,
        "armed": not planned,
        "starts_when": None,
        "recorded_date": d.recorded_date.isoformat() if d.recorded_date else None,
        "process_id": d.element_id if planned else process_id,
        "instance_id": d.instance_id,
    }


def instance_row(i: Instance, version: int | None = None) -> dict:
    return {
        "id": i.id,
        "process_id": i.process_id,
        "version": version,
        "business_key": i.business_key,
        "status": i.status,
        "regime": i.regime,
        "active_steps": i.active_steps,
        "summary": i.summary,
        "error": i.error,
        "parent_instance_id": i.parent_instance_id,
        "created_by": i.created_by,
        "created_at": i.created_at.isoformat(),
        "updated_at": i.updated_at.isoformat(),
        "completed_at": i.completed_at.isoformat() if i.completed_at else None,
        "next_timer_at": i.next_timer_at.isoformat() if i.next_timer_at else None,
        "failed_at": i.failed_at.isoformat() if i.failed_at else None,
    }


class Queries:
    def __init__(self, core: Core):
        self.core = core

    def list_instances(
        self,
        actor: Actor,
        process_id: str | None = None,
        status: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[dict]:
        with self.core.db.reading() as session:
            stmt = select(Instance, ProcessVersion.version).join(
                ProcessVersion, ProcessVersion.id == Instance.process_version_id
            )
            stmt = access.only_visible(stmt, Instance.id, actor)
            if process_id:
                stmt = stmt.where(Instance.process_id == process_id)
            if status:
                stmt = stmt.where(Instance.status == status)
            stmt = stmt.order_by(Instance.id.desc()).limit(min(limit, 500)).offset(offset)
            return [instance_row(i, v) for i, v in session.execute(stmt)]

    def _load_case(self, session, instance_id: int, actor: Actor):
        """The instance, its process version and its workflow (``None`` for a case that cannot be opened:
        its page still shows what the projections know, and the reason), for someone allowed to open it."""
        inst = session.get(Instance, instance_id)
        if inst is None:
            raise NotFound(f"no instance {instance_id}")
        access.check(session, actor, inst.id)
        version = session.get(ProcessVersion, inst.process_version_id)
        try:
            return inst, version, wfsvc.read_state(session, inst)[1]
        except wfsvc.CaseUnreadable:
            return inst, version, None

    def get_instance(self, instance_id: int, actor: Actor) -> dict:
        with self.core.db.reading() as session:
            inst, version, workflow = self._load_case(session, instance_id, actor)
            out = instance_row(inst, version.version)
            out["data"] = wfsvc.current_data(workflow) if workflow is not None else dict(inst.summary or {})
            tasks = session.scalars(
                select(HumanTask).where(HumanTask.instance_id == inst.id).order_by(HumanTask.created_at)
            )
            all_tasks = [task_dict(t, inst.business_key) for t in tasks]
            out["tasks"] = [t for t in all_tasks if t["state"] == TaskStatus.OPEN]
            out["task_history"] = [t for t in all_tasks if t["state"] != TaskStatus.OPEN]
            out["deadlines"] = self._deadlines(session, inst, version, workflow, out["data"])
            out["handed_over_deadlines"] = self._handed_over_deadlines(session, inst)
            names = case_file.step_names(session, inst)
            out["history"] = [
                {
                    "at": a.at.isoformat(),
                    "actor": a.actor,
                    "kind": a.kind,
                    "element_id": a.element_id,
                    "step": names.get(a.element_id or ""),
                    "task_id": a.task_id,
                    "detail": a.detail,
                }
                for a in session.scalars(
                    select(AuditEvent).where(AuditEvent.instance_id == inst.id).order_by(AuditEvent.id)
                )
            ]
            out["notifications"] = [
                outbox_dict(m)
                for m in session.scalars(
                    select(OutboxMessage)
                    .where(OutboxMessage.instance_id == inst.id)
                    .order_by(OutboxMessage.id)
                )
            ]
            return out

    def _deadlines(
        self, session, inst: Instance, version: ProcessVersion, workflow, data: dict
    ) -> list[dict]:
        """Every statutory deadline of the case from day 0 (003 §3.4-§4.6): the armed ones as their rows say,
        and those the case will still arm, or hand over to a case that will, as ``pending`` with their due
        date or when they start. By due date; those not yet dated last."""
        armed = [
            deadline_dict(d, inst.process_id)
            for d in session.scalars(
                select(Deadline)
                .where(Deadline.instance_id == inst.id, Deadline.status != statutory.PLANNED)
                .order_by(Deadline.due_date, Deadline.id)
            )
        ]
        planned = []
        ruleset = wfsvc.ruleset_for(session, inst.ruleset_version_id)
        if ruleset is not None and workflow is not None and inst.status in wfsvc.OPEN_STATUSES:
            pending = {d["key"] for d in armed if d["status"] == DeadlineStatus.PENDING}
            planned = [
                statutory.planned_dict(p, inst.id)
                for p in statutory.planned_deadlines(
                    session, version.id, workflow, ruleset, data, self.core.calendar(session), pending
                )
            ]
        dated = sorted([d for d in armed + planned if d["due_date"]], key=lambda d: d["due_date"])
        return dated + [d for d in planned if not d["due_date"]]

    def _handed_over_deadlines(self, session, inst: Instance) -> list[dict]:
        """The deadlines now run by the cases this one handed over to (and those they handed over to), each
        with the case it is on: once a hand-over is made, its clocks are that case's."""
        if not inst.business_key:
            return []
        family = session.execute(
            select(Instance.id, Instance.parent_instance_id, Instance.process_id).where(
                Instance.business_key == inst.business_key
            )
        ).all()
        below, grew = {}, True
        while grew:
            grew = False
            for row in family:
                if row.id not in below and (
                    row.parent_instance_id == inst.id or row.parent_instance_id in below
                ):
                    below[row.id], grew = row.process_id, True
        if not below:
            return []
        return [
            deadline_dict(d, below[d.instance_id])
            for d in session.scalars(
                select(Deadline)
                .where(Deadline.instance_id.in_(sorted(below)))
                .order_by(Deadline.due_date, Deadline.id)
            )
        ]

    def start_confirmation(self, instance_id: int, actor: Actor) -> dict:
        """The reference of a case ``actor`` started themselves, for the confirmation page they are sent to
        after starting it. Only what that page shows: a referrer may not open the rest of the case. Any
        other case (not theirs, handed over from another, or none) is NotFound, so nothing is revealed."""
        with self.core.db.reading() as session:
            row = session.execute(
                select(Instance.id, Instance.business_key, Instance.process_id, Instance.created_at).where(
                    Instance.id == instance_id,
                    Instance.created_by == actor.username,
                    Instance.parent_instance_id.is_(None),
                )
            ).first()
            if row is None:
                raise NotFound(f"you started no case {instance_id}")
            return {
                "id": row.id,
                "business_key": row.business_key,
                "process_id": row.process_id,
                "created_at": row.created_at.isoformat(),
            }

    def diagram(self, instance_id: int, actor: Actor) -> dict:
        """The case's diagram and where the case stands on it: steps completed, steps active, active steps
        that have missed a deadline, and the due date of each active step (for the case page's viewer)."""
        from SpiffWorkflow.util.task import TaskState

        from engine import clock, xmlsafe
        from engine.bpmn import compaction

        with self.core.db.reading() as session:
            inst, version, workflow = self._load_case(session, instance_id, actor)
            completed, active = set(), set()
            for task in workflow.tasks.values() if workflow is not None else ():  # the top-level diagram only
                bpmn_id = getattr(task.task_spec, "bpmn_id", None)
                if not bpmn_id:
                    continue
                if task.state == TaskState.COMPLETED:
                    completed.add(bpmn_id)
                elif task.state in (TaskState.READY, TaskState.STARTED, TaskState.ERROR) or (
                    task.state == TaskState.WAITING and _is_waiting_event(task)
                ):
                    active.add(bpmn_id)
            if workflow is not None:  # and the steps completed in history compacted out of the live state
                completed |= compaction.completed_elements(workflow)
            root = xmlsafe.parse(version.bpmn, version.file)
            hosts = {
                el.get("id"): el.get("attachedToRef")
                for el in root.iter("{http://www.omg.org/spec/BPMN/20100524/MODEL}boundaryEvent")
            }
            due: dict[str, str] = {}
            overdue: set[str] = set()
            today = clock.today()
            for d in session.scalars(
                select(Deadline).where(
                    Deadline.instance_id == inst.id,
                    Deadline.status.in_((DeadlineStatus.PENDING, DeadlineStatus.MISSED)),
                )
            ):
                host = hosts.get(d.element_id)
                if host not in active:
                    continue
                if host not in due or d.due_date.isoformat() < due[host]:
                    due[host] = d.due_date.isoformat()
                if d.status == DeadlineStatus.MISSED or d.due_date < today:
                    overdue.add(host)
            names = {el.get("id"): el.get("name") for el in root.iter() if el.get("id") and el.get("name")}
            return {
                "instance_id": inst.id,
                "process_id": inst.process_id,
                "process_name": version.name,
                "version": version.version,
                "names": {i: names.get(i, i) for i in completed | active},
                "bpmn": version.bpmn.decode("utf-8"),
                "completed": sorted(completed - active),
                "active": sorted(active),
                "overdue": sorted(overdue),
                "due": due,
            }

    def chronology(self, instance_id: int, actor: Actor) -> list[dict]:
        """The case's merged multi-agency chronology (``case_chronology``, written by the
        ``merge_chronologies`` handler), ordered by date with the agency on each row."""
        case = self.get_instance(instance_id, actor)
        merged = case["data"].get("case_chronology") or {}
        rows = merged.get("chronology", []) if isinstance(merged, dict) else []
        return [
            {
                "date": str(r.get("date", "")),
                "agency": str(r.get("agency", "")),
                "worker": str(r.get("worker", "")),
                "event": str(r.get("event", "")),
            }
            for r in rows
            if isinstance(r, dict)
        ]

    def processes(self) -> list[dict]:
        with self.core.db.reading() as session:
            latest = (
                select(ProcessVersion.process_id, func.max(ProcessVersion.version).label("v"))
                .group_by(ProcessVersion.process_id)
                .subquery()
            )
            rows = session.scalars(
                select(ProcessVersion)
                .join(
                    latest,
                    (ProcessVersion.process_id == latest.c.process_id)
                    & (ProcessVersion.version == latest.c.v),
                )
                .order_by(ProcessVersion.process_id)
            )
            return [
                {
                    "process_id": p.process_id,
                    "name": p.name,
                    "version": p.version,
                    "content_hash": p.content_hash,
                    "lanes": p.lanes,
                    "deadline_keys": p.deadline_keys,
                    "deployed_at": p.created_at.isoformat(),
                }
                for p in rows
            ]

    def deadline_names(self) -> dict[str, str]:
        """Each deadline key's plain name (R1: "Local authority notifies the Panel"), for people to read
        instead of the key. A key shared by several rule sets takes a national set's name before a local
        set's, the newest national set first."""
        from engine.services.regimes import deployed

        with self.core.db.reading() as session:
            sets = deployed(session)
        names: dict[str, str] = {}
        national = sorted((rs for rs in sets.values() if rs.in_force), key=lambda rs: rs.in_force.start)
        for rs in [*reversed(national), *(rs for rs in sets.values() if not rs.in_force)]:
            for key, rule in rs.rules.items():
                names.setdefault(key, rule.name)
        return names

    def roles(self) -> list[str]:
        from engine.services.actor import SYSTEM_ROLES

        with self.core.db.reading() as session:
            lanes = set()
            for row in session.scalars(select(ProcessVersion.lanes)):
                lanes.update(row or [])
        return sorted(lanes) + list(SYSTEM_ROLES)


def _is_waiting_event(task) -> bool:
    """A case waiting on an event (the Panel's answer, a retention period) is at that step; a boundary
    timer armed on a step, or a join waiting for its other branches, is not a step of its own."""
    from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent
    from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import BoundaryEvent

    return isinstance(task.task_spec, CatchingEvent) and not isinstance(task.task_spec, BoundaryEvent)


def outbox_dict(m: OutboxMessage) -> dict:
    return {
        "id": m.id,
        "instance_id": m.instance_id,
        "recipient": m.recipient,
        "subject": m.subject,
        "template": m.template,
        "status": m.status,
        "attempts": m.attempts,
        "created_at": m.created_at.isoformat(),
        "sent_at": m.sent_at.isoformat() if m.sent_at else None,
        "next_attempt_at": m.next_attempt_at.isoformat() if m.next_attempt_at else None,
        "last_error": m.last_error,
        "cancelled_reason": m.cancelled_reason,
        "message_id": m.message_id,
        "lease_owner": m.lease_owner,  # the worker sending it now (status "sending")
        "lease_expires_at": m.lease_expires_at.isoformat() if m.lease_expires_at else None,
    }
