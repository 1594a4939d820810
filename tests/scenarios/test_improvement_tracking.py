"""Improvements: captured while a review runs, agreed as an action plan and signed off before
publication, sent with the report, and tracked item by item (owner, target date, evidence, status) from
sign-off until every item is done, even while publication waits for a trial; a rapid review's immediate
learning is tracked the same way. Reviews run from 1 December 2027, after every example date."""

from __future__ import annotations

from tests.scenarios.driver import LOCAL_REVIEW_STEPS, REPORTERS, STAFF, Partnership, form
from tests.scenarios.test_publication_gates import (
    OFSTED,
    PANEL,
    START,
    bodies,
    local_review_signed_off,
    local_review_written,
    scr_written,
)

ITEMS = [
    {
        "item_number": "1",
        "finding": "Plans ended without every agency's view.",
        "objective": "Every agency's view is sought before a plan ends.",
        "actions": ["Change the procedure."],
        "target_date": "2027-06-30",
        "lead": {"agency": "Children's social care", "role": "Head of safeguarding"},
        "outcome": "Audits show each agency's view recorded.",
    },
    {
        "item_number": "2",
        "finding": "Transfers in were not followed up.",
        "objective": "Every transfer in is followed up.",
        "actions": ["Agree a transfer-in protocol."],
        "target_date": "2027-09-30",
        "lead": {"agency": "Health", "role": "Named nurse"},
        "outcome": "No child's case closes on transfer without a check.",
    },
]


def update(item: dict, status: str, **more) -> dict:
    """An item as its lead reports it at a progress review."""
    out = {
        **item,
        "status": status,
        "progress": [{"date": "2027-06-10", "update": "Progress made.", "evidence": "Audit of 20 cases."}],
        **more,
    }
    if status in ("implemented", "impact_evidenced"):
        out["completed_date"] = "2027-06-01"
    return out


def test_improvements_are_captured_while_the_review_runs(deployed):
    """003 §7.10: every effort, before and during the review, to capture improvements needed, take
    corrective action and disseminate learning; 000 Appendix 7 and 002 §1.7 say the same for an SCR
    that runs late. The step opens with the agency reports, not after the report."""
    p = Partnership(deployed)
    p.at(START)
    deployed.instances.start("local_cspr", {"regime": "WT2023", "decision_date": "2027-12-01"}, STAFF)
    p.do("commission_reviewer", form("reviewer_appointment"))
    p.do("lcspr_terms_of_reference", form("terms_of_reference", contributors=REPORTERS))
    assert "lcspr_capture_improvements" in p.open_steps()
    p.do("lcspr_capture_improvements", form("improvements_captured"))
    p.each_agency("lcspr_agency_reports", "agency_report")
    p.steps(LOCAL_REVIEW_STEPS, skip=("lcspr_capture_improvements",))  # captured above
    captured = p.case("recommendation_monitoring")["data"][
        "improvements_identified"
    ]  # beside the plan it fed
    assert captured[0]["corrective_action"] == "A duty contact is now on every referral."


def test_scr_improvements_are_captured_while_it_runs(deployed):
    """000 Appendix 7 "Timescale for SCR completion"; 002 §1.7: capture points about improvements and
    take corrective action while the SCR is in progress."""
    p = Partnership(deployed)
    p.at(START)
    deployed.instances.start(
        "serious_case_review", {"regime": "WT2015", "decision_date": "2027-12-01"}, STAFF
    )
    p.do("appoint_lead_reviewer", form("reviewer_appointment"))
    p.do("scr_scope", form("terms_of_reference"))
    assert "scr_capture_improvements" in p.open_steps()


def test_action_plan_is_signed_off_before_publication_and_tracked_while_a_trial_delays_it(deployed):
    """000 §8.4 and Appendix 7: the actions taken are published with the report; 002 §1.9: on receiving
    the report the partnership translates the recommendations into an action plan signed at senior
    level; 003 §7.10. Monitoring starts from that sign-off, so a publication delayed by a trial (003
    §7.8) still tracks its actions; the first review is six months after sign-off (004)."""
    p = local_review_written(deployed)
    p.do("lcspr_partners_sign_off", form("report_sign_off_partners"))
    p.do("lcspr_scrutiny", form("chair_scrutiny"))
    assert p.open_steps() == ["lcspr_action_plan"]
    p.do("lcspr_action_plan", form("action_plan", action_plan_items=ITEMS, report_agreed_date="2027-12-01"))
    monitoring = p.case("recommendation_monitoring")
    assert (
        monitoring["status"] == "running"
        and monitoring["business_key"] == p.case("local_cspr")["business_key"]
    )
    p.publication_delayed("lcspr_publication_decision", "Trial in September.", publication_date="2028-06-15")
    p.do("lcspr_proceedings_delay", form("proceedings_delay", publication_date="2028-10-20"))
    reviews = p.tasks("first_progress_review")
    assert len(reviews) == 2 and {t["due_date"] for t in reviews} == {"2028-06-01"}


def test_the_action_plan_goes_with_the_report_before_publication(deployed):
    """002 §1.9: a copy of the overview report and action plan to Ofsted and the DfE before publication;
    000 Appendix 7: the report with any action taken; 003 §7.7."""
    p = local_review_signed_off(deployed)
    p.do("lcspr_publication_decision", form("publication_decision", publication_date="2028-01-05"))
    p.at("2027-12-22T10:00:00+00:00")
    p.do("lcspr_send_before_publication", form("report_sent", date_sent="2027-12-22"))
    body = bodies(p, "report_before_publication_with_plan")[PANEL]
    assert "Action plan" in body and "Every transfer is followed up." in body


