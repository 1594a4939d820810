"""The sign-in limit: at most 5 refused sign-ins per user name and 30 per address (an office shares one) in
15 minutes. Kept in the database so that every web process counts the same refusals; a wrong password and
a wrong code count alike."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from engine.store.models import SignInFailure

PER_USER = 5
PER_ADDRESS = 30
WINDOW = dt.timedelta(minutes=15)


def _keys(username: str, address: str) -> tuple[str, str]:
    return f"u:{username[:64]}", f"a:{address[:64]}"


def blocked(session: Session, username: str, address: str, now: dt.datetime) -> bool:
    """Whether this name or this address has used up its refusals for now."""
    user_key, address_key = _keys(username, address)
    since = now - WINDOW
    counts = dict(
        session.execute(
            select(SignInFailure.key, func.count())
            .where(SignInFailure.key.in_((user_key, address_key)), SignInFailure.at > since)
            .group_by(SignInFailure.key)
        ).all()
    )
    return counts.get(user_key, 0) >= PER_USER or counts.get(address_key, 0) >= PER_ADDRESS


def failed(session: Session, username: str, address: str, now: dt.datetime) -> None:
    """Count one refusal against the name and the address, and forget refusals older than the window."""
    session.execute(delete(SignInFailure).where(SignInFailure.at <= now - WINDOW))
    for key in _keys(username, address):
        session.add(SignInFailure(key=key, at=now))


def succeeded(session: Session, username: str) -> None:
    """A complete sign-in clears the name's refusals (the address keeps its own)."""
    session.execute(delete(SignInFailure).where(SignInFailure.key == _keys(username, "")[0]))


# Other things asked for without signing in (a password reset link) are counted in the same table and
# window under keys of their own, so that every web process counts them alike.


def over(session: Session, limits: dict[str, int], now: dt.datetime) -> bool:
    """Whether any of ``limits``'s keys has been counted its number of times within the window."""
    counts = dict(
        session.execute(
            select(SignInFailure.key, func.count())
            .where(SignInFailure.key.in_(list(limits)), SignInFailure.at > now - WINDOW)
            .group_by(SignInFailure.key)
        ).all()
    )
    return any(counts.get(key, 0) >= limit for key, limit in limits.items())


def count(session: Session, keys: tuple[str, ...], now: dt.datetime) -> None:
    """Count one request against each key, and forget what is older than the window."""
    session.execute(delete(SignInFailure).where(SignInFailure.at <= now - WINDOW))
    for key in keys:
        session.add(SignInFailure(key=key, at=now))
