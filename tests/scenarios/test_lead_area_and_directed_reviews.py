"""Who leads, and who else starts the serious case review path: the partnership for the area where the child
normally lives decides and leads, liaising with the others (001 §3; 000 §4.1); a review may be directed by the
Secretary of State or requested by Ofsted (004 "Referral"); the notification request goes to the LSCB chair
and the SCR sub group chair (000 §4.2). Working Together 2015 cases here became known in March 2017."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from engine import clock
from engine.services.errors import Invalid
from engine.store.models import OutboxMessage
from tests.scenarios.driver import AWARE_2017, Partnership, form

NOT_NOTIFIABLE = {"child_died": False, "seriously_harmed": False, "abuse_or_neglect": "not_suspected"}
# A child who died, abuse suspected, under Working Together 2015, normally living in another area
FROM_SAMPLESHIRE = {
    "regime": "WT2015",
    "child_died": True,
    "abuse_or_neglect": "suspected",
    "normally_resident_here": False,
    "home_area": "Sampleshire",
}
CHAIRS = ["independent-chair@example.org", "scr-subgroup-chair@example.org"]


@pytest.fixture
def in_2017():
    clock.set_now("2017-03-06T09:00:00+00:00")


def bodies(service, template: str) -> list[str]:
    with service.db.reading() as session:
        return list(session.scalars(select(OutboxMessage.body).where(OutboxMessage.template == template)))


def child_from_sampleshire(service, **changes) -> Partnership:
    """A child who died, abuse suspected, known in March 2017 and normally living in Sampleshire."""
    p = Partnership(service)
    p.start(**AWARE_2017, **{**FROM_SAMPLESHIRE, **changes})
    return p


def test_a_child_living_elsewhere_needs_that_area_named(deployed):
    """001 §3: the LSCB "for the area in which the child is normally resident" decides and leads: a
    notification saying the child lives elsewhere must say where, or nobody can liaise with that area."""
    with pytest.raises(Invalid) as refused:
        Partnership(deployed).start(date_aware="2026-12-18", normally_resident_here=False)
    assert "home_area" in {d["path"] for d in refused.value.details}


def test_wt2015_a_case_for_another_area_is_handed_over_with_the_liaison_recorded(deployed, in_2017):
    """001 §3 and 000 §4.1: the LSCB where the child normally lives decides whether to hold an SCR and leads
    it, liaising with the others through the safeguarding managers. The case is not dropped: the Business Unit
    records whom it contacted, when and what was agreed, and the local authority's report to Ofsted and the
    LSCB still goes (000 §3.1); the decision is then the home area's, not this chair's."""
    p = child_from_sampleshire(deployed)
    p.do("notify_ofsted_lscb", form("statutory_notification", date_sent="2017-03-06"))
    task = p.task("liaise_with_lead_area")
    assert task["role"] == "Business Unit"
    p.do("liaise_with_lead_area", form("lead_area_liaison", liaison_date="2017-03-06"))
    p.do("check_other_children", form("safety_check"))
    case = p.case("incident_notification")
    assert case["status"] == "completed"
    assert case["data"]["lead_partnership"] == "home_area" and case["data"]["liaison_date"] == "2017-03-06"
    assert p.instances("scr_decision") == [] and p.sent("scr_notification_request") == []
    assert "liaise_with_lead_area" in [
        h["element_id"] for h in case["history"] if h["kind"] == "task_completed"
    ]


def test_wt2015_this_partnership_leads_when_agreed_with_the_home_area(deployed, in_2017):
    """001 §3: the areas agree who leads; when this partnership leads, its chair decides (000 §4.1-4.2)."""
    p = child_from_sampleshire(
        deployed,
        home_area_contact={"name": "Safeguarding Manager Example, Sampleshire", "contacted_on": "2017-03-03"},
    )
    p.do("notify_ofsted_lscb", form("statutory_notification", date_sent="2017-03-06"))
    p.do(
        "liaise_with_lead_area",
        form("lead_area_liaison", lead_partnership="this_partnership", liaison_date="2017-03-06"),
    )
    decision = p.case("scr_decision")
    assert (decision["data"]["home_area"], decision["data"]["lead_partnership"]) == (
        "Sampleshire",
        "this_partnership",
    )


def test_wt2018_a_case_for_another_area_has_its_rapid_review_and_the_liaison_beside_it(deployed):
    """003 §3.6: the local authority reports to the safeguarding partners "in their area, and other areas if
    appropriate"; the liaison with the area where the child normally lives (001 §3) is a Business Unit task
    beside the rapid review, which starts with the notification (003 §3.4)."""
    p = Partnership(deployed)
    p.start(
        date_aware="2026-12-18", notification_date=None, normally_resident_here=False, home_area="Sampleshire"
    )
    assert {"liaise_with_home_area", "arrange_rapid_review", "check_other_children"} <= set(p.open_steps())
    assert p.case("rapid_review")["data"]["home_area"] == "Sampleshire"
    told = bodies(deployed, "chairs_informed")
    assert told and all("normally lives in Sampleshire" in body for body in told)
    p.do("liaise_with_home_area", form("lead_area_liaison", liaison_date="2026-12-21"))
    assert "liaise_with_home_area" not in p.open_steps()


@pytest.mark.parametrize(
    "source,words", [("secretary_of_state_direction", "Secretary of State"), ("ofsted_request", "Ofsted")]
)
def test_wt2015_a_directed_or_requested_review_goes_to_the_scr_decision_with_its_source(
    deployed, in_2017, source, words
):
    """004 "Referral": "A Serious Case Review can also be conducted at the direction of the Secretary of State
    ... or at the request of OFSTED". Such a case is not closed as "not notifiable" when the incident criteria
    fail: it goes to the chair's SCR decision (000 §4), with where it came from in the case and in the
    notification request."""
    p = Partnership(deployed)
    p.start(regime="WT2015", **AWARE_2017, **NOT_NOTIFIABLE, review_source=source)
    assert "confirm_not_notifiable" not in p.open_steps()
    assert p.tasks("notify_ofsted_lscb") == []  # not a notifiable incident: no incident report is due
    decision = p.case("scr_decision")
    assert decision["data"]["review_source"] == source
    [body] = bodies(deployed, "scr_notification_request")[:1]
    assert words in body


def test_wt2015_the_notification_request_goes_to_the_sub_group_chair_too(deployed, in_2017):
    """000 §4.2: the notification request is sent "for the attention of the LSCB Chair and the LSCB SCR sub
    group Chair", whose sub group gathers the agencies' information (§4.3)."""
    p = Partnership(deployed)
    p.start(regime="WT2015", **AWARE_2017, child_died=True, abuse_or_neglect="suspected")
    p.do("notify_ofsted_lscb", form("statutory_notification", date_sent="2017-03-06"))
    assert sorted(r for r, _ in p.sent("scr_notification_request")) == CHAIRS
