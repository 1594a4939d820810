"""Statements given to psycopg directly on PostgreSQL, and a transaction's BEGIN and COMMIT sent with them.

The reads of every step (the task list and a command's first read): SQLAlchemy's own execution of such a
statement (its compiled cache, its execution context, a result built from the cursor's description, which
psycopg builds anew on every call) cost about as much as psycopg's sending and reading it: 0.82 against 0.41
ms for a task list of one row, and the ORM's loading of a command's first read as much again. Here such a
select is compiled once, its SQL and the conversions of its values and columns kept, and sent by
``engine.store.wire``; the rows of a command's first read are made into the session's objects directly
(:func:`as_loaded`), and a new case's row is inserted the same way (:func:`insert`).

Round trips: psycopg sends a transaction's BEGIN on its own and waits for the answer before the first
statement; a COMMIT too. Here the BEGIN goes with the transaction's first statement, whoever sends it
(:func:`begin_with_first_statement`), and a command's writes with its COMMIT when no answer to them is
awaited (:func:`send_and_commit`, from ``engine.store.writes``): a step is two round trips, not four, each
one write to the server (``engine.store.wire``), with the statements of every step prepared.

What SQLAlchemy would do around a statement still happens: listeners of ``before_cursor_execute`` hear it,
called as SQLAlchemy calls them (the statement counts of the tests, the connection killers of the chaos
suite), and a driver error goes through SQLAlchemy's own handling (raised as its ``DBAPIError``; a lost
connection invalidates the pool's older connections too), so callers, the pool and
:func:`engine.store.db.unavailable` see what they would. Queued writes (``engine.store.writes``) are not sent
first: each select here is a lookup's only statement or a transaction's first. On SQLite (no round trips,
and its result conversions are SQLAlchemy's) a select runs through SQLAlchemy as any other."""

from __future__ import annotations

import functools
from collections import namedtuple
from contextlib import contextmanager
from dataclasses import dataclass, field

from psycopg.adapt import Transformer
from sqlalchemy import event
from sqlalchemy.engine import Connection, Dialect, Engine
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.attributes import instance_dict
from sqlalchemy.sql import Insert, Select, bindparam
from sqlalchemy.sql import insert as insert_into

from engine.store import wire


def send(connection: Connection, sql: str, params: dict) -> list[tuple]:
    """Run a select's driver SQL, its values already converted for the driver, on the connection; its rows.
    A select that opens its transaction goes with the BEGIN, written and answered together."""
    with _sending(connection, [(sql, params)]) as dbapi_connection:
        return wire.exchange(dbapi_connection, [(sql, params)], begin=_begin(dbapi_connection))[0]


def send_all(connection: Connection, statements: list[tuple[str, dict]]) -> None:
    """Run statements (each its SQL and its values converted for the driver) whose rows are not wanted,
    written together and answered together, after the BEGIN if they open their transaction; if one fails,
    those after it are not run, and the error is raised as any statement's would be."""
    with _sending(connection, statements) as dbapi_connection:
        wire.exchange(dbapi_connection, statements, begin=_begin(dbapi_connection))


def send_and_commit(connection: Connection, statements: list[tuple[str, dict]]) -> None:
    """Run statements (each its SQL and its values converted for the driver) and then their transaction's
    COMMIT, written together and answered together: one round trip where there were two. For statements no
    answer is awaited from: if one fails, neither those after it nor the COMMIT is run, and the error is
    raised as any statement's would be. (The COMMIT SQLAlchemy then asks psycopg for finds the transaction
    ended and sends nothing.)"""
    with _sending(connection, statements) as dbapi_connection:
        wire.exchange(dbapi_connection, statements, begin=_begin(dbapi_connection), commit=True)


def _begin(dbapi_connection) -> bytes | None:
    """The BEGIN psycopg would send first (its isolation level and read-only setting), if the connection has
    no transaction open and is not in autocommit; psycopg's ``_get_tx_start_command`` is not public:
    tests/integration/test_driver.py holds what it gives."""
    return dbapi_connection._get_tx_start_command() if _opens_transaction(dbapi_connection) else None


