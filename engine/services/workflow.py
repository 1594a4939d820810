"""Load an instance's workflow, run engine steps, and write it back with its projections.

This is the heart of "one command, one transaction": every command that moves a
workflow (start, complete a task, deliver a message, fire timers, retry) goes
through :func:`load` and :func:`save` inside one database transaction, so the
serialized state, the task list, the deadlines, the message routing table, the
due-timer column, the outbox and the audit log always change together or not at all.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from types import SimpleNamespace
from uuid import UUID

from SpiffWorkflow.bpmn.specs.control import BoundaryEventSplit
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.end_event import EndEvent
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent
from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import BoundaryEvent
from SpiffWorkflow.bpmn.specs.mixins.user_task import UserTask
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import bindparam, delete, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from engine import agencies as directory
from engine import clock
from engine.bpmn import compaction, runtime, serializer
from engine.calendar import WorkingDayCalendar
from engine.rules import RuleSet, recorded_date
from engine.services import audit, immutable, live_workflows, queued_mail, task_mail
from engine.services.case_search import child_initials
from engine.statuses import OPEN_CASE, CaseStatus, DeadlineStatus, TaskStatus
from engine.store import driver, writes
from engine.store.db import database_key, on_commit
from engine.store.models import (
    Deadline,
    DeadlineTally,
    HumanTask,
    Instance,
    InstanceStep,
    MessageWait,
    OutboxMessage,
    ProcessVersion,
    RuleSetVersion,
)

OPEN_STATUSES = OPEN_CASE  # "waiting" was never set
SUMMARY_KEYS = (
    "regime",
    "ruleset",
    "case_reference",
    "child_initials",
    "date_aware",
    "notification_date",
    "decision_date",
    "publication_date",
)
MAX_STEP_ROUNDS = 100
# The case data a step may leave behind, measured uncompressed (documents belong elsewhere): bigger data
# would be stored compressed and then served, loaded and copied whole on every command and page.
MAX_CASE_DATA_BYTES = 1024 * 1024
# ... and how deeply it may nest: the saved state must load again, and loading recurses per level.
MAX_CASE_DATA_DEPTH = 64


@dataclass(frozen=True)
class VersionInfo:
    """What a command needs of a process version; versions never change, so this is cached."""

    id: int
    process_id: str
    version: int
    forms: dict
    spec: object
    subprocess_specs: dict
    start_roles: tuple[str, ...] = ()  # who may start it directly (a hand-over always may)
    start_form: str | None = None  # the form a direct start's data must satisfy
    regimes: tuple[str, ...] = ()  # the rule sets its cases may run under (empty: any)


def _start_declaration(bpmn: bytes, file: str, process_id: str) -> tuple[tuple[str, ...], str | None, tuple]:
    """Read who may start the process, with which form and under which rule sets, from its diagram
    (versions deployed before a declaration existed are read the same way)."""
    from engine import xmlsafe
    from engine.bpmn import bpmn_xml

    proc = xmlsafe.parse(bpmn, file).find(f"bpmn:process[@id='{process_id}']", bpmn_xml.NS)
    if proc is None:
        return (), None, ()
    return tuple(bpmn_xml.start_roles(proc)), bpmn_xml.start_form(proc), bpmn_xml.run_regimes(proc)


def version_info(session: Session, version_id: int) -> VersionInfo:
    """What a command needs of a process version, read once per process (versions never change)."""
    key = (database_key(session), version_id)

    def read() -> VersionInfo:
        row = session.execute(
            select(
                ProcessVersion.process_id,
                ProcessVersion.version,
                ProcessVersion.forms,
                ProcessVersion.spec_json,
                ProcessVersion.bpmn,
                ProcessVersion.file,
            ).where(ProcessVersion.id == version_id)
        ).one()
        spec, subs = serializer.SPECS.get(key, row.spec_json)
        return VersionInfo(
            version_id,
            row.process_id,
            row.version,
            row.forms,
            spec,
            subs,
            *_start_declaration(row.bpmn, row.file, row.process_id),
        )

    return immutable.cached(immutable.Key(("version", *key), read))


@dataclass
class Loaded:
    """A case opened by a command: its row, its process version, its workflow and what its steps record; and
    the rows of its open tasks and deadlines once read (each is read at most once per command)."""

    instance: Instance
    version: VersionInfo
    workflow: object
    runtime: runtime.RuntimeContext
    open_tasks: dict[str, HumanTask] | None = None
    deadline_rows: list[Deadline] | None = None
    timers_at_load: frozenset[str] | None = None  # the timers waiting when it was opened (None: a new case)
    people_revision: int | None = None  # as the command's first query read it (None: read when needed)
    calendar_revision: int | None = None  # of the calendar the command counted with, when it read it
    # the open task rows once saved (objects, and rows added as plain values), for what the case is known as
    open_after_save: list | None = None


def case_deadlines(session: Session, loaded: Loaded) -> list[Deadline]:
    """The case's deadline rows, oldest first, read once per command (a form's checks and the save share
    them)."""
    if loaded.deadline_rows is None:
        loaded.deadline_rows = list(
            session.scalars(
                select(Deadline).where(Deadline.instance_id == loaded.instance.id).order_by(Deadline.id)
            )
        )
    return loaded.deadline_rows


def _deadlines_that_can_change(session: Session, loaded: Loaded) -> list[Deadline]:
    """The rows a save may change or counts from: pending, missed and planned, and any row of a timer armed
    in this command. A met or cancelled deadline never changes again, and a case that loops (a progress
    review every week) gathers one a round, so they are not read: a step costs the same after 200 rounds as
    after 1. The rows a form's checks read first (:func:`case_deadlines`, every row) serve as well."""
    if loaded.deadline_rows is not None:
        return loaded.deadline_rows
    armed = [d.task_id for d in loaded.runtime.deadlines]
    return list(session.scalars(_CAN_CHANGE, {"case": loaded.instance.id, "armed": armed}))


