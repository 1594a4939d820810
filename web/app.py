"""The Flask application factory: the JSON API and the staff web app."""

from __future__ import annotations

from flask import Flask, jsonify, request
from werkzeug.exceptions import HTTPException

from engine.services import Reviewflow
from web import unavailable


def create_app(service: Reviewflow | None = None) -> Flask:
    app = unavailable.App(__name__)
    service = service or Reviewflow()
    app.extensions["reviewflow"] = service
    if service.settings.trusted_proxies:
        from werkzeug.middleware.proxy_fix import ProxyFix

        # behind N trusted proxies the client, scheme, host and port are the ones they forward (HSTS, Secure
        # cookies, external URLs); without the setting those headers are ignored, as anyone can send them
        hops = service.settings.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops)
    # a request carries a bundle of process files, or one document with its form around it
    limits = (service.settings.max_upload_bytes * 8, service.settings.max_document_bytes + 64 * 1024)
    app.config["MAX_CONTENT_LENGTH"] = max(limits)
    from web import request_log

    request_log.install(app, trust_proxy_id=bool(service.settings.trusted_proxies))

    from web.api import api

    app.register_blueprint(api, url_prefix="/api/v1")

    from web import ui
    from web.ui import security

    ui.register(app, service)

    from web import health

    health.install(app)

    from web import guard

    guard.install(app)
    unavailable.install(app)

    from engine.services.errors import ServiceError

    @app.errorhandler(ServiceError)
    def service_error(exc: ServiceError):
        """A refusal from the engine that a page did not handle itself: its status and message, never a
        500."""
        from werkzeug.exceptions import default_exceptions

        if request.path.startswith("/api/"):
            return guard.refusal(exc)
        return http_error(default_exceptions.get(exc.status, HTTPException)(exc.message))

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        if not request.path.startswith("/api/"):
            titles = {
                400: ("Something was wrong with the request", "Go back and try again."),
                403: ("You cannot see this page", "Your role does not give you access to it."),
                404: ("Page not found", "Check the address, or go to your tasks."),
                405: ("Page not found", "Check the address, or go to your tasks."),
                413: ("The file is too large", "Upload a smaller file."),
            }
            title, message = titles.get(exc.code, ("Sorry, there is a problem", exc.description or ""))
            if exc.code == 400 and "CSRF" in (exc.description or ""):
                title, message = (
                    "Your form could not be sent",
                    (
                        "It was missing its security token, or the page was "
                        "open too long. Go back, reload the page and try again."
                    ),
                )
            return ui.error_page(exc.code, title, message)
        codes = {
            400: "bad_request",
            401: "unauthorized",
            403: "forbidden",
            404: "not_found",
            405: "method_not_allowed",
            409: "conflict",
            413: "too_large",
            415: "unsupported_media_type",
            422: "validation_failed",
        }
        body = {"error": {"code": codes.get(exc.code, "error"), "message": exc.description, "details": None}}
        return jsonify(body), exc.code

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        response.headers.setdefault("Cache-Control", "no-store")
        if request.path.startswith("/api/"):
            response.headers.setdefault(
                "Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'"
            )
        else:
            response.headers.setdefault("Content-Security-Policy", security.content_security_policy())
            response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
            if request.is_secure:
                response.headers.setdefault(
                    "Strict-Transport-Security", "max-age=31536000; includeSubDomains"
                )
            if request.path.startswith("/static/"):
                response.headers["Cache-Control"] = "public, max-age=3600"
        return response

    return app
