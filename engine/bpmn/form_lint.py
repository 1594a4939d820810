"""A form file is valid JSON Schema that the server can hold safely: an object schema, self-contained (no
``$ref`` a validator might fetch), no pattern that backtracks catastrophically, the form keywords used
rightly, and every deadline its ``x-late-reason`` names defined by a rule set."""

from __future__ import annotations

import json

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from engine import patterns
from engine.bpmn.files import shown_name
from engine.bpmn.problems import Problem
from engine.services import forms as form_keywords


def load(name: str, data: bytes, problems: list[Problem]) -> dict | None:
    """The form's schema (a UI schema: any JSON object), or None with the reasons added to ``problems``."""
    try:
        schema = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        where = f"line {exc.lineno}" if hasattr(exc, "lineno") else ""
        problems.append(Problem(name, where, f"not valid JSON: {getattr(exc, 'msg', exc)}"))
        return None
    if not isinstance(schema, dict):
        problems.append(Problem(name, "", "a form must be a JSON object"))
        return None
    if not name.endswith(".ui.json"):
        try:
            Draft202012Validator.check_schema(schema)
        except SchemaError as exc:
            path = "/".join(str(p) for p in exc.path) or "(root)"
            problems.append(Problem(name, path, f"not a valid JSON Schema: {exc.message}"))
            return None
        if schema.get("type") != "object":
            problems.append(Problem(name, "(root)", 'a form schema must have "type": "object"'))
            return None
        found = _lint_schema(name, schema) + [
            Problem(name, pointer, message) for pointer, message in form_keywords.keyword_problems(schema)
        ]
        if found:
            problems.extend(found)
            return None
    return schema


def lint_deadlines(forms: dict[str, dict], rulesets: dict, problems: list[Problem]) -> None:
    """A form's ``x-late-reason`` names a deadline some rule set defines (a misspelt key would never ask)."""
    keys = {k for rs in rulesets.values() for k in rs.rules}
    for name, schema in sorted(forms.items()):
        if not name.endswith(".ui.json"):
            problems.extend(
                Problem(name, pointer, message)
                for pointer, message in form_keywords.keyword_problems(schema, keys)
                if "unknown deadline key" in message
            )


# keywords whose value is a schema, a list of schemas, or an object of schemas (JSON Schema 2020-12)
_ONE_SCHEMA = (
    "additionalProperties",
    "items",
    "contains",
    "not",
    "if",
    "then",
    "else",
    "propertyNames",
    "unevaluatedProperties",
    "unevaluatedItems",
    "additionalItems",
)
_SCHEMA_LISTS = ("allOf", "anyOf", "oneOf", "prefixItems")
_SCHEMA_MAPS = ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas")
_REFS = ("$ref", "$dynamicRef", "$recursiveRef")


def _subschemas(schema: dict, path: str = ""):
    """Every schema inside ``schema`` with its path, ``schema`` first (without recursion)."""
    stack = [(schema, path)]
    while stack:
        node, where = stack.pop()
        if not isinstance(node, dict):
            continue
        yield node, where or "(root)"
        for key in _ONE_SCHEMA:
            if isinstance(node.get(key), dict):
                stack.append((node[key], f"{where}/{key}" if where else key))
        for key in _SCHEMA_LISTS:
            if isinstance(node.get(key), list):
                stack.extend(
                    (sub, f"{where}/{key}/{i}" if where else f"{key}/{i}") for i, sub in enumerate(node[key])
                )
        for key in _SCHEMA_MAPS:
            if isinstance(node.get(key), dict):
                stack.extend(
                    (sub, f"{where}/{key}/{k}" if where else f"{key}/{k}") for k, sub in node[key].items()
                )


def _lint_schema(name: str, schema: dict) -> list[Problem]:
    """What the JSON Schema check does not refuse but the server must: a ``$ref`` to anything outside
    the form (a URL or another file, which a validator might fetch), and patterns that can backtrack
    catastrophically."""
    problems = []
    for node, where in _subschemas(schema):
        for key in _REFS:
            ref = node.get(key)
            if isinstance(ref, str) and not ref.startswith("#"):
                problems.append(
                    Problem(
                        name,
                        f"{where}/{key}",
                        f"'{shown_name(ref)}' refers outside the form; "
                        "a form is self-contained: use a local reference such as '#/$defs/date'",
                    )
                )
        pattern = node.get("pattern")
        if isinstance(pattern, str):
            reason = patterns.problem(pattern)
            if reason:
                problems.append(Problem(name, f"{where}/pattern", reason))
        for key in (
            node.get("patternProperties", {}) if isinstance(node.get("patternProperties"), dict) else {}
        ):
            reason = patterns.problem(key)
            if reason:
                problems.append(Problem(name, f"{where}/patternProperties", reason))
    return problems
