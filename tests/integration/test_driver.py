"""The statements sent by the driver itself (engine/store/driver.py) read what SQLAlchemy would: the same
rows, values converted alike (instants in UTC), lists of any length, the counters and listeners of
statements hearing them; and an object made from a row is tracked and written as one the ORM read. On
PostgreSQL a transaction's BEGIN goes with its first statement and, when nothing in them needs checking, its
writes with its COMMIT: the same transaction, settings and errors as psycopg's own, in fewer round trips."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select, text, update

from engine.services import Reviewflow
from engine.services.actor import Actor
from engine.services.tasks import _FOR_ROLES
from engine.store import driver
from engine.store.models import HumanTask
from tests.bench.common import OWNER, STAFF, STEP, bench_files
from tests.conftest import make_settings
from tests.open_case import bench_case_service
from tests.roundtrips import Statements


@pytest.fixture
def service(database_url):
    service = Reviewflow(make_settings(database_url))
    service.deployments.deploy(bench_files(), OWNER)
    for _ in range(3):
        service.instances.start("bench_reference", {"steps_done": 0}, STAFF)
    yield service
    service.db.dispose()


@pytest.mark.parametrize("roles", [["Staff"], ["Nobody", "Staff"], ["A", "B", "Staff", "C"], ["Nobody"]])
def test_a_select_reads_the_rows_sqlalchemy_reads_whatever_the_length_of_its_lists(service, roles):
    given = {"user": "someone", "roles": roles, "limit": 2}
    with service.db.lookup() as connection:
        expected = [tuple(r) for r in connection.execute(_FOR_ROLES, given)]
        with Statements(service.db.engine) as seen:
            rows = driver.select(connection, _FOR_ROLES, given)
    assert [tuple(r) for r in rows] == expected
    assert len(rows) == (2 if "Staff" in roles else 0)
    assert seen.count == 1  # heard by the statement counters like any other
    for row in rows:
        assert row.created_at.tzinfo is not None and row.created_at.utcoffset() == dt.timedelta(0)
        assert row.business_key and row.role == "Staff"


def test_an_object_made_from_a_row_is_written_at_commit_as_one_the_orm_read(service):
    ht = HumanTask.__table__
    with service.db.transaction() as session:
        [row] = driver.select(session.connection(), select(ht).limit(1), {})
        task = driver.as_loaded(session, HumanTask, tuple(row))
        assert session.get(HumanTask, row.id) is task  # one object for the row in the session
        task.assignee = "bench-staff"
    with service.db.reading() as session:
        assert session.get(HumanTask, row.id).assignee == "bench-staff"
    assert service.tasks.for_user(Actor("bench-staff", frozenset({"Staff"})), mine=True)[0]["id"] == row.id


# --- PostgreSQL: a transaction's BEGIN with its first statement, its writes with its COMMIT --------------


@pytest.fixture
def pg(postgres_url):
    service = bench_case_service(postgres_url)
    yield service
    service.db.dispose()


_SETTINGS = text(
    "SELECT current_setting('transaction_isolation'), current_setting('transaction_read_only'), "
    "txid_current_if_assigned() IS NULL"
)


def test_a_transaction_begins_with_its_first_statement_in_one_round_trip_as_psycopg_would_begin_it(pg):
    with Statements(pg.db.engine) as seen, pg.db.reading() as session:
        assert tuple(session.execute(_SETTINGS).one()) == ("read committed", "on", True)
    assert (seen.count, seen.round_trips) == (1, 2)  # BEGIN READ ONLY with the select; COMMIT
    with Statements(pg.db.engine) as seen, pg.db.transaction() as session:
        assert tuple(session.execute(_SETTINGS).one())[:2] == ("read committed", "off")
        assert session.execute(_SETTINGS).one()[2]  # the same transaction: nothing written yet
    assert (seen.count, seen.round_trips) == (2, 3)


def test_a_first_statement_whose_connection_is_lost_is_an_error_sqlalchemy_knows_and_the_pool_recovers(pg):
    from sqlalchemy.exc import OperationalError

    from tests.killers import Killer

    killer = Killer(pg, r"^SELECT 1$")
    try:
        with pytest.raises(OperationalError) as lost, pg.db.reading() as session:
            session.execute(text("SELECT 1"))
    finally:
        killer.remove()
    assert killer.killed == 1 and lost.value.connection_invalidated
    with pg.db.reading() as session:
        assert session.execute(text("SELECT 1")).scalar() == 1


def test_the_writes_of_a_locked_case_go_with_the_commit_and_if_they_fail_nothing_is_kept(pg):
    from sqlalchemy.exc import IntegrityError

    from engine.services import audit
    from engine.services.workflow import lock_instance
    from engine.store import writes
    from engine.store.models import AuditEvent, Instance

    case_id = pg.case["id"]
    with pg.db.reading() as session:
        taken = session.scalar(select(AuditEvent.id).limit(1))
        audit_rows = session.scalar(select(func.count()).select_from(AuditEvent))
    with Statements(pg.db.engine) as seen, pg.db.transaction() as session:
        lock_instance(session, case_id).error = "noted"
        audit.record(session, "note_added", "sam", instance_id=case_id)
    assert seen.round_trips == 2  # BEGIN with the locking read; the writes with COMMIT
    with pytest.raises(IntegrityError), pg.db.transaction() as session:
        lock_instance(session, case_id).error = "not kept"
        audit.record(session, "note_added", "sam", instance_id=case_id)
        row = {"id": taken, "at": dt.datetime.now(dt.UTC), "actor": "sam", "kind": "clash", "detail": {}}
        writes.later(session, writes.Write(AuditEvent.__table__, rows=[row]))  # an id already taken
    with pg.db.reading() as session:
        assert session.scalar(select(Instance.error).where(Instance.id == case_id)) == "noted"
        assert session.scalar(select(func.count()).select_from(AuditEvent)) == audit_rows + 1
    pg.instances.complete_task(_open_task(pg), STEP, STAFF)  # the pool's connection serves the next command


def test_a_case_read_before_its_lock_and_changed_meanwhile_is_still_checked(pg):
    from engine.services.workflow import lock_instance
    from engine.store.models import Instance

    case_id, table = pg.case["id"], Instance.__table__
    with pytest.raises(Exception) as refused, pg.db.transaction() as session:
        inst = session.get(Instance, case_id)  # read without the lock
        moved = update(table).where(table.c.id == case_id).values(lock_version=table.c.lock_version + 1)
        with pg.db.engine.begin() as other:  # another command moves the case on and commits
            other.execute(moved)
        assert lock_instance(session, case_id) is inst  # the object read before, at the older version
        inst.error = "would overwrite the other command's change"
    assert "expected to change 1 row; 0 were matched" in str(refused.value)
    with pg.db.reading() as session:
        assert session.scalar(select(Instance.error).where(Instance.id == case_id)) is None


def _open_task(service) -> str:
    return next(t["id"] for t in service.tasks.for_user(STAFF) if t["instance_id"] == service.case["id"])


def test_a_statement_interrupted_while_its_answer_is_awaited_leaves_no_connection_unusable(pg):
    """A request stopped mid-statement (a worker's time limit, an interrupt): the error is the interruption's
    own, and the pool's connections serve the next request (a connection left in libpq's pipeline mode
    with an answer unread could serve none again)."""
    import signal

    class Interrupted(Exception):
        pass

    def interrupt(*_):
        raise Interrupted

    sleep = select(func.pg_sleep(0.5).label("slept"))
    previous = signal.signal(signal.SIGALRM, interrupt)
    signal.setitimer(signal.ITIMER_REAL, 0.1)
    try:
        with pytest.raises(Interrupted), pg.db.lookup() as connection:
            driver.select(connection, sleep, {})
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    for _ in range(3):  # every connection the pool holds
        with pg.db.lookup() as connection:
            assert driver.select(connection, select(func.count().label("n")).select_from(HumanTask), {})[0].n
    pg.instances.complete_task(_open_task(pg), STEP, STAFF)


def test_a_connection_keeps_its_most_recently_used_statements_prepared_and_closes_the_rest(pg, monkeypatch):
    from sqlalchemy import literal

    from engine.store import wire

    monkeypatch.setattr(wire, "PREPARED_MAX", 3)
    statements = [select(literal(n).label(f"n{n}")) for n in range(6)]
    counted = select(func.count().label("prepared")).select_from(text("pg_prepared_statements"))
    with pg.db.lookup() as connection:
        for stmt in statements:
            driver.select(connection, stmt, {})
        driver.select(connection, counted, {})  # prepared itself: the oldest is closed after it has run
        assert driver.select(connection, counted, {})[0].prepared == 3
        assert [tuple(r) for r in driver.select(connection, statements[0], {})] == [(0,)]  # prepared again
        assert driver.select(connection, counted, {})[0].prepared == 3


def test_a_transactions_first_statement_gives_sqlalchemy_its_row_count_and_its_error_as_psycopg_would(pg):
    """A statement that opens its transaction is sent with the BEGIN by the driver and its results handed to
    SQLAlchemy's cursor: an UPDATE's row count reads as psycopg's own, and a refused statement is
    SQLAlchemy's error for it, its transaction rolled back and the connection serving the next."""
    from sqlalchemy.exc import IntegrityError

    from engine.store.models import Instance

    table = Instance.__table__
    case_id = pg.case["id"]
    with pg.db.transaction() as session:
        moved = session.execute(update(table).where(table.c.id == case_id).values(error="noted"))
        assert moved.rowcount == 1
    with pytest.raises(IntegrityError), pg.db.transaction() as session:
        session.execute(update(table).where(table.c.id == case_id).values(process_version_id=-1))
    with pg.db.reading() as session:
        assert session.scalar(select(table.c.error).where(table.c.id == case_id)) == "noted"
