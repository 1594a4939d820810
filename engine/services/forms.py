"""Server-side validation of submitted data against a form's JSON Schema."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker, ValidationError, _keywords, validators

from engine import clock, patterns
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


# --- keywords that judge a date against the case ---------------------------------------------------
#
# A deadline is met or missed by the date recorded for the act, so that date must be believable: not after
# today, not before the date it follows, and explained when it is late. These keywords sit on a property
# of a form; the case they are judged against is set by whoever validates a task's submission
# (:func:`in_case`). Without a case, "today" is the product clock's and nothing is compared with case data.

#: the keywords this engine adds to JSON Schema; ``reviewflow check`` refuses any other ``x-`` keyword
#: that is not a plain annotation (ANNOTATIONS)
KEYWORDS = (
    "x-not-future",
    "x-not-before",
    "x-late-reason",
    "x-equals-case",
    "x-directory",
    "x-check-answers",
    "x-prefill",
    "x-new-each-time",
)
#: the directories a field may choose from (``"x-directory": "agencies"``)
DIRECTORIES = ("agencies",)
ANNOTATIONS = ("x-source", "x-enum-titles")


@dataclass(frozen=True)
class CaseContext:
    """What a submission is judged against: today on the product clock, the case data as it stands,
    each deadline's due date for this case (key -> date, with its source paragraph), and the working-day
    calendar with the administrator's overrides."""

    today: dt.date
    data: Mapping[str, Any] = field(default_factory=dict)
    deadlines: Mapping[str, dt.date] = field(default_factory=dict)
    sources: Mapping[str, str] = field(default_factory=dict)
    calendar: Any = None  # engine.calendar.WorkingDayCalendar
    due: Callable[[str, Mapping[str, Any]], dt.date | None] | None = None  # a deadline not armed yet
    # the agencies a field may name: a Directory, a function reading it or its file; read only when asked
    agencies: Any = None


class _ReadWhenAsked(Mapping):
    """A mapping read from the database only if a form's keyword asks for it (most forms never do)."""

    def __init__(self, read: Callable[[], Mapping]):
        self._read, self._value = read, None

    def _mapping(self) -> Mapping:
        if self._value is None:
            self._value = dict(self._read())
        return self._value

    def __getitem__(self, key):
        return self._mapping()[key]

    def __iter__(self):
        return iter(self._mapping())

    def __len__(self) -> int:
        return len(self._mapping())


def case_context(
    data: Mapping[str, Any],
    armed: Mapping[str, dt.date] | Callable[[], Mapping[str, dt.date]],
    ruleset=None,
    calendar=None,
    agencies=None,
) -> CaseContext:
    """The context for a case: ``armed`` holds the due dates of its deadlines already armed (they may have
    moved since), or reads them when first asked; a deadline not armed yet is worked out from the rule set
    and the data as submitted."""
    from engine.rules import DeadlineError, compute_due

    def due(key: str, values: Mapping[str, Any]) -> dt.date | None:
        rule = ruleset.rules.get(key) if ruleset is not None else None
        if rule is None or calendar is None:
            return None
        try:
            return compute_due(rule, values, calendar).due_date
        except (DeadlineError, OverflowError):
            return None

    sources = {k: r.source for k, r in ruleset.rules.items()} if ruleset is not None else {}
    return CaseContext(
        today=clock.today(),
        data=dict(data),
        deadlines=_ReadWhenAsked(armed) if callable(armed) else dict(armed),
        sources=sources,
        calendar=calendar,
        due=due,
        agencies=agencies,
    )


_case: ContextVar[CaseContext | None] = ContextVar("form_case", default=None)
_submitted: ContextVar[Mapping | None] = ContextVar("form_submitted", default=None)
_parent: ContextVar[Mapping | None] = ContextVar("form_parent", default=None)
_root: ContextVar[Mapping | None] = ContextVar("form_root", default=None)


def _error(message: str, source: str) -> ValidationError:
    """An error that cites its paragraph, as ``message (source)``; the API also gives ``source`` apart."""
    error = ValidationError(f"{message} ({source})")
    error.source = source
    return error


@contextmanager
def in_case(context: CaseContext):
    """Validate the forms submitted inside this block against ``context``."""
    token = _case.set(context)
    try:
        yield context
    finally:
        _case.reset(token)


