"""An agency sees the request addressed to it and nothing else of the case; a referrer hands an
incident over and does not follow the partnership's deliberations; partnership staff with a step in a
case see the case."""

from __future__ import annotations

import pytest

from engine.services.actor import Actor
from engine.services.errors import Forbidden
from tests.scenarios.driver import Partnership, form

POLICE = Actor("pc", frozenset({"Agency: Police"}))
REFERRER = Actor("ref", frozenset({"Referring agency"}))
BU = Actor("bu", frozenset({"Business Unit"}))


def test_an_agency_sees_its_request_but_not_the_case(deployed):
    p = Partnership(deployed)
    p.start(date_aware="2026-12-18", notification_date=None)
    p.do("check_other_children", form("safety_check"))
    p.do("notify_panel_and_partners", form("statutory_notification"))
    p.do("arrange_rapid_review", form("rapid_review_arrangements", information_required_by="2026-12-31"))
    [request] = deployed.tasks.for_user(POLICE)
    assert request["element_id"] == "return_agency_information"
    detail = deployed.tasks.get(request["id"], POLICE)
    assert detail["form_schema"]["title"]
    # enough to find the child in the agency's records, and nothing else of the case
    assert detail["context"]["information_required_by"] == "2026-12-31"
    assert [c["name"] for c in detail["context"]["children"]] == ["Child A Example", "Child B Example"]
    assert set(detail["context"]["children"][0]) <= {"name", "also_known_as", "date_of_birth", "address"}
    assert "reasons_for_review" not in detail["context"] and "referrer" not in detail["context"]
    rapid = p.case("rapid_review")
    with pytest.raises(Forbidden):
        deployed.queries.get_instance(rapid["id"], POLICE)
    assert deployed.queries.list_instances(POLICE) == []
    with pytest.raises(Forbidden):
        deployed.instances.deliver_message(
            "panel_response", {"outcome": "national_review"}, POLICE, instance_id=rapid["id"]
        )
    assert deployed.queries.get_instance(rapid["id"], BU)["business_key"] == rapid["business_key"]


def test_a_referrer_does_not_follow_the_case_it_reported(deployed):
    started = deployed.instances.start(
        "incident_notification", form("incident_notification", agencies=["police"]), REFERRER
    )
    with pytest.raises(Forbidden):
        deployed.queries.get_instance(started["id"], REFERRER)
    assert deployed.queries.list_instances(REFERRER) == []


def test_the_case_diagram_marks_completed_active_and_overdue_steps(deployed):
    from engine import clock

    p = Partnership(deployed)
    p.start(date_aware="2026-12-18", notification_date=None)
    p.do("check_other_children", form("safety_check"))
    case = p.case("incident_notification")
    view = deployed.queries.diagram(case["id"], BU.__class__("mo", frozenset({"manager"})))
    assert view["bpmn"].startswith("<?xml") and 'id="incident_notification"' in view["bpmn"]
    assert {
        "notification_received",
        "record_notification",
        "assess_notifiable",
        "check_other_children",
    } <= set(view["completed"])
    assert view["active"] == ["notify_panel_and_partners"]
    assert view["due"] == {"notify_panel_and_partners": "2026-12-29"} and view["overdue"] == []
    clock.set_now("2026-12-30T09:00:00+00:00")
    deployed.work_once()
    view = deployed.queries.diagram(case["id"], BU.__class__("mo", frozenset({"manager"})))
    assert view["overdue"] == ["notify_panel_and_partners"]
    with pytest.raises(Forbidden):
        deployed.queries.diagram(case["id"], POLICE)
