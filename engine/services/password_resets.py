"""'Forgotten your password?': a one-time link to the person's own address, valid
``password_reset_valid_minutes``. Asking always gets the same answer, whether or not an account has the
address, so the page cannot be used to learn who has one; the same statements run either way, and the
e-mail itself is sent later by the worker. Asking is limited per address asked about and per client
address, in the table that counts refused sign-ins (engine/services/sign_in_limits.py), within its window.
A newer link spends the older ones; using one sets the new password (the policy of engine/passwords.py),
spends it, and ends every session the person has open."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select, update

from engine import clock
from engine.services import audit, one_time_links, sign_in_limits
from engine.services.core import Core
from engine.services.errors import Conflict
from engine.services.sessions import end_all
from engine.services.users import hash_password, require_good_password, valid_email
from engine.store.models import PasswordReset, User

TEMPLATE = "password_reset"
PER_EMAIL = 3  # links asked for one address in the sign-in limit's window (15 minutes)
PER_CLIENT = 10  # and from one client address


def key(reset_id: int) -> str:
    return f"password-reset:{reset_id}"


@dataclass(frozen=True)
class Link:
    state: str  # open, used, expired, unknown
    username: str | None = None


class PasswordResets:
    def __init__(self, core: Core):
        self.core = core

    def ask(self, email: str, client: str, base_url: str | None) -> None:
        """Send a link to the account with this address, if there is one that is enabled and has a password
        (an invited person uses their invitation); never says which."""
        email = (email or "").strip()[:320]
        now = clock.now()
        keys = (f"r:e:{email.lower()}"[:200], f"r:a:{client[:64]}")
        with self.core.db.transaction() as session:
            blocked = sign_in_limits.over(session, {keys[0]: PER_EMAIL, keys[1]: PER_CLIENT}, now)
            sign_in_limits.count(session, keys, now)
            user = (
                session.scalars(
                    select(User).where(
                        func.lower(User.email) == email.lower(),
                        User.active.is_(True),
                        User.password_hash.is_not(None),
                    )
                ).first()
                if valid_email(email)
                else None
            )
            audit.record(
                session,
                "password_reset_asked",
                user.username if user is not None else "-",
                at=now,
                detail={"address": client[:64], "known": user is not None, "limited": blocked},
            )
            if user is None or blocked or not base_url:
                return
            self._spend_open(session, user.id, now)
            token, hashed = one_time_links.new_token()
            expires = now + dt.timedelta(minutes=self.core.settings.password_reset_valid_minutes)
            reset = PasswordReset(token_hash=hashed, user_id=user.id, created_at=now, expires_at=expires)
            session.add(reset)
            session.flush()
            one_time_links.send(
                session,
                key=key(reset.id),
                template=TEMPLATE,
                recipient=user.email,
                data={
                    "username": user.username,
                    "service": "reviewflow",
                    "link": f"{base_url}/password-reset/{token}",
                    "expires": one_time_links.in_words(expires),
                },
                actor=user.username,
                now=now,
            )

    @staticmethod
    def _spend_open(session, user_id: int, now: dt.datetime) -> None:
        ids = list(
            session.scalars(
                select(PasswordReset.id).where(
                    PasswordReset.user_id == user_id, PasswordReset.used_at.is_(None)
                )
            )
        )
        if ids:
            session.execute(update(PasswordReset).where(PasswordReset.id.in_(ids)).values(used_at=now))
            for reset_id in ids:
                one_time_links.spent(session, key(reset_id))

    def link(self, token: str | None) -> Link:
        hashed = one_time_links.hash_of(token)
        if hashed is None:
            return Link("unknown")
        with self.core.db.reading() as session:
            row = session.execute(
                select(PasswordReset, User.username, User.active)
                .join(User, User.id == PasswordReset.user_id)
                .where(PasswordReset.token_hash == hashed)
            ).first()
            if row is None:
                return Link("unknown")
            return Link(self._state(row.PasswordReset, row.active, clock.now()), row.username)

    @staticmethod
    def _state(reset: PasswordReset, active: bool, now: dt.datetime) -> str:
        if reset.used_at is not None:
            return "used"
        if reset.expires_at <= now or not active:
            return "expired"
        return "open"

    def use(self, token: str | None, password: str, client: str) -> str:
        """Set the new password with an open link; the user name. ``Conflict`` with the link's state if it
        is not open; ``Invalid`` (nothing changed, the link still open) if the password is refused."""
        hashed = one_time_links.hash_of(token)
        now = clock.now()
        with self.core.db.transaction() as session:
            reset = (
                session.scalars(
                    select(PasswordReset).where(PasswordReset.token_hash == hashed).with_for_update()
                ).first()
                if hashed
                else None
            )
            user = session.get(User, reset.user_id) if reset is not None else None
            state = self._state(reset, user.active, now) if reset is not None else "unknown"
            if state != "open":
                raise Conflict(state)
            require_good_password(password, user.username)
            user.password_hash = hash_password(password)
            self._spend_open(session, user.id, now)
            ended = end_all(session, user.id, "password_reset", now)
            sign_in_limits.succeeded(session, user.username)
            audit.record(
                session,
                "password_reset",
                user.username,
                at=now,
                detail={"username": user.username, "address": client[:64], "sessions_ended": ended},
            )
            return user.username
