"""Working Together 2018/2023: waiting for the Child Safeguarding Practice Review Panel's answer to a rapid
review. The Panel "will inform the Partnership promptly following receipt of the rapid review" (003 §8.5);
the documents give it no time, so the partnership chases it after its own RR_PANEL_CHASE (10 working
days). The Panel may also conclude "a local review may be more appropriate" (003 §5.4), which the
partners reconsider. The clock starts on Monday 21 December 2026; dates worked out by hand (25 and
28 December 2026 and 1 January 2027 are bank holidays)."""

from __future__ import annotations

from tests.scenarios.driver import Partnership, form

PANEL, BU = "panel-notifications@example.org", "business-unit@example.org"


def sent_to_panel(service, decision: str = "no_lcspr") -> Partnership:
    """Notified, reviewed, ratified and sent to the Panel on Monday 21 December 2026; the family told."""
    p = Partnership(service)
    p.agencies_answered()
    p.rapid_review_recorded(decision)
    p.ratified(decision, on="2026-12-21")
    assert [r for r, _ in p.sent("rapid_review_to_panel")] == [PANEL]
    p.do("tell_family_decision", form("family_decision_contact", informed_date="2026-12-21"))
    return p


def test_the_panel_is_chased_after_ten_working_days_and_its_answer_still_accepted(deployed):
    """003 §8.5: the Panel informs the partnership promptly after receiving the rapid review; with no figure
    in the documents, RR_PANEL_CHASE (10 England working days from the day it was sent: 22, 23, 24, 29,
    30, 31 Dec, 4, 5, 6, 7 Jan) chases the Panel once, and the case goes on waiting for its answer."""
    p = sent_to_panel(deployed)
    assert p.deadlines("rapid_review")["RR_PANEL_CHASE"] == ("2027-01-07", "pending")
    p.at("2027-01-07T23:59:00+00:00")
    assert p.sent("rapid_review_panel_chase") == []
    p.at("2027-01-08T00:00:00+00:00")
    assert sorted(r for r, _ in p.sent("rapid_review_panel_chase")) == [BU, PANEL]
    p.at("2027-01-25T00:00:00+00:00")
    assert len(p.sent("rapid_review_panel_chase")) == 2  # chased once, not again
    assert p.case("rapid_review")["status"] == "running"
    p.answer("rapid_review", "panel_response", outcome="no_national_review")
    assert p.case("rapid_review")["status"] == "completed", p.case("rapid_review").get("error")
    assert p.errors() == []


def test_a_local_review_more_appropriate_after_no_local_review_is_reconsidered_and_held(deployed):
    """003 §5.4 (fourth bullet): the Panel "considered and concluded a local review may be more appropriate";
    the safeguarding partners decide on a local review and record why (003 §5.2-5.3): deciding for one
    hands the case to a local child safeguarding practice review (003 §4.7, §6), counted from that
    decision."""
    p = sent_to_panel(deployed)
    p.at("2027-01-13T10:00:00+00:00")
    p.answer(
        "rapid_review",
        "panel_response",
        outcome="local_review_more_appropriate",
        detail="The Panel sees learning on multi-agency working in the school's referrals.",
    )
    assert "reconsider_local_review" in p.open_steps()
    assert p.instances("local_cspr") == []
    p.at("2027-01-14T10:00:00+00:00")
    p.do(
        "reconsider_local_review",
        form(
            "local_review_reconsideration",
            reconsidered_lcspr_decision="lcspr",
            reconsideration_date="2027-01-14",
        ),
    )
    local = p.case("local_cspr")
    assert local["status"] == "running"
    assert local["data"]["decision_date"] == "2027-01-14"
    # R8 counts from the new decision: 15, 18, 19, 20, 21 January
    assert p.task("commission_reviewer")["due_date"] == "2027-01-21"
    assert p.case("rapid_review")["status"] == "completed", p.case("rapid_review").get("error")
    assert p.errors() == []


def test_the_partners_may_keep_to_no_local_review_with_their_reasons(deployed):
    """003 §5.3: the decision and its rationale are recorded; the Panel's view (003 §5.4) does not oblige a
    local review."""
    p = sent_to_panel(deployed)
    p.answer("rapid_review", "panel_response", outcome="local_review_more_appropriate")
    reason = "The learning is already in the multi-agency audit programme."
    p.do(
        "reconsider_local_review",
        form(
            "local_review_reconsideration",
            reconsidered_lcspr_decision="no_lcspr",
            reconsideration_reasons=reason,
        ),
    )
    assert p.instances("local_cspr") == []
    rapid = p.case("rapid_review")
    assert rapid["status"] == "completed", rapid.get("error")
    assert rapid["data"]["reconsideration_reasons"] == reason


def test_with_a_local_review_already_running_the_answer_is_recorded_and_the_rapid_review_completes(deployed):
    """003 §5.4: the Panel's view that a local review may be more appropriate needs no step when the
    partners already decided on one (003 §4.7): it is kept on the case and the rapid review completes."""
    p = sent_to_panel(deployed, decision="lcspr")
    assert p.case("local_cspr")["status"] == "running"
    # the rapid review still waits for the Panel, chased as without a local review (003 §8.5)
    assert p.deadlines("rapid_review")["RR_PANEL_CHASE"] == ("2027-01-07", "pending")
    p.answer("rapid_review", "panel_response", outcome="local_review_more_appropriate")
    rapid = p.case("rapid_review")
    assert rapid["status"] == "completed", rapid.get("error")
    assert rapid["data"]["panel_response"]["outcome"] == "local_review_more_appropriate"
    assert "reconsider_local_review" not in p.open_steps()
    assert len(p.instances("local_cspr")) == 1
    p.at("2027-01-08T00:00:00+00:00")
    assert p.sent("rapid_review_panel_chase") == []


def test_after_more_information_the_chase_counts_from_the_day_it_was_sent(deployed):
    """003 §8.5: the Panel may ask for further information to support its decision; once it is sent the case
    waits for the Panel again, and RR_PANEL_CHASE counts from that day (7, 8, 11-15, 18, 19, 20 January)."""
    p = sent_to_panel(deployed)
    p.at("2027-01-05T10:00:00+00:00")
    p.answer(
        "rapid_review", "panel_response", outcome="more_information", detail="The school's referrals, please."
    )
    p.at("2027-01-06T10:00:00+00:00")
    p.do("send_more_information", form("panel_information", information_sent_date="2027-01-06"))
    assert p.deadlines("rapid_review")["RR_PANEL_CHASE"] == ("2027-01-20", "pending")
    p.at("2027-01-08T00:00:00+00:00")
    assert p.sent("rapid_review_panel_chase") == []
    p.at("2027-01-21T00:00:00+00:00")
    assert sorted(r for r, _ in p.sent("rapid_review_panel_chase")) == [BU, PANEL]
    p.answer("rapid_review", "panel_response", outcome="no_national_review")
    assert p.case("rapid_review")["status"] == "completed", p.case("rapid_review").get("error")
