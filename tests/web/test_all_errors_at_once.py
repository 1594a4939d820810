"""A page sent with several mistakes lists every one at once in its error summary, each naming its field in
plain English and linking to it; none shows a validator's words; "(optional)" is on optional fields only."""

from __future__ import annotations

import re

from tests.web.conftest import axe_violations, sign_in
from tests.web.test_staff_daily_work import fill_date


def test_every_error_at_once_each_linking_to_its_field(page, service):
    sign_in(page, "referrer")
    page.goto("/cases/new")
    labels = page.locator("legend, label, h2").all_inner_texts()
    assert not any("Date of the incident (optional)" in t for t in labels)  # required
    assert any("Is the date of the incident an estimate? (optional)" in t for t in labels)
    assert not any("If not, which area does the child normally live in? (optional)" in t for t in labels)
    page.fill("#f-children-0-name", "Child E Example")
    fill_date(page, "children-0-date_of_birth", "2019-02-30")  # not a real date
    fill_date(page, "date_aware", "2026-12-18")
    page.check("#f-child_died-2")  # No
    page.fill("#f-presenting_issues", "x" * 10001)  # longer than the form allows (the page does not stop it)
    page.fill("#f-referrer-email", "not an address")
    page.click("button:has-text('Send the notification')")

    summary = page.locator(".govuk-error-summary")
    items = summary.locator("li a")
    texts = items.all_inner_texts()
    assert "Date of birth for child 1 must be a real date" in texts  # the date that could not be read ...
    assert "Enter date of the incident" in texts  # ... and everything else, at once
    assert "Select yes if the child has been seriously harmed" in texts
    assert "The answer to ‘What happened?’ must be 10,000 characters or fewer" in texts
    assert "Enter name in ‘Who is making this referral?’" in texts
    assert (
        "Enter email address in ‘Who is making this referral?’ in the correct format, like name@example.org"
        in texts
    )
    assert len(texts) == len(set(texts)) >= 10  # no message twice
    for text in texts:
        assert not re.search(r"required property|was expected|does not match|\^|\\", text), text
    # each one links to its field, which has the same message beside it
    for i in range(items.count()):
        href = items.nth(i).get_attribute("href")
        assert page.locator(href).count() == 1, href
    items.filter(has_text="Date of birth for child 1").click()
    assert page.evaluate("document.activeElement.id") == "f-children-0-date_of_birth-day"
    items.filter(has_text="Select yes if the child has been seriously harmed").click()
    assert page.evaluate("document.activeElement.id") == "f-seriously_harmed"
    beside = page.locator(".govuk-error-message").all_inner_texts()
    assert any("Date of birth for child 1 must be a real date" in t for t in beside)
    assert page.input_value("#f-children-0-date_of_birth-day") == "30"  # kept as typed
    assert axe_violations(page) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]