_CAN_CHANGE = (
    select(Deadline)
    .where(
        Deadline.instance_id == bindparam("case"),
        Deadline.status.in_((DeadlineStatus.PENDING, DeadlineStatus.MISSED, DeadlineStatus.PLANNED))
        | Deadline.timer_task_id.in_(bindparam("armed", expanding=True)),
    )
    .order_by(Deadline.id)
)


def ruleset_for(session: Session, ruleset_version_id: int | None) -> RuleSet | None:
    if ruleset_version_id is None:
        return None
    return immutable.cached(
        immutable.Key(
            ("ruleset", database_key(session), ruleset_version_id),
            lambda: RuleSet.from_dict(session.get(RuleSetVersion, ruleset_version_id).content),
        )
    )


def lock_instance(session: Session, instance_id: int) -> Instance | None:
    stmt = select(Instance).where(Instance.id == instance_id)
    if session.bind.dialect.name != "postgresql":  # SQLite: the transaction began IMMEDIATE, writers wait
        return session.execute(stmt).scalar_one_or_none()
    row = session.execute(stmt.add_columns(Instance.lock_version).with_for_update()).one_or_none()
    if row is None:
        return None
    inst, version = row
    if inst.lock_version == version:  # not an object read earlier from a row changed since (then: checked)
        writes.hold(session, inst)
    return inst


class CaseUnreadable(Exception):
    """The case's saved state cannot be turned back into a workflow (or its process version is gone)."""

    def __init__(self, instance_id: int, message: str):
        super().__init__(message)
        self.instance_id = instance_id


def read_state(session: Session, instance: Instance, reuse: bool = False):
    """The case's workflow; any failure to rebuild it, ``RecursionError`` included, is a
    :class:`CaseUnreadable` that names the case, so a caller can contain it to that case. With ``reuse``, a
    command takes the workflow the last command on the case saved, if it is still what is stored
    (engine/services/live_workflows.py); it hands it back with :func:`keep_when_committed`."""
    try:
        version = version_info(session, instance.process_version_id)
        if reuse and (workflow := live_workflows.take(_live_key(session, instance), instance.state)):
            return version, workflow
        return version, serializer.load_state(instance.state, version.spec, version.subprocess_specs)
    except (KeyboardInterrupt, SQLAlchemyError):  # the database failing is not the case's fault
        raise
    except BaseException as exc:
        raise CaseUnreadable(
            instance.id, f"case {instance.id} cannot be opened: {describe_error(exc)}"
        ) from None


def load(
    session: Session,
    instance: Instance,
    calendar: WorkingDayCalendar,
    open_tasks: dict[str, HumanTask] | None = None,
    recipients=None,
    agencies=None,
    base_url: str | None = None,
    reuse: bool = False,
) -> Loaded:
    """Open the case; ``open_tasks`` are its open task rows when the caller's first query read them,
    ``recipients`` the named recipients its handlers address messages with, ``agencies`` the directory its
    requests to agencies are addressed from (each read when first asked, engine/services/directories.py),
    ``base_url`` the service's address for the links in e-mails about new tasks; ``reuse`` as for
    :func:`read_state`."""
    version, workflow = read_state(session, instance, reuse)
    rt = runtime.RuntimeContext(
        instance.id,
        instance.business_key,
        ruleset_for(session, instance.ruleset_version_id),
        calendar,
        recipients=recipients,
        agencies=agencies,
        base_url=base_url,
    )
    return Loaded(instance, version, workflow, rt, open_tasks, timers_at_load=_waiting_timer_ids(workflow))


