"""The JSON API under ``/api/v1``: thin handlers over :mod:`engine.services`.

Every route authenticates the bearer token, turns the request into one service
call, and turns :class:`ServiceError` into ``{"error": {code, message, details}}``.
What each answer holds is described by web/api_models.py (and so by the OpenAPI document).
"""

from __future__ import annotations

from functools import wraps

from flask import Blueprint, current_app, g, jsonify, request

from engine import exports
from engine.services import Reviewflow
from engine.services.errors import BadRequest, NotFound, ServiceError, Unauthorized
from web.api_models import Error, ErrorBody, Requeued
from web.openapi import document

api = Blueprint("api", __name__)


def svc() -> Reviewflow:
    return current_app.extensions["reviewflow"]


@api.errorhandler(ServiceError)
def service_error(exc: ServiceError):
    # built without validation: the answer to a refusal must never fail in its turn
    body = Error.model_construct(
        error=ErrorBody.model_construct(code=exc.code, message=exc.message, details=exc.details)
    )
    response = jsonify(body.model_dump())
    if exc.status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="reviewflow"'
    return response, exc.status


def authenticated(view):
    @wraps(view)
    def wrapper(*args, **kwargs):
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bearer ") or not header[7:].strip():
            raise Unauthorized("send 'Authorization: Bearer <token>' (reviewflow token create NAME)")
        g.actor = svc().users.actor_for_token(header[7:].strip())
        return view(*args, **kwargs)

    return wrapper


def body() -> dict:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise BadRequest("the request body must be a JSON object")
    return data


MAX_ID = 2**31 - 1  # ids are 32-bit integers on PostgreSQL


def known_id(value: int) -> int:
    """Ids beyond what the database can hold cannot exist: a 404, not an overflow."""
    if not 0 < value <= MAX_ID:
        raise NotFound(f"no instance {value}")
    return value


def text(payload: dict, name: str, default: str = "") -> str:
    value = payload.get(name, default)
    if value is None:
        return default
    if not isinstance(value, str):
        raise BadRequest(f"'{name}' must be text")
    return value


def field(payload: dict, name: str, default=None):
    value = payload.get(name, default)
    if value is None:
        return default
    if not isinstance(value, dict):
        raise BadRequest(f"'{name}' must be a JSON object")
    return value


@api.get("/openapi.json")
def openapi():
    return jsonify(document())


@api.get("/processes")
@authenticated
def processes():
    return jsonify({"processes": svc().queries.processes()})


@api.get("/processes/<process_id>/versions")
@authenticated
def process_versions(process_id):
    return jsonify({"versions": svc().catalog.versions(process_id, g.actor)})


@api.get("/processes/<process_id>/bpmn")
@authenticated
def process_bpmn(process_id):
    try:
        version = int(request.args["version"]) if "version" in request.args else None
    except ValueError:
        raise BadRequest("version must be a whole number") from None
    name, xml = svc().catalog.bpmn(process_id, g.actor, version)
    response = current_app.response_class(xml, mimetype="application/xml")
    response.headers["Content-Disposition"] = f'attachment; filename="{name.split("/")[-1]}"'
    return response


@api.get("/handlers")
@authenticated
def handlers_list():
    return jsonify({"handlers": svc().catalog.handlers(g.actor)})


@api.get("/forms")
@authenticated
def forms_list():
    return jsonify({"forms": svc().catalog.forms(g.actor)})


@api.get("/deadlines")
@authenticated
def deadline_keys():
    return jsonify({"deadlines": svc().catalog.deadlines(g.actor)})


@api.post("/processes/<process_id>/instances")
@authenticated
def start_instance(process_id):
    payload = body()
    data = field(payload, "data", {})
    result = svc().instances.start(process_id, data, g.actor)
    return jsonify(result), 201


@api.get("/instances")
@authenticated
def list_instances():
    try:
        limit, offset = int(request.args.get("limit", 100)), int(request.args.get("offset", 0))
    except ValueError:
        raise BadRequest("limit and offset must be whole numbers") from None
    if not (1 <= limit <= 500 and 0 <= offset <= MAX_ID):
        raise BadRequest("limit is 1 to 500 and offset 0 or more")
    rows = svc().queries.list_instances(
        g.actor, request.args.get("process_id"), request.args.get("status"), limit, offset
    )
    return jsonify({"instances": rows})


@api.get("/instances/<int:instance_id>")
@authenticated
def get_instance(instance_id):
    return jsonify(svc().queries.get_instance(known_id(instance_id), g.actor))


@api.get("/instances/<int:instance_id>/diagram")
@authenticated
def diagram(instance_id):
    return jsonify(svc().queries.diagram(known_id(instance_id), g.actor))


