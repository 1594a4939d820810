"""Cases: start one from a notification, and (for managers) the list, one case's page, its actions and
CSV exports."""

from __future__ import annotations

import datetime as dt

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)

from engine import exports
from engine.services.errors import Conflict, Forbidden, Invalid, NotFound
from engine.services.reports import MAX_DUE_SOON_DAYS, CaseFilter
from web.ui import form_page
from web.ui.security import draws_diagrams, needs, signed_in

bp = Blueprint("cases", __name__)
START_PROCESS, START_FORM = "incident_notification", "incident_notification.json"
# A review of a case that is not a serious incident, asked for from the same Start page (000 §10.1,
# Appendix 6; 003 §5.6): the request's own process and form
REVIEW_PROCESS, REVIEW_FORM = "multi_agency_review", "multi_agency_review_request.json"
STARTED_TITLES = {START_PROCESS: "Notification received", REVIEW_PROCESS: "Review request received"}


def service():
    return current_app.extensions["reviewflow"]


@bp.route("/cases/new", methods=["GET", "POST"])
@signed_in
def new():
    return _start_page(
        START_PROCESS,
        START_FORM,
        "Notify a serious incident",
        "You already sent this notification. It was not sent again: this is its case.",
        may_ask_for_review=service().instances.may_start(REVIEW_PROCESS, g.actor),
    )


@bp.route("/cases/new/review", methods=["GET", "POST"])
@signed_in
def new_review():
    """Ask for a review of a case that is not a serious incident: the request of 000 Appendix 6, which the
    SCR sub group (2015 procedures) or the Practice Review Group (from 2018, 003 §5.6) considers."""
    return _start_page(
        REVIEW_PROCESS,
        REVIEW_FORM,
        "Ask for a review",
        "You already sent this request. It was not sent again: this is its case.",
    )


def _start_page(process_id: str, form_name: str, title: str, sent_again: str, **context):
    """The Start page of one process: its start form, sent once, then its confirmation (Post/Redirect/Get)."""
    if not service().instances.may_start(process_id, g.actor):  # the process says who may start it
        abort(403)
    schema = service().catalog.form(form_name)
    if schema is None:
        abort(404)
    ui = service().catalog.form(form_name.replace(".json", ".ui.json")) or {}
    template = "cases/new.html" if process_id == START_PROCESS else "cases/new_review.html"
    if request.method == "GET":
        return form_page.show(template, schema, ui, title=title, **context)

    def submit(data):
        started = service().instances.start(process_id, data, g.actor)
        # Post/Redirect/Get: a refresh of the confirmation is a GET, never a second case
        return redirect(url_for("cases.started", instance_id=started["id"]), 303)

    return form_page.post(
        template, schema, ui, {"submit": submit}, sent_again=sent_again, title=title, **context
    )


@bp.get("/cases/started/<id:instance_id>")
@signed_in
def started(instance_id):
    """The confirmation of a notification or a review request, for the person who sent it (404 for anyone
    else)."""
    try:
        case = service().queries.start_confirmation(instance_id, g.actor)
    except NotFound:
        abort(404)
    if case["process_id"] not in STARTED_TITLES:
        abort(404)
    return render_template("cases/started.html", title=STARTED_TITLES[case["process_id"]], case=case)


def _day(name: str) -> tuple[dt.date | None, str | None]:
    text = request.args.get(name, "").strip()
    if not text:
        return None, None
    try:
        return dt.date.fromisoformat(text), None
    except ValueError:
        return None, "must be a date, for example 2027-01-31"


def _period() -> tuple[dt.date | None, dt.date | None, dict[str, str]]:
    """The ``from`` and ``to`` dates of the request, and what is wrong with them."""
    (start, start_error), (end, end_error) = _day("from"), _day("to")
    errors = {k: v for k, v in (("from", start_error), ("to", end_error)) if v}
    if start and end and end < start:
        errors["to"] = "must be the same as or after ‘From’"
    return start, end, errors


def _case_filter(start: dt.date | None, end: dt.date | None, cases: bool = False) -> CaseFilter:
    """The request's filters; ``cases``: one row per case (the list), else one per process (the CSV)."""
    args = request.args
    return CaseFilter(
        args.get("process", ""),
        args.get("status", ""),
        args.get("stage", ""),
        args.get("overdue") == "yes",
        start,
        end,
        search=args.get("q", ""),
        cases=cases,
    )


def _cursor(name: str) -> int | None:
    text = request.args.get(name, "")
    if not text:
        return None
    if not text.isdigit() or len(text) > 18:
        abort(400)
    return int(text)


@bp.get("/cases")
@needs("manager")
def index():
    args = request.args
    start, end, errors = _period()
    if errors:
        start = end = None
    filters_ = _case_filter(start, end, cases=True)
    page = service().reports.case_page(g.actor, filters_, _cursor("before"), _cursor("after"))
    number = _cursor("page") or 1
    filters = {k: v for k, v in args.items() if k not in ("before", "after", "page") and v}
    pagination = {}
    if page["newer"] is not None:
        pagination["previous"] = {
            "href": url_for("cases.index", **filters, after=page["newer"], page=max(number - 1, 1)),
            "labelText": f"Page {max(number - 1, 1)}",
        }
    if page["older"] is not None:
        pagination["next"] = {
            "href": url_for("cases.index", **filters, before=page["older"], page=number + 1),
            "labelText": f"Page {number + 1}",
        }
    deployed = service().queries.processes()
    processes = [p["process_id"] for p in deployed]
    names = {p["process_id"]: p.get("name") or p["process_id"] for p in deployed}
    return render_template(
        "cases/index.html",
        title="Cases",
        page=page,
        rows=page["rows"],
        number=number,
        pagination=pagination,
        filters=filters,
        processes=processes,
        names=names,
        stages=service().reports.stages(g.actor),
        args=args,
        search=filters_.search,
        field_errors=errors,
        errors=[
            {"text": f"‘{'Started from' if k == 'from' else 'Started to'}’ {v}", "href": f"#{k}"}
            for k, v in errors.items()
        ],
    )