def _live_key(session: Session, instance: Instance) -> tuple:
    return (database_key(session), instance.id, instance.process_version_id)


def keep_when_committed(session: Session, loaded: Loaded) -> None:
    """Once the command's transaction commits, keep the workflow it saved for the next command on the case,
    and what the command then knew of the case (:func:`_known`); call after :func:`save`, with nothing
    changing the workflow after it."""
    key, state, workflow = _live_key(session, loaded.instance), loaded.instance.state, loaded.workflow
    on_commit(session, lambda: live_workflows.keep(key, state, workflow, _known(loaded)))


def _known(loaded: Loaded) -> live_workflows.Known | None:
    """The case as the committed command left it (its row as written, with its new version, and its open
    task rows), and the revisions it counted with; None when the command did not read them all."""
    if loaded.calendar_revision is None or loaded.people_revision is None or loaded.open_after_save is None:
        return None
    instance = driver.values_of(loaded.instance)
    tasks = {}
    for row in loaded.open_after_save:
        added = isinstance(row, dict)
        values = driver.row_values(HumanTask, row) if added else driver.values_of(row)
        if values is None:
            return None
        tasks[row["id"] if added else row.id] = values
    if instance is None or not tasks:
        return None
    return live_workflows.Known(instance, tasks, loaded.calendar_revision, loaded.people_revision)


def _waiting_timer_ids(workflow) -> frozenset[str]:
    return frozenset(str(t.id) for t in _all_tasks(workflow) if t.state == TaskState.WAITING and _is_timer(t))


class StepFailed(Exception):
    """An automatic step (script, service task, DMN) raised; the task is left in ERROR for retry."""


class CaseTooLarge(Exception):
    """A step left more case data than :data:`MAX_CASE_DATA_BYTES`, or nested deeper than
    :data:`MAX_CASE_DATA_DEPTH`; the step is not kept."""


def check_case_data(data: dict) -> None:
    """Refuse case data that could not be stored, loaded and served again cheaply."""
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_CASE_DATA_DEPTH:
            raise CaseTooLarge(
                f"the step left case data nested more than {MAX_CASE_DATA_DEPTH} levels deep; "
                "that is the limit"
            )
        children = (
            value.values() if isinstance(value, dict) else value if isinstance(value, (list, tuple)) else ()
        )
        for child in children:
            if isinstance(child, (dict, list, tuple)):
                stack.append((child, depth + 1))
    size = len(json.dumps(data, default=str))
    if size > MAX_CASE_DATA_BYTES:
        raise CaseTooLarge(f"the step left {size:,} bytes of case data; the limit is {MAX_CASE_DATA_BYTES:,}")


def run_engine(workflow) -> str | None:
    """Fire due timers and run every automatic step; returns an error message if a step failed."""
    try:
        for _ in range(MAX_STEP_ROUNDS):
            workflow.refresh_timers()
            workflow.do_engine_steps()
            if not workflow.get_tasks(state=TaskState.READY, manual=False):
                break
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # the failing task is in ERROR; its effects were never recorded
        return describe_error(exc)
    return None


def describe_error(exc: BaseException) -> str:
    task = getattr(exc, "task", None)
    where = f"{task.task_spec.bpmn_id}: " if task is not None and getattr(task, "task_spec", None) else ""
    inner = getattr(exc, "exception", None)
    text = str(exc)
    if inner is not None and str(inner) not in text:
        text = f"{text} ({type(inner).__name__}: {inner})"
    return f"{where}{text}"[:4000]


# --- projections --------------------------------------------------------------------------------


def _chain(task):
    """The task, then its ancestors, continuing from a subprocess into the task that called it."""
    top = task.workflow.top_workflow
    while task is not None:
        yield task
        if task.parent is not None:
            task = task.parent
        elif task.workflow is not top:
            task = top.get_task_from_id(task.workflow.parent_task_id)
        else:
            task = None


def _attached_timer_ids(task) -> list[str]:
    """The timers on the boundary of ``task`` (or of the call activity it runs in), waiting or fired."""
    out = []
    for t in _chain(task):
        if t.parent is not None and isinstance(t.parent.task_spec, BoundaryEventSplit):
            for sibling in t.parent.children:
                fired_on_open_host = (
                    sibling.state in (TaskState.READY, TaskState.COMPLETED) and t.state != TaskState.COMPLETED
                )  # not a host finished in an earlier loop
                if (
                    sibling is not t
                    and _is_timer(sibling)
                    and (sibling.state == TaskState.WAITING or fired_on_open_host)
                ):
                    out.append(str(sibling.id))
    return out


