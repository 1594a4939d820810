"""Database connection, schema upgrade and the unit of work.

One command is one transaction: :meth:`Database.transaction` yields a session
and commits when the block ends, or rolls everything back on any exception.
On SQLite a writing transaction starts with ``BEGIN IMMEDIATE`` so that two
commands never both read an instance and then race to write it; on PostgreSQL
commands lock the instance row (``SELECT ... FOR UPDATE``). Either way the
``lock_version`` column catches anything that slips through.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# The newest migration, the schema this code expects. Kept here so that a process starting on a current
# schema (a worker restarted, a command run) reads one row instead of loading the migration machinery;
# a test keeps it equal to the head of ``MIGRATIONS``.
SCHEMA_REVISION = "0006"
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
            write = conn.get_execution_options().get("reviewflow_write", False)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)


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


class Database:
    def __init__(self, url: str):
        self.url = url
        self.engine = make_engine(url)
        self.dialect = self.engine.dialect.name
        self._read = sessionmaker(self.engine, expire_on_commit=False)
        self._write = sessionmaker(
            self.engine.execution_options(reviewflow_write=True), expire_on_commit=False
        )

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

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A read-only session (queries for lists and pages)."""
        session = self._read()
        try:
            yield session
        finally:
            session.rollback()
            session.close()

    def dispose(self) -> None:
        self.engine.dispose()
