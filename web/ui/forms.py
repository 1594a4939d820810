"""JSON Schema forms as GOV.UK pages: a schema (and its UI schema) becomes a tree of fields for the
templates, a submitted page becomes typed JSON for the engine, and the engine's problems become GOV.UK
error messages on the right fields. Works without JavaScript: "Add another" and "Remove" are buttons
that post the page back.

Field names are the JSON paths with dots (``children.0.date_of_birth``); a date is three inputs
(``-day``, ``-month``, ``-year``, as GOV.UK's date input names them); a list of objects carries its row
count in ``<name>.rows``.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from web.ui import choices
from web.ui import errors as error_messages

LONG_TEXT = 500  # free text longer than this is a textarea unless the UI schema says otherwise
SELECT_FROM = 8  # an enum with more options than this is a select


@dataclass
class Field:
    kind: str  # text, textarea, date, radios, checkboxes, select, number, group, rows, lines
    name: str
    label: str
    hint: str = ""
    required: bool = False
    options: list = field(default_factory=list)  # [(value, text)]
    children: list = field(default_factory=list)  # group: its fields
    rows: list = field(default_factory=list)  # rows: one list of fields per row
    item_label: str = ""
    max_length: int | None = None
    input_type: str = "text"
    value: object = None
    error: str | None = None
    sometimes: bool = False  # required only with some answers (if/then, dependentRequired)

    @property
    def optional(self) -> bool:
        """Labelled "(optional)": the form never requires it, whatever the other answers."""
        return not self.required and not self.sometimes

    @property
    def id(self) -> str:
        return "f-" + re.sub(r"[^A-Za-z0-9_-]", "-", self.name)

    @property
    def first_input_id(self) -> str:
        """Where an error summary link should take the reader."""
        if self.kind == "date":
            return self.id + "-day"
        if self.kind in ("radios", "checkboxes"):
            return self.id
        return self.id


class Values:
    """What to show in each input: a submitted page (as typed) or stored data (flattened)."""

    def __init__(self, single: dict, multi: dict):
        self.single, self.multi = single, multi

    @classmethod
    def from_form(cls, form) -> Values:
        return cls({k: form.get(k, "") for k in form}, {k: form.getlist(k) for k in form})

    @classmethod
    def from_data(cls, schema: dict, data: dict | None) -> Values:
        single, multi = {}, {}
        _flatten(schema, data or {}, "", single, multi)
        return cls(single, multi)

    def get(self, name: str, default: str = "") -> str:
        return self.single.get(name, default)

    def getlist(self, name: str) -> list:
        return self.multi.get(name, [])


def _flatten(schema: dict, value, prefix: str, single: dict, multi: dict) -> None:
    kind = schema.get("type")
    if kind == "object" and isinstance(value, dict):
        for key, sub in schema.get("properties", {}).items():
            if key in value:
                _flatten(
                    sub, value[key], f"{prefix}{key}" if not prefix else f"{prefix}.{key}", single, multi
                )
        return
    if kind == "array" and isinstance(value, list):
        items = schema.get("items", {})
        if items.get("type") == "object":
            single[f"{prefix}.rows"] = str(len(value))
            for i, row in enumerate(value):
                _flatten(items, row, f"{prefix}.{i}", single, multi)
        elif "enum" in items or "x-directory" in schema:
            multi[prefix] = [str(v) for v in value]
        else:
            single[prefix] = "\n".join(str(v) for v in value)
        return
    if schema.get("format") == "date" and isinstance(value, str):
        try:
            day = dt.date.fromisoformat(value)
            single.update(
                {
                    f"{prefix}-day": str(day.day),
                    f"{prefix}-month": str(day.month),
                    f"{prefix}-year": str(day.year),
                }
            )
        except ValueError:
            pass
        return
    if isinstance(value, bool):
        single[prefix] = "true" if value else "false"
    elif value is not None:
        single[prefix] = str(value)


# --- building the field tree ------------------------------------------------------------------


def build(
    schema: dict, ui: dict | None, values: Values, errors: dict[str, str], extra_rows: dict | None = None
) -> list[Field]:
    """The fields of an object schema, in the UI schema's order, with values and errors attached."""
    return _object_fields(schema, ui or {}, values, errors, "", extra_rows or {})


