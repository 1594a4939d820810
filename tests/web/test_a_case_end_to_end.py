"""One case run by its people in the browser, from the first notification to the action plan: the referrer
notifies, the local authority checks the children and notifies the Panel, the agencies return their
information, the Practice Review Group records the rapid review, the Executive ratifies it, the Business Unit
records the Panel's answer and runs the local review, the reviewer writes the report, the partners send it
back once and then sign it off, the Independent Chair scrutinises it, the report is published and its action
plan tracked. Each person signs in as themselves in a browser of their own; nothing calls the API. At each
decision the test reads, on the page the person decides on, the earlier information the decision rests on.

The clock is fixed and moved on as the weeks pass (Monday 21 December 2026 to April 2027); the worker's
sweep runs as it would in the background (the timers it fires are the product's, not the test's)."""

from __future__ import annotations

import re

import pytest

from engine import clock
from tests.scenarios.driver import form, notification
from tests.web.conftest import ROLES
from tests.web.walk import WHO_HOLDS, Staff, fill, schema_of

pytestmark = pytest.mark.slow

# what each person typed that a later decision must be able to read, each unmistakable on a page
NOTIFIED = "Admitted to hospital with a spiral fracture; the explanation did not fit."
RETURNS = {
    "police": "Police attended a domestic incident at the home in October.",
    "health": "Health visitor saw bruising at the 12-month review.",
}
PRG_FACTS = "The PRG found the school's concern was never shared with health visiting."
DRAFT = "Draft: decisions to end the plan rested on partial information."
SENT_BACK = "Say more about the school's referrals before we sign this off."
REWRITTEN = "Decisions to end the plan rested on partial information; the school's referrals were not read."
RECOMMENDATION = "Make every agency's view a condition of ending a child protection plan."
PROGRESS = "The conference procedure now asks every agency's view before a plan ends."
PANEL_SAID = "The Panel agrees the learning is local and will not commission a national review."
CONTRIBUTORS = [{"agency": key, "contribution": "agency_report"} for key in ("police", "health")]


def agency_report(agency: str) -> dict:
    row = {
        "date": "2026-10-01",
        "event": f"{agency.title()} contact",
        "child_seen": True,
        "wishes_sought": False,
    }
    return form("agency_report", agency=None, chronology=[row])  # its name as the request gave it


# the local review's other steps: what each answers (the example of its form unless listed)
LOCAL_REVIEW_ANSWERS = {
    "commission_reviewer": lambda task: form(
        "reviewer_appointment", appointment_date=clock.today().isoformat()
    ),
    "lcspr_terms_of_reference": lambda task: form(
        "terms_of_reference", contributors=CONTRIBUTORS, agency_reports_due="2027-03-01"
    ),
    "lcspr_agency_reports": lambda task: agency_report(WHO_HOLDS[task["role"]]),
}


@pytest.fixture
def staff(browser, live_server, service):
    people = Staff(browser, live_server, service)
    yield people
    people.close()


def at(service, instant: str) -> None:
    """The weeks pass: the clock moves to ``instant`` and the worker's sweep fires what is due."""
    clock.set_now(instant)
    service.work_once()


def open_tasks(service, reference: str) -> list[dict]:
    """The steps the case has open (read, to know who to ask next; never to move the case)."""
    everyone = service.users.actor("admin")
    return [t for t in service.tasks.for_user(everyone) if t["business_key"] == reference]


def holder(task: dict) -> str:
    return WHO_HOLDS[task["role"]]


def step(
    staff, service, reference: str, element_id: str, data: dict | None = None, role: str = "", read=None
):
    """The person holding the open step ``element_id`` (of ``role`` when several are open) opens it from their
    task list, reads it (``read(page)``), answers it with ``data`` (its form's example unless given) and
    sends it. Returns the page the step was read on, before it was sent."""
    tasks = [t for t in open_tasks(service, reference) if t["element_id"] == element_id]
    tasks = [t for t in tasks if role in ("", t["role"])]
    assert len(tasks) == 1, (
        element_id,
        role,
        [(t["element_id"], t["role"]) for t in open_tasks(service, reference)],
    )
    task = tasks[0]
    page = staff.open_step(holder(task), reference, element_id)
    if read is not None:
        read(page)
    name = task["form"]
    fill(page, schema_of(name), data if data is not None else form(name.removesuffix(".json")))
    staff.send(page)
    return page


