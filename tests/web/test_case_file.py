"""The case file in the browser: the Executive reads the PRG's record beside the ratification form, the PRG
opens the rapid review it completed and reads its answers, a manager reads an answer from the case page;
each page passes axe and fits a 375 px phone."""

from __future__ import annotations

from engine.services.actor import Actor
from tests.scenarios.driver import AGENCIES, STAFF, form, notification
from tests.web.conftest import axe_violations, sign_in

FACTS = form("rapid_review_record")["facts_summary"]


def _do(service, reference: str, element_id: str, data: dict, who: Actor = STAFF, role: str | None = None):
    [task] = [
        t
        for t in service.tasks.for_user(who)
        if t["business_key"] == reference and t["element_id"] == element_id and role in (None, t["role"])
    ]
    service.instances.complete_task(task["id"], data, who)
    return task


def _open_task(service, reference: str, element_id: str) -> dict:
    [task] = [
        t
        for t in service.tasks.for_user(STAFF)
        if t["business_key"] == reference and t["element_id"] == element_id
    ]
    return task


def rapid_review_recorded(service) -> tuple[str, dict]:
    """A new case taken, through the service, to the Executive's ratification; the PRG's record made by
    the demo account ``prg``; the case's reference and the record's task."""
    started = service.instances.start(
        "incident_notification", notification(date_aware="2026-12-18", notification_date=None), STAFF
    )
    reference = started["business_key"]
    _do(service, reference, "check_other_children", form("safety_check"))
    _do(service, reference, "notify_panel_and_partners", form("statutory_notification"))
    arrangements = form("rapid_review_arrangements", information_required_by="2026-12-31")
    _do(service, reference, "arrange_rapid_review", arrangements)
    for agency in AGENCIES:
        returned = form("agency_case_information", agency=agency)
        _do(service, reference, "return_agency_information", returned, role=f"Agency: {agency}")
    record = _do(
        service, reference, "record_rapid_review", form("rapid_review_record"), service.users.actor("prg")
    )
    return reference, record


def _fits_375(page) -> bool:
    page.set_viewport_size({"width": 375, "height": 800})
    fits = page.evaluate("document.documentElement.scrollWidth") <= 375
    page.set_viewport_size({"width": 1280, "height": 900})
    return fits


def test_the_executive_reads_the_prg_record_beside_the_ratification(page, service):
    reference, _ = rapid_review_recorded(service)
    ratify = _open_task(service, reference, "ratify_rapid_review_partners")
    sign_in(page, "exec")
    page.click(f"tr[data-task='ratify_rapid_review_partners']:has-text('{reference}') a")
    page.wait_for_url(f"**/tasks/{ratify['id']}")
    case_file = page.locator("aside#case-file")
    assert "The case file" in case_file.locator("h2").inner_text()
    assert page.locator("aside a[href='#case-file']").inner_text() == "Read the case file"
    record = case_file.locator("section[data-step='record_rapid_review']")
    assert record.locator("h3").inner_text() == "Hold the rapid review meeting and record the rapid review"
    assert "Submitted by Demo prg (prg) on 21 December 2026" in record.inner_text()
    summary = record.locator(".govuk-summary-list__row:has(dt:text-is('Concise summary of the facts')) dd")
    assert summary.first.inner_text().strip() == FACTS
    question = "Will a local child safeguarding practice review be carried out?"
    decision = record.locator(f".govuk-summary-list__row:has(dt:text-is('{question}')) dd")
    assert decision.first.inner_text().strip() == "Yes: carry out a local child safeguarding practice review"
    assert "Merged chronology" in case_file.inner_text()
    assert "facts_summary" not in case_file.inner_text() and "2026-12-21" not in case_file.inner_text()
    assert axe_violations(page) == []
    assert _fits_375(page)


def test_the_prg_opens_the_rapid_review_it_completed_read_only(page, service):
    _, record = rapid_review_recorded(service)
    sign_in(page, "prg")
    page.goto(f"/tasks/{record['id']}")
    assert page.locator("h1").inner_text() == "Hold the rapid review meeting and record the rapid review"
    assert "Completed by Demo prg (prg) on 21 December 2026" in page.locator("#completed-by").inner_text()
    meeting = page.locator(".govuk-summary-list__row:has(dt:text-is('Date of the rapid review meeting')) dd")
    assert meeting.first.inner_text().strip() == "21 December 2026"
    assert page.locator("form button:has-text('Submit')").count() == 0  # read only: nothing to send
    assert "nothing more to do" not in page.inner_text("main")
    assert axe_violations(page) == []
    assert _fits_375(page)


def test_a_manager_reads_an_answer_from_the_case_page(page, service):
    reference, record = rapid_review_recorded(service)
    manager = service.users.actor("manager")
    [case] = [
        c
        for c in service.queries.list_instances(manager)
        if c["business_key"] == reference and c["process_id"] == "rapid_review"
    ]
    sign_in(page, "manager")
    page.goto(f"/cases/{case['id']}")
    page.click("a[data-answers='record_rapid_review']")
    page.wait_for_url(f"**/tasks/{record['id']}")
    summary = page.locator(".govuk-summary-list__row:has(dt:text-is('Concise summary of the facts')) dd")
    assert summary.first.inner_text().strip() == FACTS
    assert page.locator(".govuk-back-link").get_attribute("href") == f"/cases/{case['id']}"
    assert axe_violations(page) == []
    assert _fits_375(page)


def test_an_agency_reads_its_own_return_and_nothing_else(page, service):
    _, record = rapid_review_recorded(service)
    returns = [
        t
        for t in service.queries.get_instance(record["instance_id"], service.users.actor("manager"))[
            "task_history"
        ]
        if t["element_id"] == "return_agency_information"
    ]
    police = next(t for t in returns if t["role"] == "Agency: Police")
    sign_in(page, "police")
    page.goto(f"/tasks/{police['id']}")
    assert page.locator("h1").inner_text() == "Return agency information for the rapid review"
    assert "aside#case-file" not in page.content()
    response = page.goto(f"/tasks/{record['id']}")
    assert response.status == 403
