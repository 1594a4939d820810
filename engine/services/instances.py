"""Commands that move workflow instances: start, complete a task, deliver a message,
fire due timers, retry a failed step, cancel, suspend and resume. One transaction each.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import hashlib
import inspect
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import ClassVar

from SpiffWorkflow.bpmn import BpmnEvent
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import (
    LABEL_STYLE_TABLENAME_PLUS_COL,
    LargeBinary,
    and_,
    bindparam,
    delete,
    exists,
    func,
    literal_column,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from engine import clock, filetypes, inputs, logs
from engine.bpmn import serializer
from engine.services import access, audit, directories, forms, live_workflows, outside, regimes
from engine.services import documents as document_store
from engine.services import workflow as wfsvc
from engine.services.actor import Actor
from engine.services.core import CALENDAR_REVISION, PEOPLE_REVISION, RULESETS_REVISION, Core
from engine.services.directories import AGENCIES, RECIPIENTS
from engine.services.errors import BadRequest, Conflict, Forbidden, Invalid, NotFound
from engine.statuses import OPEN_CASE, CaseStatus, DeadlineStatus, TaskStatus
from engine.store import driver, writes
from engine.store.db import unavailable
from engine.store.models import (
    Deadline,
    HumanTask,
    Instance,
    MessageWait,
    ProcessVersion,
    Revision,
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
            directories.of(self.core).follow_files()  # a seed file changed: brought in before the command
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


def _task_and_case_statement():
    """Built once (see :meth:`Instances._task_and_case`); a statement built per command costs more than
    running it. Every column of the task rows, then of the case row, then what else the command needs."""
    ht, inst = HumanTask.__table__, Instance.__table__
    task_id = bindparam("task_id")
    case_of_task = select(ht.c.instance_id).where(ht.c.id == task_id).scalar_subquery()
    return (
        select(
            ht,
            inst,
            exists().where(TaskDraft.task_id == task_id).label("has_draft"),
            CALENDAR_REVISION.scalar_subquery().label("calendar_revision"),
            PEOPLE_REVISION.scalar_subquery().label("people_revision"),
        )
        .join(inst, inst.c.id == ht.c.instance_id)
        .where(ht.c.instance_id == case_of_task, or_(ht.c.id == task_id, ht.c.state == TaskStatus.OPEN))
        .set_label_style(LABEL_STYLE_TABLENAME_PLUS_COL)
    )


_TASK_AND_CASE = _task_and_case_statement()
_PV = ProcessVersion.__table__
# what a start needs of its process's newest version (``version_info`` keeps the rest, read once a version)
_LATEST = (
    select(_PV.c.id, _PV.c.process_id, _PV.c.version, _PV.c.deadline_keys)
    .where(_PV.c.process_id == bindparam("process_id"))
    .order_by(_PV.c.version.desc())
    .limit(1)
)
_LATEST_WITH_REVISIONS = _LATEST.add_columns(
    CALENDAR_REVISION.scalar_subquery().label("calendar_revision"),
    PEOPLE_REVISION.scalar_subquery().label("people_revision"),
    RULESETS_REVISION.scalar_subquery().label("rulesets_revision"),
)
_TASK_AND_CASE_LOCKED = _TASK_AND_CASE.with_for_update(of=Instance.__table__)  # PostgreSQL: the case locked


def _still_as_known():
    """What a completion decided on what this process knew of the case (``live_workflows.Known``) took as
    read, checked by the database as the completion commits: the case's row at the version and the state it
    was known at, the task open and its assignee the same, no draft of it kept meanwhile, and the calendar
    and the people at the revisions counted with. Built once. (The case's row is also checked as it is
    written: every change to a case moves its version.)"""
    ht, inst, rev = HumanTask.__table__, Instance.__table__, Revision.__table__
    task_id = bindparam("x_task_id", type_=ht.c.id.type)

    def revision(name: str, param: str):
        value = select(rev.c.value).where(rev.c.name == literal_column(f"'{name}'")).scalar_subquery()
        return value == bindparam(param, type_=rev.c.value.type)

    return and_(
        exists().where(
            inst.c.id == bindparam("x_instance_id", type_=inst.c.id.type),
            inst.c.lock_version == bindparam("x_lock_version", type_=inst.c.lock_version.type),
            func.sha256(inst.c.state) == bindparam("x_state_digest", type_=LargeBinary),
        ),
        exists().where(
            ht.c.id == task_id,
            ht.c.state == literal_column(f"'{TaskStatus.OPEN.value}'"),
            ht.c.assignee.is_not_distinct_from(bindparam("x_assignee", type_=ht.c.assignee.type)),
        ),
        ~exists().where(TaskDraft.__table__.c.task_id == task_id),
        revision("calendar", "x_calendar_revision"),
        revision("people", "x_people_revision"),
    )


_STILL_AS_KNOWN = _still_as_known()


@dataclass
class Move:
    """A command's hold on one case while it moves it (:meth:`Instances._moving`)."""

    session: Session
    loaded: wfsvc.Loaded
    run: bool = True  # run the automatic steps after the block
    keep: bool = True  # save the case after the block
    error: str | None = None  # what an automatic step raised

    @property
    def instance(self) -> Instance:
        return self.loaded.instance


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
            version = revisions = self._latest_version(session, process_id, with_revisions=True)
            calendar = self.core.calendar(session, revisions.calendar_revision)
            info = wfsvc.version_info(session, version.id)
            if not info.start_roles:
                raise Forbidden(f"'{process_id}' is started only by another process, never directly")
            if not any(actor.has(role) for role in info.start_roles):
                raise Forbidden(f"'{process_id}' can be started by: {', '.join(info.start_roles)}")
            if info.start_form:
                schema = info.forms.get(info.start_form) or {}
                declared = schema.get("properties", {})
                checked = {k: v for k, v in data.items() if k in declared or k not in RULES_KEYS}
                context = forms.case_context(
                    {}, {}, None, calendar, directories.of(self.core).lazy(AGENCIES, session)
                )
                with forms.in_case(context):
                    problems = forms.validate(schema, checked)
                if problems:
                    raise Invalid("the form has errors", problems)
            data, override = regimes.settle(
                session,
                data,
                actor,
                not version.deadline_keys,
                local=self.core.settings.local_rulesets,
                accepts=info.regimes,
                rulesets_revision=revisions.rulesets_revision,
            )
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
            inst, number = self._start_in(
                session,
                version,
                data,
                actor.username,
                people_revision=revisions.people_revision,
                calendar=calendar,
                calendar_revision=revisions.calendar_revision,
                rulesets_revision=revisions.rulesets_revision,
            )
            if override is not None:
                audit.record(
                    session,
                    "regime_overridden",
                    actor.username,
                    instance_id=inst.id,
                    detail=override.detail(),
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
    def _latest_version(session, process_id: str, with_revisions: bool = False):
        """The process's newest version: a row of its ``id``, ``process_id``, ``version`` and
        ``deadline_keys`` (``version_info`` keeps the rest, read once), read by the driver (not the ORM:
        a third of a start's own time was spent there); ``with_revisions``: also the calendar's, the
        people's and the rule sets' revisions, read by the same query (``calendar_revision``,
        ``people_revision`` and ``rulesets_revision``)."""
        stmt = _LATEST_WITH_REVISIONS if with_revisions else _LATEST
        rows = driver.select(session.connection(), stmt, {"process_id": process_id})
        if not rows:
            raise NotFound(f"no process '{process_id}' is deployed")
        return rows[0]

    def _start_in(
        self,
        session,
        version,
        data: dict,
        actor: str,
        parent: Instance | None = None,
        depth: int = 0,
        people_revision: int | None = None,
        calendar=None,
        calendar_revision: int | None = None,
        rulesets_revision: int | None = None,
    ) -> tuple[Instance, int]:
        """Create the instance and run it to its first wait; a hand-over (``parent``) keeps its case
        reference."""
        now = clock.now()
        process_id = version.process_id
        ruleset_id = None
        name = data.get("ruleset") or data.get("regime")
        for key in ("ruleset", "regime", "case_reference"):
            if data.get(key) is not None and not isinstance(data[key], str):
                raise Invalid(f"'{key}' must be text", [{"path": key, "message": "must be a string"}])
        if name is not None:
            ruleset_id = regimes.newest(session, rulesets_revision).get(name)
            if ruleset_id is None:
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
            status=CaseStatus.RUNNING,
            regime=data.get("regime"),
            ruleset_version_id=ruleset_id,
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
        driver.insert(session, inst)
        writes.hold(session, inst)  # a row this transaction added: no one else sees it before its COMMIT
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
                calendar or self.core.calendar(session),
                recipients=directories.of(self.core).lazy(RECIPIENTS, session),
                agencies=directories.of(self.core).lazy(AGENCIES, session),
                base_url=self.core.settings.base_url,
            ),
            open_tasks={},  # a new case has no rows yet
            deadline_rows=[],
            people_revision=people_revision,
            calendar_revision=calendar_revision,
        )
        audit.record(
            session,
            "started",
            actor,
            instance_id=inst.id,
            at=now,
            detail={
                "process_id": process_id,
                "version": version.version,
                "data": data,
                "parent_instance_id": inst.parent_instance_id,
            },
        )
        with wfsvc.runtime.running(loaded.runtime):
            error = wfsvc.run_engine(workflow)
            self._persist(session, loaded, actor, error, depth)
            wfsvc.keep_when_committed(session, loaded)
        return inst, version.version

    # --- the one way a command moves a case -----------------------------------------------------
    @staticmethod
    def _locked(session, case: int | Instance, when: tuple[str, ...], refusal: str) -> Instance:
        """The case, locked for this transaction (unless the caller's own first query locked it), in one of
        the statuses ``when`` allows; else NotFound or Conflict (``refusal`` may name its status and id)."""
        inst = case if isinstance(case, Instance) else wfsvc.lock_instance(session, case)
        if inst is None:
            raise NotFound(f"no instance {case}")
        if inst.status not in when:
            raise Conflict(refusal.format(status=inst.status, id=inst.id))
        return inst

    @contextlib.contextmanager
    def _moving(
        self,
        session,
        case: int | Instance,
        actor: str,
        *,
        when: tuple[str, ...],
        refusal: str = "the case is {status}",
        open_tasks: dict | None = None,
        calendar_revision: int | None = None,
        calendar=None,
        people_revision: int | None = None,
    ) -> Iterator[Move]:
        """Every command that moves a case: lock it and check its status (:meth:`_locked`), open its workflow,
        let the block move it inside the case's runtime, then run its automatic steps and save it with every
        projection and any case it hands over to. An exception in the block keeps nothing (the transaction
        rolls back); a write that lost a race is a 409 (``_command``). The block may set ``run`` or ``keep``
        to False; ``open_tasks``, ``calendar_revision`` and ``people_revision`` are what the caller's first
        query already read; ``calendar`` is the working-day calendar to count with when the caller is
        changing it."""
        inst = self._locked(session, case, when, refusal)
        counted_with = calendar_revision if calendar is None else None  # the revision of the calendar used
        if calendar is None:
            calendar = self.core.calendar(session, calendar_revision)
        settings = self.core.settings
        move = Move(
            session,
            wfsvc.load(
                session,
                inst,
                calendar,
                open_tasks,
                directories.of(self.core).lazy(RECIPIENTS, session),
                directories.of(self.core).lazy(AGENCIES, session),
                settings.base_url,
                reuse=True,
            ),
        )
        move.loaded.people_revision = people_revision
        move.loaded.calendar_revision = counted_with
        with wfsvc.runtime.running(move.loaded.runtime):
            yield move
            if move.keep:
                if move.run:
                    move.error = wfsvc.run_engine(move.loaded.workflow)
                self._persist(session, move.loaded, actor, move.error)
                wfsvc.keep_when_committed(session, move.loaded)

    def _persist(self, session, loaded: wfsvc.Loaded, actor: str, error: str | None, depth: int = 0) -> None:
        """Save the workflow and its projections, then start any processes it handed the case to."""
        wfsvc.save(session, loaded, actor, error)
        if error:
            audit.record(
                session, "step_failed", "system", instance_id=loaded.instance.id, detail={"error": error}
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
            audit.record(
                session,
                "handed_over",
                actor,
                instance_id=loaded.instance.id,
                detail={"process_id": request.process_id, "instance_id": child.id, "version": version},
            )

    # --- complete a user task ------------------------------------------------------------------
    @_command
    def complete_task(self, task_id: str, data: dict, actor: Actor) -> dict:
        """Complete an open task with the data of its form. When this process saved the task's case last, the
        completion is first decided on what it knew of the case then, without reading it: one round trip to
        PostgreSQL, where reading first takes two. It is kept only if the database still holds what it
        knew; otherwise (or if it was refused) it is decided again on what is stored, as any other. A
        database that fails meanwhile fails the completion, as it would any command (whether its COMMIT
        was kept is not known, and a retry finds out)."""
        inputs.check_task(task_id, data)
        known = self._known(task_id)
        if known is not None:
            try:
                return self._complete(task_id, data, actor, known)
            except Exception as exc:  # decided again, on what is stored, by which it stands or falls
                if unavailable(exc):  # the database failed, not what was known: kept or not is unknown
                    raise
                log.debug(
                    "completion decided again on what is stored",
                    extra={"task_id": task_id, "reason": type(exc).__name__},
                )
        return self._complete(task_id, data, actor)

    def _known(self, task_id: str) -> live_workflows.Known | None:
        if self.core.db.dialect != "postgresql":  # a read costs SQLite no round trip: nothing to save
            return None
        return live_workflows.known_for_task(self.core.db.key, task_id)

    def _complete(self, task_id: str, data: dict, actor: Actor, known: live_workflows.Known | None = None):
        now = clock.now()
        with self.core.db.transaction() as session:
            if known is None:
                ht, inst, open_tasks, has_draft, revisions = self._task_and_case(session, task_id)
            else:
                ht, inst, open_tasks = self._as_known(session, known, task_id)
                has_draft, revisions = False, known
            if not actor.has(ht.role):
                raise Forbidden(f"this task belongs to the role '{ht.role}'")
            if ht.state != TaskStatus.OPEN:
                raise Conflict(f"this task is already {ht.state}")
            if ht.assignee and ht.assignee != actor.username:
                raise Conflict(f"this task is claimed by {ht.assignee}")
            with self._moving(
                session,
                inst,
                actor.username,
                when=(CaseStatus.RUNNING, CaseStatus.ERROR),
                open_tasks=open_tasks,
                calendar_revision=revisions.calendar_revision,
                people_revision=revisions.people_revision,
            ) as move:
                loaded = move.loaded
                schema = loaded.version.forms.get(ht.form) if ht.form else None
                task = wfsvc.task_by_id(loaded.workflow, task_id)
                with forms.in_case(self._case_context(session, loaded, task)):
                    problems = forms.validate(schema, data)
                if problems:
                    raise Invalid("the form has errors", problems)
                if task is None or task.state != TaskState.READY:
                    raise Conflict("this task is no longer open")
                before = {k: task.data.get(k) for k in data}
                if has_draft:
                    session.execute(delete(TaskDraft).where(TaskDraft.task_id == task_id))
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
                # an agreed extension moves its deadline (004 "Timescales")
                wfsvc.rearm_extended_deadlines(loaded.workflow, loaded.runtime, task, data)
                ht.completed_by = actor.username
                audit.record(
                    session,
                    "task_completed",
                    actor.username,
                    instance_id=inst.id,
                    at=now,
                    task_id=task_id,
                    element_id=ht.element_id,
                    detail={"task": ht.name, "before": before, "after": data},
                )
            return {"instance_id": inst.id, "status": inst.status, "task_id": task_id}

    @staticmethod
    def _as_known(session, known: live_workflows.Known, task_id: str) -> tuple[HumanTask, Instance, dict]:
        """The task, its case and the case's open tasks as ``known`` has them, in the session as if read; the
        case locked before anything is written, and what the completion took as read expected to hold when
        it commits (:data:`_STILL_AS_KNOWN`)."""
        inst = driver.as_loaded(session, Instance, known.instance)
        writes.lock_first(session, Instance.__table__, {"id": inst.id})  # the case first, as every command
        open_tasks = {tid: driver.as_loaded(session, HumanTask, row) for tid, row in known.tasks.items()}
        ht = open_tasks[task_id]
        writes.expect(
            session,
            _STILL_AS_KNOWN,
            "the case, its task or what it counted with changed since this process saved it",
            {
                "x_instance_id": inst.id,
                "x_lock_version": inst.lock_version,
                "x_state_digest": hashlib.sha256(inst.state).digest(),
                "x_task_id": task_id,
                "x_assignee": ht.assignee,
                "x_calendar_revision": known.calendar_revision,
                "x_people_revision": known.people_revision,
            },
        )
        return ht, inst, open_tasks

    @staticmethod
    def _task_and_case(session, task_id: str) -> tuple[HumanTask, Instance, dict, bool, tuple]:
        """One query for what completing a task needs first: the task, its case (locked), the case's other
        open tasks, whether a draft of the task exists, and the revisions of the calendar and of the people
        (a row with ``calendar_revision`` and ``people_revision``). Sent by the driver itself and its rows
        made into the session's objects (engine/store/driver.py): the ORM's own loading of them was a fifth
        of a PostgreSQL command's time."""
        stmt = _TASK_AND_CASE_LOCKED if session.bind.dialect.name == "postgresql" else _TASK_AND_CASE
        rows = driver.select(session.connection(), stmt, {"task_id": task_id})
        mine = next((r for r in rows if r.human_task_id == task_id), None)
        if mine is None:
            raise NotFound(f"no task '{task_id}'")
        tasks, cases = len(HumanTask.__table__.c), len(Instance.__table__.c)
        inst = driver.as_loaded(session, Instance, mine[tasks : tasks + cases])
        if stmt is _TASK_AND_CASE_LOCKED:
            writes.hold(session, inst)
        made = {r.human_task_id: driver.as_loaded(session, HumanTask, r[:tasks]) for r in rows}
        open_tasks = {tid: t for tid, t in made.items() if t.state == TaskStatus.OPEN}
        return made[task_id], inst, open_tasks, bool(mine.has_draft), mine

    @staticmethod
    def _case_context(session, loaded: wfsvc.Loaded, task) -> forms.CaseContext:
        """What a task's submission is judged against: today, the data the task sees, and the due date of
        each of the case's deadlines (the latest armed for a key, else worked out from the rule set); the
        deadlines are read only if the form asks for one."""
        data = task.data if task is not None else wfsvc.current_data(loaded.workflow)

        def armed() -> dict:
            return {
                d.key: d.due_date
                for d in wfsvc.case_deadlines(session, loaded)
                if d.status != DeadlineStatus.CANCELLED
            }

        return forms.case_context(
            data, armed, loaded.runtime.ruleset, loaded.runtime.calendar, loaded.runtime.agencies
        )

    # --- messages ---------------------------------------------------------------------------
    @_command
    def deliver_message(
        self,
        name: str,
        data: dict,
        actor: Actor,
        instance_id: int | None = None,
        business_key: str | None = None,
        attachment: tuple[str, filetypes.FileType, bytes] | None = None,
    ) -> dict:
        """Deliver an answer from outside; ``attachment`` (its name as shown, its checked type, its content:
        Documents.inspect) is kept on the case with it, on the step that waited, or neither is."""
        if not isinstance(name, str) or not name.strip():
            raise Invalid("a message needs a name", [{"path": "name", "message": "required"}])
        inputs.check_message(name, data, business_key)
        problems = forms.check_keys(data)
        if problems:
            raise Invalid("the message data cannot be accepted", problems)
        now = clock.now()
        with self.core.db.transaction() as session:
            if instance_id is None:
                instance_id = self._waiting_case(session, business_key, name)
            not_waiting = f"instance {{id}} is not waiting for the message '{name}'"
            inst = self._locked(session, instance_id, (CaseStatus.RUNNING, CaseStatus.ERROR), not_waiting)
            access.check(session, actor, inst.id)
            if session.get(MessageWait, (inst.id, name)) is None:
                raise Conflict(not_waiting.format(id=inst.id))
            with self._moving(
                session, inst, actor.username, when=(CaseStatus.RUNNING, CaseStatus.ERROR)
            ) as move:
                # the role its step names records it, with data its form accepts (engine/bpmn/awaited.py)
                awaited = outside.declared(session, inst.process_version_id).get(name)
                schema = move.loaded.version.forms.get(awaited.form) if awaited and awaited.form else None
                context = self._case_context(session, move.loaded, None)
                data = outside.judge(awaited, schema, data, actor, context)
                try:
                    move.loaded.workflow.send_event(BpmnEvent(MessageEventDefinition(name), payload=data))
                except Exception as exc:
                    raise Conflict(f"instance {inst.id} did not accept '{name}': {exc}") from None
                audit.record(
                    session,
                    "message_received",
                    actor.username,
                    instance_id=inst.id,
                    at=now,
                    detail={"name": name, "data": data},
                )
                if attachment is not None:
                    shown, kind, content = attachment
                    where = awaited.element_id if awaited else None
                    document_store.keep(session, actor, inst.id, shown, kind, content, element_id=where)
            return {"instance_id": inst.id, "status": inst.status}

    @staticmethod
    def _waiting_case(session, business_key: str | None, name: str) -> int:
        """The one instance of the case ``business_key`` that waits for the message ``name``."""
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
                f"{len(ids)} instances of case '{business_key}' wait for '{name}'; send to one instance id"
            )
        return ids[0]

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
                if inst is None or inst.status in (CaseStatus.COMPLETED, CaseStatus.CANCELLED):
                    return
                inst.status, inst.error, inst.failed_at, inst.next_timer_at = (
                    CaseStatus.ERROR,
                    reason[:4000],
                    now,
                    None,
                )
                inst.updated_at = now
                audit.record(
                    session,
                    "case_failed",
                    "system",
                    instance_id=inst.id,
                    at=now,
                    detail={"during": during, "error": reason[:4000]},
                )
        except Exception:  # the database itself is failing: the next sweep tries again
            log.exception("could not record a failed case", extra={"instance_id": instance_id})

    def _fire_one(self, instance_id: int, now: dt.datetime) -> bool:
        with self.core.db.transaction() as session:
            stmt = select(Instance).where(Instance.id == instance_id, Instance.next_timer_at <= now)
            if session.bind.dialect.name == "postgresql":
                stmt = stmt.with_for_update(skip_locked=True)
            inst = session.execute(stmt).scalar_one_or_none()
            if inst is None or inst.status != CaseStatus.RUNNING:
                return False
            with self._moving(session, inst, "system", when=(CaseStatus.RUNNING,)) as move:
                workflow = move.loaded.workflow
                before = {
                    str(t.id): t.task_spec.bpmn_id
                    for t in workflow.get_tasks(state=TaskState.WAITING)
                    if wfsvc._is_timer(t)
                }
                move.error, move.run = wfsvc.run_engine(workflow), False
                fired = [
                    el
                    for tid, el in before.items()
                    if (t := wfsvc.task_by_id(workflow, tid)) is None or t.state != TaskState.WAITING
                ]
                audit.record(
                    session,
                    "timer_fired",
                    "system",
                    instance_id=inst.id,
                    at=now,
                    detail={"timers": sorted(fired)},
                )
            return True

    def move_deadlines(
        self, session, day: dt.date, calendar, actor: str, because: dict
    ) -> tuple[list[int], list[tuple[int, str]]]:
        """In the caller's transaction, after the calendar changed on ``day`` (``calendar`` is the new one):
        re-arm every open deadline whose count crosses that day, armed or planned, and run each such case on
        (a deadline moved into the past is missed now, as its timer says). Only cases with such a deadline
        are opened (one query finds them), so the cost grows with the cases the change moves, not with the
        partnership's cases. ``because`` goes into each ``deadline_moved`` audit row. Returns the cases
        re-armed, and those that could not be opened (nothing of theirs moved) with why."""
        ids = sorted(
            set(
                session.scalars(
                    select(Deadline.instance_id)
                    .join(Instance, Instance.id == Deadline.instance_id)
                    .where(
                        Instance.status.in_(OPEN_CASE),
                        Deadline.status.in_((DeadlineStatus.PENDING, DeadlineStatus.PLANNED)),
                        ((Deadline.anchor_date <= day) & (Deadline.due_date >= day))
                        | ((Deadline.due_date <= day) & (Deadline.anchor_date >= day)),
                    )
                )
            )
        )
        moved, unreadable = [], []
        for iid in ids:
            try:
                with self._moving(session, iid, actor, when=OPEN_CASE, calendar=calendar) as move:
                    rearmed = wfsvc.rearm_deadline_timers(move.loaded.workflow)
                    for timer_id in rearmed:
                        move.loaded.runtime.extensions[timer_id] = dict(because)
                    move.loaded.workflow.refresh_timers()
                    move.run = move.instance.status == CaseStatus.RUNNING
            except wfsvc.CaseUnreadable as exc:  # nothing of it was written: it stays as it is
                unreadable.append((iid, str(exc)))
                continue
            moved.append(iid)
        return moved, unreadable

    def quarantine(self, instance_id: int, reason: str, during: str) -> None:
        """Put a case that could not be opened in the incident state (its own transaction)."""
        self._quarantine(instance_id, reason, during)

    # --- operator actions ---------------------------------------------------------------------
    @_command
    def retry(self, instance_id: int, actor: Actor, reason: str = "") -> dict:
        if not actor.is_manager:
            raise Forbidden("only a manager may retry a failed step")
        now = clock.now()
        with self.core.db.transaction() as session:
            with self._moving(
                session,
                instance_id,
                actor.username,
                when=(CaseStatus.ERROR,),
                refusal="instance {id} has no failed step (status {status})",
            ) as move:
                failed = list(move.loaded.workflow.get_tasks(state=TaskState.ERROR))
                for t in failed:
                    t.reset_branch(None)
            inst = move.instance
            audit.record(
                session,
                "retried",
                actor.username,
                instance_id=inst.id,
                at=now,
                detail={
                    "steps": [t.task_spec.bpmn_id for t in failed],
                    "reason": reason,
                    "error": move.error,
                },
            )
            return {"instance_id": inst.id, "status": inst.status, "error": inst.error}

    #: what each operator action may act on
    _ACTIONS: ClassVar = {
        "cancel": OPEN_CASE,
        "suspend": (CaseStatus.RUNNING, CaseStatus.ERROR),
        "resume": (CaseStatus.SUSPENDED,),
    }

    @_command
    def set_status(self, instance_id: int, action: str, actor: Actor, reason: str) -> dict:
        """cancel, suspend or resume, always with a reason for the audit log."""
        if not actor.is_manager:
            raise Forbidden("only a manager may cancel, suspend or resume a case")
        if not reason or not reason.strip():
            raise Invalid("give a reason", [{"path": "reason", "message": "required"}])
        if action not in self._ACTIONS:
            raise BadRequest(f"unknown action '{action}'")
        now = clock.now()
        with self.core.db.transaction() as session:
            refusal = f"cannot {action} a case that is {{status}}"
            inst = self._locked(session, instance_id, self._ACTIONS[action], refusal)
            if action == "cancel":
                self._cancel(session, inst, actor, now)
            elif action == "suspend":
                inst.status, inst.next_timer_at = CaseStatus.SUSPENDED, None
            else:
                with self._moving(session, inst, actor.username, when=self._ACTIONS[action], refusal=refusal):
                    inst.status = CaseStatus.RUNNING
            inst.updated_at = now
            audit.record(
                session, action, actor.username, instance_id=inst.id, at=now, detail={"reason": reason}
            )
            return {"instance_id": inst.id, "status": inst.status}

    def _cancel(self, session, inst: Instance, actor: Actor, now: dt.datetime) -> None:
        """Close the case for good. Unlike every other command this does not need the workflow to open: a case
        that cannot be opened can still be closed."""
        # its pending deadlines are cancelled first: saving the cancelled workflow must not count them met
        session.execute(
            update(Deadline)
            .where(Deadline.instance_id == inst.id, Deadline.status == DeadlineStatus.PENDING)
            .values(status=DeadlineStatus.CANCELLED, closed_at=now)
        )
        # and those it had not armed yet will never run (saved below too, unless the case cannot be opened)
        session.execute(
            delete(Deadline).where(Deadline.instance_id == inst.id, Deadline.status == DeadlineStatus.PLANNED)
        )
        try:
            loaded = wfsvc.load(session, inst, self.core.calendar(session))
        except wfsvc.CaseUnreadable:
            loaded = None
        if loaded is not None:
            loaded.workflow.cancel()
            wfsvc.save(session, loaded, actor.username)
        inst.status, inst.next_timer_at, inst.completed_at = CaseStatus.CANCELLED, None, now
        session.execute(
            update(HumanTask)
            .where(HumanTask.instance_id == inst.id, HumanTask.state == TaskStatus.OPEN)
            .values(state=TaskStatus.CANCELLED, completed_at=now)
        )
        session.execute(delete(MessageWait).where(MessageWait.instance_id == inst.id))
        inst.waiting_messages, inst.open_deadlines = [], 0
        wfsvc.close_projections(session, inst)
