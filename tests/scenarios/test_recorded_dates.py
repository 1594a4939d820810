"""A deadline is met or missed by the date recorded for the act (date sent, meeting date, date ratified),
not by when the form was submitted or whether the timer had fired (003 §3.6, §4.4-4.6); a date that cannot
be true is refused, and so is an Executive that agrees with the practice review group while recording the
opposite decision (003 §4.5). The incident is the one of the Christmas scenario: the local authority became
aware on Friday 18 December 2026, so R1 and R2 fall due on Tuesday 29 December (25 and 28 December are bank
holidays)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from engine import clock
from engine.services.errors import Invalid
from engine.store.models import AuditEvent, Deadline, DeadlineTally
from tests.scenarios.driver import Partnership, form

AWARE = "2026-12-18"


def notified(service) -> Partnership:
    p = Partnership(service)
    p.start(date_aware=AWARE, notification_date=None)
    p.do("check_other_children", form("safety_check"))
    return p


def recorded(service, key: str) -> list[str | None]:
    """The recorded date kept on each deadline row of ``key``."""
    with service.db.reading() as session:
        return [
            str(d) if d else None
            for d in session.scalars(
                select(Deadline.recorded_date).where(Deadline.key == key).order_by(Deadline.id)
            )
        ]


def tally(service, key: str) -> tuple[int, int]:
    with service.db.reading() as session:
        row = session.scalars(select(DeadlineTally).where(DeadlineTally.key == key)).one()
        return row.met, row.missed


def audit(service, kind: str) -> list[dict]:
    with service.db.reading() as session:
        return [
            e.detail
            for e in session.scalars(
                select(AuditEvent).where(AuditEvent.kind == kind).order_by(AuditEvent.id)
            )
        ]


def refused(p: Partnership, element_id: str, data: dict) -> list[dict]:
    with pytest.raises(Invalid) as caught:
        p.do(element_id, data)
    assert caught.value.status == 422
    return caught.value.details


def test_a_notification_sent_on_time_is_met_though_recorded_after_the_timer_fired(deployed):
    """003 §3.6: the Panel is notified within five working days. Sent on 29 December but recorded on the 30th,
    after R1 and R2 had fired and escalated: both become met, audited with the date, and the daily tally
    moves from missed to met."""
    p = notified(deployed)
    p.at("2026-12-30T00:00:00+00:00")
    assert p.deadlines("incident_notification") == {
        "R1": ("2026-12-29", "missed"),
        "R2": ("2026-12-29", "missed"),
    }
    assert tally(deployed, "R1") == (0, 1)
    p.at("2026-12-30T10:00:00+00:00")
    p.do("notify_panel_and_partners", form("statutory_notification", date_sent="2026-12-29"))
    assert p.deadlines("incident_notification") == {"R1": ("2026-12-29", "met"), "R2": ("2026-12-29", "met")}
    assert recorded(deployed, "R1") == ["2026-12-29"]
    shown = {
        d["key"]: d["recorded_date"]
        for d in p.case("incident_notification")["deadlines"]
        if d.get("armed", True)
    }
    assert shown == {"R1": "2026-12-29", "R2": "2026-12-29"}
    assert tally(deployed, "R1") == (1, 0) and tally(deployed, "R2") == (1, 0)
    assert sorted(
        (d["key"], d["recorded_date"], d["due_date"])
        for d in audit(deployed, "deadline_judged_on_recorded_date")
    ) == [("R1", "2026-12-29", "2026-12-29"), ("R2", "2026-12-29", "2026-12-29")]


def test_a_notification_sent_late_is_missed_though_recorded_before_the_timer_fired(deployed):
    """003 §3.6: sent on 30 December, a day after R1 and R2 fell due, and recorded that morning before the
    worker's sweep fired their timers: both are missed, by the date sent."""
    p = notified(deployed)
    clock.set_now("2026-12-30T08:00:00+00:00")  # no sweep has run: the timers still wait
    p.do("notify_panel_and_partners", form("statutory_notification", date_sent="2026-12-30"))
    assert p.deadlines("incident_notification") == {
        "R1": ("2026-12-29", "missed"),
        "R2": ("2026-12-29", "missed"),
    }
    assert recorded(deployed, "R2") == ["2026-12-30"]
    assert tally(deployed, "R1") == (0, 1)
    assert [d["recorded_date"] for d in audit(deployed, "deadline_missed")] == ["2026-12-30", "2026-12-30"]


