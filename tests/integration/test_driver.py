"""The statements sent by the driver itself (engine/store/driver.py) read what SQLAlchemy would: the same
rows, values converted alike (instants in UTC), lists of any length, the counters and listeners of
statements hearing them; and an object made from a row is tracked and written as one the ORM read."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from engine.services import Reviewflow
from engine.services.actor import Actor
from engine.services.tasks import _FOR_ROLES
from engine.store import driver
from engine.store.models import HumanTask
from tests.bench.common import OWNER, STAFF, bench_files
from tests.conftest import make_settings
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
