"""The partnership's agencies as the people choosing them need them: each with whether anyone can see a
request addressed to it, so that an agency with no active user is flagged before its task is created; and
as administrators keep them (kept in the database, engine/services/directories.py): added, renamed, given a
safeguarding lead, retired and reactivated, each change audited with what it was before and after. An
agency's key never changes once stored, nor its role (the people holding it keep seeing its requests); a
retired agency is no longer offered but still names the cases that chose it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from sqlalchemy import func, select

from engine import agencies as directory
from engine import clock
from engine.services import audit, directories
from engine.services.actor import Actor
from engine.services.core import Core
from engine.services.directories import AGENCIES
from engine.services.errors import Forbidden, Invalid, NotFound
from engine.store.models import DirectoryAgency, User, UserRole


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
        """Every agency, retired ones too (the cached copy of the database's)."""
        return directories.of(self.core).agencies()

    def listed(self) -> list[dict]:
        """Every agency a form offers (the active ones), in the order of their names, with
        ``has_active_user``: whether an active user holds its role and so will see the request."""
        with self.core.db.reading() as session:
            known = directories.of(self.core).agencies(session).offered
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

    # --- administration ------------------------------------------------------------------------------
    @staticmethod
    def _admin(actor: Actor) -> None:
        if "admin" not in actor.roles:
            raise Forbidden("only an administrator may see or change the directory of agencies")

    def for_admin(self, actor: Actor) -> list[dict]:
        """Every agency, retired ones too, with how many active users hold its role (none: flagged, its
        requests would be seen by nobody)."""
        self._admin(actor)
        directories.of(self.core).follow_files()
        with self.core.db.reading() as session:
            rows = [
                {
                    "key": r.key,
                    "name": r.name,
                    "role": r.role,
                    "safeguarding_lead": r.safeguarding_lead or "",
                    "active": bool(r.active),
                    "updated_by": r.updated_by,
                    "from_file": r.updated_by == directories.FROM_FILE,
                    "updated_at": r.updated_at.isoformat(),
                }
                for r in session.scalars(select(DirectoryAgency))
            ]
            counts = dict(
                session.execute(
                    select(UserRole.role, func.count(func.distinct(User.id)))
                    .join(User, User.id == UserRole.user_id)
                    .where(User.active.is_(True), UserRole.role.in_(sorted({r["role"] for r in rows})))
                    .group_by(UserRole.role)
                ).all()
            )
        return [
            {**r, "active_users": counts.get(r["role"], 0)}
            for r in sorted(rows, key=lambda r: (not r["active"], r["name"].casefold(), r["key"]))
        ]

    def get(self, key: str, actor: Actor) -> dict:
        found = next((a for a in self.for_admin(actor) if a["key"] == key), None)
        if found is None:
            raise NotFound(f"no agency '{key}'")
        return found

    @staticmethod
    def _problems(
        session, name, lead, *, key: str | None = None, role: str | None = None, editing: str | None = None
    ) -> list[dict]:
        """What is wrong with an agency's name and safeguarding lead (and a new agency's key and role), in
        plain English; ``editing`` is the key of the agency being changed."""
        problems = []
        if key is not None:
            if directory.key_problem(key):
                problems.append(
                    {
                        "path": "key",
                        "message": "Enter a key of lower-case letters, digits and underscores, starting with "
                        "a letter (at most 40 characters)",
                    }
                )
            elif session.get(DirectoryAgency, key) is not None:
                problems.append({"path": "key", "message": f"An agency with the key ‘{key}’ already exists"})
        if not (name or "").strip():
            problems.append({"path": "name", "message": "Enter the agency's name"})
        elif directory.name_problem(name):
            problems.append(
                {"path": "name", "message": "The name must be 100 characters or fewer, on one line"}
            )
        else:
            clash = session.scalars(
                select(DirectoryAgency).where(
                    func.lower(DirectoryAgency.name) == name.strip().lower(),
                    DirectoryAgency.key != (editing or ""),
                )
            ).first()
            if clash is not None:
                problems.append(
                    {"path": "name", "message": f"Another agency is already called ‘{clash.name}’"}
                )
            elif role is not None and directory.role_problem(role):
                problems.append({"path": "name", "message": "The name must be 100 characters or fewer"})
            elif (
                role is not None
                and session.scalars(select(DirectoryAgency).where(DirectoryAgency.role == role)).first()
            ):
                problems.append(
                    {"path": "name", "message": f"Another agency's people already hold the role ‘{role}’"}
                )
        if lead and directory.email_problem(lead):
            problems.append(
                {
                    "path": "safeguarding_lead",
                    "message": "Enter the safeguarding lead's e-mail address in the correct format, "
                    "like name@example.org",
                }
            )
        return problems

    def add(self, key: str, name: str, safeguarding_lead: str | None, actor: Actor) -> dict:
        """A new agency under ``key`` (for good), its role ``Agency: NAME``. Refused, changing nothing: a
        bad or existing key, a name another agency has, a lead that is not an e-mail address."""
        self._admin(actor)
        directories.of(self.core).follow_files()
        key, name, lead = (key or "").strip(), (name or "").strip(), (safeguarding_lead or "").strip() or None
        role = f"{directory.ROLE_PREFIX}{name}"
        now = clock.now()
        with self.core.db.transaction() as session:
            problems = self._problems(session, name, lead, key=key, role=role)
            if problems:
                raise Invalid("the agency has errors", problems)
            after = {"name": name, "role": role, "safeguarding_lead": lead, "active": True}
            session.add(DirectoryAgency(key=key, **after, updated_by=actor.username, updated_at=now))
            audit.record(
                session,
                "agency_added",
                actor.username,
                at=now,
                detail={"key": key, "before": None, "after": after},
            )
            directories.changed(session, AGENCIES)
        return {"key": key, **after}

    def change(
        self,
        key: str,
        actor: Actor,
        *,
        name: str | None = None,
        safeguarding_lead: str | None = None,
        active: bool | None = None,
    ) -> dict:
        """Rename an agency, change its safeguarding lead (empty: none), retire it (``active=False``) or
        reactivate it; its key and role stay. Audited with what it was before and after."""
        self._admin(actor)
        directories.of(self.core).follow_files()
        now = clock.now()
        with self.core.db.transaction() as session:
            row = session.get(DirectoryAgency, key)
            if row is None:
                raise NotFound(f"no agency '{key}'")
            before = {
                "name": row.name,
                "safeguarding_lead": row.safeguarding_lead,
                "active": bool(row.active),
            }
            after = dict(before)
            if name is not None:
                after["name"] = name.strip()
            if safeguarding_lead is not None:
                after["safeguarding_lead"] = safeguarding_lead.strip() or None
            if active is not None:
                after["active"] = bool(active)
            problems = self._problems(session, after["name"], after["safeguarding_lead"], editing=key)
            if problems:
                raise Invalid("the agency has errors", problems)
            if after == before:
                return {"key": key, **after, "role": row.role, "changed": False}
            row.name, row.safeguarding_lead, row.active = (
                after["name"],
                after["safeguarding_lead"],
                after["active"],
            )
            row.updated_by, row.updated_at = actor.username, now
            kind = (
                "agency_retired"
                if before["active"] and not after["active"]
                else "agency_reactivated"
                if after["active"] and not before["active"]
                else "agency_changed"
            )
            audit.record(
                session, kind, actor.username, at=now, detail={"key": key, "before": before, "after": after}
            )
            directories.changed(session, AGENCIES)
        return {"key": key, **after, "role": row.role, "changed": True}


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
