"""What a step's form starts with: a report sent back starts from the report as it was sent, never blank, its
dates asked afresh; a decision asked again is made afresh; the
action plan starts with one action per recommendation of the report; a progress review starts from the item
it reviews; an agency's request never starts from another agency's answers; a form with nothing declared
starts empty."""

from __future__ import annotations

from tests.scenarios.driver import STAFF, form
from tests.scenarios.test_wt2018_local_review import rapid_review_done, report_assured, review_conducted


def test_a_report_sent_back_starts_from_the_report_as_it_was_sent(deployed):
    p = rapid_review_done(deployed)
    p.do("tell_family_decision", form("family_contact"))
    review_conducted(p)  # the report written: the example's
    report = form("overview_report")
    back = form(
        "report_sign_off_partners", signed_off=False, partner_sign_offs=None, changes_required="More."
    )
    p.do("lcspr_partners_sign_off", back)
    again = p.task("lcspr_write_report")
    started = deployed.tasks.starting_answers(again["id"], STAFF)
    kept = {k: v for k, v in report.items() if k not in ("report_agreed_date", "board_sign_off")}
    assert started == {**kept, "board_sign_off": {"by": "Executive Group"}}  # each act's date asked afresh
    p.do("lcspr_write_report", report)
    sign_off = deployed.tasks.starting_answers(p.task("lcspr_partners_sign_off")["id"], STAFF)
    assert sign_off == {k: v for k, v in back.items() if k != "sign_off_date"}


def test_the_action_plan_starts_with_the_reports_recommendations(deployed):
    p = rapid_review_done(deployed)
    p.do("tell_family_decision", form("family_contact"))
    review_conducted(p)
    p.do(
        "lcspr_partners_sign_off",
        form("report_sign_off_partners", signed_off=False, partner_sign_offs=None, changes_required="More."),
    )
    p.do("lcspr_write_report", form("overview_report", recommendations=["First.", "Second."]))
    p.do("lcspr_partners_sign_off", form("report_sign_off_partners"))
    p.do("lcspr_scrutiny", form("chair_scrutiny"))
    plan = deployed.tasks.starting_answers(p.task("lcspr_action_plan")["id"], STAFF)
    assert plan == {"action_plan_items": [{"objective": "First."}, {"objective": "Second."}]}


def test_a_progress_review_starts_from_its_item(deployed):
    p = report_assured(deployed)
    items = p.case("recommendation_monitoring")["data"]["action_plan_items"]
    started = [deployed.tasks.starting_answers(t["id"], STAFF) for t in p.tasks("first_progress_review")]
    assert sorted(s["objective"] for s in started) == sorted(i["objective"] for i in items)


def test_an_agency_never_starts_from_another_agencys_answers(deployed):
    p = rapid_review_done(deployed)
    p.do("tell_family_decision", form("family_contact"))
    p.do("commission_reviewer", form("reviewer_appointment", appointment_date="2027-01-12"))
    p.do(
        "lcspr_terms_of_reference",
        form(
            "terms_of_reference",
            contributors=[
                {"agency": "police", "contribution": "agency_report"},
                {"agency": "health", "contribution": "agency_report"},
            ],
            agency_reports_due="2027-03-01",
        ),
    )
    p.do("lcspr_agency_reports", form("agency_report", agency="Police"), agency="Police")
    [health] = p.tasks("lcspr_agency_reports")
    assert deployed.tasks.starting_answers(health["id"], STAFF) == {"agency": "Health"}  # its own name only
