"""Who ratifies a rapid review: under Working Together 2023 the three safeguarding partners (local
authority, integrated care board, police) or their delegates, as they sign off a local review's report;
under Working Together 2018 the Partnership's Executive Group (003 §4.4-4.6)."""

from __future__ import annotations

import pytest

from engine.services.errors import Invalid
from tests.scenarios.driver import TRANSITIONAL, Partnership, form

PARTNERS = {
    "local_authority": {
        "name": "Director Example",
        "role": "Director of Children's Services",
        "date": "2027-01-12",
    },
    "integrated_care_board": {
        "name": "Nurse Example",
        "role": "Chief Nurse (delegate)",
        "date": "2027-01-12",
        "delegate": True,
    },
    "police": {"name": "Superintendent Example", "role": "Head of Public Protection", "date": "2027-01-11"},
}


def rapid_review_recorded(service, record: dict | None = None, **start) -> Partnership:
    """Notified on Monday 21 December 2026; the rapid review recorded on 7 January 2027, with no local
    review."""
    p = Partnership(service)
    p.agencies_answered(**start)
    p.at("2027-01-07T10:00:00+00:00")
    p.do(
        "record_rapid_review",
        form(
            "rapid_review_record",
            **{
                "rapid_review_date": "2027-01-07",
                "lcspr_decision": "no_lcspr",
                "no_further_learning_reasons": "The learning is already being acted on.",
                **(record or {}),
            },
        ),
    )
    p.at("2027-01-12T10:00:00+00:00")
    return p


def ratification(**partners) -> dict:
    return form(
        "executive_ratification_partners",
        ratification_date="2027-01-12",
        executive_lcspr_decision="no_lcspr",
        decision_date=None,
        partner_ratifications=partners,
    )


def test_under_2023_ratification_needs_the_three_safeguarding_partners(deployed):
    """Working Together 2023 (catalogue §7): ratification and sign-off need all three statutory partners
    (local authority, ICB, police) or their delegates; the Executive Group's ratification of 003 §4.6 is
    theirs. A ratification without the police's is refused, naming it."""
    p = rapid_review_recorded(deployed)
    assert p.open_steps() == ["ratify_rapid_review_partners"]
    assert p.task("ratify_rapid_review_partners")["due_date"] == "2027-01-14"  # R6 still applies (003 §4.6)
    without_police = {k: v for k, v in PARTNERS.items() if k != "police"}
    with pytest.raises(Invalid) as caught:
        p.do("ratify_rapid_review_partners", ratification(**without_police))
    assert caught.value.status == 422
    assert [d["path"] for d in caught.value.details] == ["partner_ratifications/police"]
    p.do("ratify_rapid_review_partners", ratification(**PARTNERS))
    case = p.case("rapid_review")
    assert case["data"]["partner_ratifications"]["integrated_care_board"]["delegate"] is True
    assert case["data"]["decision_date"] == "2027-01-12"
    assert ("panel-notifications@example.org", "rapid_review_to_panel") in p.sent("rapid_review_to_panel")


def test_under_2018_the_executive_group_ratifies(deployed):
    """003 §4.4-4.6: the report goes to the Partnership's Executive Group for ratification, within 15 working
    days of notification; no partner-by-partner record is asked for."""
    p = rapid_review_recorded(deployed, regime="WT2018", regime_reason=TRANSITIONAL)
    assert p.open_steps() == ["ratify_rapid_review"]
    p.do(
        "ratify_rapid_review",
        form(
            "executive_ratification",
            ratification_date="2027-01-12",
            executive_lcspr_decision="no_lcspr",
            decision_date=None,
        ),
    )
    assert p.sent("rapid_review_to_panel")
