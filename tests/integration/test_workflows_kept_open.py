"""A command reuses the workflow the last command on a case saved (engine/services/live_workflows.py) only
while it is still what is stored: a case changed outside the service is read from its stored state, and a
step that was refused leaves nothing of itself behind for the next command."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from engine.services.errors import Conflict, Invalid
from engine.store.models import Instance
from tests.bench.common import OWNER, STAFF, STEP, bench_files
from tests.conftest import MANAGER


@pytest.fixture
def case(service):
    service.deployments.deploy(bench_files(), OWNER)
    return service.instances.start("bench_reference", {"steps_done": 0}, STAFF)


def _open_step(service, case) -> dict:
    [task] = [t for t in service.tasks.for_user(STAFF) if t["instance_id"] == case["id"]]
    return task


def _stored_state(service, case) -> bytes:
    with service.db.reading() as session:
        return session.scalar(select(Instance.state).where(Instance.id == case["id"]))


def _store_state(service, case, state: bytes) -> None:
    """Write a case's state as something other than the service would (a repair by hand, another version)."""
    with service.db.transaction() as session:
        session.execute(update(Instance).where(Instance.id == case["id"]).values(state=state))


def test_a_case_whose_stored_state_was_changed_outside_is_read_from_what_is_stored(service, case):
    service.instances.complete_task(_open_step(service, case)["id"], STEP, STAFF)
    step_2 = _open_step(service, case)
    _store_state(service, case, b"not a workflow")
    with pytest.raises(Conflict, match="cannot be opened"):
        service.instances.complete_task(step_2["id"], STEP, STAFF)
    assert service.queries.get_instance(case["id"], MANAGER)["status"] == "error"


def test_a_case_put_back_to_an_earlier_state_carries_on_from_that_state(service, case):
    service.instances.complete_task(_open_step(service, case)["id"], STEP, STAFF)
    after_one = _stored_state(service, case)
    service.instances.complete_task(_open_step(service, case)["id"], STEP, STAFF)
    _store_state(service, case, after_one)  # the workflow as it was after step 1: step 2 ready again
    step_2 = next(
        t
        for t in service.queries.get_instance(case["id"], MANAGER)["task_history"]
        if t["name"] == "Review step 2" and t["state"] == "completed"
    )
    with service.db.transaction() as session:  # its task row opened again to match, as a repair would
        from engine.store.models import HumanTask

        session.execute(update(HumanTask).where(HumanTask.id == step_2["id"]).values(state="open"))
    service.instances.complete_task(step_2["id"], STEP, STAFF)
    assert service.queries.get_instance(case["id"], MANAGER)["data"]["steps_done"] == 2  # not 3


def test_a_refused_step_leaves_nothing_behind_for_the_next_command(service):
    files = bench_files()  # steps 1 and 2 each keep 300 copies of their note: two long notes are too much
    for kept in (b"copies", b"more"):
        files["bench_reference.bpmn"] = files["bench_reference.bpmn"].replace(
            b"<bpmn:script>steps_done = steps_done + 1",
            b"<bpmn:script>" + kept + b" = [note] * 300\nsteps_done = steps_done + 1",
            1,
        )
    service.deployments.deploy(files, OWNER)
    case = service.instances.start("bench_reference", {"steps_done": 0}, STAFF)
    long_note = {**STEP, "note": "x" * 2000}
    service.instances.complete_task(_open_step(service, case)["id"], long_note, STAFF)
    step_2 = _open_step(service, case)
    with pytest.raises(Invalid, match="could not be kept"):
        service.instances.complete_task(step_2["id"], long_note, STAFF)  # run, then refused at the save
    assert _open_step(service, case)["id"] == step_2["id"]
    service.instances.complete_task(step_2["id"], STEP, STAFF)
    shown = service.queries.get_instance(case["id"], MANAGER)
    assert shown["data"]["steps_done"] == 2 and shown["data"]["note"] == STEP["note"]
    assert shown["data"]["more"] == [STEP["note"]] * 300
    assert _open_step(service, case)["name"] == "Review step 3"


def test_a_workflow_that_cannot_be_kept_after_a_commit_leaves_the_command_successful(
    service, case, monkeypatch
):
    """What follows a commit (keeping the workflow for the next command) cannot undo it: the command has
    succeeded, and says so; the next command reads the case from what is stored."""
    from engine.services import live_workflows

    def cannot_keep(*_args):
        raise MemoryError("no room to keep the workflow")

    monkeypatch.setattr(live_workflows, "keep", cannot_keep)
    done = service.instances.complete_task(_open_step(service, case)["id"], STEP, STAFF)
    assert done["status"] == "running"
    monkeypatch.undo()
    service.instances.complete_task(_open_step(service, case)["id"], STEP, STAFF)
    history = service.queries.get_instance(case["id"], MANAGER)["history"]
    assert [h["kind"] for h in history].count("task_completed") == 2