def _ordered(schema: dict, ui: dict) -> list[str]:
    names = list(schema.get("properties", {}))
    order = ui.get("ui:order") or []
    return [n for n in order if n in names] + [n for n in names if n not in order]


def sometimes_required(schema: dict) -> set[str]:
    """The properties an object schema requires only with some answers (``if``/``then``/``else``,
    ``dependentRequired``, ``dependentSchemas``, ``allOf``/``anyOf``/``oneOf``): never labelled optional."""
    out: set[str] = set()
    for key in ("then", "else"):
        if isinstance(schema.get(key), dict):
            out |= set(schema[key].get("required", [])) | sometimes_required(schema[key])
    for names in (schema.get("dependentRequired") or {}).values():
        out |= set(names) if isinstance(names, list) else set()
    branches = [*(schema.get("dependentSchemas") or {}).values()]
    for key in ("allOf", "anyOf", "oneOf"):
        branches += schema.get(key) or []
    for branch in branches:
        if isinstance(branch, dict):
            out |= set(branch.get("required", [])) | sometimes_required(branch)
    return out


def sometimes_required_within(schema: dict, key: str) -> set[str]:
    """The fields of the group ``key`` that its parent's conditions require
    (``"then": {"properties": {key: {"required": [...]}}}``)."""
    out: set[str] = set()
    branches = [schema.get("then"), schema.get("else"), *(schema.get("dependentSchemas") or {}).values()]
    for name in ("allOf", "anyOf", "oneOf"):
        branches += schema.get(name) or []
    for branch in branches:
        if not isinstance(branch, dict):
            continue
        inner = (branch.get("properties") or {}).get(key)
        if isinstance(inner, dict):
            out |= set(inner.get("required", [])) | sometimes_required(inner)
        out |= sometimes_required_within(branch, key)
    return out


def _object_fields(schema, ui, values, errors, prefix, extra_rows) -> list[Field]:
    required = set(schema.get("required", []))
    sometimes = sometimes_required(schema)
    out = []
    for key in _ordered(schema, ui):
        sub = schema["properties"][key]
        name = f"{prefix}.{key}" if prefix else key
        f = _field(
            sub,
            ui.get(key, {}) if isinstance(ui.get(key), dict) else {},
            values,
            errors,
            name,
            key in required,
            extra_rows,
        )
        f.sometimes = key in sometimes
        if f.kind == "group":
            within = sometimes_required_within(schema, key)
            for child in f.children:
                child.sometimes = child.sometimes or child.name.rsplit(".", 1)[-1] in within
        out.append(f)
    return out


def _one_of(widget: str | None, options: list) -> str:
    """How a choice of one is drawn: as the UI schema asks, else radios, or a select for a long list."""
    if widget in ("radios", "select"):
        return widget
    return "select" if len(options) > SELECT_FROM else "radios"


def _options(schema: dict) -> list[tuple[str, str]]:
    titles = schema.get("x-enum-titles") or [str(v).replace("_", " ").capitalize() for v in schema["enum"]]
    return [(str(v), t) for v, t in zip(schema["enum"], titles, strict=False)]


