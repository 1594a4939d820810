"""A command's writes that need no answer are queued and sent together (engine/store/writes.py): one statement
on PostgreSQL for a whole step, and never at the cost of what a transaction reads, keeps or refuses."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, update

from engine.services import audit
from engine.store import writes
from engine.store.models import AuditEvent, Instance, InstanceStep
from tests.bench.common import OWNER, STAFF, STEP, bench_files
from tests.roundtrips import Statements


@pytest.fixture
def case(service):
    service.deployments.deploy(bench_files(), OWNER)
    return service.instances.start("bench_reference", {"steps_done": 0}, STAFF)


def _open_step(service, case) -> str:
    [task] = [t["id"] for t in service.tasks.for_user(STAFF) if t["instance_id"] == case["id"]]
    return task


def _audit_rows(service, kind: str) -> int:
    with service.db.reading() as session:
        return session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.kind == kind))


def test_a_step_writes_everything_in_one_statement_on_postgresql(postgres_url):
    """The audit row, the next task, the step row renamed, the task done and the case row in one statement,
    sent with COMMIT. Read first (the task, the case, its open tasks: a process that did not save the case
    last), two round trips: the case's row is locked by the read, so the writes need no answer before the
    COMMIT. Decided on what the process knew of the case (it saved it last), one: the case locked, the
    writes checked by the server, and COMMIT."""
    from engine.services import Reviewflow, live_workflows
    from tests.conftest import MANAGER, make_settings

    service = Reviewflow(make_settings(postgres_url))
    service.deployments.deploy(bench_files(), OWNER)
    case = service.instances.start("bench_reference", {"steps_done": 0}, STAFF)
    service.instances.complete_task(_open_step(service, case), STEP, STAFF)  # caches warm
    live_workflows.clear()  # as another process would: it did not save the case last
    task_id = _open_step(service, case)
    with Statements(service.db.engine) as seen:
        service.instances.complete_task(task_id, STEP, STAFF)
    assert seen.count == 2, seen.count
    # BEGIN with the read (sent together, answered together), then the writes with COMMIT
    assert seen.round_trips == 2, seen.round_trips
    # each round trip one write to the server: every write wakes the server's process (psycopg's pipeline
    # mode writes each statement as it is queued, then a Sync, then a flush request)
    assert seen.writes == 2, seen.writes
    task_id = _open_step(service, case)
    with Statements(service.db.engine) as seen:  # the process saved the case last
        service.instances.complete_task(task_id, STEP, STAFF)
    assert (seen.count, seen.round_trips, seen.writes) == (2, 1, 1)  # the case's lock, then the writes
    history = service.queries.get_instance(case["id"], MANAGER)["task_history"]
    done = {f"Review step {n}": "completed" for n in (1, 2, 3)}
    assert {t["name"]: t["state"] for t in history} == done
    assert _audit_rows(service, "task_completed") == 3
    with service.db.reading() as session:
        steps = session.scalars(select(InstanceStep.step).where(InstanceStep.instance_id == case["id"])).all()
    assert steps == ["Review step 4"]
    service.db.dispose()


def test_a_read_in_the_same_transaction_sees_the_queued_writes(service, case):
    with service.db.transaction() as session:
        audit.record(session, "note_added", "sam", instance_id=case["id"])
        seen = session.scalar(select(func.count()).where(AuditEvent.kind == "note_added"))
    assert seen == 1
    assert _audit_rows(service, "note_added") == 1


def test_a_transaction_that_rolls_back_sends_nothing_it_queued(service, case):
    with pytest.raises(RuntimeError), service.db.transaction() as session:
        audit.record(session, "note_added", "sam", instance_id=case["id"])
        raise RuntimeError("the command failed")
    with service.db.transaction() as session:  # the same pooled connection: nothing left queued on it
        audit.record(session, "other_note", "sam", instance_id=case["id"])
    assert _audit_rows(service, "note_added") == 0
    assert _audit_rows(service, "other_note") == 1


def test_a_case_changed_meanwhile_is_a_conflict_and_nothing_of_the_command_is_kept(service, case):
    with pytest.raises(Exception) as refused, service.db.transaction() as session:
        inst = session.get(Instance, case["id"])
        # the row moves on under the loaded case, as another save would make it without the command's lock
        table = Instance.__table__
        moved = update(table).where(table.c.id == case["id"]).values(lock_version=table.c.lock_version + 1)
        session.connection().execute(moved)
        inst.error = "changed by this command"
        audit.record(session, "note_added", "sam", instance_id=case["id"])
    assert "expected to change 1 row; 0 were matched" in str(refused.value)
    assert _audit_rows(service, "note_added") == 0
    with service.db.reading() as session:
        assert session.scalar(select(Instance.error).where(Instance.id == case["id"])) is None


def test_rows_written_by_the_queue_are_as_the_session_holds_them(service, case):
    service.instances.complete_task(_open_step(service, case), STEP, STAFF)
    with service.db.transaction() as session:
        inst = session.get(Instance, case["id"])
        before = inst.lock_version
        inst.error = "noted"
    assert inst.lock_version == before + 1  # moved on in memory as in the database
    assert not session.dirty
    with service.db.reading() as session:
        stored = session.get(Instance, case["id"])
        assert (stored.lock_version, stored.error) == (before + 1, "noted")


def test_a_write_repeating_a_queued_one_is_sent_after_it(service, case):
    with service.db.transaction() as session:
        step = {"instance_id": case["id"], "step": "Review step 1"}
        writes.later(session, writes.Write(InstanceStep.__table__, where=step, values={"step": "A"}))
        writes.later(session, writes.Write(InstanceStep.__table__, where=step, values={"step": "B"}))
        renamed = {"instance_id": case["id"], "step": "A"}
        writes.later(session, writes.Write(InstanceStep.__table__, where=renamed, values={"step": "C"}))
    with service.db.reading() as session:
        steps = session.scalars(select(InstanceStep.step).where(InstanceStep.instance_id == case["id"])).all()
    assert steps == ["C"]


def test_rows_added_in_one_batch_keep_the_order_they_were_queued_in(service, case):
    """The audit log's chronology reads rows in the order of their ids."""
    kinds = [f"act_{n}" for n in range(5)]
    with service.db.transaction() as session:
        for n, kind in enumerate(kinds):
            audit.record(session, kind, "sam", instance_id=case["id"])
            if n == 2:  # another table's write between them
                step = {"instance_id": case["id"], "step": "Review step 1"}
                writes.later(session, writes.Write(InstanceStep.__table__, where=step, values={"step": "X"}))
    with service.db.reading() as session:
        seen = session.scalars(
            select(AuditEvent.kind).where(AuditEvent.kind.in_(kinds)).order_by(AuditEvent.id)
        ).all()
    assert seen == kinds


