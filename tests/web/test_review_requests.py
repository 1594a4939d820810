"""In a real browser: a review asked for from the Start page (000 §10.1, Appendix 6; 003 §5.6), recommended
by the Practice Review Group and decided by the Executive Group; and a lead reviewer recording practitioners'
interviews one after another, each a record of its own (004 Appendix 2)."""

from __future__ import annotations

from engine.services.actor import Actor
from tests.scenarios.driver import STAFF, form
from tests.web.conftest import axe_violations, sign_in
from tests.web.test_staff_daily_work import fill_date


def test_an_agency_asks_for_a_review_from_the_start_page(page, service):
    sign_in(page, "referrer")
    page.click("a:has-text('Start a case')")
    assert page.locator("h1").inner_text() == "Notify a serious incident"
    page.click("a:has-text('ask for a review')")
    assert page.locator("h1").inner_text() == "Ask for a review"
    assert "000 §10.1" in page.inner_text("aside")
    assert axe_violations(page) == []
    page.click("button:has-text('Send the request')")  # nothing filled in
    summary = page.locator(".govuk-error-summary").inner_text()
    assert "benefit" in summary  # why a review would be of benefit (Appendix 6, section 5)
    page.fill("#f-referrer-name", "Lead Example")
    page.fill("#f-referrer-role", "Designated safeguarding lead")
    page.fill("#f-referrer-agency", "Example School")
    page.fill("#f-referrer-email", "lead@example.org")
    page.fill("#f-children-0-name", "Child Q Example")
    fill_date(page, "children-0-date_of_birth", "2016-05-04")
    page.locator("fieldset:has(#f-agencies)").get_by_label("Police", exact=True).check()
    page.locator("fieldset:has(#f-issues_of_importance)").get_by_label("A near miss", exact=True).check()
    page.fill("#f-request_reason", "A referral was lost when the family moved; no serious harm followed.")
    page.click("button:has-text('Send the request')")
    assert page.locator(".govuk-panel__title").inner_text() == "Review request received"
    reference = page.locator(".govuk-panel__body strong").inner_text()
    assert reference.startswith("RF-")
    page.set_viewport_size({"width": 375, "height": 800})
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.set_viewport_size({"width": 1280, "height": 800})
    page.click("button:has-text('Sign out')")
    # under the rules in force today (Working Together 2023) the Practice Review Group considers it
    sign_in(page, "prg")
    row = page.locator("tr[data-task='mar_local_consider']")
    assert reference in row.inner_text() and "Consider the request for a local review" in row.inner_text()
    row.locator("a").click()
    assert page.locator("h1").inner_text() == "Consider the request for a local review"
    fill_date(page, "date_discussed", "2026-12-21")
    page.fill("#f-issues_overview", "A referral lost when the family moved.")
    criteria = page.locator("fieldset:has(#f-criteria_considered)")
    criteria.get_by_label("Good practice, poor practice or a near miss of importance to the area").check()
    page.check("#f-local_review_recommended")  # yes
    page.fill("#f-recommendation_reasons", "Transfers between areas fail in a way a review would show.")
    page.click("button:has-text('Submit') >> nth=1")
    page.click("button:has-text('Accept and send')")  # a recommendation is checked before it is sent
    assert "is done for case" in page.locator(".govuk-notification-banner").inner_text()
    page.click("button:has-text('Sign out')")
    # the Executive Group decides; the local review then runs from the decision's date (003 §5.6, §7.8)
    sign_in(page, "exec")
    page.click("tr[data-task='mar_local_decide'] a")
    assert page.locator("h1").inner_text() == "Decide whether to hold a local review"
    assert "Transfers between areas" in page.inner_text("main")  # the recommendation beside the form
    page.check("#f-local_review_agreed")
    page.fill("#f-decision_reasons", "Issues of importance to the area.")
    fill_date(page, "decision_date", "2026-12-21")
    page.click("button:has-text('Submit') >> nth=1")
    page.click("button:has-text('Accept and send')")
    assert "is done for case" in page.locator(".govuk-notification-banner").inner_text()
    manager = Actor("m", frozenset({"manager"}))
    [local] = [
        i
        for i in service.queries.list_instances(manager)
        if i["process_id"] == "local_cspr" and i["business_key"] == reference
    ]
    assert service.queries.get_instance(local["id"], manager)["data"]["decision_date"] == "2026-12-21"


def interview(page, name: str, another: bool) -> None:
    page.click("tr[data-task='lcspr_interview'] a")
    assert page.locator("h1").inner_text() == "Record a practitioner interview"
    fill_date(page, "interview_date", "2026-12-18")
    for yes in ("review_brief_given", "voluntary_agreement", "arrangements_confirmed_in_writing"):
        page.check(f"#f-{yes}")
    page.check("#f-supporter-present-2")  # no supporter
    page.fill("#f-interviewee-full_name", name)
    page.fill("#f-interviewee-designation", "Social worker")
    page.fill("#f-interviewee-employing_body", "Exampletown Council")
    page.fill("#f-interviewee-role_in_case", "Allocated worker")
    page.select_option("#f-matters_covered-0-matter", "involvement")
    page.fill("#f-matters_covered-0-notes", "Their visits and the transfer.")
    page.fill("#f-summary", f"{name} described the transfer between teams.")
    page.check("#f-summary_agreement-5")  # not yet shared
    page.check("#f-another_interview" if another else "#f-another_interview-2")
    page.click("button:has-text('Submit') >> nth=1")
    problems = page.locator(".govuk-error-summary")
    assert problems.count() == 0, problems.inner_text()
    assert "is done for case" in page.locator(".govuk-notification-banner").inner_text()


def review_running(service) -> str:
    """A local review decided today, its reviewer commissioned and its terms of reference agreed; its
    reference."""
    data = {"regime": "WT2023", "decision_date": "2026-12-21", "children": [{"name": "Child R Example"}]}
    key = service.instances.start("local_cspr", data, STAFF)["business_key"]
    for step, answers in (
        ("commission_reviewer", form("reviewer_appointment", appointment_date="2026-12-21")),
        (
            "lcspr_terms_of_reference",
            form(
                "terms_of_reference",
                contributors=[{"agency": "police", "contribution": "none"}],
                agency_reports_due="2027-03-01",
            ),
        ),
    ):
        [task] = [
            t for t in service.tasks.for_user(STAFF) if t["business_key"] == key and t["element_id"] == step
        ]
        service.instances.complete_task(task["id"], answers, STAFF)
    return key


def test_a_lead_reviewer_adds_three_interviews_one_after_another(page, service):
    review_running(service)
    sign_in(page, "reviewer")
    assert page.locator("tr[data-task='lcspr_interview']").count() == 1
    interview(page, "Worker One Example", another=True)
    assert page.locator("tr[data-task='lcspr_interview']").count() == 1  # a new, empty record
    page.click("tr[data-task='lcspr_interview'] a")
    assert page.input_value("#f-interviewee-full_name") == ""
    assert axe_violations(page) == []
    page.goto("/")
    interview(page, "Worker Two Example", another=True)
    interview(page, "Worker Three Example", another=False)
    assert page.locator("tr[data-task='lcspr_interview']").count() == 0
    manager = Actor("m", frozenset({"manager"}))
    [case] = [i for i in service.queries.list_instances(manager) if i["process_id"] == "local_cspr"]
    history = service.queries.get_instance(case["id"], manager)["history"]
    assert len([h for h in history if h.get("element_id") == "lcspr_interview"]) == 3
