"""A page's read writes nothing, whatever it does: an object changed in passing is discarded, and a write
statement sent through it is refused (PostgreSQL: the transaction is READ ONLY) or rolled back (SQLite)."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import DBAPIError

from engine.store.models import Revision


def _calendar_revision(service) -> int:
    with service.db.reading() as session:
        return session.scalar(select(Revision.value).where(Revision.name == "calendar"))


def test_an_object_changed_in_a_read_is_not_written(service):
    before = _calendar_revision(service)
    with service.db.reading() as session:
        row = session.get(Revision, "calendar")
        row.value = before + 100
    assert _calendar_revision(service) == before


def test_a_write_statement_in_a_read_is_refused_or_rolled_back(service):
    before = _calendar_revision(service)
    statement = update(Revision).where(Revision.name == "calendar").values(value=before + 100)
    if service.db.dialect == "postgresql":
        with pytest.raises(DBAPIError, match="read-only transaction"), service.db.reading() as session:
            session.execute(statement)
    else:
        with service.db.reading() as session:
            session.execute(statement)
    assert _calendar_revision(service) == before
