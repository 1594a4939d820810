"""Multi-factor sign-in with an authenticator app (TOTP, RFC 6238: 6 digits, 30-second steps).

A code is accepted once: the step it belongs to is kept (``totp_last_step``) and only a later step passes,
with one step of tolerance either side for a phone's clock or a slow typist. Ten one-time recovery codes
are shown once at set-up; only their SHA-256 is kept. Set-up makes a new secret each time it starts, so a
secret someone else saw (with the password) is never the one confirmed later. Only an admin resets it.
Codes are read at the product clock, like everything else, so tests move time instead of waiting; only a
demo run on a clock fixed by ``REVIEWFLOW_FAKE_NOW`` reads them at the real time, which is all a phone knows.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets

import pyotp
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from engine import clock
from engine.services import audit
from engine.services.actor import ADMIN, Actor
from engine.services.core import Core
from engine.services.errors import Conflict, Forbidden, Invalid, NotFound
from engine.services.sessions import end_all, mfa_required
from engine.store.models import MfaRecoveryCode, User, UserRole

ISSUER = "reviewflow"
STEP_SECONDS = 30
RECOVERY_CODES = 10
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: read from paper
_SIX_DIGITS = re.compile(r"^\d{6}$")
WRONG_CODE = "The code is not right. Enter the 6-digit code your authenticator app shows now"


def code_time(settings) -> dt.datetime:
    """The instant an authenticator app's code is read at (``REVIEWFLOW_FAKE_NOW`` is refused in
    production)."""
    return dt.datetime.now(dt.UTC) if settings.fake_now else clock.now()


def authenticator_uri(secret: str, username: str) -> str:
    """The ``otpauth://`` address an authenticator app reads from a QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=ISSUER)


def recovery_code_hash(code: str) -> str:
    """Recovery codes are compared however they were typed: case, spaces and hyphens do not matter."""
    return hashlib.sha256(re.sub(r"[^a-z0-9]", "", code.lower()).encode()).hexdigest()


def _matching_step(secret: str, code: str, now: dt.datetime, after: int | None) -> int | None:
    """The step (now, or one either side) whose code this is, if that step is later than ``after``."""
    code = re.sub(r"\s", "", code or "")
    if not _SIX_DIGITS.match(code):
        return None
    totp = pyotp.TOTP(secret)
    current = int(now.timestamp()) // STEP_SECONDS
    for step in (current - 1, current, current + 1):
        if (after is None or step > after) and hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _new_recovery_codes(session: Session, user_id: int) -> list[str]:
    session.execute(delete(MfaRecoveryCode).where(MfaRecoveryCode.user_id == user_id))
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(10))
        codes.append(f"{raw[:5]}-{raw[5:]}")
        session.add(MfaRecoveryCode(user_id=user_id, code_hash=recovery_code_hash(raw), used_at=None))
    return codes


def _codes_left(session: Session, user_id: int) -> int:
    return session.scalar(
        select(func.count())
        .select_from(MfaRecoveryCode)
        .where(MfaRecoveryCode.user_id == user_id, MfaRecoveryCode.used_at.is_(None))
    )


def check_second_factor(
    session: Session, user: User, code: str, now: dt.datetime, settings
) -> tuple[str, int | None] | None:
    """At sign-in: a code from the app ("code") or an unused recovery code ("recovery_code", with how many
    are left), marked used in this transaction; None if it is neither."""
    if not user.totp_secret or user.mfa_enrolled_at is None:
        return None
    step = _matching_step(user.totp_secret, code, code_time(settings), user.totp_last_step)
    if step is not None:
        user.totp_last_step = step
        return "code", None
    if not code or len(code) > 64 or _SIX_DIGITS.match(re.sub(r"\s", "", code)):
        return None
    row = session.scalars(
        select(MfaRecoveryCode)
        .where(
            MfaRecoveryCode.user_id == user.id,
            MfaRecoveryCode.code_hash == recovery_code_hash(code),
            MfaRecoveryCode.used_at.is_(None),
        )
        .with_for_update()
    ).first()
    if row is None:
        return None
    row.used_at = now
    session.flush()
    left = _codes_left(session, user.id)
    audit.record(session, "mfa_recovery_code_used", user.username, at=now, detail={"left": left})
    return "recovery_code", left


