"""Concurrency and crash safety: two completions of one task give one success and one conflict;
a failing handler or a failing write leaves the instance as it was."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from engine.services import Reviewflow
from tests.conftest import BUSINESS_UNIT, MANAGER, PROCESS_OWNER, ROOT, make_settings
from tests.integration.test_demo_process import INCIDENT, only_task, start_demo
from tests.racing import race


def test_parallel_completions_of_one_task_exactly_one_wins(deployed):
    service = deployed
    start_demo(service)
    task_id = only_task(service, BUSINESS_UNIT)["id"]
    outcomes = race(lambda: service.instances.complete_task(task_id, INCIDENT, BUSINESS_UNIT))
    assert outcomes == ["conflict", "conflict", "conflict", "ok"]
    case = service.queries.get_instance(service.queries.list_instances(MANAGER)[0]["id"], MANAGER)
    assert [h["kind"] for h in case["history"]].count("task_completed") == 1
    assert len(service.outbox.list(MANAGER)) == 1


def test_a_failing_write_leaves_everything_as_it_was(sqlite_url):
    service = Reviewflow(make_settings(sqlite_url))
    service.deployments.deploy_paths([ROOT / "processes", ROOT / "forms"], PROCESS_OWNER)
    started = start_demo(service)
    task_id = only_task(service, BUSINESS_UNIT)["id"]
    before = service.queries.get_instance(started["id"], MANAGER)
    with service.db.engine.begin() as conn:  # the database itself refuses the write
        conn.exec_driver_sql(
            "CREATE TRIGGER refuse BEFORE UPDATE ON instance BEGIN SELECT RAISE(ABORT, 'disk full'); END"
        )
    with pytest.raises(sa.exc.DatabaseError):
        service.instances.complete_task(task_id, INCIDENT, BUSINESS_UNIT)
    after = service.queries.get_instance(started["id"], MANAGER)
    assert after == before
    assert service.outbox.list(MANAGER) == []
    with service.db.engine.begin() as conn:
        conn.exec_driver_sql("DROP TRIGGER refuse")
    service.instances.complete_task(task_id, INCIDENT, BUSINESS_UNIT)
    assert len(service.outbox.list(MANAGER)) == 1


def test_a_failing_handler_leaves_the_step_in_error_for_retry(database_url, tmp_path):
    directory = tmp_path / "recipients.toml"
    directory.write_text('[recipients]\nbusiness_unit = "bu@example.org"\n')  # no 'panel' yet
    service = Reviewflow(make_settings(database_url, REVIEWFLOW_RECIPIENTS_FILE=str(directory)))
    service.deployments.deploy_paths([ROOT / "processes", ROOT / "forms"], PROCESS_OWNER)
    started = start_demo(service)
    service.instances.complete_task(only_task(service, BUSINESS_UNIT)["id"], INCIDENT, BUSINESS_UNIT)
    case = service.queries.get_instance(started["id"], MANAGER)
    assert case["status"] == "error"
    assert "notify_panel" in case["error"] and "'panel'" in case["error"]
    assert service.outbox.list(MANAGER) == []  # nothing half-done

    directory.write_text('[recipients]\npanel = "panel@example.org"\n')
    service.instances.retry(started["id"], MANAGER, "panel address added")
    case = service.queries.get_instance(started["id"], MANAGER)
    assert case["status"] == "running" and case["error"] is None
    assert [m["recipient"] for m in service.outbox.list(MANAGER)] == ["panel@example.org"]
    assert [t["element_id"] for t in case["tasks"]] == ["agency_return"]
    assert any(h["kind"] == "retried" for h in case["history"])
