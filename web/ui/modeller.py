"""The process owners' modeller: versions and who deployed them, the bpmn-js and dmn-js editors with
validation on the diagram, deployment of a new version, and file download and upload (which works
without JavaScript)."""

from __future__ import annotations

import re

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)

from engine.bpmn import bundle as bundles
from engine.services.errors import Forbidden, Invalid, NotFound, ServiceError
from web.ui.filters import process_name
from web.ui.security import draws_diagrams, needs

bp = Blueprint("modeller", __name__)
_FILE = re.compile(r"^[A-Za-z0-9_.-]{1,120}\.(bpmn|dmn)$")


def service():
    return current_app.extensions["reviewflow"]


@bp.get("/modeller")
@needs("process_owner")
def index():
    processes = service().queries.processes()
    versions = {p["process_id"]: service().catalog.versions(p["process_id"], g.actor) for p in processes}
    return render_template(
        "modeller/index.html",
        title="Modeller",
        processes=processes,
        versions=versions,
        decisions=service().catalog.decisions(g.actor),
        history=service().deployments.history(g.actor)[:20],
    )


def _catalogue() -> dict:
    catalog = service().catalog
    return {
        "forms": [f["name"] for f in catalog.forms(g.actor) if not f["ui_schema"]],
        "handlers": catalog.handlers(g.actor),
        "deadlines": catalog.deadlines(g.actor),
        "roles": service().queries.roles(),
    }


@bp.get("/modeller/<process_id>")
@needs("process_owner")
def edit(process_id):
    try:
        file, xml = service().catalog.bpmn(process_id, g.actor)
        versions = service().catalog.versions(process_id, g.actor)
    except NotFound:
        abort(404)
    draws_diagrams()
    return render_template(
        "modeller/edit.html",
        title=f"Edit {process_name(process_id)}",
        process_id=process_id,
        file=file,
        xml=xml.decode("utf-8"),
        versions=versions,
        catalogue_data=_catalogue(),
    )


@bp.get("/modeller/<process_id>/download")
@needs("process_owner")
def download(process_id):
    try:
        version = request.args.get("version", type=int)
        file, xml = service().catalog.bpmn(process_id, g.actor, version)
    except NotFound:
        abort(404)
    response = Response(xml, mimetype="application/xml")
    response.headers["Content-Disposition"] = f'attachment; filename="{file}"'
    return response


def _files_from_json() -> dict[str, bytes]:
    body = request.get_json(silent=True)
    if (
        not isinstance(body, dict)
        or not isinstance(body.get("file"), str)
        or not isinstance(body.get("xml"), str)
    ):
        raise Invalid(
            "send {file, xml}",
            [{"file": "", "element_id": "", "message": "a file name and its XML are needed"}],
        )
    if not _FILE.match(body["file"]):
        raise Invalid(
            "bad file name",
            [{"file": body["file"], "element_id": "", "message": "the file name must end .bpmn or .dmn"}],
        )
    return {body["file"]: body["xml"].encode("utf-8")}


@bp.post("/modeller/validate")
@needs("process_owner")
def validate():
    try:
        files = _files_from_json()
        service().deployments.check(files)
    except Invalid as exc:
        return jsonify({"ok": False, "problems": exc.details}), 422
    except ServiceError as exc:
        return jsonify({"ok": False, "problems": [{"file": "", "element_id": "", "message": str(exc)}]}), 400
    return jsonify({"ok": True, "problems": []})


@bp.post("/modeller/deploy")
@needs("process_owner")
def deploy():
    try:
        result = service().deployments.deploy(_files_from_json(), g.actor)
    except Invalid as exc:
        return jsonify({"ok": False, "problems": exc.details}), 422
    except Forbidden:
        abort(403)
    except ServiceError as exc:
        return jsonify({"ok": False, "problems": [{"file": "", "element_id": "", "message": str(exc)}]}), 400
    return jsonify({"ok": True, **result})


@bp.post("/modeller/upload")
@needs("process_owner")
def upload():
    """A diagram or decision file uploaded with a plain form: validated, then deployed, or its problems
    listed."""
    uploaded = request.files.getlist("files")
    files = {}
    for f in uploaded:
        name = f.filename or ""
        if not name:
            continue
        reason = bundles.file_name_problem(name)
        if reason:
            flash(f"{bundles.shown_name(name)}: {reason}. Nothing was deployed.", "error")
            return redirect(url_for("modeller.index"))
        if not _FILE.match(name):
            flash(f"{name}: only .bpmn and .dmn files can be uploaded here", "error")
            return redirect(url_for("modeller.index"))
        files[name] = f.read(service().settings.max_upload_bytes + 1)
    if not files:
        flash("Choose a .bpmn or .dmn file to upload", "error")
        return redirect(url_for("modeller.index"))
    try:
        result = service().deployments.deploy(files, g.actor)
    except Invalid as exc:
        return render_template(
            "modeller/problems.html",
            title="The file was not deployed",
            problems=exc.details or [],
            message=str(exc),
        ), 422
    except ServiceError as exc:
        return render_template(
            "modeller/problems.html",
            title="The file was not deployed",
            problems=[{"file": "", "element_id": "", "message": str(exc)}],
            message=str(exc),
        ), 400
    versions = (
        ", ".join(f"{p['process_id']} version {p['version']}" for p in result["processes"])
        or "no process changed"
    )
    flash(f"Deployed: {versions}.", "success")
    return redirect(url_for("modeller.index"))


@bp.get("/modeller/decisions/<decision_id>")
@needs("process_owner")
def decision(decision_id):
    try:
        file, xml = service().catalog.dmn(decision_id, g.actor)
    except NotFound:
        abort(404)
    draws_diagrams()
    return render_template(
        "modeller/decision.html",
        title=f"Edit decision {decision_id}",
        decision_id=decision_id,
        file=file,
        xml=xml.decode("utf-8"),
    )