@contextmanager
def _sending(connection: Connection, statements: list[tuple[str, dict]]):
    """The connection's driver connection and a cursor on it, each statement announced to the listeners of
    ``before_cursor_execute`` as SQLAlchemy would announce it, and a driver error handled as SQLAlchemy
    handles one: its handle_error listeners, the error wrapped, and on a lost connection this connection and
    every older one in the pool invalidated (a server restarted or connections terminated took them all)."""
    dbapi_connection = connection.connection.dbapi_connection
    cursor = _cursor(connection.connection.info, dbapi_connection)
    for sql, params in statements:
        connection.dispatch.before_cursor_execute(connection, cursor, sql, params, None, False)
    try:
        yield dbapi_connection
    except connection.dialect.loaded_dbapi.Error as exc:
        sql, params = statements[-1]
        connection._handle_dbapi_exception(exc, sql, params, cursor, None)  # the cursor closed, or lost
        raise  # not reached: the call above raises


_CURSOR = "reviewflow_driver_cursor"


def _cursor(info: dict, dbapi_connection):
    """One cursor a driver connection, kept with it, for what SQLAlchemy's listeners and its error handling
    are given with a statement (the statements here are sent by ``engine.store.wire``, not by a cursor)."""
    cursor = info.get(_CURSOR)
    if cursor is None or cursor.closed or cursor.connection is not dbapi_connection:
        cursor = info[_CURSOR] = dbapi_connection.cursor()
    return cursor


def begin_with_first_statement(engine: Engine) -> None:
    """Every transaction on ``engine`` (PostgreSQL) sends its BEGIN with its first statement, as
    :func:`send` does: one round trip where psycopg takes two. Not a server-side cursor's statement (an
    export streamed), whose rows psycopg fetches in parts."""

    @event.listens_for(engine, "do_execute")
    def _execute(cursor, statement, parameters, _context):
        return _first_with_begin(cursor, statement, parameters)

    @event.listens_for(engine, "do_execute_no_params")
    def _execute_no_params(cursor, statement, _context):
        return _first_with_begin(cursor, statement, None)


def _first_with_begin(cursor, statement: str, parameters) -> bool:
    """Whether the statement was run here (the first of its transaction, with the BEGIN). Its results are
    given to the cursor as psycopg's own execute gives them, with a converter of the cursor's own (its
    ``_tx`` and ``_set_results``, not public: tests/integration/test_driver.py holds that the cursor reads
    rows, row counts and errors as psycopg's own would give them)."""
    dbapi_connection = cursor.connection
    begin = _begin(dbapi_connection)
    if begin is None or isinstance(cursor, dbapi_connection.server_cursor_factory):
        return False  # SQLAlchemy runs it as any other
    results = wire.results(dbapi_connection, statement, parameters, begin)
    cursor._tx = Transformer(cursor)
    cursor._set_results(results)
    return True


def _opens_transaction(dbapi_connection) -> bool:
    return (
        not dbapi_connection.autocommit
        and dbapi_connection.info.transaction_status == dbapi_connection.info.transaction_status.IDLE
    )


@dataclass(frozen=True)
class _Compiled:
    """A select as the driver runs it: its SQL for each length of the lists it is given (an ``IN`` of one
    role or of three), with where each value comes from and how it is converted; and its columns' conversions
    and names."""

    compiled: object
    lists: tuple[str, ...]  # the names of its list values
    columns: tuple
    row: type
    # list lengths -> (sql, values written in it, values given); filled as lengths are first met
    forms: dict = field(default_factory=dict)

    def sql_and_params(self, given: dict) -> tuple[str, dict]:
        lengths = tuple(len(given[name]) for name in self.lists)
        form = self.forms.get(lengths)
        if form is None:
            form = self.forms[lengths] = self._form(given)
        sql, written, from_given = form
        params = dict(written)
        for name, source, index, processor in from_given:
            value = given[source] if index is None else given[source][index]
            params[name] = processor(value) if processor else value
        return sql, params

    def _form(self, given: dict) -> tuple[str, dict, list]:
        """The SQL for these list lengths; the values written in the statement, converted once; and for each
        other value, its name, where in ``given`` it comes from (a name, and a position in a list) and what
        converts it."""
        expanded = self.compiled.construct_expanded_state(self.compiled.construct_params(given))
        written, from_given = {}, []
        for name, value in expanded.parameters.items():
            processor = expanded.processors.get(name)  # an item of a list's
            if processor is None and name in self.compiled.binds:  # a value's own
                dialect = self.compiled.dialect
                processor = self.compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect)
            if name in given:
                from_given.append((name, name, None, processor))
            elif name in self.compiled.binds:
                written[name] = processor(value) if processor else value
            else:  # one item of a list: "roles_2" is the second of "roles"
                source, _, position = name.rpartition("_")
                from_given.append((name, source, int(position) - 1, processor))
        return expanded.statement, written, from_given


