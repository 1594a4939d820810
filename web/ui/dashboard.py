"""The managers' dashboard: open cases by stage, deadlines due this week, missed deadlines, and the share
of each statutory deadline met over a chosen period (by default the last 12 months, so early in a year the
figures still count the cases of the year before)."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, current_app, g, render_template, request

from engine import clock
from engine.calendar import add_months
from engine.services.errors import Invalid
from web.ui.security import needs

bp = Blueprint("dashboard", __name__)


def _day(text: str | None, default: dt.date) -> tuple[dt.date, str | None]:
    if not text:
        return default, None
    try:
        return dt.date.fromisoformat(text), None
    except ValueError:
        return default, "must be a date, for example 2027-01-31"


@bp.get("/dashboard")
@needs("manager")
def index():
    today = clock.today()
    last_12_months = add_months(today, -12) + dt.timedelta(days=1)
    start, start_error = _day(request.args.get("from"), last_12_months)
    end, end_error = _day(request.args.get("to"), today)
    errors = {k: v for k, v in (("from", start_error), ("to", end_error)) if v}
    try:
        report = current_app.extensions["reviewflow"].reports.dashboard(g.actor, start, end)
    except Invalid as exc:
        errors["to"] = exc.message if hasattr(exc, "message") else str(exc)
        start, end = end, end
        report = current_app.extensions["reviewflow"].reports.dashboard(g.actor, start, end)
    return render_template(
        "dashboard.html",
        title="Dashboard",
        report=report,
        start=start,
        end=end,
        field_errors=errors,
        errors=[{"text": f"‘{k.capitalize()}’ {v}", "href": f"#{k}"} for k, v in errors.items()],
    )