def _role_of(task, props: dict, agencies=None) -> str:
    """The lane, or a narrower role computed by the task's ``roleExpression`` property (for example
    ``"Agency: " + agency`` on a per-agency request, so each agency sees only its own). Where ``agency`` is
    a key of the partnership's directory (``police``), the role is that agency's own (``Agency: Police``)."""
    expression = props.get("roleExpression")
    if expression:
        value = task.workflow.script_engine.evaluate(task, expression)
        if isinstance(value, str) and value.strip():
            role = value.strip()
            if agencies is not None and role.startswith(directory.ROLE_PREFIX):
                agency = directory.resolve(agencies).get(role[len(directory.ROLE_PREFIX) :].strip())
                role = agency.role if agency else role
            return role[:120]
    return task.task_spec.lane or ""


def _is_timer(task) -> bool:
    return isinstance(getattr(task.task_spec, "event_definition", None), TimerEventDefinition)


def timer_value(task) -> dt.datetime | None:
    value = task.internal_data.get("event_value")
    if isinstance(value, dict):
        value = value.get("next")
    if not value:
        return None
    try:
        return TimerEventDefinition.get_datetime(value).astimezone(clock.UTC)
    except (TypeError, ValueError):
        return None


def _all_tasks(workflow):
    yield from workflow.tasks.values()
    for sub in workflow.subprocesses.values():
        yield from sub.tasks.values()


def save(session: Session, loaded: Loaded, actor: str, error: str | None = None) -> None:
    """Write state and every projection for the instance; the caller's transaction commits."""
    with session.no_autoflush:
        _save(session, loaded, actor, error)


