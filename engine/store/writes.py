"""Writes a command needs no answer from, sent together.

A step writes its audit row, its new tasks, its case's step rows, the tasks it closed and the case row. Sent
one by one, each is a round trip to PostgreSQL, and most of a step's time was spent waiting on them. Here they
are queued on the transaction (:func:`later`, and the case and task rows the command changed, at commit) and
sent when the transaction next runs any other statement, or just before it commits: on PostgreSQL as one
statement (each write a data-modifying ``WITH`` clause), on SQLite one after another (it has no round trips
to save). A queued write keeps its place before every later statement, so a read in the same transaction
sees it, and a transaction that rolls back drops it unsent.

Two writes in one batch must touch different rows (PostgreSQL runs the clauses of one statement on the same
snapshot); a write that repeats an earlier one's row sends the batch first. A case row's update is checked
against the version the command read, as the ORM's own would be: a case changed meanwhile fails the whole
statement's transaction with :class:`StaleDataError` (a conflict for the caller), and nothing is kept."""

from __future__ import annotations

import functools
from collections.abc import Iterable
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
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

_QUEUE = "reviewflow_writes"


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

    def parts(self) -> list[tuple[tuple, dict]]:
        """This write as parts of one statement: its shape (everything but its values, so that writes of one
        shape share one built statement) and its values. An INSERT is a part a row: a statement inserting
        several rows at once is built anew every time."""
        if self.rows:
            shape = (self.table.name, tuple(self.rows[0]), (), (), False)
            return [(shape, {f"r_{k}": v for k, v in row.items()}) for row in self.rows]
        shape = (
            self.table.name,
            (),
            tuple((k, isinstance(v, list)) for k, v in self.where.items()),
            tuple(self.values),
            self.checked,
        )
        values = {f"w_{k}": v for k, v in self.where.items()}
        values.update((f"v_{k}", v) for k, v in self.values.items())
        return [(shape, values)]


@functools.lru_cache(maxsize=512)
def _statement(table: Table, shape: tuple, prefix: str = "", returning: bool = False):
    """A part of ``shape`` (see :meth:`Write.parts`) with its values as parameters named after ``prefix``."""
    _name, columns, where, values, _checked = shape
    if columns:
        return insert(table).values({c: bindparam(f"{prefix}r_{c}", type_=table.c[c].type) for c in columns})
    condition = and_(
        *(
            table.c[k].in_(bindparam(f"{prefix}w_{k}", expanding=True))
            if many
            else table.c[k] == bindparam(f"{prefix}w_{k}", type_=table.c[k].type)
            for k, many in where
        )
    )
    if not values:
        return delete(table).where(condition)
    stmt = (
        update(table)
        .where(condition)
        .values({c: bindparam(f"{prefix}v_{c}", type_=table.c[c].type) for c in values})
    )
    return stmt.returning(literal_column("1")) if returning else stmt


@functools.lru_cache(maxsize=512)
def _one_statement(parts: tuple[tuple[Table, tuple], ...]):
    """The ``parts`` (their tables and shapes) as one statement of ``WITH`` clauses, whose one row counts
    the rows each checked part changed."""
    clauses, counts = [], []
    for n, (table, shape) in enumerate(parts):
        checked = shape[-1]
        clause = _statement(table, shape, f"q{n}_", returning=checked).cte(f"write_{n}")
        clauses.append(clause)
        if checked:
            counts.append(select(func.count()).select_from(clause).scalar_subquery())
    return select(*(counts or [literal_column("1")])).add_cte(*clauses)


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
    for obj in list(session.dirty):
        state = inspect(obj)
        mapper = state.mapper
        if mapper.local_table not in wanted or state.key is None or state.deleted:
            continue
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
            later(session, Write(mapper.local_table, where=pk, values=changed, checked=version is not None))
        # what the ORM does to a row it has flushed (SQLAlchemy 2.0's own, not public: a test holds it)
        state._commit_all(state.dict, session.identity_map)


def send(connection: Connection) -> None:
    """Send the queued writes now (one statement on PostgreSQL)."""
    queue = connection.info.pop(_QUEUE, None)
    if not queue:
        return
    if connection.dialect.name == "postgresql" and (len(queue) > 1 or len(queue[0].rows) > 1):
        parts = [(w.table, shape, values) for w in queue for shape, values in w.parts()]
        params = {}
        for n, (_table, _shape, values) in enumerate(parts):
            params.update((f"q{n}_{k}", v) for k, v in values.items())
        row = connection.execute(_one_statement(tuple((t, shape) for t, shape, _v in parts)), params).one()
        checked = [w for w in queue if w.checked]
        if checked:
            _check(checked, row)
        return
    for write in queue:
        if write.rows:
            connection.execute(write.table.insert(), write.rows)
            continue
        [(shape, values)] = write.parts()
        result = connection.execute(_statement(write.table, shape), values)
        if write.checked:
            _check([write], [result.rowcount])


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


def follow(engine: Engine) -> None:
    """Send queued writes before any other statement on the connection and before its COMMIT; drop them on
    a rollback."""

    @event.listens_for(engine, "before_execute")
    def _before(connection, *_args):
        if connection.info.get(_QUEUE):
            send(connection)

    @event.listens_for(engine, "commit")
    def _committing(connection):
        send(connection)

    @event.listens_for(engine, "rollback")
    def _rolled_back(connection):
        drop(connection)

    @event.listens_for(engine, "checkin")
    def _returned(_dbapi_connection, record):
        record.info.pop(_QUEUE, None)
