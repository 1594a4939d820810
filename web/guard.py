"""The request guard: before any view runs, every part of a request a client wrote is checked by
:mod:`engine.inputs` — address segments, query parameters, form fields and JSON bodies — so that no NUL
byte, control character, lone surrogate, NaN or absurd nesting ever reaches a query or a workflow.

A refused request gets 400 (not JSON, or nested too deeply) or 422 (JSON that cannot be accepted),
saying where: ``{"error": {"code", "message", "details": [{"path", "message"}]}}`` for the API, the
GOV.UK error page for the staff pages.
"""

from __future__ import annotations

from flask import Flask, jsonify, request
from flask.json.provider import DefaultJSONProvider

from engine import inputs
from engine.services.errors import BadRequest, Invalid, ServiceError


class StrictJSONProvider(DefaultJSONProvider):
    """``request.get_json()`` everywhere parses strictly (no NaN, no Infinity, bounded depth); answers keep
    their keys in the order they were built (a form's fields in the order its authors wrote them)."""

    sort_keys = False

    def loads(self, s, **kwargs):
        try:
            return inputs.loads(s)
        except ServiceError as exc:
            raise ValueError(exc.message) from None


def _problems() -> ServiceError | None:
    for name, value in (request.view_args or {}).items():
        if isinstance(value, str):
            reason = inputs.text_problem(value, single_line=True, max_length=inputs.MAX_PARAMETER)
            if reason:
                return BadRequest(f"the address part '{name}' {reason}", [{"path": name, "message": reason}])
    for name, value in request.args.items(multi=True):
        reason = inputs.text_problem(name, single_line=True, max_length=100) or inputs.text_problem(
            value, single_line=True, max_length=inputs.MAX_PARAMETER
        )
        if reason:
            return BadRequest(
                f"the parameter '{_shown(name)}' {reason}", [{"path": _shown(name), "message": reason}]
            )
    if request.method in ("POST", "PUT", "PATCH"):
        if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
            for name, value in request.form.items(multi=True):
                reason = inputs.text_problem(name, single_line=True, max_length=255) or inputs.text_problem(
                    value
                )
                if reason:
                    return Invalid(
                        f"the field '{_shown(name)}' {reason}", [{"path": _shown(name), "message": reason}]
                    )
        elif request.is_json and request.content_length != 0:
            try:
                value = inputs.loads(request.get_data(cache=True))
            except ServiceError as exc:
                return exc
            request._cached_json = (value, value)  # parsed once, strictly: what every view reads
    return None


def _shown(name: str) -> str:
    return "".join(c if c.isprintable() else f"\\u{ord(c):04x}" for c in name)[:100]


def refusal(exc: ServiceError):
    """The answer to a refused request: JSON for the API, the GOV.UK error page for people."""
    if request.path.startswith("/api/"):
        body = {"error": {"code": exc.code, "message": exc.message, "details": exc.details}}
        return jsonify(body), exc.status
    from web import ui

    where = "; ".join(f"{p['path']} {p['message']}" for p in (exc.details or [])[:3]) or exc.message
    return ui.error_page(
        exc.status,
        "Something was wrong with the request",
        f"It could not be accepted: {where}. Go back, correct it and try again.",
    )


def install(app: Flask) -> None:
    app.json = StrictJSONProvider(app)

    @app.before_request
    def guard_request():
        problem = _problems()
        if problem is not None:
            return refusal(problem)
        return None

    # the guard runs before everything else (CSRF checks, loading who is signed in)
    app.before_request_funcs[None].insert(0, app.before_request_funcs[None].pop())