def _field(schema, ui, values, errors, name, required, extra_rows) -> Field:
    label = schema.get("title") or name.rsplit(".", 1)[-1].replace("_", " ").capitalize()
    hint = schema.get("description", "")
    widget = ui.get("ui:widget")
    kind = schema.get("type")
    f = Field(kind="text", name=name, label=label, hint=hint, required=required, error=errors.get(name))
    if "x-directory" in schema:  # a choice from the partnership's directory, each with its warning
        f.options = choices.of(schema["x-directory"])
        if kind == "array":
            f.kind, f.value = "checkboxes", values.getlist(name)
        else:
            f.kind, f.value = _one_of(widget, f.options), values.get(name)
        return f
    if kind == "object":
        f.kind = "group"
        f.children = _object_fields(schema, ui, values, errors, name, extra_rows)
        return f
    if kind == "array":
        items = schema.get("items", {})
        if items.get("type") == "object":
            f.kind = "rows"
            f.item_label = items.get("title") or "Item"
            try:
                count = int(values.get(f"{name}.rows", "0") or 0)
            except ValueError:
                count = 0
            count = max(count + extra_rows.get(name, 0), 1 if required else 0)
            count = min(count, schema.get("maxItems", 50))
            item_ui = ui.get("items", {}) if isinstance(ui.get("items"), dict) else {}
            f.rows = [
                _object_fields(items, item_ui, values, errors, f"{name}.{i}", extra_rows)
                for i in range(count)
            ]
            f.max_length = schema.get("maxItems")
            return f
        if "enum" in items:
            f.kind = "checkboxes"
            f.options = _options(items)
            f.value = values.getlist(name)
            return f
        f.kind = "lines"  # a list of short texts: one per line
        f.hint = (hint + " " if hint else "") + "Put each one on a new line."
        f.value = values.get(name)
        return f
    if kind == "boolean":
        f.kind = "radios"
        f.options = [("true", "Yes"), ("false", "No")]
        f.value = values.get(name)
        return f
    if "enum" in schema:
        f.options = _options(schema)
        f.kind, f.value = _one_of(widget, f.options), values.get(name)
        return f
    if schema.get("format") == "date":
        f.kind = "date"
        f.value = {part: values.get(f"{name}-{part}") for part in ("day", "month", "year")}
        return f
    if kind in ("integer", "number"):
        f.kind = "number"
        f.value = values.get(name)
        return f
    f.max_length = schema.get("maxLength")
    f.kind = "textarea" if widget == "textarea" or (f.max_length or 0) > LONG_TEXT else "text"
    if schema.get("format") == "email":
        f.input_type = "email"
    f.value = values.get(name)
    return f


def count_rows(values: Values, name: str) -> int:
    try:
        return int(values.get(f"{name}.rows", "0") or 0)
    except ValueError:
        return 0


# --- reading a submitted page -----------------------------------------------------------------


def parse(schema: dict, form) -> tuple[dict, dict[str, str]]:
    """Typed data from a submitted page, and the problems found before validation (a date that is not
    a real date, a number that is not a number), by field name."""
    problems: dict[str, str] = {}
    data = _parse_object(schema, form, "", problems)
    return data or {}, problems


def _parse_object(schema, form, prefix, problems) -> dict:
    out = {}
    for key, sub in schema.get("properties", {}).items():
        name = f"{prefix}.{key}" if prefix else key
        value = _parse_value(sub, form, name, problems)
        if value is not None:
            out[key] = value
    return out


def _parse_value(schema, form, name, problems):
    kind = schema.get("type")
    if kind == "object":
        return _parse_object(schema, form, name, problems) or None
    if kind == "array":
        items = schema.get("items", {})
        if items.get("type") == "object":
            try:
                rows = int(form.get(f"{name}.rows", "0") or 0)
            except ValueError:
                rows = 0
            out = []
            for i in range(min(rows, schema.get("maxItems", 50))):
                row = _parse_object(items, form, f"{name}.{i}", problems)
                if row:
                    out.append(row)
            return out or None
        if "enum" in items or "x-directory" in schema:
            picked = [v for v in form.getlist(name) if v]
            return picked or None
        lines = [line.strip() for line in (form.get(name) or "").splitlines() if line.strip()]
        return lines or None
    if schema.get("format") == "date":
        parts = [(form.get(f"{name}-{p}") or "").strip() for p in ("day", "month", "year")]
        if not any(parts):
            return None
        try:
            day, month, year = (int(p) for p in parts)
            if year < 1000:
                raise ValueError
            return dt.date(year, month, day).isoformat()
        except ValueError:
            problems[name] = "must be a real date"
            return None
    raw = (form.get(name) or "").strip()
    if raw == "":
        return None
    if kind == "boolean":
        return {"true": True, "false": False}.get(raw)
    if kind == "integer":
        try:
            return int(raw)
        except ValueError:
            problems[name] = "must be a whole number"
            return None
    if kind == "number":
        try:
            return float(raw)
        except ValueError:
            problems[name] = "must be a number"
            return None
    return raw.replace("\r\n", "\n")


# --- the engine's problems as GOV.UK messages (web/ui/errors.py) -------------------------------


def label_of(schema: dict, path: str) -> tuple[str, dict]:
    """The title and schema of the field at ``path`` (``children/0/name``)."""
    label, node, _where = error_messages.locate(schema, path)
    return label, node


message = error_messages.message
error_map = error_messages.error_map