def _context() -> CaseContext:
    return _case.get() or CaseContext(today=clock.today())


def _as_date(value) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value[:10], re.ASCII):
        try:
            return dt.date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


def _lookup(name: str):
    """Another field's value: in the same object of the submitted form, then anywhere at the form's top
    level, then in the case data."""
    for source in (_parent.get(), _submitted.get(), _context().data):
        if isinstance(source, Mapping) and source.get(name) not in (None, ""):
            return source.get(name)
    return None


def _source(validator, schema, value) -> str:
    """The paragraph an error cites: the keyword's own ``source``, else the field's, else the form's."""
    if isinstance(value, dict) and isinstance(value.get("source"), str):
        return value["source"]
    root = _root.get() or {}
    return schema.get("x-source") or root.get("x-source") or "the form"


def _long(day: dt.date) -> str:
    return f"{day.day} {day:%B %Y}"


def _not_future(validator, value, instance, schema):
    day = _as_date(instance)
    if value is False or day is None:
        return
    today = _context().today
    if day > today:
        yield _error(
            f"must be today ({_long(today)}) or earlier: the act it records has happened",
            _source(validator, schema, value),
        )


def _not_before(validator, value, instance, schema):
    day = _as_date(instance)
    if day is None or not isinstance(value, dict):
        return
    other = _as_date(_lookup(value.get("field", "")))
    if other is None:
        return
    n = value.get("working_days", 0)
    context = _context()
    if n:
        from engine.calendar import WorkingDayCalendar

        limit = (context.calendar or WorkingDayCalendar()).add_working_days(other, n)
    else:
        limit = other
    if day < limit:
        other_title = _title(validator, value["field"])
        after = (
            f"{n} working day{'s' if n != 1 else ''} after {other_title} ({_long(other)})"
            if n
            else f"{other_title} ({_long(other)})"
        )
        yield _error(
            f"must be on or after {_long(limit)}: it cannot come before {after}",
            _source(validator, schema, value),
        )


def _title(validator, name: str) -> str:
    """A field's title in this form, for messages; its name when the form does not have it."""
    props = (_root.get() or {}).get("properties")
    title = (
        props.get(name, {}).get("title")
        if isinstance(props, dict) and isinstance(props.get(name), dict)
        else None
    )
    return f"‘{title}’" if title else name.replace("_", " ")


def _due(key: str) -> dt.date | None:
    context = _context()
    if key in context.deadlines:
        return context.deadlines[key]
    if context.due is not None:
        return context.due(key, {**context.data, **(_submitted.get() or {})})
    return None


def _late_reason(validator, value, instance, schema):
    day = _as_date(instance)
    if day is None or not isinstance(value, dict):
        return
    due = _due(value.get("deadline", ""))
    if due is None or day <= due:
        return
    parent = _parent.get() or {}
    reason = parent.get(value.get("reason_field", ""))
    if (isinstance(reason, str) and reason.strip()) or (
        reason not in (None, "") and not isinstance(reason, str)
    ):
        return
    source = (
        value.get("source")
        if isinstance(value.get("source"), str)
        else _context().sources.get(value["deadline"]) or _source(validator, schema, value)
    )
    yield _error(
        f"say why it was late: {_long(day)} is after {_long(due)}, the day deadline "
        f"{value['deadline']} fell due for this case",
        source,
    )


def _equals_case(validator, value, instance, schema):
    name = value.get("field") if isinstance(value, dict) else value
    if not isinstance(name, str):
        return
    recorded = _context().data.get(name)
    if recorded is None or recorded == instance:
        return
    yield _error(
        f"contradicts the answer that agrees: the case records {name.replace('_', ' ')} as "
        f"{recorded!r}, not {instance!r}",
        _source(validator, schema, value),
    )


def directory_of(value) -> str | None:
    """The directory an ``x-directory`` keyword names (``"agencies"`` or ``{"directory": "agencies"}``)."""
    return value.get("directory") if isinstance(value, dict) else value


def _agencies():
    from engine import agencies, config

    known = _context().agencies
    if known is None:
        known = config.load().agencies
    return agencies.resolve(known)


