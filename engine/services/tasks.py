"""The task list and task assignment: claim, unclaim, reassign. Reads only the ``human_task`` projection."""

from __future__ import annotations

from sqlalchemy import bindparam, or_, select, update

from engine import clock
from engine.services import access, audit, case_file, directories, task_mail
from engine.services.actor import REQUEST_ONLY_PREFIX, REQUEST_ONLY_ROLES, Actor
from engine.services.core import Core
from engine.services.errors import Conflict, Forbidden, Invalid, NotFound
from engine.statuses import TaskStatus
from engine.store import driver
from engine.store.models import HumanTask, Instance, ProcessVersion, TaskDraft, User, UserRole

#: the columns a task list shows (task_dict reads these)
LISTED = (
    "id",
    "instance_id",
    "process_id",
    "element_id",
    "name",
    "role",
    "form",
    "state",
    "assignee",
    "due_date",
    "deadline_key",
    "created_at",
    "completed_at",
    "completed_by",
)


def _task_list(*where):
    """The task list's statement, built once: rows, not objects (the list only reads them)."""
    ht, inst = HumanTask.__table__, Instance.__table__
    return (
        select(*(ht.c[name] for name in LISTED), inst.c.business_key)
        .join(inst, inst.c.id == ht.c.instance_id)
        .where(ht.c.state == TaskStatus.OPEN, *where)
        .order_by(ht.c.due_date.is_(None), ht.c.due_date, ht.c.created_at)
        .limit(bindparam("limit"))
    )


_HT = HumanTask.__table__
_MINE = _task_list(_HT.c.assignee == bindparam("user"))
_EVERY_OPEN = _task_list()  # an administrator's
_FOR_ROLES = _task_list(
    _HT.c.role.in_(bindparam("roles", expanding=True)),
    or_(_HT.c.assignee.is_(None), _HT.c.assignee == bindparam("user")),
)


def task_dict(t, business_key: str | None = None) -> dict:
    """A task as lists and the API show it, from its row or its object."""
    return {
        "id": t.id,
        "instance_id": t.instance_id,
        "business_key": business_key,
        "process_id": t.process_id,
        "element_id": t.element_id,
        "name": t.name,
        "role": t.role,
        "form": t.form,
        "state": t.state,
        "assignee": t.assignee,
        "due_date": t.due_date.isoformat() if t.due_date else None,
        "deadline_key": t.deadline_key,
        "created_at": t.created_at.isoformat(),
        "completed_at": t.completed_at.isoformat() if t.completed_at else None,
        "completed_by": t.completed_by,
    }