@functools.lru_cache(maxsize=64)
def _compiled(stmt: Select | Insert, dialect: Dialect) -> _Compiled:
    compiled = stmt.compile(dialect=dialect)
    columns = tuple(
        column.type.dialect_impl(dialect).result_processor(dialect, None) for column in stmt.exported_columns
    )
    lists = tuple(sorted({bind.key for bind in compiled.post_compile_params}))
    row = namedtuple("Row", stmt.exported_columns.keys())
    return _Compiled(compiled, lists, columns, row)


def select(connection: Connection, stmt: Select | Insert, params: dict) -> list:
    """The rows of ``stmt`` (a Core select, or an insert returning columns, built once by the caller), each
    with its columns by name."""
    if connection.dialect.name != "postgresql":
        return connection.execute(stmt, params).all()
    prepared = _compiled(stmt, connection.dialect)
    sql, values = prepared.sql_and_params(params)
    convert = prepared.columns
    make = prepared.row._make
    if not any(convert):
        return [make(r) for r in send(connection, sql, values)]
    return [
        make(v if f is None or v is None else f(v) for f, v in zip(convert, r, strict=True))
        for r in send(connection, sql, values)
    ]


@functools.lru_cache(maxsize=32)
def _attribute_keys(model) -> tuple[str, ...]:
    mapper = model.__mapper__
    return tuple(mapper.get_property_by_column(c).key for c in model.__table__.c)


def as_loaded(session: Session, model, values) -> object:
    """An object of ``model`` from its table's column values in order (as a :func:`select` of the table gives
    them), in ``session`` as if the ORM had read it: changes to it are tracked and written at commit. Cheaper
    than the ORM's own loading of a row for a command's first read."""
    obj = model.__mapper__.class_manager.new_instance()
    instance_dict(obj).update(zip(_attribute_keys(model), values, strict=True))
    make_transient_to_detached(obj)
    session.add(obj)
    return obj


def values_of(obj) -> tuple | None:
    """The column values of ``obj`` in its table's order, as :func:`as_loaded` takes them; None if any of
    them is not loaded."""
    given = instance_dict(obj)
    keys = _attribute_keys(type(obj))
    if any(key not in given for key in keys):
        return None
    return tuple(given[key] for key in keys)


def row_values(model, row: dict) -> tuple:
    """The values of a row of ``model``'s table given by column name (one added by an INSERT of its own), in
    the table's order, as :func:`as_loaded` takes them; a column not given is None."""
    return tuple(row.get(column.name) for column in model.__table__.c)


@functools.lru_cache(maxsize=32)
def _insert_statement(table, columns: tuple[str, ...]) -> Insert:
    values = {name: bindparam(name, type_=table.c[name].type) for name in columns}
    return insert_into(table).values(values).returning(*table.primary_key.columns)


def insert(session: Session, obj) -> None:
    """Insert ``obj``'s row now, in one statement that gives back the key the database chose, and keep the
    object in ``session`` as if the ORM had read it (as :func:`as_loaded`): its later changes are tracked
    and written at commit. A column the object leaves unset takes its model's default, else NULL; a
    versioned row starts at version 1. Cheaper than the ORM's flush of a new object (a fifth of starting a
    case)."""
    model = type(obj)
    mapper = model.__mapper__
    table = mapper.local_table
    given = instance_dict(obj)
    values = {}
    for column, key in zip(table.c, _attribute_keys(model), strict=True):
        if key in given:
            values[column.name] = given[key]
        elif column.primary_key:
            continue  # the database chooses it
        elif column is mapper.version_id_col:
            given[key] = values[column.name] = 1
        elif column.default is not None and column.default.is_scalar:
            given[key] = values[column.name] = column.default.arg
        elif column.default is not None and column.default.is_callable:
            given[key] = values[column.name] = column.default.arg(None)
        else:
            given[key] = values[column.name] = None
    [row] = select(session.connection(), _insert_statement(table, tuple(values)), values)
    for column, value in zip(table.primary_key.columns, row, strict=True):
        given[mapper.get_property_by_column(column).key] = value
    make_transient_to_detached(obj)
    session.add(obj)
