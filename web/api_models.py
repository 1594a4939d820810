"""What each ``/api/v1`` response holds, as pydantic models: the OpenAPI document's schemas are generated
from them (web/openapi.py), so the description cannot drift from a hand-written copy, and a test checks
every answer the API gives against them.

A field with no default is in every answer (it may still be null where the type says so); a field with a
default appears only in some answers (an armed deadline has ``recorded_date``, a planned one ``anchor``).
Models forbid fields they do not name, so a service that adds one must say so here.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

DateTime = Annotated[str, Field(json_schema_extra={"format": "date-time"})]  # ISO 8601 with offset
Date = Annotated[str, Field(json_schema_extra={"format": "date"})]  # YYYY-MM-DD
InstanceStatus = Literal["running", "waiting", "completed", "error", "cancelled", "suspended"]
DeadlineStatus = Literal["pending", "met", "missed", "cancelled"]
OutboxStatus = Literal["pending", "sending", "sent", "dead", "cancelled"]


class Model(BaseModel):
    """An answer's object: exactly the fields it names."""

    model_config = ConfigDict(extra="forbid")


# --- errors -------------------------------------------------------------------------------------------


class ErrorBody(Model):
    code: str = Field(description="bad_request, unauthorized, forbidden, not_found, conflict, ...")
    message: str
    details: Any = Field(
        description="what failed: for 422 a list of {path, message} (a deployment: "
        "{file, element_id, message}); null when there is nothing more to say"
    )


class Error(Model):
    """Every refusal: the HTTP status says which kind."""

    error: ErrorBody


# --- processes and the modeller's catalogue ----------------------------------------------------------


class Process(Model):
    process_id: str
    name: str
    version: int
    content_hash: str
    lanes: list[str]
    deadline_keys: list[str]
    deployed_at: DateTime


class ProcessList(Model):
    processes: list[Process]


class ProcessVersion(Model):
    version: int
    content_hash: str
    deployed_at: DateTime
    deployed_by: str


class ProcessVersionList(Model):
    versions: list[ProcessVersion]


class HandlerParameter(Model):
    name: str
    required: bool
    types: list[str]


class Handler(Model):
    name: str
    description: str
    parameters: list[HandlerParameter]


class HandlerList(Model):
    handlers: list[Handler]


class Form(Model):
    name: str
    ui_schema: bool


class FormList(Model):
    forms: list[Form]


class DeadlineRule(Model):
    ruleset: str
    key: str
    name: str
    count: int
    unit: str
    direction: str
    anchor: str
    source: str


class DeadlineRuleList(Model):
    deadlines: list[DeadlineRule]


# --- instances (cases) ---------------------------------------------------------------------------------


class StartedInstance(Model):
    id: int
    business_key: str | None
    status: InstanceStatus
    process_id: str
    version: int


class InstanceSummary(Model):
    id: int
    process_id: str
    version: int | None
    business_key: str | None
    status: InstanceStatus
    regime: str | None
    active_steps: list[str]
    summary: dict[str, Any] | None
    error: str | None
    parent_instance_id: int | None
    created_by: str
    created_at: DateTime
    updated_at: DateTime
    completed_at: DateTime | None
    next_timer_at: DateTime | None
    failed_at: DateTime | None


class InstanceList(Model):
    instances: list[InstanceSummary]


class Task(Model):
    id: str
    instance_id: int
    business_key: str | None
    process_id: str
    element_id: str
    name: str
    role: str
    form: str | None
    state: Literal["open", "completed", "cancelled"]
    assignee: str | None
    due_date: Date | None
    deadline_key: str | None
    created_at: DateTime
    completed_at: DateTime | None
    completed_by: str | None


class Deadline(Model):
    """A statutory deadline of a case: armed (its timer set) or planned (`pending`, not `armed`, with a
    due date or, when the date it counts from is not known yet, `starts_when`)."""

    key: str
    name: str
    due_date: Date | None
    status: DeadlineStatus
    source: str
    anchor_date: Date | None
    element_id: str | None
    on_working_day: bool | None
    fires_at: DateTime | None
    closed_at: DateTime | None
    armed: bool
    starts_when: str | None
    process_id: str | None = Field(description="the process that runs it (null: none yet)")
    instance_id: int | None = Field(description="the case it is on (null: a case not handed over yet)")
    recorded_date: Date | None = None  # armed deadlines: the date of the act it was judged by
    anchor: str | None = None  # planned deadlines: the case field it counts from


class HistoryEvent(Model):
    at: DateTime
    actor: str
    kind: str
    element_id: str | None
    step: str | None  # the step's name as its diagram gives it
    task_id: str | None
    detail: dict[str, Any] | None


class OutboxMessage(Model):
    id: int
    instance_id: int | None
    recipient: str
    subject: str
    template: str
    status: OutboxStatus
    attempts: int
    created_at: DateTime
    sent_at: DateTime | None
    next_attempt_at: DateTime | None
    last_error: str | None
    cancelled_reason: str | None = Field(None, description="why an administrator cancelled it")
    message_id: str
    lease_owner: str | None = Field(description="the worker sending it now (status sending)")
    lease_expires_at: DateTime | None


class OutboxMessageList(Model):
    messages: list[OutboxMessage]


class InstanceDetail(InstanceSummary):
    data: dict[str, Any]
    tasks: list[Task] = Field(description="open tasks")
    task_history: list[Task] = Field(description="completed and cancelled tasks")
    deadlines: list[Deadline]
    handed_over_deadlines: list[Deadline]
    history: list[HistoryEvent]
    notifications: list[OutboxMessage]