def _directory(validator, value, instance, schema):
    """A field that names agencies holds keys of the partnership's directory, never a typed name: an
    agency outside it has no users, and its request would be seen by nobody."""
    if directory_of(value) != "agencies":
        return
    from engine.agencies import DirectoryError

    try:
        known = _agencies()
    except DirectoryError as exc:
        yield ValidationError(f"the partnership's list of agencies cannot be read: {exc}")
        return
    chosen = enumerate(instance) if isinstance(instance, list) else [(None, instance)]
    for index, item in chosen:
        agency = known.get(item) if isinstance(item, str) else None
        if isinstance(item, str) and agency is None:
            yield ValidationError(
                f"‘{item}’ is not one of the partnership's agencies: choose it from the list",
                path=[] if index is None else [index],
            )
        elif agency is not None and not agency.active:
            yield ValidationError(
                f"‘{agency.name}’ is no longer one of the partnership's agencies: choose another",
                path=[] if index is None else [index],
            )


def _properties(validator, properties, instance, schema):
    """As JSON Schema's ``properties``, with the object at hand known to the keywords above (a date is
    compared with the other date of its own row first)."""
    token = _parent.set(instance if isinstance(instance, Mapping) else None)
    try:
        yield from _keywords.properties(validator, properties, instance, schema)
    finally:
        _parent.reset(token)


# Draft 2020-12, with patterns matched under a time limit instead of by Python's backtracking ``re``,
# and the case keywords above
FormValidator = validators.extend(
    Draft202012Validator,
    {
        "pattern": _pattern,
        "patternProperties": _pattern_properties,
        "properties": _properties,
        "x-not-future": _not_future,
        "x-not-before": _not_before,
        "x-late-reason": _late_reason,
        "x-equals-case": _equals_case,
        "x-directory": _directory,
    },
)


def keyword_problems(schema: dict, deadline_keys: set[str] | None = None) -> list[tuple[str, str]]:
    """Every misuse of an ``x-`` keyword in a form: ``[(pointer, message)]``. An unknown ``x-`` keyword is
    refused (a misspelt check would silently check nothing); ``deadline_keys``, when given, are the deadline
    keys a ``x-late-reason`` may name."""
    out: list[tuple[str, str]] = []
    stack: list[tuple[Any, str, Mapping | None]] = [(schema, "", None)]
    while stack:
        node, where, siblings = stack.pop()
        if isinstance(node, list):
            stack.extend((item, f"{where}/{i}", None) for i, item in enumerate(node))
            continue
        if not isinstance(node, dict):
            continue
        for key, value in node.items():
            here = f"{where}/{key}"
            if key.startswith("x-") and key not in ANNOTATIONS:
                out.extend(_keyword_problem(key, value, here, siblings, deadline_keys))
                continue
            if key in (
                "properties",
                "$defs",
                "definitions",
                "patternProperties",
                "dependentSchemas",
            ) and isinstance(value, dict):
                stack.extend(
                    (sub, f"{here}/{name}", value if key == "properties" else None)
                    for name, sub in value.items()
                )
            elif isinstance(value, (dict, list)) and key not in ("enum", "const", "examples", "default"):
                stack.append((value, here, None))
    return sorted((pointer.lstrip("/"), message) for pointer, message in out)


def _prefill_problem(value, where, siblings) -> list[tuple[str, str]]:
    shape = (
        'x-prefill names a case-data field ("children"), {"from": "<field>", "as": "<row field>"} or '
        '{"agency": "<field>"}'
    )
    if where == "/x-prefill":  # the whole form starts from one record
        ok = isinstance(value, list) and value and all(isinstance(v, str) and _IDENT.match(v) for v in value)
        return [] if ok else [(where, "x-prefill at the top of a form lists the records it may start from")]
    if isinstance(value, str):
        return [] if _IDENT.match(value) else [(where, shape)]
    if isinstance(value, dict) and set(value) == {"agency"}:  # the name of the agency a case field names
        return [] if isinstance(value["agency"], str) and _IDENT.match(value["agency"]) else [(where, shape)]
    if not isinstance(value, dict) or set(value) != {"from", "as"}:
        return [(where, shape)]
    if not all(isinstance(v, str) and _IDENT.match(v) for v in value.values()):
        return [(where, shape)]
    field = where.rsplit("/", 2)[-2]
    node = (siblings or {}).get(field) or {}
    row = (node.get("items") or {}) if node.get("type") == "array" else {}
    if value["as"] not in (row.get("properties") or {}):
        return [(where, f"x-prefill makes rows of {field!r}: its rows have no field {value['as']!r}")]
    return []


