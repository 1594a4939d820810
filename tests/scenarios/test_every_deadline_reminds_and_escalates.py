"""Every deadline timer of every procedure: the step it sits on shows the due date (worked out by hand
from the England calendar), a reminder goes to whoever must act at 09:00 on the right working day, and
when the end of the due day passes in England the escalation goes to the person the documents name,
the deadline is recorded as missed, and the step stays open."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from engine import clock
from tests.scenarios.driver import (
    LOCAL_REVIEW_STEPS,
    MANAGER,
    REPORTERS,
    SCR_STEPS,
    TRANSITIONAL,
    Partnership,
    form,
)

LONDON = ZoneInfo("Europe/London")
BU, LA, EXEC, CHAIR, PRG = (
    "business-unit@example.org",
    "childrens-services@example.org",
    "executive@example.org",
    "independent-chair@example.org",
    "prg-chair@example.org",
)
LEADS, REVIEWER, SCR_CHAIR, OFSTED = (
    "agency-safeguarding-leads@example.org",
    "lead-reviewer@example.org",
    "scr-panel-chair@example.org",
    "ofsted-notifications@example.org",
)


def utc(day: str, hour: int, minute: int = 0) -> str:
    local = dt.datetime.combine(dt.date.fromisoformat(day), dt.time(hour, minute), LONDON)
    return local.astimezone(dt.UTC).isoformat()


# --- getting each step open ---------------------------------------------------------------------


def notified(p, **changes):
    p.start(**{"date_aware": "2026-12-18", "notification_date": None, **changes})
    p.do("check_other_children", form("safety_check"))


def lac_death_only(p):
    notified(
        p,
        child_died=True,
        seriously_harmed=False,
        abuse_or_neglect="not_suspected",
        looked_after=True,
        date_aware="2026-12-21",
    )


def wt2015(p):
    notified(p, regime="WT2015", regime_reason=TRANSITIONAL)


def rapid_review_arranged(p):
    notified(p)
    p.do("notify_panel_and_partners", form("statutory_notification"))
    p.do("arrange_rapid_review", form("rapid_review_arrangements", information_required_by="2026-12-31"))


def rapid_review_returned(p):
    rapid_review_arranged(p)
    p.each_agency("return_agency_information", "agency_case_information")


def rapid_review_recorded(p, **ratification):
    rapid_review_returned(p)
    p.do("record_rapid_review", form("rapid_review_record"))


def rapid_review_recorded_2018(p):
    """Under Working Together 2018 the Executive Group ratifies (003 §4.4-4.6)."""
    notified(p, regime="WT2018", regime_reason=TRANSITIONAL)
    p.do("notify_panel_and_partners", form("statutory_notification"))
    p.rapid_review_information_in()
    p.do("record_rapid_review", form("rapid_review_record"))


def executive_disagreed(p):
    rapid_review_recorded(p)
    p.do(
        "ratify_rapid_review_partners",
        form(
            "executive_ratification_partners",
            executive_agrees=False,
            executive_rationale="Disagree.",
            ratification_date="2026-12-21",
            decision_date="2027-01-12",
        ),
    )


def local_review_agreed(p):
    rapid_review_recorded(p)
    p.do(
        "ratify_rapid_review_partners",
        form("executive_ratification_partners", ratification_date="2026-12-21", decision_date="2027-01-12"),
    )
    p.do("tell_family_decision", form("family_contact"))


def local_review_scoped(p):
    local_review_agreed(p)
    p.do("commission_reviewer", form("reviewer_appointment", appointment_date=clock.today().isoformat()))
    p.do(
        "lcspr_terms_of_reference",
        form("terms_of_reference", contributors=REPORTERS, agency_reports_due="2027-03-01"),
    )


def local_review_publishing(p):
    local_review_scoped(p)
    p.each_agency("lcspr_agency_reports", "agency_report")
    p.steps(LOCAL_REVIEW_STEPS)
    p.at("2027-03-10T10:00:00+00:00")  # decided, and the family told, on 10 March (x-not-future, 003 §3.6)
    p.publication_decided("lcspr_publication_decision", "2027-04-01", on="2027-03-10")


def scr_information_requested(p):
    wt2015(p)
    p.do("notify_ofsted_lscb", form("statutory_notification"))
    p.do("request_information", form("information_request", information_required_by="2027-01-08"))


def bolton(p):
    notified(
        p, regime="WT2015", ruleset="BOLTON_PRE2015", regime_reason=TRANSITIONAL, referral_date="2026-12-11"
    )
    p.do("notify_ofsted_lscb", form("statutory_notification"))
    p.initial_panel_prepared()


def chair_deciding(p):
    scr_information_requested(p)
    p.each_agency("return_case_information", "agency_case_information")
    p.do("subgroup_meeting", form("subgroup_recommendation"))
    p.do("chair_checklist", form("independent_chair_checklist", serious_harm="yes", peer_consultation=None))


def chair_decided(p):
    chair_deciding(p)
    p.at(
        "2027-01-15T10:00:00+00:00"
    )  # the decision is recorded on the day it is made (x-not-future, 003 §3.6)
    p.do("chair_decides", form("chair_decision", decision_date="2027-01-15"))


def scr_commissioned(p):
    chair_decided(p)
    p.do("notify_decision", form("statutory_notification"))
    p.do("appoint_lead_reviewer", form("reviewer_appointment", appointment_date=clock.today().isoformat()))


def scr_publishing(p):
    scr_commissioned(p)
    p.do("scr_scope", form("terms_of_reference", contributors=REPORTERS, agency_reports_due="2027-03-01"))
    p.each_agency("scr_agency_reports", "agency_report")
    p.steps(SCR_STEPS)
    p.at("2027-05-10T10:00:00+00:00")  # decided, and the family told, on 10 May (x-not-future, 003 §3.6)
    p.publication_decided("scr_publication_decision", "2027-06-03", on="2027-05-10")


def action_plan_agreed(p):
    from tests.scenarios.driver import STAFF

    p.service.instances.start("recommendation_monitoring", {"regime": "WT2015"}, STAFF)
    p.do("agree_action_plan", form("action_plan", report_agreed_date="2027-01-29"))


# (setup, process, step, key, due date, reminder day or None, reminded, escalated)
DEADLINES = [
    (
        notified,
        "incident_notification",
        "notify_panel_and_partners",
        "R1",
        "2026-12-29",
        "2026-12-23",
        [LA],
        [LA, EXEC],
    ),
    (
        notified,
        "incident_notification",
        "notify_panel_and_partners",
        "R2",
        "2026-12-29",
        None,
        [],
        [LA, EXEC],
    ),
    (
        lac_death_only,
        "incident_notification",
        "notify_sos_ofsted",
        "R3",
        "2026-12-30",
        "2026-12-24",
        [LA],
        [LA, EXEC],
    ),
    (
        wt2015,
        "incident_notification",
        "notify_ofsted_lscb",
        "S1",
        "2026-12-29",
        "2026-12-23",
        [LA],
        [LA, CHAIR],
    ),
    (
        rapid_review_arranged,
        "rapid_review",
        "return_agency_information",
        "RR_AGENCY_INFO",
        "2026-12-31",
        "2026-12-30",
        [LEADS, BU],
        [PRG, BU],
    ),
    (
        rapid_review_returned,
        "rapid_review",
        "record_rapid_review",
        "R4",
        "2027-01-07",
        "2027-01-04",
        [PRG, BU],
        [CHAIR, PRG],
    ),
    (
        rapid_review_returned,
        "rapid_review",
        "record_rapid_review",
        "R5",
        "2027-01-07",
        None,
        [],
        [CHAIR, EXEC],
    ),
    (
        rapid_review_recorded,
        "rapid_review",
        "ratify_rapid_review_partners",
        "R6",
        "2027-01-14",
        "2027-01-12",
        [EXEC],
        [CHAIR, EXEC],
    ),
    (
        rapid_review_recorded_2018,
        "rapid_review",
        "ratify_rapid_review",
        "R6",
        "2027-01-14",
        "2027-01-12",
        [EXEC],
        [CHAIR, EXEC],
    ),
    (
        executive_disagreed,
        "rapid_review",
        "send_executive_rationale",
        "R7",
        "2027-01-14",
        "2027-01-13",
        [BU],
        [CHAIR, EXEC],
    ),
    (
        local_review_agreed,
        "local_cspr",
        "commission_reviewer",
        "R8",
        "2027-01-19",
        "2027-01-15",
        [BU],
        [EXEC, CHAIR],
    ),
    (
        local_review_scoped,
        "local_cspr",
        "lcspr_agency_reports",
        "AGENCY_REPORTS",
        "2027-03-01",
        "2027-02-25",
        [LEADS, REVIEWER],
        [PRG, BU],
    ),
    (
        local_review_publishing,
        "local_cspr",
        "lcspr_send_before_publication",
        "R10",
        "2027-03-19",
        "2027-03-17",
        [BU],
        [CHAIR, EXEC],
    ),
    (
        scr_information_requested,
        "scr_decision",
        "return_case_information",
        "S8",
        "2027-01-08",
        "2027-01-06",
        [LEADS, BU],
        [SCR_CHAIR, BU],
    ),
    (bolton, "scr_decision", "initial_scr_panel", "S9", "2027-01-11", "2027-01-04", [SCR_CHAIR, BU], [CHAIR]),
    (chair_deciding, "scr_decision", "chair_decides", "S2", "2027-01-21", "2027-01-14", [CHAIR], [CHAIR, BU]),
    (chair_decided, "scr_decision", "notify_decision", "S3", "2027-01-22", "2027-01-20", [BU], [CHAIR]),
    (
        scr_commissioned,
        "serious_case_review",
        "scr_scope",
        "S4",
        "2027-07-15",
        "2027-06-17",
        [BU, CHAIR],
        [BU, CHAIR],
    ),
    (
        scr_publishing,
        "serious_case_review",
        "scr_send_before_publication",
        "S5",
        "2027-05-24",
        "2027-05-20",
        [BU],
        [CHAIR, EXEC],
    ),
    (
        action_plan_agreed,
        "recommendation_monitoring",
        "first_progress_review",
        "S7",
        "2027-07-29",
        "2027-07-15",
        [PRG, BU],
        [CHAIR, EXEC],
    ),
]


def new_rows(p, seen):
    rows = [m for m in p.service.outbox.list(MANAGER, limit=1000) if m["id"] not in seen]
    seen.update(m["id"] for m in rows)
    return rows


@pytest.mark.parametrize(
    "setup,process,step,key,due,remind_on,reminded,escalated",
    DEADLINES,
    ids=[f"{row[3]}-{row[2]}" for row in DEADLINES],
)
def test_deadline_reminds_then_escalates(
    deployed, setup, process, step, key, due, remind_on, reminded, escalated
):
    p = Partnership(deployed)
    setup(p)
    assert step in p.open_steps()
    assert p.deadlines(process)[key] == (due, "pending")
    seen: set = set()
    new_rows(p, seen)
    if remind_on:
        p.at(utc(remind_on, 8, 59))
        assert [m for m in new_rows(p, seen) if m["template"] == "deadline_reminder"] == []
        p.at(utc(remind_on, 9))
        rows = [
            m
            for m in new_rows(p, seen)
            if m["template"] == "deadline_reminder" and f"by {due}" in m["subject"]
        ]
        assert sorted(m["recipient"] for m in rows) == sorted(reminded)
    p.at(utc(due, 23, 59))
    assert p.deadlines(process)[key] == (due, "pending")
    next_day = (dt.date.fromisoformat(due) + dt.timedelta(days=1)).isoformat()
    p.at(utc(next_day, 0))
    rows = [m for m in new_rows(p, seen) if m["template"] == "deadline_missed"]
    assert p.deadlines(process)[key] == (due, "missed")
    # several deadlines can fall due together on one step (R1 and R2, R4 and R5): one message each
    by_subject: dict[str, list[str]] = {}
    for m in rows:
        by_subject.setdefault(m["subject"], []).append(m["recipient"])
    assert sorted(escalated) in [sorted(v) for v in by_subject.values()]
    assert step in p.open_steps()
    # the open step still shows the deadline it has missed, so the task list marks it overdue
    assert all(t["due_date"] is not None and t["due_date"] <= due for t in p.tasks(step))
    assert p.errors() == []
