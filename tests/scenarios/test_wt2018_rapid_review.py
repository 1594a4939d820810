"""Working Together 2018: a serious incident notified over Christmas, the local authority's statutory
notifications, the rapid review with one request per agency, the Executive's ratification, the copy to
the Panel and the Panel's answer. Dates are worked out by hand from the England calendar: Christmas Day
2026 is a Friday and Boxing Day a Saturday, so Monday 28 December is the substitute bank holiday, and
New Year's Day 2027 is a Friday."""

from __future__ import annotations

from tests.scenarios.driver import Partnership, form

AWARE = "2026-12-18"  # Friday; the clock starts on Monday 21 December 2026, 09:00 UTC


def notified(service, **changes) -> Partnership:
    p = Partnership(service)
    p.start(date_aware=AWARE, notification_date=None, **changes)
    p.do("check_other_children", form("safety_check"))
    return p


def test_statutory_notifications_are_due_five_working_days_after_awareness_across_christmas(deployed):
    p = notified(deployed)
    # the rapid review has started beside the notifications (003 §3.4, §4.1)
    assert p.open_steps() == ["arrange_rapid_review", "notify_panel_and_partners"]
    task = p.task("notify_panel_and_partners")
    # 21, 22, 23, 24 Dec, then (25 and 28 Dec are bank holidays) 29 Dec is the fifth working day
    assert (task["due_date"], task["deadline_key"]) == ("2026-12-29", "R1")
    assert p.deadlines("incident_notification") == {
        "R1": ("2026-12-29", "pending"),
        "R2": ("2026-12-29", "pending"),
    }
    case = p.case("incident_notification")
    assert (case["data"]["notify_panel"], case["data"]["notify_secretary_of_state"]) == (True, False)
    assert case["data"]["notification_date"] == "2026-12-21"


def test_reminder_then_escalation_when_the_local_authority_misses_r1(deployed):
    p = notified(deployed)
    # reminder at 09:00 two working days before 29 Dec: Wednesday 23 December
    p.at("2026-12-23T08:59:00+00:00")
    assert p.sent("deadline_reminder") == []
    p.at("2026-12-23T09:00:00+00:00")
    assert p.sent("deadline_reminder") == [("childrens-services@example.org", "deadline_reminder")]
    # missed at the end of 29 December in England (midnight UTC in winter)
    p.at("2026-12-29T23:59:00+00:00")
    assert p.sent("deadline_missed") == []
    p.at("2026-12-30T00:00:00+00:00")
    assert sorted(r for r, _ in p.sent("deadline_missed")) == sorted(
        ["childrens-services@example.org", "executive@example.org"] * 2
    )  # R1 and R2
    assert p.deadlines("incident_notification") == {
        "R1": ("2026-12-29", "missed"),
        "R2": ("2026-12-29", "missed"),
    }
    # the step stays open: the notification must still be made
    assert p.open_steps() == ["arrange_rapid_review", "notify_panel_and_partners"]
    p.do("notify_panel_and_partners", form("statutory_notification", date_sent="2026-12-30"))
    assert [r for r, _ in p.sent("panel_serious_incident")] == ["panel-notifications@example.org"]


def test_rapid_review_without_a_local_review_and_the_panel_agrees(deployed):
    p = notified(deployed)
    p.do("notify_panel_and_partners", form("statutory_notification"))
    assert p.deadlines("incident_notification") == {"R1": ("2026-12-29", "met"), "R2": ("2026-12-29", "met")}
    # the chairs were told when the notification arrived, before the local authority's notifications (003
    # §3.4)
    assert [
        r
        for r, t in p.sent()
        if t in ("panel_serious_incident", "partners_serious_incident", "chairs_informed")
    ] == [
        "independent-chair@example.org",
        "prg-chair@example.org",
        "panel-notifications@example.org",
        "partners@example.org",
    ]
    assert p.case("incident_notification")["status"] == "completed"
    rapid = p.case("rapid_review")
    assert rapid["business_key"] == p.case("incident_notification")["business_key"]
    assert rapid["data"]["notification_date"] == "2026-12-21"

    p.do("arrange_rapid_review", form("rapid_review_arrangements", information_required_by="2026-12-31"))
    assert sorted(t["role"] for t in p.tasks("return_agency_information")) == [
        "Agency: Health",
        "Agency: Police",
    ]
    # 10 working days from Monday 21 December: 22, 23, 24, 29, 30, 31 Dec, 4, 5, 6, 7 Jan
    assert p.deadlines("rapid_review")["RR_AGENCY_INFO"] == ("2026-12-31", "pending")
    for agency, day, event in (
        ("Police", "2026-11-02", "Domestic call-out."),
        ("Health", "2026-10-01", "Missed appointment."),
    ):
        rows = [{"date": day, "event": event}]
        p.do(
            "return_agency_information",
            form("agency_case_information", agency=agency, chronology=rows),
            agency=agency,
        )
    chronology = p.case("rapid_review")["data"]["case_chronology"]["chronology"]
    assert [(r["date"], r["agency"]) for r in chronology] == [
        ("2026-10-01", "Health"),
        ("2026-11-02", "Police"),
    ]

    task = p.task("record_rapid_review")
    assert (task["due_date"], task["deadline_key"]) == ("2027-01-07", "R4")
    p.rapid_review_recorded("no_lcspr", "Learning is already being acted on.")
    assert p.task("ratify_rapid_review_partners")["due_date"] == "2027-01-14"  # R6: 15 working days
    p.do(
        "ratify_rapid_review_partners",
        form(
            "executive_ratification_partners",
            executive_lcspr_decision="no_lcspr",
            ratification_date="2026-12-21",
            decision_date=None,
        ),
    )
    assert [r for r, _ in p.sent("rapid_review_to_panel")] == ["panel-notifications@example.org"]
    p.do("tell_family_decision", form("family_contact"))
    assert p.instances("local_cspr") == []
    # with no local review, the immediate learning goes into tracking (003 §4.3, §7.10)
    assert p.open_steps() == ["agree_action_plan"]
    p.answer("rapid_review", "panel_response", outcome="no_national_review")
    rapid = p.case("rapid_review")
    assert rapid["status"] == "completed", rapid.get("error")
    assert {k: s for k, (_, s) in p.deadlines("rapid_review").items()} == {
        "RR_AGENCY_INFO": "met",
        "R4": "met",
        "R5": "met",
        "R6": "met",
        "RR_PANEL_CHASE": "met",
    }  # the Panel answered before it was chased (003 §8.5)
    assert p.errors() == []
