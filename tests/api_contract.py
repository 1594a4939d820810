"""Every answer an API test receives, checked against what ``/api/v1/openapi.json`` declares for its
operation: the status is one the operation lists, the content type one it lists for that status, and a
JSON body validates against the schema (the response models, web/api_models.py)."""

from __future__ import annotations

import re
from collections import defaultdict
from functools import cache
from urllib.parse import urlsplit

from jsonschema import Draft202012Validator, FormatChecker

from web.openapi import document

PREFIX = "/api/v1"


def template_pattern(template: str) -> re.Pattern:
    """``/tasks/{id}/claim`` as a pattern matching ``/tasks/abc/claim``."""
    return re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$")


class Contract:
    def __init__(self, doc: dict | None = None):
        self.doc = doc or document()
        self.templates = [(template_pattern(t), t) for t in self.doc["paths"]]
        self.seen: dict[str, set[int]] = defaultdict(set)  # operationId -> statuses checked

    def operation(self, method: str, url: str) -> tuple[str, dict] | None:
        """The described path and operation a request goes to; None for an address the API does not have."""
        path = urlsplit(url).path
        path = path[len(PREFIX) :] if path.startswith(PREFIX) else path
        matches = sorted((t.count("{"), t) for pattern, t in self.templates if pattern.match(path))
        if not matches:
            return None
        template = matches[0][1]
        op = self.doc["paths"][template].get(method.lower())
        return (template, op) if op is not None else None

    def check(self, method: str, url: str, response) -> None:
        found = self.operation(method, url)
        if found is None:  # no such route (404) or method (405): Flask's answer, not an operation's
            return
        template, op = found
        where = f"{method} {template} ({op['operationId']}) answered {response.status_code}"
        declared = op["responses"].get(str(response.status_code))
        assert declared is not None, f"{where}, a status it does not declare"
        assert response.mimetype in declared["content"], f"{where} as {response.mimetype}, not declared"
        if response.mimetype == "application/json":
            schema = {
                **declared["content"]["application/json"]["schema"],
                "components": self.doc["components"],
            }
            validator = Draft202012Validator(schema, format_checker=FormatChecker())
            problems = sorted(validator.iter_errors(response.get_json()), key=lambda e: list(e.absolute_path))
            assert not problems, f"{where}: " + "; ".join(
                f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}" for e in problems[:5]
            )
        self.seen[op["operationId"]].add(response.status_code)


@cache
def contract() -> Contract:
    """One contract shared by the tests that only check answers: the document is generated once."""
    return Contract()
