"""Health for load balancers and orchestrators: ``/healthz`` (alive: the process serves; no database)
and ``/readyz`` (ready: database, schema and worker, see :mod:`engine.services.health`).

Neither needs a sign-in, loads the person signed in, or says anything about a case; both answer
``Cache-Control: no-store``. A process serving with its own worker (``reviewflow serve`` without
``--no-worker``) is ready only when that worker beats.
"""

from __future__ import annotations

from flask import Blueprint, Flask, current_app, jsonify

bp = Blueprint("health", __name__)

WORKER = "reviewflow.worker"  # app.extensions: the name of the worker running in this process, if any


def _no_store(response):
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/healthz")
def alive():
    return _no_store(jsonify({"status": "alive"}))


@bp.get("/readyz")
def ready():
    service = current_app.extensions["reviewflow"]
    report = service.health.readiness(worker=current_app.extensions.get(WORKER))
    response = jsonify(report)
    response.status_code = 200 if report["status"] == "ready" else 503
    return _no_store(response)


def install(app: Flask) -> None:
    from web.ui.security import csrf

    csrf.exempt(bp)  # nothing to forge: neither endpoint changes anything
    app.register_blueprint(bp)


def own_worker(app: Flask, name: str) -> None:
    """This process runs the worker ``name``: readiness counts its heartbeats only."""
    app.extensions[WORKER] = name
