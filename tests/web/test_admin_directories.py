"""An administrator keeps the named recipients and the agencies in the browser: a recipient's addresses
changed (a bad address refused first, with the error summary) and a test message sent, followed through the
outbox to a real SMTP server on loopback; an agency added in the browser is then offered on an agency-choice
form, and one retired no longer is. axe-core and a 375 px screen on each page on the way."""

from __future__ import annotations

from sqlalchemy import select

from engine.services import Reviewflow
from engine.services.actor import Actor
from engine.store.models import AuditEvent
from tests.conftest import make_settings
from tests.scenarios.driver import form
from tests.smtp import SmtpServer
from tests.web.conftest import axe_violations, sign_in


def _fits_375(page) -> bool:
    page.set_viewport_size({"width": 375, "height": 800})
    fits = page.evaluate("document.documentElement.scrollWidth") <= 375
    page.set_viewport_size({"width": 1280, "height": 900})
    return fits


def _checked_page(page) -> None:
    assert axe_violations(page) == []
    assert _fits_375(page)


def test_an_administrator_changes_a_recipient_and_a_test_message_reaches_a_real_smtp_server(page, service):
    sign_in(page, "admin")
    page.goto("/admin/")
    page.get_by_role("link", name="Recipients").click()
    assert page.locator("h1").inner_text() == "Recipients"
    board = page.locator("tr[data-recipient='board']")
    assert "board@example.org" in board.inner_text()
    _checked_page(page)

    board.get_by_role("link", name="Change").click()
    page.fill("#addresses", "board-chair@example.org\nboard office")
    page.get_by_role("button", name="Save the changes").click()
    summary = page.locator(".govuk-error-summary")
    assert "‘board’ is not" not in summary.inner_text()
    assert (
        "Enter e-mail addresses in the correct format, like name@example.org: ‘board’" in summary.inner_text()
    )
    _checked_page(page)
    assert service.recipients.named()["board"] == ["board@example.org"]  # nothing changed

    page.fill("#addresses", "board-chair@example.org\nboard-office@example.org")
    page.fill("#description", "The Board's chair and office")
    page.get_by_role("button", name="Save the changes").click()
    page.wait_for_url("**/admin/recipients")
    assert "The recipient ‘board’ was changed." in page.inner_text("main")
    board = page.locator("tr[data-recipient='board']")
    assert (
        "board-office@example.org" in board.inner_text()
        and "The Board's chair and office" in board.inner_text()
    )

    board.get_by_role("button", name="Send a test message").click()
    page.wait_for_url("**/admin/recipients")
    assert (
        "A test message to ‘board’ is in the outbox for board-chair@example.org, board-office@example.org"
        in (page.inner_text("main"))
    )

    smtp = SmtpServer().start()
    sender = Reviewflow(make_settings(service.settings.database_url, REVIEWFLOW_SMTP_URL=smtp.url))
    try:
        sender.deliver_once()
        tests = [m for m in smtp.messages if m["Subject"].startswith("Test message from")]
        assert sorted(m["To"] for m in tests) == ["board-chair@example.org", "board-office@example.org"]
        body = tests[0].get_payload(decode=True).decode()
        assert "'board'" in body and "contains no case information" in body
    finally:
        smtp.stop()
        sender.db.dispose()
    with service.db.reading() as session:
        kinds = [
            (e.kind, e.actor, (e.detail or {}).get("key"))
            for e in session.scalars(
                select(AuditEvent).where(AuditEvent.kind.in_(("recipient_changed", "recipient_test_sent")))
            )
        ]
    assert kinds == [("recipient_changed", "admin", "board"), ("recipient_test_sent", "admin", "board")]


def _arrange_task(service) -> str:
    """A rapid review's 'arrange' step, whose form asks which agencies to ask for information."""
    referrer = Actor("referrer", frozenset({"Referring agency"}))
    notified = form(
        "incident_notification", date_aware="2026-12-18", notification_date=None, agencies=["police"]
    )
    reference = service.instances.start("incident_notification", notified, referrer)["business_key"]
    [arrange] = [
        t
        for t in service.tasks.for_user(service.users.actor("bu"))
        if t["business_key"] == reference and t["element_id"] == "arrange_rapid_review"
    ]
    return arrange["id"]


def _offered(page, task_id: str) -> list[str]:
    page.goto(f"/tasks/{task_id}")
    return page.locator("fieldset:has(#f-agencies) .govuk-checkboxes__label").all_inner_texts()


def test_an_agency_added_in_the_browser_is_offered_and_a_retired_one_no_longer_is(page, service):
    task_id = _arrange_task(service)
    sign_in(page, "bu")
    offered = _offered(page, task_id)
    assert "Housing" in offered and "Youth justice" not in offered

    page.context.clear_cookies()
    sign_in(page, "admin")
    page.goto("/admin/agencies")
    police = page.locator("tr[data-agency='police']")
    assert "1 active" in police.inner_text()
    assert "No active user" in page.locator("tr[data-agency='housing']").inner_text()
    _checked_page(page)

    page.get_by_role("link", name="Add an agency").click()
    page.get_by_role("button", name="Add the agency").click()  # nothing typed: every error at once
    summary = page.locator(".govuk-error-summary").inner_text()
    assert "Enter a key of lower-case letters" in summary and "Enter the agency's name" in summary
    _checked_page(page)
    page.fill("#key", "youth_justice")
    page.fill("#name", "Youth justice")
    page.fill("#safeguarding_lead", "yj-lead@example.org")
    page.get_by_role("button", name="Add the agency").click()
    page.wait_for_url("**/admin/agencies")
    assert "Give its people the role ‘Agency: Youth justice’" in page.inner_text("main")
    assert "No active user" in page.locator("tr[data-agency='youth_justice']").inner_text()

    page.locator("tr[data-agency='housing']").get_by_role("button", name="Retire").click()
    page.wait_for_url("**/admin/agencies")
    assert "Retired" in page.locator("tr[data-agency='housing']").inner_text()

    page.locator("tr[data-agency='police']").get_by_role("link", name="Change").click()
    _checked_page(page)
    page.fill("#name", "Avon and Somerset Police")
    page.get_by_role("button", name="Save the changes").click()
    page.wait_for_url("**/admin/agencies")
    assert "Agency: Police" in page.locator("tr[data-agency='police']").inner_text()  # the role stays

    page.context.clear_cookies()
    sign_in(page, "bu")
    offered = _offered(page, task_id)
    assert "Youth justice" in offered and "Avon and Somerset Police" in offered
    assert "Housing" not in offered
    assert page.get_by_label("Avon and Somerset Police", exact=True).is_checked()  # the referrer named police
