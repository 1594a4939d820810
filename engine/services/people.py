"""The administration area's people: finding them (search and filters, a page at a time in SQL), one
person's account as an administrator sees it, and the changes only an administrator makes: roles and
agency, signing someone out everywhere. Disabling, API tokens and the second factor stay with
engine/services/users.py and engine/services/mfa.py, which the command line calls too.

A person's agency is a role, ``Agency: NAME`` (the directory's ``role``), so that a request addressed to
the agency reaches its people; the roles offered are the lanes of the deployed processes and the system
roles."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, delete, exists, func, or_, select

from engine import clock
from engine.agencies import ROLE_PREFIX
from engine.services import audit
from engine.services.actor import ADMIN, SYSTEM_ROLES, Actor
from engine.services.core import Core
from engine.services.errors import Forbidden, Invalid, NotFound
from engine.services.sessions import end_all, mfa_required
from engine.store.models import Invitation, ProcessVersion, User, UserRole, WebSession

PAGE_SIZE = 25
MFA_FILTERS = ("on", "off")  # set up / not set up
_LIKE_ESCAPE = str.maketrans({"\\": "\\\\", "%": "\\%", "_": "\\_"})


@dataclass(frozen=True)
class Filters:
    """What the people list is narrowed to; empty values narrow nothing."""

    text: str = ""  # a part of the name, user name or e-mail address
    role: str = ""
    agency: str = ""  # an agency's role
    disabled: bool | None = None
    never_signed_in: bool = False
    mfa: str = ""  # "on" or "off"


def _admin(actor: Actor) -> None:
    if ADMIN not in actor.roles:
        raise Forbidden("only an administrator can change people's accounts")


class People:
    def __init__(self, core: Core, agencies):
        self.core = core
        self.agencies = agencies

    # --- what may be chosen -----------------------------------------------------------------------

    def role_choices(self) -> list[str]:
        """The lanes of the deployed processes (but agencies', chosen as the agency) and the system roles."""
        with self.core.db.reading() as session:
            lanes = set()
            for row in session.scalars(select(ProcessVersion.lanes)):
                lanes.update(row or [])
        return sorted(r for r in lanes if not r.startswith(ROLE_PREFIX)) + list(SYSTEM_ROLES)

    def agency_choices(self) -> list[dict]:
        """The directory's agencies: ``key``, ``name`` and the ``role`` a person of that agency holds."""
        known = self.agencies.directory()
        offered = getattr(known, "offered", known.agencies)  # a retired agency is not offered
        return [{"key": a.key, "name": a.name, "role": a.role} for a in offered]

    # --- finding people -----------------------------------------------------------------------------

    def find(self, filters: Filters, page: int = 1, size: int = PAGE_SIZE) -> dict:
        """One page of people matching ``filters``, by user name, with the number matching: two statements
        for the page (the people, then their roles), whatever the number of people."""
        page = max(1, page)
        signed_in = exists().where(WebSession.user_id == User.id)
        has_role = lambda role: exists().where(UserRole.user_id == User.id, UserRole.role == role)  # noqa: E731
        conditions = []
        text = " ".join(filters.text.split())[:100]
        if text:
            like = f"%{text.casefold().translate(_LIKE_ESCAPE)}%"
            conditions.append(
                or_(
                    func.lower(User.username).like(like, escape="\\"),
                    func.lower(User.display_name).like(like, escape="\\"),
                    func.lower(func.coalesce(User.email, "")).like(like, escape="\\"),
                )
            )
        if filters.role:
            conditions.append(has_role(filters.role))
        if filters.agency:
            conditions.append(has_role(filters.agency))
        if filters.disabled is not None:
            conditions.append(User.active.is_(not filters.disabled))
        if filters.never_signed_in:
            conditions.append(~signed_in)
        if filters.mfa == "on":
            conditions.append(User.mfa_enrolled_at.is_not(None))
        elif filters.mfa == "off":
            conditions.append(User.mfa_enrolled_at.is_(None))
        where = and_(*conditions) if conditions else True
        with self.core.db.reading() as session:
            total = session.scalar(select(func.count()).select_from(User).where(where))
            rows = session.execute(
                select(
                    User.id,
                    User.username,
                    User.display_name,
                    User.email,
                    User.active,
                    User.mfa_enrolled_at,
                    signed_in.label("signed_in"),
                )
                .where(where)
                .order_by(User.username)
                .limit(size)
                .offset((page - 1) * size)
            ).all()
            roles: dict[int, list[str]] = {r.id: [] for r in rows}
            if rows:
                for user_id, role in session.execute(
                    select(UserRole.user_id, UserRole.role)
                    .where(UserRole.user_id.in_(list(roles)))
                    .order_by(UserRole.role)
                ):
                    roles[user_id].append(role)
        pages = max(1, -(-total // size))
        return {
            "people": [
                {
                    "username": r.username,
                    "display_name": r.display_name,
                    "email": r.email,
                    "active": r.active,
                    "mfa": r.mfa_enrolled_at is not None,
                    "signed_in": bool(r.signed_in),
                    "roles": [x for x in roles[r.id] if not x.startswith(ROLE_PREFIX)],
                    "agencies": [x[len(ROLE_PREFIX) :] for x in roles[r.id] if x.startswith(ROLE_PREFIX)],
                }
                for r in rows
            ],
            "total": total,
            "page": min(page, pages),
            "pages": pages,
        }

    def person(self, username: str) -> dict:
        """One person's account as an administrator sees it."""
        now = clock.now()
        with self.core.db.reading() as session:
            user = session.scalars(select(User).where(User.username == username)).first()
            if user is None:
                raise NotFound(f"no user '{username}'")
            roles = sorted(session.scalars(select(UserRole.role).where(UserRole.user_id == user.id)))
            last, open_sessions = session.execute(
                select(
                    func.max(WebSession.created_at),
                    func.count().filter(WebSession.ended_at.is_(None)),
                ).where(WebSession.user_id == user.id)
            ).one()
            invitation = session.scalars(
                select(Invitation)
                .where(Invitation.user_id == user.id)
                .order_by(Invitation.id.desc())
                .limit(1)
            ).first()
            agency_roles = [r for r in roles if r.startswith(ROLE_PREFIX)]
            return {
                "username": user.username,
                "display_name": user.display_name,
                "email": user.email,
                "active": user.active,
                "has_password": bool(user.password_hash),
                "created_at": user.created_at,
                "roles": [r for r in roles if not r.startswith(ROLE_PREFIX)],
                "agency_role": agency_roles[0] if agency_roles else None,
                "all_roles": roles,
                "mfa": user.mfa_enrolled_at is not None,
                "mfa_required": mfa_required(frozenset(roles), self.core.settings),
                "last_signed_in": last,
                "open_sessions": open_sessions,
                "invitation": None
                if invitation is None
                else {
                    "id": invitation.id,
                    "created_at": invitation.created_at,
                    "expires_at": invitation.expires_at,
                    "state": "accepted"
                    if invitation.accepted_at
                    else "revoked"
                    if invitation.revoked_at
                    else "expired"
                    if invitation.expires_at <= now
                    else "open",
                },
            }

    # --- changes ------------------------------------------------------------------------------------

    def check_roles(self, roles: list[str], agency_role: str | None, keep: list[str] = ()) -> list[str]:
        """The roles to give: each from the choices (or one the person holds already), the agency's role
        from the directory; refused if that leaves none."""
        allowed = set(self.role_choices()) | {r for r in keep if not r.startswith(ROLE_PREFIX)}
        unknown = sorted(set(roles) - allowed)
        if unknown:
            raise Invalid(f"unknown role(s): {', '.join(unknown)}", [{"path": "roles", "message": "unknown"}])
        if agency_role and agency_role not in {a["role"] for a in self.agency_choices()} | set(keep):
            raise Invalid("Select an agency from the list", [{"path": "agency", "message": "unknown"}])
        chosen = sorted(set(roles) | ({agency_role} if agency_role else set()))
        if not chosen:
            raise Invalid("Select at least one role or an agency", [{"path": "roles", "message": "required"}])
        return chosen

    def set_roles(self, username: str, roles: list[str], agency_role: str | None, actor: Actor) -> dict:
        """Give a person exactly these roles and this agency (audited, before and after). A role that
        requires multi-factor sign-in sends them to set it up at their next page."""
        _admin(actor)
        with self.core.db.transaction() as session:
            user = session.scalars(select(User).where(User.username == username).with_for_update()).first()
            if user is None:
                raise NotFound(f"no user '{username}'")
            before = sorted(session.scalars(select(UserRole.role).where(UserRole.user_id == user.id)))
            after = self.check_roles(roles, agency_role, keep=before)
            if before == after:
                return {"changed": False, "roles": after}
            if username == actor.username and ADMIN in before and ADMIN not in after:
                raise Invalid(
                    "You cannot take away your own administrator role: ask another administrator",
                    [{"path": "roles", "message": "own admin role"}],
                )
            session.execute(
                delete(UserRole).where(
                    UserRole.user_id == user.id, UserRole.role.in_(set(before) - set(after))
                )
            )
            for role in sorted(set(after) - set(before)):
                session.add(UserRole(user_id=user.id, role=role))
            audit.record(
                session,
                "roles_changed",
                actor.username,
                detail={"username": username, "before": before, "after": after},
            )
            return {"changed": True, "roles": after}

    def sign_out_everywhere(self, username: str, actor: Actor) -> int:
        """End every web session a person has open (a lost laptop, a shared computer); how many."""
        _admin(actor)
        now = clock.now()
        with self.core.db.transaction() as session:
            user = session.scalars(select(User).where(User.username == username)).first()
            if user is None:
                raise NotFound(f"no user '{username}'")
            ended = end_all(session, user.id, "signed_out_by_admin", now)
            audit.record(
                session,
                "signed_out_everywhere",
                actor.username,
                at=now,
                detail={"username": username, "sessions_ended": ended},
            )
            return ended
