"""Personal iCalendar feeds of deadlines: a secret address per person, revocable, that a calendar
program can subscribe to without signing in. Only the token's SHA-256 is stored."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets

from sqlalchemy import select, update

from engine import clock
from engine.services.actor import Actor
from engine.services.core import Core
from engine.services.errors import NotFound
from engine.store.models import AuditEvent, CalendarFeed, Deadline, HumanTask, Instance, User


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Feeds:
    def __init__(self, core: Core, users):
        self.core, self.users = core, users

    def create(self, actor: Actor) -> str:
        """A new feed token for this person; any earlier one stops working."""
        token = "cal_" + secrets.token_urlsafe(32)
        with self.core.db.transaction() as session:
            user = session.scalars(select(User).where(User.username == actor.username)).one()
            session.execute(update(CalendarFeed).where(CalendarFeed.user_id == user.id).values(revoked=True))
            session.add(
                CalendarFeed(user_id=user.id, token_hash=_hash(token), created_at=clock.now(), revoked=False)
            )
            session.add(
                AuditEvent(
                    instance_id=None, at=clock.now(), actor=actor.username, kind="calendar_feed_created"
                )
            )
        return token

    def revoke(self, actor: Actor) -> None:
        with self.core.db.transaction() as session:
            user = session.scalars(select(User).where(User.username == actor.username)).one()
            session.execute(update(CalendarFeed).where(CalendarFeed.user_id == user.id).values(revoked=True))
            session.add(
                AuditEvent(
                    instance_id=None, at=clock.now(), actor=actor.username, kind="calendar_feed_revoked"
                )
            )

    def has_feed(self, actor: Actor) -> bool:
        with self.core.db.reading() as session:
            return (
                session.scalars(
                    select(CalendarFeed.id)
                    .join(User, User.id == CalendarFeed.user_id)
                    .where(User.username == actor.username, CalendarFeed.revoked.is_(False))
                ).first()
                is not None
            )

    def owner(self, token: str) -> Actor:
        with self.core.db.reading() as session:
            row = session.execute(
                select(User.username)
                .join(CalendarFeed, CalendarFeed.user_id == User.id)
                .where(
                    CalendarFeed.token_hash == _hash(token or ""),
                    CalendarFeed.revoked.is_(False),
                    User.active.is_(True),
                )
            ).first()
        if row is None:
            raise NotFound("no such calendar feed")
        return self.users.actor(row[0])

    def deadlines(self, actor: Actor) -> list[dict]:
        """Pending deadlines of the cases this person works on (all cases for a manager), those whose timer
        has not armed yet included where their due date is known (003 §3.4-§4.6: the clocks run from day
        0)."""
        with self.core.db.reading() as session:
            stmt = (
                select(Deadline, Instance.business_key, Instance.process_id)
                .join(Instance, Instance.id == Deadline.instance_id)
                .where(Deadline.status.in_(("pending", "planned")))
            )  # planned: due, its timer not armed yet
            if not actor.is_manager:
                mine = select(HumanTask.instance_id).where(
                    HumanTask.state == "open", HumanTask.role.in_(sorted(actor.roles))
                )
                stmt = stmt.where(Deadline.instance_id.in_(mine))
            rows = session.execute(stmt.order_by(Deadline.due_date, Deadline.id)).all()
            return [
                {
                    "uid": f"deadline-{d.id}@reviewflow",
                    "key": d.key,
                    "name": d.name,
                    "due_date": d.due_date,
                    "source": d.source,
                    "business_key": bk,
                    "process_id": pid,
                }
                for d, bk, pid in rows
            ]


_ICS_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")  # RFC 5545 TEXT allows no control but HTAB


def ics_text(text: str) -> str:
    """A TEXT value as RFC 5545 §3.3.11 writes it: backslash, semicolon and comma escaped, every line
    break (CRLF, a lone CR or LF, U+2028 and U+2029) written as ``\\n``, other control characters dropped.
    So no value can end its line and start another property, or another event."""
    text = re.sub(r"\r\n|[\r\n\u2028\u2029\x85]", "\n", text)
    text = _ICS_CONTROL.sub("", text)
    return text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def to_ics(events: list[dict], now: dt.datetime) -> str:
    """RFC 5545: one all-day event per deadline, lines folded at 75 octets, CRLF endings."""
    esc = ics_text

    def fold(line: str) -> list[str]:
        out, raw = [], line.encode("utf-8")
        while len(raw) > 75:
            cut = 75 if not out else 74
            while (raw[cut] & 0xC0) == 0x80:  # never split a UTF-8 sequence
                cut -= 1
            out.append(raw[:cut].decode("utf-8"))
            raw = raw[cut:]
        out.append(raw.decode("utf-8"))
        return [out[0]] + [" " + part for part in out[1:]]

    stamp = now.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//reviewflow//deadlines//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "X-WR-CALNAME:reviewflow deadlines",
    ]
    for e in events:
        day = e["due_date"]
        lines += [
            "BEGIN:VEVENT",
            f"UID:{e['uid']}",
            f"DTSTAMP:{stamp}",
            f"DTSTART;VALUE=DATE:{day:%Y%m%d}",
            f"DTEND;VALUE=DATE:{day + dt.timedelta(days=1):%Y%m%d}",
            f"SUMMARY:{esc(e['business_key'] or '')} {esc(e['key'])}: {esc(e['name'])}",
            f"DESCRIPTION:{esc(e['name'])} ({esc(e['source'] or '')}). Due by the end of this day.",
            "TRANSP:TRANSPARENT",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return "".join(part + "\r\n" for line in lines for part in fold(line))
