"""Personal iCalendar feeds of deadlines: a secret address per person, revocable, that a calendar
program can subscribe to without signing in. Only the token's SHA-256 is stored."""

from __future__ import annotations

import datetime as dt
import re
import secrets

from sqlalchemy import select, update

from engine import clock
from engine.services import access, audit
from engine.services.actor import Actor
from engine.services.core import Core
from engine.services.errors import NotFound
from engine.services.users import token_hash
from engine.store.models import CalendarFeed, Deadline, Instance, User


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
                CalendarFeed(
                    user_id=user.id, token_hash=token_hash(token), created_at=clock.now(), revoked=False
                )
            )
            audit.record(session, "calendar_feed_created", actor.username)
        return token

    def revoke(self, actor: Actor) -> None:
        with self.core.db.transaction() as session:
            user = session.scalars(select(User).where(User.username == actor.username)).one()
            session.execute(update(CalendarFeed).where(CalendarFeed.user_id == user.id).values(revoked=True))
            audit.record(session, "calendar_feed_revoked", actor.username)

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
        actor = self.users.holder(CalendarFeed, token)
        if actor is None:
            raise NotFound("no such calendar feed")
        return actor

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
            stmt = access.only_visible(stmt, Deadline.instance_id, actor)
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


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")  # RFC 5545 TEXT allows no control but HTAB
_LINE_BREAK = re.compile(r"\r\n|[\r\n\u2028\u2029\x85]")


def _plain(text: str) -> str:
    """Every line break (CRLF, a lone CR or LF, U+2028, U+2029, NEL) made one LF, which the writer escapes
    as ``\\n``, and other control characters dropped: no value can end its line and start another property,
    or another event, whatever a calendar program takes for a line break."""
    return _CONTROL.sub("", _LINE_BREAK.sub("\n", text))


def to_ics(events: list[dict], now: dt.datetime) -> str:
    """RFC 5545 by the icalendar library (TEXT escaping, lines folded at 75 octets, CRLF endings): one
    all-day event per deadline, its UID the deadline's so a subscribed calendar updates, not duplicates.
    Imported here: a tenth of a second at start-up that workers and commands never use."""
    from icalendar import Calendar, Event

    calendar = Calendar()
    calendar.add("prodid", "-//reviewflow//deadlines//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", "reviewflow deadlines")
    stamp = now.astimezone(dt.UTC).replace(microsecond=0)
    for e in events:
        day, name = e["due_date"], _plain(e["name"])
        event = Event()
        event.add("uid", e["uid"])
        event.add("dtstamp", stamp)
        event.add("dtstart", day)
        event.add("dtend", day + dt.timedelta(days=1))
        event.add("summary", f"{_plain(e['business_key'] or '')} {_plain(e['key'])}: {name}")
        event.add("description", f"{name} ({_plain(e['source'] or '')}). Due by the end of this day.")
        event.add("transp", "TRANSPARENT")
        calendar.add_component(event)
    return calendar.to_ical().decode("utf-8")
