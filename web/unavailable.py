"""When the database, not the request, fails: a lost connection (a restarted server, a killed backend,
a network cut), a refused connection or a pool with no free connection.

A request that only reads is tried once more on a fresh connection, which usually succeeds at once.
Anything else answers 503 with ``Retry-After`` and says so (API JSON, or a GOV.UK page): a command
whose connection died before it committed changed nothing, and the client may send it again. Never a
500, which would say the request itself was wrong.
"""

from __future__ import annotations

import logging

from flask import Flask, g, jsonify, request

from engine.store.db import unavailable

log = logging.getLogger("reviewflow.web")

READS = ("GET", "HEAD", "OPTIONS")
RETRY_AFTER_SECONDS = 5


class App(Flask):
    """Flask, with a read whose database connection was lost tried once more before any error page."""

    def handle_user_exception(self, e):
        if unavailable(e) and request.method in READS and not g.get("database_retried"):
            g.database_retried = True
            log.warning(
                "database unavailable during %s %s (%s); trying once more",
                request.method,
                request.path,
                type(e).__name__,
            )
            try:
                response = self.preprocess_request()
                if response is None:
                    response = self.dispatch_request()
                return response
            except Exception as again:
                return super().handle_user_exception(again)
        return super().handle_user_exception(e)


def install(app: Flask) -> None:
    from sqlalchemy import exc as sa_exc

    def database_unavailable(exc):
        if not unavailable(exc):
            raise exc
        log.warning("database unavailable during %s %s: %s", request.method, request.path, type(exc).__name__)
        message = (
            "The database could not be reached while handling this request, so it was not completed. "
            "Try again in a few seconds."
        )
        if request.path.startswith("/api/"):
            response = jsonify({"error": {"code": "unavailable", "message": message, "details": None}})
            response.status_code = 503
        else:
            from web import ui

            body, status = ui.error_page(503, "Sorry, the service is unavailable", message)
            response = app.make_response((body, status))
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response

    for kind in (sa_exc.DBAPIError, sa_exc.DisconnectionError, sa_exc.TimeoutError):
        app.register_error_handler(kind, database_unavailable)
