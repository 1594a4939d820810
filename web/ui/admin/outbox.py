"""Administration: outbox (routes on web.ui.admin.bp, each guarded by `section("outbox")`).

Every notification with its status, attempts and last error, filtered and a page at a time in SQL
(engine/services/outbox.py ``search``); one message as it is sent (headers and body) with every attempt.
The administrator sends dead messages again (ticked together, one POST) and cancels one that waits or gave
up, with a reason; both audited, both Post/Redirect/Get. Managers look without changing anything."""

from __future__ import annotations

import datetime as dt

from flask import abort, current_app, flash, g, redirect, render_template, request, url_for

from engine.services import access
from engine.services.errors import Conflict, Invalid, NotFound
from engine.services.outbox import OutboxFilter
from engine.statuses import OutboxStatus
from web.ui.admin import bp, section

STATUS_NAMES = {
    OutboxStatus.PENDING: ("Waiting", "blue"),
    OutboxStatus.SENDING: ("Being sent", "light-blue"),
    OutboxStatus.SENT: ("Sent", "green"),
    OutboxStatus.DEAD: ("Gave up", "red"),
    OutboxStatus.CANCELLED: ("Cancelled", "grey"),
}
FILTER_LABELS = {"from": "Created from", "to": "Created to"}


def _service():
    return current_app.extensions["reviewflow"]


def _day(name: str) -> tuple[dt.date | None, str | None]:
    text = request.args.get(name, "").strip()
    if not text:
        return None, None
    try:
        return dt.date.fromisoformat(text[:10]), None
    except ValueError:
        return None, f"‘{FILTER_LABELS[name]}’ must be a date, for example 2026-12-21"


def _cursor(name: str) -> int | None:
    text = request.args.get(name, "")
    if not text:
        return None
    if not text.isdigit() or len(text) > 18:
        abort(400)
    return int(text)


@bp.get("/outbox")
@section("outbox")
def outbox():
    args = request.args
    (start, start_error), (end, end_error) = _day("from"), _day("to")
    field_errors = {k: v for k, v in (("from", start_error), ("to", end_error)) if v}
    status = args.get("status", "")
    if status and status not in tuple(OutboxStatus):
        field_errors["status"] = "Select a status from the list"
        status = ""
    filters = OutboxFilter(
        status=status,
        template=args.get("template", "")[:120],
        recipient=args.get("recipient", "").strip()[:320],
        created_from=start,
        created_to=end,
    )
    page = _service().outbox.search(g.actor, filters, before=_cursor("before"))
    number = _cursor("page") or 1
    kept = {k: v for k, v in args.items() if k not in ("before", "page") and v}
    pagination = {}
    if number > 1:
        pagination["previous"] = {"href": url_for("admin.outbox", **kept), "labelText": "First page"}
    if page["older"] is not None:
        pagination["next"] = {
            "href": url_for("admin.outbox", **kept, before=page["older"], page=number + 1),
            "labelText": f"Page {number + 1}",
        }
    return render_template(
        "admin/outbox.html",
        title="Outbox",
        page=page,
        number=number,
        pagination=pagination,
        args=args,
        statuses=STATUS_NAMES,
        may_change=access.may_administer(g.actor),
        field_errors=field_errors,
        errors=[{"text": v, "href": f"#{k}"} for k, v in field_errors.items()],
    ), (422 if field_errors else 200)


@bp.post("/outbox/requeue")
@section("outbox")
def outbox_requeue():
    """Send the ticked dead messages again: all of them, or none if one can no longer be (then said)."""
    ids = []
    for value in request.form.getlist("ids")[:500]:
        if not value.isdigit() or len(value) > 18:
            abort(400)
        ids.append(int(value))
    back = request.form.get("back", "")
    back = back if back.startswith("/admin/outbox") and "//" not in back else url_for("admin.outbox")
    if not ids:
        flash("Select the notifications to send again.", "error")
        return redirect(back, 303)
    try:
        count = _service().outbox.requeue_many(ids, g.actor)
    except (Conflict, NotFound) as exc:
        flash(f"Nothing was sent again: {exc.message}.", "error")
        return redirect(back, 303)
    flash(f"{count} notification{'s' if count != 1 else ''} will be sent again.", "success")
    return redirect(back, 303)


def _message_page(message_id: int, reason: str = "", field_errors: dict | None = None, status: int = 200):
    try:
        m = _service().outbox.message(g.actor, message_id)
    except NotFound:
        abort(404)
    field_errors = field_errors or {}
    return render_template(
        "admin/outbox_message.html",
        title=f"Notification {m['id']}",
        m=m,
        statuses=STATUS_NAMES,
        may_change=access.may_administer(g.actor),
        reason=reason,
        field_errors=field_errors,
        errors=[{"text": v, "href": f"#{k}"} for k, v in field_errors.items()],
    ), status


def _message_id(value: str) -> int:
    """A message's id from the query or the form (kept out of the path: one page, ``?id=``)."""
    if not value.isdigit() or len(value) > 18:
        abort(404)
    return int(value)


@bp.get("/outbox/message")
@section("outbox")
def outbox_message():
    return _message_page(_message_id(request.args.get("id", "")))


@bp.post("/outbox/cancel")
@section("outbox")
def outbox_cancel():
    message_id = _message_id(request.form.get("id", ""))
    reason = request.form.get("reason", "").strip()[:2000]
    if not reason:
        return _message_page(message_id, reason, {"reason": "Enter why the notification is cancelled"}, 422)
    try:
        _service().outbox.cancel(message_id, reason, g.actor)
    except NotFound:
        abort(404)
    except Invalid as exc:
        return _message_page(message_id, reason, {"reason": f"The reason {exc.details[0]['message']}"}, 422)
    except Conflict as exc:
        flash(f"Not cancelled: {exc.message}.", "error")
        return redirect(url_for("admin.outbox_message", id=message_id), 303)
    flash("The notification is cancelled: it will not be sent.", "success")
    return redirect(url_for("admin.outbox_message", id=message_id), 303)
