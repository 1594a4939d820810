"""The few statements sent on every step, given to psycopg directly on PostgreSQL.

A case step sends the same handful of statements every time: the task list, a command's batch of writes. On
PostgreSQL, SQLAlchemy's own execution of one of them (its compiled cache, its execution context, a result
built from the cursor's description, which psycopg rebuilds on every call) cost about as much as psycopg's
sending and reading it: 0.82 against 0.41 ms for a task list of one row. Here such a statement is compiled
once, its SQL and the conversions of its values and columns kept, and sent on the connection's own cursor.

What SQLAlchemy would do around a statement still happens: listeners of ``before_cursor_execute`` hear it
(the statement counts of the tests), and a driver error is raised as SQLAlchemy's ``DBAPIError``, with the
connection invalidated when it was lost, so callers and :func:`engine.store.db.unavailable` see what they
would. Queued writes (``engine.store.writes``) are not sent first: these are a lookup's only statement, or
the batch itself. On SQLite (no round trips, and its result conversions are SQLAlchemy's) a statement runs
through SQLAlchemy as any other."""

from __future__ import annotations

import functools
from collections import namedtuple
from dataclasses import dataclass

from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.attributes import instance_dict
from sqlalchemy.sql import Select


def send(connection: Connection, sql: str, params: dict) -> list[tuple]:
    """Run driver SQL (values already converted for the driver) on the connection; its rows, if any."""
    dbapi_connection = connection.connection.dbapi_connection
    with dbapi_connection.cursor() as cursor:
        connection.dispatch.before_cursor_execute(connection, cursor, sql, params, None, False)
        try:
            cursor.execute(sql, params)
            return cursor.fetchall() if cursor.description is not None else []
        except connection.dialect.loaded_dbapi.Error as exc:
            lost = connection.dialect.is_disconnect(exc, dbapi_connection, cursor)
            if lost:
                connection.invalidate(exc)
            raise DBAPIError.instance(
                sql,
                params,
                exc,
                connection.dialect.loaded_dbapi.Error,
                connection_invalidated=lost,
                dialect=connection.dialect,
            ) from exc


@dataclass(frozen=True)
class _Compiled:
    """A select as the driver runs it: its SQL once the lengths of its lists are known, the conversions of
    its values, and of its columns into a row with their names."""

    compiled: object
    processors: dict
    columns: tuple
    row: type

    def sql_and_params(self, given: dict) -> tuple[str, dict]:
        params = self.compiled.construct_params(given)
        if self.compiled.literal_execute_params or self.compiled.post_compile_params:
            expanded = self.compiled.construct_expanded_state(params)
            sql, params, processors = expanded.statement, dict(expanded.parameters), expanded.processors
        else:
            sql, processors = self.compiled.string, self.processors
        for name, processor in processors.items():
            if name in params:
                params[name] = processor(params[name])
        return sql, params


@functools.lru_cache(maxsize=64)
def _compiled(stmt: Select, dialect: Dialect) -> _Compiled:
    compiled = stmt.compile(dialect=dialect)
    columns = tuple(
        column.type.dialect_impl(dialect).result_processor(dialect, None) for column in stmt.selected_columns
    )
    processors = {
        name: processor
        for name, bind in compiled.binds.items()
        if (processor := bind.type.dialect_impl(dialect).bind_processor(dialect)) is not None
    }
    row = namedtuple("Row", stmt.selected_columns.keys())
    return _Compiled(compiled, processors, columns, row)


def select(connection: Connection, stmt: Select, params: dict) -> list:
    """The rows of ``stmt`` (a Core select, built once by the caller), each with its columns by name."""
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
