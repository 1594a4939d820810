"""Writes a command needs no answer from, sent together.

A step writes its audit row, its new tasks, its case's step rows, the tasks it closed and the case row. Sent
one by one, each is a round trip to PostgreSQL, and most of a step's time was spent waiting on them. Here they
are queued on the transaction (:func:`later`, and the case and task rows the command changed, at commit) and
sent when the transaction next runs any other statement, or just before it commits: on PostgreSQL as one
statement (each write a data-modifying ``WITH`` clause), on SQLite one after another (it has no round trips
to save). A queued write keeps its place before every later statement, so a read in the same transaction
sees it, and a transaction that rolls back drops it unsent.

PostgreSQL runs the clauses of one statement on one snapshot and in no promised order. So two writes in one
batch must touch different rows (a write that repeats an earlier one's row sends the batch first), and the
rows a batch adds to one table are one clause, in the order they were queued: ids follow that order, as the
audit log's chronology needs. A case row's update is checked
against the version the command read, as the ORM's own would be: a case changed meanwhile fails the whole
statement's transaction with :class:`StaleDataError` (a conflict for the caller), and nothing is kept.

What a command took as read without reading it is an expectation (:func:`expect`): a condition checked when
the transaction commits, which fails it the same way. On PostgreSQL the checks of a committing statement are
made by the server itself (``reviewflow_expect``, migration 0013), so checked writes, expectations and the
COMMIT are still one round trip."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy import (
    Table,
    and_,
    bindparam,
    delete,
    event,
    func,
    insert,
    inspect,
    literal_column,
    select,
    update,
)
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from engine.store import driver

_QUEUE = "reviewflow_writes"
_EXPECTED = "reviewflow_expected"  # conditions the transaction commits only if they hold (see expect)
_LOCKS = "reviewflow_locks"  # rows to lock before anything else the transaction sends (see lock_first)
STALE_SQLSTATE = "RF001"  # raised by reviewflow_expect (migration 0013)
_HELD = "reviewflow_held_rows"  # rows no one else can change before this transaction ends (see hold)


@dataclass
class Write:
    """One INSERT (``rows``), UPDATE (``values`` where ``where``) or DELETE (``where``, no ``values``) of
    ``table``. A ``where`` value that is a list means any of them. A ``checked`` write must change exactly
    one row."""

    table: Table
    rows: list[dict] = field(default_factory=list)
    where: dict = field(default_factory=dict)
    values: dict = field(default_factory=dict)
    checked: bool = False

    @property
    def row_key(self) -> tuple | None:
        """What identifies the rows an UPDATE or DELETE touches (None for an INSERT, which adds rows)."""
        if self.rows:
            return None
        return (
            self.table.name,
            *((k, tuple(v) if isinstance(v, list) else v) for k, v in self.where.items()),
        )

    @property
    def shape(self) -> tuple:
        """Everything about an UPDATE or DELETE but its values: writes of one shape share one statement."""
        where = tuple((k, len(v) if isinstance(v, list) else None) for k, v in self.where.items())
        return (self.table.name, where, tuple(self.values), self.checked)

    def params(self, prefix: str = "") -> dict:
        """The values of an UPDATE or DELETE, named as :func:`_changing` names them."""
        out = {}
        for k, v in self.where.items():
            if isinstance(v, list):
                out.update((f"{prefix}w_{k}_{i}", item) for i, item in enumerate(v))
            else:
                out[f"{prefix}w_{k}"] = v
        out.update((f"{prefix}v_{k}", v) for k, v in self.values.items())
        return out


def _changing(table: Table, shape: tuple, prefix: str = "", returning: bool = False):
    """The UPDATE or DELETE of ``shape``, its values parameters named after ``prefix`` (``returning`` a row
    for each row it changed)."""
    _name, where, values, _checked = shape

    def matches(k, n):
        column = table.c[k]
        if n is None:
            return column == bindparam(f"{prefix}w_{k}", type_=column.type)
        return column.in_([bindparam(f"{prefix}w_{k}_{i}", type_=column.type) for i in range(n)])

    condition = and_(*(matches(k, n) for k, n in where))
    if not values:
        return delete(table).where(condition)
    stmt = (
        update(table)
        .where(condition)
        .values({c: bindparam(f"{prefix}v_{c}", type_=table.c[c].type) for c in values})
    )
    return stmt.returning(literal_column("1")) if returning else stmt


@functools.lru_cache(maxsize=256)
def _changing_statement(table: Table, shape: tuple):
    """Built once a shape: building a statement costs more than running it."""
    return _changing(table, shape)


def _clauses(queue: list[Write]) -> list[tuple[Table, tuple, list]]:
    """The queue as the clauses of one statement, each as its table, its shape and what it writes: each
    UPDATE and DELETE a clause of its own (shape as :attr:`Write.shape`, and the write), and the rows added
    to a table with the same columns one INSERT, in the order they were queued (shape: the table's name,
    the columns and how many rows; and the rows)."""
    clauses: list[tuple[Table, tuple, list]] = []
    adding: dict[tuple, list] = {}
    for write in queue:
        if not write.rows:
            clauses.append((write.table, write.shape, [write]))
            continue
        for row in write.rows:
            key = (write.table.name, tuple(row))
            if key not in adding:
                adding[key] = []
                clauses.append((write.table, key, adding[key]))
            adding[key].append(row)
    return [
        (table, (*shape, len(written)) if written and isinstance(written[0], dict) else shape, written)
        for table, shape, written in clauses
    ]


def _adds_rows(shape: tuple) -> bool:
    return len(shape) == 3


@dataclass(frozen=True)
class _Compiled:
    """A batch's one statement as the driver runs it, and what makes each of its values ready for it."""

    sql: str
    processors: dict


