"""Signing in: a password, then (for someone with an authenticator set up) a code. Each step is one
command: refusals counted in the shared limit and audited, or a session opened and the person's refusals
forgotten, in the same transaction. The password alone never opens a session for someone who has a
second factor; someone who must have one and has not yet set it up gets a session that opens only the
set-up page (``must_enrol``)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from engine import clock
from engine.services import audit, sign_in_limits
from engine.services.core import Core
from engine.services.mfa import check_second_factor
from engine.services.sessions import mfa_required, open_session
from engine.services.users import Users
from engine.store.models import User


@dataclass(frozen=True)
class SignInResult:
    outcome: str  # signed_in | code_needed | refused | blocked
    token: str | None = None  # for the session cookie, when signed in
    must_enrol: bool = False  # signed in, but must set up a second factor before anything else
    recovery_codes_left: int | None = None  # signed in with a recovery code: how many remain


class SignIn:
    def __init__(self, core: Core, users: Users):
        self.core = core
        self.users = users

    def with_password(self, username: str, password: str, address: str) -> SignInResult:
        now = clock.now()
        with self.core.db.reading() as session:
            if sign_in_limits.blocked(session, username, address, now):
                return SignInResult("blocked")
        actor = self.users.authenticate(username, password)
        with self.core.db.transaction() as session:
            user = (
                session.scalars(
                    select(User).where(User.username == username, User.active.is_(True)).with_for_update()
                ).first()
                if actor is not None
                else None
            )
            if user is None:
                self._refuse(session, username, address, "password", now)
                return SignInResult("refused")
            if user.mfa_enrolled_at is not None:
                return SignInResult("code_needed")
            token = open_session(session, user, address, "password", now, self.core.settings)
            sign_in_limits.succeeded(session, username)
        return SignInResult("signed_in", token, must_enrol=mfa_required(actor.roles, self.core.settings))

    def with_code(self, username: str, code: str, address: str) -> SignInResult:
        """The second step, for someone whose password was right a moment ago: a code or a recovery code."""
        now = clock.now()
        with self.core.db.transaction() as session:
            if sign_in_limits.blocked(session, username, address, now):
                return SignInResult("blocked")
            user = session.scalars(
                select(User).where(User.username == username, User.active.is_(True)).with_for_update()
            ).first()
            checked = check_second_factor(session, user, code, now, self.core.settings) if user else None
            if checked is None:
                self._refuse(session, username, address, "code", now)
                return SignInResult("refused")
            method, left = checked
            token = open_session(session, user, address, method, now, self.core.settings)
            sign_in_limits.succeeded(session, username)
        return SignInResult("signed_in", token, recovery_codes_left=left)

    @staticmethod
    def _refuse(session, username: str, address: str, step: str, now) -> None:
        sign_in_limits.failed(session, username, address, now)
        audit.record(
            session,
            "sign_in_refused",
            username[:64] or "-",
            at=now,
            detail={"address": address[:64], "step": step},
        )