def _save(session: Session, loaded: Loaded, actor: str, error: str | None) -> None:
    inst, wf, rt = loaded.instance, loaded.workflow, loaded.runtime
    now = clock.now()
    steps_before = _open_steps(inst)
    outcomes: dict[tuple[str, dt.date], list] = {}  # deadlines met and missed now, for the daily tally
    data = current_data(wf)
    check_case_data(data)
    tasks = list(_all_tasks(wf))
    by_id = {str(t.id): t for t in tasks}

    ready = [t for t in tasks if t.state == TaskState.READY and isinstance(t.task_spec, UserTask)]
    open_rows = loaded.open_tasks
    if open_rows is None:
        open_rows = {
            h.id: h
            for h in session.scalars(
                select(HumanTask).where(HumanTask.instance_id == inst.id, HumanTask.state == TaskStatus.OPEN)
            )
        }

    # deadlines armed during this command, those still pending, and (for the task list) those missed
    # on a step still open; read only when something about them can have changed
    existing = {}
    deadlines_loaded = loaded.deadline_rows is not None or _deadlines_may_change(
        loaded, tasks, ready, open_rows
    )
    if deadlines_loaded:
        existing = {d.timer_task_id: d for d in _deadlines_that_can_change(session, loaded)}
    for armed in rt.deadlines:
        if armed.task_id in existing:
            row = existing[armed.task_id]
            if row.status == DeadlineStatus.PENDING and (row.due_date, row.fires_at) != (
                armed.due_date,
                armed.fires_at,
            ):
                _audit_deadline(
                    session,
                    row,
                    "deadline_moved",
                    actor,
                    now,
                    before=row.due_date.isoformat(),
                    after=armed.due_date.isoformat(),
                    **rt.extensions.get(armed.task_id, {}),
                )
                row.due_date, row.fires_at, row.on_working_day = (
                    armed.due_date,
                    armed.fires_at,
                    armed.on_working_day,
                )
            continue
        row = Deadline(
            instance_id=inst.id,
            timer_task_id=armed.task_id,
            element_id=armed.element_id,
            key=armed.key,
            name=armed.name,
            source=armed.source,
            anchor_date=armed.anchor_date,
            due_date=armed.due_date,
            on_working_day=armed.on_working_day,
            fires_at=armed.fires_at,
            status=DeadlineStatus.PENDING,
        )
        session.add(row)
        existing[armed.task_id] = row
        if loaded.deadline_rows is not None:
            loaded.deadline_rows.append(row)
    for row in existing.values():
        if row.status == DeadlineStatus.MISSED and row.recorded_date is None:
            _judge_missed_on_recorded_date(
                session, inst, row, by_id.get(row.timer_task_id), rt.ruleset, data, outcomes, actor, now
            )
            continue
        if row.status != DeadlineStatus.PENDING:
            continue
        timer = by_id.get(row.timer_task_id)
        if timer is not None and timer.state == TaskState.WAITING:
            continue
        recorded = _recorded_when_done(timer, rt.ruleset, row.key, data)
        if recorded is not None:  # the act's own date decides (003 §3.4, §4.6, §7.7)
            met = recorded <= row.due_date
            _close_deadline(session, row, met, actor, now, outcomes, recorded)
        elif timer is not None and timer.state in (TaskState.READY, TaskState.COMPLETED):
            _close_deadline(session, row, False, "system", now, outcomes)  # its timer fired
        else:
            _close_deadline(session, row, True, actor, now, outcomes)  # its step ended before the timer
    if deadlines_loaded:  # otherwise none changed
        inst.open_deadlines = sum(1 for d in existing.values() if d.status == DeadlineStatus.PENDING)
    # a step shows its most urgent deadline: one it has already missed, else the earliest pending
    not_met = {
        d.timer_task_id: d
        for d in existing.values()
        if d.status in (DeadlineStatus.PENDING, DeadlineStatus.MISSED)
    }

    # the task list
    ready_ids = set()
    open_dues = []  # the due dates of the tasks left open
    created = []  # the tasks this command creates, whose people are e-mailed
    for t in ready:
        tid = str(t.id)
        ready_ids.add(tid)
        dues = [not_met[i] for i in _attached_timer_ids(t) if i in not_met]
        first = min(dues, key=lambda d: d.due_date) if dues else None
        if tid in open_rows:
            row = open_rows[tid]
            if deadlines_loaded:  # otherwise nothing about its deadlines changed
                row.due_date, row.deadline_key = (first.due_date, first.key) if first else (None, None)
            open_dues.append(row.due_date)
            continue
        open_dues.append(first.due_date if first else None)
        props = (t.task_spec.extensions or {}).get("properties", {})
        created.append(
            {
                "id": tid,
                "instance_id": inst.id,
                "process_id": inst.process_id,
                "element_id": t.task_spec.bpmn_id,
                "name": (t.task_spec.bpmn_name or t.task_spec.bpmn_id)[:255],
                "role": _role_of(t, props, loaded.runtime.agencies),
                "form": props.get("formJsonSchemaFilename"),
                "ui_form": props.get("formUiSchemaFilename"),
                "documentation": t.task_spec.documentation,
                "state": TaskStatus.OPEN,
                "assignee": None,
                "due_date": first.due_date if first else None,
                "deadline_key": first.key if first else None,
                "created_at": now,
            }
        )
    if created:  # plain INSERTs: this command reads no new task back as an object
        writes.later(session, writes.Write(HumanTask.__table__, rows=created))
        task_mail.tasks_created(
            session,
            [SimpleNamespace(**row) for row in created],  # read only: no ORM object needed
            inst.business_key,
            rt.base_url,
            actor,
            now,
            loaded.people_revision,
        )
    for tid, row in open_rows.items():
        if tid in ready_ids:
            continue
        t = by_id.get(tid)
        if t is not None and t.state == TaskState.COMPLETED:
            row.state, row.completed_at = TaskStatus.COMPLETED, now
            row.completed_by = row.completed_by or actor
        else:
            row.state, row.completed_at = TaskStatus.CANCELLED, now

    # message routing (rewritten only when what the instance waits for changed)
    names = sorted({e.name for e in wf.waiting_events() if "Message" in e.event_type and e.name})
    if names != (inst.waiting_messages or []):
        kept = sorted(set(names) & set(inst.waiting_messages or []))  # still waited for: since stays
        session.execute(
            delete(MessageWait).where(MessageWait.instance_id == inst.id, MessageWait.name.not_in(kept))
        )
        for name in names:
            if name not in kept:
                session.add(MessageWait(instance_id=inst.id, name=name, since=now))
        inst.waiting_messages = names

    # the outbox
    if rt.messages:
        keys = [m.key for m in rt.messages]
        taken = set(session.scalars(select(OutboxMessage.key).where(OutboxMessage.key.in_(keys))))
        for m in rt.messages:
            if m.key in taken:
                continue
            taken.add(m.key)
            queued_mail.queue(
                session,
                key=m.key,
                instance_id=inst.id,
                recipient=m.recipient,
                subject=m.subject,
                body=m.body,
                template=m.template,
                actor=actor,
                at=now,
            )
        rt.messages.clear()
    rt.deadlines.clear()
    rt.extensions.clear()

    # the instance row
    waiting_timers = [
        v
        for t in tasks
        if t.state == TaskState.WAITING
        and _is_timer(t)
        and isinstance(t.task_spec, CatchingEvent)
        and (v := timer_value(t)) is not None
    ]
    errored = [t for t in tasks if t.state == TaskState.ERROR]
    if wf.is_completed():
        inst.status, inst.completed_at = CaseStatus.COMPLETED, inst.completed_at or now
    elif errored or error:
        inst.status = CaseStatus.ERROR
    elif inst.status not in (CaseStatus.SUSPENDED, CaseStatus.CANCELLED):
        inst.status = CaseStatus.RUNNING
    inst.error = error if (errored or error) else None
    inst.failed_at = (inst.failed_at or now) if inst.status == CaseStatus.ERROR else None
    inst.next_timer_at = min(waiting_timers) if waiting_timers and inst.status == CaseStatus.RUNNING else None
    inst.active_steps = sorted(
        {
            t.task_spec.bpmn_name or t.task_spec.bpmn_id
            for t in tasks
            if t.state in (TaskState.READY, TaskState.ERROR) and isinstance(t.task_spec, UserTask)
        }
        | {t.task_spec.bpmn_name or t.task_spec.bpmn_id for t in tasks if t.state == TaskState.ERROR}
    )
    inst.summary = {k: data[k] for k in SUMMARY_KEYS if data.get(k) is not None}
    if "child_initials" not in inst.summary and (initials := child_initials(data)):
        inst.summary["child_initials"] = initials  # the case list searches them (services/case_search.py)
    compaction.compact(
        wf,
        keep={
            d.timer_task_id
            for d in existing.values()
            if d.status in (DeadlineStatus.PENDING, DeadlineStatus.MISSED) and d.recorded_date is None
        },
    )
    inst.state = serializer.dump_state(wf)
    inst.updated_at = now

    # the statutory clocks the case will still start (003 §3.4-§4.6): shown from day 0, and counted in
    # next_due
    planned = []
    if deadlines_loaded:
        inst.pending_keys = sorted({d.key for d in existing.values() if d.status == DeadlineStatus.PENDING})
    if rt.ruleset is not None:
        from engine.services import statutory

        planned = statutory.planned_deadlines(
            session,
            inst.process_version_id,
            wf,
            rt.ruleset,
            data,
            rt.calendar,
            armed=set(inst.pending_keys or ()),
        )
        digest = statutory.rows_digest(planned)
        if (
            deadlines_loaded or digest != inst.planned_digest
        ):  # the planned rows are rewritten only on a change
            statutory.sync_rows(session, inst.id, planned, existing.values() if deadlines_loaded else None)
        inst.planned_digest = digest

    # what the managers' reports read
    if deadlines_loaded:  # otherwise no deadline changed its status
        missed = [d.due_date for d in existing.values() if d.status == DeadlineStatus.MISSED]
        inst.missed_due = min(missed) if missed else None
    inst.next_due = min((d for d in open_dues + [p.due_date for p in planned] if d is not None), default=None)
    project_steps(session, inst, steps_before)
    tally_outcomes(session, outcomes)
    loaded.open_after_save = [row for row in open_rows.values() if row.state == TaskStatus.OPEN] + created
    loaded.open_tasks = None  # rows were added and closed: a later save reads them again


