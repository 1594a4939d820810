"""Local accounts, roles and API tokens. Passwords are argon2 hashes; tokens are stored as SHA-256."""

from __future__ import annotations

import functools
import hashlib
import re
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import bindparam, select, update

from engine import clock, passwords
from engine.services import audit
from engine.services.actor import Actor
from engine.services.core import Core
from engine.services.errors import Conflict, Invalid, NotFound, Unauthorized
from engine.services.sessions import end_all
from engine.store.models import ApiToken, Invitation, User, UserRole

_hasher = PasswordHasher()
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
# one address, nothing a mail header could be bent with: no spaces, controls, commas or angle brackets
_EMAIL = re.compile(
    r"^[^\s@,<>;:\"()\[\]\\]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$"
)


def token_hash(token: str) -> str:
    """How a secret is kept: its SHA-256, never the secret itself."""
    return hashlib.sha256(token.encode()).hexdigest()


def require_good_password(password: str, username: str | None) -> None:
    """The password policy (engine/passwords.py), as the error every caller shows."""
    problem = passwords.problem(password, username)
    if problem is not None:
        raise Invalid(problem, [{"path": "password", "message": problem}])


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def valid_email(email: str | None) -> bool:
    return bool(email) and len(email) <= 320 and bool(_EMAIL.fullmatch(email))


@functools.cache
def _holder_statement(secret):
    """Who holds an unrevoked secret of this kind, by its hash; built once per kind (every API call asks)."""
    return (
        select(User.username, UserRole.role)
        .join(secret, secret.user_id == User.id)
        .outerjoin(UserRole, UserRole.user_id == User.id)
        .where(secret.token_hash == bindparam("hash"), secret.revoked.is_(False), User.active.is_(True))
    )


