"""Sign in with a local account (a password, then a code for those with an authenticator), sign out; the
limit on refusals, the audit and the sessions are the engine's (engine/services/sign_in.py)."""

from __future__ import annotations

import unicodedata

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, url_for

from web.ui import emails, mfa, passwords, security

bp = Blueprint("auth", __name__)
bp.register_blueprint(mfa.bp)
bp.register_blueprint(emails.bp)
bp.register_blueprint(passwords.bp)

TOO_MANY = "Too many attempts to sign in. Wait 15 minutes, or ask an administrator to check your account"
WRONG_CODE = (
    "The code is not right, or it has been used. Enter the code your authenticator app shows now, "
    "or one of your recovery codes"
)


def _address() -> str:
    return request.remote_addr or "unknown"


def _page(template: str, context: dict, status: int = 200):
    context["errors"] = [
        {"text": text, "href": f"#{field}"} for field, text in context["field_errors"].items()
    ]
    return render_template(template, **context), status


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in():
    service = current_app.extensions["reviewflow"]
    ended = g.get("session_ended") or request.args.get("ended")
    context = {
        "title": "Sign in",
        "username": "",
        "field_errors": {},
        "errors": [],
        "idle": service.settings.session_idle_minutes if ended == "idle" else None,
        "lifetime": service.settings.session_max_hours if ended == "lifetime" else None,
        "next_url": security.safe_next(request.values.get("next")),
    }
    if request.method == "GET":
        return render_template("auth/sign_in.html", **context)
    username = request.form.get("username", "").strip().lower()[:64]
    password = request.form.get("password", "")
    context["username"] = username
    if not username or not password:
        if not username:
            context["field_errors"]["username"] = "Enter your user name"
        if not password:
            context["field_errors"]["password"] = "Enter your password"
        return _page("auth/sign_in.html", context, 401)
    if any(unicodedata.category(ch)[0] == "C" for ch in username):  # no account has such a name
        context["username"] = ""
        context["field_errors"]["password"] = "The user name or password is not right"
        return _page("auth/sign_in.html", context, 401)
    result = service.sign_in.with_password(username, password, _address())
    if result.outcome == "code_needed":
        security.begin_second_step(username, context["next_url"])
        return redirect(url_for("auth.code"))
    if result.outcome == "signed_in":
        security.start_session(result.token)
        if result.must_enrol:
            return redirect(url_for("auth.mfa.set_up", next=context["next_url"]))
        return redirect(context["next_url"])
    context["field_errors"]["password"] = (
        TOO_MANY if result.outcome == "blocked" else "The user name or password is not right"
    )
    return _page("auth/sign_in.html", context, 401)


@bp.route("/sign-in/code", methods=["GET", "POST"])
def code():
    """The second step: a code from the authenticator app, or a recovery code."""
    pending = security.second_step()
    if pending is None:
        return redirect(url_for("auth.sign_in"))
    context = {"title": "Enter a code from your authenticator app", "field_errors": {}, "errors": []}
    if request.method == "GET":
        return render_template("auth/code.html", **context)
    typed = request.form.get("code", "").strip()
    if not typed:
        context["field_errors"]["code"] = "Enter the code your authenticator app shows, or a recovery code"
        return _page("auth/code.html", context, 401)
    service = current_app.extensions["reviewflow"]
    result = service.sign_in.with_code(pending["user"], typed[:64], _address())
    if result.outcome == "signed_in":
        security.start_session(result.token)
        if result.recovery_codes_left is not None:
            flash(
                f"You signed in with a recovery code. You have {result.recovery_codes_left} recovery codes "
                "left: make new ones on the multi-factor sign-in page if you are running short.",
                "info",
            )
        return redirect(security.safe_next(pending.get("next")))
    context["field_errors"]["code"] = TOO_MANY if result.outcome == "blocked" else WRONG_CODE
    return _page("auth/code.html", context, 401)


@bp.post("/sign-out")
def sign_out():
    security.end_session(current_app.extensions["reviewflow"])
    return redirect(url_for("auth.sign_in"))


@bp.get("/accessibility")
def accessibility():
    return render_template("auth/accessibility.html", title="Accessibility")