def _deadlines_may_change(loaded: Loaded, tasks: list, ready: list, open_rows: dict) -> bool:
    """Whether this command can have changed any of the case's deadline rows, so that they must be read: a
    deadline armed or moved, a timer that was waiting has fired or gone (its deadline is met or missed), a
    deadline already missed whose step may now record its act's date, a new task whose due date comes from a
    waiting timer, or a case whose pending keys were never recorded. Otherwise its rows stay as they are."""
    inst = loaded.instance
    if loaded.runtime.deadlines or inst.missed_due is not None or loaded.timers_at_load is None:
        return True
    if not inst.open_deadlines:
        return False
    if inst.pending_keys is None:
        return True
    waiting_now = {str(t.id) for t in tasks if t.state == TaskState.WAITING and _is_timer(t)}
    if loaded.timers_at_load - waiting_now:
        return True
    return any(str(t.id) not in open_rows and _attached_timer_ids(t) for t in ready)


def _close_deadline(
    session: Session,
    row: Deadline,
    met: bool,
    actor: str,
    now: dt.datetime,
    outcomes: dict,
    recorded: dt.date | None = None,
) -> None:
    """A pending deadline is met or missed now: its row, the day's tally and the audit log (with the date the
    act was recorded, when that decided it)."""
    row.status, row.closed_at = (DeadlineStatus.MET if met else DeadlineStatus.MISSED), now
    if recorded is not None:
        row.recorded_date = recorded
    outcomes.setdefault((row.key, row.due_date), [row.name, 0, 0])[1 if met else 2] += 1
    recorded_date = {"recorded_date": recorded.isoformat()} if recorded is not None else {}
    _audit_deadline(
        session, row, f"deadline_{row.status}", actor, now, due_date=row.due_date.isoformat(), **recorded_date
    )


