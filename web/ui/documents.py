"""Documents in the staff pages: the upload forms on the case page and on a step's page, their lists, and
downloads. What a person may add or see is the engine's decision (engine/services/documents.py); here a
file is read from the form and a download is sent as an attachment that no browser renders or sniffs."""

from __future__ import annotations

from urllib.parse import quote

from flask import Blueprint, Response, abort, current_app, flash, g, redirect, request, session, url_for

from engine import filetypes
from engine.services.documents import size_text
from engine.services.errors import Conflict, Forbidden, Invalid, NotFound, TooLarge
from web.ui.security import signed_in

bp = Blueprint("documents", __name__)
FIELD = "document-upload"  # the file input's name and id (apart from any form field's)
ERROR_KEY = "document_error"  # the refusal shown once on the page the upload came from


def service():
    return current_app.extensions["reviewflow"]


@bp.post("/cases/<id:instance_id>/documents")
@signed_in
def upload_to_case(instance_id):
    back = url_for("cases.show", instance_id=instance_id)
    return _upload(back, f"case:{instance_id}", instance_id=instance_id)


@bp.post("/tasks/<task_id>/documents")
@signed_in
def upload_to_step(task_id):
    back = url_for("tasks.task", task_id=task_id)
    return _upload(back, f"task:{task_id}", task_id=task_id)


def _upload(back: str, where: str, instance_id: int | None = None, task_id: str | None = None):
    """Keep the chosen file, then back to the page (Post/Redirect/Get: a refresh never uploads twice),
    where a refusal is shown at the file field."""
    chosen = request.files.get(FIELD)
    if chosen is None or not chosen.filename:
        return _refused(back, where, "Select a file to upload")
    content = chosen.read(service().documents.max_bytes + 1)
    try:
        kept = service().documents.upload(g.actor, instance_id, chosen.filename, content, task_id=task_id)
    except (Invalid, TooLarge, Conflict) as exc:
        return _refused(back, where, exc.message)
    except NotFound:
        abort(404)
    except Forbidden:
        abort(403)
    flash(f"‘{kept['name']}’ is uploaded ({kept['type']}, {kept['size_text']}).", "success")
    return redirect(back + "#documents", 303)


def _refused(back: str, where: str, message: str):
    session[ERROR_KEY] = {"where": where, "message": message[:500]}
    return redirect(back + "#documents", 303)


@bp.get("/documents/<id:document_id>")
@signed_in
def download(document_id):
    """The file as an attachment, served as the type its content was found to be: never shown in the page,
    never sniffed as another type, never cached."""
    try:
        meta, content = service().documents.download(document_id, g.actor)
    except NotFound:
        abort(404)
    except Forbidden:
        abort(403)
    return attachment(meta, content)


def attachment(meta: dict, content: bytes) -> Response:
    """A document as a download (the pages and the API alike)."""
    response = Response(content, headers={"Content-Type": meta["content_type"]})
    response.headers["Content-Disposition"] = disposition(meta["name"])
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


def disposition(name: str) -> str:
    """``attachment`` with the name in UTF-8 (RFC 6266, 5987) and a plain ASCII fallback for old clients."""
    fallback = "".join(c if c.isascii() and c.isprintable() and c not in '"\\%' else "_" for c in name)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


@bp.app_template_global()
def case_documents(instance_id: int) -> list[dict] | None:
    """The case's documents for the signed-in person; None if they may not see them."""
    try:
        return service().documents.for_case(instance_id, g.actor)
    except (Forbidden, NotFound):
        return None


@bp.app_template_global()
def step_documents(task_id: str) -> dict | None:
    """A step's documents (and the case's others, for whoever may see the case); None if not theirs."""
    try:
        return service().documents.for_task(task_id, g.actor)
    except (Forbidden, NotFound):
        return None


@bp.app_template_global()
def document_error(where: str) -> str | None:
    """The refusal of the last upload to ``where`` (``case:ID``, ``task:ID``), shown once."""
    error = session.get(ERROR_KEY)
    if error and error.get("where") == where:
        session.pop(ERROR_KEY)
        return error["message"]
    return None


@bp.app_template_global()
def document_limits() -> dict:
    return {
        "accept": filetypes.ACCEPT,
        "allowed": filetypes.ALLOWED_TEXT,
        "max": size_text(service().documents.max_bytes),
        "field": FIELD,
    }
