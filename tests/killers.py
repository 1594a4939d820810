"""Killing a pooled connection's PostgreSQL server process at a chosen statement, from a second connection:
what a restarted server, a failover or an administrator's pg_terminate_backend does to a request."""

from __future__ import annotations

import re

import psycopg
from sqlalchemy import event

from tests.conftest import POSTGRES_URL


class Killer:
    """Terminates the server process of a connection just before it sends a statement matching ``pattern``,
    ``times`` times; counts what it killed."""

    def __init__(self, service, pattern: str, times: int = 1):
        self.engine, self.pattern, self.left, self.killed = (
            service.db.engine,
            re.compile(pattern, re.I | re.S),
            times,
            0,
        )
        event.listen(self.engine, "before_cursor_execute", self)

    def __call__(self, conn, cursor, statement, parameters, context, executemany):
        if self.left and self.pattern.search(statement):
            self.left -= 1
            pid = conn.connection.dbapi_connection.info.backend_pid
            with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
                assert admin.execute("SELECT pg_terminate_backend(%s, 5000)", (pid,)).fetchone()[0]
            self.killed += 1

    def remove(self):
        event.remove(self.engine, "before_cursor_execute", self)