def test_a_date_sent_in_the_future_is_refused(deployed):
    """An act that is recorded has happened (003 §3.6): a date sent after today is refused, naming the field
    and the paragraph, and the step stays open."""
    p = notified(deployed)
    [problem] = refused(
        p, "notify_panel_and_partners", form("statutory_notification", date_sent="2026-12-22")
    )
    assert (problem["path"], problem["kind"]) == ("date_sent", "x-not-future")
    assert problem["source"] and problem["source"] in problem["message"]
    assert "notify_panel_and_partners" in p.open_steps()


def test_a_notification_sent_before_the_authority_became_aware_is_refused(deployed):
    """A reversed timeframe: the five working days run from becoming aware (003 §3.6), so nothing is sent
    about the incident before that day."""
    p = notified(deployed)
    [problem] = refused(
        p, "notify_panel_and_partners", form("statutory_notification", date_sent="2026-12-17")
    )
    assert (problem["path"], problem["kind"]) == ("date_sent", "x-not-before")
    assert "18 December 2026" in problem["message"]


def _to_ratification(deployed) -> Partnership:
    p = notified(deployed)
    p.do("notify_panel_and_partners", form("statutory_notification", date_sent="2026-12-21"))
    p.rapid_review_information_in()
    clock.set_now("2027-01-07T10:00:00+00:00")
    p.do(
        "record_rapid_review",
        form("rapid_review_record", rapid_review_date="2027-01-06", lcspr_decision="lcspr"),
    )
    return p


def test_an_executive_that_agrees_cannot_record_the_opposite_decision(deployed):
    """003 §4.5: where the Executive Group's decision differs from the group's, it must give its rationale to
    the Panel; an Executive that says it agrees while recording another decision would skip that, so it is
    refused (422) naming the field."""
    p = _to_ratification(deployed)
    problems = refused(
        p,
        "ratify_rapid_review_partners",
        form(
            "executive_ratification_partners",
            executive_agrees=True,
            executive_lcspr_decision="no_lcspr",
            ratification_date="2027-01-07",
            decision_date=None,
        ),
    )
    assert [(q["path"], q["kind"]) for q in problems] == [("executive_lcspr_decision", "x-equals-case")]
    assert "003 §4.5" in problems[0]["message"]
    # saying it disagrees, with its rationale, is how the Executive records another decision
    p.do(
        "ratify_rapid_review_partners",
        form(
            "executive_ratification_partners",
            executive_agrees=False,
            executive_lcspr_decision="no_lcspr",
            executive_rationale="The learning is already being acted on.",
            ratification_date="2027-01-07",
            decision_date=None,
        ),
    )


def test_a_ratification_before_the_rapid_review_meeting_is_refused(deployed):
    """003 §4.4: the report goes to the Executive Group for ratification upon completion of the rapid review,
    so it is not ratified before the meeting was held."""
    p = _to_ratification(deployed)
    [problem] = refused(
        p,
        "ratify_rapid_review_partners",
        form("executive_ratification_partners", ratification_date="2027-01-05"),
    )
    assert (problem["path"], problem["kind"]) == ("ratification_date", "x-not-before")


