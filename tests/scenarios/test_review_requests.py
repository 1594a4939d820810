"""A review asked for from the Start page for a case that is not a serious incident (000 §10.1, Appendix 6;
003 §5.6): under the rules in force on the day it is asked (Working Together 2023 on Monday 21 December
2026) the Practice Review Group recommends and the Executive Group decides whether to hold a local review,
which then runs from the decision's date; under the 2015 procedures the SCR sub group decides the type of
review and the LSCB chair approves it on a form of its own."""

from __future__ import annotations

import pytest

from engine.services.actor import Actor
from engine.services.errors import Forbidden
from tests.scenarios.driver import STAFF, Partnership, form

REQUESTER = Actor("lead", frozenset({"Referring agency"}))  # an agency's safeguarding lead (001 §2)


def requested(service, **changes) -> Partnership:
    """An agency's safeguarding lead asks for a review, naming no rules: those in force today apply."""
    started = service.instances.start(
        "multi_agency_review", form("multi_agency_review_request", **changes), REQUESTER
    )
    assert started["status"] == "running"
    return Partnership(service)


def test_a_request_below_the_threshold_becomes_a_local_review_from_the_executive_decision(deployed):
    p = requested(deployed)
    case = p.case("multi_agency_review")
    assert case["data"]["regime"] == "WT2023"  # the rules in force on the day it was asked
    assert p.open_steps() == ["mar_local_consider"]
    p.do(
        "mar_local_consider",
        form("local_review_request_recommendation", date_received="2026-12-21", date_discussed="2026-12-21"),
    )
    task = p.task("mar_local_decide")
    assert task["role"] == "Executive Group"
    p.at("2027-01-05T10:00:00+00:00")
    p.do("mar_local_decide", form("local_review_request_decision", decision_date="2027-01-05"))
    assert p.case("multi_agency_review")["status"] == "completed"
    local = p.case("local_cspr")
    assert local["status"] == "running"
    assert local["data"]["decision_date"] == "2027-01-05"
    assert local["data"]["converted_from"] == "multi_agency_review"
    assert local["data"]["review_type"] == "below_threshold"
    assert local["business_key"] == case["business_key"]  # one case, handed over
    assert "commission_reviewer" in p.open_steps()
    # its six months count from the decision to initiate it (003 §7.8)
    [r9] = [d for d in local["deadlines"] if d["key"] == "R9"]
    assert r9["due_date"] == "2027-07-05"


def test_no_local_review_the_requester_is_told_why(deployed):
    p = requested(deployed)
    p.do(
        "mar_local_consider",
        form(
            "local_review_request_recommendation",
            local_review_recommended=False,
            date_received="2026-12-21",
            date_discussed="2026-12-21",
        ),
    )
    p.do(
        "mar_local_decide",
        form(
            "local_review_request_decision",
            local_review_agreed=False,
            decision_date="2026-12-21",
            decision_reasons="The learning is already in hand.",
        ),
    )
    assert p.case("multi_agency_review")["status"] == "completed"
    assert p.instances("local_cspr") == []
    assert sorted(r for r, _ in p.sent("local_review_request_declined")) == [
        "business-unit@example.org",
        "independent-chair@example.org",
        "referrer@example.org",
    ]


def test_only_those_entitled_to_ask_start_a_request(deployed):
    with pytest.raises(Forbidden):
        deployed.instances.start(
            "multi_agency_review",
            form("multi_agency_review_request"),
            Actor("ex", frozenset({"Executive Group"})),
        )
    for role in ("Referring agency", "Local authority", "Business Unit", "manager"):
        assert deployed.instances.may_start("multi_agency_review", Actor("x", frozenset({role})))


def test_under_the_2015_procedures_the_sub_group_recommends_and_the_chair_approves(deployed):
    """000 §10.2: the sub group decides the type of review and recommends it; the LSCB chair approves on its
    own form, whose choices are the approval and nothing the process would ignore."""
    deployed.instances.start(
        "multi_agency_review", {"regime": "WT2015", **form("multi_agency_review_request")}, STAFF
    )
    p = Partnership(deployed)
    p.do(
        "mar_type",
        form(
            "review_type_decision",
            decision_date="2026-12-21",
            date_received="2026-12-21",
            date_discussed="2026-12-21",
        ),
    )
    chair = deployed.tasks.get(p.task("mar_chair")["id"], STAFF)
    assert chair["form_schema"]["title"] == "Agree the recommended review" == p.task("mar_chair")["name"]
    options = chair["form_schema"]["properties"]["review_approval"]["enum"]
    assert options == ["approved", "reconsider", "more_information"]
    p.do(
        "mar_chair",
        form(
            "review_request_chair_decision",
            review_approval="more_information",
            decision_date="2026-12-21",
            chair_signature={"name": "Chair Example", "date": "2026-12-21"},
        ),
    )
    assert p.open_steps() == ["mar_type"]  # back to the sub group
    p.do(
        "mar_type",
        form(
            "review_type_decision",
            decision_date="2026-12-21",
            date_received="2026-12-21",
            date_discussed="2026-12-21",
        ),
    )
    p.do(
        "mar_chair",
        form(
            "review_request_chair_decision",
            decision_date="2026-12-21",
            chair_signature={"name": "Chair Example", "date": "2026-12-21"},
        ),
    )
    assert p.case("multi_agency_review")["data"]["decision_date"] == "2026-12-21"
    p.do("mar_report", form("review_report"))
    assert p.case("multi_agency_review")["status"] == "completed"
    assert p.case("recommendation_monitoring")["status"] == "running"
