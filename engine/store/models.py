"""Tables. Only ``instance`` holds SpiffWorkflow state; every list, filter and sweep
reads the small projections beside it (``human_task``, ``deadline``,
``message_wait``, ``instance.next_timer_at``; for the managers' reports ``instance_step``,
``deadline_tally`` and ``instance.next_due``/``overdue_from``), each indexed for its queries.
"""

from __future__ import annotations

import datetime as dt
from typing import ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
    true,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator):
    """Instants stored in UTC and always returned timezone-aware, on SQLite as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given for a UTC column")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar = {dt.datetime: UTCDateTime(), dict: JSON, list: JSON}


class Deployment(Base):
    __tablename__ = "deployment"
    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[dt.datetime]
    deployed_by: Mapped[str] = mapped_column(String(120))
    files: Mapped[list] = mapped_column(JSON, default=list)  # [{"name", "kind", "hash"}]


class Artifact(Base):
    """One deployed file (BPMN, DMN, form, rule set); the newest row per (kind, name) is current."""

    __tablename__ = "artifact"
    id: Mapped[int] = mapped_column(primary_key=True)
    deployment_id: Mapped[int] = mapped_column(ForeignKey("deployment.id"))
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(255))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    content_hash: Mapped[str] = mapped_column(String(64))
    __table_args__ = (Index("ix_artifact_kind_name", "kind", "name", "id"),)


class ProcessVersion(Base):
    __tablename__ = "process_version"
    id: Mapped[int] = mapped_column(primary_key=True)
    process_id: Mapped[str] = mapped_column(String(120))
    version: Mapped[int]
    name: Mapped[str] = mapped_column(String(255))
    content_hash: Mapped[str] = mapped_column(String(64))
    deployment_id: Mapped[int] = mapped_column(ForeignKey("deployment.id"))
    file: Mapped[str] = mapped_column(String(255))
    bpmn: Mapped[bytes] = mapped_column(LargeBinary)
    spec_json: Mapped[str] = mapped_column(Text)
    forms: Mapped[dict] = mapped_column(JSON, default=dict)
    lanes: Mapped[list] = mapped_column(JSON, default=list)
    decisions: Mapped[list] = mapped_column(JSON, default=list)
    deadline_keys: Mapped[list] = mapped_column(JSON, default=list)
    created_at: Mapped[dt.datetime]
    __table_args__ = (UniqueConstraint("process_id", "version", name="uq_process_version"),)


class DecisionVersion(Base):
    __tablename__ = "decision_version"
    id: Mapped[int] = mapped_column(primary_key=True)
    decision_id: Mapped[str] = mapped_column(String(120))
    version: Mapped[int]
    file: Mapped[str] = mapped_column(String(255))
    content_hash: Mapped[str] = mapped_column(String(64))
    dmn: Mapped[bytes] = mapped_column(LargeBinary)
    deployment_id: Mapped[int] = mapped_column(ForeignKey("deployment.id"))
    created_at: Mapped[dt.datetime]
    __table_args__ = (UniqueConstraint("decision_id", "version", name="uq_decision_version"),)


class RuleSetVersion(Base):
    __tablename__ = "ruleset_version"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    content_hash: Mapped[str] = mapped_column(String(64))
    content: Mapped[dict] = mapped_column(JSON)
    deployment_id: Mapped[int] = mapped_column(ForeignKey("deployment.id"))
    created_at: Mapped[dt.datetime]
    __table_args__ = (UniqueConstraint("name", "content_hash", name="uq_ruleset_content"),)


class Instance(Base):
    __tablename__ = "instance"
    id: Mapped[int] = mapped_column(primary_key=True)
    process_version_id: Mapped[int] = mapped_column(ForeignKey("process_version.id"))
    process_id: Mapped[str] = mapped_column(String(120))
    business_key: Mapped[str | None] = mapped_column(String(120), index=True)
    status: Mapped[str] = mapped_column(
        String(16)
    )  # running, waiting, completed, error, cancelled, suspended
    regime: Mapped[str | None] = mapped_column(String(32))
    ruleset_version_id: Mapped[int | None] = mapped_column(ForeignKey("ruleset_version.id"))
    parent_instance_id: Mapped[int | None] = mapped_column(ForeignKey("instance.id"))
    state: Mapped[bytes] = mapped_column(LargeBinary)
    summary: Mapped[dict] = mapped_column(JSON, default=dict)  # a few case fields for lists
    active_steps: Mapped[list] = mapped_column(JSON, default=list)
    waiting_messages: Mapped[list] = mapped_column(JSON, default=list)  # mirrors message_wait rows
    open_deadlines: Mapped[int] = mapped_column(Integer, default=0)  # pending deadline rows
    error: Mapped[str | None] = mapped_column(Text)
    failed_at: Mapped[dt.datetime | None]  # set when the case could not be loaded or run: out of every sweep
    next_timer_at: Mapped[dt.datetime | None]
    lock_version: Mapped[int] = mapped_column(Integer, default=1)
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]
    completed_at: Mapped[dt.datetime | None]
    # for the managers' reports, kept by every command that saves the case (see services/workflow.py)
    next_due: Mapped[dt.date | None] = mapped_column(Date)  # the earliest due date of an open task
    missed_due: Mapped[dt.date | None] = mapped_column(Date)  # the earliest due date of a deadline it missed
    # what a command needs of the deadline rows when it does not read them: the keys pending, and a digest
    # of the planned rows (services/workflow.py reads the rows only when one of them may change)
    pending_keys: Mapped[list | None] = mapped_column(JSON)
    planned_digest: Mapped[str | None] = mapped_column(String(64))
    overdue_from: Mapped[dt.date | None] = mapped_column(
        Date
    )  # the day an open case became overdue; closed: None
    __mapper_args__: ClassVar = {"version_id_col": lock_version}
    __table_args__ = (
        Index("ix_instance_next_timer_at", "next_timer_at"),
        Index("ix_instance_status", "status", "id"),
        Index("ix_instance_process_status", "process_id", "status", "id"),
        Index("ix_instance_process_id", "process_id", "id"),
        Index("ix_instance_overdue_from", "overdue_from"),
        Index("ix_instance_created_at", "created_at"),
        Index(
            "uq_instance_case_reference",
            "business_key",
            unique=True,
            postgresql_where=text("parent_instance_id IS NULL"),
            sqlite_where=text("parent_instance_id IS NULL"),
        ),
    )


class HumanTask(Base):
    """A user task as the task list sees it; rewritten from the workflow after every command."""

    __tablename__ = "human_task"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # SpiffWorkflow task UUID
    instance_id: Mapped[int] = mapped_column(ForeignKey("instance.id"), index=True)
    process_id: Mapped[str] = mapped_column(String(120))
    element_id: Mapped[str] = mapped_column(String(120))
    name: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(120))
    form: Mapped[str | None] = mapped_column(String(255))
    ui_form: Mapped[str | None] = mapped_column(String(255))
    documentation: Mapped[str | None] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16))  # open, completed, cancelled
    assignee: Mapped[str | None] = mapped_column(String(120))
    due_date: Mapped[dt.date | None] = mapped_column(Date)
    deadline_key: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[dt.datetime]
    completed_at: Mapped[dt.datetime | None]
    completed_by: Mapped[str | None] = mapped_column(String(120))
    __table_args__ = (
        Index("ix_human_task_state_role", "state", "role", "due_date"),
        Index("ix_human_task_assignee_state", "assignee", "state"),
    )


class Deadline(Base):
    __tablename__ = "deadline"
    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("instance.id"), index=True)
    timer_task_id: Mapped[str] = mapped_column(String(36))
    element_id: Mapped[str] = mapped_column(String(120))
    key: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(255))
    source: Mapped[str] = mapped_column(String(255))
    anchor_date: Mapped[dt.date] = mapped_column(Date)
    due_date: Mapped[dt.date] = mapped_column(Date)
    on_working_day: Mapped[bool] = mapped_column(Boolean, default=True)
    fires_at: Mapped[dt.datetime]
    status: Mapped[str] = mapped_column(String(16))  # pending, met, missed, cancelled
    closed_at: Mapped[dt.datetime | None]
    recorded_date: Mapped[dt.date | None] = mapped_column(Date)  # the act's date it was judged by
    __table_args__ = (
        UniqueConstraint("instance_id", "timer_task_id", name="uq_deadline_timer"),
        Index("ix_deadline_status_due_id", "status", "due_date", "id"),
        Index("ix_deadline_due_id", "due_date", "id"),
    )


class InstanceStep(Base):
    """A step an open case stands at (a case in parallel branches stands at several): the case list's stage
    filter and the dashboard's count by stage read these rows, never the workflow state."""

    __tablename__ = "instance_step"
    instance_id: Mapped[int] = mapped_column(ForeignKey("instance.id"), primary_key=True)
    step: Mapped[str] = mapped_column(String(255), primary_key=True)
    process_id: Mapped[str] = mapped_column(String(120))
    __table_args__ = (
        Index("ix_instance_step_step", "step", "instance_id"),
        Index("ix_instance_step_process", "process_id", "step"),
    )


