"""Working Together 2015: the National Panel's scrutiny of every decision not to hold a serious case
review, the chase when it does not answer, its requests for more information, the chair revisiting a
decision on new information, and the chair's checklist agreeing with the SCR criteria. The clock starts
on Monday 21 December 2026."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from engine.services.errors import Invalid
from engine.store.models import MessageWait
from tests.conftest import MANAGER
from tests.scenarios.driver import STAFF, Partnership, form
from tests.scenarios.test_wt2015_serious_case_review import decision_pending, recommended

PANEL, BU = "panel-notifications@example.org", "business-unit@example.org"
DEPARTURE = (
    "The agencies' records show the harm was not caused by abuse; "
    "a partnership review will find the learning."
)


def other_review_decided(p: Partnership, **changes) -> None:
    """The criteria say must commission; the chair decides on another kind of review instead."""
    p.at("2027-01-15T10:00:00+00:00")
    p.do(
        "chair_decides",
        form(
            "chair_decision",
            **{
                "review_decision": "other_review",
                "review_type": "systems",
                "decision_date": "2027-01-15",
                "criteria_departure_reason": DEPARTURE,
                **changes,
            },
        ),
    )
    p.do("notify_decision", form("statutory_notification"))


def waiting_for_panel(p: Partnership) -> bool:
    """Whether the decision case waits for the National Panel's view (its message routing row)."""
    case_id = p.case("scr_decision")["id"]
    with p.service.db.reading() as session:
        names = session.scalars(select(MessageWait.name).where(MessageWait.instance_id == case_id)).all()
    return "national_panel_response" in names


def test_another_review_instead_of_an_scr_waits_for_the_panels_scrutiny(deployed):
    """000 §5.2: a decision "not to initiate a SCR" is scrutinised by the National Panel; a decision for
    another kind of review is such a decision, so the other review starts only once the Panel agrees."""
    p = decision_pending(deployed)
    recommended(p)
    other_review_decided(p)
    assert p.instances("multi_agency_review") == []
    assert waiting_for_panel(p)
    p.answer("scr_decision", "national_panel_response", outcome="agreed")
    assert p.case("multi_agency_review")["status"] == "running"
    assert p.case("scr_decision")["status"] == "completed"


def test_challenged_other_review_upheld_then_held(deployed):
    """000 §5.4: after a challenge the chair may uphold the decision; the other review then goes ahead."""
    p = decision_pending(deployed)
    recommended(p)
    other_review_decided(p)
    p.answer("scr_decision", "national_panel_response", outcome="challenge")
    p.do("respond_to_challenge", form("panel_challenge_response", final_outcome="decision_upheld"))
    assert p.case("multi_agency_review")["status"] == "running"
    assert p.instances("serious_case_review") == []


def test_chair_sees_the_criteria_result_and_must_say_why_when_departing_from_it(deployed):
    """000 §2.3: cases meeting the criteria "must always" trigger an SCR; 000 §4.6-4.7: the chair makes
    the final decision. The chair's form shows the criteria's result, and a decision other than an SCR
    against a "must commission" result is refused without a reason for departing from it."""
    p = decision_pending(deployed)
    recommended(p)
    task = deployed.tasks.get(p.task("chair_decides")["id"], STAFF)
    assert "must" in task["context"]["reason"] and "000 §2.2-2.3" in task["context"]["reason"]
    p.at("2027-01-15T10:00:00+00:00")  # the decision is recorded on the day it is made
    no_review = form("chair_decision", review_decision="no_review", decision_date="2027-01-15")
    with pytest.raises(Invalid) as exc:
        p.do("chair_decides", no_review)
    assert "Why are you departing from the SCR criteria?" in str(exc.value.details)
    assert p.open_steps() == ["chair_decides"]
    p.do("chair_decides", {**no_review, "criteria_departure_reason": DEPARTURE})
    assert p.open_steps() == ["notify_decision"]
    assert p.errors() == []


def test_an_scr_against_a_not_met_result_needs_no_departure_reason(deployed):
    """002 §1.3: an SCR may be commissioned even when the criteria are not met; no reason is asked for."""
    p = decision_pending(deployed, joint_working_concern="definitely_none")
    recommended(
        p,
        form(
            "independent_chair_checklist",
            serious_harm="yes",
            joint_working_concern="definitely_none",
            peer_consultation=None,
        ),
    )
    assert p.case("scr_decision")["data"]["criteria_outcome"] == "consider_other_review"
    p.at("2027-01-15T10:00:00+00:00")
    p.do("chair_decides", form("chair_decision", review_decision="no_review", decision_date="2027-01-15"))
    assert p.open_steps() == ["notify_decision"]


def test_the_panel_is_chased_when_it_does_not_answer(deployed):
    """000 §5.2, Appendix 7: the decision awaits the National Panel's scrutiny; the documents give no time
    for its answer, so the partnership's own PANEL_CHASE (10 working days) sends a chase to the Panel
    and the Business Unit, and the case keeps waiting."""
    p = no_review_decided(deployed)
    assert p.deadlines("scr_decision")["PANEL_CHASE"] == ("2027-01-29", "pending")
    p.at("2027-01-29T23:59:00+00:00")
    assert p.sent("panel_chase") == []
    p.at("2027-01-30T00:00:00+00:00")
    assert sorted(r for r, _ in p.sent("panel_chase")) == [BU, PANEL]
    assert waiting_for_panel(p)
    p.answer("scr_decision", "national_panel_response", outcome="agreed")
    assert p.case("scr_decision")["status"] == "completed"
    assert p.errors() == []


