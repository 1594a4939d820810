"""Completing a task of a case this process saved last, decided on what it knew of the case then, without
reading it first (engine/services/instances.py, live_workflows.Known): one round trip to PostgreSQL, kept only
if the database still holds what the completion took as read; otherwise decided again on what is stored, so
that nothing anyone else did meanwhile is overwritten or ignored."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import func, select, text

from engine.services import Reviewflow, live_workflows
from engine.services.actor import Actor
from engine.services.errors import Conflict
from engine.store.models import AuditEvent, HumanTask, Instance, TaskDraft
from tests.bench.common import STAFF, STEP
from tests.conftest import make_settings
from tests.open_case import bench_case_service
from tests.racing import race
from tests.roundtrips import Statements

OTHER_STAFF = Actor("other-staff", frozenset({"Staff"}))
DECIDED_AGAIN = "completion decided again on what is stored"


@pytest.fixture
def pg(postgres_url):
    service = bench_case_service(postgres_url)
    yield service
    service.db.dispose()


def _open_step(service) -> str:
    [task] = [t["id"] for t in service.tasks.for_user(STAFF) if t["instance_id"] == service.case["id"]]
    return task


def _completed(service) -> int:
    with service.db.reading() as session:
        return session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.kind == "task_completed")
        )


def _sql(service, statement: str, **params) -> None:
    """Another process's change, made behind this one's back."""
    with service.db.engine.begin() as connection:
        connection.execute(text(statement), params)


def test_a_task_of_a_case_this_process_saved_last_is_completed_in_one_round_trip(pg):
    """BEGIN, the case's row locked, the writes (checked by the server) and COMMIT: one write to the server,
    one answer. The same step read first is two round trips."""
    pg.instances.complete_task(_open_step(pg), STEP, STAFF)  # caches warm, statements prepared
    task_id = _open_step(pg)
    with Statements(pg.db.engine) as seen:
        pg.instances.complete_task(task_id, STEP, STAFF)
    assert (seen.round_trips, seen.writes, seen.count) == (1, 1, 2)
    assert _completed(pg) == 2

    live_workflows.clear()  # as a process that has just started: it knows no case
    task_id = _open_step(pg)
    with Statements(pg.db.engine) as seen:
        pg.instances.complete_task(task_id, STEP, STAFF)
    assert (seen.round_trips, seen.writes, seen.count) == (2, 2, 2)
    assert _completed(pg) == 3


def test_a_case_changed_by_another_process_meanwhile_is_decided_on_what_is_stored(pg, caplog):
    task_id = _open_step(pg)
    _sql(pg, "UPDATE instance SET lock_version = lock_version + 1 WHERE id = :id", id=pg.case["id"])
    with caplog.at_level(logging.DEBUG, logger="reviewflow.engine"):
        pg.instances.complete_task(task_id, STEP, STAFF)
    assert DECIDED_AGAIN in caplog.text
    assert _completed(pg) == 1
    with pg.db.reading() as session:
        assert session.get(HumanTask, task_id).state == "completed"
    pg.instances.complete_task(_open_step(pg), STEP, STAFF)  # and the case goes on
    assert _completed(pg) == 2


def test_a_state_changed_by_hand_is_the_state_the_completion_runs_on(pg, caplog):
    """A hand-made change that leaves the case's version as it was still changes its state: the stored state
    wins (here a state damaged by hand: the case is put in the incident state, and nothing is completed)."""
    task_id = _open_step(pg)
    _sql(pg, "UPDATE instance SET state = decode('00', 'hex') || state WHERE id = :id", id=pg.case["id"])
    with caplog.at_level(logging.DEBUG, logger="reviewflow.engine"), pytest.raises(Conflict):
        pg.instances.complete_task(task_id, STEP, STAFF)
    assert DECIDED_AGAIN in caplog.text
    assert _completed(pg) == 0
    with pg.db.reading() as session:
        assert session.get(HumanTask, task_id).state == "open"
        assert session.get(Instance, pg.case["id"]).status == "error"


def test_a_task_claimed_by_someone_else_meanwhile_is_refused(pg):
    task_id = _open_step(pg)
    pg.tasks.claim(task_id, OTHER_STAFF)  # moves no version of the case: the task's assignee is expected
    with pytest.raises(Conflict, match="claimed by other-staff"):
        pg.instances.complete_task(task_id, STEP, STAFF)
    assert _completed(pg) == 0


def test_a_draft_saved_meanwhile_is_removed_by_the_completion(pg, caplog):
    task_id = _open_step(pg)
    pg.tasks.save_draft(task_id, {"note": "half done"}, STAFF)
    with caplog.at_level(logging.DEBUG, logger="reviewflow.engine"):
        pg.instances.complete_task(task_id, STEP, STAFF)
    assert DECIDED_AGAIN in caplog.text
    with pg.db.reading() as session:
        assert session.scalar(select(func.count()).select_from(TaskDraft)) == 0


@pytest.mark.parametrize("revision", ["calendar", "people"])
def test_a_calendar_or_people_changed_meanwhile_are_counted_with_as_they_are_now(pg, caplog, revision):
    task_id = _open_step(pg)
    _sql(pg, "UPDATE revision SET value = value + 1 WHERE name = :name", name=revision)
    with caplog.at_level(logging.DEBUG, logger="reviewflow.engine"):
        pg.instances.complete_task(task_id, STEP, STAFF)
    assert DECIDED_AGAIN in caplog.text
    assert _completed(pg) == 1


def test_what_is_known_of_a_case_serves_one_completion(pg, caplog):
    """Given out once: a second command on the same knowledge would run on a workflow another command took."""
    task_id = _open_step(pg)
    with caplog.at_level(logging.DEBUG, logger="reviewflow.engine"):
        pg.instances.complete_task(task_id, STEP, STAFF)
        with pytest.raises(Conflict, match="already completed"):
            pg.instances.complete_task(task_id, STEP, STAFF)
    assert DECIDED_AGAIN not in caplog.text
    assert _completed(pg) == 1


def test_a_task_another_process_completed_meanwhile_is_not_completed_twice(pg, postgres_url):
    """This process still knows the task as open; another process (a cache of its own, as another worker
    has) completed it meanwhile: the completion is refused on what is stored, and nothing is written twice."""
    task_id = _open_step(pg)
    joined = "&" if "?" in postgres_url else "?"
    other = Reviewflow(make_settings(f"{postgres_url}{joined}application_name=other"))
    try:
        assert other.db.key != pg.db.key  # what one knows, the other does not
        other.instances.complete_task(task_id, STEP, STAFF)
        with pytest.raises(Conflict, match="already completed"):
            pg.instances.complete_task(task_id, STEP, STAFF)
        assert _completed(pg) == 1
        pg.instances.complete_task(_open_step(pg), STEP, STAFF)  # the next step, on what is stored
        other.instances.complete_task(_open_step(pg), STEP, STAFF)  # and back: the first knows it no more
        assert _completed(pg) == 3
        with pg.db.reading() as session:
            assert session.scalars(select(HumanTask.name).where(HumanTask.state == "open")).all() == [
                "Review step 4"
            ]
    finally:
        other.db.dispose()


def test_of_parallel_completions_of_one_task_exactly_one_wins(pg):
    """One of them decides on what this process knew of the case (given once), the others read it first;
    whichever commits first completes the step, and every other is refused. (The demo process's own test,
    tests/integration/test_consistency.py, also holds that none of them deadlocks: its steps read rows
    before they write, so a completion that did not read its case first must lock it first.)"""
    task_id = _open_step(pg)
    assert race(lambda: pg.instances.complete_task(task_id, STEP, STAFF)) == [
        "conflict",
        "conflict",
        "conflict",
        "ok",
    ]
    assert _completed(pg) == 1


def test_a_step_that_reads_before_it_writes_is_still_decided_on_what_was_known(postgres_url, caplog):
    """The demo process's step reads rows of its own and writes some before it commits (its deadlines, its
    messages): the case is locked and what was known checked before the first of them, as the rows were
    before the step wrote any, not at the COMMIT, when the step's own writes have changed them."""
    from tests.conftest import BUSINESS_UNIT, PROCESS_OWNER, ROOT
    from tests.integration.test_demo_process import INCIDENT, only_task, start_demo

    service = Reviewflow(make_settings(postgres_url))
    try:
        service.deployments.deploy_paths([ROOT / "processes", ROOT / "forms"], PROCESS_OWNER)
        trips = {}
        for known in (False, True, True):  # read first (caches warm), then on what was known, twice
            start_demo(service)
            if not known:
                live_workflows.clear()
            task_id = only_task(service, BUSINESS_UNIT)["id"]
            with (
                caplog.at_level(logging.DEBUG, logger="reviewflow.engine"),
                Statements(service.db.engine) as seen,
            ):
                service.instances.complete_task(task_id, INCIDENT, BUSINESS_UNIT)
            trips[known] = seen.round_trips
        assert DECIDED_AGAIN not in caplog.text
        assert _completed(service) == 3
        assert trips[True] <= trips[False], trips  # the case's lock and the check go where the read went
    finally:
        service.db.dispose()
