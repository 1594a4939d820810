"""Administration: the named recipients (``/admin/recipients``), each guarded by ``section("recipients")``:
the list with the processes naming each key and the keys a diagram names that have no addresses, adding a
key, changing a key's addresses and description, and a test message through the outbox. The engine checks
and audits every change (engine/services/recipients.py); the pages are Post/Redirect/Get."""

from __future__ import annotations

from flask import abort, current_app, flash, g, redirect, render_template, request, url_for

from engine.services.errors import Invalid, NotFound
from web.ui.admin import bp, section

FIELDS = ("key", "addresses", "description")


def _service():
    return current_app.extensions["reviewflow"]


def _errors(exc: Invalid) -> dict[str, str]:
    found: dict[str, str] = {}
    for problem in exc.details or []:
        found.setdefault(problem.get("path") or "addresses", problem.get("message") or exc.message)
    return found


def _summary(field_errors: dict[str, str]) -> list[dict]:
    return [{"text": field_errors[f], "href": f"#{f}"} for f in FIELDS if f in field_errors]


@bp.get("/recipients")
@section("recipients")
def recipients():
    listed = _service().recipients.list(g.actor)
    return render_template("admin/recipients.html", title="Recipients", **listed)


def _form(template_values: dict, field_errors: dict, status: int):
    return render_template(
        "admin/recipient_form.html",
        field_errors=field_errors,
        errors=_summary(field_errors),
        **template_values,
    ), status


@bp.route("/recipients/new", methods=["GET", "POST"])
@section("recipients")
def recipient_new():
    values = {"title": "Add a recipient", "new": True}
    if request.method == "GET":
        key = request.args.get("key", "")[:64]
        return _form({**values, "key": key, "addresses": "", "description": ""}, {}, 200)
    typed = {f: request.form.get(f, "")[:4000] for f in FIELDS}
    try:
        _service().recipients.add(typed["key"], typed["addresses"], typed["description"], g.actor)
    except Invalid as exc:
        return _form({**values, **typed}, _errors(exc), 422)
    flash(f"The recipient ‘{typed['key'].strip()}’ was added.", "success")
    return redirect(url_for("admin.recipients"))


@bp.route("/recipients/change", methods=["GET", "POST"])
@section("recipients")
def recipient_edit():
    key = request.values.get("key", "")[:64]
    service = _service()
    try:
        current = service.recipients.get(key, g.actor)
    except NotFound:
        abort(404)
    values = {
        "title": f"Change the recipient ‘{key}’",
        "new": False,
        "key": key,
        "used_by": current["used_by"],
    }
    if request.method == "GET":
        addresses = "\n".join(current["addresses"])
        return _form({**values, "addresses": addresses, "description": current["description"]}, {}, 200)
    typed = {f: request.form.get(f, "")[:4000] for f in ("addresses", "description")}
    try:
        result = service.recipients.change(key, typed["addresses"], typed["description"], g.actor)
    except Invalid as exc:
        return _form({**values, **typed}, _errors(exc), 422)
    flash(
        f"The recipient ‘{key}’ was changed." if result["changed"] else f"Nothing changed for ‘{key}’.",
        "success",
    )
    return redirect(url_for("admin.recipients"))


@bp.post("/recipients/test")
@section("recipients")
def recipient_test():
    key = request.form.get("key", "")[:64]
    try:
        sent = _service().recipients.send_test(key, g.actor)
    except NotFound:
        abort(404)
    flash(
        f"A test message to ‘{key}’ is in the outbox for {', '.join(sent)}, sent like any notification.",
        "success",
    )
    return redirect(url_for("admin.recipients"))
