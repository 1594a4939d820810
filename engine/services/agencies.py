"""The partnership's agencies as the people choosing them need them: each with whether anyone can see a
request addressed to it, so that an agency with no active user is flagged before its task is created."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from sqlalchemy import select

from engine import agencies as directory
from engine.services.actor import Actor
from engine.services.core import Core
from engine.services.errors import Forbidden, NotFound
from engine.store.models import HumanTask, Instance, ProcessVersion, User, UserRole


def holders(session, roles: Iterable[str]) -> set[str]:
    """Which of ``roles`` at least one active user holds (an administrator's reach does not count: a task
    only an administrator can see is still a task nobody is working on)."""
    wanted = sorted(set(roles))
    if not wanted:
        return set()
    stmt = (
        select(UserRole.role)
        .join(User, User.id == UserRole.user_id)
        .where(User.active.is_(True), UserRole.role.in_(wanted))
        .distinct()
    )
    return set(session.scalars(stmt))


class Agencies:
    def __init__(self, core: Core):
        self.core = core

    def directory(self) -> directory.Directory:
        return directory.load(self.core.settings.agencies)

    def listed(self) -> list[dict]:
        """Every agency of the directory, in its order, with ``has_active_user``: whether an active user
        holds its role and so will see the request."""
        known = self.directory().agencies
        with self.core.db.reading() as session:
            held = holders(session, (a.role for a in known))
        return [
            {
                "key": a.key,
                "name": a.name,
                "role": a.role,
                "safeguarding_lead": a.safeguarding_lead,
                "has_active_user": a.role in held,
            }
            for a in known
        ]

    def unseen(self, roles: Iterable[str]) -> set[str]:
        """Which of ``roles`` no active user holds: their tasks are seen by nobody."""
        roles = set(roles)
        with self.core.db.reading() as session:
            return roles - holders(session, roles)

    def preselected(self, task_id: str, actor: Actor) -> dict:
        """The choices a task's form starts with: for each field whose ``x-directory`` names a
        ``preselect`` field, the directory's agencies the case names there (the agencies the referrer named
        in the notification, where the request asks which agencies to ask)."""
        from engine.services import workflow as wfsvc

        with self.core.db.reading() as session:
            t = session.get(HumanTask, task_id)
            if t is None:
                raise NotFound(f"no task '{task_id}'")
            if not (actor.has(t.role) or actor.is_manager):
                raise Forbidden(f"this task belongs to the role '{t.role}'")
            inst = session.get(Instance, t.instance_id)
            schema = (
                session.get(ProcessVersion, inst.process_version_id).forms.get(t.form) if t.form else None
            )
            wanted = preselects(schema)
            if not wanted:
                return {}
            try:
                workflow = wfsvc.read_state(session, inst)[1]
            except wfsvc.CaseUnreadable:
                return {}
            task = wfsvc.task_by_id(workflow, task_id)
            data = task.data if task is not None else wfsvc.current_data(workflow)
        return chosen(self.directory(), wanted, data)


def preselects(schema: Mapping | None) -> dict[str, str]:
    """``{field: case-data field}`` for the top-level fields of a form that preselect agencies."""
    out = {}
    for name, node in ((schema or {}).get("properties") or {}).items():
        keyword = node.get("x-directory") if isinstance(node, Mapping) else None
        if isinstance(keyword, Mapping) and isinstance(keyword.get("preselect"), str):
            out[name] = keyword["preselect"]
    return out


def chosen(known: directory.Directory, wanted: Mapping[str, str], data: Mapping) -> dict:
    """The agencies of the directory that ``data`` names in each wanted field, as keys, each once and in
    the order named; a name typed before the directory is found by its name, one outside it left out."""
    out = {}
    for name, source in wanted.items():
        value = data.get(source)
        named = value if isinstance(value, list) else [value] if isinstance(value, str) else []
        keys = []
        for item in named:
            agency = known.find(item) if isinstance(item, str) else None
            if agency is not None and agency.key not in keys:
                keys.append(agency.key)
        if keys:
            out[name] = keys
    return out