@functools.lru_cache(maxsize=256)
def _one_statement(shapes: tuple, tables: tuple[Table, ...], dialect, expected: tuple | None) -> _Compiled:
    """The clauses of ``shapes`` as one statement of ``WITH`` clauses, whose one row counts the rows each
    checked clause changed; compiled once a shape. With ``expected`` (conditions and their refusals, none
    or some: a statement sent with its COMMIT), the server checks the counts and the conditions itself, and
    fails the statement with the first refusal (``reviewflow_expect``). Every clause and condition sees the
    rows as they were before the statement, whatever order the server runs them in."""
    ctes, counts, refusals = [], [], []
    for n, (table, shape) in enumerate(zip(tables, shapes, strict=True)):
        prefix = f"c{n}_"
        if _adds_rows(shape):
            _name, columns, how_many = shape
            stmt = insert(table).values(
                [
                    {c: bindparam(f"{prefix}r{i}_{c}", type_=table.c[c].type) for c in columns}
                    for i in range(how_many)
                ]
            )
        else:
            stmt = _changing(table, shape, prefix, returning=shape[-1])
        cte = stmt.cte(f"write_{n}")
        ctes.append(cte)
        if not _adds_rows(shape) and shape[-1]:  # checked
            counts.append(select(func.count()).select_from(cte).scalar_subquery())
            refusals.append(_refusal(table.name))
    if expected is not None:  # checked by the server, for a COMMIT that follows unanswered
        one = literal_column("1")
        checks = [
            (n == one, func.concat(before, n, after))
            for n, (before, after) in zip(counts, refusals, strict=True)
        ]
        checks += [(condition, _text(refusal)) for condition, refusal in expected]
        columns = [func.reviewflow_expect(ok, refusal) for ok, refusal in checks]
    else:
        columns = counts
    return _compile(select(*(columns or [literal_column("1")])).add_cte(*ctes), dialect)


def _compile(stmt, dialect) -> _Compiled:
    compiled = stmt.compile(dialect=dialect)
    processors = {
        name: processor
        for name, bind in compiled.binds.items()
        if (processor := bind.type.bind_processor(dialect)) is not None
    }
    return _Compiled(compiled.string, processors)


def later(session: Session, write: Write) -> None:
    """Queue ``write`` on the session's transaction."""
    connection = session.connection()
    queue = connection.info.setdefault(_QUEUE, [])
    key = write.row_key
    if key is not None and any(w.row_key == key for w in queue):
        send(connection)  # the same rows twice in one statement: the second would not see the first
        queue = connection.info.setdefault(_QUEUE, [])
    queue.append(write)


def queue_changed_rows(session: Session, tables: Iterable[Table] = ()) -> None:
    """Queue the changes this session's loaded rows of ``tables`` carry, as the ORM would flush them (a
    versioned row checked against the version it was read at, and moved to the next), and mark the rows
    written, so that the ORM's own flush has nothing left to do for them."""
    wanted = set(tables)
    states = [inspect(obj) for obj in session.dirty]
    states = [s for s in states if s.mapper.local_table in wanted and s.key is not None and not s.deleted]
    # in one order, so that a step's statement reads the same each time (PostgreSQL prepares it once)
    for state in sorted(states, key=lambda s: (s.mapper.local_table.name, s.key[1])):
        mapper = state.mapper
        changed = {}
        for key, before in state.committed_state.items():
            prop = mapper.attrs.get(key)
            now = state.dict.get(key)
            if hasattr(prop, "columns") and now is not before and now != before:
                changed[prop.columns[0].name] = now
        if changed:
            pk = {c.name: state.dict[mapper.get_property_by_column(c).key] for c in mapper.primary_key}
            version = mapper.version_id_col
            if version is not None:
                version_key = mapper.get_property_by_column(version).key
                current = state.dict[version_key]
                pk[version.name], changed[version.name] = current, current + 1
                state.dict[version_key] = current + 1
            # a row this transaction holds locked cannot have been changed since it was read: no check
            checked = version is not None and (mapper.local_table, state.key[1]) not in _held(session)
            later(session, Write(mapper.local_table, where=pk, values=changed, checked=checked))
        # what the ORM does to a row it has flushed (SQLAlchemy 2.0's own, not public: a test holds it)
        state._commit_all(state.dict, session.identity_map)