class Users:
    def __init__(self, core: Core):
        self.core = core

    def add(
        self,
        username: str,
        roles: list[str],
        password: str | None = None,
        display_name: str | None = None,
        email: str | None = None,
        actor: str = "system",
    ) -> dict:
        if not _USERNAME.match(username or ""):
            raise Invalid(
                "user names are 2-64 lower-case letters, digits, '.', '_' or '-'",
                [{"path": "username", "message": "invalid"}],
            )
        if not roles:
            raise Invalid("give at least one role", [{"path": "role", "message": "required"}])
        if password is not None:
            require_good_password(password, username)
        if email is not None and not (len(email) <= 320 and _EMAIL.fullmatch(email)):
            raise Invalid("the e-mail address is not valid", [{"path": "email", "message": "invalid"}])
        with self.core.db.transaction() as session:
            if session.scalars(select(User.id).where(User.username == username)).first():
                raise Conflict(f"user '{username}' already exists")
            user = User(
                username=username,
                display_name=display_name or username,
                email=email,
                password_hash=_hasher.hash(password) if password else None,
                active=True,
                created_at=clock.now(),
            )
            session.add(user)
            session.flush()
            for role in sorted(set(roles)):
                session.add(UserRole(user_id=user.id, role=role))
            audit.record(
                session, "user_added", actor, detail={"username": username, "roles": sorted(set(roles))}
            )
            return {"id": user.id, "username": username, "roles": sorted(set(roles))}

    def create_token(self, username: str, actor: str = "system", name: str | None = None) -> str:
        """A new API token for ``username``, named for what it is for; shown once, only its SHA-256 kept."""
        name = " ".join((name or "").split())[:120] or None
        token = "rf_" + secrets.token_urlsafe(32)
        with self.core.db.transaction() as session:
            user = session.scalars(select(User).where(User.username == username)).first()
            if user is None:
                raise NotFound(f"no user '{username}'")
            row = ApiToken(user_id=user.id, token_hash=token_hash(token), created_at=clock.now(), name=name)
            session.add(row)
            session.flush()
            audit.record(
                session,
                "token_created",
                actor,
                detail={"username": username, "token_id": row.id, "name": name},
            )
        return token

    def tokens(self, username: str) -> list[dict]:
        """A person's API tokens, newest first: name, when made, whether withdrawn (never the token)."""
        with self.core.db.reading() as session:
            rows = session.execute(
                select(ApiToken.id, ApiToken.name, ApiToken.created_at, ApiToken.revoked)
                .join(User, User.id == ApiToken.user_id)
                .where(User.username == username)
                .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
            ).all()
        return [{"id": r.id, "name": r.name, "created_at": r.created_at, "revoked": r.revoked} for r in rows]

    def revoke_token(self, username: str, token_id: int, actor: str = "system") -> None:
        """Withdraw one of a person's API tokens."""
        with self.core.db.transaction() as session:
            row = session.execute(
                select(ApiToken)
                .join(User, User.id == ApiToken.user_id)
                .where(User.username == username, ApiToken.id == token_id)
            ).scalar_one_or_none()
            if row is None:
                raise NotFound(f"no such token of '{username}'")
            if row.revoked:
                return
            row.revoked = True
            audit.record(
                session,
                "token_revoked",
                actor,
                detail={"username": username, "token_id": token_id, "name": row.name},
            )

    def set_password(self, username: str, password: str, actor: str = "system") -> None:
        """Set a person's password (the policy applies); their open sessions stay as they are (a reset by
        e-mail ends them: engine/services/password_resets.py)."""
        require_good_password(password, username)
        with self.core.db.transaction() as session:
            user = session.scalars(select(User).where(User.username == username)).first()
            if user is None:
                raise NotFound(f"no user '{username}'")
            user.password_hash = _hasher.hash(password)
            audit.record(session, "password_set", actor, detail={"username": username})

    def revoke_tokens(self, username: str, actor: str = "system") -> int:
        """Withdraw every API token a user holds (a lost laptop, a leaver)."""
        with self.core.db.transaction() as session:
            user = session.scalars(select(User).where(User.username == username)).first()
            if user is None:
                raise NotFound(f"no user '{username}'")
            count = session.execute(
                update(ApiToken)
                .where(ApiToken.user_id == user.id, ApiToken.revoked.is_(False))
                .values(revoked=True)
            ).rowcount
            audit.record(session, "tokens_revoked", actor, detail={"username": username, "count": count})
            return count

    def set_active(self, username: str, active: bool, actor: str = "system") -> None:
        """Disable (or re-enable) an account: a disabled user can neither sign in nor use a token, and every
        session they had open ends."""
        with self.core.db.transaction() as session:
            user = session.scalars(select(User).where(User.username == username)).first()
            if user is None:
                raise NotFound(f"no user '{username}'")
            detail = {"username": username, "before": {"active": user.active}, "after": {"active": active}}
            user.active = active
            if not active:  # signed out everywhere, for good (enabling does not revive)
                detail["sessions_ended"] = end_all(session, user.id, "disabled", clock.now())
                # and an invitation not yet accepted no longer opens the account
                detail["invitations_withdrawn"] = session.execute(
                    update(Invitation)
                    .where(
                        Invitation.user_id == user.id,
                        Invitation.accepted_at.is_(None),
                        Invitation.revoked_at.is_(None),
                    )
                    .values(revoked_at=clock.now())
                ).rowcount
            audit.record(session, "user_enabled" if active else "user_disabled", actor, detail=detail)

    def email_settings(self, username: str) -> dict:
        """A person's e-mail address and whether they are e-mailed about new tasks."""
        with self.core.db.reading() as session:
            user = session.scalars(select(User).where(User.username == username)).first()
            if user is None:
                raise NotFound(f"no user '{username}'")
            return {"email": user.email, "new_task_emails": user.new_task_emails}

    def set_email_settings(
        self, username: str, *, email: str | None = None, new_task_emails: bool | None = None, actor: str
    ) -> dict:
        """Change a person's address and their choice of new-task e-mails (audited; ``None`` leaves one as
        it is, an empty address removes it)."""
        if email is not None:
            email = email.strip()
            if email and not (len(email) <= 320 and _EMAIL.fullmatch(email)):
                raise Invalid(
                    "Enter an e-mail address in the correct format, like name@example.org",
                    [{"path": "email", "message": "invalid"}],
                )
        with self.core.db.transaction() as session:
            user = session.scalars(select(User).where(User.username == username)).first()
            if user is None:
                raise NotFound(f"no user '{username}'")
            changed = {}
            if email is not None and (email or None) != user.email:
                user.email = email or None
                changed["email"] = "removed" if not email else "changed"
            if new_task_emails is not None and new_task_emails != user.new_task_emails:
                user.new_task_emails = new_task_emails
                changed["new_task_emails"] = new_task_emails
            if changed:
                audit.record(
                    session, "email_settings_changed", actor, detail={"username": username, **changed}
                )
            return {"email": user.email, "new_task_emails": user.new_task_emails, "changed": sorted(changed)}

    def actor_for_token(self, token: str) -> Actor:
        """Who an API token belongs to (every API request asks)."""
        actor = self.holder(ApiToken, token)
        if actor is None:
            raise Unauthorized("the token is not valid")
        return actor

    def holder(self, secret, token: str | None) -> Actor | None:
        """The active person holding an unrevoked secret (``ApiToken`` or ``CalendarFeed``: only its SHA-256
        is stored), with their roles, in one statement outside any transaction; None for anything else."""
        with self.core.db.lookup() as connection:
            rows = connection.execute(_holder_statement(secret), {"hash": token_hash(token or "")}).all()
        if not rows:
            return None
        return Actor(rows[0].username, frozenset(r.role for r in rows if r.role is not None))

    def authenticate(self, username: str, password: str) -> Actor | None:
        with self.core.db.reading() as session:
            user = session.scalars(
                select(User).where(User.username == username, User.active.is_(True))
            ).first()
            if user is None or not user.password_hash:
                _hasher.hash("timing-equaliser")
                return None
            try:
                _hasher.verify(user.password_hash, password)
            except (VerificationError, InvalidHashError):
                return None
            return self._actor(session, user)

    def actor(self, username: str) -> Actor:
        with self.core.db.reading() as session:
            user = session.scalars(
                select(User).where(User.username == username, User.active.is_(True))
            ).first()
            if user is None:
                raise NotFound(f"no user '{username}'")
            return self._actor(session, user)

    def _actor(self, session, user: User) -> Actor:
        roles = frozenset(session.scalars(select(UserRole.role).where(UserRole.user_id == user.id)))
        return Actor(user.username, roles)

    def list(self) -> list[dict]:
        with self.core.db.reading() as session:
            out = []
            for u in session.scalars(select(User).order_by(User.username)):
                roles = sorted(session.scalars(select(UserRole.role).where(UserRole.user_id == u.id)))
                out.append(
                    {
                        "username": u.username,
                        "display_name": u.display_name,
                        "roles": roles,
                        "active": u.active,
                        "email": u.email,
                        "new_task_emails": u.new_task_emails,
                    }
                )
            return out