def _keyword_problem(key, value, where, siblings, deadline_keys) -> list[tuple[str, str]]:
    if key not in KEYWORDS:
        return [(where, f"unknown keyword {key!r}: the form keywords are {', '.join(KEYWORDS)}")]
    if key == "x-check-answers":  # the page asks the person to check their answers before they are sent
        if where != "/x-check-answers":
            return [(where, "x-check-answers belongs to the whole form, at its top level")]
        if not isinstance(value, bool):
            return [(where, f"x-check-answers must be true or false, not {value!r}")]
        return []
    if key == "x-new-each-time":  # each round of the step records something new (engine/services/prefill.py)
        if where != "/x-new-each-time":
            return [(where, "x-new-each-time belongs to the whole form, at its top level")]
        return (
            []
            if isinstance(value, bool)
            else [(where, f"x-new-each-time must be true or false, not {value!r}")]
        )
    if key == "x-prefill":  # where the answer was first given (engine/services/prefill.py)
        return _prefill_problem(value, where, siblings)
    source = value.get("source") if isinstance(value, dict) else None
    if isinstance(value, dict) and "source" in value and (not isinstance(source, str) or not source.strip()):
        return [(f"{where}/source", "source must be the paragraph it comes from, such as '003 §7.7'")]
    if key == "x-not-future":
        if not (isinstance(value, bool) or (isinstance(value, dict) and set(value) <= {"source"})):
            return [(where, 'x-not-future must be true, or {"source": "<paragraph>"}')]
        return []
    if key == "x-directory":
        return _directory_problem(value, where)
    if key == "x-equals-case":
        name = value.get("field") if isinstance(value, dict) else value
        if isinstance(value, dict) and set(value) - {"field", "source"}:
            return [(where, f"unknown setting(s): {', '.join(sorted(set(value) - {'field', 'source'}))}")]
        if not isinstance(name, str) or not _IDENT.match(name):
            return [(where, 'x-equals-case names a case-data field: a string such as "lcspr_decision"')]
        return []
    if not isinstance(value, dict):
        return [(where, f"{key} must be an object")]
    allowed = {
        "x-not-before": {"field", "working_days", "source"},
        "x-late-reason": {"deadline", "reason_field", "source"},
    }[key]
    if set(value) - allowed:
        return [(where, f"unknown setting(s): {', '.join(sorted(set(value) - allowed))}")]
    if key == "x-not-before":
        if not isinstance(value.get("field"), str) or not _IDENT.match(value["field"]):
            return [(f"{where}/field", "field must be a string naming the other date field")]
        n = value.get("working_days", 0)
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            return [(f"{where}/working_days", f"working_days must be a whole number of 0 or more, not {n!r}")]
        return []
    deadline, reason = value.get("deadline"), value.get("reason_field")
    if not isinstance(deadline, str) or not deadline:
        return [(f"{where}/deadline", 'deadline must be a string naming a deadline key, such as "R4"')]
    if deadline_keys is not None and deadline not in deadline_keys:
        return [(f"{where}/deadline", f"unknown deadline key {deadline!r}: no rule set defines it")]
    if not isinstance(reason, str) or not _IDENT.match(reason):
        return [(f"{where}/reason_field", "reason_field must be a string naming the field that says why")]
    if siblings is not None and reason not in siblings:
        return [(f"{where}/reason_field", f"the form has no field {reason!r} beside this date")]
    return []


def _directory_problem(value, where) -> list[tuple[str, str]]:
    if isinstance(value, dict) and set(value) - {"directory", "preselect", "source"}:
        unknown = ", ".join(sorted(set(value) - {"directory", "preselect", "source"}))
        return [(where, f"unknown setting(s): {unknown}")]
    if directory_of(value) not in DIRECTORIES:
        return [(where, f"x-directory names a directory: {', '.join(repr(d) for d in DIRECTORIES)}")]
    preselect = value.get("preselect") if isinstance(value, dict) else None
    if preselect is not None and (not isinstance(preselect, str) or not _IDENT.match(preselect)):
        return [(f"{where}/preselect", "preselect names the case-data field whose agencies are ticked first")]
    return []