class Mfa:
    def __init__(self, core: Core):
        self.core = core

    def _user(self, session: Session, username: str, active: bool = True, lock: bool = True) -> User:
        query = select(User).where(User.username == username)
        if active:
            query = query.where(User.active.is_(True))
        user = session.scalars(query.with_for_update() if lock else query).first()
        if user is None:
            raise NotFound(f"no user '{username}'")
        return user

    def begin_enrolment(self, username: str) -> dict:
        """A new secret to put in an authenticator app (replacing any set-up not confirmed), and its
        ``otpauth://`` address for a QR code."""
        with self.core.db.transaction() as session:
            user = self._user(session, username)
            if user.mfa_enrolled_at is not None:
                raise Conflict("multi-factor sign-in is set up already; an administrator can reset it")
            user.totp_secret = pyotp.random_base32()
            user.totp_last_step = None
            return {"secret": user.totp_secret, "uri": authenticator_uri(user.totp_secret, username)}

    def pending_secret(self, username: str) -> str | None:
        """The secret of a set-up begun and not yet confirmed (to show it again beside a wrong code)."""
        with self.core.db.reading() as session:
            user = self._user(session, username, lock=False)
            return user.totp_secret if user.mfa_enrolled_at is None else None

    def confirm_enrolment(self, username: str, code: str) -> list[str]:
        """The first code from the app proves it holds the secret: set-up is done; the recovery codes,
        shown once and never again."""
        now = clock.now()
        with self.core.db.transaction() as session:
            user = self._user(session, username)
            if user.mfa_enrolled_at is not None:
                raise Conflict("multi-factor sign-in is set up already")
            if not user.totp_secret:
                raise Invalid(
                    "start setting up multi-factor sign-in again", [{"path": "code", "message": "no set-up"}]
                )
            step = _matching_step(user.totp_secret, code, code_time(self.core.settings), None)
            if step is None:
                raise Invalid(WRONG_CODE, [{"path": "code", "message": "not right"}])
            user.totp_last_step, user.mfa_enrolled_at = step, now
            codes = _new_recovery_codes(session, user.id)
            audit.record(session, "mfa_enrolled", username, at=now, detail={})
            return codes

    def renew_recovery_codes(self, username: str, code: str) -> list[str]:
        """Ten new recovery codes for a code from the app; the old ones stop working."""
        now = clock.now()
        with self.core.db.transaction() as session:
            user = self._user(session, username)
            if user.mfa_enrolled_at is None:
                raise Conflict("multi-factor sign-in is not set up")
            step = _matching_step(user.totp_secret, code, code_time(self.core.settings), user.totp_last_step)
            if step is None:
                raise Invalid(WRONG_CODE, [{"path": "code", "message": "not right"}])
            user.totp_last_step = step
            codes = _new_recovery_codes(session, user.id)
            audit.record(session, "mfa_recovery_codes_renewed", username, at=now, detail={})
            return codes

    def status(self, username: str) -> dict:
        with self.core.db.reading() as session:
            user = self._user(session, username, lock=False)
            roles = frozenset(session.scalars(select(UserRole.role).where(UserRole.user_id == user.id)))
            enrolled = user.mfa_enrolled_at is not None
            return {
                "enrolled": enrolled,
                "enrolled_at": user.mfa_enrolled_at.isoformat() if enrolled else None,
                "recovery_codes_left": _codes_left(session, user.id) if enrolled else 0,
                "required": mfa_required(roles, self.core.settings),
            }

    def reset(self, username: str, actor: Actor) -> dict:
        """An admin takes away a lost authenticator: the person sets up a new one at their next sign-in, and
        every session they have open ends now."""
        if ADMIN not in actor.roles:
            raise Forbidden("only an administrator can reset multi-factor sign-in")
        now = clock.now()
        with self.core.db.transaction() as session:
            user = self._user(session, username, active=False)
            user.totp_secret = user.totp_last_step = user.mfa_enrolled_at = None
            session.execute(delete(MfaRecoveryCode).where(MfaRecoveryCode.user_id == user.id))
            ended = end_all(session, user.id, "mfa_reset", now)
            audit.record(
                session,
                "mfa_reset",
                actor.username,
                at=now,
                detail={"username": username, "sessions_ended": ended},
            )
            return {"username": username, "mfa_enrolled": False, "sessions_ended": ended}
