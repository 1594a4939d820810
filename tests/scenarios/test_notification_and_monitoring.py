"""The ends of the procedures: incidents that are not notifiable, a looked-after child's death, a
Working Together 2023 case, and the action plan reviewed at six months and again until every action is
implemented. The clock starts on Monday 21 December 2026."""

from __future__ import annotations

from tests.scenarios.driver import STAFF, Partnership, form


def looked_after_child_died(service, abuse_or_neglect: str, **changes) -> Partnership:
    """A looked-after child's death, known on Monday 21 December 2026, and the other children checked."""
    p = Partnership(service)
    p.start(
        child_died=True,
        seriously_harmed=False,
        abuse_or_neglect=abuse_or_neglect,
        looked_after=True,
        date_aware="2026-12-21",
        notification_date=None,
        **changes,
    )
    p.do("check_other_children", form("safety_check"))
    return p


def test_an_incident_that_is_not_notifiable_is_answered_and_goes_no_further(deployed):
    p = Partnership(deployed)
    p.start(child_died=False, seriously_harmed=False, abuse_or_neglect="not_suspected")
    # no case closes as not notifiable without a person's decision (catalogue, reading notes)
    p.do("confirm_not_notifiable", form("notifiability_decision"))
    case = p.case("incident_notification")
    assert case["status"] == "completed"
    assert p.sent() == [("referrer@example.org", "referrer_not_notifiable")]
    assert p.instances("rapid_review") == [] and p.instances("scr_decision") == []


def test_a_looked_after_childs_death_is_also_notified_to_the_secretary_of_state_and_ofsted(deployed):
    p = looked_after_child_died(deployed, "not_suspected", regime="WT2023")
    # not a serious child safeguarding case (no abuse or neglect suspected): no Panel notification
    assert p.open_steps() == ["notify_sos_ofsted"]
    task = p.task("notify_sos_ofsted")
    # R3: no figure in 003 §3.7, a rule-set setting of 5 working days: 22, 23, 24, 29, 30 December
    assert (task["due_date"], task["deadline_key"]) == ("2026-12-30", "R3")
    p.do("notify_sos_ofsted", form("statutory_notification"))
    assert sorted(r for r, _ in p.sent("lac_death_notification")) == [
        "ofsted-notifications@example.org",
        "secretary-of-state@example.org",
    ]
    assert p.case("incident_notification")["status"] == "completed"
    assert p.sent("panel_serious_incident") == [] and p.instances("rapid_review") == []


def test_a_looked_after_childs_death_with_suspected_abuse_gets_both_notifications_and_a_rapid_review(
    deployed,
):
    p = looked_after_child_died(deployed, "suspected")
    assert p.open_steps() == ["arrange_rapid_review", "notify_panel_and_partners", "notify_sos_ofsted"]
    # the rapid review started with the notification, beside both notices (003 §3.4, §3.7)
    assert p.case("rapid_review")["status"] == "running"
    p.do("notify_sos_ofsted", form("statutory_notification"))
    p.do("notify_panel_and_partners", form("statutory_notification"))
    assert p.case("incident_notification")["status"] == "completed"


def test_a_working_together_2023_case_takes_the_2018_path_with_the_same_deadlines(deployed):
    p = Partnership(deployed)
    p.start(regime="WT2023", date_aware="2026-12-18", notification_date=None)
    p.do("check_other_children", form("safety_check"))
    assert p.deadlines("incident_notification") == {
        "R1": ("2026-12-29", "pending"),
        "R2": ("2026-12-29", "pending"),
    }
    p.do("notify_panel_and_partners", form("statutory_notification"))
    assert p.case("rapid_review")["regime"] == "WT2023"


def monitoring(service, regime="WT2015") -> Partnership:
    p = Partnership(service)
    service.instances.start(
        "recommendation_monitoring", {"regime": regime, "decision_date": "2026-12-01"}, STAFF
    )
    return p


def next_review(p: Partnership, reviewed: str, next_on: str, outstanding: str) -> None:
    """The plan reviewed on ``reviewed``, ``outstanding`` still to do, the next review set for ``next_on``."""
    p.do(
        "schedule_next_review",
        form(
            "action_plan_review",
            review_date=reviewed,
            next_review_date=next_on,
            outstanding_actions=outstanding,
        ),
    )


def test_action_plan_reviewed_at_six_months_and_again_until_implemented(deployed):
    """Each item is reported on at six months, then at the agreed intervals until it is done (004 "Review of
    recommendations"; 001 §6)."""
    p = monitoring(deployed)
    p.do("agree_action_plan", form("action_plan", report_agreed_date="2027-01-29"))
    task = p.task("first_progress_review")
    assert (task["due_date"], task["deadline_key"], task["role"]) == ("2027-07-29", "S7", "SCR sub group")
    # reminder 10 working days before, at 09:00 BST
    p.at("2027-07-15T08:00:00+00:00")
    assert "2027-07-15" in p.sent_on("deadline_reminder")
    p.do("first_progress_review", form("action_plan_item", status="in_progress"))
    next_review(p, "2027-07-15", "2028-01-27", "Training not finished.")
    task = p.task("next_progress_review")
    assert (task["due_date"], task["deadline_key"]) == ("2028-01-27", "S7N")
    p.at("2028-01-28T00:00:00+00:00")  # missed at the end of 27 January
    assert p.deadlines("recommendation_monitoring")["S7N"] == ("2028-01-27", "missed")
    assert "2028-01-28" in p.sent_on("deadline_missed")
    p.do("next_progress_review", form("action_plan_item", status="in_progress"))
    next_review(p, "2028-01-28", "2028-08-03", "Audit due.")
    assert p.task("next_progress_review")["due_date"] == "2028-08-03"
    p.at("2028-08-01T10:00:00+00:00")  # completed on 1 August, recorded that day (x-not-future, 003 §3.6)
    p.do(
        "next_progress_review",
        form("action_plan_item", status="impact_evidenced", completed_date="2028-08-01"),
    )
    assert p.case("recommendation_monitoring")["status"] == "completed"
    assert sorted(r for r, _ in p.sent("action_plan_complete")) == [
        "executive@example.org",
        "independent-chair@example.org",
    ]


def test_under_2018_the_practice_review_group_monitors(deployed):
    p = monitoring(deployed, regime="WT2018")
    p.do("agree_action_plan", form("action_plan", report_agreed_date="2027-08-31"))
    task = p.task("first_progress_review")
    # 31 August + 6 months clamps to the end of February
    assert (task["due_date"], task["role"]) == ("2028-02-29", "Practice Review Group")
