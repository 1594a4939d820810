"""Each person's iCalendar feed of deadlines: a secret address they subscribe to, which they can replace
or turn off."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)

from engine import clock
from engine.services.errors import NotFound
from engine.services.feeds import to_ics
from web.ui.security import csrf, signed_in

bp = Blueprint("feeds", __name__)


def service():
    return current_app.extensions["reviewflow"]


@bp.get("/calendar")
@signed_in
def calendar():
    return render_template(
        "calendar.html",
        title="Deadlines in your calendar",
        has_feed=service().feeds.has_feed(g.actor),
        new_url=request.args.get("created"),
    )


@bp.post("/calendar")
@signed_in
def create():
    if request.form.get("action") == "revoke":
        service().feeds.revoke(g.actor)
        flash("Your calendar address is turned off. Calendars subscribed to it stop updating.", "success")
        return redirect(url_for("feeds.calendar"))
    token = service().feeds.create(g.actor)
    url = url_for("feeds.ics", token=token, _external=True)
    return render_template("calendar.html", title="Deadlines in your calendar", has_feed=True, new_url=url)


@bp.get("/calendar/<token>.ics")
@csrf.exempt
def ics(token):
    try:
        actor = service().feeds.owner(token)
    except NotFound:
        abort(404)
    body = to_ics(service().feeds.deadlines(actor), clock.now())
    response = Response(body, mimetype="text/calendar")
    response.headers["Content-Disposition"] = 'inline; filename="reviewflow-deadlines.ics"'
    return response
