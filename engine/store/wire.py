"""Statements written to PostgreSQL in one message and answered in one: a transaction's BEGIN, its
statements and its COMMIT, with libpq's pipeline (``psycopg.pq``) driven directly.

psycopg's own pipeline mode writes each statement to the socket as it is queued, then the Sync, then a flush
request: four or five writes for a BEGIN and one select, and each write wakes the server's process. Here
everything is queued in libpq's buffer and written once, with the Sync; the answers are read until the
Sync's. Measured side by side on loopback: 126 against 193 µs for a BEGIN and a command's first read.

Each statement (a BEGIN and a COMMIT too) is prepared on its connection the first time the connection sends
it (its Parse goes in the same message), and then only bound and run: PostgreSQL plans a command's first
read in about 100 µs.
psycopg's own automatic preparation is off on this service's connections (``make_engine``): at every
ROLLBACK psycopg deallocates every statement of its connection (``DEALLOCATE ALL``), these too.

Values are converted and rows loaded by psycopg's own adapters (its ``Transformer``), as its cursors do.
An error is psycopg's own exception for the server's error; the statements after it are not run (a COMMIT
among them neither), and the transaction is left as the error left it, for its owner to roll back."""

from __future__ import annotations

import functools
import itertools
import re
import select
import threading
import weakref
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field

from psycopg import errors, pq
from psycopg.adapt import PyFormat, Transformer

_TUPLES_OK = pq.ExecStatus.TUPLES_OK
_FATAL_ERROR = pq.ExecStatus.FATAL_ERROR
_PIPELINE_SYNC = pq.ExecStatus.PIPELINE_SYNC
_PIPELINE_OFF = pq.PipelineStatus.OFF
PREPARED_MAX = 256  # statements kept prepared on a connection; beyond, the least recently used is closed

# SQLAlchemy's pyformat (or psycopg's %s), read as psycopg reads it
_PLACEHOLDER = re.compile(rb"%%|%\((\w+)\)s|%s")


@dataclass(frozen=True)
class _Query:
    sql: bytes  # with $1, $2 ...
    names: tuple  # the value of each $n: its name, or its position among the values given


@functools.lru_cache(maxsize=512)
def _query(sql: str) -> _Query:
    """A statement in SQLAlchemy's ``%(name)s`` form (or psycopg's ``%s``) as PostgreSQL reads it: each
    placeholder a ``$n`` (a name used twice, the same one), ``%%`` a ``%``."""
    names: list = []

    def placeholder(match: re.Match) -> bytes:
        if match.group(0) == b"%%":
            return b"%"
        name = match.group(1).decode() if match.group(1) is not None else len(names)
        if name not in names:
            names.append(name)
        return b"$%d" % (names.index(name) + 1)

    return _Query(_PLACEHOLDER.sub(placeholder, sql.encode()), tuple(names))


@dataclass
class _Connection:
    """What this module keeps for one driver connection: its converter, and the statements prepared on it."""

    transformer: Transformer
    prepared: OrderedDict[tuple, bytes] = field(default_factory=OrderedDict)  # (sql, types) -> name, by use
    numbers: itertools.count = field(default_factory=lambda: itertools.count(1))


_KEPT: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_KEPT_LOCK = threading.Lock()


def _kept(dbapi_connection) -> _Connection:
    kept = _KEPT.get(dbapi_connection)
    if kept is None:
        with _KEPT_LOCK:
            kept = _KEPT.setdefault(dbapi_connection, _Connection(Transformer(dbapi_connection)))
    return kept


def exchange(
    dbapi_connection,
    statements: Sequence[tuple[str, dict]],
    begin: bytes | None = None,
    commit: bool = False,
) -> list[list[tuple]]:
    """Run ``statements`` (SQL in SQLAlchemy's pyformat, values already converted for the driver) on the
    psycopg connection, after ``begin`` (a BEGIN) and before a COMMIT if ``commit``: written at once,
    answered at once. The rows of each statement, in order."""
    tx = _kept(dbapi_connection).transformer
    rows = []
    for results in _exchange(dbapi_connection, statements, begin, commit, prepare=True):
        result = results[-1]
        if result.status == _TUPLES_OK:
            tx.set_pgresult(result)
            rows.append(tx.load_rows(0, result.ntuples, tuple))
        else:
            rows.append([])
    return rows


def results(dbapi_connection, sql: str, params, begin: bytes) -> list:
    """Run one statement of any kind after ``begin``, written and answered at once, not prepared (it can be
    any of SQLAlchemy's statements, which are many); psycopg's results for it, for a cursor to read."""
    return _exchange(dbapi_connection, [(sql, params)], begin, False, prepare=False)[0]


