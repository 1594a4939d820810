"""Untrusted values checked at the door, before they reach a workflow, a query or a column.

Everything a person or a client sends (JSON bodies, form fields, query parameters, addresses, command
arguments) may hold what no database, spreadsheet, e-mail header or calendar can take: NUL bytes and
other control characters, lone UTF-16 surrogates (which cannot be encoded), NaN and infinities (which
are not JSON), nesting deep enough to exhaust the stack, or text longer than the column it lands in.
PostgreSQL refuses some of these with an error and SQLite stores them; either way they are refused
here, each problem naming where it is (``{"path": "data/children/0/name", "message": ...}``).

Pure: no database, no Flask. The web app's request guard (``web/guard.py``) and the service layer
both call it.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from engine.services.errors import BadRequest, Invalid

#: Deeper than any form needs (a form's rows of objects are 3 or 4 levels), far below the stack's limit.
MAX_DEPTH = 32

#: Column lengths (engine/store/models.py) of values a client names directly.
LIMITS = {
    "case_reference": 120,  # instance.business_key
    "business_key": 120,  # instance.business_key
    "regime": 32,  # instance.regime
    "ruleset": 64,  # ruleset_version.name
    "message_name": 255,  # message_wait.name
    "process_id": 120,  # process_version.process_id
    "decision_id": 120,  # decision_version.decision_id
    "task_id": 64,  # human_task.id (a UUID), task_draft.task_id
    "username": 120,  # app_user.username
    "note": 255,  # calendar_override.note
    "reason": 1000,  # kept in the audit log
}

#: Query parameters and address segments: nothing here is ever longer.
MAX_PARAMETER = 1000

# NUL and the C0 controls other than tab, line feed and carriage return; DEL.
_CONTROL_IN_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# A one-line value (a name, a reference, a filter): no control character at all, no C1 control, and
# none of the characters some programs take as a line break.
_CONTROL_IN_LINE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_ANY_PROBLEM_IN_LINE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")
_ANY_PROBLEM_IN_TEXT = re.compile(
    r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]"
)  # one search, the common case


def text_problem(value: str, single_line: bool = False, max_length: int | None = None) -> str | None:
    """What is wrong with one piece of text, or None."""
    if _SURROGATE.search(value):
        return "contains an unpaired surrogate (text that is not valid Unicode)"
    found = (_CONTROL_IN_LINE if single_line else _CONTROL_IN_TEXT).search(value)
    if found:
        return f"contains a control character (U+{ord(found.group()):04X})"
    if max_length is not None and len(value) > max_length:
        return f"is {len(value):,} characters long; the limit is {max_length:,}"
    return None


def value_problems(value: Any, path: str = "", max_depth: int = MAX_DEPTH) -> list[dict]:
    """Every problem in a JSON-like value: depth, keys, text, numbers. Walks without recursion, so a
    value nested deeper than the stack allows is still answered, not crashed on. A path is spelled out
    only where there is a problem (``data/children/0/name``)."""
    problems: list[dict] = []

    def where(at) -> str:
        parts = []
        while at is not None:
            at, key = at
            parts.append(str(key))
        return "/".join(reversed(parts)) or "(root)"

    stack = [(value, (None, path) if path else None, 0)]
    while stack and len(problems) < 20:
        item, at, depth = stack.pop()
        if isinstance(item, str):
            if _ANY_PROBLEM_IN_TEXT.search(item):
                problems.append({"path": _printable(where(at)), "message": text_problem(item)})
        elif item is None or isinstance(item, (bool, int)):
            continue
        elif isinstance(item, float):
            if not math.isfinite(item):
                problems.append(
                    {"path": _printable(where(at)), "message": "is not a finite number (NaN or infinity)"}
                )
        elif depth >= max_depth and isinstance(item, (dict, list, tuple)):
            problems.append(
                {"path": _printable(where(at)), "message": f"nested more than {max_depth} levels deep"}
            )
        elif isinstance(item, dict):
            for key, sub in reversed(list(item.items())):
                if not isinstance(key, str):
                    problems.append(
                        {"path": _printable(where((at, key))), "message": "field names must be text"}
                    )
                    continue
                reason = (
                    text_problem(key, single_line=True, max_length=255)
                    if (len(key) > 255 or _ANY_PROBLEM_IN_LINE.search(key))
                    else None
                )
                if reason:
                    problems.append(
                        {"path": _printable(where((at, key))), "message": f"the field name {reason}"}
                    )
                    continue
                stack.append((sub, (at, key), depth + 1))
        elif isinstance(item, (list, tuple)):
            for index in range(len(item) - 1, -1, -1):
                stack.append((item[index], (at, index), depth + 1))
        else:
            problems.append(
                {"path": _printable(where(at)), "message": f"a {type(item).__name__} is not a JSON value"}
            )
    return problems


def _printable(path: str) -> str:
    """A path safe to show back: control characters and surrogates written as escapes."""
    return "".join(c if c.isprintable() and not _SURROGATE.match(c) else f"\\u{ord(c):04x}" for c in path)


def check_value(value: Any, path: str = "data") -> None:
    """Raise :class:`Invalid` (422) listing every problem in ``value``."""
    problems = value_problems(value, path)
    if problems:
        raise Invalid(f"{_printable(problems[0]['path'])} {problems[0]['message']}", problems)


def check_text(
    value: Any, path: str, limit: str | int | None = None, single_line: bool = True, required: bool = False
) -> None:
    """One named value that lands in a column: text, one line, no longer than the column."""
    if value is None or value == "":
        if required:
            raise Invalid(f"'{path}' is required", [{"path": path, "message": "required"}])
        return
    if not isinstance(value, str):
        raise Invalid(f"'{path}' must be text", [{"path": path, "message": "must be a string"}])
    max_length = LIMITS.get(limit or path) if not isinstance(limit, int) else limit
    reason = text_problem(value, single_line=single_line, max_length=max_length)
    if reason:
        raise Invalid(f"'{path}' {reason}", [{"path": path, "message": reason}])


def check_start(data: Any) -> None:
    """Data that starts a case: a clean value, and the fields that become columns fit them."""
    check_value(data, "data")
    if isinstance(data, dict):
        for key in ("case_reference", "regime", "ruleset"):
            check_text(data.get(key), key)


def check_message(name: Any, data: Any, business_key: Any = None) -> None:
    """A message to a case: its name and the case reference are one-line text within their columns."""
    check_text(name, "name", "message_name")
    check_text(business_key, "business_key")
    check_value(data, "data")


def check_task(task_id: Any, data: Any) -> None:
    """A task's answers: the task id is an id, the answers a clean value."""
    check_text(task_id, "task_id")
    check_value(data, "data")


