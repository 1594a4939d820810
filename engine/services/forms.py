"""Server-side validation of submitted data against a form's JSON Schema."""
from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache
import json

from contextvars import ContextVar

from jsonschema import Draft202012Validator, FormatChecker, ValidationError, validators

from engine import patterns
from engine.bpmn.runtime import FUNCTIONS

_IDENT = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")
_budget: ContextVar[patterns.Budget | None] = ContextVar("pattern_budget", default=None)


def _matches(pattern: str, text: str) -> bool | None:
    """Whether ``text`` matches, or None when it could not be told in time (engine/patterns.py)."""
    try:
        return patterns.search(pattern, text, _budget.get())
    except patterns.PatternTimeout:
        return None


def _pattern(validator, pattern, instance, schema):
    if validator.is_type(instance, "string"):
        matched = _matches(pattern, instance)
        if matched is None:
            yield ValidationError("could not be checked against its pattern in time: shorten or simplify it")
        elif not matched:
            yield ValidationError(f"{instance!r} does not match {pattern!r}")


def _pattern_properties(validator, pattern_properties, instance, schema):
    if validator.is_type(instance, "object"):
        for pattern, subschema in pattern_properties.items():
            for key, value in instance.items():
                matched = _matches(pattern, key)
                if matched is None:
                    yield ValidationError(f"the field name {key!r} could not be checked in time")
                elif matched:
                    yield from validator.descend(value, subschema, path=key, schema_path=pattern)


# Draft 2020-12, with patterns matched under a time limit instead of by Python's backtracking ``re``
FormValidator = validators.extend(Draft202012Validator, {"pattern": _pattern, "patternProperties": _pattern_properties})

#: the years a date in a case may fall in: deadlines are counted from them, on a calendar with limits
DATE_YEARS = range(1900, 2200)
_FORMATS = FormatChecker(())
_FORMATS.checkers = dict(Draft202012Validator.FORMAT_CHECKER.checkers)     # the draft's own, date replaced


@_FORMATS.checks("date", raises=ValueError)
def _date(value) -> bool:
    """A real day (YYYY-MM-DD) in the years a case can count deadlines in: a date in year 9999 would
    leave its case unable to take its next step."""
    if not isinstance(value, str):
        return True
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value, re.ASCII):
        return False
    return dt.date.fromisoformat(value).year in DATE_YEARS


@lru_cache(maxsize=512)
def _validator(schema_json: str) -> Draft202012Validator:
    return FormValidator(json.loads(schema_json), format_checker=_FORMATS)


def _path(error) -> str:
    parts = [str(p) for p in error.absolute_path]
    if error.validator == "required":
        missing = re.findall(r"'([^']+)' is a required property", error.message)
        parts += missing[:1]
    if error.validator == "additionalProperties":
        extra = re.findall(r"'([^']+)' was unexpected", error.message)
        parts += extra[:1]
    return "/".join(parts) or "(root)"


def validate(schema: dict | None, data) -> list[dict]:
    """Every problem with ``data``: ``[{"path": "children/0/date_of_birth", "message": ...}]``."""
    problems = check_keys(data)
    if problems or schema is None:
        return problems
    validator = _validator(json.dumps(schema, sort_keys=True))
    budget = _budget.set(patterns.Budget())
    try:
        errors = sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.absolute_path)))
    finally:
        _budget.reset(budget)
    for error in errors:
        limit = error.validator_value if isinstance(error.validator_value, (int, float)) else None
        problems.append({"path": _path(error), "message": error.message, "kind": error.validator,
                         **({"limit": limit} if limit is not None else {})})
    return problems


MAX_DATA_BYTES = 256 * 1024


def check_size(data) -> None:
    """A draft is not validated, but it is still case data: an object, and no bigger than 256 KiB."""
    from engine.services.errors import Invalid

    if not isinstance(data, dict):
        raise Invalid("data must be a JSON object", [{"path": "(root)", "message": "not an object"}])
    size = len(json.dumps(data, default=str))
    if size > MAX_DATA_BYTES:
        raise Invalid("the form is too large", [{"path": "(root)", "message": f"{size:,} bytes; the limit is {MAX_DATA_BYTES:,}"}])


def check_keys(data) -> list[dict]:
    """Top-level keys become workflow variables: they must be names and must not hide the engine's functions.
    Case data stays small (documents belong elsewhere), so a submission is limited to 256 KiB."""
    if not isinstance(data, dict):
        return [{"path": "(root)", "message": "data must be a JSON object"}]
    size = len(json.dumps(data, default=str))
    if size > MAX_DATA_BYTES:
        return [{"path": "(root)", "message": f"data is {size:,} bytes; the limit is {MAX_DATA_BYTES:,}"}]
    out = []
    for key in data:
        if not isinstance(key, str) or not _IDENT.match(key):
            out.append({"path": str(key), "message": "field names must be letters, digits and _ (max 64), starting with a letter"})
        elif key in FUNCTIONS:
            out.append({"path": key, "message": f"'{key}' is the name of an engine function and cannot be a field"})
    return out
