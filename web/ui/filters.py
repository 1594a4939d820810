"""Template filters: dates as people read them, how long is left in England working days, and plain names
for processes, deadlines and source paragraphs (web/ui/plain_names.py)."""

from __future__ import annotations

import datetime as dt

from flask import current_app, g

from engine import clock
from web.ui import plain_names


def long_date(value) -> str:
    if not value:
        return ""
    day = value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])
    return f"{day.day} {day:%B %Y}"


def date_time(value) -> str:
    if not value:
        return ""
    when = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))
    from zoneinfo import ZoneInfo

    local = when.astimezone(ZoneInfo("Europe/London")) if when.tzinfo else when
    return f"{local.day} {local:%B %Y %H:%M}"


def due_status(due: str | None) -> dict:
    """Red, amber or green for a due date: overdue, due within N working days (a setting), or on time."""
    if not due:
        return {"colour": "grey", "label": "No deadline", "left": None}
    service = current_app.extensions["reviewflow"]
    if "calendar" not in g:
        g.calendar = service.calendar.snapshot()
    cal = g.calendar
    today = clock.today()
    day = dt.date.fromisoformat(due)
    if day < today:
        days = cal.working_days_between(day, today)
        return {
            "colour": "red",
            "label": "Overdue",
            "left": -days,
            "text": f"{days} working day{'s' if days != 1 else ''} overdue" if days else "Overdue",
        }
    left = cal.working_days_between(today, day)
    soon = service.settings.due_soon_working_days
    colour = "amber" if left <= soon else "green"
    label = "Due soon" if colour == "amber" else "On time"
    text = "Due today" if left == 0 else f"{left} working day{'s' if left != 1 else ''} left"
    return {"colour": colour, "label": label, "left": left, "text": text}


def install(app) -> None:
    app.context_processor(_partnership)
    app.jinja_env.filters["long_date"] = long_date
    app.jinja_env.filters["date_time"] = date_time
    app.jinja_env.globals["due_status"] = due_status
    app.jinja_env.filters["radio_item"] = radio_item
    app.jinja_env.filters["check_item"] = check_item
    app.jinja_env.filters["process_name"] = process_name
    app.jinja_env.filters["deadline_name"] = deadline_name
    app.jinja_env.filters["source_reference"] = plain_names.source_reference
    app.jinja_env.filters["documents_cited"] = plain_names.documents_cited


def process_name(process_id: str) -> str:
    """A process by its diagram's name (Serious case review decision), never its identifier alone."""
    if "process_names" not in g:
        processes = current_app.extensions["reviewflow"].queries.processes()
        g.process_names = {p["process_id"]: p["name"] for p in processes if p["name"]}
    return plain_names.process_name(process_id, g.process_names)


def deadline_name(key: str | None) -> str:
    """A deadline by its rule's name, its key after it: Local authority notifies the Panel (R1)."""
    if "deadline_names" not in g:
        g.deadline_names = current_app.extensions["reviewflow"].queries.deadline_names()
    return plain_names.deadline_name(key or "", g.deadline_names)


def _partnership() -> dict:
    """The partnership's name, in the header and footer of every page (REVIEWFLOW_PARTNERSHIP_NAME)."""
    return {"partnership_name": current_app.extensions["reviewflow"].settings.partnership_name}


def radio_item(option, current, attribute: str = "checked") -> dict:
    value, text, *warning = option  # a choice from a directory may carry a warning (web/ui/choices.py)
    item = {"value": value, "text": text, attribute: str(current) == value if current is not None else False}
    return _warned(item, warning, attribute)


def check_item(option, current) -> dict:
    value, text, *warning = option
    return _warned({"value": value, "text": text, "checked": value in (current or [])}, warning)


def _warned(item: dict, warning: list, attribute: str = "checked") -> dict:
    """The warning beside a choice: its hint on a radio or checkbox, said in its text in a select."""
    if warning and warning[0]:
        if attribute == "selected":
            item["text"] = f"{item['text']} (nobody holds its role)"
        else:
            item["hint"] = {"text": warning[0], "classes": "rf-choice-warning"}
    return item
