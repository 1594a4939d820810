"""GOV.UK "Check your answers": a form's answers as summary lists, each with a Change link to its field, for
the forms that declare ``"x-check-answers": true`` (decisions, ratification, publication: what cannot be
taken back once sent)."""

from __future__ import annotations

import datetime as dt

from markupsafe import Markup, escape

from web.ui import forms

NOT_ANSWERED = "Not answered"


def wanted(schema: dict | None) -> bool:
    return bool((schema or {}).get("x-check-answers") is True)


def sections(schema: dict, ui: dict, data: dict, change: str) -> list[dict]:
    """``[{"heading": str | None, "rows": [govukSummaryList row]}]``: the form's own fields first, then one
    section per group and per row of a list, in the order of the page; a question left unanswered is shown
    only if the form always requires it. ``change`` is the form's address."""
    fields = forms.build(schema, ui, forms.Values.from_data(schema, data), {})
    out: list[dict] = [{"heading": None, "rows": []}]
    _add(fields, out, change, None)
    return [s for s in out if s["rows"]]


def _add(fields, out: list[dict], change: str, heading: str | None) -> None:
    for f in fields:
        if f.kind == "hidden":
            continue
        if f.kind == "group":
            out.append({"heading": f.label if heading is None else f"{heading}: {f.label}", "rows": []})
            _add(f.children, out, change, out[-1]["heading"])
            out.append({"heading": heading, "rows": []})
            continue
        if f.kind == "rows":
            if not f.rows:
                out[-1]["rows"].append(_row(f.label, Markup(NOT_ANSWERED), f"{change}#{f.first_input_id}"))
            for i, row in enumerate(f.rows, start=1):
                out.append({"heading": f"{f.item_label} {i}", "rows": []})
                _add(row, out, change, out[-1]["heading"])
            out.append({"heading": heading, "rows": []})
            continue
        answer = shown(f)
        if answer != NOT_ANSWERED or (not f.optional and not f.sometimes):
            out[-1]["rows"].append(_row(f.label, answer, f"{change}#{f.first_input_id}"))


def _row(label: str, value: Markup, href: str) -> dict:
    return {
        "key": {"text": label},
        "value": {"html": value},
        "actions": {"items": [{"href": href, "text": "Change", "visuallyHiddenText": label}]},
    }


def shown(f: forms.Field) -> Markup:
    """A field's answer as the page shows it: option titles, a date in words, lines kept apart."""
    titles = {str(o[0]): o[1] for o in f.options}
    if f.kind == "date":
        parts = f.value or {}
        try:
            day = dt.date(int(parts.get("year")), int(parts.get("month")), int(parts.get("day")))
        except (TypeError, ValueError):
            return Markup(NOT_ANSWERED)
        return escape(f"{day.day} {day:%B %Y}")
    if f.kind == "checkboxes":
        picked = [titles.get(str(v), str(v)) for v in f.value or []]
        return Markup("<br>").join(escape(p) for p in picked) if picked else Markup(NOT_ANSWERED)
    if f.kind in ("radios", "select"):
        return (
            escape(titles.get(str(f.value), str(f.value)))
            if f.value not in (None, "")
            else Markup(NOT_ANSWERED)
        )
    text = "" if f.value is None else str(f.value)
    if not text.strip():
        return Markup(NOT_ANSWERED)
    return Markup("<br>").join(escape(line) for line in text.splitlines())
