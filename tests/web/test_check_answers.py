"""Check your answers before a decision is sent: a form that declares ``"x-check-answers": true`` (the
chair's decision here) shows its answers as a GOV.UK summary list with a Change link to each field; only
"Accept and send" completes the task, once."""

from __future__ import annotations

import re

from tests.web.conftest import axe_violations, sign_in
from tests.web.test_staff_daily_work import fill_date

CHECK = re.compile(r".*/tasks/[^/]+/check(#.*)?$")  # a Change link's anchor rides along


def chairs_decision(service) -> dict:
    chair = service.users.actor("chair")
    return next(t for t in service.tasks.for_user(chair) if t["element_id"] == "chair_decides")


def test_the_chair_checks_changes_and_sends_a_decision_once(page, service):
    task = chairs_decision(service)
    sign_in(page, "chair")
    page.goto(f"/tasks/{task['id']}")
    page.get_by_label("Accept the recommendation").check()
    page.get_by_label("A serious case review").check()
    page.fill("#f-chair_rationale", "The criteria are met: serious harm and concerns about joint working.")
    fill_date(page, "decision_date", "2026-12-21")
    page.check("#f-peer_challenge-sought-2")  # No
    page.click("button:has-text('Submit') >> nth=1")

    page.wait_for_url(CHECK)
    assert page.locator("h1").inner_text() == "Check your answers before sending them"
    answers = page.locator(".govuk-summary-list")
    decision = answers.locator(".govuk-summary-list__row", has_text="What do you decide about")
    assert "Accept the recommendation" in decision.inner_text()
    assert "21 December 2026" in answers.first.inner_text()
    assert "What kind of review?" not in answers.first.inner_text()  # not asked with these answers
    assert service.tasks.get(task["id"], service.users.actor("chair"))["state"] == "open"  # nothing sent yet
    assert axe_violations(page) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= 375 or page.viewport_size["width"] > 375

    rationale = answers.locator(".govuk-summary-list__row", has_text="Rationale for your decision")
    rationale.locator("a:has-text('Change')").click()  # back to the form, the answers kept
    page.wait_for_url(re.compile(r".*/tasks/[^/]+#f-chair_rationale$"))
    assert page.input_value("#f-chair_rationale").startswith("The criteria are met")
    assert page.locator("#f-review_decision").is_checked()
    page.fill("#f-chair_rationale", "The criteria are met (changed after checking).")
    page.click("button:has-text('Submit') >> nth=1")
    page.wait_for_url(CHECK)
    assert "(changed after checking)" in page.locator(".govuk-summary-list").first.inner_text()

    sent = {name: page.input_value(f"form input[name='{name}']") for name in ("csrf_token", "form_token")}
    check_page = page.url
    page.click("button:has-text('Accept and send')")
    assert "is done for case" in page.locator(".govuk-notification-banner").inner_text()
    done = service.tasks.get(task["id"], service.users.actor("chair"))
    assert done["state"] == "completed"
    again = page.request.post(check_page, form=sent)  # the same page sent again: nothing changes, it says so
    assert again.ok and "Your answers were not sent again" in again.text()
    assert service.tasks.get(task["id"], service.users.actor("chair")) == done
    page.goto(check_page.split("#")[0])  # and the check page of a done task leads to its answers
    assert page.url.endswith(f"/tasks/{task['id']}")


def test_the_check_page_at_375_px_has_no_sideways_scroll(page, service):
    task = chairs_decision(service)
    sign_in(page, "chair")
    page.set_viewport_size({"width": 375, "height": 800})
    page.goto(f"/tasks/{task['id']}")
    page.get_by_label("Defer the decision until more information is received").check()
    page.fill("#f-chair_rationale", "More information is needed.")
    page.fill("#f-information_requested", "Health: the discharge summary.")
    page.check("#f-peer_challenge-sought-2")
    page.click("button:has-text('Submit') >> nth=1")
    page.wait_for_url(CHECK)
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    assert axe_violations(page) == []