def test_a_lock_and_what_a_transaction_expects_go_together_before_its_first_statement(postgres_url):
    """On PostgreSQL, with the BEGIN, in one round trip, before the statement that would have opened the
    transaction; an expectation that does not hold fails the transaction there, before anything is written."""
    from sqlalchemy import literal_column
    from sqlalchemy.orm.exc import StaleDataError

    from engine.services import Reviewflow
    from tests.conftest import make_settings

    service = Reviewflow(make_settings(postgres_url))
    service.deployments.deploy(bench_files(), OWNER)
    case = service.instances.start("bench_reference", {"steps_done": 0}, STAFF)
    holds, fails = literal_column("true"), literal_column("false")
    for condition in (holds, fails):
        with Statements(service.db.engine) as seen:
            try:
                with service.db.transaction() as session:
                    writes.lock_first(session, Instance.__table__, {"id": case["id"]})
                    writes.expect(session, condition, "the condition no longer holds", {})
                    audit.record(session, "note_added", "sam", instance_id=case["id"])
                    session.scalar(select(func.count()).select_from(AuditEvent))
            except StaleDataError as refused:
                assert condition is fails and str(refused) == "the condition no longer holds"
            else:
                assert condition is holds
        # BEGIN, the lock and the check; the queued write; the read; COMMIT. Refused: the first, then ROLLBACK
        assert seen.round_trips == (4 if condition is holds else 2), seen.round_trips
    assert _audit_rows(service, "note_added") == 1
    service.db.dispose()
