"""New-task e-mails: when a task is created, each active person holding its role who has an e-mail address
and has not turned these e-mails off is told, and so is a person a task is given to.

The message says only the case reference, the step's name, its due date and a link to the task (with
``REVIEWFLOW_BASE_URL`` set): never the child's name nor any case data, since e-mail leaves the service.
An agency's request has the agency's own role (``Agency: Police``), so only that agency's people hear of
it. Each message is an outbox row written in the command's own transaction, keyed by task and person: a
person is e-mailed at most once about a task, however often it is created, given or given back.
"""

from __future__ import annotations

import datetime as dt
import threading

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from engine.services import queued_mail
from engine.store.db import database_key
from engine.store.models import HumanTask, OutboxMessage, User, UserRole

TEMPLATE = "new_task"


def key(task_id: str, user_id: int) -> str:
    """One message per person per task."""
    return f"new-task:{task_id}:{user_id}"


def _reachable(stmt):
    """People who can be e-mailed about a task: active, with an address, not opted out."""
    return stmt.where(
        User.active.is_(True),
        User.new_task_emails.is_(True),
        User.email.is_not(None),
        User.email != "",
    )


# who holds a role and can be e-mailed, each once per role, built once: every command that creates a task asks
_EVERY_HOLDER = _reachable(
    select(User.id, User.email, UserRole.role).join(UserRole, UserRole.user_id == User.id).order_by(User.id)
)
_HOLDERS = _EVERY_HOLDER.where(UserRole.role.in_(bindparam("roles", expanding=True)))


def _by_role(rows) -> dict[str, list[tuple[int, str]]]:
    """Each role's holders, as (user id, address), in the order read."""
    holders: dict[str, list[tuple[int, str]]] = {}
    for row in rows:
        holders.setdefault(row.role, []).append((row.id, row.email))
    return holders


class _Holders:
    """Per database, who holds each role and can be e-mailed, as of a revision of the people (bumped by the
    database whenever a person or a role changes, migration 0012): read again only when it has moved."""

    def __init__(self):
        self._by_database: dict[str, tuple[int, dict[str, list[tuple[int, str]]]]] = {}
        self._lock = threading.Lock()

    def of(self, session: Session, roles: list[str], revision: int) -> dict[str, list[tuple[int, str]]]:
        database = database_key(session)
        kept = self._by_database.get(database)
        if kept is None or kept[0] != revision:
            kept = (revision, _by_role(session.execute(_EVERY_HOLDER)))
            with self._lock:
                self._by_database[database] = kept
        return {role: kept[1].get(role, []) for role in roles}


_holders = _Holders()


def _due_in_words(due: dt.date | None) -> str | None:
    return f"{due.day} {due:%B %Y}" if due else None


def _message(task: HumanTask, business_key: str | None, base_url: str | None) -> tuple[str, str]:
    from handlers.notify import render

    subject, body = render(
        TEMPLATE,
        {
            "business_key": business_key or "(no reference)",
            "step": " ".join(task.name.split()),  # a name wrapped on the diagram reads as one line
            "due": _due_in_words(task.due_date),
            "link": f"{base_url}/tasks/{task.id}" if base_url else None,
        },
    )
    return subject[:255], body  # what the outbox's subject column holds


def _queue(
    session: Session,
    task: HumanTask,
    business_key: str | None,
    people: list[tuple[int, str]],
    base_url: str | None,
    actor: str,
    now: dt.datetime,
) -> None:
    subject, body = _message(task, business_key, base_url)
    for user_id, address in people:
        queued_mail.queue(
            session,
            key=key(task.id, user_id),
            instance_id=task.instance_id,
            recipient=address,
            subject=subject,
            body=body,
            template=TEMPLATE,
            actor=actor,
            at=now,
            task_id=task.id,
            element_id=task.element_id,
        )


def tasks_created(
    session: Session,
    created: list,  # the new tasks (HumanTask, or their rows' values as attributes)
    business_key: str | None,
    base_url: str | None,
    actor: str,
    now: dt.datetime,
    people_revision: int | None = None,
) -> None:
    """Queue the e-mails for tasks created by one command (a new task's id is new, so nobody has been
    e-mailed about it yet). With the people's revision as the command's first query read it, who holds the
    roles comes from this process's copy as of that revision; without, one statement reads it."""
    if not created:
        return
    roles = sorted({t.role for t in created})
    if people_revision is None:
        holders = _by_role(session.execute(_HOLDERS, {"roles": roles}))
    else:
        holders = _holders.of(session, roles, people_revision)
    for task in created:
        people = holders.get(task.role)
        if people:
            _queue(session, task, business_key, people, base_url, actor, now)


def task_given(
    session: Session,
    task: HumanTask,
    business_key: str | None,
    assignee: str,
    base_url: str | None,
    actor: str,
    now: dt.datetime,
) -> bool:
    """Queue the e-mail to the person a task was given to, unless they already had one about it, gave it
    to themselves or cannot be e-mailed. True if one was queued."""
    if assignee == actor:
        return False
    person = session.execute(_reachable(select(User.id, User.email).where(User.username == assignee))).first()
    if person is None:
        return False
    if session.scalar(select(OutboxMessage.id).where(OutboxMessage.key == key(task.id, person.id))):
        return False
    _queue(session, task, business_key, [(person.id, person.email)], base_url, actor, now)
    return True
