"""Administration: the directory of agencies (``/admin/agencies``), each guarded by ``section("agencies")``:
the list with how many active people hold each agency's role (an agency nobody holds is flagged: its
requests would be seen by no one), adding an agency, renaming it or changing its safeguarding lead, and
retiring or reactivating it. The engine checks and audits every change (engine/services/agencies.py); the
pages are Post/Redirect/Get."""

from __future__ import annotations

from flask import abort, current_app, flash, g, redirect, render_template, request, url_for

from engine.services.errors import Invalid, NotFound
from web.ui.admin import bp, section

FIELDS = ("key", "name", "safeguarding_lead")


def _service():
    return current_app.extensions["reviewflow"]


def _form(values: dict, field_errors: dict, status: int):
    errors = [{"text": field_errors[f], "href": f"#{f}"} for f in FIELDS if f in field_errors]
    return render_template(
        "admin/agency_form.html", field_errors=field_errors, errors=errors, **values
    ), status


def _errors(exc: Invalid) -> dict[str, str]:
    found: dict[str, str] = {}
    for problem in exc.details or []:
        found.setdefault(problem.get("path") or "name", problem.get("message") or exc.message)
    return found


@bp.get("/agencies")
@section("agencies")
def agencies():
    listed = _service().agencies.for_admin(g.actor)
    return render_template(
        "admin/agencies.html",
        title="Agencies",
        agencies=listed,
        unheld=[a for a in listed if a["active"] and not a["active_users"]],
    )


@bp.route("/agencies/new", methods=["GET", "POST"])
@section("agencies")
def agency_new():
    values = {"title": "Add an agency", "new": True}
    if request.method == "GET":
        return _form({**values, "key": "", "name": "", "safeguarding_lead": ""}, {}, 200)
    typed = {f: request.form.get(f, "")[:400] for f in FIELDS}
    try:
        added = _service().agencies.add(typed["key"], typed["name"], typed["safeguarding_lead"], g.actor)
    except Invalid as exc:
        return _form({**values, **typed}, _errors(exc), 422)
    flash(
        f"‘{added['name']}’ was added. Give its people the role ‘{added['role']}’ so they see its requests.",
        "success",
    )
    return redirect(url_for("admin.agencies"))


@bp.route("/agencies/change", methods=["GET", "POST"])
@section("agencies")
def agency_edit():
    key = request.values.get("key", "")[:40]
    service = _service()
    try:
        current = service.agencies.get(key, g.actor)
    except NotFound:
        abort(404)
    values = {"title": f"Change ‘{current['name']}’", "new": False, "agency": current, "key": key}
    if request.method == "GET":
        return _form(
            {**values, "name": current["name"], "safeguarding_lead": current["safeguarding_lead"]}, {}, 200
        )
    typed = {f: request.form.get(f, "")[:400] for f in ("name", "safeguarding_lead")}
    try:
        result = service.agencies.change(
            key, g.actor, name=typed["name"], safeguarding_lead=typed["safeguarding_lead"]
        )
    except Invalid as exc:
        return _form({**values, **typed}, _errors(exc), 422)
    flash(f"‘{result['name']}’ was changed." if result["changed"] else "Nothing changed.", "success")
    return redirect(url_for("admin.agencies"))


@bp.post("/agencies/status")
@section("agencies")
def agency_status():
    key = request.form.get("key", "")[:40]
    wanted = request.form.get("active")
    if wanted not in ("yes", "no"):
        abort(400)
    try:
        result = _service().agencies.change(key, g.actor, active=wanted == "yes")
    except NotFound:
        abort(404)
    flash(
        f"‘{result['name']}’ is offered on forms again."
        if result["active"]
        else f"‘{result['name']}’ was retired: forms no longer offer it; cases that chose it still show it.",
        "success",
    )
    return redirect(url_for("admin.agencies"))
