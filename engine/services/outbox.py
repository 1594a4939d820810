"""Delivering the outbox: one message at a time, each sent and recorded in its own transactions.

A worker claims one due message and, in the same transaction, marks it ``sending`` with its
name and a lease, committed before the SMTP exchange starts; the result is recorded in a
second transaction. So a crash can repeat only the message in flight, and always with the
same Message-ID (a receiver can drop the duplicate). While the exchange lasts the lease is
renewed; a dead worker's message can be claimed again once its lease runs out. Leases run on
real time (the database's clock on PostgreSQL), never on the product's clock, which tests and
demos fix: a dead worker's message is taken over within the lease, whatever that clock says.

``attempts`` counts failed attempts: an exchange that failed, or one interrupted by a dead
worker (it may have been delivered; it is sent again). Failures back off exponentially on the
product's clock; after ``REVIEWFLOW_OUTBOX_MAX_ATTEMPTS`` the message is ``dead`` and stays
visible for an operator. A message that can never be built (an invalid address) is dead at
once, with its reason, and holds up nothing. With no SMTP URL set, messages stay pending in
the outbox: never lost, visible in the web app.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
import time
import uuid
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime

from sqlalchemy import func, select, text, update

from engine import clock, inputs, mail
from engine.services import access, audit, one_time_links
from engine.services.actor import Actor
from engine.services.core import Core
from engine.services.errors import BadRequest, Conflict, Forbidden, Invalid, NotFound
from engine.services.queries import outbox_dict
from engine.statuses import OutboxStatus
from engine.store.db import unavailable
from engine.store.models import DeliveryAttempt, Instance, OutboxMessage

log = logging.getLogger("reviewflow.outbox")

BASE_BACKOFF = dt.timedelta(minutes=1)
MAX_BACKOFF = dt.timedelta(hours=6)
STATUSES = tuple(OutboxStatus)
RECORD_RETRY_PAUSES = (0.2, 1.0, 3.0)  # a result is recorded again after these pauses if the database is lost
INTERRUPTED = (
    "interrupted: the worker sending it stopped during the SMTP exchange; it may have been "
    "delivered, and is sent again with the same Message-ID"
)


def backoff(attempts: int) -> dt.timedelta:
    return min(BASE_BACKOFF * (2 ** max(attempts - 1, 0)), MAX_BACKOFF)


def worker_name() -> str:
    """Who holds a lease: host, process and a random part (two workers never share a name)."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def real_now(session) -> dt.datetime:
    """Real time for leases: the database's clock on PostgreSQL (workers on several hosts agree on it),
    this host's on SQLite (one host). Never :func:`engine.clock.now`, which may be fixed."""
    if session.bind.dialect.name == "postgresql":
        return session.scalar(select(func.clock_timestamp())).astimezone(dt.UTC)
    return dt.datetime.now(dt.UTC)


@dataclass
class _Claim:
    message_id: int
    email: EmailMessage | None  # None: it could not be built and is dead


# The message sent, its delivery attempt and its audit entry, in one statement (PostgreSQL). Sent again with
# the same ``now`` after a lost connection it adds nothing: the first may have committed before the loss.
_RECORD_SENT = text("""
WITH m AS (
    UPDATE outbox_message
       SET status = 'sent', sent_at = :now, last_error = NULL, next_attempt_at = NULL,
           lease_owner = NULL, lease_expires_at = NULL
     WHERE id = :id AND status <> 'sent'
 RETURNING instance_id, recipient, subject, attempts),
a AS (INSERT INTO delivery_attempt (outbox_id, at, ok, error)
      SELECT :id, :now, true, NULL
       WHERE NOT EXISTS (SELECT 1 FROM delivery_attempt WHERE outbox_id = :id AND ok AND at = :now))
INSERT INTO audit_event (instance_id, at, actor, kind, detail)
SELECT instance_id, :now, 'system', 'notification_sent',
       json_build_object('recipient', recipient, 'subject', subject, 'attempts', attempts)
  FROM m
""")


