"""Administration: people (routes on web.ui.admin.bp, each guarded by `section("people")`).

The list of people, searched and filtered a page at a time in SQL (engine/services/people.py); one person's
page, where an administrator changes their roles and agency, disables or enables the account, signs them
out everywhere, resets their multi-factor sign-in, and makes (shown once) or withdraws their API tokens;
inviting someone by e-mail, and resending or withdrawing the invitation. Every change is one service call,
audited by the engine with before and after, and Post/Redirect/Get (but a new token, shown once)."""

from __future__ import annotations

from flask import abort, current_app, flash, g, redirect, render_template, request, url_for

from engine.services.errors import Conflict, Invalid
from engine.services.people import MFA_FILTERS, Filters
from web.ui.admin import bp, section
from web.ui.passwords import link_base, private

INVITE_FIELDS = ("name", "email", "roles", "agency")
TOKEN_NAME = "Enter what the token is for, for example 'Nightly export'"


def _service():
    return current_app.extensions["reviewflow"]


def _errors(field_errors: dict, order) -> list[dict]:
    return [{"text": field_errors[f], "href": f"#{f}"} for f in order if f in field_errors]


def _page_number() -> int:
    text = request.args.get("page", "1")
    if not text.isdigit() or len(text) > 6:
        abort(400)
    return max(1, int(text))


@bp.get("/people")
@section("people")
def people():
    service = _service()
    args = request.args
    disabled = {"yes": True, "no": False}.get(args.get("disabled", ""))
    mfa = args.get("mfa", "") if args.get("mfa", "") in MFA_FILTERS else ""
    filters = Filters(
        text=args.get("q", "")[:100],
        role=args.get("role", "")[:120],
        agency=args.get("agency", "")[:160],
        disabled=disabled,
        never_signed_in=args.get("never") == "yes",
        mfa=mfa,
    )
    found = service.people.find(filters, _page_number())
    query = {k: v for k, v in args.items() if k != "page" and v}
    pagination = None
    if found["pages"] > 1:
        number = found["page"]
        pagination = {
            "previous": {"href": url_for("admin.people", **query, page=number - 1)} if number > 1 else None,
            "next": {"href": url_for("admin.people", **query, page=number + 1)}
            if number < found["pages"]
            else None,
            "items": [
                {"number": n, "href": url_for("admin.people", **query, page=n), "current": n == number}
                for n in range(max(1, number - 2), min(found["pages"], number + 2) + 1)
            ],
        }
    return render_template(
        "admin/people.html",
        title="People",
        found=found,
        args=args,
        roles=service.people.role_choices(),
        agencies=service.people.agency_choices(),
        pagination=pagination,
    )


def _person_page(username: str, field_errors: dict | None = None, form=None, status: int = 200):
    service = _service()
    person = service.people.person(username)
    field_errors = field_errors or {}
    return render_template(
        "admin/person.html",
        title=person["display_name"],
        person=person,
        roles=sorted(set(service.people.role_choices()) | set(person["roles"]), key=_role_order),
        agencies=service.people.agency_choices(),
        tokens=service.users.tokens(username),
        chosen_roles=form.getlist("roles") if form is not None else person["roles"],
        chosen_agency=form.get("agency", "") if form is not None else (person["agency_role"] or ""),
        token_name=form.get("token_name", "") if form is not None else "",
        field_errors=field_errors,
        errors=_errors(field_errors, ("roles", "agency", "token_name")),
    ), status


def _role_order(role: str):
    from engine.services.actor import SYSTEM_ROLES

    return (role in SYSTEM_ROLES, role.casefold())


@bp.get("/people/<username>")
@section("people")
def person(username: str):
    return _person_page(username)


@bp.post("/people/<username>/roles")
@section("people")
def person_roles(username: str):
    service = _service()
    form = request.form
    try:
        result = service.people.set_roles(
            username, form.getlist("roles"), form.get("agency") or None, g.actor
        )
    except Invalid as exc:
        path = exc.details[0]["path"] if exc.details else "roles"
        return _person_page(username, {path: exc.message}, form, 422)
    flash("Roles and agency saved." if result["changed"] else "Nothing was changed.", "success")
    return redirect(url_for("admin.person", username=username))


