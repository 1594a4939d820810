"""Who hears of a decision on a review, as the documents name them: the "no" letter (001 §3), the
completed notification sent to the National Panel (000 §5.2), a declined multi-agency review request
(000 §10.2, Appendix 6) and Bolton's decision (004). The clock starts on Monday 21 December 2026."""

from __future__ import annotations

from sqlalchemy import select

from engine.store.models import OutboxMessage
from tests.scenarios.driver import STAFF, Partnership, form
from tests.scenarios.test_wt2015_serious_case_review import decided, decision_pending, recommended

PANEL, OFSTED, DFE = (
    "panel-notifications@example.org",
    "ofsted-notifications@example.org",
    "dfe-notifications@example.org",
)
REFERRER, LEAD, SUBGROUP = "referrer@example.org", "director@example.org", "scr-panel-chair@example.org"
CHAIR, BU = "independent-chair@example.org", "business-unit@example.org"
REASONS = "No cause for concern about how agencies worked together was found."


def bodies(service, template: str) -> list[str]:
    with service.db.reading() as session:
        return list(session.scalars(select(OutboxMessage.body).where(OutboxMessage.template == template)))


def no_scr(p: Partnership) -> None:
    decided(
        p,
        review_decision="no_review",
        chair_rationale=REASONS,
        criteria_departure_reason=(
            "Definitive evidence from the agencies' returns of no concern about joint working."
        ),
    )


def test_the_no_letter_goes_to_the_referrer_their_safeguarding_lead_the_sub_committee_and_the_panel(deployed):
    """001 §3: if the decision is not to proceed, the chair writes to the referrer and their agency's
    safeguarding lead (the senior officer who supported the referral, 001 §3 "Notification"), copied
    to the SCR sub-committee, with full reasons; the letter also goes to the National Panel."""
    p = decision_pending(deployed)
    recommended(p)
    no_scr(p)
    assert sorted(r for r, _ in p.sent("referrer_decision")) == sorted([REFERRER, LEAD, SUBGROUP, PANEL])
    assert all(REASONS in b for b in bodies(deployed, "referrer_decision"))


def test_the_yes_letter_keeps_to_the_referrer_and_the_panel_chair(deployed):
    """001 Appendix 2 step 13: the decision is confirmed in writing to the panel chair either way."""
    p = decision_pending(deployed)
    recommended(p)
    decided(p)
    assert sorted(r for r, _ in p.sent("referrer_decision")) == [REFERRER, SUBGROUP]


def test_the_completed_notification_goes_to_the_panel_on_a_no(deployed):
    """000 §5.2: the chair informs the National Panel of the decision not to progress and sends it the
    completed notification (Appendix 1), which includes the sub group's recommendation and the chair's
    decision."""
    p = decision_pending(deployed)
    recommended(p)
    no_scr(p)
    assert [r for r, _ in p.sent("scr_notification_to_panel")] == [PANEL]
    [body] = bodies(deployed, "scr_notification_to_panel")
    data = p.case("scr_decision")["data"]
    for text in (
        data["presenting_issues"],
        data["reasons_for_review"],
        data["recommendation_rationale"],
        REASONS,
        data["referrer"]["name"],
    ):
        assert text in body


def test_no_completed_notification_to_the_panel_on_a_yes(deployed):
    """000 §5.1: a "yes" is notified (scr_decision_notice); the notification itself is sent only for a
    "no"."""
    p = decision_pending(deployed)
    recommended(p)
    decided(p)
    assert p.sent("scr_notification_to_panel") == []


def test_a_declined_review_request_goes_to_the_requester_and_the_chair(deployed):
    """000 §10.2: the sub group recommends to the LSCB chair, so the chair sees every "no"; Appendix 6:
    the outcome is recorded on the request, so the requester is told."""
    p = Partnership(deployed)
    deployed.instances.start(
        "multi_agency_review", {"regime": "WT2015", **form("multi_agency_review_request")}, STAFF
    )
    p.do("mar_type", form("review_type_decision", proceed=False, recommended_review_type=None))
    assert sorted(r for r, _ in p.sent("review_request_declined")) == sorted([REFERRER, CHAIR, BU])


def test_bolton_decision_shared_with_the_board_executive_ofsted_and_chief_officers(deployed):
    """004 "Outcomes of the Initial Serious Case Review Panel": the Chair of the Board's decision is
    shared with the Board and the Safeguarding Executive, as well as Ofsted and other relevant Chief
    Officers (with the WT2015 notification to the DfE and the National Panel the case also runs under)."""
    p = decision_pending(deployed, ruleset="BOLTON_PRE2015", referral_date="2026-12-11")
    p.initial_panel_prepared()
    p.do("initial_scr_panel", form("subgroup_recommendation"))
    p.do("chair_checklist", form("independent_chair_checklist", serious_harm="yes", peer_consultation=None))
    decided(p)
    assert sorted(r for r, _ in p.sent("scr_decision_notice")) == sorted(
        [
            OFSTED,
            DFE,
            PANEL,
            "board@example.org",
            "safeguarding-executive@example.org",
            "chief-officers@example.org",
        ]
    )
