"""The Flask application factory: the JSON API (and, as it grows, the staff web app)."""
from __future__ import annotations

from flask import Flask, jsonify
from werkzeug.exceptions import HTTPException

from engine.services import Reviewflow


def create_app(service: Reviewflow | None = None) -> Flask:
    app = Flask(__name__)
    service = service or Reviewflow()
    app.extensions["reviewflow"] = service
    app.config["MAX_CONTENT_LENGTH"] = service.settings.max_upload_bytes * 8
    app.json.sort_keys = False  # keep form fields in the order their authors wrote them

    from web.api import api

    app.register_blueprint(api, url_prefix="/api/v1")

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        codes = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
                 409: "conflict", 413: "too_large", 415: "unsupported_media_type", 422: "validation_failed"}
        body = {"error": {"code": codes.get(exc.code, "error"), "message": exc.description, "details": None}}
        return jsonify(body), exc.code

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        response.headers.setdefault("Cache-Control", "no-store")
        response.headers.setdefault("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
        return response

    return app
