"""Whether this installation can do its work: the database answers, its schema is the one this code
expects, and a worker is running the timers and the outbox (each of its loops records a heartbeat
after every pass). ``/readyz`` and ``reviewflow status`` both ask :meth:`Health.readiness`.

Heartbeats run on real time (the database's clock on PostgreSQL, as the outbox's leases do), never
on the product's clock, which tests and demos fix. Readiness reads no case data and says nothing
about any case.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging

from sqlalchemy import delete, select, text
from sqlalchemy.exc import SQLAlchemyError

from engine.logsafe import kind
from engine.services.core import Core
from engine.services.outbox import real_now, worker_name
from engine.store.db import MIGRATIONS, SCHEMA_REVISION, schema_revision
from engine.store.models import WorkerHeartbeat

log = logging.getLogger("reviewflow.health")

FORGET_AFTER = dt.timedelta(days=7)  # a worker silent this long is gone: its rows are dropped
CHECKS = ("database", "schema", "worker")


@functools.cache
def _migrations():
    """The migration scripts, loaded only when the database is not at this code's revision."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory(str(MIGRATIONS))


def this_host() -> str:
    """The host part of the names this host's workers take (``host:pid:random``)."""
    return worker_name().rsplit(":", 2)[0]


class Health:
    def __init__(self, core: Core):
        self.core = core

    def beat(self, worker: str, loop: str) -> None:
        """``loop`` of ``worker`` has just finished a pass (its own small transaction)."""
        with self.core.db.transaction() as session:
            now = real_now(session)
            row = session.get(WorkerHeartbeat, (worker, loop))
            if row is None:  # a worker's first beat: forget those long gone
                session.execute(delete(WorkerHeartbeat).where(WorkerHeartbeat.last_beat < now - FORGET_AFTER))
                session.add(WorkerHeartbeat(worker=worker, loop=loop, last_beat=now))
            else:
                row.last_beat = now

    def readiness(self, worker: str | None = None, host: str | None = None) -> dict:
        """``{"status": "ready" | "not ready", "checks": {"database", "schema", "worker"}}``, each check
        ``{"ok": bool, ...}``. Only the heartbeats of ``worker`` count when it is given (a process
        running its own worker), or of the workers on ``host``; otherwise any worker's."""
        checks: dict[str, dict] = {}
        try:
            with self.core.db.reading() as session:
                session.execute(text("SELECT 1"))
                checks["database"] = {"ok": True}
                checks["schema"] = self._schema(session)
                checks["worker"] = (
                    self._worker(session, worker, host)
                    if checks["schema"]["ok"]
                    else {"ok": False, "detail": "not checked: the schema is not current"}
                )
        except (SQLAlchemyError, OSError) as exc:  # a health check reports the failure, never raises it
            failed = next((name for name in CHECKS if name not in checks), "closing")
            log.info("readiness: the database failed during the %s check: %s", failed, kind(exc))
            if failed == "database":
                checks["database"] = {"ok": False, "detail": "unreachable"}
            for name in CHECKS:
                checks.setdefault(
                    name,
                    {
                        "ok": False,
                        "detail": "could not be read"
                        if name == failed
                        else "not checked: the database is unreachable"
                        if failed == "database"
                        else f"not checked: the {failed} could not be read",
                    },
                )
        ready = all(check["ok"] for check in checks.values())
        return {"status": "ready" if ready else "not ready", "checks": checks}

    def _schema(self, session) -> dict:
        current = schema_revision(session.connection())
        head = SCHEMA_REVISION
        if current == head:
            return {"ok": True, "revision": current}
        if current is None:
            detail = f"the database has no schema yet (this code expects {head})"
        elif _known(current):
            detail = f"the database is at {current}, behind this code's {head}"
        else:
            detail = f"the database is at {current}, which this code does not know (it expects {head})"
        return {"ok": False, "revision": current, "expected": head, "detail": detail}

    def _worker(self, session, worker: str | None, host: str | None) -> dict:
        stmt = select(WorkerHeartbeat.last_beat).order_by(WorkerHeartbeat.last_beat.desc()).limit(1)
        if worker:
            stmt, nobody = (
                stmt.where(WorkerHeartbeat.worker == worker),
                "the worker in this process has not reported",
            )
        elif host:
            stmt = stmt.where(WorkerHeartbeat.worker.startswith(f"{host}:", autoescape=True))
            nobody = "no worker on this host has reported"
        else:
            nobody = "no worker has reported"
        last = session.scalar(stmt)
        if last is None:
            return {"ok": False, "detail": nobody}
        age = max((real_now(session) - last).total_seconds(), 0.0)
        limit = self.core.settings.heartbeat_max_age_seconds
        if age <= limit:
            return {"ok": True, "detail": f"last beat {age:.0f} s ago"}
        return {"ok": False, "detail": f"no beat for {age:.0f} s (the limit is {limit:.0f} s)"}


def _known(revision: str) -> bool:
    from alembic.util import CommandError

    try:
        return _migrations().get_revision(revision) is not None
    except CommandError:
        return False
