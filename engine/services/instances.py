"""Commands that move workflow instances: start, complete a task, deliver a message,
fire due timers, retry a failed step, cancel, suspend and resume. One transaction each.
"""

from __future__ import annotations

import datetime as dt
import functools
import inspect
import logging

from SpiffWorkflow.bpmn import BpmnEvent
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import delete, select, update
from sqlalchemy.orm.exc import StaleDataError

from engine import clock, inputs, logs
from engine.bpmn import serializer
from engine.services import forms, regimes
from engine.services import workflow as wfsvc
from engine.services.actor import Actor
from engine.services.core import Core
from engine.services.errors import BadRequest, Conflict, Forbidden, Invalid, NotFound
from engine.store.db import unavailable
from engine.store.models import (
    AuditEvent,
    Deadline,
    HumanTask,
    Instance,
    MessageWait,
    ProcessVersion,
    RuleSetVersion,
    TaskDraft,
)

log = logging.getLogger("reviewflow.engine")
RULES_KEYS = (
    "regime",
    "ruleset",
    regimes.REASON_KEY,
)  # which rules apply: set at the start, outside any form


def _stale(exc: Exception) -> Conflict:
    return Conflict("the case was changed by someone else at the same time; reload and try again")


_LOGGED_ARGUMENTS = ("instance_id", "task_id", "process_id")  # ids and names of processes, never case data


def _command(method):
    """A command on one case: a concurrent change is a conflict; a step that leaves too much data is
    refused; a case that cannot be opened is put in the incident state. Nothing of the command is kept.
    Each command is one log line: its name, the case, who, the outcome and how long it took."""
    signature = inspect.signature(method)

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        given = signature.bind_partial(self, *args, **kwargs).arguments
        fields = {k: given[k] for k in _LOGGED_ARGUMENTS if given.get(k) is not None}
        with logs.timed(
            log,
            f"command {method.__name__}",
            command=method.__name__,
            actor=getattr(given.get("actor"), "username", None),
            **fields,
        ) as entry:
            try:
                result = method(self, *args, **kwargs)
            except StaleDataError as exc:
                raise _stale(exc) from None
            except wfsvc.CaseTooLarge as exc:
                raise Invalid(
                    f"the step could not be kept: {exc}", [{"path": "(root)", "message": str(exc)}]
                ) from None
            except wfsvc.CaseUnreadable as exc:
                self._quarantine(exc.instance_id, str(exc), method.__name__)
                raise Conflict(f"{exc}; a manager can retry or cancel the case") from None
            if isinstance(result, dict) and "instance_id" not in entry:  # a case started: its new id
                entry["instance_id"] = result.get("instance_id") or (
                    result.get("id") if method.__name__ == "start" else None
                )
            return result

    return wrapper


