"""Counting what a request costs the database (never timing it): the SQL statements SQLAlchemy sends, and on
PostgreSQL the round trips they take, a transaction's BEGIN and COMMIT or ROLLBACK included (the driver sends
each as a query of its own) and a pooled connection's ping."""

from __future__ import annotations

from sqlalchemy import event


class Statements:
    """Counts the statements sent to the database while it is active (on SQLite, a transaction's BEGIN is
    one of them)."""

    def __init__(self, engine):
        self.engine, self.count, self.round_trips = engine, 0, 0
        self._pings = 0

    def _seen(self, conn, *args):
        self.count += 1
        self.round_trips += 1
        if conn.get_execution_options().get("isolation_level") != "AUTOCOMMIT" and not conn.info.get(
            "rf_open"
        ):
            conn.info["rf_open"] = True  # the driver sends BEGIN before the transaction's first statement
            self.round_trips += 1

    def _ended(self, conn):
        if conn.info.pop("rf_open", False):  # COMMIT or ROLLBACK of a transaction that ran a statement
            self.round_trips += 1

    def _ping(self, dbapi_connection):
        self.round_trips += 3  # BEGIN, SELECT 1, ROLLBACK
        return self._do_ping(dbapi_connection)

    def __enter__(self):
        self.count = self.round_trips = 0
        event.listen(self.engine, "before_cursor_execute", self._seen)
        if self.engine.dialect.name == "postgresql":
            event.listen(self.engine, "commit", self._ended)
            event.listen(self.engine, "rollback", self._ended)
            self._do_ping = self.engine.dialect.do_ping
            self.engine.dialect.do_ping = self._ping
        return self

    def __exit__(self, *exc):
        event.remove(self.engine, "before_cursor_execute", self._seen)
        if self.engine.dialect.name == "postgresql":
            event.remove(self.engine, "commit", self._ended)
            event.remove(self.engine, "rollback", self._ended)
            self.engine.dialect.do_ping = self._do_ping
