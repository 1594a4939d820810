"""Counting what a request costs the database (never timing it): the SQL statements SQLAlchemy sends, and on
PostgreSQL the round trips they take, read from the driver's own trace of what it sent and received: each
time the client waits for the server's answer, the server ends it with one ReadyForQuery message (a query,
a BEGIN or COMMIT of its own, a pooled connection's ping, or several statements sent together); and the
writes to the server that carried them, read from the kernel's own count of the data segments each
connection's socket sent (``TCP_INFO``): every write on a loopback connection is one segment, and each
wakes the server's process."""

from __future__ import annotations

import os
import socket
import struct
import tempfile

from sqlalchemy import event


class Statements:
    """Counts the statements sent to the database while it is active (on SQLite, a transaction's BEGIN is
    one of them) and, on PostgreSQL, the round trips of every connection checked out meanwhile."""

    def __init__(self, engine):
        self.engine, self.count, self.round_trips, self.writes, self.parsed = engine, 0, 0, 0, 0
        self._postgresql = engine.dialect.name == "postgresql"

    def _seen(self, *_args):
        self.count += 1

    def _checkout(self, dbapi_connection, _record, _proxy):
        from psycopg.pq import Trace

        fd = os.dup(self._trace.fileno())
        dbapi_connection.pgconn.trace(fd)
        dbapi_connection.pgconn.set_trace_flags(Trace.SUPPRESS_TIMESTAMPS | Trace.REGRESS_MODE)
        self._traced[id(dbapi_connection)] = (dbapi_connection, fd)
        self._segments[id(dbapi_connection)] = _segments_sent(dbapi_connection)

    def _checkin(self, dbapi_connection, _record):
        traced = self._traced.pop(id(dbapi_connection), None)
        if traced is not None:
            _untrace(*traced)
        self._count_writes(dbapi_connection)

    def _count_writes(self, dbapi_connection) -> None:
        before = self._segments.pop(id(dbapi_connection), None)
        if before is not None and not dbapi_connection.closed:
            self.writes += _segments_sent(dbapi_connection) - before

    def __enter__(self):
        self.count = self.round_trips = self.writes = self.parsed = 0
        event.listen(self.engine, "before_cursor_execute", self._seen)
        if self._postgresql:
            self._trace = tempfile.TemporaryFile("w+")
            self._traced: dict = {}
            self._segments: dict = {}
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
                self._count_writes(traced[0])
            self._trace.seek(0)
            for line in self._trace:
                fields = line.split("\t")
                if fields[0] == "B" and fields[2:3] == ["ReadyForQuery"]:
                    self.round_trips += 1
                elif fields[0] == "F" and fields[2:3] == ["Parse"]:  # a statement the server parses and plans
                    self.parsed += 1
            self._trace.close()


_TCP_DATA_SEGS_OUT = 156  # the offset of tcpi_data_segs_out in Linux's struct tcp_info (linux/tcp.h)


def _segments_sent(dbapi_connection) -> int:
    """How many data segments the connection's socket has sent (each write on loopback is one)."""
    with socket.fromfd(dbapi_connection.pgconn.socket, socket.AF_INET, socket.SOCK_STREAM) as sock:
        info = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 256)
    return struct.unpack_from("I", info, _TCP_DATA_SEGS_OUT)[0]


def _untrace(dbapi_connection, fd: int) -> None:
    if not dbapi_connection.closed:
        dbapi_connection.pgconn.untrace()  # writes out what the trace holds; leaves the file open
    os.close(fd)
