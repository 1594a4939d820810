"""One log line per request: what was asked (method, route, path without its query string, which can hold
a search for a child's name), by whom, the status and how long it took; and a request id, taken from a
trusted proxy's ``X-Request-Id`` or made here, returned in the response so a person reporting a problem
can quote it."""

from __future__ import annotations

import logging
import re
import time
import uuid

from flask import Flask, g, request

log = logging.getLogger("reviewflow.request")

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


def install(app: Flask, trust_proxy_id: bool) -> None:
    @app.before_request
    def start_clock() -> None:
        g.request_started = time.perf_counter()
        given = request.headers.get("X-Request-Id", "") if trust_proxy_id else ""
        g.request_id = given if _REQUEST_ID.match(given) else uuid.uuid4().hex

    @app.after_request
    def log_request(response):
        started = g.get("request_started")
        actor = g.get("actor")
        log.info(
            "%s %s %s",
            request.method,
            request.path,
            response.status_code,
            extra={
                "request_id": g.get("request_id"),
                "method": request.method,
                "route": request.url_rule.rule if request.url_rule else None,
                "path": request.path,
                "status": response.status_code,
                "actor": actor.username if actor is not None else None,
                "duration_ms": round(1000 * (time.perf_counter() - started), 1) if started else None,
            },
        )
        if g.get("request_id"):
            response.headers["X-Request-Id"] = g.request_id
        return response
