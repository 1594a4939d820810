"""Putting an e-mail in the outbox: one row with its stable Message-ID (derived from its key, so a message
sent twice is recognisably the same message) and one audit row, in the caller's transaction. The worker
delivers it (engine/services/outbox.py)."""

from __future__ import annotations

import datetime as dt
import hashlib

from sqlalchemy.orm import Session

from engine.services import audit
from engine.statuses import OutboxStatus
from engine.store.models import OutboxMessage


def message_id(key: str) -> str:
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:32]}@reviewflow>"


def queue(
    session: Session,
    *,
    key: str,
    instance_id: int | None,
    recipient: str,
    subject: str,
    body: str,
    template: str,
    actor: str,
    at: dt.datetime,
    task_id: str | None = None,
    element_id: str | None = None,
) -> None:
    session.add(
        OutboxMessage(
            key=key,
            instance_id=instance_id,
            recipient=recipient,
            subject=subject,
            body=body,
            template=template,
            status=OutboxStatus.PENDING,
            attempts=0,
            next_attempt_at=at,
            message_id=message_id(key),
            created_at=at,
        )
    )
    audit.record(
        session,
        "notification_queued",
        actor,
        instance_id=instance_id,
        at=at,
        task_id=task_id,
        element_id=element_id,
        detail={"recipient": recipient, "subject": subject, "template": template},
    )