def test_each_recommendation_is_tracked_as_its_own_item_until_every_one_is_done(deployed):
    """001 §6 "Action / improvement plans": each finding with its objective, actions, date, lead and
    outcome; 004 "Review of recommendations": progress six months after agreement, then at agreed
    intervals until fully implemented; 000 Appendix 7: timescales, success criteria and impact."""
    p = Partnership(deployed)
    deployed.instances.start(
        "recommendation_monitoring",
        {"regime": "WT2015", "action_plan_items": ITEMS, "report_agreed_date": "2027-01-04"},
        STAFF,
    )
    first = p.tasks("first_progress_review")
    assert len(first) == 2 and first[0]["due_date"] == "2027-07-04"
    p.at("2027-06-10T10:00:00+00:00")
    for task, item, status in zip(first, ITEMS, ("implemented", "in_progress"), strict=True):
        deployed.instances.complete_task(task["id"], update(item, status), STAFF)
    p.do(
        "schedule_next_review",
        form("action_plan_review", review_date="2027-06-10", next_review_date="2027-12-01"),
    )
    [again] = p.tasks("next_progress_review")  # only the item still open
    assert again["due_date"] == "2027-12-01"
    deployed.instances.complete_task(again["id"], update(ITEMS[1], "impact_evidenced"), STAFF)
    case = p.case("recommendation_monitoring")
    assert case["status"] == "completed"
    assert [(i["item_number"], i["status"]) for i in case["data"]["action_plan_items"]] == [
        ("1", "implemented"),
        ("2", "impact_evidenced"),
    ]
    assert case["data"]["action_plan_items"][1]["lead"]["agency"] == "Health"


def test_a_rapid_reviews_immediate_learning_is_tracked_when_there_is_no_local_review(deployed):
    """003 §4.3: the rapid review records the immediate learning and how it will be disseminated; 003
    §7.10: corrective action is taken on it. The rapid review hands over its learning; the Business Unit
    turns it into items, tracked as any action plan is."""
    p = Partnership(deployed)
    deployed.instances.start(
        "recommendation_monitoring",
        {
            "regime": "WT2023",
            "review_type": "rapid_review",
            "report_agreed_date": "2027-01-12",
            "immediate_learning": "Schools did not know how to escalate a referral.",
            "dissemination_plan": "Briefing to designated safeguarding leads.",
        },
        STAFF,
    )
    assert p.open_steps() == ["agree_action_plan"]
    p.do(
        "agree_action_plan", form("action_plan", action_plan_items=ITEMS[:1], report_agreed_date="2027-01-12")
    )
    [review] = p.tasks("first_progress_review")
    assert review["due_date"] == "2027-07-12"


def test_a_scr_action_plan_is_signed_off_by_the_board_before_the_publication_decision(deployed):
    """002 §1.9: the action plan is signed up to at senior level on receiving the report; 000 §8.4."""
    p = scr_written(deployed)
    p.do("scr_board_sign_off", form("report_sign_off"))
    assert p.open_steps() == ["scr_action_plan"]
    p.do("scr_action_plan", form("action_plan", report_agreed_date="2027-12-01"))
    assert p.case("recommendation_monitoring")["status"] == "running"
    p.do("scr_publication_decision", form("publication_decision", publication_date="2028-01-05"))
    p.at("2027-12-22T10:00:00+00:00")
    p.do("scr_send_before_publication", form("report_sent", date_sent="2027-12-22"))
    assert "Action plan" in bodies(p, "report_before_publication_with_plan")[OFSTED]


def late_item_review(service, review_date: str) -> Partnership:
    """One item, reviewed at six months, the next review agreed for Monday 10 January 2028 and reported on
    Wednesday 12 January, saying when the review took place."""
    p = Partnership(service)
    service.instances.start(
        "recommendation_monitoring",
        {"regime": "WT2015", "action_plan_items": ITEMS[:1], "report_agreed_date": "2027-01-04"},
        STAFF,
    )
    p.at("2027-07-01T10:00:00+00:00")
    p.do("first_progress_review", update(ITEMS[0], "in_progress", review_date="2027-07-01"))
    p.do(
        "schedule_next_review",
        form("action_plan_review", review_date="2027-07-01", next_review_date="2028-01-10"),
    )
    p.at("2028-01-12T10:00:00+00:00")
    assert p.deadlines("recommendation_monitoring")["S7N"] == ("2028-01-10", "missed")
    p.do("next_progress_review", update(ITEMS[0], "implemented", review_date=review_date))
    return p


def test_a_progress_review_is_judged_by_the_day_it_took_place_not_by_the_last_one(deployed):
    """004 "Review of recommendations": progress is reviewed at the agreed intervals; the deadline is met or
    missed by the day this review took place (the rule set's recorded_by = review_date), never by the day
    of the review before it."""
    p = late_item_review(deployed, "2028-01-11")
    assert p.deadlines("recommendation_monitoring")["S7N"] == ("2028-01-10", "missed")
    assert p.case("recommendation_monitoring")["data"]["review_date"] == "2028-01-11"


def test_a_progress_review_held_on_time_and_reported_late_is_met(deployed):
    """004 "Review of recommendations": a review held on the agreed day meets the deadline even when its
    report is entered two days later."""
    p = late_item_review(deployed, "2028-01-10")
    assert p.deadlines("recommendation_monitoring")["S7N"] == ("2028-01-10", "met")
