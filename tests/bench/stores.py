"""Where a benchmark runs: SQLite files, or PostgreSQL databases on the server named by
``REVIEWFLOW_TEST_POSTGRES_URL``. Every database is first built as a SQLite file (the builders write
SQLite); PostgreSQL gets a copy of it, made once, as a database of its own (``bench_<file name>``) that
records what it was copied from, and used again while that is unchanged. A benchmark works on a working copy
(a copied file, or a database created from the built one as its template), so each starts from the same
state and the built database is never changed. There is one working copy a side (``work_small``,
``work_large``), each replacing the last, so a run needs room for one more copy of the large database, not
one a benchmark."""

from __future__ import annotations

import hashlib
import inspect
import shutil
import sqlite3
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from engine.store.db import SCHEMA_REVISION
from engine.store.models import Base
from tests.bench.common import OUT, ROOT, sqlite_url

MARKER = "bench_built_from"  # a table in each copied database: the built file's marker it came from


class SQLiteStore:
    suffix = ""
    dialect = "sqlite"

    def built(self, path: Path) -> Path:
        return path

    def working_copy(self, source: Path, name: str) -> str:
        work = self.empty(name)
        shutil.copy(source, OUT / f"work_{name}.db")
        return work

    def empty(self, name: str) -> str:
        for p in OUT.glob(f"work_{name}.db*"):
            p.unlink()
        return sqlite_url(OUT / f"work_{name}.db")

    def finish(self) -> None:
        """The working copies stay until the next replaces them, to be looked at."""


class PostgresStore:
    suffix = " (postgresql)"
    dialect = "postgresql"

    def __init__(self, url: str):
        self.url = url
        # databases of another bench directory (a test's) are named apart, so two runs never share one
        self.default = OUT == ROOT / "var" / "bench"
        apart = hashlib.sha256(str(OUT).encode()).hexdigest()[:6]
        self.prefix = "bench_" if self.default else f"bench_{apart}_"
        self.made: set[str] = set()

    def _url(self, database: str) -> str:
        parts = urlsplit(self.url)
        return urlunsplit(parts._replace(path=f"/{database}"))

    def _admin(self):
        import psycopg

        return psycopg.connect(self.url, autocommit=True)

    def _recreate(self, database: str, template: str | None = None) -> None:
        self.made.add(database)
        with self._admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{database}"' + (f' TEMPLATE "{template}"' if template else ""))

    def built(self, path: Path) -> str:
        """The database copied from the built file at ``path``, copied now if it is missing or stale."""
        import psycopg

        database = f"{self.prefix}{path.stem}"
        wanted = f"{(path.with_suffix('.ok')).read_text()} {SCHEMA_REVISION} {_copier_hash()}"
        try:
            with psycopg.connect(self._url(database)) as conn:
                found = conn.execute(f"SELECT source FROM {MARKER}").fetchone()
            if found and found[0] == wanted:
                return database
        except psycopg.Error:
            pass
        started = time.perf_counter()
        self._recreate(database)
        copy_sqlite_to_postgres(path, self._url(database))
        with psycopg.connect(self._url(database), autocommit=True) as conn:
            conn.execute(f"CREATE TABLE {MARKER} (source text NOT NULL)")
            conn.execute(f"INSERT INTO {MARKER} VALUES (%s)", (wanted,))
        print(f"copied {path.name} to PostgreSQL in {time.perf_counter() - started:.0f} s", flush=True)
        return database

    def working_copy(self, source: str, name: str) -> str:
        database = f"{self.prefix}work_{name}"
        self._recreate(database, template=source)
        return self._url(database)

    def empty(self, name: str) -> str:
        database = f"{self.prefix}work_{name}"
        self._recreate(database)
        return self._url(database)

    def finish(self) -> None:
        """Drop the working copies (a large one is as big as the built database), and, for a bench
        directory other than var/bench (a test's), the built copies too: nothing is left behind."""
        with self._admin() as conn:
            for database in sorted(self.made):
                if not self.default or database.startswith(f"{self.prefix}work_"):
                    conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def _copier_hash() -> str:
    """What a copy depends on: the code that copies."""
    return hashlib.sha256(inspect.getsource(copy_sqlite_to_postgres).encode()).hexdigest()[:12]


def copy_sqlite_to_postgres(path: Path, url: str) -> None:
    """Every table of the SQLite file into the empty PostgreSQL database at ``url``: the schema made by the
    product's migrations, then each table's rows by COPY, parents before children, each id sequence moved
    past the copied ids, and the tables analyzed."""
    import psycopg

    from tests.bench.common import service

    target = service(url)
    target.db.upgrade()
    target.db.dispose()
    source = sqlite3.connect(path)
    tables = [t.name for t in Base.metadata.sorted_tables]
    with psycopg.connect(url) as conn:
        conn.execute("SET timezone = 'UTC'")  # SQLite holds naive UTC instants
        conn.execute("SET session_replication_role = replica")  # rows as they were: no triggers, no checks
        conn.execute("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " CASCADE")
        for table in tables:
            here = {r[1] for r in source.execute(f'PRAGMA table_info("{table}")')}
            there = [
                r[0]
                for r in conn.execute(
                    "SELECT column_name FROM information_schema.columns WHERE table_name = %s "
                    "ORDER BY ordinal_position",
                    (table,),
                )
            ]
            columns = [c for c in there if c in here]
            names = ", ".join(f'"{c}"' for c in columns)
            with conn.cursor().copy(f'COPY "{table}" ({names}) FROM STDIN') as copy:
                for row in source.execute(f'SELECT {names} FROM "{table}"'):
                    copy.write_row(row)
            sequence = (
                conn.execute("SELECT pg_get_serial_sequence(%s, 'id')", (f'"{table}"',)).fetchone()[0]
                if "id" in columns
                else None
            )
            if sequence:
                conn.execute(
                    f'SELECT setval(%s, COALESCE((SELECT MAX(id) FROM "{table}"), 0) + 1, false)', (sequence,)
                )
        conn.execute("ANALYZE")  # the planner's statistics, as a database in use has them
        conn.commit()
    source.close()
