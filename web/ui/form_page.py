"""One flow for every page that is a JSON Schema form (a task, a new case): show it, add or remove a row
by posting back, and on submit parse, hand the data to the engine, and show its problems GOV.UK-style."""

from __future__ import annotations

from collections.abc import Callable

from flask import render_template, request

from engine.services.errors import Invalid
from web.ui import forms


def show(template: str, schema: dict, ui: dict, data: dict | None = None, **context):
    fields = forms.build(schema, ui, forms.Values.from_data(schema, data or {}), {})
    return render_template(template, fields=fields, errors=[], schema=schema, **context)


def post(template: str, schema: dict, ui: dict, actions: dict[str, Callable[[dict], object]], **context):
    """Handle a submitted form. ``actions`` maps a button's action ("submit", "draft") to what to do
    with the parsed data; it returns a response, or raises Invalid to show the engine's problems."""
    action = request.form.get("action", "submit")
    values = forms.Values.from_form(request.form)
    if action.startswith("add:"):
        fields = forms.build(schema, ui, values, {}, {action[4:]: 1})
        return render_template(template, fields=fields, errors=[], schema=schema, **context)
    if action.startswith("remove:"):
        _, name, index = action.split(":", 2)
        fields = forms.build(schema, ui, without_row(values, name, int(index) if index.isdigit() else -1), {})
        return render_template(template, fields=fields, errors=[], schema=schema, **context)
    data, parse_problems = forms.parse(schema, request.form)
    handler = actions.get(action, actions["submit"])
    try:
        if parse_problems and action != "draft":
            raise Invalid("the form has errors", [])
        return handler(data)
    except Invalid as exc:
        errors = forms.error_map(schema, exc.details or [], parse_problems)
        fields = forms.build(schema, ui, values, errors)
        summary = [{"text": text, "href": f"#{anchor(fields, name)}"} for name, text in errors.items()]
        return render_template(template, fields=fields, errors=summary, schema=schema, **context), 422


def anchor(fields, name: str) -> str:
    """The id of the input an error summary link should focus."""
    for f in _walk(fields):
        if f.name == name:
            return f.first_input_id
    return "f-" + name.replace(".", "-")


def _walk(fields):
    for f in fields:
        yield f
        yield from _walk(f.children)
        for row in f.rows:
            yield from _walk(row)


def without_row(values: forms.Values, name: str, index: int) -> forms.Values:
    """The submitted values with row ``index`` of list ``name`` taken out and later rows moved up."""
    rows = forms.count_rows(values, name)
    if not 0 <= index < rows:
        return values
    prefix = f"{name}."
    single, multi = {}, {}
    for source, target in ((values.single, single), (values.multi, multi)):
        for key, value in source.items():
            rest_of_key = key[len(prefix) :]
            if key.startswith(prefix) and rest_of_key.split(".", 1)[0].split("-", 1)[0].isdigit():
                head, _, tail = rest_of_key.partition(".")
                number, dash, suffix = head.partition("-")
                i = int(number)
                if i == index:
                    continue
                key = f"{prefix}{i - 1 if i > index else i}{dash}{suffix}" + (f".{tail}" if tail else "")
            target[key] = value
    single[f"{name}.rows"] = str(rows - 1)
    return forms.Values(single, multi)