def hold(session: Session, obj) -> None:
    """Say that this transaction read ``obj``'s row ``FOR UPDATE``, or added it: until it ends, no one else
    can change the row, so its update is not checked against the version it was read at
    (:func:`queue_changed_rows`)."""
    state = inspect(obj)
    _held(session).add((state.mapper.local_table, state.key[1]))


def _held(session: Session) -> set:
    return session.connection().info.setdefault(_HELD, set())


def expect(session: Session, condition, refusal: str, params: dict) -> None:
    """Commit this transaction only if ``condition`` holds then: a boolean SQL expression (built once, so
    that its statement is compiled once), whose values are named in ``params`` (names of its own, starting
    ``x_``). Otherwise the COMMIT fails with :class:`StaleDataError` saying ``refusal``, and nothing is kept.
    For what a command took as read without reading it; on PostgreSQL it costs no round trip of its own."""
    session.connection().info.setdefault(_EXPECTED, []).append((condition, refusal, params))


def lock_first(session: Session, table: Table, key: dict) -> None:
    """Lock the row of ``table`` whose columns have the values of ``key`` (``FOR UPDATE``, on PostgreSQL)
    before any other statement of this transaction: a command that writes a case it did not read first still
    locks the case before any row it writes, as every command does, so that two commands never each hold a
    row the other waits for."""
    session.connection().info.setdefault(_LOCKS, []).append((table, tuple(key.items())))


@functools.lru_cache(maxsize=32)
def _locking(table: Table, columns: tuple[str, ...], prefix: str, dialect) -> _Compiled:
    condition = and_(*(table.c[c] == bindparam(f"{prefix}{c}", type_=table.c[c].type) for c in columns))
    return _compile(
        select(literal_column("1")).select_from(table).where(condition).with_for_update(), dialect
    )


def _locking_statements(connection: Connection, locks: list) -> list[tuple[str, dict]]:
    """Each lock as the statement that takes it: its SQL and its values converted for the driver."""
    statements = []
    for n, (table, key) in enumerate(locks):
        compiled = _locking(table, tuple(k for k, _v in key), f"l{n}_", connection.dialect)
        params = {f"l{n}_{k}": v for k, v in key}
        statements.append((compiled.sql, _converted(compiled, params)))
    return statements


def _converted(compiled: _Compiled, params: dict) -> dict:
    for name, processor in compiled.processors.items():
        params[name] = processor(params[name])
    return params


def _first(connection: Connection) -> None:
    """Before the transaction's first statement other than its writes sent with its COMMIT: take the locks
    asked for, then check what it expects, as the rows are before it writes any (on PostgreSQL one round
    trip for both, with the BEGIN; a command that reads or writes nothing before it commits sends them with
    its COMMIT instead)."""
    locks = connection.info.pop(_LOCKS, None) or []
    expected = connection.info.pop(_EXPECTED, None) or []
    queue = connection.info.pop(_QUEUE, None)  # sent after these, not by their statements
    try:
        if connection.dialect.name != "postgresql":  # SQLite: a writing transaction began IMMEDIATE
            _check_expected_here(connection, expected)
            return
        statements = _locking_statements(connection, locks)
        if expected:
            compiled = _one_statement((), (), connection.dialect, _conditions(expected))
            statements.append((compiled.sql, _converted(compiled, _values(expected))))
        with _stale_refused():
            driver.send_all(connection, statements)
    finally:
        if queue:
            connection.info[_QUEUE] = queue


def _conditions(expected: list) -> tuple:
    return tuple((condition, refusal) for condition, refusal, _values in expected)


def _values(expected: list) -> dict:
    return {name: value for _condition, _refusal, values in expected for name, value in values.items()}


