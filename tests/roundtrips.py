"""Counting what a request costs the database (never timing it): the SQL statements SQLAlchemy sends, and on
PostgreSQL the round trips they take, read from the driver's own trace of what it sent and received: each
time the client waits for the server's answer, the server ends it with one ReadyForQuery message (a query,
a BEGIN or COMMIT of its own, a pooled connection's ping, or several statements sent together)."""

from __future__ import annotations

import os
import tempfile

from sqlalchemy import event


class Statements:
    """Counts the statements sent to the database while it is active (on SQLite, a transaction's BEGIN is
    one of them) and, on PostgreSQL, the round trips of every connection checked out meanwhile."""

    def __init__(self, engine):
        self.engine, self.count, self.round_trips = engine, 0, 0
        self._postgresql = engine.dialect.name == "postgresql"

    def _seen(self, *_args):
        self.count += 1

    def _checkout(self, dbapi_connection, _record, _proxy):
        from psycopg.pq import Trace

        fd = os.dup(self._trace.fileno())
        dbapi_connection.pgconn.trace(fd)
        dbapi_connection.pgconn.set_trace_flags(Trace.SUPPRESS_TIMESTAMPS | Trace.REGRESS_MODE)
        self._traced[id(dbapi_connection)] = (dbapi_connection, fd)

    def _checkin(self, dbapi_connection, _record):
        traced = self._traced.pop(id(dbapi_connection), None)
        if traced is not None:
            _untrace(*traced)

    def __enter__(self):
        self.count = self.round_trips = 0
        event.listen(self.engine, "before_cursor_execute", self._seen)
        if self._postgresql:
            self._trace = tempfile.TemporaryFile("w+")
            self._traced: dict = {}
            event.listen(self.engine, "checkout", self._checkout, insert=True)  # before the idle ping
            event.listen(self.engine, "checkin", self._checkin)
        return self

    def __exit__(self, *exc):
        event.remove(self.engine, "before_cursor_execute", self._seen)
        if self._postgresql:
            event.remove(self.engine, "checkout", self._checkout)
            event.remove(self.engine, "checkin", self._checkin)
            for traced in self._traced.values():  # still checked out: counted up to now
                _untrace(*traced)
            self._trace.seek(0)
            self.round_trips = sum(
                1 for line in self._trace if line.split("\t")[:1] == ["B"] and "\tReadyForQuery\t" in line
            )
            self._trace.close()


def _untrace(dbapi_connection, fd: int) -> None:
    if not dbapi_connection.closed:
        dbapi_connection.pgconn.untrace()  # writes out what the trace holds; leaves the file open
    os.close(fd)
