"""The OpenAPI 3.1 description of ``/api/v1``, served at ``/api/v1/openapi.json``.

The paths, parameters and request bodies are written here; what each answer holds is generated from the
response models (web/api_models.py), so the two cannot drift apart. Every operation has an
``operationId`` and a tag, and declares each status it can answer with: besides its own, 400 and 503 for
any request (the request guard refuses a malformed address or parameter; a lost database connection), and
413 and 422 for one with a body (too large; JSON the guard cannot accept).
"""

from __future__ import annotations

import copy
from functools import cache

from pydantic.json_schema import models_json_schema

from web import api_models as m

REF = "#/components/schemas/{model}"
TAGS = (
    ("processes", "Deployed processes and their diagrams"),
    ("catalogue", "What a process owner's modeller offers: handlers, forms, deadline rules"),
    ("instances", "Cases: start, read, deliver messages, retry, cancel, suspend, resume"),
    ("tasks", "Human tasks: list, claim, reassign, complete"),
    ("decisions", "DMN decisions evaluated directly"),
    ("deployments", "Deploying BPMN, DMN, form and rule-set files"),
    ("outbox", "Notifications waiting, sent or given up"),
    ("calendar", "Working days and the holiday calendar"),
    ("documents", "Files on a case or a step: upload, list, download"),
    ("users", "People's sign-in"),
    ("meta", "This description"),
)


def _ref(model: type[m.Model]) -> dict:
    return {"$ref": REF.format(model=model.__name__)}


def _json_content(schema: dict) -> dict:
    return {"application/json": {"schema": schema}}


def _op(
    operation_id: str,
    tag: str,
    summary: str,
    answer: type[m.Model] | dict,
    ok: str = "200",
    body: dict | None = None,
    errors=(401, 403, 404),
    params=(),
    secured: bool = True,
) -> dict:
    """One operation: ``answer`` is the model of its success (or the content, for an answer not JSON)."""
    content = _json_content(_ref(answer)) if isinstance(answer, type) else answer
    op = {
        "operationId": operation_id,
        "tags": [tag],
        "summary": summary,
        "responses": {ok: {"description": "OK", "content": content}},
    }
    if secured:
        op["security"] = [{"bearer": []}]
    codes = {400, 503, *errors} | ({413, 422} if body else set())
    for code in sorted(codes):
        op["responses"][str(code)] = {"description": "error", "content": _json_content(_ref(m.Error))}
    if body:
        op["requestBody"] = {"required": True, "content": body}
    if params:
        op["parameters"] = list(params)
    return op


def _json(props: dict, required=()) -> dict:
    return _json_content({"type": "object", "properties": props, "required": list(required)})


def _path(name: str, kind: str = "string") -> dict:
    return {"name": name, "in": "path", "required": True, "schema": {"type": kind}}


def _query(name: str, kind: str = "string", required: bool = False) -> dict:
    return {"name": name, "in": "query", "required": required, "schema": {"type": kind}}


@cache
def _document_paths() -> dict:
    """Documents: sent as multipart/form-data with the file in a part named ``file``; downloaded as the type
    their content was found to be."""
    from engine import filetypes

    upload = {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "properties": {"file": {"type": "string", "format": "binary"}},
                "required": ["file"],
            }
        }
    }
    binary = {"schema": {"type": "string", "format": "binary"}}
    return {
        "/instances/{id}/documents": {
            "get": _op(
                "listCaseDocuments",
                "documents",
                "Every document of a case and of its steps (whoever may see the case)",
                m.DocumentList,
                params=[_path("id", "integer")],
            ),
            "post": _op(
                "uploadCaseDocument",
                "documents",
                "Add a document to a case: PDF, Word, Excel, OpenDocument, CSV or text, PNG or JPEG, its "
                "type read from its content (422 names a file that is not what its name says)",
                m.Document,
                "201",
                upload,
                (400, 401, 403, 404, 409, 413, 422),
                params=[_path("id", "integer")],
            ),
        },
        "/tasks/{id}/documents": {
            "get": _op(
                "listStepDocuments",
                "documents",
                "A step's documents, and the case's others for whoever may see the case",
                m.StepDocuments,
                params=[_path("id")],
            ),
            "post": _op(
                "uploadStepDocument",
                "documents",
                "Add a document to an open step (its role, or a manager)",
                m.Document,
                "201",
                upload,
                (400, 401, 403, 404, 409, 413, 422),
                params=[_path("id")],
            ),
        },
        "/documents/{id}": {
            "get": _op(
                "downloadDocument",
                "documents",
                "A document's content, as an attachment of the type found in it (audited)",
                {t.mime.split(";")[0]: binary for t in filetypes.ALLOWED},
                params=[_path("id", "integer")],
            )
        },
    }


def schemas() -> dict:
    """The component schemas: every response model and the models inside them, by name."""
    _, top = models_json_schema([(model, "serialization") for model in m.RESPONSES], ref_template=REF)
    return top["$defs"]