class DeadlineTally(Base):
    """How many deadlines of each key falling due on each day were met and missed: the dashboard's share of
    deadlines met over a period sums at most one row per key and day, however many cases there are."""

    __tablename__ = "deadline_tally"
    key: Mapped[str] = mapped_column(String(16), primary_key=True)
    due_date: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    met: Mapped[int] = mapped_column(Integer, default=0)
    missed: Mapped[int] = mapped_column(Integer, default=0)
    __table_args__ = (Index("ix_deadline_tally_due", "due_date"),)


class MessageWait(Base):
    """A message an instance is waiting for: routes messages by business key without loading instances."""

    __tablename__ = "message_wait"
    instance_id: Mapped[int] = mapped_column(ForeignKey("instance.id"), primary_key=True)
    name: Mapped[str] = mapped_column(String(255), primary_key=True)
    # when the case began waiting for it: the time of the command that reached the catching step
    since: Mapped[dt.datetime | None]
    __table_args__ = (Index("ix_message_wait_name", "name"),)


class OutboxMessage(Base):
    __tablename__ = "outbox_message"
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(255), unique=True)
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("instance.id"), index=True)
    recipient: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(255))
    body: Mapped[str] = mapped_column(Text)
    template: Mapped[str] = mapped_column(String(120))
    status: Mapped[str] = mapped_column(String(16))  # engine.statuses.OutboxStatus
    cancelled_reason: Mapped[str | None] = mapped_column(Text)  # why an administrator cancelled it
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime | None]
    message_id: Mapped[str] = mapped_column(String(255))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime]
    sent_at: Mapped[dt.datetime | None]
    lease_owner: Mapped[str | None] = mapped_column(String(64))  # the worker sending it now
    lease_expires_at: Mapped[dt.datetime | None]  # real time, never the fixed clock
    __table_args__ = (
        Index("ix_outbox_due", "status", "next_attempt_at"),
        Index("ix_outbox_lease", "status", "lease_expires_at"),
    )


