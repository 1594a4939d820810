"""A case keeps the rule set it started under; the audit log cannot be rewritten."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.conftest import AGENCY, BUSINESS_UNIT, PROCESS_OWNER, ROOT
from tests.integration.test_demo_process import INCIDENT, start_demo


def _agency_due_dates(service):
    return sorted((t["instance_id"], t["due_date"]) for t in service.tasks.for_user(AGENCY))


def test_a_case_keeps_the_rule_set_it_started_under(deployed):
    old = start_demo(deployed)
    wt2018 = (ROOT / "processes" / "rulesets" / "wt2018.toml").read_text()
    changed = wt2018.replace(
        'source = "003 §3.6"', 'source = "003 §3.6 (local: 10 working days)"', 1
    ).replace("count = 5", "count = 10", 1)
    result = deployed.deployments.deploy({"rulesets/wt2018.toml": changed.encode()}, PROCESS_OWNER)
    assert [r["name"] for r in result["rulesets"]] == ["WT2018", "WT2023"]  # WT2023 extends it
    new = start_demo(deployed)
    for _ in range(2):
        task = next(iter(deployed.tasks.for_user(BUSINESS_UNIT)))
        deployed.instances.complete_task(task["id"], INCIDENT, BUSINESS_UNIT)
    assert _agency_due_dates(deployed) == [(old["id"], "2026-12-30"), (new["id"], "2027-01-07")]


def test_the_database_refuses_to_change_or_delete_audit_entries(deployed):
    start_demo(deployed)
    with pytest.raises(sa.exc.DatabaseError), deployed.db.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE audit_event SET actor = 'someone else'")
    with pytest.raises(sa.exc.DatabaseError), deployed.db.engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM audit_event")
    with deployed.db.engine.begin() as conn:
        assert (
            conn.exec_driver_sql("SELECT count(*) FROM audit_event WHERE actor = 'someone else'").scalar()
            == 0
        )


def test_a_new_one_off_holiday_moves_deadlines_already_armed(deployed):
    from engine.services.actor import Actor
    from tests.conftest import MANAGER

    case = start_demo(deployed)
    deployed.instances.complete_task(deployed.tasks.for_user(BUSINESS_UNIT)[0]["id"], INCIDENT, BUSINESS_UNIT)
    assert _agency_due_dates(deployed) == [(case["id"], "2026-12-30")]
    result = deployed.calendar.set_override(
        "2026-12-29", "holiday", "One-off holiday", Actor("ada", frozenset({"admin"}))
    )
    assert result["cases_recomputed"] == 1
    assert _agency_due_dates(deployed) == [(case["id"], "2026-12-31")]
    view = deployed.queries.get_instance(case["id"], MANAGER)
    assert [(d["key"], d["due_date"], d["fires_at"]) for d in view["deadlines"]] == [
        ("R1", "2026-12-31", "2027-01-01T00:00:00+00:00")
    ]
    assert any(h["kind"] == "deadline_moved" for h in view["history"])
    from engine import clock

    clock.set_now("2026-12-24T09:01:00+00:00")  # reminder: 2 WD before 31 Dec is still 24 Dec
    assert deployed.instances.fire_due_timers() == [case["id"]]
    clock.set_now("2026-12-31T00:00:01+00:00")  # the old escalation time passes quietly
    assert deployed.instances.fire_due_timers() == []
    clock.set_now("2027-01-01T00:00:01+00:00")  # and the escalation comes at the end of the new due day
    assert deployed.instances.fire_due_timers() == [case["id"]]
    assert [d["status"] for d in deployed.queries.get_instance(case["id"], MANAGER)["deadlines"]] == [
        "missed"
    ]
