"""Who may see a case: one rule for the pages, the API, the exports and the calendar feed.

A manager (or an administrator) sees every case. Anyone else sees a case in which one of their case roles
holds, or has held, a task. The roles of an agency answering one request (``Contributing agency``,
``Agency: NAME``) are not case roles: an agency sees the request addressed to it and nothing else of the
case (least privilege: 001 §2, 000 Appendix 2), so those roles never open a case.
"""

from __future__ import annotations

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from engine.services.actor import ADMIN, REQUEST_ONLY_ROLES, Actor
from engine.services.errors import Forbidden
from engine.statuses import TaskStatus
from engine.store.models import HumanTask


def visible_case_ids(actor: Actor) -> Select | None:
    """The ids of the cases ``actor`` may see, as a subquery; ``None`` means every case."""
    if actor.is_manager:
        return None
    return select(HumanTask.instance_id).where(HumanTask.role.in_(sorted(actor.case_roles)))


def only_visible(stmt: Select, instance_id_column, actor: Actor) -> Select:
    """``stmt`` narrowed to the cases ``actor`` may see (``instance_id_column`` names the case)."""
    visible = visible_case_ids(actor)
    return stmt if visible is None else stmt.where(instance_id_column.in_(visible))


def may_see(session: Session, actor: Actor, instance_id: int) -> bool:
    if actor.is_manager:
        return True
    visible = visible_case_ids(actor).where(HumanTask.instance_id == instance_id).limit(1)
    return session.scalars(visible).first() is not None


def check(session: Session, actor: Actor, instance_id: int) -> None:
    """Refuse (403) someone who may not see the case."""
    if not may_see(session, actor, instance_id):
        raise Forbidden("you have no role in this case")


def may_see_step(actor: Actor, task: HumanTask) -> bool:
    """Whether ``actor`` may see one step itself (its answers, its documents), case or no case: managers;
    its role; whoever completed it. A done request of a role every agency shares (``Contributing agency``)
    is only for the agency that answered it, never another."""
    if actor.is_manager:
        return True
    if task.role in REQUEST_ONLY_ROLES and task.state != TaskStatus.OPEN:
        return task.completed_by == actor.username
    return actor.has(task.role) or (task.completed_by is not None and task.completed_by == actor.username)


# Administration (web/ui/admin): what a manager may look at without changing it; everything else is the
# administrator's alone.
MANAGERS_READ_ONLY_SECTIONS = frozenset({"calendar", "outbox"})


def may_view_section(actor: Actor, section: str) -> bool:
    """Whether ``actor`` may open one section of the administration area (``people``, ``calendar``, ...)."""
    return ADMIN in actor.roles or (actor.is_manager and section in MANAGERS_READ_ONLY_SECTIONS)


def may_administer(actor: Actor) -> bool:
    """Whether ``actor`` may change anything in the administration area."""
    return ADMIN in actor.roles
