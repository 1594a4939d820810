"""A person chooses, in their account, whether they are e-mailed about new tasks and at which address:
the page refuses a choice of e-mails without an address, saves (Post/Redirect/Get, audited), and a new
request for their agency then reaches them by e-mail, or no longer does once they turn it off."""

from __future__ import annotations

from sqlalchemy import select

from engine.store.models import AuditEvent, OutboxMessage
from tests.conftest import BUSINESS_UNIT, PROCESS_OWNER
from tests.integration.test_agency_requests import FORM, PROCESS
from tests.layout import with_layout
from tests.web.conftest import axe_violations, sign_in

ADDRESS = "pc.jones@police.example.org"


def _fits_375(page) -> bool:
    page.set_viewport_size({"width": 375, "height": 800})
    fits = page.evaluate("document.documentElement.scrollWidth") <= 375
    page.set_viewport_size({"width": 1280, "height": 900})
    return fits


def _told(service) -> list[str]:
    """The new-task e-mails queued for the police officer's address (one per request)."""
    with service.db.reading() as session:
        return list(
            session.scalars(
                select(OutboxMessage.subject).where(
                    OutboxMessage.template == "new_task", OutboxMessage.recipient == ADDRESS
                )
            )
        )


def _new_request(service) -> None:
    service.instances.start("agency_requests", {"agencies": ["Police"]}, BUSINESS_UNIT)


def test_a_person_turns_new_task_e_mails_on_and_off_in_their_account(page, service):
    service.deployments.deploy(
        {"agency_requests.bpmn": with_layout(PROCESS), "test_return.json": FORM}, PROCESS_OWNER
    )
    sign_in(page, "police")
    page.get_by_role("link", name="E-mails about new tasks").click()
    assert page.locator("h1").inner_text() == "E-mails about new tasks"
    assert page.get_by_label("Yes").is_checked()  # on by default, but no address yet
    assert axe_violations(page) == []
    assert _fits_375(page)

    page.get_by_role("button", name="Save").click()  # yes, with no address
    summary = page.locator(".govuk-error-summary")
    assert "Enter your e-mail address to get e-mails about new tasks" in summary.inner_text()
    summary.get_by_role("link").click()
    assert page.evaluate("document.activeElement.id") == "email"
    assert axe_violations(page) == []
    assert _fits_375(page)

    page.fill("#email", "not an address")
    page.get_by_role("button", name="Save").click()
    assert (
        "Enter an e-mail address in the correct format" in page.locator(".govuk-error-summary").inner_text()
    )

    page.fill("#email", ADDRESS)
    page.get_by_role("button", name="Save").click()
    assert page.url.endswith("/account/e-mails")  # Post/Redirect/Get
    assert "You will get an e-mail about each new task for you." in page.inner_text("main")
    assert page.input_value("#email") == ADDRESS
    _new_request(service)
    assert len(_told(service)) == 1

    page.get_by_label("No").check()
    page.get_by_role("button", name="Save").click()
    assert "You will not get e-mails about new tasks." in page.inner_text("main")
    assert page.get_by_label("No").is_checked()
    _new_request(service)
    assert len(_told(service)) == 1  # nothing more

    with service.db.reading() as session:
        changes = list(
            session.scalars(
                select(AuditEvent.detail)
                .where(AuditEvent.kind == "email_settings_changed", AuditEvent.actor == "police")
                .order_by(AuditEvent.id)
            )
        )
    assert changes == [
        {"username": "police", "email": "changed"},
        {"username": "police", "new_task_emails": False},
    ]
