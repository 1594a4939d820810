"""The pages reached without signing in to set a password: 'Forgotten your password?' (always the same
answer, engine/services/password_resets.py), the one-time link it sends, and an invitation's link
(engine/services/invitations.py). A link's token is in its address, so these pages send no Referer and are
never cached; a link that is used, withdrawn, expired or unknown gets a page that says so and what to do."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, g, make_response, redirect, render_template, request, url_for

from engine import passwords
from engine.services.errors import Conflict, Invalid
from web.ui import security

bp = Blueprint("passwords", __name__)

ENTER_EMAIL = "Enter your e-mail address"
BAD_EMAIL = "Enter an e-mail address in the correct format, like name@example.org"
NOT_SAME = "The passwords do not match. Enter the same password twice"
LINK_STATES = {
    "used": "This link has been used already",
    "revoked": "This invitation has been withdrawn",
    "expired": "This link has expired",
    "unknown": "This link is not valid",
}


def _service():
    return current_app.extensions["reviewflow"]


def link_base() -> str | None:
    """Where links in e-mails point: the configured address, or (outside production only) the address this
    request came to; never a Host header in production, where it could send a link elsewhere."""
    settings = _service().settings
    if settings.base_url:
        return settings.base_url
    return None if settings.is_production else request.url_root.rstrip("/")


def _address() -> str:
    return request.remote_addr or "unknown"


def private(response, status: int = 200):
    """A page whose address or content holds a secret: no Referer to anywhere, no copy in any cache."""
    response = make_response(response, status)
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/forgotten-password", methods=["GET", "POST"])
def forgotten():
    if request.method == "GET":
        return render_template(
            "auth/forgotten_password.html", title="Reset your password", email="", field_errors={}, errors=[]
        )
    email = request.form.get("email", "").strip()[:320]
    error = ENTER_EMAIL if not email else None if "@" in email else BAD_EMAIL
    if error:
        return render_template(
            "auth/forgotten_password.html",
            title="Reset your password",
            email=email,
            field_errors={"email": error},
            errors=[{"text": error, "href": "#email"}],
        ), 422
    _service().password_resets.ask(email, _address(), link_base())
    return redirect(url_for("auth.passwords.sent"))


@bp.get("/forgotten-password/sent")
def sent():
    return render_template(
        "auth/forgotten_password_sent.html",
        title="Check your e-mail",
        minutes=_service().settings.password_reset_valid_minutes,
    )


def _link_page(state: str, invitation: bool):
    return private(
        render_template(
            "auth/link_not_valid.html", title=LINK_STATES[state], state=state, invitation=invitation
        ),
        410 if state != "unknown" else 404,
    )


def _choose_page(heading: str, username: str, action: str, error: str | None = None, field: str = "password"):
    return private(
        render_template(
            "auth/choose_password.html",
            title=heading,
            heading=heading,
            username=username,
            action=action,
            min_length=passwords.MIN_LENGTH,
            field_errors={field: error} if error else {},
            errors=[{"text": error, "href": f"#{field}"}] if error else [],
        ),
        422 if error else 200,
    )


def _typed() -> tuple[str, str | None, str]:
    """The password typed twice, and what is wrong with the pair (before the policy), with its field."""
    password, again = request.form.get("password", ""), request.form.get("password_again", "")
    if not password:
        return password, passwords.ENTER, "password"
    if len(password) <= passwords.MAX_LENGTH and password != again:
        return password, NOT_SAME, "password_again"
    return password, None, "password"


@bp.route("/password-reset/<token>", methods=["GET", "POST"])
def reset(token: str):
    service = _service()
    link = service.password_resets.link(token)
    if link.state != "open":
        return _link_page(link.state, invitation=False)
    action = url_for("auth.passwords.reset", token=token)
    if request.method == "GET":
        return _choose_page("Choose a new password", link.username, action)
    password, error, field = _typed()
    if error:
        return _choose_page("Choose a new password", link.username, action, error, field)
    try:
        service.password_resets.use(token, password, _address())
    except Invalid as exc:
        return _choose_page("Choose a new password", link.username, action, exc.message)
    except Conflict as exc:
        return _link_page(exc.message if exc.message in LINK_STATES else "unknown", invitation=False)
    security.end_session(service)  # whoever was signed in in this browser signs in again
    flash("Your password has been changed and you are signed out everywhere. Sign in with your new password.")
    return redirect(url_for("auth.sign_in"))


@bp.route("/invitation/<token>", methods=["GET", "POST"])
def invitation(token: str):
    service = _service()
    link = service.invitations.link(token)
    if link.state != "open":
        return _link_page(link.state, invitation=True)
    action = url_for("auth.passwords.invitation", token=token)
    heading = "Choose your password"
    if request.method == "GET":
        return _choose_page(heading, link.username, action)
    password, error, field = _typed()
    if error:
        return _choose_page(heading, link.username, action, error, field)
    try:
        accepted = service.invitations.accept(token, password, _address())
    except Invalid as exc:
        return _choose_page(heading, link.username, action, exc.message)
    except Conflict as exc:
        return _link_page(exc.message if exc.message in LINK_STATES else "unknown", invitation=True)
    security.start_session(accepted.token)
    g.actor = None
    if accepted.must_enrol:
        flash("Your password is set. Your roles need multi-factor sign-in: set it up now.")
        return redirect(url_for("auth.mfa.set_up"))
    flash("Your password is set and you are signed in.", "success")
    return redirect(url_for("tasks.home"))
