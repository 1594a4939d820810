"""Signed-in browser sessions, kept on the server: the cookie holds only a random token, the database its
SHA-256. Signing out, disabling the account or resetting its second factor ends the session for good, so a
copied cookie is worth nothing afterwards. A session ends after ``session_idle_minutes`` without a request
and ``session_max_hours`` after sign-in however busy; each ending is audited.

Who must sign in with a second factor is decided here too, because a session of such a person that has
none set up may open nothing but the set-up page."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.orm import Session

from engine import clock
from engine.services import audit
from engine.services.actor import ADMIN, MANAGER, PROCESS_OWNER, Actor
from engine.services.core import Core
from engine.store.models import User, UserRole, WebSession

MFA_REQUIRED_ROLES = frozenset({MANAGER, PROCESS_OWNER, ADMIN})
TOUCH_EVERY = dt.timedelta(seconds=60)  # how stale last_seen_at may be: the idle timeout is this precise


def mfa_required(roles: frozenset[str], settings) -> bool:
    """Managers, process owners and admins (everyone, with ``REVIEWFLOW_MFA_REQUIRED_FOR_ALL``)."""
    return settings.mfa_required_for_all or bool(roles & MFA_REQUIRED_ROLES)


def session_id(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(session: Session, user: User, address: str, method: str, now: dt.datetime, settings) -> str:
    """Start a session for someone who has just proved who they are; the token for their cookie."""
    forgotten = now - dt.timedelta(hours=settings.session_max_hours + 24)
    session.execute(
        delete(WebSession).where(WebSession.user_id == user.id, WebSession.created_at < forgotten)
    )
    token = secrets.token_urlsafe(32)
    session.add(WebSession(id=session_id(token), user_id=user.id, created_at=now, last_seen_at=now))
    audit.record(
        session, "signed_in", user.username, at=now, detail={"address": address[:64], "method": method}
    )
    return token


def end_all(session: Session, user_id: int, reason: str, now: dt.datetime) -> int:
    """End every open session of a person (disabled, second factor reset); how many there were."""
    return session.execute(
        update(WebSession)
        .where(WebSession.user_id == user_id, WebSession.ended_at.is_(None))
        .values(ended_at=now, ended_reason=reason)
    ).rowcount


@dataclass(frozen=True)
class Resumed:
    """What a request's cookie is worth: who is signed in (or nobody), and whether they must first set up
    a second factor; ``ended`` says why a session just ran out ("idle" or "lifetime") so the page can say."""

    actor: Actor | None
    must_enrol: bool = False
    ended: str | None = None


# who a cookie's session belongs to, with their roles; built once (every page asks)
_RESUME = (
    select(
        WebSession.created_at,
        WebSession.last_seen_at,
        User.username,
        User.active,
        User.mfa_enrolled_at,
        UserRole.role,
    )
    .join(User, User.id == WebSession.user_id)
    .outerjoin(UserRole, UserRole.user_id == User.id)
    .where(WebSession.id == bindparam("sid"), WebSession.ended_at.is_(None))
)


class Sessions:
    def __init__(self, core: Core):
        self.core = core

    def resume(self, token: str | None) -> Resumed:
        """The person behind a cookie's token, if their session is still open; ends it if it has run out."""
        if not token or len(token) > 128:
            return Resumed(None)
        sid = session_id(token)
        with self.core.db.lookup() as connection:  # one statement: every page asks
            rows = connection.execute(_RESUME, {"sid": sid}).all()
        if not rows:
            return Resumed(None)
        first = rows[0]
        created_at, last_seen_at = first.created_at, first.last_seen_at
        username, active, enrolled = first.username, first.active, first.mfa_enrolled_at is not None
        roles = frozenset(r.role for r in rows if r.role is not None)
        now = clock.now()
        settings = self.core.settings
        reason = (
            "disabled"
            if not active
            else "idle"
            if now - last_seen_at > dt.timedelta(minutes=settings.session_idle_minutes)
            else "lifetime"
            if now - created_at >= dt.timedelta(hours=settings.session_max_hours)
            else None
        )
        if reason is not None:
            self._expire(sid, username, reason, now)
            return Resumed(None, ended=None if reason == "disabled" else reason)
        if now - last_seen_at >= TOUCH_EVERY:
            with self.core.db.transaction() as session:
                session.execute(
                    update(WebSession)
                    .where(WebSession.id == sid, WebSession.ended_at.is_(None))
                    .values(last_seen_at=now)
                )
        return Resumed(Actor(username, roles), must_enrol=mfa_required(roles, settings) and not enrolled)

    def _expire(self, sid: str, username: str, reason: str, now: dt.datetime) -> None:
        with self.core.db.transaction() as session:
            ended = session.execute(
                update(WebSession)
                .where(WebSession.id == sid, WebSession.ended_at.is_(None))
                .values(ended_at=now, ended_reason=reason)
            ).rowcount
            if ended and reason != "disabled":  # disabling was audited when it was done
                audit.record(session, "session_expired", username, at=now, detail={"reason": reason})

    def end(self, token: str | None, address: str) -> None:
        """Sign out: the session's token is refused from now on, wherever the cookie went."""
        if not token or len(token) > 128:
            return
        now = clock.now()
        with self.core.db.transaction() as session:
            row = session.get(WebSession, session_id(token))
            if row is None or row.ended_at is not None:
                return
            row.ended_at, row.ended_reason = now, "signed_out"
            username = session.scalar(select(User.username).where(User.id == row.user_id))
            audit.record(session, "signed_out", username, at=now, detail={"address": address[:64]})