# --- JSON text ----------------------------------------------------------------------------------


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not a JSON number")


def loads(text: str | bytes, max_depth: int = MAX_DEPTH) -> Any:
    """Strict JSON: no NaN or Infinity, no number too large for a float, no nesting deeper than
    ``max_depth``, no control character or lone surrogate in any text. Raises :class:`BadRequest`
    when it is not JSON at all and :class:`Invalid` when it is JSON that cannot be accepted."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise BadRequest(
                "the body is not UTF-8 text", [{"path": "(body)", "message": str(exc)}]
            ) from None
    try:
        value = json.loads(text, parse_constant=_refuse_constant)  # 1e400 (infinite) is caught below
    except RecursionError:
        raise BadRequest(
            f"the JSON is nested more than {max_depth} levels deep",
            [{"path": "(body)", "message": f"nested more than {max_depth} levels deep"}],
        ) from None
    except ValueError as exc:
        message = str(exc)
        raise BadRequest(
            f"the body is not valid JSON: {message}", [{"path": "(body)", "message": message}]
        ) from None
    problems = value_problems(value, "", max_depth)
    if problems:
        status = BadRequest if any("levels deep" in p["message"] for p in problems) else Invalid
        raise status(f"{_printable(problems[0]['path'])} {problems[0]['message']}", problems)
    return value
