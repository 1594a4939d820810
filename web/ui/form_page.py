"""One flow for every page that is a JSON Schema form (a task, a new case): show it, add or remove a row
by posting back, and on submit parse, hand the data to the engine, and show its problems GOV.UK-style.
Each page carries a one-time token (web/ui/once.py): a form sent twice is done once."""

from __future__ import annotations

from collections.abc import Callable

from flask import flash, redirect, render_template, request, url_for

from engine.services import forms as form_rules
from engine.services.errors import Invalid
from web.ui import forms, once

SENT_AGAIN = "You already sent this form. It was not sent again."


def _token_field(token: str) -> forms.Field:
    return forms.Field(kind="hidden", name=once.FIELD, label="", value=token)


def show(template: str, schema: dict, ui: dict, data: dict | None = None, **context):
    fields = forms.build(schema, ui, forms.Values.from_data(schema, data or {}), {})
    fields.insert(0, _token_field(once.new()))
    return render_template(template, fields=fields, errors=[], schema=schema, **context)


def post(
    template: str,
    schema: dict,
    ui: dict,
    actions: dict[str, Callable[[dict], object]],
    sent_again: str = SENT_AGAIN,
    guard: bool = True,
    **context,
):
    """Handle a submitted form. ``actions`` maps a button's action ("submit", "draft") to what to do
    with the parsed data; it returns a response, or raises Invalid to show the engine's problems. A page
    sent a second time (same token) is answered with ``sent_again`` and where its first sending led."""
    action = request.form.get("action", "submit")
    values = forms.Values.from_form(request.form)
    token = once.token_of(request.form) or once.new()
    if action.startswith("add:"):
        fields = forms.build(schema, ui, values, {}, {action[4:]: 1})
        return _page(template, fields, [], schema, token, context)
    if action.startswith("remove:"):
        _, name, index = action.split(":", 2)
        fields = forms.build(schema, ui, without_row(values, name, int(index) if index.isdigit() else -1), {})
        return _page(template, fields, [], schema, token, context)
    data, parse_problems = forms.parse(schema, request.form)
    handler = actions.get(action, actions["submit"])
    guarded = guard and action != "draft" and once.token_of(request.form) is not None
    if guarded:
        where = once.claim(token)
        if where is not None:
            flash(sent_again, "error")
            return redirect(where or url_for("tasks.home"), 303)
    try:
        if parse_problems and action != "draft":  # every error at once: the rest of the page checked too
            raise Invalid("the form has errors", also_wrong(schema, data, parse_problems))
        response = handler(data)
    except Invalid as exc:
        if guarded:
            once.release(token)
        errors = forms.error_map(schema, exc.details or [], parse_problems)
        fields = forms.build(schema, ui, values, errors)
        return _page(template, fields, summary(fields, errors), schema, token, context), 422
    except BaseException:
        if guarded:
            once.release(token)
        raise
    return _settle(token, response) if guarded else response


def _page(template, fields, summary, schema, token, context):
    return render_template(
        template, fields=[_token_field(token), *fields], errors=summary, schema=schema, **context
    )


def check(schema: dict, data: dict) -> None:
    """Raise Invalid with every problem the form itself finds (before its answers are shown to be checked;
    the engine checks them again, against the case, when they are sent)."""
    problems = form_rules.validate(schema, data)
    if problems:
        raise Invalid("the form has errors", problems)


def invalid(template: str, schema: dict, ui: dict, data: dict, exc: Invalid, **context):
    """The form filled with ``data`` and the engine's problems with it (422)."""
    errors = forms.error_map(schema, exc.details or [], {})
    fields = forms.build(schema, ui, forms.Values.from_data(schema, data), errors)
    return _page(template, fields, summary(fields, errors), schema, once.new(), context), 422


def send_once(send: Callable[[], object], sent_again: str = SENT_AGAIN):
    """Do ``send`` once for the page's one-time token (a page posted without one is sent as it is)."""
    token = once.token_of(request.form)
    if token is None:
        return send()
    where = once.claim(token)
    if where is not None:
        flash(sent_again, "error")
        return redirect(where or url_for("tasks.home"), 303)
    try:
        response = send()
    except BaseException:
        once.release(token)
        raise
    return _settle(token, response)


def _settle(token: str, response):
    """Remember where a sending led (it redirected) for its token, or free the token for another try."""
    location = getattr(response, "location", None)
    if location and 300 <= getattr(response, "status_code", 200) < 400:
        once.sent(token, location)
    else:
        once.release(token)
    return response


def also_wrong(schema: dict, data: dict, parse_problems: dict[str, str]) -> list[dict]:
    """What else is wrong with a page some of whose answers could not be read (a date that is not a real
    date): the form's own checks on the rest, so that every error is shown at once."""
    return [p for p in form_rules.validate(schema, data) if p["path"].replace("/", ".") not in parse_problems]


def summary(fields, errors: dict[str, str]) -> list[dict]:
    """The error summary: one link per error, in the order of the fields on the page."""
    order = {f.name: i for i, f in enumerate(_walk(fields))}
    names = sorted(errors, key=lambda name: (name != "_form", order.get(name, len(order))))
    return [{"text": errors[name], "href": f"#{anchor(fields, name)}"} for name in names]


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