@bp.post("/people/<username>/active")
@section("people")
def person_active(username: str):
    action = request.form.get("action")
    if action not in ("disable", "enable"):
        abort(400)
    _service().people.person(username)  # 404 for nobody
    _service().users.set_active(username, action == "enable", actor=g.actor.username)
    flash(
        f"{username} can sign in again."
        if action == "enable"
        else f"{username} is disabled: they are signed out and their API tokens no longer work.",
        "success",
    )
    return redirect(url_for("admin.person", username=username))


@bp.post("/people/<username>/sign-out")
@section("people")
def person_sign_out(username: str):
    ended = _service().people.sign_out_everywhere(username, g.actor)
    sessions = "1 session" if ended == 1 else f"{ended} sessions"
    flash(f"{username} is signed out everywhere ({sessions} ended).", "success")
    return redirect(url_for("admin.person", username=username))


@bp.post("/people/<username>/reset-mfa")
@section("people")
def person_reset_mfa(username: str):
    _service().mfa.reset(username, g.actor)
    flash(f"{username} will set up multi-factor sign-in again when they next sign in.", "success")
    return redirect(url_for("admin.person", username=username))


@bp.post("/people/<username>/tokens")
@section("people")
def person_token_create(username: str):
    service = _service()
    name = " ".join(request.form.get("token_name", "").split())[:120]
    if not name:
        return _person_page(username, {"token_name": TOKEN_NAME}, request.form, 422)
    service.people.person(username)  # 404 for nobody
    token = service.users.create_token(username, actor=g.actor.username, name=name)
    return private(
        render_template(
            "admin/token_created.html", title="API token created", token=token, name=name, username=username
        )
    )


@bp.post("/people/<username>/tokens/revoke")
@section("people")
def person_token_revoke(username: str):
    service = _service()
    service.people.person(username)  # 404 for nobody
    token_id = request.form.get("token", "")
    if not token_id.isdigit() or len(token_id) > 18:
        abort(400)
    service.users.revoke_token(username, int(token_id), actor=g.actor.username)
    flash("The API token is withdrawn: it no longer works.", "success")
    return redirect(url_for("admin.person", username=username))


@bp.post("/people/<username>/invitation")
@section("people")
def person_invitation(username: str):
    service = _service()
    action = request.form.get("action")
    if action not in ("resend", "revoke"):
        abort(400)
    try:
        if action == "resend":
            service.invitations.resend(username, g.actor, link_base())
            flash("A new invitation is on its way. The link in the earlier one no longer works.", "success")
        else:
            service.invitations.revoke(username, g.actor)
            flash("The invitation is withdrawn: its link no longer works.", "success")
    except Conflict as exc:
        flash(exc.message, "info")
    return redirect(url_for("admin.person", username=username))


def _invite_page(form, field_errors: dict, status: int = 200):
    service = _service()
    return render_template(
        "admin/invite.html",
        title="Invite someone",
        roles=service.people.role_choices(),
        agencies=service.people.agency_choices(),
        form=form,
        chosen_roles=form.getlist("roles") if hasattr(form, "getlist") else [],
        field_errors=field_errors,
        errors=_errors(field_errors, INVITE_FIELDS),
    ), status


@bp.route("/people/invite", methods=["GET", "POST"])
@section("people")
def invite():
    if request.method == "GET":
        return _invite_page({}, {})
    form = request.form
    try:
        made = _service().invitations.invite(
            form.get("name", "")[:255],
            form.get("email", "")[:320],
            form.getlist("roles"),
            form.get("agency") or None,
            g.actor,
            link_base(),
        )
    except Invalid as exc:
        problems = exc.details or [{"path": "email", "message": exc.message}]
        field_errors = {}
        for p in problems:
            field_errors.setdefault(p["path"], p["message"] if " " in p["message"] else exc.message)
        return _invite_page(form, field_errors, 422)
    except Conflict as exc:
        return _invite_page(form, {"email": exc.message}, 409)
    flash(
        f"Invitation sent. Their user name is {made['username']}.",
        "success",
    )
    return redirect(url_for("admin.person", username=made["username"]))
