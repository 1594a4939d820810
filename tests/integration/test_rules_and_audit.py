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
    changed = wt2018.replace('source = "003 §3.6"', 'source = "003 §3.6 (local: 10 working days)"', 1) \
                    .replace("count = 5", "count = 10", 1)
    result = deployed.deployments.deploy({"rulesets/wt2018.toml": changed.encode()}, PROCESS_OWNER)
    assert [r["name"] for r in result["rulesets"]] == ["WT2018", "WT2023"]   # WT2023 extends it
    new = start_demo(deployed)
    for _ in range(2):
        task = [t for t in deployed.tasks.for_user(BUSINESS_UNIT)][0]
        deployed.instances.complete_task(task["id"], INCIDENT, BUSINESS_UNIT)
    assert _agency_due_dates(deployed) == [(old["id"], "2026-12-30"), (new["id"], "2027-01-07")]


def test_the_database_refuses_to_change_or_delete_audit_entries(deployed):
    start_demo(deployed)
    with pytest.raises(sa.exc.DatabaseError):
        with deployed.db.engine.begin() as conn:
            conn.exec_driver_sql("UPDATE audit_event SET actor = 'someone else'")
    with pytest.raises(sa.exc.DatabaseError):
        with deployed.db.engine.begin() as conn:
            conn.exec_driver_sql("DELETE FROM audit_event")
    with deployed.db.engine.begin() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM audit_event WHERE actor = 'someone else'").scalar() == 0