@contextmanager
def _stale_refused():
    """A check the server refused (``reviewflow_expect``) raised as the ORM raises a stale row."""
    try:
        yield
    except DBAPIError as exc:
        if getattr(exc.orig, "sqlstate", None) == STALE_SQLSTATE:
            raise StaleDataError(exc.orig.diag.message_primary) from None
        raise


def _check_expected_here(connection: Connection, expected: list) -> None:
    for condition, refusal, params in expected:
        if connection.execute(select(condition), params).scalar() is not True:
            raise StaleDataError(refusal)


def _refusal(table: str) -> tuple:
    return _text(f"UPDATE of {table} expected to change 1 row; "), _text(" were matched")


def _text(words: str):
    """Words of this module's own as an SQL string written in the statement (a value to bind would need a
    name and a place in every statement's values)."""
    return literal_column("'" + words.replace("'", "''") + "'")


def send(connection: Connection, committing: bool = False) -> None:
    """Send the queued writes now (one statement on PostgreSQL; ``committing``, with the COMMIT too, their
    checks and the transaction's expectations made by the server: one round trip for all)."""
    locks = connection.info.pop(_LOCKS, None) if committing else None
    queue = connection.info.pop(_QUEUE, None) or []
    expected = connection.info.pop(_EXPECTED, None) if committing else None
    if not queue and not expected:
        return
    if connection.dialect.name == "postgresql" and committing:
        _send_as_one(connection, queue, expected or [], locks or [])
        return
    if connection.dialect.name == "postgresql" and (len(queue) > 1 or len(queue[0].rows) > 1):
        _send_as_one(connection, queue)
        return
    _check_expected_here(connection, expected or ())  # before the writes, as the rows were
    for write in queue:
        if write.rows:
            connection.execute(write.table.insert(), write.rows)
            continue
        result = connection.execute(_changing_statement(write.table, write.shape), write.params())
        if write.checked:
            _check([write], [result.rowcount])


def _send_as_one(
    connection: Connection, queue: list[Write], expected: list | None = None, locks: list = ()
) -> None:
    """The queue as one statement; with ``expected`` (a list, empty or not), with its checks made by the
    server and the COMMIT too, after the statements that take ``locks``."""
    clauses = _clauses(queue)
    compiled = _one_statement(
        tuple(shape for _t, shape, _v in clauses),
        tuple(t for t, _s, _v in clauses),
        connection.dialect,
        None if expected is None else _conditions(expected),
    )
    params = _values(expected or [])
    for n, (_table, shape, values) in enumerate(clauses):
        if _adds_rows(shape):
            for i, row in enumerate(values):
                params.update((f"c{n}_r{i}_{k}", v) for k, v in row.items())
        else:
            params.update(values[0].params(f"c{n}_"))
    params = _converted(compiled, params)
    if expected is not None:  # checked by the server: its answer is not waited for before the COMMIT
        statements = [*_locking_statements(connection, locks), (compiled.sql, params)]
        with _stale_refused():
            driver.send_and_commit(connection, statements)
        return
    row = connection.exec_driver_sql(compiled.sql, params).one()
    checked = [w for w in queue if w.checked]
    if checked:
        _check(checked, row)


def _check(checked: list[Write], counts) -> None:
    for write, count in zip(checked, counts, strict=True):
        if count != 1:
            raise StaleDataError(
                f"UPDATE of {write.table.name} expected to change 1 row; {count} were matched"
            )


def drop(connection: Connection) -> None:
    """Forget the queued writes (their transaction rolled back). A connection that was lost has none to
    forget here: they go with it when the pool takes it back."""
    if not connection.invalidated:
        connection.info.pop(_QUEUE, None)
        connection.info.pop(_HELD, None)
        connection.info.pop(_EXPECTED, None)
        connection.info.pop(_LOCKS, None)


def follow(engine: Engine) -> None:
    """Send queued writes before any other statement on the connection and before its COMMIT; drop them on
    a rollback."""

    @event.listens_for(engine, "before_execute")
    def _before(connection, *_args):
        if connection.info.get(_LOCKS) or connection.info.get(_EXPECTED):
            _first(connection)
        if connection.info.get(_QUEUE):
            send(connection)

    @event.listens_for(engine, "commit")
    def _committing(connection):
        connection.info.pop(_HELD, None)
        send(connection, committing=True)

    @event.listens_for(engine, "rollback")
    def _rolled_back(connection):
        drop(connection)

    @event.listens_for(engine, "checkin")
    def _returned(_dbapi_connection, record):
        record.info.pop(_QUEUE, None)
        record.info.pop(_HELD, None)
        record.info.pop(_EXPECTED, None)
        record.info.pop(_LOCKS, None)