class WorkerHeartbeat(Base):
    """When each loop of each worker last finished a pass (real time: the database's clock on PostgreSQL)."""

    __tablename__ = "worker_heartbeat"
    worker: Mapped[str] = mapped_column(String(64), primary_key=True)  # engine.services.outbox.worker_name()
    loop: Mapped[str] = mapped_column(String(32), primary_key=True)  # timers | outbox
    last_beat: Mapped[dt.datetime]


class DeliveryAttempt(Base):
    __tablename__ = "delivery_attempt"
    id: Mapped[int] = mapped_column(primary_key=True)
    outbox_id: Mapped[int] = mapped_column(ForeignKey("outbox_message.id"), index=True)
    at: Mapped[dt.datetime]
    ok: Mapped[bool] = mapped_column(Boolean)
    error: Mapped[str | None] = mapped_column(Text)


class AuditEvent(Base):
    """Append-only: the database refuses UPDATE and DELETE on this table (see the migration)."""

    __tablename__ = "audit_event"
    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int | None] = mapped_column(index=True)
    at: Mapped[dt.datetime]
    actor: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(40))
    task_id: Mapped[str | None] = mapped_column(String(36))
    element_id: Mapped[str | None] = mapped_column(String(120))
    detail: Mapped[dict] = mapped_column(JSON, default=dict)


class User(Base):
    __tablename__ = "app_user"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(120), unique=True)
    display_name: Mapped[str] = mapped_column(String(255))
    email: Mapped[str | None] = mapped_column(String(320))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime]
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)  # a code is accepted once
    mfa_enrolled_at: Mapped[dt.datetime | None]
    # e-mailed when a task for one of their roles is created or given to them (their own choice to turn off)
    new_task_emails: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())


class MfaRecoveryCode(Base):
    """A one-time recovery code for multi-factor sign-in; only its SHA-256 is kept."""

    __tablename__ = "mfa_recovery_code"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    used_at: Mapped[dt.datetime | None]


class WebSession(Base):
    """A signed-in browser session, kept on the server so that signing out or disabling ends it."""

    __tablename__ = "web_session"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # SHA-256 of the cookie's token
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    created_at: Mapped[dt.datetime]
    last_seen_at: Mapped[dt.datetime]
    ended_at: Mapped[dt.datetime | None]
    ended_reason: Mapped[str | None] = mapped_column(String(32))
    __table_args__ = (Index("ix_web_session_user_id", "user_id", "ended_at"),)


