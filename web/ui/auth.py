"""Sign in and out with a local account (argon2 hashes), rate-limited, audited."""
from __future__ import annotations

from flask import Blueprint, current_app, g, redirect, render_template, request, session, url_for

from web.ui import security

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str:
    """Only a path on this site (never //host or a scheme) may follow sign-in."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("tasks.home")


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in():
    service = current_app.extensions["reviewflow"]
    idle = service.settings.session_idle_minutes if g.get("signed_out_idle") or request.args.get("idle") else None
    context = {"title": "Sign in", "username": "", "field_errors": {}, "errors": [], "idle": idle,
               "next_url": _safe_next(request.values.get("next"))}
    if request.method == "GET":
        return render_template("auth/sign_in.html", **context)
    username = request.form.get("username", "").strip().lower()[:64]
    password = request.form.get("password", "")
    address = request.remote_addr or "unknown"
    limiter = current_app.extensions["sign_in_limiter"]
    context["username"] = username
    if not username or not password:
        if not username:
            context["field_errors"]["username"] = "Enter your user name"
        if not password:
            context["field_errors"]["password"] = "Enter your password"
    elif limiter.blocked(username, address):
        context["field_errors"]["password"] = ("Too many attempts to sign in. Wait 15 minutes, or ask an "
                                               "administrator to check your account")
    else:
        actor = service.users.authenticate(username, password)
        if actor is not None:
            limiter.succeeded(username)
            security.sign_in(actor)
            service.users.record_session(username, "signed_in", address)
            return redirect(context["next_url"])
        limiter.failed(username, address)
        service.users.record_session(username, "sign_in_refused", address)
        context["field_errors"]["password"] = "The user name or password is not right"
    context["errors"] = [{"text": text, "href": f"#{field}"} for field, text in context["field_errors"].items()]
    return render_template("auth/sign_in.html", **context), 400 if not context["errors"] else 401


@bp.post("/sign-out")
def sign_out():
    if g.get("actor") is not None:
        current_app.extensions["reviewflow"].users.record_session(g.actor.username, "signed_out",
                                                                   request.remote_addr or "unknown")
    session.clear()
    return redirect(url_for("auth.sign_in"))


@bp.get("/accessibility")
def accessibility():
    return render_template("auth/accessibility.html", title="Accessibility")