class Instances:
    def __init__(self, core: Core):
        self.core = core

    # --- start -------------------------------------------------------------------------------
    @_command
    def start(self, process_id: str, data: dict, actor: Actor) -> dict:
        """Start a case directly. Only a role the process declares may (``startRoles``, else its start lane),
        with data its start form accepts; the case reference is always given here, unique to the case; the
        rules are those in force on ``date_aware`` unless a manager says why not (``regimes.settle``)."""
        inputs.check_start(data)
        problems = forms.check_keys(data)
        if problems:
            raise Invalid("the data has fields the engine cannot accept", problems)
        if "case_reference" in data:
            raise Invalid(
                "case references are given when a case starts",
                [{"path": "case_reference", "message": "leave it out: every case gets its own reference"}],
            )
        with self.core.db.transaction() as session:
            version = self._latest_version(session, process_id)
            info = wfsvc.version_info(session, version.id)
            if not info.start_roles:
                raise Forbidden(f"'{process_id}' is started only by another process, never directly")
            if not any(actor.has(role) for role in info.start_roles):
                raise Forbidden(f"'{process_id}' can be started by: {', '.join(info.start_roles)}")
            if info.start_form:
                schema = info.forms.get(info.start_form) or {}
                declared = schema.get("properties", {})
                checked = {k: v for k, v in data.items() if k in declared or k not in RULES_KEYS}
                with forms.in_case(forms.case_context({}, {}, None, self.core.calendar(session))):
                    problems = forms.validate(schema, checked)
                if problems:
                    raise Invalid("the form has errors", problems)
            data, override = regimes.settle(session, data, actor)
            rules = data.get("ruleset") or data.get("regime")
            if info.regimes and rules not in info.regimes:
                raise Invalid(
                    f"'{process_id}' runs under {', '.join(info.regimes)}; this case's rules are {rules}",
                    [
                        {
                            "path": "regime",
                            "message": f"{process_id} runs under {', '.join(info.regimes)}, "
                            f"not {rules} (from date_aware or the rules named)",
                        }
                    ],
                )
            inst, number = self._start_in(session, version, data, actor.username)
            if override is not None:
                session.add(
                    AuditEvent(
                        instance_id=inst.id,
                        at=clock.now(),
                        actor=actor.username,
                        kind="regime_overridden",
                        detail=override.detail(),
                    )
                )
            return {
                "id": inst.id,
                "business_key": inst.business_key,
                "status": inst.status,
                "process_id": process_id,
                "version": number,
            }

    def may_start(self, process_id: str, actor: Actor) -> bool:
        """Whether ``actor`` holds a role that may start the process directly (for menus and pages)."""
        with self.core.db.reading() as session:
            try:
                version = self._latest_version(session, process_id)
            except NotFound:
                return False
            return any(actor.has(role) for role in wfsvc.version_info(session, version.id).start_roles)

    @staticmethod
    def _latest_version(session, process_id: str) -> ProcessVersion:
        version = session.scalars(
            select(ProcessVersion)
            .where(ProcessVersion.process_id == process_id)
            .order_by(ProcessVersion.version.desc())
            .limit(1)
        ).first()
        if version is None:
            raise NotFound(f"no process '{process_id}' is deployed")
        return version

    def _start_in(
        self,
        session,
        version: ProcessVersion,
        data: dict,
        actor: str,
        parent: Instance | None = None,
        depth: int = 0,
    ) -> tuple[Instance, int]:
        """Create the instance and run it to its first wait; a hand-over (``parent``) keeps its case
        reference."""
        now = clock.now()
        process_id = version.process_id
        ruleset_row = None
        name = data.get("ruleset") or data.get("regime")
        for key in ("ruleset", "regime", "case_reference"):
            if data.get(key) is not None and not isinstance(data[key], str):
                raise Invalid(f"'{key}' must be text", [{"path": key, "message": "must be a string"}])
        if name is not None:
            ruleset_row = session.scalars(
                select(RuleSetVersion)
                .where(RuleSetVersion.name == name)
                .order_by(RuleSetVersion.id.desc())
                .limit(1)
            ).first()
            if ruleset_row is None:
                key = "ruleset" if data.get("ruleset") else "regime"
                raise Invalid(
                    f"no rule set named '{name}' is deployed", [{"path": key, "message": "unknown rule set"}]
                )
        elif version.deadline_keys:
            raise Invalid(
                "this process tracks statutory deadlines: give the date the local authority became aware",
                [
                    {
                        "path": "date_aware",
                        "message": "required: the rules in force that day apply "
                        "(or a regime WT2015, WT2018 or WT2023)",
                    }
                ],
            )
        info = wfsvc.version_info(session, version.id)
        workflow = serializer.new_workflow(info.spec, info.subprocess_specs)
        inst = Instance(
            process_version_id=version.id,
            process_id=process_id,
            business_key=None,
            status="running",
            regime=data.get("regime"),
            ruleset_version_id=ruleset_row.id if ruleset_row else None,
            parent_instance_id=parent.id if parent else None,
            state=b"",
            summary={},
            active_steps=[],
            waiting_messages=[],
            open_deadlines=0,
            created_by=actor,
            created_at=now,
            updated_at=now,
        )
        session.add(inst)
        session.flush()
        business_key = parent.business_key if parent else f"RF-{now.year}-{inst.id:05d}"
        inst.business_key = business_key
        workflow.task_tree.set_data(**{**data, "case_reference": business_key})
        loaded = wfsvc.Loaded(
            inst,
            info,
            workflow,
            wfsvc.runtime.RuntimeContext(
                inst.id,
                business_key,
                wfsvc.ruleset_for(session, inst.ruleset_version_id),
                self.core.calendar(session),
            ),
        )
        session.add(
            AuditEvent(
                instance_id=inst.id,
                at=now,
                actor=actor,
                kind="started",
                detail={
                    "process_id": process_id,
                    "version": version.version,
                    "data": data,
                    "parent_instance_id": inst.parent_instance_id,
                },
            )
        )
        with wfsvc.runtime.running(loaded.runtime):
            error = wfsvc.run_engine(workflow)
            self._persist(session, loaded, actor, error, depth)
        return inst, version.version

    def _persist(self, session, loaded: wfsvc.Loaded, actor: str, error: str | None, depth: int = 0) -> None:
        """Save the workflow and its projections, then start any processes it handed the case to."""
        wfsvc.save(session, loaded, actor, error)
        if error:
            session.add(
                AuditEvent(
                    instance_id=loaded.instance.id,
                    at=clock.now(),
                    actor="system",
                    kind="step_failed",
                    detail={"error": error},
                )
            )
        starts, loaded.runtime.starts = list(loaded.runtime.starts), []
        for request in starts:
            if depth >= 5:
                raise Conflict("processes handed a case over more than 5 times in one step")
            child, version = self._start_in(
                session,
                self._latest_version(session, request.process_id),
                request.data,
                actor,
                loaded.instance,
                depth + 1,
            )
            session.add(
                AuditEvent(
                    instance_id=loaded.instance.id,
                    at=clock.now(),
                    actor=actor,
                    kind="handed_over",
                    detail={"process_id": request.process_id, "instance_id": child.id, "version": version},
                )
            )

    # --- complete a user task ------------------------------------------------------------------
    @_command
    def complete_task(self, task_id: str, data: dict, actor: Actor) -> dict:
        inputs.check_task(task_id, data)
        now = clock.now()
        with self.core.db.transaction() as session:
            ht = session.get(HumanTask, task_id)
            if ht is None:
                raise NotFound(f"no task '{task_id}'")
            if not actor.has(ht.role):
                raise Forbidden(f"this task belongs to the role '{ht.role}'")
            if ht.state != "open":
                raise Conflict(f"this task is already {ht.state}")
            if ht.assignee and ht.assignee != actor.username:
                raise Conflict(f"this task is claimed by {ht.assignee}")
            inst = wfsvc.lock_instance(session, ht.instance_id)
            if inst.status in ("suspended", "cancelled"):
                raise Conflict(f"the case is {inst.status}")
            loaded = wfsvc.load(session, inst, self.core.calendar(session))
            schema = loaded.version.forms.get(ht.form) if ht.form else None
            task = wfsvc.task_by_id(loaded.workflow, task_id)
            with forms.in_case(self._case_context(session, loaded, task)):
                problems = forms.validate(schema, data)
            if problems:
                raise Invalid("the form has errors", problems)
            if task is None or task.state != TaskState.READY:
                raise Conflict("this task is no longer open")
            before = {k: task.data.get(k) for k in data}
            session.execute(delete(TaskDraft).where(TaskDraft.task_id == task_id))
            with wfsvc.runtime.running(loaded.runtime):
                task.set_data(**data)
                output = wfsvc.multi_instance_output(task)
                if output:
                    task.set_data(**{output: dict(data)})  # one agency's return, collected by the parent
                try:
                    task.run()
                except Exception as exc:  # the diagram cannot take this completion; nothing is kept
                    raise Invalid(
                        f"the step could not be completed: {wfsvc.describe_error(exc)}",
                        [{"path": "(task)", "message": wfsvc.describe_error(exc)}],
                    ) from None
                wfsvc.rearm_extended_deadlines(
                    loaded.workflow, loaded.runtime, task, data
                )  # 004 "Timescales"
                error = wfsvc.run_engine(loaded.workflow)
                ht.completed_by = actor.username
                session.add(
                    AuditEvent(
                        instance_id=inst.id,
                        at=now,
                        actor=actor.username,
                        kind="task_completed",
                        task_id=task_id,
                        element_id=ht.element_id,
                        detail={"task": ht.name, "before": before, "after": data},
                    )
                )
                self._persist(session, loaded, actor.username, error)
            session.flush()
            return {"instance_id": inst.id, "status": inst.status, "task_id": task_id}

    @staticmethod
    def _case_context(session, loaded: wfsvc.Loaded, task) -> forms.CaseContext:
        """What a task's submission is judged against: today, the data the task sees, and the due date of
        each of the case's deadlines (the latest armed for a key, else worked out from the rule set)."""
        data = task.data if task is not None else wfsvc.current_data(loaded.workflow)
        armed = dict(
            session.execute(
                select(Deadline.key, Deadline.due_date)
                .where(Deadline.instance_id == loaded.instance.id, Deadline.status != "cancelled")
                .order_by(Deadline.id)
            ).all()
        )
        return forms.case_context(data, armed, loaded.runtime.ruleset, loaded.runtime.calendar)

    # --- messages ---------------------------------------------------------------------------
    @_command
    def deliver_message(
        self,
        name: str,
        data: dict,
        actor: Actor,
        instance_id: int | None = None,
        business_key: str | None = None,
    ) -> dict:
        if not isinstance(name, str) or not name.strip():
            raise Invalid("a message needs a name", [{"path": "name", "message": "required"}])
        inputs.check_message(name, data, business_key)
        problems = forms.check_keys(data)
        if problems:
            raise Invalid("the message data cannot be accepted", problems)
        now = clock.now()
        with self.core.db.transaction() as session:
            if instance_id is None:
                if not business_key:
                    raise Invalid(
                        "say which case the message is for", [{"path": "business_key", "message": "required"}]
                    )
                ids = session.scalars(
                    select(MessageWait.instance_id)
                    .join(Instance, Instance.id == MessageWait.instance_id)
                    .where(Instance.business_key == business_key, MessageWait.name == name)
                ).all()
                if not ids:
                    raise Conflict(f"no case '{business_key}' is waiting for '{name}'")
                if len(ids) > 1:
                    raise Conflict(
                        f"{len(ids)} instances of case '{business_key}' wait for '{name}'; "
                        "send to one instance id"
                    )
                instance_id = ids[0]
            inst = wfsvc.lock_instance(session, instance_id)
            if inst is None:
                raise NotFound(f"no instance {instance_id}")
            if not (actor.is_manager or self._can_see(session, actor, inst)):
                raise Forbidden("you have no role in this case")
            waiting = session.get(MessageWait, (inst.id, name))
            if waiting is None or inst.status in ("suspended", "cancelled", "completed"):
                raise Conflict(f"instance {inst.id} is not waiting for the message '{name}'")
            loaded = wfsvc.load(session, inst, self.core.calendar(session))
            with wfsvc.runtime.running(loaded.runtime):
                try:
                    loaded.workflow.send_event(BpmnEvent(MessageEventDefinition(name), payload=data))
                except Exception as exc:
                    raise Conflict(f"instance {inst.id} did not accept '{name}': {exc}") from None
                session.add(
                    AuditEvent(
                        instance_id=inst.id,
                        at=now,
                        actor=actor.username,
                        kind="message_received",
                        detail={"name": name, "data": data},
                    )
                )
                error = wfsvc.run_engine(loaded.workflow)
                self._persist(session, loaded, actor.username, error)
            return {"instance_id": inst.id, "status": inst.status}

    # --- timers -------------------------------------------------------------------------------
    def fire_due_timers(self, limit: int = 100, stop=None) -> list[int]:
        """Fire the timers that are due, one transaction per instance; cost grows with due timers only.

        Whatever one case raises (it cannot be loaded, a step cannot be saved, diagram code exits) is
        contained to that case: it is put in the incident state, out of later sweeps, and the sweep
        goes on with the others. ``stop`` (a ``threading.Event``) ends the sweep between two cases.
        """
        now = clock.now()
        with self.core.db.reading() as session:
            ids = list(
                session.scalars(
                    select(Instance.id)
                    .where(Instance.next_timer_at <= now)
                    .order_by(Instance.next_timer_at)
                    .limit(limit)
                )
            )
        fired = []
        for iid in ids:
            if stop is not None and stop.is_set():
                break
            try:
                if self._fire_one(iid, now):
                    fired.append(iid)
            except (StaleDataError, Conflict):
                continue  # another worker took it
            except KeyboardInterrupt:
                raise
            except BaseException as exc:
                if unavailable(exc):  # the database failed, not the case: the next sweep tries
                    log.warning("timer sweep: database unavailable", extra={"instance_id": iid})
                    continue
                self._quarantine(iid, wfsvc.describe_error(exc), "timer")
        return fired

    def _quarantine(self, instance_id: int, reason: str, during: str) -> None:
        """Put a case that failed outside any step in the incident state: status ``error`` with its reason,
        no timer due (so no sweep retries it), audited; a manager retries or cancels it."""
        now = clock.now()
        log.error("case failed", extra={"instance_id": instance_id, "during": during, "error": reason[:500]})
        try:
            with self.core.db.transaction() as session:
                inst = wfsvc.lock_instance(session, instance_id)
                if inst is None or inst.status in ("completed", "cancelled"):
                    return
                inst.status, inst.error, inst.failed_at, inst.next_timer_at = (
                    "error",
                    reason[:4000],
                    now,
                    None,
                )
                inst.updated_at = now
                session.add(
                    AuditEvent(
                        instance_id=inst.id,
                        at=now,
                        actor="system",
                        kind="case_failed",
                        detail={"during": during, "error": reason[:4000]},
                    )
                )
        except Exception:  # the database itself is failing: the next sweep tries again
            log.exception("could not record a failed case", extra={"instance_id": instance_id})

    def _fire_one(self, instance_id: int, now: dt.datetime) -> bool:
        with self.core.db.transaction() as session:
            stmt = select(Instance).where(Instance.id == instance_id, Instance.next_timer_at <= now)
            if session.bind.dialect.name == "postgresql":
                stmt = stmt.with_for_update(skip_locked=True)
            inst = session.execute(stmt).scalar_one_or_none()
            if inst is None or inst.status != "running":
                return False
            loaded = wfsvc.load(session, inst, self.core.calendar(session))
            before = {
                str(t.id): t.task_spec.bpmn_id
                for t in loaded.workflow.get_tasks(state=TaskState.WAITING)
                if wfsvc._is_timer(t)
            }
            with wfsvc.runtime.running(loaded.runtime):
                error = wfsvc.run_engine(loaded.workflow)
                fired = [
                    el
                    for tid, el in before.items()
                    if (t := wfsvc.task_by_id(loaded.workflow, tid)) is None or t.state != TaskState.WAITING
                ]
                session.add(
                    AuditEvent(
                        instance_id=inst.id,
                        at=now,
                        actor="system",
                        kind="timer_fired",
                        detail={"timers": sorted(fired)},
                    )
                )
                self._persist(session, loaded, "system", error)
            return True

    def recompute_deadlines(self, day: dt.date) -> list[int]:
        """After the calendar changed on ``day``: move every pending deadline whose count crosses it.

        A new one-off bank holiday (or a cancelled one) changes statutory due dates already armed;
        each affected case is recomputed in its own transaction and the move is audited.
        """
        with self.core.db.reading() as session:
            ids = sorted(
                set(
                    session.scalars(
                        select(Deadline.instance_id).where(
                            Deadline.status.in_(
                                ("pending", "planned")
                            ),  # planned: due, its timer not armed yet
                            ((Deadline.anchor_date <= day) & (Deadline.due_date >= day))
                            | ((Deadline.due_date <= day) & (Deadline.anchor_date >= day)),
                        )
                    )
                )
            )
        moved = []
        for iid in ids:
            try:
                if self._recompute_one(iid):
                    moved.append(iid)
            except (StaleDataError, Conflict):
                continue
            except KeyboardInterrupt:
                raise
            except BaseException as exc:  # one bad case never stops the others moving
                if unavailable(exc):
                    raise  # the change is not finished: the caller is told
                self._quarantine(iid, wfsvc.describe_error(exc), "calendar change")
        return moved

    def _recompute_one(self, instance_id: int) -> bool:
        with self.core.db.transaction() as session:
            inst = wfsvc.lock_instance(session, instance_id)
            if inst is None or inst.status not in ("running", "error", "suspended"):
                return False
            loaded = wfsvc.load(session, inst, self.core.calendar(session))
            with wfsvc.runtime.running(loaded.runtime):
                rearmed = wfsvc.rearm_deadline_timers(loaded.workflow)
                planned = session.scalars(
                    select(Deadline.id)
                    .where(Deadline.instance_id == inst.id, Deadline.status == "planned")
                    .limit(1)
                ).first()
                if not rearmed and planned is None:
                    return False
                loaded.workflow.refresh_timers()
                error = wfsvc.run_engine(loaded.workflow) if inst.status == "running" else None
                self._persist(session, loaded, "system", error)
            return True

    # --- operator actions ---------------------------------------------------------------------
    @_command
    def retry(self, instance_id: int, actor: Actor, reason: str = "") -> dict:
        if not actor.is_manager:
            raise Forbidden("only a manager may retry a failed step")
        now = clock.now()
        with self.core.db.transaction() as session:
            inst = wfsvc.lock_instance(session, instance_id)
            if inst is None:
                raise NotFound(f"no instance {instance_id}")
            if inst.status != "error":
                raise Conflict(f"instance {instance_id} has no failed step (status {inst.status})")
            loaded = wfsvc.load(session, inst, self.core.calendar(session))
            failed = list(loaded.workflow.get_tasks(state=TaskState.ERROR))
            with wfsvc.runtime.running(loaded.runtime):
                for t in failed:
                    t.reset_branch(None)
                error = wfsvc.run_engine(loaded.workflow)
                self._persist(session, loaded, actor.username, error)
            session.add(
                AuditEvent(
                    instance_id=inst.id,
                    at=now,
                    actor=actor.username,
                    kind="retried",
                    detail={"steps": [t.task_spec.bpmn_id for t in failed], "reason": reason, "error": error},
                )
            )
            return {"instance_id": inst.id, "status": inst.status, "error": inst.error}

    @_command
    def set_status(self, instance_id: int, action: str, actor: Actor, reason: str) -> dict:
        """cancel, suspend or resume, always with a reason for the audit log."""
        if not actor.is_manager:
            raise Forbidden("only a manager may cancel, suspend or resume a case")
        if not reason or not reason.strip():
            raise Invalid("give a reason", [{"path": "reason", "message": "required"}])
        now = clock.now()
        with self.core.db.transaction() as session:
            inst = wfsvc.lock_instance(session, instance_id)
            if inst is None:
                raise NotFound(f"no instance {instance_id}")
            allowed = {
                "cancel": ("running", "error", "suspended"),
                "suspend": ("running", "error"),
                "resume": ("suspended",),
            }
            if action not in allowed:
                raise BadRequest(f"unknown action '{action}'")
            if inst.status not in allowed[action]:
                raise Conflict(f"cannot {action} a case that is {inst.status}")
            if action == "cancel":
                # its pending deadlines are cancelled first: saving the cancelled workflow must not count them
                # met
                session.execute(
                    update(Deadline)
                    .where(Deadline.instance_id == inst.id, Deadline.status == "pending")
                    .values(status="cancelled", closed_at=now)
                )
                # and those it had not armed yet will never run (saved below too, unless the case cannot be
                # opened)
                session.execute(
                    delete(Deadline).where(Deadline.instance_id == inst.id, Deadline.status == "planned")
                )
                try:
                    loaded = wfsvc.load(session, inst, self.core.calendar(session))
                except wfsvc.CaseUnreadable:  # a case that cannot be opened can still be closed
                    loaded = None
                if loaded is not None:
                    loaded.workflow.cancel()
                    wfsvc.save(session, loaded, actor.username)
                inst.status, inst.next_timer_at, inst.completed_at = "cancelled", None, now
                session.execute(
                    update(HumanTask)
                    .where(HumanTask.instance_id == inst.id, HumanTask.state == "open")
                    .values(state="cancelled", completed_at=now)
                )
                session.query(MessageWait).filter(MessageWait.instance_id == inst.id).delete()
                inst.waiting_messages, inst.open_deadlines = [], 0
                wfsvc.close_projections(session, inst)
            elif action == "suspend":
                inst.status, inst.next_timer_at = "suspended", None
            else:
                loaded = wfsvc.load(session, inst, self.core.calendar(session))
                inst.status = "running"
                with wfsvc.runtime.running(loaded.runtime):
                    error = wfsvc.run_engine(loaded.workflow)
                    self._persist(session, loaded, actor.username, error)
            inst.updated_at = now
            session.add(
                AuditEvent(
                    instance_id=inst.id, at=now, actor=actor.username, kind=action, detail={"reason": reason}
                )
            )
            return {"instance_id": inst.id, "status": inst.status}

    def _can_see(self, session, actor: Actor, inst: Instance) -> bool:
        if actor.is_manager:
            return True
        roles = sorted(actor.case_roles)
        return (
            session.scalars(
                select(HumanTask.id)
                .where(HumanTask.instance_id == inst.id, HumanTask.role.in_(roles))
                .limit(1)
            ).first()
            is not None
        )
