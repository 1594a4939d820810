"""One bad case never stops the work of others (issue 8, finding 1).

A case that cannot be loaded, saved or run is put in a visible incident state (status ``error``
with its reason, excluded from every sweep until a manager retries it); the sweep goes on with
the other cases, and no exception from diagram code, ``SystemExit`` included, escapes its case.
"""

from __future__ import annotations

import pytest

from engine import clock
from tests.bpmn_parts import end_event, flows_and_closing, one_hour, opening, script_task
from tests.conftest import BUSINESS_UNIT, MANAGER, PROCESS_OWNER
from tests.layout import with_layout
from web.app import create_app


def _process(pid: str, script: str) -> str:
    """Process ``pid``: an hour's wait, ``script``, then a task for the Business Unit to look at."""
    return (
        opening(pid, f"{pid}_defs")
        + f"""    <bpmn:laneSet id="{pid}_lanes"><bpmn:lane id="{pid}_bu" name="Business Unit">
      <bpmn:flowNodeRef>{pid}_start</bpmn:flowNodeRef><bpmn:flowNodeRef>{pid}_wait</bpmn:flowNodeRef>
      <bpmn:flowNodeRef>{pid}_after</bpmn:flowNodeRef><bpmn:flowNodeRef>{pid}_task</bpmn:flowNodeRef>
      <bpmn:flowNodeRef>{pid}_end</bpmn:flowNodeRef>
    </bpmn:lane></bpmn:laneSet>
    <bpmn:startEvent id="{pid}_start"><bpmn:outgoing>{pid}_f1</bpmn:outgoing></bpmn:startEvent>
"""
        + one_hour(f"{pid}_wait", f"{pid}_f1", f"{pid}_f2")
        + script_task(f"{pid}_after", "After the hour", f"{pid}_f2", f"{pid}_f3", script)
        + f"""    <bpmn:userTask id="{pid}_task" name="Look at it">
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="formJsonSchemaFilename" value="look_at_it.json"/>
      </spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:incoming>{pid}_f3</bpmn:incoming><bpmn:outgoing>{pid}_f4</bpmn:outgoing>
    </bpmn:userTask>
"""
        + end_event(f"{pid}_end", f"{pid}_f4")
        + flows_and_closing(
            (f"{pid}_f1", f"{pid}_start", f"{pid}_wait"),
            (f"{pid}_f2", f"{pid}_wait", f"{pid}_after"),
            (f"{pid}_f3", f"{pid}_after", f"{pid}_task"),
            (f"{pid}_f4", f"{pid}_task", f"{pid}_end"),
        )
    )


POISONS = {
    # diagram code that ends the interpreter: must fail its own step, never the worker
    "exits": "raise SystemExit(3)",
    # data nested far deeper than anything can load back
    "nests": "deep = []\nfor i in range(500):\n    deep = [deep]",
}


def _deploy(service, **scripts) -> None:
    files = {f"{pid}.bpmn": with_layout(_process(pid, script).encode()) for pid, script in scripts.items()}
    files["look_at_it.json"] = b'{"type": "object", "properties": {"seen": {"type": "boolean"}}}'
    service.deployments.deploy(files, PROCESS_OWNER)


def _sweep_everything(service) -> list[int]:
    fired = []
    for _ in range(10):
        batch = service.instances.fire_due_timers()
        if not batch:
            break
        fired += batch
    return fired


@pytest.mark.parametrize("poison", sorted(POISONS))
def test_a_poison_case_does_not_stop_the_timers_of_the_others(service, poison):
    _deploy(service, good="done = True", bad=POISONS[poison])
    bad = service.instances.start("bad", {}, BUSINESS_UNIT)  # started first, so swept first
    clock.advance(seconds=1)
    good = [service.instances.start("good", {}, BUSINESS_UNIT)["id"] for _ in range(5)]
    clock.advance(hours=2)

    _sweep_everything(service)

    for iid in good:
        case = service.queries.get_instance(iid, MANAGER)
        assert case["status"] == "running" and [t["name"] for t in case["tasks"]] == ["Look at it"]
    failed = service.queries.get_instance(bad["id"], MANAGER)
    assert failed["status"] == "error" and failed["error"]
    assert failed["failed_at"] is not None
    # out of every later sweep until a manager retries it
    assert service.instances.fire_due_timers() == []
    assert [i["id"] for i in service.queries.list_instances(MANAGER, status="error")] == [bad["id"]]


def _damage(service, instance_id: int) -> None:
    """A stored state that no longer reads back (a damaged row, a library that changed its format)."""
    from sqlalchemy import update

    from engine.store.models import Instance

    with service.db.transaction() as session:
        session.execute(update(Instance).where(Instance.id == instance_id).values(state=b"not a workflow"))


def test_a_case_that_cannot_be_loaded_is_shown_cancelled_and_retried_without_a_server_error(service):
    _deploy(service, good="done = True", bad="done = True")
    bad = service.instances.start("bad", {}, BUSINESS_UNIT)
    good = service.instances.start("good", {}, BUSINESS_UNIT)
    _damage(service, bad["id"])
    clock.advance(hours=2)
    assert _sweep_everything(service) == [good["id"]]
    assert service.queries.get_instance(good["id"], MANAGER)["active_steps"] == ["Look at it"]

    client = create_app(service).test_client()
    service.users.add("mo", ["manager"])
    headers = {"Authorization": f"Bearer {service.users.create_token('mo')}"}
    shown = client.get(f"/api/v1/instances/{bad['id']}", headers=headers)
    assert shown.status_code == 200, shown.get_json()
    assert shown.get_json()["status"] == "error"
    listed = client.get("/api/v1/instances?status=error", headers=headers).get_json()
    assert [i["id"] for i in listed["instances"]] == [bad["id"]]

    retried = client.post(
        f"/api/v1/instances/{bad['id']}/retry", headers=headers, json={"reason": "try again"}
    )
    assert retried.status_code in (200, 409), retried.get_json()
    assert service.queries.get_instance(bad["id"], MANAGER)["status"] == "error"

    cancelled = client.post(
        f"/api/v1/instances/{bad['id']}/cancel", headers=headers, json={"reason": "cannot be repaired"}
    )
    assert cancelled.status_code == 200, cancelled.get_json()
    assert service.queries.get_instance(bad["id"], MANAGER)["status"] == "cancelled"


def test_an_oversized_case_fails_its_step_and_keeps_its_last_good_state(service):
    """The case-data cap applies to the uncompressed data after every step, not to what was submitted."""
    # what was submitted and what the script made are each within their own limits, together over the case's
    _deploy(service, big="blob = 'x' * 900000")
    big = service.instances.start("big", {"notes": "n" * 200_000}, BUSINESS_UNIT)
    clock.advance(hours=2)
    _sweep_everything(service)
    case = service.queries.get_instance(big["id"], MANAGER)
    assert case["status"] == "error"
    assert "blob" not in case["data"]
    assert "limit" in case["error"]


def test_a_task_of_a_case_that_cannot_be_opened_still_opens_without_a_server_error(service):
    """Its form shows without the case context (the case page says why); completing it is refused."""
    _deploy(service, bad="done = True")
    bad = service.instances.start("bad", {}, BUSINESS_UNIT)
    clock.advance(hours=2)
    _sweep_everything(service)
    [task] = [t for t in service.tasks.for_user(BUSINESS_UNIT) if t["instance_id"] == bad["id"]]
    _damage(service, bad["id"])
    shown = service.tasks.get(task["id"], BUSINESS_UNIT)
    assert shown["context"] == {} and shown["form_schema"]["type"] == "object"
