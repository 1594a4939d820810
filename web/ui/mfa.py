"""The "Multi-factor sign-in" pages: set up an authenticator app (a QR code, or the key typed by hand),
see how many recovery codes are left, make new ones. Managers, process owners and admins are sent to the
set-up page until they have done it (web/ui/security.py)."""

from __future__ import annotations

import segno
from flask import Blueprint, current_app, flash, g, redirect, render_template, request, url_for

from engine.services.errors import Conflict, Invalid
from engine.services.mfa import authenticator_uri
from web.ui import security

bp = Blueprint("mfa", __name__)

ENTER_CODE = "Enter the 6-digit code your authenticator app shows"


def _service():
    return current_app.extensions["reviewflow"]


def qr_code(uri: str) -> str:
    """The ``otpauth://`` address as an SVG QR code in a data: address (the page's policy allows data:
    images)."""
    return segno.make(uri, error="m").svg_data_uri(scale=5, border=4, dark="#0b0c0c")


def _set_up_page(secret: str, next_url: str, error: str | None = None, status: int = 200):
    uri = authenticator_uri(secret, g.actor.username)
    field_errors = {"code": error} if error else {}
    return render_template(
        "mfa/set_up.html",
        title="Set up multi-factor sign-in",
        secret=secret,
        secret_grouped=" ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
        qr=qr_code(uri),
        next_url=next_url,
        must_enrol=g.get("must_enrol"),
        field_errors=field_errors,
        errors=[{"text": error, "href": "#code"}] if error else [],
    ), status


@bp.get("/account/multi-factor")
@security.signed_in
def account():
    return _account_page()


def _account_page(error: str | None = None, status: int = 200):
    return render_template(
        "mfa/account.html",
        title="Multi-factor sign-in",
        status=_service().mfa.status(g.actor.username),
        field_errors={"code": error} if error else {},
        errors=[{"text": error, "href": "#code"}] if error else [],
    ), status


@bp.route("/account/multi-factor/set-up", methods=["GET", "POST"])
@security.signed_in_to_enrol
def set_up():
    service = _service()
    next_url = security.safe_next(request.values.get("next"))
    if request.method == "GET":
        try:
            begun = service.mfa.begin_enrolment(g.actor.username)
        except Conflict:
            flash("Multi-factor sign-in is set up already.", "info")
            return redirect(url_for("auth.mfa.account"))
        return _set_up_page(begun["secret"], next_url)
    secret = service.mfa.pending_secret(g.actor.username)
    if secret is None:  # set up already (another tab), or never begun
        return redirect(
            url_for(
                "auth.mfa.account" if service.mfa.status(g.actor.username)["enrolled"] else "auth.mfa.set_up"
            )
        )
    typed = request.form.get("code", "").strip()[:64]
    if not typed:
        return _set_up_page(secret, next_url, ENTER_CODE, 422)
    try:
        codes = service.mfa.confirm_enrolment(g.actor.username, typed)
    except Invalid as exc:
        return _set_up_page(secret, next_url, exc.message, 422)
    except Conflict:
        return redirect(url_for("auth.mfa.account"))
    return render_template(
        "mfa/recovery_codes.html", title="Save your recovery codes", codes=codes, continue_url=next_url
    )


@bp.post("/account/multi-factor/recovery-codes")
@security.signed_in
def recovery_codes():
    service = _service()
    if not service.mfa.status(g.actor.username)["enrolled"]:
        return redirect(url_for("auth.mfa.account"))
    typed = request.form.get("code", "").strip()[:64]
    if not typed:
        return _account_page(ENTER_CODE, 422)
    try:
        codes = service.mfa.renew_recovery_codes(g.actor.username, typed)
    except Invalid as exc:
        return _account_page(exc.message, 422)
    return render_template(
        "mfa/recovery_codes.html",
        title="Save your recovery codes",
        codes=codes,
        continue_url=url_for("auth.mfa.account"),
        renewed=True,
    )