class SignInFailure(Base):
    """A refused sign-in, counted by every web process alike (``u:<name>`` or ``a:<address>``)."""

    __tablename__ = "sign_in_failure"
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200))
    at: Mapped[dt.datetime]
    __table_args__ = (Index("ix_sign_in_failure_key_at", "key", "at"),)


class UserRole(Base):
    __tablename__ = "user_role"
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), primary_key=True)
    role: Mapped[str] = mapped_column(String(120), primary_key=True)


class ApiToken(Base):
    __tablename__ = "api_token"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime]
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)
    name: Mapped[str | None] = mapped_column(String(120))  # what the token is for, as its creator said


class Invitation(Base):
    """An invitation to join by e-mail: a one-time link, valid until ``expires_at``, where the person
    chooses a password (and enrols multi-factor sign-in where their roles require it). Only the token's
    SHA-256 is kept."""

    __tablename__ = "invitation"
    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("app_user.id"), index=True
    )  # created disabled, no password
    invited_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[dt.datetime]
    expires_at: Mapped[dt.datetime]
    accepted_at: Mapped[dt.datetime | None]
    revoked_at: Mapped[dt.datetime | None]


class PasswordReset(Base):
    """A one-time link to choose a new password, sent to the person's own address. Only the token's SHA-256
    is kept; a link is spent when used, when a newer one is sent, or at ``expires_at``."""

    __tablename__ = "password_reset"
    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    created_at: Mapped[dt.datetime]
    expires_at: Mapped[dt.datetime]
    used_at: Mapped[dt.datetime | None]


class NamedRecipient(Base):
    """One of the partnership's named recipients (the Panel, Ofsted, the chairs): the key service tasks
    name, with its addresses. ``processes/recipients.toml`` seeds a new installation; administrators edit
    them here."""

    __tablename__ = "named_recipient"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    addresses: Mapped[list] = mapped_column(JSON)  # one or more e-mail addresses
    description: Mapped[str | None] = mapped_column(String(255))
    updated_by: Mapped[str] = mapped_column(String(120))
    updated_at: Mapped[dt.datetime]


class DirectoryAgency(Base):
    """One of the partnership's agencies (engine/agencies.py): ``processes/agencies.toml`` seeds a new
    installation; administrators add, rename and retire them here. The key never changes once cases store
    it."""

    __tablename__ = "directory_agency"
    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(120))
    safeguarding_lead: Mapped[str | None] = mapped_column(String(320))
    active: Mapped[bool] = mapped_column(
        Boolean, default=True
    )  # retired agencies stay for the cases naming them
    updated_by: Mapped[str] = mapped_column(String(120))
    updated_at: Mapped[dt.datetime]


class Revision(Base):
    """A counter bumped in the same transaction as a change to configuration every command reads
    (``calendar``: the overrides), so a process reuses its copy until the number moves."""

    __tablename__ = "revision"
    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[int]


class CalendarOverride(Base):
    __tablename__ = "calendar_override"
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # holiday (not working) | working
    note: Mapped[str] = mapped_column(String(255))
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[dt.datetime]


class TaskDraft(Base):
    """A form saved before it is complete: one per task and person, replaced at each save."""

    __tablename__ = "task_draft"
    task_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    username: Mapped[str] = mapped_column(String(120), primary_key=True)
    data: Mapped[dict] = mapped_column(JSON)
    saved_at: Mapped[dt.datetime]


class CalendarFeed(Base):
    """A personal iCalendar feed address; only the token's SHA-256 is kept."""

    __tablename__ = "calendar_feed"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime]
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)


class Document(Base):
    """A file attached to a case, or to one step of it (``task_id``): kept in the database with the case so
    that a backup of the database is a backup of the case file. Lists select the metadata only, never
    ``content``."""

    __tablename__ = "document"
    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("instance.id"))
    task_id: Mapped[str | None] = mapped_column(String(36))  # the step's task; None: the case itself
    element_id: Mapped[str | None] = mapped_column(
        String(120)
    )  # the step's element, as the audit log names it
    name: Mapped[str] = mapped_column(String(255))  # as given, sanitised for display and download
    content_type: Mapped[str] = mapped_column(String(120))  # detected from the content, never the name
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    uploaded_by: Mapped[str] = mapped_column(String(120))
    uploaded_at: Mapped[dt.datetime]
    __table_args__ = (
        Index("ix_document_instance", "instance_id", "id"),
        Index("ix_document_task", "task_id", "id"),
    )