def _audit_deadline(
    session: Session, row: Deadline, kind: str, actor: str, now: dt.datetime, **detail
) -> None:
    """An audit row about one deadline of a case: its key first, then what happened to it."""
    audit.record(
        session,
        kind,
        actor,
        instance_id=row.instance_id,
        at=now,
        element_id=row.element_id,
        detail={"key": row.key, **detail},
    )


def _recorded_when_done(timer, ruleset: RuleSet | None, key: str, data: dict) -> dt.date | None:
    """The date the guarded act was recorded as done, once the step the deadline's timer guards has
    completed and the rule says where that date is (``recorded_by``); None otherwise."""
    rule = ruleset.rules.get(key) if ruleset is not None else None
    if (
        rule is None
        or not rule.recorded_by
        or timer is None
        or timer.parent is None
        or not isinstance(timer.parent.task_spec, BoundaryEventSplit)
    ):
        return None
    host = next((t for t in timer.parent.children if not isinstance(t.task_spec, BoundaryEvent)), None)
    if host is None or host.state != TaskState.COMPLETED:
        return None
    return recorded_date(rule, data)


def _judge_missed_on_recorded_date(
    session: Session,
    inst: Instance,
    row: Deadline,
    timer,
    ruleset,
    data: dict,
    outcomes: dict,
    actor: str,
    now: dt.datetime,
) -> None:
    """A deadline whose timer fired (and escalated) is met after all when the step completes with the act
    recorded on or before the due date: the act's date decides, not when the form was submitted."""
    recorded = _recorded_when_done(timer, ruleset, row.key, data)
    if recorded is None:
        return
    row.recorded_date = recorded
    if recorded > row.due_date:
        return
    row.status, row.closed_at = DeadlineStatus.MET, now
    tally = outcomes.setdefault((row.key, row.due_date), [row.name, 0, 0])
    tally[1] += 1
    tally[2] -= 1
    _audit_deadline(
        session,
        row,
        "deadline_judged_on_recorded_date",
        actor,
        now,
        due_date=row.due_date.isoformat(),
        recorded_date=recorded.isoformat(),
        before="missed",
        after="met",
    )


_STEPS = InstanceStep.__table__


def project_steps(session: Session, inst: Instance, steps_before: set[str]) -> None:
    """Keep ``instance_step`` (the steps an open case stands at) and ``overdue_from`` (the day an open case
    became overdue: the day after the earliest due date of an open task or a missed deadline) in step with
    the instance row; a closed case has neither. Rows are rewritten only where a step changed."""
    is_open = inst.status in OPEN_STATUSES
    steps_now = _open_steps(inst)
    gone, new = sorted(steps_before - steps_now), sorted(steps_now - steps_before)
    # no step row is ever loaded by a command: plain writes, sent with the command's others
    while gone and new:  # the usual move, one step to the next: one row renamed in place
        old = {"instance_id": inst.id, "step": gone.pop()}
        writes.later(session, writes.Write(_STEPS, where=old, values={"step": new.pop()}))
    if gone:
        writes.later(session, writes.Write(_STEPS, where={"instance_id": inst.id, "step": gone}))
    if new:
        rows = [{"instance_id": inst.id, "step": step, "process_id": inst.process_id} for step in new]
        writes.later(session, writes.Write(_STEPS, rows=rows))
    days = [d for d in (inst.next_due, inst.missed_due) if d is not None]
    inst.overdue_from = min(days) + dt.timedelta(days=1) if is_open and days else None


def _open_steps(inst: Instance) -> set[str]:
    return {s[:255] for s in inst.active_steps or []} if inst.status in OPEN_STATUSES else set()


def close_projections(session: Session, inst: Instance) -> None:
    """A case that has just been closed outside a step (cancelled) leaves the open cases' reports."""
    session.execute(delete(InstanceStep).where(InstanceStep.instance_id == inst.id))
    inst.next_due = inst.overdue_from = None