class Diagram(Model):
    instance_id: int
    process_id: str
    process_name: str
    version: int
    names: dict[str, str] = Field(description="element id -> step name")
    bpmn: str
    completed: list[str]
    active: list[str]
    overdue: list[str]
    due: dict[str, Date] = Field(description="active element id -> its earliest due date")


class ChronologyEntry(Model):
    date: str
    agency: str
    worker: str
    event: str


class Chronology(Model):
    chronology: list[ChronologyEntry]


class MessageDelivered(Model):
    instance_id: int
    status: InstanceStatus


class InstanceStatusChanged(Model):
    instance_id: int
    status: InstanceStatus
    error: str | None = None  # a retry: the error left, if it failed again


# --- tasks ---------------------------------------------------------------------------------------------


ANSWER_ROWS = (
    "answers labelled by their form fields' titles: each {key: the title, and text, or items (a list), or "
    "rows (an object's answers), or groups (the answers of each object of a list), with more: how many "
    "items were left out}"
)


class CaseFileSection(Model):
    title: str = Field(description="the earlier step, or the submission, that recorded what follows")
    step: str | None = Field(description="the earlier step's id, when the section is its answers")
    by: str | None = Field(description="who submitted it, where known")
    at: DateTime | None = Field(description="when it was submitted, where known")
    rows: list[dict[str, Any]] = Field(description=ANSWER_ROWS)


class TaskAnswers(Model):
    rows: list[dict[str, Any]] = Field(description=ANSWER_ROWS)
    by: str | None = Field(description="who completed the step")
    at: DateTime | None = Field(description="when the step was completed")


class TaskDetail(Task):
    form_schema: dict[str, Any] | None
    ui_schema: dict[str, Any] | None
    documentation: str | None
    process_version: int
    context: dict[str, Any] = Field(description="the case fields shown beside the form")
    case_file: list[CaseFileSection] = Field(
        description="the earlier information the step declares (caseFile), shown beside its form; empty "
        "for a completed step and for an agency's request"
    )
    answers: TaskAnswers | None = Field(description="a completed step's answers; null while it is open")


class TaskList(Model):
    tasks: list[Task]


class TaskAssignment(Model):
    id: str
    assignee: str | None


class TaskCompleted(Model):
    instance_id: int
    status: InstanceStatus
    task_id: str


# --- decisions and deployments ----------------------------------------------------------------------------


class DecisionResult(Model):
    decision_id: str
    version: int
    outputs: dict[str, Any]


class DeployedProcess(Model):
    process_id: str
    version: int
    content_hash: str


class DeployedDecision(Model):
    decision_id: str
    version: int


class DeployedRuleSet(Model):
    name: str
    content_hash: str


class DeploymentResult(Model):
    deployment_id: int
    processes: list[DeployedProcess]
    decisions: list[DeployedDecision]
    rulesets: list[DeployedRuleSet]
    files: list[str]


class DeployedFile(Model):
    name: str
    kind: str | None
    hash: str


class Deployment(Model):
    id: int
    created_at: DateTime
    deployed_by: str
    files: list[DeployedFile]


class DeploymentList(Model):
    deployments: list[Deployment]


# --- notifications, calendar, users ----------------------------------------------------------------------


class Requeued(Model):
    id: int
    status: Literal["pending"]


class Holiday(Model):
    date: Date
    name: str


class WorkingDays(Model):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    from_: Date = Field(alias="from")
    days: int
    date: Date
    holidays_skipped: list[Holiday]


class CalendarOverride(Model):
    day: Date
    kind: Literal["holiday", "working"]
    note: str
    created_by: str
    created_at: DateTime


class CalendarOverrideList(Model):
    overrides: list[CalendarOverride]


class CalendarOverrideSet(Model):
    day: Date
    kind: Literal["holiday", "working", "none"]
    cases_recomputed: int


class MfaReset(Model):
    username: str
    mfa_enrolled: bool
    sessions_ended: int


# --- documents ------------------------------------------------------------------------------------------


class Document(Model):
    """A file on a case or on one of its steps; its content is downloaded from ``/documents/{id}``."""

    id: int
    instance_id: int
    task_id: str | None = Field(description="the step it is on; null: the case itself")
    element_id: str | None
    step: str | None = Field(description="the step's name; null: the case itself")
    name: str = Field(description="the file's name as given, without folders or control characters")
    content_type: str = Field(description="the type found in its content, never taken from its name")
    type: str = Field(description="the type in words: PDF document, Word document, ...")
    size: int
    size_text: str
    sha256: str
    uploaded_by: str
    uploaded_at: DateTime


class DocumentList(Model):
    documents: list[Document]


class StepDocuments(Model):
    step: list[Document]
    case: list[Document] | None = Field(
        description="the case's other documents; null for whoever may not see the case (an agency)"
    )
    may_upload: bool = Field(description="the step is open: documents can be added to it")


# the models the OpenAPI document describes, in the order its schemas are listed
RESPONSES: tuple[type[Model], ...] = (
    Error,
    ProcessList,
    ProcessVersionList,
    HandlerList,
    FormList,
    DeadlineRuleList,
    StartedInstance,
    InstanceList,
    InstanceDetail,
    Diagram,
    Chronology,
    MessageDelivered,
    InstanceStatusChanged,
    TaskList,
    TaskDetail,
    TaskAssignment,
    TaskCompleted,
    DecisionResult,
    DeploymentResult,
    DeploymentList,
    OutboxMessageList,
    Requeued,
    WorkingDays,
    CalendarOverrideList,
    CalendarOverrideSet,
    MfaReset,
    Document,
    DocumentList,
    StepDocuments,
)