class _SentRecorder:
    """Records one sent message in one statement, on a connection made sure of before the exchange
    (see ``Outbox._sent_recorder``)."""

    def __init__(self, engine):
        self.engine = engine
        self.connection = self._connect()
        try:
            self.connection.exec_driver_sql("SELECT 1")
        except Exception:  # closed while pooled: the pool now opens a fresh one
            self.close()
            self.connection = self._connect()

    def _connect(self):
        return self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")

    def __call__(self, message_id: int) -> bool:
        values = {"id": message_id, "now": clock.now()}
        for again in (False, True):
            try:
                if again:  # lost during the exchange: once more at once, on a fresh connection
                    self.close()
                    self.connection = self._connect()
                self.connection.execute(_RECORD_SENT, values)
                return True
            except Exception as exc:
                log.warning(
                    "outbox: quick record failed: outbox_id=%s error=%s", message_id, type(exc).__name__
                )
        return False  # the usual way then records it, waiting for the database

    def close(self) -> None:
        with suppress(Exception):
            self.connection.close()


class Outbox:
    def __init__(self, core: Core):
        self.core = core

    @property
    def lease(self) -> dt.timedelta:
        return dt.timedelta(seconds=self.core.settings.outbox_lease_seconds)

    def list(self, actor: Actor, status: str | None = None, limit: int = 200) -> list[dict]:
        if not actor.is_manager:
            raise Forbidden("only a manager may see the outbox")
        if status and status not in STATUSES:
            raise BadRequest(f"status must be one of {', '.join(STATUSES)}")
        with self.core.db.reading() as session:
            stmt = select(OutboxMessage)
            if status:
                stmt = stmt.where(OutboxMessage.status == status)
            return [
                outbox_dict(m) for m in session.scalars(stmt.order_by(OutboxMessage.id.desc()).limit(limit))
            ]

    def deliver_due(
        self, limit: int = 50, owner: str | None = None, stop: threading.Event | None = None
    ) -> dict:
        """Send what is due now, one message at a time, until nothing is due, ``limit`` messages were
        handled or ``stop`` is set; returns counts of sent and failed (a message dead at once is failed).

        A broken setting (SMTP URL, sender address) raises before any message is touched."""
        url = self.core.settings.smtp_url
        if not url:
            return {"sent": 0, "failed": 0, "skipped": "REVIEWFLOW_SMTP_URL is not set"}
        mail.parse_url(url)
        sender = mail.check_sender(self.core.settings.mail_from)
        owner = owner or worker_name()
        sent = failed = 0
        while sent + failed < limit and not (stop is not None and stop.is_set()):
            claim = self._claim(owner, sender)
            if claim is None:
                break
            if claim.email is None:
                failed += 1
                continue
            error, recorded = None, []
            ready = self._sent_recorder()  # taken before the exchange: nothing to wait for after it

            def record_sent(message_id=claim.message_id, ready=ready, recorded=recorded):
                """The relay took it: record that before anything else, so a crash now repeats nothing."""
                if ready is None or not ready(message_id):
                    self._record_surely(message_id, owner, None)
                recorded.append(message_id)

            try:
                with self._lease_kept(claim.message_id, owner):
                    try:
                        mail.send(
                            url,
                            claim.email,
                            timeout=self.core.settings.smtp_timeout_seconds,
                            on_accepted=record_sent,
                        )
                    except Exception as exc:  # every failure is recorded, none is lost
                        if not recorded:  # a relay that fails after accepting has still taken the message
                            error = f"{type(exc).__name__}: {exc}"[:2000]
            finally:
                if ready is not None:
                    ready.close()
            if not recorded:
                self._record_surely(claim.message_id, owner, error)
            sent, failed = (sent + 1, failed) if error is None else (sent, failed + 1)
        return {"sent": sent, "failed": failed}

    def _sent_recorder(self) -> _SentRecorder | None:
        """On PostgreSQL, a connection checked out and pinged before the SMTP exchange, so that recording a
        sent message after the relay's 250 is one statement, one round trip: that is the whole window in which
        a worker's death could send the e-mail twice. A connection the server closed while it sat in the pool
        is found by the ping, before the relay is sent anything. SQLite, a local file, records as usual."""
        if self.core.db.dialect != "postgresql":
            return None
        try:
            return _SentRecorder(self.core.db.engine)
        except Exception as exc:  # the usual way then records it
            log.warning("outbox: no connection held for recording: %s", type(exc).__name__)
            return None

    def _claim(self, owner: str, sender: str) -> _Claim | None:
        """Take the next due message, or one whose worker died: build it, mark it ``sending``, commit."""
        with self.core.db.transaction() as session:
            real, now = real_now(session), clock.now()
            m = self._first(
                session,
                select(OutboxMessage).where(
                    OutboxMessage.status == OutboxStatus.SENDING, OutboxMessage.lease_expires_at < real
                ),
            )
            if m is not None:
                self._interrupted(session, m, now)
                if m.status == OutboxStatus.DEAD:
                    return _Claim(m.id, None)
            else:
                m = self._first(
                    session,
                    select(OutboxMessage).where(
                        OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.next_attempt_at <= now
                    ),
                )
            if m is None:
                return None
            try:
                email = mail.build_message(sender, m.recipient, m.subject, m.body, m.message_id, now)
            except mail.UnbuildableMessage as exc:
                self._failed(session, m, now, f"cannot be built: {exc}", give_up=True)
                return _Claim(m.id, None)
            m.status, m.lease_owner, m.lease_expires_at = OutboxStatus.SENDING, owner, real + self.lease
            return _Claim(m.id, email)

    @staticmethod
    def _first(session, stmt) -> OutboxMessage | None:
        stmt = stmt.order_by(OutboxMessage.next_attempt_at, OutboxMessage.id).limit(1)
        if session.bind.dialect.name == "postgresql":
            stmt = stmt.with_for_update(skip_locked=True)
        return session.scalars(stmt).first()

    @contextmanager
    def _lease_kept(self, message_id: int, owner: str):
        """Renew the lease every third of its length while the exchange lasts, so a slow relay never
        lets another worker take over a message this one is still sending."""
        done = threading.Event()

        def renew() -> None:
            while not done.wait(self.lease.total_seconds() / 3):
                try:
                    with self.core.db.transaction() as session:
                        session.execute(
                            update(OutboxMessage)
                            .where(
                                OutboxMessage.id == message_id,
                                OutboxMessage.status == OutboxStatus.SENDING,
                                OutboxMessage.lease_owner == owner,
                            )
                            .values(lease_expires_at=real_now(session) + self.lease)
                        )
                except Exception as exc:  # the lease may lapse; the message is then sent again, never lost
                    log.warning(
                        "outbox: lease renewal failed: outbox_id=%s error=%s", message_id, type(exc).__name__
                    )

        keeper = threading.Thread(target=renew, name=f"outbox-lease-{message_id}", daemon=True)
        keeper.start()
        try:
            yield
        finally:
            done.set()
            keeper.join(timeout=10)

    def _record_surely(self, message_id: int, owner: str, error: str | None) -> None:
        """Record the result, trying again while the database is unreachable: an e-mail that went but
        was not recorded would be sent a second time once its lease ran out."""
        for pause in (*RECORD_RETRY_PAUSES, None):
            try:
                return self._record(message_id, owner, error)
            except Exception as exc:
                if pause is None or not unavailable(exc):
                    raise
                log.warning(
                    "outbox: recording a result failed, trying again: outbox_id=%s error=%s",
                    message_id,
                    type(exc).__name__,
                )
                time.sleep(pause)

    def _record(self, message_id: int, owner: str, error: str | None) -> None:
        with self.core.db.transaction() as session:
            now = clock.now()
            stmt = select(OutboxMessage).where(OutboxMessage.id == message_id)
            if session.bind.dialect.name == "postgresql":
                stmt = stmt.with_for_update()
            m = session.scalars(stmt).one()
            held = m.status == OutboxStatus.SENDING and m.lease_owner == owner
            if error is None:
                session.add(DeliveryAttempt(outbox_id=m.id, at=now, ok=True, error=None))
                if m.status != OutboxStatus.SENT:
                    m.status, m.sent_at, m.last_error, m.next_attempt_at = OutboxStatus.SENT, now, None, None
                    m.lease_owner = m.lease_expires_at = None
                    audit.record(
                        session,
                        "notification_sent",
                        "system",
                        instance_id=m.instance_id,
                        at=now,
                        detail={"recipient": m.recipient, "subject": m.subject, "attempts": m.attempts},
                    )
            elif held:
                self._failed(session, m, now, error)
            else:  # its lease ran out and another worker took it over: that worker's result counts
                session.add(DeliveryAttempt(outbox_id=m.id, at=now, ok=False, error=error))

    def _interrupted(self, session, m: OutboxMessage, now: dt.datetime) -> None:
        """A message whose worker died (or stopped) during its exchange becomes due again at once."""
        self._failed(session, m, now, INTERRUPTED)
        if m.status == OutboxStatus.PENDING:
            m.next_attempt_at = now

    def _failed(self, session, m: OutboxMessage, now: dt.datetime, error: str, give_up: bool = False) -> None:
        """One failed attempt: back off, or give up (``dead``, audited) after the last one."""
        session.add(DeliveryAttempt(outbox_id=m.id, at=now, ok=False, error=error))
        m.attempts += 1
        m.last_error = error
        m.lease_owner = m.lease_expires_at = None
        if give_up or m.attempts >= self.core.settings.outbox_max_attempts:
            m.status, m.next_attempt_at = OutboxStatus.DEAD, None
            audit.record(
                session,
                "notification_failed",
                "system",
                instance_id=m.instance_id,
                at=now,
                detail={"recipient": m.recipient, "error": error, "attempts": m.attempts},
            )
        else:
            m.status, m.next_attempt_at = OutboxStatus.PENDING, now + backoff(m.attempts)

    def release(self, owner: str) -> int:
        """Give back every message ``owner`` still holds (a stopping worker): each is due again at once,
        its interrupted exchange counted as a failed attempt. Returns how many."""
        with self.core.db.transaction() as session:
            held = list(
                session.scalars(
                    select(OutboxMessage).where(
                        OutboxMessage.status == OutboxStatus.SENDING, OutboxMessage.lease_owner == owner
                    )
                )
            )
            for m in held:
                self._interrupted(session, m, clock.now())
            return len(held)

    def requeue(self, message_id: int, actor: Actor) -> None:
        """An administrator sends one dead message again (the API's requeue): as ``requeue_many``."""
        self.requeue_many([message_id], actor)

    def requeue_many(self, message_ids: list[int], actor: Actor) -> int:
        """An administrator sends several dead messages again, all or none (one not dead refuses them all)."""
        if not access.may_administer(actor):
            raise Forbidden("only an administrator may requeue notifications")
        ids = sorted(set(message_ids))
        if not ids:
            raise Invalid("select the notifications to send again", [{"path": "ids", "message": "required"}])
        with self.core.db.transaction() as session:
            self._requeue(session, ids, actor)
        return len(ids)

    def _requeue(self, session, ids: list[int], actor: Actor) -> None:
        done = session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(ids), OutboxMessage.status == OutboxStatus.DEAD)
            .values(status=OutboxStatus.PENDING, next_attempt_at=clock.now(), attempts=0)
        )
        if done.rowcount != len(ids):
            found = set(session.scalars(select(OutboxMessage.id).where(OutboxMessage.id.in_(ids))))
            if len(ids) == 1 and not found:
                raise NotFound(f"no notification {ids[0]}")
            raise Conflict("only a notification that gave up (dead) can be sent again")  # rolls back all
        for message_id in ids:
            audit.record(
                session,
                "notification_requeued",
                actor.username,
                detail={"outbox_id": message_id, "before": OutboxStatus.DEAD, "after": OutboxStatus.PENDING},
            )

    def cancel(self, message_id: int, reason: str, actor: Actor) -> dict:
        """An administrator stops a message that waits or gave up, with a reason: it is never sent (the
        worker takes only pending messages; one being sent cannot be cancelled)."""
        if not access.may_administer(actor):
            raise Forbidden("only an administrator may cancel a notification")
        reason = (reason or "").strip()
        if not reason:
            raise Invalid("give a reason", [{"path": "reason", "message": "required"}])
        inputs.check_text(reason, "reason", limit=2000, single_line=False)
        with self.core.db.transaction() as session:
            m = session.get(OutboxMessage, message_id)
            if m is None:
                raise NotFound(f"no notification {message_id}")
            before = m.status
            done = session.execute(
                update(OutboxMessage)
                .where(
                    OutboxMessage.id == message_id,
                    OutboxMessage.status.in_((OutboxStatus.PENDING, OutboxStatus.DEAD)),
                )
                .values(status=OutboxStatus.CANCELLED, cancelled_reason=reason, next_attempt_at=None)
            )
            if done.rowcount != 1:
                raise Conflict("only a notification that waits or gave up can be cancelled")
            audit.record(
                session,
                "notification_cancelled",
                actor.username,
                instance_id=m.instance_id,
                detail={
                    "outbox_id": message_id,
                    "recipient": m.recipient,
                    "subject": m.subject,
                    "before": before,
                    "after": OutboxStatus.CANCELLED,
                    "reason": reason,
                },
            )
        return {"id": message_id, "status": OutboxStatus.CANCELLED}

    # --- the administration pages: every message, filtered, a page at a time ------------------------------

    def search(self, actor: Actor, filters: OutboxFilter, before: int | None = None, size: int = 50) -> dict:
        """One page of messages, newest first, read by key (``before``: the last id of the page before), with
        how many match; the filters are applied in SQL."""
        if not access.may_view_section(actor, "outbox"):
            raise Forbidden("only a manager or an administrator may see the outbox")
        with self.core.db.reading() as session:
            stmt = filters.where(select(OutboxMessage))
            count = session.scalar(filters.where(select(func.count(OutboxMessage.id))))
            if before is not None:
                stmt = stmt.where(OutboxMessage.id < before)
            rows = [
                outbox_dict(m)
                for m in session.scalars(stmt.order_by(OutboxMessage.id.desc()).limit(size + 1))
            ]
            templates = list(
                session.scalars(select(OutboxMessage.template).distinct().order_by(OutboxMessage.template))
            )
        more = len(rows) > size
        rows = rows[:size]
        return {
            "rows": rows,
            "count": count,
            "older": rows[-1]["id"] if more else None,
            "templates": templates,
        }

    def message(self, actor: Actor, message_id: int) -> dict:
        """One message as it is (or was) sent: its headers and body, and every attempt to deliver it."""
        if not access.may_view_section(actor, "outbox"):
            raise Forbidden("only a manager or an administrator may see the outbox")
        with self.core.db.reading() as session:
            m = session.get(OutboxMessage, message_id)
            if m is None:
                raise NotFound(f"no notification {message_id}")
            attempts = list(
                session.execute(
                    select(DeliveryAttempt.at, DeliveryAttempt.ok, DeliveryAttempt.error)
                    .where(DeliveryAttempt.outbox_id == m.id)
                    .order_by(DeliveryAttempt.id)
                )
            )
            business_key = (
                session.scalar(select(Instance.business_key).where(Instance.id == m.instance_id))
                if m.instance_id
                else None
            )
            # a one-time link is a key to someone's account: whoever reads the outbox never sees it
            body = WITHHELD if m.template in one_time_links.SECRET_TEMPLATES else m.body
            shown, m_sent_at = {**outbox_dict(m), "body": body}, m.sent_at
        sent_on = next((a.at for a in reversed(attempts) if a.ok), None) or m_sent_at
        headers = [
            ("From", self.core.settings.mail_from or ""),
            ("To", shown["recipient"]),
            ("Subject", shown["subject"]),
            ("Message-ID", shown["message_id"]),
            ("Date", format_datetime(sent_on) if sent_on else None),
        ]
        return {
            **shown,
            "headers": headers,
            "business_key": business_key,
            "attempts_made": [{"at": a.at.isoformat(), "ok": a.ok, "error": a.error} for a in attempts],
        }


WITHHELD = (
    "Not shown: this message carries a one-time link to set a password, which only the person it was sent to "
    "may use. Send them a new one from their page under People if it was lost."
)


@dataclass(frozen=True)
class OutboxFilter:
    """The administration page's filters: a status, a template, part of the recipient's address, and the
    days the message was created (both included)."""

    status: str = ""
    template: str = ""
    recipient: str = ""
    created_from: dt.date | None = None
    created_to: dt.date | None = None

    def where(self, stmt):
        if self.status:
            stmt = stmt.where(OutboxMessage.status == self.status)
        if self.template:
            stmt = stmt.where(OutboxMessage.template == self.template)
        if self.recipient:
            escaped = self.recipient.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            stmt = stmt.where(func.lower(OutboxMessage.recipient).like(f"%{escaped}%", escape="\\"))
        if self.created_from:
            stmt = stmt.where(OutboxMessage.created_at >= clock.at_local(self.created_from, 0))
        if self.created_to:
            stmt = stmt.where(OutboxMessage.created_at < clock.end_of_day(self.created_to))
        return stmt
