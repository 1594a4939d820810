"""Database connection, schema upgrade and the unit of work.

One command is one transaction: :meth:`Database.transaction` yields a session
and commits when the block ends, or rolls everything back on any exception.
On SQLite a writing transaction starts with ``BEGIN IMMEDIATE`` so that two
commands never both read an instance and then race to write it; on PostgreSQL
commands lock the instance row (``SELECT ... FOR UPDATE``). Either way the
``lock_version`` column catches anything that slips through.
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import DisconnectionError, OperationalError, ProgrammingError
from sqlalchemy.orm import Session, sessionmaker

from engine.store import driver, writes
from engine.store.models import HumanTask, Instance

log = logging.getLogger("reviewflow.engine")
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# The newest migration, the schema this code expects. Kept here so that a process starting on a current
# schema (a worker restarted, a command run) reads one row instead of loading the migration machinery;
# a test keeps it equal to the head of ``MIGRATIONS``.
SCHEMA_REVISION = "0013"
_upgraded: set[str] = set()
_upgrade_lock = threading.Lock()


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
            Path(url[len("sqlite:///") :]).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):
            dbapi_conn.isolation_level = None  # SQLAlchemy issues BEGIN itself (below)
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn):
            options = conn.get_execution_options()
            if options.get("reviewflow_lookup"):
                return  # one statement: SQLite runs it in a transaction of its own
            conn.exec_driver_sql("BEGIN IMMEDIATE" if options.get("reviewflow_write") else "BEGIN")

        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    engine = create_engine(
        _without_jit(make_url(url)),
        pool_size=10,
        max_overflow=10,
        pool_recycle=RECYCLE_SECONDS,
        # psycopg's own preparing is off: at every ROLLBACK it deallocates every statement its connection
        # has prepared, those of engine.store.wire (which prepares the statements of every step) too
        connect_args={"prepare_threshold": None},
    )
    _ping_when_idle(engine)
    driver.begin_with_first_statement(engine)
    return engine


def _without_jit(url: URL) -> URL:
    """PostgreSQL compiles a query with JIT once the planner costs it above ``jit_above_cost``: a streamed
    export over every deadline of a large partnership paid 27 ms of compiling before its first row (3 ms
    without), and no query here runs long enough to earn it back. Turned off for this service's
    connections only, beside any ``options`` the URL already gives."""
    options = url.query.get("options", "")
    return url.update_query_dict({"options": f"{options} -c jit=off".strip()})


# A pooled PostgreSQL connection is checked with a round trip only when it has been idle for a while (when a
# restart or a firewall may have closed it); in steady use it is not, and a connection found dead mid-request
# is answered by a retry (reads) or a 503 (commands: nothing was kept). Connections are replaced hourly.
IDLE_PING_SECONDS = 10
RECYCLE_SECONDS = 3600


def _ping_when_idle(engine: Engine) -> None:
    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_conn, record):
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_conn, record, _proxy):
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since < IDLE_PING_SECONDS:
            return  # just opened, or in steady use
        try:
            engine.dialect.do_ping(dbapi_conn)
            dbapi_conn.rollback()
        except Exception as exc:  # the pool opens a fresh connection and tries again
            raise DisconnectionError(
                f"a pooled connection was closed while idle: {type(exc).__name__}"
            ) from exc


def unavailable(exc: BaseException) -> bool:
    """The database, not the request, failed: its connection was lost (killed, restarted, network), it
    refused a connection, or every pooled connection stayed busy. Trying again later can succeed."""
    from sqlalchemy import exc as sa_exc

    if isinstance(exc, (sa_exc.DisconnectionError, sa_exc.TimeoutError)):
        return True
    if isinstance(exc, sa_exc.DBAPIError):
        return bool(exc.connection_invalidated) or isinstance(exc, sa_exc.OperationalError)
    return False


def schema_revision(connection: Connection) -> str | None:
    """The migration the database is at, or None when it has no schema yet."""
    try:
        with connection.begin_nested() if connection.in_transaction() else connection.begin():
            return connection.scalar(text("SELECT version_num FROM alembic_version"))
    except (ProgrammingError, OperationalError):  # no alembic_version table: an empty database
        return None


_KEYS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def database_key(session: Session) -> str:
    """Caches are per database: ids repeat across databases (tests, several partnerships)."""
    return engine_key(session.get_bind())


def engine_key(engine: Engine) -> str:
    """The database an engine reaches, as the caches name it. Rendered once an engine: a command asks for
    it a few dozen times."""
    key = _KEYS.get(engine)
    if key is None:
        key = _KEYS[engine] = engine.url.render_as_string(hide_password=True)
    return key


_ON_COMMIT = "reviewflow_on_commit"


def on_commit(session: Session, done) -> None:
    """Call ``done()`` once the session's transaction has committed; never if it rolls back. What it raises
    is logged, not raised: the command it follows has succeeded."""
    session.info.setdefault(_ON_COMMIT, []).append(done)


def _queue_step_rows(session: Session) -> None:
    """The case and task rows a command changed are written with its other queued writes (one statement on
    PostgreSQL), not flushed one by one by the ORM."""
    writes.queue_changed_rows(session, (Instance.__table__, HumanTask.__table__))


class Database:
    def __init__(self, url: str):
        self.url = url
        self.engine = make_engine(url)
        self.dialect = self.engine.dialect.name
        self.key = engine_key(self.engine)  # as database_key gives it
        self._read = sessionmaker(
            self.engine.execution_options(postgresql_readonly=True)
            if self.dialect == "postgresql"
            else self.engine,
            expire_on_commit=False,
        )
        # one statement needs no transaction around it: on PostgreSQL that saves a BEGIN and a ROLLBACK
        self._lookup = self.engine.execution_options(
            **(
                {"isolation_level": "AUTOCOMMIT"}
                if self.dialect == "postgresql"
                else {"reviewflow_lookup": True}
            )
        )
        self._write = sessionmaker(
            self.engine.execution_options(reviewflow_write=True), expire_on_commit=False
        )
        writes.follow(self.engine)
        event.listen(self._write, "before_commit", _queue_step_rows)

    def upgrade(self) -> None:
        """Bring the schema to the newest migration; every command calls this first. A schema that is
        already current costs one query."""
        key = self.url
        with _upgrade_lock:
            if key in _upgraded:
                return
            with self.engine.connect() as connection:
                current = schema_revision(connection)
            if current == SCHEMA_REVISION:
                _upgraded.add(key)
                return
            from alembic import command
            from alembic.config import Config

            cfg = Config()
            cfg.set_main_option("script_location", str(MIGRATIONS))
            cfg.attributes["engine"] = self.engine
            command.upgrade(cfg, "head")
            _upgraded.add(key)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A writing unit of work: commit on success, roll back on any exception."""
        session = self._write()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()
        for done in session.info.pop(_ON_COMMIT, ()):  # committed: the command succeeded, whatever follows
            try:
                done()
            except Exception:
                log.exception("a step after a commit failed")

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A read-only session (queries for lists and pages); nothing done in it is ever written. On
        PostgreSQL its transaction is READ ONLY (said in the BEGIN the driver sends anyway) and, when
        nothing was changed in passing, ends in COMMIT (for a read-only transaction the same as a ROLLBACK).
        On SQLite it is rolled back, as is anything changed in passing."""
        session = self._read()
        try:
            yield session
        except BaseException:
            session.rollback()
            raise
        else:
            if self.dialect == "postgresql" and not (session.new or session.dirty or session.deleted):
                session.commit()
            else:
                session.rollback()
        finally:
            session.close()

    @contextmanager
    def lookup(self) -> Iterator[Connection]:
        """A connection for one read statement (who a token or a cookie belongs to, a task list), outside any
        transaction of ours: no BEGIN and no ROLLBACK around it, and no session to build."""
        with self._lookup.connect() as connection:
            yield connection

    def dispose(self) -> None:
        self.engine.dispose()