def _exchange(dbapi_connection, statements, begin, commit, prepare: bool) -> list[list]:
    kept = _kept(dbapi_connection)
    pgconn = dbapi_connection.pgconn
    converted = _converted(kept.transformer, statements)  # a value psycopg cannot convert: nothing sent
    with dbapi_connection.lock:
        if pgconn.pipeline_status != _PIPELINE_OFF:
            raise errors.ProgrammingError("the connection is already in pipeline mode")
        pgconn.enter_pipeline_mode()
        try:
            queued = _queue(pgconn, kept, converted, begin, commit, prepare)
            pgconn.pipeline_sync()
            _flush(pgconn)
            answers = _answers(pgconn)
        except BaseException:
            # stopped with answers unread (an interrupt, a lost connection): the connection cannot serve
            # another statement, and its transaction must not go on; closed, the pool opens a fresh one
            dbapi_connection.close()
            raise
        pgconn.exit_pipeline_mode()
    return _statements_results(dbapi_connection, kept, queued, answers)


def _converted(tx: Transformer, statements) -> list[tuple]:
    """Each statement as PostgreSQL reads it: its SQL with ``$n``, its values converted, their types and
    formats."""
    out = []
    for sql, params in statements:
        # psycopg sends a statement given no values as it is
        query = _Query(sql.encode(), ()) if params is None else _query(sql)
        values = tx.dump_sequence([params[name] for name in query.names], [PyFormat.AUTO] * len(query.names))
        out.append((query.sql, values, tx.types, tx.formats))
    return out


def _queue(pgconn, kept: _Connection, converted: list[tuple], begin, commit, prepare: bool) -> list:
    """Queue everything in libpq's buffer (nothing is written before the Sync); what each queued command
    is: None (a BEGIN, a COMMIT, a statement closed), ``(key, name)`` of a statement prepared, or the
    index of a statement."""
    queued: list = []
    preparing: dict[tuple, bytes] = {}  # prepared in this message

    def run(sql: bytes, values, types: tuple, formats, what) -> None:
        key = (sql, types)
        name = kept.prepared.get(key) or preparing.get(key)
        if name is None:
            name = preparing[key] = b"reviewflow_%d" % next(kept.numbers)
            pgconn.send_prepare(name, sql, param_types=types)
            queued.append((key, name))
        elif key in kept.prepared:
            kept.prepared.move_to_end(key)
        pgconn.send_query_prepared(name, values, param_formats=formats)
        queued.append(what)

    if begin is not None:
        run(begin, None, (), None, None)
    for index, (sql, values, types, formats) in enumerate(converted):
        if prepare:
            run(sql, values, types, formats, index)
        else:
            pgconn.send_query_params(sql, values, param_types=types, param_formats=formats)
            queued.append(index)
    if commit:
        run(b"COMMIT", None, (), None, None)
    while len(kept.prepared) + len(preparing) > PREPARED_MAX:
        pgconn.send_close_prepared(kept.prepared.popitem(last=False)[1])
        queued.append(None)
    return queued


def _flush(pgconn) -> None:
    """Write what libpq holds; on a full socket, wait until it can take more (reading what the server has
    answered meanwhile, so that neither side waits on the other)."""
    while pgconn.flush() == 1:
        ready = _wait(pgconn.socket, select.POLLIN | select.POLLOUT)
        if ready & select.POLLIN:
            pgconn.consume_input()


def _answers(pgconn) -> list[list]:
    """The results of each queued command, in order, up to the Sync's."""
    answers: list[list] = []
    current: list = []
    while True:
        while pgconn.is_busy():
            _wait(pgconn.socket, select.POLLIN)
            pgconn.consume_input()
        result = pgconn.get_result()
        if result is None:  # the end of one command's results
            answers.append(current)
            current = []
        elif result.status == _PIPELINE_SYNC:
            return answers
        else:
            current.append(result)


def _wait(fileno: int, events: int) -> int:
    """Block until the socket is ready for ``events`` (or in error); the events it is ready for."""
    poll = select.poll()
    poll.register(fileno, events | select.POLLERR)
    return poll.poll()[0][1]


def _statements_results(dbapi_connection, kept: _Connection, queued: list, answers: list[list]) -> list[list]:
    """Each statement's results; the first error raised, once every statement prepared before it is
    noted."""
    out: list[list] = []
    error = None
    for what, results in zip(queued, answers, strict=True):
        for result in results:
            if result.status == _FATAL_ERROR and error is None:
                error = errors.error_from_result(result, encoding=dbapi_connection.info.encoding)
        if error is not None:
            continue
        if isinstance(what, tuple):
            key, name = what
            kept.prepared[key] = name
        elif isinstance(what, int):
            out.append(results)
    if error is not None:
        raise error
    return out