def work_until(staff, service, reference: str, target: str, answers: dict) -> None:
    """Every other open step of the case, each by the person holding it, until ``target`` is open; a step
    answers what ``answers`` gives for it, else its form's example."""
    for _ in range(40):
        tasks = open_tasks(service, reference)
        if any(t["element_id"] == target for t in tasks):
            return
        assert tasks, f"the case ended before {target}"
        task = tasks[0]
        make = answers.get(task["element_id"])
        data = make(task) if make else None
        step(staff, service, reference, task["element_id"], data, role=task["role"])
    raise AssertionError(f"{target} never opened")


def case_file(page) -> str:
    return page.locator("#case-file").inner_text()


def test_a_case_from_notification_to_the_action_plan(staff, service):
    # The referrer notifies a serious incident from the Start page (Monday 21 December 2026)
    referrer = staff.visit("referrer", "/cases/new")
    incident = notification(date_aware="2026-12-18", notification_date=None, presenting_issues=NOTIFIED)
    fill(referrer, schema_of("incident_notification.json"), incident)
    referrer.click("button:has-text('Send the notification')")
    referrer.wait_for_url(re.compile(r".*/cases/started/\d+$"))
    reference = referrer.locator(".govuk-panel__body strong").inner_text()

    # The local authority checks the other children, then notifies the Panel reading what was notified
    step(staff, service, reference, "check_other_children")

    def reads_the_notification(page):
        assert NOTIFIED in case_file(page)

    step(staff, service, reference, "notify_panel_and_partners", read=reads_the_notification)

    # The Business Unit asks the agencies for their information; each agency answers its own request and
    # sees no other agency's answer (001 §2)
    step(
        staff,
        service,
        reference,
        "arrange_rapid_review",
        form("rapid_review_arrangements", information_required_by="2026-12-31"),
    )
    for agency, name in (("police", "Police"), ("health", "Health")):
        returned = form("agency_case_information", agency=None, case_record_overview=RETURNS[agency])

        def reads_its_own_request(page, name=name):  # its own name, from the request: never typed
            assert page.locator("[name='agency']").input_value() == name

        step(
            staff,
            service,
            reference,
            "return_agency_information",
            returned,
            role=ROLES[agency],
            read=reads_its_own_request,
        )
    assert RETURNS["police"] not in staff.page("health").content()

    # The Practice Review Group meets after the holidays and records the rapid review, reading every
    # agency's return and the chronology merged from them
    at(service, "2027-01-07T10:00:00+00:00")

    def reads_the_returns(page):
        shown = case_file(page)
        assert RETURNS["police"] in shown and RETURNS["health"] in shown
        assert "Chronology" in shown

    record = form("rapid_review_record", facts_summary=PRG_FACTS, rapid_review_date="2027-01-07")
    step(staff, service, reference, "record_rapid_review", record, read=reads_the_returns)

    # The Executive ratifies it, reading the PRG's record
    at(service, "2027-01-12T10:00:00+00:00")

    def reads_the_prg_record(page):
        assert PRG_FACTS in case_file(page)

    ratified = form(
        "executive_ratification_partners", ratification_date="2027-01-12", decision_date="2027-01-12"
    )
    step(staff, service, reference, "ratify_rapid_review_partners", ratified, read=reads_the_prg_record)

    # The Business Unit tells the family of the decision, then records the Panel's answer when it arrives,
    # from the list of answers awaited
    step(staff, service, reference, "tell_family_decision")
    bu = staff.visit("bu", "/awaited")
    waiting = bu.locator(f"#awaited-answers tr[data-case='{reference}']")
    assert "Panel" in waiting.inner_text()
    waiting.locator("a:has-text('Record')").click()
    answer = {"outcome": "no_national_review", "received_date": "2027-01-12", "detail": PANEL_SAID}
    fill(bu, schema_of("panel_answer.json"), answer)
    bu.click("button:has-text('Record the answer')")
    bu.wait_for_url("**/awaited")
    assert bu.locator(f"#awaited-answers tr[data-case='{reference}']").count() == 0

    # The local review: commissioned, its terms of reference agreed, the agencies' reports in, the
    # practitioners and the family involved, up to the report
    work_until(staff, service, reference, "lcspr_write_report", LOCAL_REVIEW_ANSWERS)
    report = form("overview_report", analysis=DRAFT, recommendations=[RECOMMENDATION])
    step(staff, service, reference, "lcspr_write_report", report)

    # The partners read the draft and send it back once, saying why
    def reads_the_draft(page):
        assert DRAFT in case_file(page)

    back = form(
        "report_sign_off_partners", signed_off=False, partner_sign_offs=None, changes_required=SENT_BACK
    )
    step(staff, service, reference, "lcspr_partners_sign_off", back, read=reads_the_draft)

    # The reviewer reads why, finds the report as it was sent, and rewrites it
    def reads_why_it_came_back(page):
        assert SENT_BACK in case_file(page)
        assert page.locator("[name='analysis']").input_value() == DRAFT  # nothing written is lost

    rewritten = form("overview_report", analysis=REWRITTEN, recommendations=[RECOMMENDATION])
    step(staff, service, reference, "lcspr_write_report", rewritten, read=reads_why_it_came_back)

    def reads_the_rewritten_report(page):
        assert REWRITTEN in case_file(page)

    step(staff, service, reference, "lcspr_partners_sign_off", read=reads_the_rewritten_report)
    step(staff, service, reference, "lcspr_scrutiny", read=reads_the_rewritten_report)

    # The action plan, drawn up from the report's recommendations
    def reads_the_recommendations(page):
        assert RECOMMENDATION in case_file(page)
        assert page.locator("[name='action_plan_items.0.objective']").input_value() == RECOMMENDATION

    plan = form("action_plan", report_agreed_date="2027-03-05")
    plan["action_plan_items"] = [{**plan["action_plan_items"][0], "objective": RECOMMENDATION}]
    step(staff, service, reference, "lcspr_action_plan", plan, read=reads_the_recommendations)

    # Publication: the Executive decides reading the report as signed off; the Business Unit sends it to the
    # Panel, the Secretary of State and Ofsted 7 working days before (003 §7.7: Good Friday and Easter Monday
    # 2027 fall in between), tells the family, and publishes it
    at(service, "2027-03-10T10:00:00+00:00")

    def reads_the_signed_off_report(page):
        shown = case_file(page)
        assert REWRITTEN in shown and RECOMMENDATION in shown

    decided = form(
        "publication_decision",
        publication_date="2027-04-01",
        decided_on="2027-03-10",
        family_informed_date="2027-03-10",
    )
    step(staff, service, reference, "lcspr_publication_decision", decided, read=reads_the_signed_off_report)
    at(service, "2027-03-18T10:00:00+00:00")

    def reads_when_it_is_due(page):
        assert "Due by the end of 19 March 2027" in page.inner_text(
            "main"
        )  # R10: 7 working days before 1 April
        assert "1 April 2027" in case_file(page)

    sent = form("report_sent", date_sent="2027-03-18")
    step(staff, service, reference, "lcspr_send_before_publication", sent, read=reads_when_it_is_due)
    step(staff, service, reference, "lcspr_family_publication")
    at(service, "2027-04-01T09:00:00+00:00")
    step(staff, service, reference, "lcspr_publish", form("publication_record", date_published="2027-04-01"))

    # The action plan is tracked: the Practice Review Group reports each item's progress, reading the item
    def reads_the_item(page):
        assert page.locator("[name='objective']").input_value() == RECOMMENDATION  # never typed again

    progress = form("action_plan_item", objective=RECOMMENDATION)
    progress["progress"][0].update(date="2027-04-01", update=PROGRESS)
    step(staff, service, reference, "first_progress_review", progress, read=reads_the_item)

    def reads_the_progress(page):
        assert PROGRESS in case_file(page)

    review = form("action_plan_review", review_date="2027-04-01", next_review_date="2027-10-01")
    step(staff, service, reference, "schedule_next_review", review, read=reads_the_progress)
    [again] = open_tasks(service, reference)  # the next review, due on the date agreed
    assert (again["element_id"], again["due_date"]) == ("next_progress_review", "2027-10-01")

    # A manager finds the case by its reference (one row, its sub-processes folded in), opens its rapid review
    # and reads the PRG's answers, with who gave them and when
    manager = staff.visit("manager", "/cases")
    manager.fill("#q", reference)
    manager.click("button:has-text('Apply filters')")
    row = manager.locator(f"#case-list tr[data-case='{reference}']")
    assert manager.locator("#case-list tbody tr[data-case]").count() == 1
    row.locator("a:has-text('Rapid review')").first.click()
    manager.click("a[data-answers='record_rapid_review']")
    answers = manager.inner_text("main")
    assert PRG_FACTS in answers and "prg" in answers.lower()
    assert manager.locator("form button:has-text('Submit')").count() == 0  # read only
