"""Administration: calendar (routes on web.ui.admin.bp, each guarded by `section("calendar")`).

England's bank holidays of this year and the next as the engine counts them, and the partnership's
overrides. Adding or removing an override shows first which open deadlines it moves (the engine's own
change, made and rolled back: engine/services/calendar.py), and is kept only on "Confirm", with the digest
of what was shown: if the deadlines it moves changed meanwhile, the new preview is shown instead."""

from __future__ import annotations

import datetime as dt

from flask import current_app, flash, g, redirect, render_template, request, url_for

from engine.services import access
from engine.services.calendar import KINDS, PreviewChanged
from engine.services.errors import Conflict, Invalid
from web.ui.admin import bp, section

FIELDS = ("day", "kind", "note")
MESSAGES = {
    "kind": "Select whether the day is a working day or not",
    "note": "Enter a note saying why",
}


def _service():
    return current_app.extensions["reviewflow"]


def _form() -> dict:
    """The change as the form sent it: the day from its three boxes (or ``day`` as YYYY-MM-DD from the
    preview's hidden fields), the kind and the note."""
    form = request.form
    typed = {p: form.get(f"day-{p}", "").strip()[:4] for p in ("day", "month", "year")}
    day = form.get("day", "").strip()[:10]
    if not day and any(typed.values()):
        try:
            day = dt.date(int(typed["year"]), int(typed["month"]), int(typed["day"])).isoformat()
        except ValueError:
            day = "invalid"
    return {
        "day": day,
        "typed": typed,
        "kind": form.get("kind", ""),
        "note": form.get("note", "").strip()[:1000],
        "digest": form.get("digest", "")[:64],
    }


def _problems(change: dict) -> dict[str, str]:
    """What is missing from the form, all at once (the engine says what is wrong with what is there)."""
    problems = {}
    if not change["day"]:
        problems["day"] = "Enter the date, for example 5 1 2027"
    elif change["day"] == "invalid":
        problems["day"] = "The date must be a real date"
    if change["kind"] not in (*KINDS, "none"):
        problems["kind"] = MESSAGES["kind"]
    if change["kind"] != "none" and not change["note"]:
        problems["note"] = MESSAGES["note"]
    return problems


def _page(change: dict | None = None, field_errors: dict | None = None, status: int = 200):
    field_errors = field_errors or {}
    listing = _service().calendar.bank_holidays(g.actor)
    change = change or {"day": "", "typed": {}, "kind": "", "note": ""}
    return render_template(
        "admin/calendar.html",
        title="Calendar",
        listing=listing,
        kinds=KINDS,
        change=change,
        may_change=access.may_administer(g.actor),
        field_errors=field_errors,
        errors=[{"text": field_errors[f], "href": f"#{_anchor(f)}"} for f in FIELDS if f in field_errors],
    ), status


def _anchor(field: str) -> str:
    return {"day": "day-day", "kind": "kind", "note": "note"}[field]


def _engine_errors(exc: Invalid) -> dict[str, str]:
    out = {}
    for problem in exc.details or [{"path": "day", "message": exc.message}]:
        path = problem.get("path") if problem.get("path") in FIELDS else "day"
        out.setdefault(path, problem.get("message") or exc.message)
    return out


def _preview_page(preview: dict, change: dict, changed: bool = False, status: int = 200):
    return render_template(
        "admin/calendar_preview.html",
        title="Check the change to the calendar",
        preview=preview,
        change=change,
        kinds=KINDS,
        changed=changed,
    ), status


@bp.get("/calendar")
@section("calendar")
def calendar():
    return _page()


@bp.post("/calendar/preview")
@section("calendar")
def calendar_preview():
    """Add (the form) or remove (an override's button) one day's override: show what it moves first."""
    change = _form()
    problems = _problems(change)
    if problems:
        return _page(change, problems, 422)
    try:
        preview = _service().calendar.preview(change["day"], change["kind"], change["note"], g.actor)
    except Invalid as exc:
        return _page(change, _engine_errors(exc), 422)
    except Conflict as exc:
        return _page(change, {"day": exc.message}, 409)
    return _preview_page(preview, change)


@bp.post("/calendar/confirm")
@section("calendar")
def calendar_confirm():
    change = _form()
    problems = _problems(change)
    if problems or not change["digest"]:
        return _page(change, problems or {"day": "Preview the change before confirming it"}, 422)
    try:
        done = _service().calendar.change(
            change["day"], change["kind"], change["note"], g.actor, expected=change["digest"]
        )
    except PreviewChanged as exc:
        return _preview_page(exc.preview, change, changed=True, status=409)
    except Invalid as exc:
        return _page(change, _engine_errors(exc), 422)
    except Conflict as exc:
        return _page(change, {"day": exc.message}, 409)
    day = dt.date.fromisoformat(done["day"])
    what = "removed" if change["kind"] == "none" else "saved"
    moved = len(done["moves"])
    said = f"{moved} date{'s' if moved != 1 else ''} moved, as shown" if moved else "Nothing moved"
    flash(f"The override of {day.day} {day:%B %Y} is {what}. {said}.", "success")
    return redirect(url_for("admin.calendar"), 303)
