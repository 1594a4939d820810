"""The audit log: one way to record who did what to what. Rows are append-only (the database refuses
UPDATE and DELETE on ``audit_event``) and are written in the transaction of the act they record."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from engine import clock
from engine.store import writes
from engine.store.models import AuditEvent

_TABLE = AuditEvent.__table__


def record(
    session: Session,
    kind: str,
    actor: str,
    *,
    instance_id: int | None = None,
    at: dt.datetime | None = None,
    task_id: str | None = None,
    element_id: str | None = None,
    detail: dict | None = None,
) -> None:
    """Add an audit row: ``kind`` of act by ``actor`` (a user name, or ``system``), on a case when
    ``instance_id`` is given, at ``at`` (default now), with what it changed in ``detail``."""
    # a plain INSERT, sent with the command's other writes: nothing reads an audit row back as an object
    writes.later(
        session,
        writes.Write(
            _TABLE,
            rows=[
                {
                    "instance_id": instance_id,
                    "at": at or clock.now(),
                    "actor": actor,
                    "kind": kind,
                    "task_id": task_id,
                    "element_id": element_id,
                    "detail": detail,
                }
            ],
        ),
    )
