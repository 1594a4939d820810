"""An action plan reviewed again and again (004 "Review of recommendations": at agreed intervals until every
item is done) costs the same to work on at its sixtieth review as at its third: the live workflow holds only
what can still run, while the case page, the audit log, the diagram and the case data still show every
review the case ever had."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select

from engine import clock
from engine.services import workflow as wfsvc
from engine.store.models import Instance
from tests.scenarios.driver import STAFF, Partnership, form
from tests.scenarios.test_improvement_tracking import ITEMS, update
from tests.signed_in import manager_client
from web.app import create_app

pytestmark = pytest.mark.slow


def _live(service) -> tuple[int, int]:
    """How many tasks the case's live workflow holds, and the size of its stored state."""
    with service.db.reading() as session:
        inst = session.scalars(
            select(Instance).where(Instance.process_id == "recommendation_monitoring")
        ).one()
        _version, workflow = wfsvc.read_state(session, inst)
        tasks = len(workflow.tasks) + sum(len(sub.tasks) for sub in workflow.subprocesses.values())
        return tasks, len(inst.state)


def _reviews(p: Partnership, service, count: int, reminded: bool = False) -> None:
    """``count`` more progress reviews, each agreed eight weeks after the last; with ``reminded`` the clock
    passes each S7N reminder (5 working days before) before the item is reported."""
    for _ in range(count):
        today = clock.today()
        next_review = today + dt.timedelta(weeks=8)
        p.do(
            "schedule_next_review",
            form(
                "action_plan_review", review_date=today.isoformat(), next_review_date=next_review.isoformat()
            ),
        )
        if reminded:
            p.at(f"{next_review - dt.timedelta(days=2)}T12:00:00+00:00")
        [task] = p.tasks("next_progress_review")
        service.instances.complete_task(
            task["id"], update(ITEMS[1], "in_progress", review_date=clock.today().isoformat()), STAFF
        )


def _monitoring(service) -> Partnership:
    p = Partnership(service)
    service.instances.start(
        "recommendation_monitoring",
        {"regime": "WT2015", "action_plan_items": ITEMS[1:], "report_agreed_date": "2027-01-04"},
        STAFF,
    )
    p.at("2027-06-10T10:00:00+00:00")
    [first] = p.tasks("first_progress_review")
    service.instances.complete_task(first["id"], update(ITEMS[1], "in_progress"), STAFF)
    return p


def test_the_live_state_does_not_grow_with_the_reviews_before(deployed):
    p = _monitoring(deployed)
    _reviews(p, deployed, 3)
    tasks_at_3, size_at_3 = _live(deployed)
    _reviews(p, deployed, 57)
    tasks_at_60, size_at_60 = _live(deployed)
    assert tasks_at_60 <= tasks_at_3 + 5, (tasks_at_3, tasks_at_60)
    assert size_at_60 <= size_at_3 + 1024, (size_at_3, size_at_60)
    assert p.errors() == []


def test_every_review_is_still_on_the_case_page_in_the_audit_log_and_the_diagram(deployed):
    p = _monitoring(deployed)
    _reviews(p, deployed, 60, reminded=True)
    assert p.errors() == []
    assert _live(deployed)[0] < 40
    case = p.case("recommendation_monitoring")
    done = [t["element_id"] for t in case["task_history"] if t["state"] == "completed"]
    assert done.count("next_progress_review") == 60 and done.count("schedule_next_review") == 60
    completed = [h for h in case["history"] if h["kind"] == "task_completed"]
    assert [h["element_id"] for h in completed].count("next_progress_review") == 60
    # what each review recorded is in the audit log, as it was submitted
    reported = [
        h["detail"]["after"]["review_date"] for h in completed if h["element_id"] == "next_progress_review"
    ]
    assert len(set(reported)) == 60
    # a reminder's branch ends beside the review: what it recorded is still the case's
    sent = case["data"]["next_progress_review_s7n_remind_sent"]
    assert sent["template"] == "deadline_reminder" and sent["queued_at"][:10] == reported[-1]
    assert len(p.sent("deadline_reminder")) >= 2 * 60  # to the chair and the Business Unit, each round

    diagram = deployed.queries.diagram(case["id"], STAFF)
    for step in ("first_progress_review", "prepare_items", "tally_items", "schedule_next_review"):
        assert step in diagram["completed"] or step in diagram["active"], step
    assert deployed.queries.chronology(case["id"], STAFF) == []  # a plan has no agency chronology

    client = manager_client(create_app(deployed))
    page = client.get(f"/cases/{case['id']}").get_data(as_text=True)
    assert page.count("Report the item&#39;s progress again") >= 60
    assert page.count("Record the progress review and agree the next") >= 60
    audit = page.split("Audit log", 1)[1]
    assert len(re.findall(r"task completed", audit)) >= 121  # the first review and 60 rounds of two steps