#: the years a date in a case may fall in: deadlines are counted from them, on a calendar with limits
DATE_YEARS = range(1900, 2200)
_FORMATS = FormatChecker(())
_FORMATS.checkers = dict(Draft202012Validator.FORMAT_CHECKER.checkers)  # the draft's own, date replaced


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


_BY_IDENTITY: dict[int, tuple[dict, Draft202012Validator]] = {}


def _validator_of(schema: dict) -> Draft202012Validator:
    """The validator of ``schema``; found by the schema object itself when it was seen before (a deployed
    form is one object, kept with its version), since writing the schema out to find it took a third of a
    step's validation."""
    seen = _BY_IDENTITY.get(id(schema))
    if seen is not None and seen[0] is schema:
        return seen[1]
    validator = _validator(json.dumps(schema, sort_keys=True))
    if len(_BY_IDENTITY) >= 512:
        _BY_IDENTITY.clear()
    _BY_IDENTITY[id(schema)] = (schema, validator)  # the schema held, so its id is not reused meanwhile
    return validator


def _path(error) -> str:
    parts = [str(p) for p in error.absolute_path]
    if error.validator == "required":
        missing = re.findall(r"'([^']+)' is a required property", error.message)
        parts += missing[:1]
    if error.validator == "dependentRequired":  # "'b' is a dependency of 'a'": b is what is missing
        parts += re.findall(r"'([^']+)' is a dependency of", error.message)[:1]
    if error.validator == "additionalProperties":
        extra = re.findall(r"'([^']+)' was unexpected", error.message)
        parts += extra[:1]
    if error.validator == "x-late-reason" and parts:
        parts[-1] = error.validator_value["reason_field"]  # the reason is what is missing
    if _refused_field(error):
        parts.append(_refused_field(error))
    return "/".join(parts) or "(root)"


def _refused_field(error) -> str | None:
    """The field a ``"not": {"required": [field]}`` refuses (given where the other answers rule it out)."""
    value = error.validator_value if error.validator == "not" else None
    if isinstance(value, dict) and list(value) == ["required"] and len(value["required"]) == 1:
        return value["required"][0]
    return None


def validate(schema: dict | None, data) -> list[dict]:
    """Every problem with ``data``: ``[{"path": "children/0/date_of_birth", "message": ...}]``."""
    problems = check_keys(data)
    if problems or schema is None:
        return problems
    validator = _validator_of(schema)
    budget, submitted, root = _budget.set(patterns.Budget()), _submitted.set(data), _root.set(schema)
    try:
        errors = sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.absolute_path)))
    finally:
        _budget.reset(budget)
        _submitted.reset(submitted)
        _root.reset(root)
    for error in errors:
        limit = (
            error.validator_value
            if isinstance(error.validator_value, (int, float)) and not isinstance(error.validator_value, bool)
            else None
        )
        message = (
            "leave this out: it does not apply to the other answers"
            if _refused_field(error)
            else error.message
        )
        problem = {
            "path": _path(error),
            "message": message,
            "kind": error.validator,
            **({"limit": limit} if limit is not None else {}),
        }
        if getattr(error, "source", None):
            problem["source"] = error.source
        problems.append(problem)
    return problems


MAX_DATA_BYTES = 256 * 1024


def check_size(data) -> None:
    """A draft is not validated, but it is still case data: an object, and no bigger than 256 KiB."""
    from engine.services.errors import Invalid

    if not isinstance(data, dict):
        raise Invalid("data must be a JSON object", [{"path": "(root)", "message": "not an object"}])
    size = len(json.dumps(data, default=str))
    if size > MAX_DATA_BYTES:
        raise Invalid(
            "the form is too large",
            [{"path": "(root)", "message": f"{size:,} bytes; the limit is {MAX_DATA_BYTES:,}"}],
        )


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
            out.append(
                {
                    "path": str(key),
                    "message": "field names must be letters, digits and _ (max 64), starting with a letter",
                }
            )
        elif key in FUNCTIONS:
            out.append(
                {"path": key, "message": f"'{key}' is the name of an engine function and cannot be a field"}
            )
    return out
