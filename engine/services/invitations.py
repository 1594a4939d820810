"""Inviting someone by e-mail. The administrator gives a name, an address, roles and an agency; the account
is made disabled and without a password, and a one-time link (valid ``invitation_valid_days``) goes to the
address through the outbox. At the link the person chooses a password (the policy of engine/passwords.py),
the account is enabled and they are signed in, to set up multi-factor sign-in first where their roles
require it. A link works once; resending makes a new one and withdraws the old; a withdrawn or expired link
says so. The user name is made from the address (``jo.bloggs`` from jo.bloggs@police.example.org)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from sqlalchemy import func, select

from engine import clock
from engine.services import audit, one_time_links, sign_in_limits
from engine.services.actor import ADMIN, Actor
from engine.services.core import Core
from engine.services.errors import Conflict, Forbidden, Invalid, NotFound
from engine.services.sessions import mfa_required, open_session
from engine.services.users import hash_password, require_good_password, valid_email
from engine.store.models import Invitation, User, UserRole

TEMPLATE = "invitation"
NO_BASE_URL = "Set REVIEWFLOW_BASE_URL to the service's address so that e-mails can carry links"


def key(invitation_id: int) -> str:
    return f"invitation:{invitation_id}"


@dataclass(frozen=True)
class Link:
    """What a link is worth: ``state`` is open, used, revoked, expired or unknown."""

    state: str
    username: str | None = None
    display_name: str | None = None


@dataclass(frozen=True)
class Accepted:
    token: str  # for the session cookie
    username: str
    must_enrol: bool


_RESERVED = frozenset({"invite"})  # /admin/people/invite is a page, not a person


def _username_from(session, email: str) -> str:
    base = re.sub(r"[^a-z0-9._-]", "", email.split("@", 1)[0].lower()).strip("._-")[:56] or "user"
    base = base if len(base) >= 2 and base not in _RESERVED else f"{base}-user"
    taken = set(session.scalars(select(User.username).where(User.username.like(f"{base}%"))))
    if base not in taken:
        return base
    return next(f"{base}{n}" for n in range(2, 10_000) if f"{base}{n}" not in taken)


class Invitations:
    def __init__(self, core: Core, people):
        self.core = core
        self.people = people

    def _admin(self, actor: Actor) -> None:
        if ADMIN not in actor.roles:
            raise Forbidden("only an administrator can invite people")

    def _send(self, session, user: User, actor: str, base_url: str | None, now: dt.datetime) -> Invitation:
        if not base_url:
            raise Conflict(NO_BASE_URL)
        token, hashed = one_time_links.new_token()
        expires = now + dt.timedelta(days=self.core.settings.invitation_valid_days)
        invitation = Invitation(
            token_hash=hashed, user_id=user.id, invited_by=actor, created_at=now, expires_at=expires
        )
        session.add(invitation)
        session.flush()
        one_time_links.send(
            session,
            key=key(invitation.id),
            template=TEMPLATE,
            recipient=user.email,
            data={
                "name": user.display_name,
                "username": user.username,
                "service": "reviewflow",
                "partnership": self.core.settings.partnership_name,
                "link": f"{base_url}/invitation/{token}",
                "expires": one_time_links.in_words(expires),
            },
            actor=actor,
            now=now,
        )
        return invitation

    def _withdraw_open(self, session, user_id: int, now: dt.datetime) -> list[int]:
        open_ones = list(
            session.scalars(
                select(Invitation).where(
                    Invitation.user_id == user_id,
                    Invitation.accepted_at.is_(None),
                    Invitation.revoked_at.is_(None),
                )
            )
        )
        for invitation in open_ones:
            invitation.revoked_at = now
            one_time_links.spent(session, key(invitation.id))
        return [i.id for i in open_ones]

    def invite(
        self,
        name: str,
        email: str,
        roles: list[str],
        agency_role: str | None,
        actor: Actor,
        base_url: str | None,
    ) -> dict:
        """Make the account (disabled, no password) and e-mail its one-time link. Every problem with the
        name, the address and the roles is reported at once (``Invalid`` with each field)."""
        self._admin(actor)
        name, email = " ".join((name or "").split())[:255], (email or "").strip()
        problems = []
        if not name:
            problems.append({"path": "name", "message": "Enter the person's full name"})
        if not email:
            problems.append({"path": "email", "message": "Enter the person's e-mail address"})
        elif not valid_email(email):
            problems.append(
                {
                    "path": "email",
                    "message": "Enter an e-mail address in the correct format, like name@example.org",
                }
            )
        try:
            chosen = self.people.check_roles(roles, agency_role)
        except Invalid as exc:
            problems.append({"path": exc.details[0]["path"], "message": exc.message})
        if problems:
            raise Invalid(problems[0]["message"], problems)
        if not base_url:
            raise Conflict(NO_BASE_URL)
        now = clock.now()
        with self.core.db.transaction() as session:
            if session.scalar(select(User.id).where(func.lower(User.email) == email.lower())):
                raise Invalid(
                    "Someone already has this e-mail address: find them in the list of people",
                    [{"path": "email", "message": "taken"}],
                )
            user = User(
                username=_username_from(session, email),
                display_name=name,
                email=email,
                password_hash=None,
                active=False,
                created_at=now,
            )
            session.add(user)
            session.flush()
            for role in chosen:
                session.add(UserRole(user_id=user.id, role=role))
            invitation = self._send(session, user, actor.username, base_url, now)
            audit.record(
                session,
                "person_invited",
                actor.username,
                at=now,
                detail={
                    "username": user.username,
                    "before": None,
                    "after": {"name": name, "email": email, "roles": chosen, "active": False},
                    "invitation": invitation.id,
                    "expires_at": invitation.expires_at.isoformat(),
                },
            )
            return {"username": user.username, "invitation": invitation.id}

    def resend(self, username: str, actor: Actor, base_url: str | None) -> dict:
        """A new link for someone who has not yet accepted (the old one stops working)."""
        self._admin(actor)
        now = clock.now()
        with self.core.db.transaction() as session:
            user = self._invited(session, username)
            withdrawn = self._withdraw_open(session, user.id, now)
            invitation = self._send(session, user, actor.username, base_url, now)
            audit.record(
                session,
                "invitation_resent",
                actor.username,
                at=now,
                detail={"username": username, "withdrawn": withdrawn, "invitation": invitation.id},
            )
            return {"invitation": invitation.id}

    def revoke(self, username: str, actor: Actor) -> int:
        """Withdraw a person's open invitation: the link says so; the account stays disabled."""
        self._admin(actor)
        now = clock.now()
        with self.core.db.transaction() as session:
            user = self._invited(session, username)
            withdrawn = self._withdraw_open(session, user.id, now)
            audit.record(
                session,
                "invitation_revoked",
                actor.username,
                at=now,
                detail={"username": username, "withdrawn": withdrawn},
            )
            return len(withdrawn)

    @staticmethod
    def _invited(session, username: str) -> User:
        user = session.scalars(select(User).where(User.username == username).with_for_update()).first()
        if user is None:
            raise NotFound(f"no user '{username}'")
        if user.password_hash or user.active:
            raise Conflict(f"'{username}' has accepted their invitation already")
        if not user.email:
            raise Conflict(f"'{username}' has no e-mail address")
        return user

    def link(self, token: str | None) -> Link:
        """What an invitation link is worth now (its page asks before showing the form)."""
        hashed = one_time_links.hash_of(token)
        if hashed is None:
            return Link("unknown")
        with self.core.db.reading() as session:
            row = session.execute(
                select(Invitation, User.username, User.display_name)
                .join(User, User.id == Invitation.user_id)
                .where(Invitation.token_hash == hashed)
            ).first()
            if row is None:
                return Link("unknown")
            return Link(self._state(row.Invitation, clock.now()), row.username, row.display_name)

    @staticmethod
    def _state(invitation: Invitation, now: dt.datetime) -> str:
        if invitation.accepted_at is not None:
            return "used"
        if invitation.revoked_at is not None:
            return "revoked"
        if invitation.expires_at <= now:
            return "expired"
        return "open"

    def accept(self, token: str | None, password: str, address: str) -> Accepted:
        """The person's chosen password: the link is spent, the account enabled, a session opened (one
        that opens only the set-up of multi-factor sign-in where their roles require it)."""
        hashed = one_time_links.hash_of(token)
        now = clock.now()
        with self.core.db.transaction() as session:
            row = (
                session.scalars(
                    select(Invitation).where(Invitation.token_hash == hashed).with_for_update()
                ).first()
                if hashed
                else None
            )
            state = self._state(row, now) if row is not None else "unknown"
            if state != "open":
                raise Conflict(state)
            user = session.scalars(select(User).where(User.id == row.user_id).with_for_update()).one()
            require_good_password(password, user.username)
            user.password_hash = hash_password(password)
            user.active = True
            row.accepted_at = now
            one_time_links.spent(session, key(row.id))
            audit.record(
                session,
                "invitation_accepted",
                user.username,
                at=now,
                detail={
                    "username": user.username,
                    "invitation": row.id,
                    "before": {"active": False},
                    "after": {"active": True},
                },
            )
            session_token = open_session(session, user, address, "invitation", now, self.core.settings)
            sign_in_limits.succeeded(session, user.username)
            roles = frozenset(session.scalars(select(UserRole.role).where(UserRole.user_id == user.id)))
            enrol = mfa_required(roles, self.core.settings) and user.mfa_enrolled_at is None
            return Accepted(session_token, user.username, enrol)
