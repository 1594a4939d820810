"""The "E-mails about new tasks" page of a person's account: their address and whether they are told by
e-mail of a new task for one of their roles or given to them (engine/services/task_mail.py sends them).
A change is audited by the engine; the page is Post/Redirect/Get."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, url_for

from engine.services.errors import Invalid
from web.ui import security

bp = Blueprint("emails", __name__)

CHOOSE = "Select yes if you want e-mails about new tasks"
NEED_ADDRESS = "Enter your e-mail address to get e-mails about new tasks"


def _service():
    return current_app.extensions["reviewflow"]


def _page(email: str, choice: str | None, field_errors: dict, status: int = 200):
    order = ("email", "new_task_emails")
    return render_template(
        "account/emails.html",
        title="E-mails about new tasks",
        email=email,
        choice=choice,
        field_errors=field_errors,
        errors=[{"text": field_errors[f], "href": f"#{f}"} for f in order if f in field_errors],
    ), status


@bp.route("/account/e-mails", methods=["GET", "POST"])
@security.signed_in
def settings():
    service = _service()
    if request.method == "GET":
        current = service.users.email_settings(g.actor.username)
        return _page(current["email"] or "", "yes" if current["new_task_emails"] else "no", {})
    email = request.form.get("email", "").strip()[:320]
    choice = request.form.get("new_task_emails")
    errors = {}
    if choice not in ("yes", "no"):
        errors["new_task_emails"], choice = CHOOSE, None
    elif choice == "yes" and not email:
        errors["email"] = NEED_ADDRESS
    if not errors:
        try:
            service.users.set_email_settings(
                g.actor.username, email=email, new_task_emails=choice == "yes", actor=g.actor.username
            )
        except Invalid as exc:
            errors["email"] = exc.message
    if errors:
        return _page(email, choice, errors, 422)
    flash(
        "You will get an e-mail about each new task for you."
        if choice == "yes"
        else "You will not get e-mails about new tasks.",
        "success",
    )
    return redirect(url_for("auth.emails.settings"))