def document() -> dict:
    data = {"type": "object"}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "reviewflow API",
            "version": "1",
            "description": "Child-safeguarding case reviews: processes, cases, tasks, decisions, deadlines.",
        },
        "servers": [{"url": "/api/v1"}],
        "tags": [{"name": name, "description": description} for name, description in TAGS],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": copy.deepcopy(schemas()),
        },
        "paths": {
            "/openapi.json": {
                "get": _op(
                    "getOpenApiDocument",
                    "meta",
                    "This description of the API (no token needed)",
                    _json_content({"type": "object"}),
                    errors=(),
                    secured=False,
                )
            },
            "/processes": {
                "get": _op(
                    "listProcesses",
                    "processes",
                    "Deployed processes with their current version",
                    m.ProcessList,
                    errors=(401,),
                )
            },
            "/processes/{process_id}/instances": {
                "post": _op(
                    "startInstance",
                    "instances",
                    "Start an instance. Its rules are those in force on data.date_aware; "
                    "only a manager names others (data.regime or data.ruleset, with data.regime_reason)",
                    m.StartedInstance,
                    "201",
                    _json({"data": data}),
                    (400, 401, 403, 404, 422),
                    [_path("process_id")],
                )
            },
            "/processes/{process_id}/versions": {
                "get": _op(
                    "listProcessVersions",
                    "processes",
                    "Version history of a process (who deployed what)",
                    m.ProcessVersionList,
                    errors=(401, 403, 404),
                    params=[_path("process_id")],
                )
            },
            "/processes/{process_id}/bpmn": {
                "get": _op(
                    "getProcessBpmn",
                    "processes",
                    "The BPMN file of a process version (newest by default)",
                    {"application/xml": {"schema": {"type": "string"}}},
                    errors=(400, 401, 403, 404),
                    params=[_path("process_id"), _query("version", "integer")],
                )
            },
            "/handlers": {
                "get": _op(
                    "listHandlers",
                    "catalogue",
                    "Registered service-task handlers and their parameters",
                    m.HandlerList,
                    errors=(401, 403),
                )
            },
            "/forms": {
                "get": _op("listForms", "catalogue", "Deployed form files", m.FormList, errors=(401, 403))
            },
            "/deadlines": {
                "get": _op(
                    "listDeadlineRules",
                    "catalogue",
                    "Deadline keys of every rule set, with figures and sources",
                    m.DeadlineRuleList,
                    errors=(401, 403),
                )
            },
            "/instances": {
                "get": _op(
                    "listInstances",
                    "instances",
                    "List instances",
                    m.InstanceList,
                    errors=(400, 401),
                    params=[
                        _query("process_id"),
                        _query("status"),
                        _query("limit", "integer"),
                        _query("offset", "integer"),
                    ],
                )
            },
            "/instances/{id}": {
                "get": _op(
                    "getInstance",
                    "instances",
                    "One instance: status, data, open tasks, deadlines, history. `deadlines` lists "
                    "every statutory deadline of the procedure from day 0: armed ones as they "
                    "stand, the others `pending` with `armed` false and a `due_date` or, when "
                    "the date they count from is not known, `starts_when`; `process_id` and "
                    "`instance_id` say which case runs each (null: a case not handed over yet); "
                    "`handed_over_deadlines` are those now on the cases it handed over to",
                    m.InstanceDetail,
                    params=[_path("id", "integer")],
                )
            },
            "/instances/{id}/diagram": {
                "get": _op(
                    "getInstanceDiagram",
                    "instances",
                    "The case's BPMN with its completed, active and overdue steps and their due dates",
                    m.Diagram,
                    params=[_path("id", "integer")],
                )
            },
            "/instances/{id}/chronology": {
                "get": _op(
                    "getInstanceChronology",
                    "instances",
                    "The merged multi-agency chronology, ordered by date (format=csv for a spreadsheet)",
                    {
                        **_json_content(_ref(m.Chronology)),
                        "text/csv": {"schema": {"type": "string"}},
                    },
                    params=[_path("id", "integer"), _query("format")],
                )
            },
            "/instances/{id}/messages": {
                "post": _op(
                    "deliverMessage",
                    "instances",
                    "Deliver a message event",
                    m.MessageDelivered,
                    body=_json({"name": {"type": "string"}, "data": data}, ["name"]),
                    errors=(400, 401, 403, 404, 409, 422),
                    params=[_path("id", "integer")],
                )
            },
            "/messages": {
                "post": _op(
                    "deliverMessageByBusinessKey",
                    "instances",
                    "Deliver a message event to the case with this business key",
                    m.MessageDelivered,
                    body=_json(
                        {"name": {"type": "string"}, "business_key": {"type": "string"}, "data": data},
                        ["name", "business_key"],
                    ),
                    errors=(400, 401, 403, 404, 409, 422),
                )
            },
            **{
                f"/instances/{{id}}/{action}": {
                    "post": _op(
                        f"{action}Instance",
                        "instances",
                        f"{action.capitalize()} an instance (managers; a reason is recorded)",
                        m.InstanceStatusChanged,
                        body=_json({"reason": {"type": "string"}}),
                        errors=(400, 401, 403, 404, 409, 422),
                        params=[_path("id", "integer")],
                    )
                }
                for action in ("retry", "cancel", "suspend", "resume")
            },
            "/tasks": {
                "get": _op(
                    "listTasks",
                    "tasks",
                    "Tasks the caller may work on",
                    m.TaskList,
                    errors=(401,),
                    params=[_query("mine")],
                )
            },
            "/tasks/{id}": {
                "get": _op(
                    "getTask",
                    "tasks",
                    "One task with its form's JSON Schema",
                    m.TaskDetail,
                    params=[_path("id")],
                )
            },
            "/tasks/{id}/claim": {
                "post": _op(
                    "claimTask",
                    "tasks",
                    "Claim a task",
                    m.TaskAssignment,
                    errors=(401, 403, 404, 409),
                    params=[_path("id")],
                )
            },
            "/tasks/{id}/unclaim": {
                "post": _op(
                    "unclaimTask",
                    "tasks",
                    "Give a task back",
                    m.TaskAssignment,
                    errors=(401, 403, 404, 409),
                    params=[_path("id")],
                )
            },
            "/tasks/{id}/reassign": {
                "post": _op(
                    "reassignTask",
                    "tasks",
                    "Reassign a task (managers)",
                    m.TaskAssignment,
                    body=_json({"username": {"type": "string"}}, ["username"]),
                    errors=(400, 401, 403, 404, 409, 422),
                    params=[_path("id")],
                )
            },
            "/tasks/{id}/complete": {
                "post": _op(
                    "completeTask",
                    "tasks",
                    "Complete a task",
                    m.TaskCompleted,
                    body=_json({"data": data}, ["data"]),
                    errors=(400, 401, 403, 404, 409, 422),
                    params=[_path("id")],
                )
            },
            "/decisions/{decision_id}/evaluate": {
                "post": _op(
                    "evaluateDecision",
                    "decisions",
                    "Evaluate a DMN decision",
                    m.DecisionResult,
                    body=_json({"inputs": data}, ["inputs"]),
                    errors=(400, 401, 404, 422),
                    params=[_path("decision_id")],
                )
            },
            "/deployments": {
                "post": _op(
                    "deploy",
                    "deployments",
                    "Deploy BPMN, DMN, form and rule-set files (all or nothing)",
                    m.DeploymentResult,
                    "201",
                    {
                        "multipart/form-data": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "files": {
                                        "type": "array",
                                        "items": {"type": "string", "format": "binary"},
                                    }
                                },
                            }
                        }
                    },
                    (400, 401, 403, 413, 422),
                ),
                "get": _op(
                    "listDeployments",
                    "deployments",
                    "Deployment history (process owners and managers)",
                    m.DeploymentList,
                    errors=(401, 403),
                ),
            },
            "/outbox": {
                "get": _op(
                    "listOutboxMessages",
                    "outbox",
                    "Notifications with recipient, subject, status, failed attempts, sent time, "
                    "and the worker sending it now",
                    m.OutboxMessageList,
                    errors=(400, 401, 403),
                    params=[
                        {
                            **_query("status"),
                            "schema": {"type": "string", "enum": ["pending", "sending", "sent", "dead"]},
                        }
                    ],
                )
            },
            "/outbox/{id}/requeue": {
                "post": _op(
                    "requeueOutboxMessage",
                    "outbox",
                    "Send again a notification that gave up (admins)",
                    m.Requeued,
                    errors=(401, 403, 404, 409),
                    params=[_path("id", "integer")],
                )
            },
            "/users/{name}/mfa/reset": {
                "post": _op(
                    "resetMfa",
                    "users",
                    "Remove a person's authenticator and recovery codes and end their sessions (admins)",
                    m.MfaReset,
                    errors=(401, 403, 404),
                    params=[_path("name", "string")],
                )
            },
            "/calendar/overrides": {
                "get": _op(
                    "listCalendarOverrides",
                    "calendar",
                    "The administrator's changes to the bank-holiday calendar",
                    m.CalendarOverrideList,
                    errors=(401,),
                )
            },
            "/calendar/overrides/{day}": {
                "put": _op(
                    "setCalendarOverride",
                    "calendar",
                    "Make a day a holiday, a working day, or clear the override (administrators)",
                    m.CalendarOverrideSet,
                    body=_json(
                        {"kind": {"enum": ["holiday", "working", "none"]}, "note": {"type": "string"}},
                        ["kind"],
                    ),
                    errors=(400, 401, 403, 422),
                    params=[_path("day")],
                )
            },
            **_document_paths(),
            "/calendar/working-days": {
                "get": _op(
                    "getWorkingDays",
                    "calendar",
                    "The Nth working day after (negative: before) a date",
                    m.WorkingDays,
                    errors=(400, 401, 422),
                    params=[_query("from", required=True), _query("days", "integer", required=True)],
                )
            },
        },
    }
