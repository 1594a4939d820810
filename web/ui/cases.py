"""Cases: start one from a notification, and (for managers) the list, one case's page, its actions and
CSV exports."""
from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, flash, g, redirect, render_template, request, url_for

from engine import exports
from engine.services.errors import Conflict, Forbidden, Invalid, NotFound
from web.ui import form_page
from web.ui.security import draws_diagrams, needs, signed_in

bp = Blueprint("cases", __name__)
START_PROCESS, START_FORM = "incident_notification", "incident_notification.json"


def service():
    return current_app.extensions["reviewflow"]


@bp.route("/cases/new", methods=["GET", "POST"])
@signed_in
def new():
    if not service().instances.may_start(START_PROCESS, g.actor):    # the process says who may start it
        abort(403)
    schema = service().catalog.form(START_FORM)
    if schema is None:
        abort(404)
    ui = service().catalog.form(START_FORM.replace(".json", ".ui.json")) or {}
    title = "Notify a serious incident"
    if request.method == "GET":
        return form_page.show("cases/new.html", schema, ui, title=title)

    def submit(data):
        started = service().instances.start(START_PROCESS, data, g.actor)
        return render_template("cases/started.html", title="Notification received", case=started)

    return form_page.post("cases/new.html", schema, ui, {"submit": submit}, title=title)


def _filtered_cases() -> list[dict]:
    args = request.args
    return service().reports.cases(g.actor, args.get("process", ""), args.get("status", ""), args.get("stage", ""),
                                   args.get("overdue") == "yes")


@bp.get("/cases")
@needs("manager")
def index():
    args = request.args
    rows = _filtered_cases()
    deployed = service().queries.processes()
    processes = [p["process_id"] for p in deployed]
    names = {p["process_id"]: p.get("name") or p["process_id"] for p in deployed}
    return render_template("cases/index.html", title="Cases", rows=rows, processes=processes, names=names,
                           stages=service().reports.stages(g.actor), args=args)


def _csv(rows: list[dict], columns: list[str], filename: str) -> Response:
    response = Response(exports.csv_text(rows, columns), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@bp.get("/cases.csv")
@needs("manager")
def index_csv():
    return _csv(_filtered_cases(), ["business_key", "process_id", "version", "status", "regime", "stage", "next_due", "overdue",
                       "created_at"], "cases.csv")


@bp.get("/deadlines.csv")
@needs("manager")
def deadlines_csv():
    rows = service().reports.deadlines(g.actor)
    return _csv(rows, ["business_key", "process_id", "key", "name", "due_date", "status", "source", "closed_at"],
                "deadlines.csv")


def _case(instance_id: int) -> dict:
    try:
        return service().queries.get_instance(instance_id, g.actor)
    except NotFound:
        abort(404)
    except Forbidden:
        abort(403)


@bp.get("/cases/<id:instance_id>")
@needs("manager")
def show(instance_id):
    draws_diagrams()
    case = _case(instance_id)
    diagram = service().queries.diagram(instance_id, g.actor)
    chronology = service().queries.chronology(instance_id, g.actor)
    related = [i for i in service().reports.cases(g.actor) if i["business_key"] == case["business_key"]
               and i["id"] != instance_id]
    return render_template("cases/show.html", title=f"Case {case['business_key']}", case=case, diagram=diagram,
                           chronology=chronology, related=related)


@bp.get("/cases/<id:instance_id>/chronology.csv")
@needs("manager")
def chronology_csv(instance_id):
    rows = service().queries.chronology(instance_id, g.actor)
    return _csv(rows, ["date", "agency", "worker", "event"], f"chronology-{instance_id}.csv")


@bp.get("/cases/<id:instance_id>/diagram.json")
@needs("manager")
def diagram_json(instance_id):
    try:
        return service().queries.diagram(instance_id, g.actor)
    except NotFound:
        abort(404)


@bp.post("/cases/<id:instance_id>/<action>")
@needs("manager")
def act(instance_id, action):
    if action not in ("cancel", "suspend", "resume", "retry"):
        abort(404)
    reason = request.form.get("reason", "").strip()
    if not reason:
        flash("Give a reason: it is kept in the case's audit log.", "error")
        return redirect(url_for("cases.show", instance_id=instance_id) + f"#{action}")
    try:
        if action == "retry":
            service().instances.retry(instance_id, g.actor, reason[:1000])
        else:
            service().instances.set_status(instance_id, action, g.actor, reason[:1000])
        flash({"cancel": "The case is cancelled.", "suspend": "The case is suspended.", "resume": "The case is running again.",
               "retry": "The failed step was tried again."}[action], "success")
    except (Conflict, Invalid) as exc:
        flash(str(exc), "error")
    except NotFound:
        abort(404)
    return redirect(url_for("cases.show", instance_id=instance_id))