def no_review_decided(service) -> Partnership:
    """A case recommended for an SCR where the chair decided on no review."""
    p = decision_pending(service)
    recommended(p)
    other_review_decided(p, review_decision="no_review", review_type=None)
    return p


def test_the_panel_asks_for_more_information(deployed):
    """000 §5.3: where the National Panel requires further supporting information it is provided (the
    agencies' Appendix 2 returns, the sub group's minutes); the case then waits for its view again, and
    the chase counts from the day the information was sent."""
    p = no_review_decided(deployed)
    p.answer(
        "scr_decision",
        "national_panel_response",
        outcome="more_information",
        advice="Please send the agencies' returns and the sub group's minutes.",
    )
    assert p.open_steps() == ["send_panel_information"]
    p.do("send_panel_information", form("panel_information", information_sent_date="2027-02-01"))
    assert waiting_for_panel(p)
    assert p.deadlines("scr_decision")["PANEL_CHASE"] == ("2027-02-15", "pending")
    p.answer("scr_decision", "national_panel_response", outcome="challenge")
    p.do("respond_to_challenge", form("panel_challenge_response"))
    assert p.case("serious_case_review")["status"] == "running"


def test_new_information_reopens_a_decision_before_an_scr_is_commissioned(deployed):
    """001 Appendix 2 step 12: the independent chair reserves the right to review the decision in light
    of further information; while no SCR is commissioned, new information takes the case back to the chair."""
    p = no_review_decided(deployed)
    p.answer(
        "scr_decision",
        "scr_new_information",
        summary="The GP has disclosed earlier injuries that were not shared with children's services.",
    )
    assert p.open_steps() == ["reconsider_decision"]
    assert not waiting_for_panel(p)
    p.at("2027-02-03T10:00:00+00:00")
    p.do("reconsider_decision", form("chair_decision", decision_date="2027-02-03"))
    p.do("notify_decision", form("statutory_notification"))
    assert p.case("serious_case_review")["data"]["decision_date"] == "2027-02-03"
    assert p.case("scr_decision")["status"] == "completed"


@pytest.mark.parametrize(
    "facts,outcome",
    [
        # 000 §2.3: a death in custody or detention, or at 16-17 under a deprivation of liberty order: "should
        # always"
        (
            {"child_died": True, "abuse_or_neglect": "not_suspected", "custody_or_detention": True},
            "should_commission",
        ),
        ({"child_died": True, "abuse_or_neglect": "not_suspected", "dols_16_17": True}, "should_commission"),
        # 000 §2.3: seriously harmed, but definitive evidence of no concern about joint working: not met
        (
            {"abuse_or_neglect": "known", "serious_harm": "yes", "joint_working_concern": "definitely_none"},
            "not_met",
        ),
        (
            {"abuse_or_neglect": "known", "serious_harm": "yes", "joint_working_concern": "unknown"},
            "must_commission",
        ),
    ],
)
def test_checklist_agrees_with_the_scr_criteria(deployed, facts, outcome):
    """000 §2.2-2.3 (the regulation) and 001 Appendix 1 (the chair's checklist) give the same answer."""
    facts = {"child_died": False, "custody_or_detention": False, "dols_16_17": False, **facts}
    out = deployed.decisions.evaluate("independent_chair_checklist", facts, MANAGER)["outputs"]
    assert out["checklist_outcome"] == outcome
    assert "§" in out["reason"]


def test_checklist_for_a_death_needs_no_serious_harm_answer_nor_scores_when_not_proceeding(deployed):
    """001 Appendix 1: question 3 (is the harm serious?) is asked only when the child did not die, and the
    1-5 scores only when the decision is to proceed; the checklist step works with what the form asks."""
    p = decision_pending(deployed, child_died=True, seriously_harmed=False)
    recommended(
        p,
        form(
            "independent_chair_checklist",
            child_died=True,
            serious_harm=None,
            peer_consultation=None,
            proceed_with_scr=False,
            culpability_score=None,
            public_interest_score=None,
            methodology=None,
        ),
    )
    assert p.errors() == []
    assert p.case("scr_decision")["data"]["checklist_outcome"] == "must_commission"
    assert p.open_steps() == ["chair_decides"]


def test_unsure_harm_needs_the_peer_consultation_recorded_before_proceeding(deployed):
    """001 Appendix 1: "If you are unsure you must consult with a peer independent chair" before the
    decision to proceed; the checklist asks for serious_harm when the child did not die."""
    p = decision_pending(deployed)
    p.do("request_information", form("information_request"))
    p.each_agency("return_case_information", "agency_case_information")
    p.do("subgroup_meeting", form("subgroup_recommendation"))
    with pytest.raises(Invalid) as exc:
        p.do("chair_checklist", form("independent_chair_checklist", peer_consultation=None))
    assert "peer_consultation" in str(exc.value.details)
    with pytest.raises(Invalid) as exc:
        p.do(
            "chair_checklist", form("independent_chair_checklist", serious_harm=None, peer_consultation=None)
        )
    assert "serious_harm" in str(exc.value.details)