def _csv(rows, columns: list[str], filename: str) -> Response:
    """A CSV download; rows are written as they are read (an export never holds them all)."""
    response = Response(exports.csv_chunks(rows, columns), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _valid_period() -> tuple[dt.date | None, dt.date | None]:
    start, end, errors = _period()
    if errors:
        abort(400)
    return start, end


@bp.get("/cases.csv")
@needs("manager")
def index_csv():
    """The cases the filters match (``from``/``to``: started in that period)."""
    rows = service().reports.case_export(g.actor, _case_filter(*_valid_period()))
    return _csv(
        rows,
        [
            "business_key",
            "process_id",
            "version",
            "status",
            "regime",
            "stage",
            "next_due",
            "overdue",
            "created_at",
        ],
        "cases.csv",
    )


@bp.get("/deadlines.csv")
@needs("manager")
def deadlines_csv():
    """Deadlines by due date (``from``/``to``: falling due in that period; ``status``: pending, met, missed or
    cancelled)."""
    start, end = _valid_period()
    status = request.args.get("status", "")
    if status not in ("", "pending", "met", "missed", "cancelled"):
        abort(400)
    rows = service().reports.deadline_export(g.actor, start, end, status)
    return _csv(
        rows,
        ["business_key", "process_id", "key", "name", "due_date", "status", "source", "closed_at"],
        "deadlines.csv",
    )


def _working_days() -> tuple[int | None, str | None]:
    """The ``days`` of the due-soon page: a number of working days, or what is wrong with it."""
    text = request.args.get("days", "").strip()
    if not text:
        return None, None
    if not text.isdigit() or int(text) > MAX_DUE_SOON_DAYS:
        return None, f"must be a whole number of working days from 0 to {MAX_DUE_SOON_DAYS}"
    return int(text), None


def _after() -> tuple[dt.date, int] | None:
    """The due-soon page's cursor: the due date and id of the last deadline of the page before."""
    text = request.args.get("after", "")
    if not text:
        return None
    day, _, ident = text.partition(".")
    try:
        return dt.date.fromisoformat(day), int(ident)
    except ValueError:
        abort(400)


@bp.get("/due-soon")
@needs("manager")
def due_soon():
    """Every statutory deadline of every case falling due within ``days`` working days, by due date."""
    days, error = _working_days()
    page = service().reports.due_soon(g.actor, days, _after())
    shown = days if days is not None else service().settings.due_soon_working_days
    kept = {"days": str(days)} if days is not None else {}
    return render_template(
        "cases/due_soon.html",
        title="Due soon",
        page=page,
        days=shown,
        typed=request.args.get("days", ""),
        field_error=error,
        errors=[{"text": f"‘Working days ahead’ {error}", "href": "#days"}] if error else [],
        next_href=url_for("cases.due_soon", **kept, after=f"{page['next'][0].isoformat()}.{page['next'][1]}")
        if page["next"]
        else None,
        first_href=url_for("cases.due_soon", **kept) if request.args.get("after") else None,
        csv_href=url_for("cases.due_soon_csv", **kept),
    )


@bp.get("/due-soon.csv")
@needs("manager")
def due_soon_csv():
    days, error = _working_days()
    if error:
        abort(400)
    rows = service().reports.due_soon_export(g.actor, days)
    return _csv(
        rows,
        ["business_key", "process_id", "key", "name", "due_date", "status", "source"],
        "due-soon.csv",
    )


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
    related = service().reports.related(g.actor, instance_id, case["business_key"])
    waiting = service().outside.waiting_for(instance_id, g.actor)  # answers from outside it waits for
    unseen = service().agencies.unseen(t["role"] for t in case["tasks"] if t["state"] == "open")
    answers = {  # a completed step on the diagram opens its answers (the latest time it was done)
        t["element_id"]: url_for("tasks.task", task_id=t["id"])
        for t in sorted(case["task_history"], key=lambda t: t.get("completed_at") or "")
        if t["state"] == "completed"
    }
    return render_template(
        "cases/show.html",
        unseen=unseen,
        title=f"Case {case['business_key']}",
        case=case,
        diagram=diagram,
        chronology=chronology,
        related=related,
        waiting=waiting,
        answers=answers,
    )


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
        flash(
            {
                "cancel": "The case is cancelled.",
                "suspend": "The case is suspended.",
                "resume": "The case is running again.",
                "retry": "The failed step was tried again.",
            }[action],
            "success",
        )
    except (Conflict, Invalid) as exc:
        flash(str(exc), "error")
    except NotFound:
        abort(404)
    return redirect(url_for("cases.show", instance_id=instance_id))