def test_a_review_published_after_its_six_months_needs_the_reason(deployed):
    """003 §7.8: a local review is published no later than six months from the decision to hold it; where
    other proceedings delay publication the Panel and the Secretary of State are told. Published ten days
    after R9 fell due, the publication is refused until it says why, then kept, and R9 is missed by the date
    published."""
    from tests.scenarios.test_wt2018_local_review import report_assured

    p = report_assured(deployed)
    p.publication_decided("lcspr_publication_decision", "2027-07-22")
    p.at("2027-07-12T10:00:00+00:00")
    p.do("lcspr_send_before_publication", form("report_sent", date_sent="2027-07-12"))
    p.do("lcspr_family_publication", form("family_contact"))
    p.at("2027-07-22T09:00:00+00:00")
    [problem] = refused(p, "lcspr_publish", form("publication_record", date_published="2027-07-22"))
    assert (problem["path"], problem["kind"], problem["source"]) == (
        "publication_delay_reason",
        "x-late-reason",
        "003 §7.8",
    )
    assert "12 July 2027" in problem["message"]
    p.do(
        "lcspr_publish",
        form(
            "publication_record",
            date_published="2027-07-22",
            publication_delay_reason="A parent's criminal trial; the Panel was told on 1 July.",
        ),
    )
    assert p.deadlines("local_cspr")["R9"] == ("2027-07-12", "missed")
    assert recorded(deployed, "R9") == ["2027-07-22"]


def test_an_agency_timeframe_that_ends_before_it_starts_is_refused(deployed):
    """A reversed timeframe: the period of the agency's records the return covers (000 Appendix 2) cannot
    end before it starts; the error names the nested field."""
    p = notified(deployed)
    p.do("arrange_rapid_review", form("rapid_review_arrangements", information_required_by="2026-12-31"))
    data = form(
        "agency_case_information",
        agency="Police",
        timeframe={"from_date": "2026-06-01", "to_date": "2025-06-01"},
    )
    with pytest.raises(Invalid) as caught:
        p.do("return_agency_information", data, agency="Police")
    assert [(q["path"], q["kind"]) for q in caught.value.details] == [("timeframe/to_date", "x-not-before")]
    assert "000 Appendix 2" in caught.value.details[0]["message"]


def test_a_chairs_decision_dated_tomorrow_is_refused(deployed):
    """000 §4.6: the independent chair decides, and the deadlines for telling others and for the review count
    from the date of that decision; a decision recorded is one that has been made (003 §3.6): a decision dated
    tomorrow is refused on decision_date, naming the paragraph, and the chair's step stays open."""
    from tests.scenarios.test_wt2015_serious_case_review import decision_pending, recommended

    p = decision_pending(deployed)
    recommended(p)
    p.at("2027-01-15T10:00:00+00:00")
    [problem] = refused(p, "chair_decides", form("chair_decision", decision_date="2027-01-16"))
    assert (problem["path"], problem["kind"]) == ("decision_date", "x-not-future")
    assert problem["source"] and problem["source"] in problem["message"]
    assert "15 January 2027" in problem["message"]
    assert p.open_steps() == ["chair_decides"]
    p.do("chair_decides", form("chair_decision", decision_date="2027-01-15"))
    assert p.open_steps() == ["notify_decision"]


def test_a_notification_aware_before_the_incident_is_refused(deployed):
    """A reversed timeframe (003 §3.6): the local authority's five working days run from becoming aware of the
    incident, which cannot be before the incident itself; the notification is refused on date_aware and no
    case starts."""
    p = Partnership(deployed)
    with pytest.raises(Invalid) as caught:
        p.start(
            incident_date="2026-12-18",
            date_aware="2026-12-17",
            referral_date="2026-12-18",
            notification_date=None,
        )
    assert caught.value.status == 422
    [problem] = caught.value.details
    assert (problem["path"], problem["kind"]) == ("date_aware", "x-not-before")
    assert "18 December 2026" in problem["message"] and "003 §3.1, §3.6" in problem["message"]
    assert p.instances("incident_notification") == []
