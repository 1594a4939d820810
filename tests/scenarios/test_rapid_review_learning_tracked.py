"""A rapid review's immediate learning is acted on even when no local review follows: the rapid review
records it with its plan for dissemination (003 §4.3), corrective action is taken and learning disseminated
(003 §7.10), and what was done and its impact is reported (000 §8.4). With no local review to carry it, the
rapid review hands it to improvement tracking once ratified (003 §4.6); the six-month review counts from
the ratification."""

from __future__ import annotations

from tests.scenarios.driver import Partnership, form
from tests.scenarios.test_rapid_review_wt2023_ratification import (
    PARTNERS,
    rapid_review_recorded,
    ratification,
)

LEARNING = "Schools did not know how to escalate a referral that children's social care had closed."
PLAN = "Seven-minute briefing to designated safeguarding leads in February."


def ratified_with_a_local_review(service) -> Partnership:
    p = rapid_review_recorded(service, {"lcspr_decision": "lcspr", "no_further_learning_reasons": None})
    p.do(
        "ratify_rapid_review_partners",
        form(
            "executive_ratification_partners",
            ratification_date="2027-01-12",
            decision_date="2027-01-12",
            partner_ratifications=PARTNERS,
        ),
    )
    return p


def test_without_a_local_review_the_immediate_learning_goes_into_tracking(deployed):
    """003 §4.3 (immediate learning and plans for dissemination), §4.6 (ratified), §7.10 (corrective action,
    learning disseminated); 000 §8.4 (actions taken and their impact). The monitoring case carries the
    learning and counts its six months from the ratification."""
    p = rapid_review_recorded(deployed, {"immediate_learning": LEARNING, "dissemination_plan": PLAN})
    assert p.instances("recommendation_monitoring") == []
    p.do("ratify_rapid_review_partners", ratification(**PARTNERS))
    rapid = p.case("rapid_review")
    [tracking] = p.instances("recommendation_monitoring")
    data = tracking["data"]
    assert (data["immediate_learning"], data["dissemination_plan"]) == (LEARNING, PLAN)
    assert (data["review_type"], data["report_agreed_date"], data["regime"]) == (
        "rapid_review",
        "2027-01-12",
        "WT2023",
    )
    assert tracking["business_key"] == rapid["business_key"]
    assert "agree_action_plan" in p.open_steps()  # the Business Unit turns the learning into items
    p.do("agree_action_plan", form("action_plan", report_agreed_date="2027-01-12"))
    [review] = p.tasks("first_progress_review")
    assert review["due_date"] == "2027-07-12"


def test_with_a_local_review_its_own_action_plan_carries_the_learning(deployed):
    """003 §4.7, §7.10: a local review captures improvements and agrees its action plan at sign-off, which
    is what is tracked; the rapid review starts no tracking of its own."""
    p = ratified_with_a_local_review(deployed)
    assert p.instances("local_cspr")
    assert p.instances("recommendation_monitoring") == []
