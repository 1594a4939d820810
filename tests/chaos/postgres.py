"""The run's own PostgreSQL schema, connection killing, and reading back what the product recorded.

Every process of the run connects with ``application_name=<run>-<role>``, so the run can terminate
its own backends (``pg_terminate_backend``) and never anyone else's on a shared server.
"""

from __future__ import annotations

import datetime as dt
import random
from contextlib import contextmanager
from urllib.parse import quote

import psycopg


class Unreachable(RuntimeError):
    pass


class Scratch:
    """A fresh schema inside the given database, dropped when the run ends."""

    def __init__(self, base_url: str, name: str):
        self.base_url = base_url
        self.schema = name

    def _connect(self, **kwargs):
        return psycopg.connect(self.base_url, autocommit=True, connect_timeout=5, **kwargs)

    def check(self) -> str:
        try:
            with self._connect() as conn:
                return conn.execute("select version()").fetchone()[0]
        except psycopg.Error as exc:
            raise Unreachable(f"PostgreSQL is unreachable at {self.base_url}: {exc}".strip()) from None

    def create(self) -> None:
        with self._connect() as conn:
            conn.execute(f'CREATE SCHEMA "{self.schema}"')

    def drop(self) -> None:
        with self._connect() as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE')

    def url(self, role: str) -> str:
        """The database URL one process of the run uses: this schema, and a name to find it by."""
        sep = "&" if "?" in self.base_url else "?"
        return (
            f"{self.base_url}{sep}options=-csearch_path%3D{self.schema}"
            f"&application_name={quote(self.app_name(role))}"
        )

    def app_name(self, role: str) -> str:
        return f"{self.schema}-{role}"

    @contextmanager
    def reading(self):
        with psycopg.connect(
            self.base_url, autocommit=True, connect_timeout=5, options=f"-csearch_path={self.schema}"
        ) as conn:
            yield conn

    def backends(self, like: str = "") -> list[tuple[int, str]]:
        """(pid, application_name) of this run's connections whose name starts with ``<run>-<like>``."""
        with self._connect() as conn:
            return conn.execute(
                "select pid, application_name from pg_stat_activity "
                "where application_name like %s and pid <> pg_backend_pid()",
                (f"{self.schema}-{like}%",),
            ).fetchall()

    def terminate(self, rng: random.Random, all_at_once: bool = False) -> list[str]:
        """Kill one (or every) connection of the run's workers and web server; returns whose they were."""
        backends = self.backends()
        if not backends:
            return []
        chosen = backends if all_at_once else [rng.choice(backends)]
        with self._connect() as conn:
            return [
                name
                for pid, name in chosen
                if conn.execute("select pg_terminate_backend(%s)", (pid,)).fetchone()[0]
            ]


def epoch(value: dt.datetime | None) -> float | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.timestamp()


def read_records(scratch: Scratch) -> dict:
    """Every instance, outbox row, delivery attempt and timer-fired event of the run."""
    with scratch.reading() as conn:
        instances = [
            {
                "id": r[0],
                "process_id": r[1],
                "status": r[2],
                "business_key": r[3],
                "error": r[4],
                "next_timer_at": epoch(r[5]),
            }
            for r in conn.execute(
                "select id, process_id, status, business_key, error, next_timer_at from instance order by id"
            )
        ]
        outbox = [
            {
                "id": r[0],
                "instance_id": r[1],
                "recipient": r[2],
                "body": r[3],
                "status": r[4],
                "attempts": r[5],
                "message_id": r[6],
                "created_at": epoch(r[7]),
                "sent_at": epoch(r[8]),
                "last_error": r[9],
            }
            for r in conn.execute(
                "select id, instance_id, recipient, body, status, attempts, message_id, "
                "created_at, sent_at, last_error from outbox_message order by id"
            )
        ]
        attempts = [
            {"outbox_id": r[0], "at": epoch(r[1]), "ok": r[2], "error": r[3]}
            for r in conn.execute("select outbox_id, at, ok, error from delivery_attempt order by id")
        ]
        fired = [
            {"instance_id": r[0], "at": epoch(r[1]), "timers": (r[2] or {}).get("timers", [])}
            for r in conn.execute(
                "select instance_id, at, detail from audit_event where kind = 'timer_fired' order by id"
            )
        ]
    return {"instances": instances, "outbox": outbox, "attempts": attempts, "timer_fired": fired}