def tally_outcomes(session: Session, outcomes: dict[tuple[str, dt.date], list]) -> None:
    """Add deadlines met and missed to the daily tally, in key order (two commands never wait on each other
    in opposite orders), each with one insert-or-add statement."""
    if not outcomes:
        return
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    table = DeadlineTally.__table__
    for (key, due), (name, met, missed) in sorted(outcomes.items()):
        stmt = insert(table).values(key=key, due_date=due, name=name, met=met, missed=missed)
        session.execute(
            stmt.on_conflict_do_update(
                index_elements=[table.c.key, table.c.due_date],
                set_={
                    "name": stmt.excluded.name,
                    "met": table.c.met + stmt.excluded.met,
                    "missed": table.c.missed + stmt.excluded.missed,
                },
            )
        )


def rearm_deadline_timers(workflow) -> list[str]:
    """Forget the fire time of every waiting timer computed from a rule set, so it is computed
    again with today's calendar (durations such as ``P5D`` keep theirs: they count from arming); returns
    the ids of the timers re-armed."""
    from engine.bpmn.bundle import deadline_calls

    rearmed = []
    for task in _all_tasks(workflow):
        if task.state == TaskState.WAITING and _is_timer(task):
            expression = getattr(task.task_spec.event_definition, "expression", "") or ""
            if any(True for _ in deadline_calls(expression)) and "event_value" in task.internal_data:
                task.internal_data.pop("event_value")
                rearmed.append(str(task.id))
    return rearmed


def rearm_extended_deadlines(workflow, rt, step, form: dict) -> int:
    """A step that records a new due date agreed for a deadline (the field its rule names in ``extended_by``;
    Bolton's S4: a timescale agreed with Ofsted, 004 "Timescales") moves that deadline: each waiting timer
    counting it takes the new date into its own data (it keeps the data of when it was armed) and forgets
    its fire time, so the next refresh arms it on the agreed date and the move is audited as
    ``deadline_moved`` with the step and its form (why, and who agreed)."""
    from engine.bpmn.bundle import deadline_calls

    if rt.ruleset is None:
        return 0
    agreed = {
        rule.key: rule.extended_by
        for rule in rt.ruleset.rules.values()
        if rule.extended_by and form.get(rule.extended_by) not in (None, "")
    }
    if not agreed:
        return 0
    count = 0
    for task in _all_tasks(workflow):
        if task.state != TaskState.WAITING or not _is_timer(task):
            continue
        keys = deadline_calls(getattr(task.task_spec.event_definition, "expression", "") or "")
        moved = sorted(
            {agreed[k] for k in keys if k in agreed and task.data.get(agreed[k]) != form[agreed[k]]}
        )
        if not moved:
            continue
        task.set_data(**{f: form[f] for f in moved})
        task.internal_data.pop("event_value", None)
        rt.extensions[str(task.id)] = {
            "extended_by": ", ".join(moved),
            "step": step.task_spec.bpmn_name or step.task_spec.bpmn_id,
            "extension": dict(form),
        }
        count += 1
    return count


def multi_instance_output(task) -> str | None:
    """The output item a multi-instance child must set (e.g. ``returned``), if it is one."""
    parent = task.parent.task_spec if task.parent is not None else None
    item = getattr(parent, "output_item", None)
    return getattr(item, "bpmn_id", None) if item is not None else None


def task_by_id(workflow, task_id: str):
    try:
        return workflow.get_task_from_id(UUID(task_id))
    except Exception:
        return None


def current_data(workflow) -> dict:
    """The case data as it stands: the data of every open branch (newest wins where they differ)
    over that of every branch that has ended, or the end data once finished. Parallel branches and
    waiting timers each hold their own copy, and a timer armed before a form was submitted holds
    an older one; a branch that ended beside others (the check on other children) keeps what it
    recorded only on its end event until the whole process ends."""
    if workflow.is_completed():
        return dict(workflow.data)
    open_states = (TaskState.READY, TaskState.WAITING, TaskState.ERROR)
    workflows = [workflow, *workflow.get_active_subprocesses()]  # a called process holds the newest data
    candidates = [t for w in workflows for t in w.tasks.values() if t.state in open_states]
    if candidates:
        # a branch that ended adds what only it recorded; what the open branches hold wins over it (an
        # ended reminder's copy of the data is as old as the step it reminded of)
        ended = [
            t
            for w in workflows
            for t in w.tasks.values()
            if t.state == TaskState.COMPLETED and isinstance(t.task_spec, EndEvent)
        ]
        merged: dict = {}
        for task in [
            *sorted(ended, key=lambda t: t.last_state_change),
            *sorted(candidates, key=lambda t: t.last_state_change),
        ]:
            merged.update(task.data)
        return merged
    last = workflow.last_task or workflow.task_tree
    return dict(last.data)