class Tasks:
    def __init__(self, core: Core):
        self.core = core

    def for_user(self, actor: Actor, mine: bool = False, limit: int = 500) -> list[dict]:
        """Open tasks the caller may work on: their roles' tasks, claimed by nobody or by them."""
        stmt = _MINE if mine else _EVERY_OPEN if "admin" in actor.roles else _FOR_ROLES
        given = {"user": actor.username, "roles": sorted(actor.roles), "limit": limit}
        with self.core.db.lookup() as connection:
            return [task_dict(row, row.business_key) for row in driver.select(connection, stmt, given)]

    def claimed(self, actor: Actor, limit: int = 500) -> list[dict]:
        """Every open task someone has claimed: a manager's view, to see and reassign work in progress."""
        if not actor.is_manager:
            raise Forbidden("only a manager may see everyone's claimed tasks")
        with self.core.db.reading() as session:
            stmt = (
                select(HumanTask, Instance.business_key)
                .join(Instance, Instance.id == HumanTask.instance_id)
                .where(HumanTask.state == TaskStatus.OPEN, HumanTask.assignee.is_not(None))
                .order_by(HumanTask.due_date.is_(None), HumanTask.due_date, HumanTask.created_at)
                .limit(limit)
            )
            return [task_dict(t, bk) for t, bk in session.execute(stmt)]

    def get(self, task_id: str, actor: Actor) -> dict:
        with self.core.db.reading() as session:
            t = session.get(HumanTask, task_id)
            if t is None:
                raise NotFound(f"no task '{task_id}'")
            inst = session.get(Instance, t.instance_id)
            if not access.may_see_step(actor, t):  # its role, managers, and whoever completed it
                raise Forbidden(f"this task belongs to the role '{t.role}'")
            version = session.get(ProcessVersion, inst.process_version_id)
            out = task_dict(t, inst.business_key)
            out["form_schema"] = version.forms.get(t.form) if t.form else None
            out["ui_schema"] = version.forms.get(t.ui_form) if t.ui_form else None
            out["documentation"] = t.documentation
            out["process_version"] = version.version
            case_role = t.role not in REQUEST_ONLY_ROLES and not t.role.startswith(REQUEST_ONLY_PREFIX)
            data = _case_data(session, inst)
            out["context"] = _request_context(data, case_role)
            agencies = directories.of(self.core).agencies(session)  # agencies answered by their names
            if t.state == TaskStatus.OPEN:
                out["case_file"] = case_file.for_task(session, inst, version, t, data or {}, agencies)
                out["answers"] = None
            else:
                out["case_file"] = []
                out["answers"] = case_file.answers(session, t, version, agencies)
            return out

    def save_draft(self, task_id: str, data: dict, actor: Actor) -> dict:
        """Keep an unfinished form for this person; it is not validated until it is submitted."""
        from engine.services.forms import check_size

        check_size(data)
        with self.core.db.transaction() as session:
            t = session.get(HumanTask, task_id)
            if t is None:
                raise NotFound(f"no task '{task_id}'")
            if not actor.has(t.role):
                raise Forbidden(f"this task belongs to the role '{t.role}'")
            if t.state != TaskStatus.OPEN:
                raise Conflict("this task is no longer open")
            draft = session.get(TaskDraft, (task_id, actor.username))
            if draft is None:
                session.add(
                    TaskDraft(task_id=task_id, username=actor.username, data=data, saved_at=clock.now())
                )
            else:
                draft.data, draft.saved_at = data, clock.now()
            audit.record(
                session,
                "draft_saved",
                actor.username,
                instance_id=t.instance_id,
                task_id=task_id,
                element_id=t.element_id,
            )
            return {"task_id": task_id, "saved_at": clock.now().isoformat()}

    def draft(self, task_id: str, actor: Actor) -> dict | None:
        with self.core.db.reading() as session:
            draft = session.get(TaskDraft, (task_id, actor.username))
            return {"data": draft.data, "saved_at": draft.saved_at.isoformat()} if draft else None

    def starting_answers(self, task_id: str, actor: Actor) -> dict:
        """What the step's form starts with (engine/services/prefill.py): the answers sent last time at this
        step, else those its fields declare from earlier steps, with the agencies the case names
        preselected. The case's state is read only when the form needs something from it."""
        from engine.services import agencies as agency_choices
        from engine.services import prefill
        from engine.services import workflow as wfsvc

        with self.core.db.reading() as session:
            t = session.get(HumanTask, task_id)
            if t is None:
                raise NotFound(f"no task '{task_id}'")
            if not access.may_see_step(actor, t):
                raise Forbidden(f"this task belongs to the role '{t.role}'")
            inst = session.get(Instance, t.instance_id)
            schema = (
                session.get(ProcessVersion, inst.process_version_id).forms.get(t.form) if t.form else None
            )
            earlier = prefill.earlier_answers(session, t) if prefill.carries_over(schema) else None
            if earlier is not None:
                return prefill.carried_over(schema, earlier)
            wanted = agency_choices.preselects(schema)
            if not wanted and not prefill.has_declarations(schema):
                return {}
            try:
                workflow = wfsvc.read_state(session, inst)[1]
            except wfsvc.CaseUnreadable:
                return {}
            task = wfsvc.task_by_id(workflow, task_id)
            data = task.data if task is not None else wfsvc.current_data(workflow)
            known = directories.of(self.core).agencies(session)
        out = prefill.declared(schema, data, known.name_of)
        if wanted:
            out.update(agency_choices.chosen(known, wanted, data))
        return out

    def claim(self, task_id: str, actor: Actor) -> dict:
        return self._assign(task_id, actor, actor.username, "claimed")

    def unclaim(self, task_id: str, actor: Actor) -> dict:
        return self._assign(task_id, actor, None, "unclaimed")

    def reassign(self, task_id: str, actor: Actor, username: str) -> dict:
        if not actor.is_manager:
            raise Forbidden("only a manager may reassign a task")
        return self._assign(task_id, actor, username, "reassigned")

    def _assign(self, task_id: str, actor: Actor, assignee: str | None, kind: str) -> dict:
        now = clock.now()
        with self.core.db.transaction() as session:
            t = session.get(HumanTask, task_id)
            if t is None:
                raise NotFound(f"no task '{task_id}'")
            if kind != "reassigned" and not actor.has(t.role):
                raise Forbidden(f"this task belongs to the role '{t.role}'")
            if t.state != TaskStatus.OPEN:
                raise Conflict(f"this task is already {t.state}")
            previous = t.assignee
            if kind == "claimed" and previous not in (None, actor.username):
                raise Conflict(f"this task is claimed by {previous}")
            if kind == "unclaimed" and previous not in (None, actor.username) and not actor.is_manager:
                raise Conflict(f"this task is claimed by {previous}")
            if kind == "reassigned" and assignee is not None:
                user = session.scalars(
                    select(User).where(User.username == assignee, User.active.is_(True))
                ).first()
                if user is None:
                    raise Invalid(
                        f"no active user '{assignee}'", [{"path": "username", "message": "unknown user"}]
                    )
                roles = set(session.scalars(select(UserRole.role).where(UserRole.user_id == user.id)))
                if t.role not in roles and "admin" not in roles:
                    raise Invalid(
                        f"{assignee} does not hold the role '{t.role}'",
                        [{"path": "username", "message": "lacks the task's role"}],
                    )
            result = session.execute(
                update(HumanTask)
                .where(
                    HumanTask.id == task_id,
                    HumanTask.state == TaskStatus.OPEN,
                    HumanTask.assignee.is_(None) if previous is None else HumanTask.assignee == previous,
                )
                .values(assignee=assignee)
            )
            if result.rowcount != 1:
                raise Conflict("the task changed while you were assigning it")
            if assignee not in (None, actor.username):  # the person given it hears of it, not a claimer
                business_key = session.scalar(
                    select(Instance.business_key).where(Instance.id == t.instance_id)
                )
                task_mail.task_given(
                    session, t, business_key, assignee, self.core.settings.base_url, actor.username, now
                )
            audit.record(
                session,
                f"task_{kind}",
                actor.username,
                instance_id=t.instance_id,
                at=now,
                task_id=task_id,
                element_id=t.element_id,
                detail={"before": previous, "after": assignee},
            )
            return {"id": task_id, "assignee": assignee}


