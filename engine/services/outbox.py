"""Delivering the outbox: each due message is leased, sent, and its attempt recorded.

A message is leased (attempts + 1, next attempt pushed back) in one transaction
before it is sent, so two workers never send it at once; the result is recorded
in another. Failures back off exponentially; after the last attempt the message
is marked ``dead`` and stays visible for an operator. With no SMTP URL set,
messages stay pending in the outbox: never lost, visible in the web app.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update

from engine import clock, mail
from engine.services.actor import Actor
from engine.services.core import Core
from engine.services.errors import Forbidden
from engine.services.queries import outbox_dict
from engine.store.models import AuditEvent, DeliveryAttempt, OutboxMessage

BASE_BACKOFF = dt.timedelta(minutes=1)
MAX_BACKOFF = dt.timedelta(hours=6)


def backoff(attempts: int) -> dt.timedelta:
    return min(BASE_BACKOFF * (2 ** max(attempts - 1, 0)), MAX_BACKOFF)


class Outbox:
    def __init__(self, core: Core):
        self.core = core

    def list(self, actor: Actor, status: str | None = None, limit: int = 200) -> list[dict]:
        if not actor.is_manager:
            raise Forbidden("only a manager may see the outbox")
        with self.core.db.reading() as session:
            stmt = select(OutboxMessage)
            if status:
                stmt = stmt.where(OutboxMessage.status == status)
            return [outbox_dict(m) for m in session.scalars(stmt.order_by(OutboxMessage.id.desc()).limit(limit))]

    def deliver_due(self, limit: int = 50) -> dict:
        """Send what is due now; returns counts of sent and failed."""
        url = self.core.settings.smtp_url
        if not url:
            return {"sent": 0, "failed": 0, "skipped": "REVIEWFLOW_SMTP_URL is not set"}
        now = clock.now()
        sent = failed = 0
        for message_id in self._lease(now, limit):
            with self.core.db.reading() as session:
                m = session.get(OutboxMessage, message_id)
                email = mail.build_message(self.core.settings.mail_from, m.recipient, m.subject, m.body,
                                           m.message_id, now)
            error = None
            try:
                mail.send(url, email)
            except Exception as exc:  # every failure is recorded, none is lost
                error = f"{type(exc).__name__}: {exc}"[:2000]
            self._record(message_id, now, error)
            sent, failed = (sent + 1, failed) if error is None else (sent, failed + 1)
        return {"sent": sent, "failed": failed}

    def _lease(self, now: dt.datetime, limit: int) -> list[int]:
        leased = []
        with self.core.db.transaction() as session:
            stmt = (select(OutboxMessage).where(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now)
                    .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id).limit(limit))
            if session.bind.dialect.name == "postgresql":
                stmt = stmt.with_for_update(skip_locked=True)
            for m in session.scalars(stmt):
                m.attempts += 1
                m.next_attempt_at = now + backoff(m.attempts)
                leased.append(m.id)
        return leased

    def _record(self, message_id: int, now: dt.datetime, error: str | None) -> None:
        with self.core.db.transaction() as session:
            m = session.get(OutboxMessage, message_id)
            session.add(DeliveryAttempt(outbox_id=m.id, at=now, ok=error is None, error=error))
            if error is None:
                m.status, m.sent_at, m.last_error, m.next_attempt_at = "sent", now, None, None
                session.add(AuditEvent(instance_id=m.instance_id, at=now, actor="system", kind="notification_sent",
                                       detail={"recipient": m.recipient, "subject": m.subject, "attempts": m.attempts}))
            else:
                m.last_error = error
                if m.attempts >= self.core.settings.outbox_max_attempts:
                    m.status, m.next_attempt_at = "dead", None
                    session.add(AuditEvent(instance_id=m.instance_id, at=now, actor="system",
                                           kind="notification_failed",
                                           detail={"recipient": m.recipient, "error": error, "attempts": m.attempts}))

    def requeue(self, message_id: int, actor: Actor) -> None:
        """An operator sends a dead message again."""
        if not actor.is_manager:
            raise Forbidden("only a manager may requeue a notification")
        with self.core.db.transaction() as session:
            done = session.execute(update(OutboxMessage).where(OutboxMessage.id == message_id,
                                                               OutboxMessage.status == "dead")
                                   .values(status="pending", next_attempt_at=clock.now(), attempts=0))
            if done.rowcount != 1:
                from engine.services.errors import Conflict, NotFound
                if session.get(OutboxMessage, message_id) is None:
                    raise NotFound(f"no notification {message_id}")
                raise Conflict("only a notification that gave up (dead) can be sent again")
            session.add(AuditEvent(instance_id=None, at=clock.now(), actor=actor.username, kind="notification_requeued",
                                   detail={"outbox_id": message_id}))
