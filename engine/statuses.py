"""The statuses the product stores, one enum each. They are ``StrEnum``s: stored, compared and sent as their
plain values ("running", "open", ...), which the API, the reports and the database already use."""

from __future__ import annotations

from enum import StrEnum


class CaseStatus(StrEnum):
    """A workflow instance (one process run for a case)."""

    RUNNING = "running"  # moving, or waiting for a person, a message or a timer
    ERROR = "error"  # an automatic step failed, or the case could not be opened: a manager retries or cancels
    SUSPENDED = "suspended"  # paused by a manager: no timer fires, no task can be completed
    COMPLETED = "completed"
    CANCELLED = "cancelled"


#: a case that still has work ahead of it
OPEN_CASE = (CaseStatus.RUNNING, CaseStatus.ERROR, CaseStatus.SUSPENDED)


class TaskStatus(StrEnum):
    """A person's task (``human_task.state``)."""

    OPEN = "open"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class DeadlineStatus(StrEnum):
    """A statutory deadline of a case."""

    PLANNED = "planned"  # its clock runs from day 0, but the timer that will guard it is not armed yet
    PENDING = "pending"  # armed: its timer waits
    MET = "met"
    MISSED = "missed"
    CANCELLED = "cancelled"  # its case was cancelled


class OutboxStatus(StrEnum):
    """An e-mail in the outbox."""

    PENDING = "pending"  # waiting for its next attempt
    SENDING = "sending"  # leased by a worker that is sending it
    SENT = "sent"
    DEAD = "dead"  # gave up after its attempts: a manager may requeue it
    CANCELLED = "cancelled"  # an administrator stopped it, with a reason; never sent
