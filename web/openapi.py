"""The OpenAPI 3.1 description of ``/api/v1``, served at ``/api/v1/openapi.json``."""

from __future__ import annotations

ERROR = {"$ref": "#/components/schemas/Error"}


def _op(summary: str, ok: str = "200", body: dict | None = None, errors=(401, 403, 404), params=()):
    op = {
        "summary": summary,
        "responses": {
            ok: {"description": "OK", "content": {"application/json": {"schema": {"type": "object"}}}}
        },
        "security": [{"bearer": []}],
    }
    for code in errors:
        op["responses"][str(code)] = {
            "description": "error",
            "content": {"application/json": {"schema": ERROR}},
        }
    if body:
        op["requestBody"] = {"required": True, "content": body}
    if params:
        op["parameters"] = list(params)
    return op


def _json(props: dict, required=()) -> dict:
    return {
        "application/json": {"schema": {"type": "object", "properties": props, "required": list(required)}}
    }


def _path(name: str, kind: str = "string") -> dict:
    return {"name": name, "in": "path", "required": True, "schema": {"type": kind}}


def _query(name: str, kind: str = "string", required: bool = False) -> dict:
    return {"name": name, "in": "query", "required": required, "schema": {"type": kind}}


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
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error"],
                    "properties": {
                        "error": {
                            "type": "object",
                            "required": ["code", "message"],
                            "properties": {
                                "code": {"type": "string"},
                                "message": {"type": "string"},
                                "details": {},
                            },
                        }
                    },
                }
            },
        },
        "paths": {
            "/processes": {"get": _op("Deployed processes with their current version", errors=(401,))},
            "/processes/{process_id}/instances": {
                "post": _op(
                    "Start an instance. Its rules are those in force on data.date_aware; "
                    "only a manager names others (data.regime or data.ruleset, with data.regime_reason)",
                    "201",
                    _json({"data": data}),
                    (400, 401, 403, 404, 422),
                    [_path("process_id")],
                )
            },
            "/processes/{process_id}/versions": {
                "get": _op(
                    "Version history of a process (who deployed what)",
                    errors=(401, 403, 404),
                    params=[_path("process_id")],
                )
            },
            "/processes/{process_id}/bpmn": {
                "get": _op(
                    "The BPMN file of a process version (newest by default)",
                    errors=(400, 401, 403, 404),
                    params=[_path("process_id"), _query("version", "integer")],
                )
            },
            "/handlers": {
                "get": _op("Registered service-task handlers and their parameters", errors=(401, 403))
            },
            "/forms": {"get": _op("Deployed form files", errors=(401, 403))},
            "/deadlines": {
                "get": _op("Deadline keys of every rule set, with figures and sources", errors=(401, 403))
            },
            "/instances": {
                "get": _op(
                    "List instances",
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
                    "One instance: status, data, open tasks, deadlines, history. `deadlines` lists "
                    "every statutory deadline of the procedure from day 0: armed ones as they "
                    "stand, the others `pending` with `armed` false and a `due_date` or, when "
                    "the date they count from is not known, `starts_when`; `process_id` and "
                    "`instance_id` say which case runs each (null: a case not handed over yet); "
                    "`handed_over_deadlines` are those now on the cases it handed over to",
                    params=[_path("id", "integer")],
                )
            },
            "/instances/{id}/diagram": {
                "get": _op(
                    "The case's BPMN with its completed, active and overdue steps and their due dates",
                    params=[_path("id", "integer")],
                )
            },
            "/instances/{id}/chronology": {
                "get": _op(
                    "The merged multi-agency chronology, ordered by date (format=csv for a spreadsheet)",
                    params=[_path("id", "integer"), _query("format")],
                )
            },
            "/instances/{id}/messages": {
                "post": _op(
                    "Deliver a message event",
                    body=_json({"name": {"type": "string"}, "data": data}, ["name"]),
                    errors=(400, 401, 403, 404, 409, 422),
                    params=[_path("id", "integer")],
                )
            },
            "/messages": {
                "post": _op(
                    "Deliver a message event to the case with this business key",
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
                        f"{action.capitalize()} an instance (managers; a reason is recorded)",
                        body=_json({"reason": {"type": "string"}}),
                        errors=(401, 403, 404, 409, 422),
                        params=[_path("id", "integer")],
                    )
                }
                for action in ("retry", "cancel", "suspend", "resume")
            },
            "/tasks": {"get": _op("Tasks the caller may work on", errors=(401,), params=[_query("mine")])},
            "/tasks/{id}": {"get": _op("One task with its form's JSON Schema", params=[_path("id")])},
            "/tasks/{id}/claim": {
                "post": _op("Claim a task", errors=(401, 403, 404, 409), params=[_path("id")])
            },
            "/tasks/{id}/unclaim": {
                "post": _op("Give a task back", errors=(401, 403, 404, 409), params=[_path("id")])
            },
            "/tasks/{id}/reassign": {
                "post": _op(
                    "Reassign a task (managers)",
                    body=_json({"username": {"type": "string"}}, ["username"]),
                    errors=(400, 401, 403, 404, 409, 422),
                    params=[_path("id")],
                )
            },
            "/tasks/{id}/complete": {
                "post": _op(
                    "Complete a task",
                    body=_json({"data": data}, ["data"]),
                    errors=(400, 401, 403, 404, 409, 422),
                    params=[_path("id")],
                )
            },
            "/decisions/{decision_id}/evaluate": {
                "post": _op(
                    "Evaluate a DMN decision",
                    body=_json({"inputs": data}, ["inputs"]),
                    errors=(400, 401, 404, 422),
                    params=[_path("decision_id")],
                )
            },
            "/deployments": {
                "post": _op(
                    "Deploy BPMN, DMN, form and rule-set files (all or nothing)",
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
                "get": _op("Deployment history (process owners and managers)", errors=(401, 403)),
            },
            "/outbox": {
                "get": _op(
                    "Notifications with recipient, subject, status, failed attempts, sent time, "
                    "and the worker sending it now",
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
                    "Send again a notification that gave up (managers)",
                    errors=(401, 403, 404, 409),
                    params=[_path("id", "integer")],
                )
            },
            "/users/{name}/mfa/reset": {
                "post": _op(
                    "Remove a person's authenticator and recovery codes and end their sessions (admins)",
                    errors=(401, 403, 404),
                    params=[_path("name", "string")],
                )
            },
            "/calendar/overrides": {
                "get": _op("The administrator's changes to the bank-holiday calendar", errors=(401,))
            },
            "/calendar/overrides/{day}": {
                "put": _op(
                    "Make a day a holiday, a working day, or clear the override (administrators)",
                    body=_json(
                        {"kind": {"enum": ["holiday", "working", "none"]}, "note": {"type": "string"}},
                        ["kind"],
                    ),
                    errors=(400, 401, 403, 422),
                    params=[_path("day")],
                )
            },
            "/calendar/working-days": {
                "get": _op(
                    "The Nth working day after (negative: before) a date",
                    errors=(400, 401, 422),
                    params=[_query("from", required=True), _query("days", "integer", required=True)],
                )
            },
        },
    }