# What a person answering one request needs to find their records: who the child is and the dates that
# matter (000 Appendix 2 pre-fills the child's details), and nothing of the partnership's deliberations.
CONTEXT_FIELDS = ("incident_date", "information_required_by", "agency_reports_due", "regime")
CHILD_FIELDS = ("name", "also_known_as", "date_of_birth", "address")
CASE_CONTEXT_FIELDS = ("reason",)  # the last decision table's reason: whoever judges the case next reads it


def _case_data(session, inst: Instance) -> dict | None:
    """The case data as it stands; ``None`` for a case that cannot be opened (its page says why)."""
    from engine.services import workflow as wfsvc

    try:
        return wfsvc.current_data(wfsvc.read_state(session, inst)[1])
    except wfsvc.CaseUnreadable:
        return None


def _request_context(data: dict | None, case_role: bool = False) -> dict:
    """The case fields beside a task's form; none for a case that cannot be opened."""
    if data is None:
        return {}
    fields = CONTEXT_FIELDS + (CASE_CONTEXT_FIELDS if case_role else ())
    context = {k: data[k] for k in fields if isinstance(data.get(k), str)}
    children = data.get("children")
    if isinstance(children, list):
        context["children"] = [
            {k: c[k] for k in CHILD_FIELDS if k in c} for c in children if isinstance(c, dict)
        ]
    return context
