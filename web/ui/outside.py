"""Answers from outside (the Panel's answer, its scrutiny, new information): the list of what cases wait for
that this person records, and the page that records one with its date. Recording delivers the message
through the service, one command, audited; a second submission finds the case no longer waiting."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, url_for

from engine.services.errors import Conflict, Forbidden, NotFound
from web.ui import form_page
from web.ui.security import signed_in

bp = Blueprint("outside", __name__)


def service():
    return current_app.extensions["reviewflow"]


@bp.get("/awaited")
@signed_in
def index():
    """Every open case the person may see that waits for an answer they record, oldest wait first."""
    if not service().outside.records_any(g.actor):
        abort(403)
    rows = service().outside.awaited_by(g.actor)
    return render_template("outside/index.html", title="Answers to record", rows=rows)


def _not_waiting(instance_id: int, message: str, status: int):
    """A refreshed or repeated submission, or an old link: the case no longer waits for this answer."""
    return (
        render_template(
            "outside/not_waiting.html",
            title="This answer is not awaited",
            instance_id=instance_id,
            message=message,
            back=_back(instance_id),
        ),
        status,
    )


def _back(instance_id: int) -> str:
    return url_for("cases.show", instance_id=instance_id) if g.actor.is_manager else url_for("outside.index")


@bp.route("/cases/<id:instance_id>/awaited/<message>", methods=["GET", "POST"])
@signed_in
def record(instance_id, message):
    try:
        awaited = service().outside.form(instance_id, message, g.actor)
    except Forbidden:
        abort(403)
    except NotFound:
        return _not_waiting(instance_id, message, 409 if request.method == "POST" else 404)
    schema, ui = awaited["schema"] or {}, awaited["ui"] or {}
    context = {
        "title": schema.get("title") or awaited["step"],
        "awaited": awaited,
        "back": _back(instance_id),
    }
    if request.method == "GET":
        return form_page.show("outside/record.html", schema, ui, **context)

    def submit(data):
        attachment = None
        upload = request.files.get("attachment")
        if upload is not None and upload.filename:  # checked before anything is recorded: both or neither
            content = upload.read(service().documents.max_bytes + 1)
            shown, kind = service().documents.inspect(upload.filename, content, field="attachment")
            attachment = (shown, kind, content)
        try:
            service().instances.deliver_message(
                message, data, g.actor, instance_id=instance_id, attachment=attachment
            )
        except Conflict:  # recorded meanwhile (a double click, another tab): nothing delivered twice
            return _not_waiting(instance_id, message, 409)
        except Forbidden:
            abort(403)
        flash(f"Recorded for case {awaited['business_key']}: {awaited['step']}.", "success")
        # Post/Redirect/Get: a refresh of the next page never records the answer again
        return redirect(_back(instance_id), 303)

    return form_page.post(
        "outside/record.html",
        schema,
        ui,
        {"submit": submit},
        sent_again="You already recorded this answer. It was not recorded again.",
        **context,
    )
