"""The administration area (``/admin``): people, the calendar, named recipients, the outbox and the agency
directory, for the ``admin`` role; managers may look at the calendar and the outbox without changing them
(engine/services/access.py). Each section is a module of its own that adds its routes to ``bp`` and guards
them with ``section``."""

from __future__ import annotations

import functools

from flask import Blueprint, abort, current_app, g, render_template, request, url_for

from engine.services import access
from web.ui.security import signed_in

bp = Blueprint("admin", __name__, url_prefix="/admin")

# (section, heading, what it is for): the landing page's list, in this order
SECTIONS = (
    ("people", "People", "Invite people, change their roles and agency, disable accounts, reset passwords."),
    ("calendar", "Calendar", "Bank holidays and the partnership's own closures that deadlines count around."),
    (
        "recipients",
        "Recipients",
        "The e-mail addresses of the Panel, Ofsted and the other named recipients.",
    ),
    ("outbox", "Outbox", "Every notification, whether it was sent, and those that gave up."),
    ("agencies", "Agencies", "The partnership's agencies that forms offer and requests go to."),
)


def section(name: str):
    """The view belongs to section ``name``: anyone who may not open it gets 403; a change (any method but
    GET or HEAD) needs the administrator's role."""

    def decorate(view):
        @functools.wraps(view)
        @signed_in
        def wrapper(*args, **kwargs):
            if not access.may_view_section(g.actor, name):
                abort(403)
            if request.method not in ("GET", "HEAD") and not access.may_administer(g.actor):
                abort(403)
            return view(*args, **kwargs)

        return wrapper

    return decorate


def visible_sections(actor) -> list[tuple[str, str, str]]:
    return [s for s in SECTIONS if access.may_view_section(actor, s[0])]


@bp.get("/")
@signed_in
def index():
    sections = visible_sections(g.actor)
    if not sections:
        abort(403)
    # a section's own page is the view named after it (``admin.people``), once the section has one
    links = {
        key: url_for(f"admin.{key}") for key, *_ in sections if f"admin.{key}" in current_app.view_functions
    }
    return render_template(
        "admin/index.html",
        title="Administration",
        sections=sections,
        links=links,
        may_change=access.may_administer(g.actor),
    )


# each section's routes (imported for their effect on ``bp``)
from web.ui.admin import agencies, calendar, outbox, people, recipients  # noqa: E402, F401