@api.get("/instances/<int:instance_id>/chronology")
@authenticated
def chronology(instance_id):
    rows = svc().queries.chronology(known_id(instance_id), g.actor)
    if request.args.get("format") != "csv":
        return jsonify({"chronology": rows})
    text = exports.csv_text(rows, ["date", "agency", "worker", "event"])
    response = current_app.response_class(text, mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="chronology-{instance_id}.csv"'
    return response


@api.post("/instances/<int:instance_id>/messages")
@authenticated
def deliver_message(instance_id):
    payload = body()
    name, data = text(payload, "name"), field(payload, "data", {})
    result = svc().instances.deliver_message(name, data, g.actor, instance_id=known_id(instance_id))
    return jsonify(result)


@api.post("/messages")
@authenticated
def deliver_message_by_key():
    payload = body()
    name, data, business_key = (
        text(payload, "name"),
        field(payload, "data", {}),
        text(payload, "business_key"),
    )
    result = svc().instances.deliver_message(name, data, g.actor, business_key=business_key)
    return jsonify(result)


@api.post("/instances/<int:instance_id>/<any(retry, cancel, suspend, resume):action>")
@authenticated
def instance_action(instance_id, action):
    payload = request.get_json(silent=True) or {}
    if not isinstance(payload, dict):
        raise BadRequest("the request body must be a JSON object")
    reason = text(payload, "reason")
    instance_id = known_id(instance_id)
    if action == "retry":
        return jsonify(svc().instances.retry(instance_id, g.actor, reason))
    return jsonify(svc().instances.set_status(instance_id, action, g.actor, reason))


@api.get("/tasks")
@authenticated
def tasks():
    mine = request.args.get("mine") in ("1", "true", "yes")
    return jsonify({"tasks": svc().tasks.for_user(g.actor, mine=mine)})


@api.get("/tasks/<task_id>")
@authenticated
def get_task(task_id):
    return jsonify(svc().tasks.get(task_id, g.actor))


@api.post("/tasks/<task_id>/claim")
@authenticated
def claim(task_id):
    return jsonify(svc().tasks.claim(task_id, g.actor))


@api.post("/tasks/<task_id>/unclaim")
@authenticated
def unclaim(task_id):
    return jsonify(svc().tasks.unclaim(task_id, g.actor))


@api.post("/tasks/<task_id>/reassign")
@authenticated
def reassign(task_id):
    return jsonify(svc().tasks.reassign(task_id, g.actor, text(body(), "username")))


@api.post("/tasks/<task_id>/complete")
@authenticated
def complete(task_id):
    payload = body()
    data = field(payload, "data", {})
    return jsonify(svc().instances.complete_task(task_id, data, g.actor))


@api.post("/decisions/<decision_id>/evaluate")
@authenticated
def evaluate(decision_id):
    payload = body()
    return jsonify(svc().decisions.evaluate(decision_id, field(payload, "inputs", {}), g.actor))


@api.post("/deployments")
@authenticated
def deploy():
    uploads = request.files.getlist("files")
    if not uploads:
        raise BadRequest("send one or more files as multipart/form-data parts named 'files'")
    files = {}
    for upload in uploads:
        name = upload.filename or ""
        if not name:
            raise BadRequest("every uploaded file needs a file name")
        if name.endswith(".toml") and "/" not in name and "\\" not in name:
            name = "rulesets/" + name  # a file name with a path is refused whole (deployments.py)
        files[name] = upload.read()
    return jsonify(svc().deployments.deploy(files, g.actor)), 201


@api.get("/deployments")
@authenticated
def deployments():
    return jsonify({"deployments": svc().deployments.history(g.actor)})


@api.get("/outbox")
@authenticated
def outbox():
    return jsonify({"messages": svc().outbox.list(g.actor, request.args.get("status"))})


@api.post("/outbox/<int:message_id>/requeue")
@authenticated
def requeue(message_id):
    svc().outbox.requeue(known_id(message_id), g.actor)
    return jsonify(Requeued(id=message_id, status="pending").model_dump())


@api.get("/calendar/working-days")
@authenticated
def working_days():
    return jsonify(svc().calendar.working_days(request.args.get("from"), request.args.get("days")))


@api.get("/calendar/overrides")
@authenticated
def calendar_overrides():
    return jsonify({"overrides": svc().calendar.overrides()})


@api.put("/calendar/overrides/<day>")
@authenticated
def set_calendar_override(day):
    payload = body()
    return jsonify(
        svc().calendar.set_override(day, text(payload, "kind"), text(payload, "note")[:255], g.actor)
    )


@api.post("/users/<name>/mfa/reset")
@authenticated
def reset_mfa(name):
    """An admin takes away a lost authenticator: set up again at the next sign-in; open sessions end."""
    if len(name) > 64 or not name.isprintable():
        raise NotFound("no such user")
    return jsonify(svc().mfa.reset(name, g.actor))


# --- documents: the same service and rules as the pages (engine/services/documents.py) -----------------


def _file() -> tuple[str, bytes]:
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise BadRequest("send the file as a multipart/form-data part named 'file', with its file name")
    return upload.filename, upload.read(svc().documents.max_bytes + 1)


@api.get("/instances/<int:instance_id>/documents")
@authenticated
def case_documents(instance_id):
    return jsonify({"documents": svc().documents.for_case(known_id(instance_id), g.actor)})


@api.post("/instances/<int:instance_id>/documents")
@authenticated
def upload_case_document(instance_id):
    name, content = _file()
    return jsonify(svc().documents.upload(g.actor, known_id(instance_id), name, content)), 201


@api.get("/tasks/<task_id>/documents")
@authenticated
def step_documents(task_id):
    return jsonify(svc().documents.for_task(task_id, g.actor))


@api.post("/tasks/<task_id>/documents")
@authenticated
def upload_step_document(task_id):
    name, content = _file()
    return jsonify(svc().documents.upload(g.actor, None, name, content, task_id=task_id)), 201


@api.get("/documents/<int:document_id>")
@authenticated
def download_document(document_id):
    from web.ui.documents import attachment

    return attachment(*svc().documents.download(known_id(document_id), g.actor))
