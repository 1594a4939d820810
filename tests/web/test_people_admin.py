"""The People section of the administration area and the pages of a one-time link, in Chromium as the
people who use them: an administrator invites someone, and the invitation, sent through a real SMTP server
on loopback, is followed to its link where they choose a password and set up multi-factor sign-in; a
person who forgot their password gets a link the same way and chooses a new one; an administrator finds
people, changes roles, makes and withdraws an API token, disables, signs out and resets a second factor.
Each new page has no serious accessibility violation and fits a 375 px screen; every change is audited,
and a form without its CSRF token changes nothing."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from engine.services import Reviewflow
from engine.store.models import AuditEvent, Invitation, OutboxMessage
from tests.conftest import make_settings
from tests.smtp import SmtpServer
from tests.web.conftest import PASSWORD, axe_violations, csrf_of, sign_in, sign_in_client
from tests.web.test_narrow_screens import overflow

NEW_PASSWORD = "marmalade kettle lighthouse"


def _checked(page) -> None:
    """The page as it stands has no serious accessibility violation and fits a phone."""
    assert axe_violations(page) == [], page.url
    assert overflow(page, 375) == [], page.url  # what runs off the side of a 375 px screen
    page.set_viewport_size({"width": 1280, "height": 900})


@pytest.fixture
def smtp():
    server = SmtpServer().start()
    yield server
    server.stop()


def _deliver(service, smtp, to: str) -> str:
    """Send what the outbox holds through the SMTP server (as the worker would, the demo cases' notices
    too); the text of the one message to ``to``."""
    sender = Reviewflow(
        make_settings(service.settings.database_url, REVIEWFLOW_SMTP_URL=smtp.url), upgrade=False
    )
    try:
        while sender.deliver_once()["sent"]:
            pass
    finally:
        sender.db.dispose()
    [text] = [m.get_payload(decode=True).decode() for m in smtp.messages if m["To"] == to]
    return text


def _audited(service, kind: str) -> list[tuple[str, dict]]:
    with service.db.reading() as session:
        return [
            (e.actor, e.detail)
            for e in session.scalars(
                select(AuditEvent).where(AuditEvent.kind == kind).order_by(AuditEvent.id)
            )
        ]


def test_an_administrator_invites_someone_who_chooses_a_password_and_sets_up_multi_factor_sign_in(
    page, browser, live_server, service, smtp
):
    sign_in(page, "admin")
    page.get_by_role("link", name="Administration").click()
    page.get_by_role("link", name="People").click()
    assert page.locator("h1").inner_text() == "People"
    _checked(page)
    page.get_by_role("button", name="Invite someone").click()
    assert page.locator("h1").inner_text() == "Invite someone"
    _checked(page)

    page.get_by_role("button", name="Send invitation").click()  # nothing filled in: every error at once
    summary = page.locator(".govuk-error-summary")
    for message in (
        "Enter the person's full name",
        "Enter the person's e-mail address",
        "Select at least one",
    ):
        assert message in summary.inner_text()
    _checked(page)

    page.fill("#name", "Morgan Manager")
    page.fill("#email", "morgan.manager@partnership.example.org")
    page.get_by_label("manager", exact=True).check()
    page.get_by_role("button", name="Send invitation").click()
    page.wait_for_url("**/admin/people/morgan.manager")
    assert "Invitation sent. Their user name is morgan.manager." in page.inner_text("main")
    assert "Invited, not yet accepted" in page.inner_text("main")
    _checked(page)

    text = _deliver(service, smtp, "morgan.manager@partnership.example.org")
    link = re.search(r"(http://127\.0\.0\.1:\d+/invitation/\S+)", text).group(1)

    invited = browser.new_context(base_url=live_server).new_page()
    invited.goto(link)
    assert invited.locator("h1").inner_text() == "Choose your password"
    assert invited.locator("#username").inner_text() == "morgan.manager"
    _checked(invited)
    invited.fill("#password", "qwerty123456")
    invited.fill("#password_again", "qwerty123456")
    invited.get_by_role("button", name="Save password").click()
    assert "one of the most common passwords" in invited.locator(".govuk-error-summary").inner_text()
    _checked(invited)
    invited.fill("#password", NEW_PASSWORD)
    invited.fill("#password_again", NEW_PASSWORD)
    invited.get_by_role("button", name="Save password").click()
    invited.wait_for_url("**/account/multi-factor/set-up")  # a manager's role needs a second factor
    assert "set it up now" in invited.inner_text("main")

    invited.goto(link)  # used once
    assert invited.locator("h1").inner_text() == "This link has been used already"
    _checked(invited)
    assert service.users.authenticate("morgan.manager", NEW_PASSWORD) is not None
    [(who, detail)] = _audited(service, "person_invited")
    assert who == "admin" and detail["after"]["roles"] == ["manager"]
    invited.context.close()


def test_a_person_who_forgot_their_password_chooses_a_new_one_from_the_e_mailed_link(
    page, browser, live_server, service, smtp
):
    service.users.set_email_settings("police", email="pc.jones@police.example.org", actor="police")
    signed_in_elsewhere = browser.new_context(base_url=live_server).new_page()
    sign_in(signed_in_elsewhere, "police")

    page.goto("/sign-in")
    page.get_by_role("link", name="Forgotten your password?").click()
    assert page.locator("h1").inner_text() == "Reset your password"
    _checked(page)
    page.get_by_role("button", name="Send the link").click()
    assert "Enter your e-mail address" in page.locator(".govuk-error-summary").inner_text()
    _checked(page)
    page.fill("#email", "nobody@police.example.org")  # no account: the same answer
    page.get_by_role("button", name="Send the link").click()
    unknown = page.inner_text("main")
    page.goto("/forgotten-password")
    page.fill("#email", "PC.Jones@police.example.org")
    page.get_by_role("button", name="Send the link").click()
    assert page.locator("h1").inner_text() == "Check your e-mail"
    assert page.inner_text("main") == unknown
    _checked(page)

    text = _deliver(service, smtp, "pc.jones@police.example.org")
    link = re.search(r"(http://127\.0\.0\.1:\d+/password-reset/\S+)", text).group(1)
    page.goto(link)
    assert page.locator("h1").inner_text() == "Choose a new password"
    _checked(page)
    page.fill("#password", NEW_PASSWORD)
    page.fill("#password_again", NEW_PASSWORD + " not the same")
    page.get_by_role("button", name="Save password").click()
    assert "The passwords do not match" in page.locator(".govuk-error-summary").inner_text()
    page.fill("#password", NEW_PASSWORD)
    page.fill("#password_again", NEW_PASSWORD)
    page.get_by_role("button", name="Save password").click()
    page.wait_for_url("**/sign-in")
    assert "Your password has been changed" in page.inner_text("main")

    signed_in_elsewhere.goto("/")  # the other session ended
    assert "/sign-in" in signed_in_elsewhere.url
    signed_in_elsewhere.context.close()
    sign_in(page, "police", NEW_PASSWORD)
    page.goto(link)
    assert page.locator("h1").inner_text() == "This link has been used already"
    _checked(page)
    assert [d["sessions_ended"] for _, d in _audited(service, "password_reset")] == [1]


def test_an_administrator_finds_people_and_changes_their_accounts(page, service):
    sign_in(page, "admin")
    page.goto("/admin/people")
    page.fill("#q", "polic")
    page.get_by_role("button", name="Apply filters").click()
    assert page.locator("#people tbody tr").count() == 1
    page.goto("/admin/people?agency=Agency:+Health")
    usernames = page.locator("#people tbody tr").evaluate_all("rs => rs.map(r => r.dataset.username)")
    assert usernames == ["health"]
    page.goto("/admin/people?mfa=on")
    assert page.locator("[data-username='manager']").count() == 1
    assert page.locator("[data-username='police']").count() == 0
    page.get_by_role("link", name="Demo manager").click()
    page.wait_for_url("**/admin/people/manager")
    _checked(page)

    page.get_by_label("Board", exact=True).check()
    page.select_option("#agency", label="Police")
    page.get_by_role("button", name="Save roles and agency").click()
    assert "Roles and agency saved." in page.inner_text("main")
    assert service.users.actor("manager").roles == {"manager", "Board", "Agency: Police"}

    page.fill("#token_name", "Nightly export")
    page.get_by_role("button", name="Create API token").click()
    token = page.input_value("#token")
    assert token.startswith("rf_")
    _checked(page)
    assert service.users.actor_for_token(token).username == "manager"
    page.get_by_role("link", name="Back to manager").click()
    assert token not in page.content()  # shown once
    assert "Nightly export" in page.locator("#token-list").inner_text()
    page.get_by_role("button", name="Withdraw Nightly export").click()
    assert "Withdrawn" in page.locator("#token-list").inner_text()

    page.get_by_role("button", name="Reset multi-factor sign-in").click()
    assert "will set up multi-factor sign-in again" in page.inner_text("main")
    page.get_by_role("button", name="Disable account").click()
    assert service.people.person("manager")["active"] is False
    page.get_by_role("button", name="Enable account").click()
    assert service.people.person("manager")["active"] is True
    _checked(page)
    for kind in ("roles_changed", "token_created", "token_revoked", "mfa_reset", "user_disabled"):
        assert _audited(service, kind), kind
    [(who, detail)] = _audited(service, "user_disabled")
    assert who == "admin" and detail["before"] == {"active": True} and detail["after"] == {"active": False}


def test_forms_without_their_csrf_token_change_nothing(client, service):
    sign_in_client(client, "admin")
    assert client.post("/admin/people/police/active", data={"action": "disable"}).status_code == 400
    assert client.post("/admin/people/police/roles", data={"roles": "admin"}).status_code == 400
    assert (
        client.post(
            "/admin/people/invite", data={"name": "X", "email": "x@example.org", "roles": "Board"}
        ).status_code
        == 400
    )
    anonymous = client.application.test_client()
    assert anonymous.post("/forgotten-password", data={"email": "x@example.org"}).status_code == 400
    assert service.people.person("police")["active"] is True
    assert service.users.actor("police").roles == {"Agency: Police"}
    with service.db.reading() as session:
        assert session.scalars(select(Invitation)).first() is None
        assert (
            session.scalars(select(OutboxMessage).where(OutboxMessage.template == "invitation")).first()
            is None
        )


def test_the_answer_to_a_reset_is_the_same_for_every_address(client, service):
    service.users.set_email_settings("police", email="pc.jones@police.example.org", actor="police")
    answers = []
    for address in ("pc.jones@police.example.org", "nobody@police.example.org"):
        token = csrf_of(client.get("/forgotten-password").get_data(as_text=True))
        response = client.post("/forgotten-password", data={"email": address, "csrf_token": token})
        shown = client.get(response.headers["Location"]).get_data(as_text=True)
        main = shown[shown.index("<main") : shown.index("</main>")]  # the page's nonce differs each time
        answers.append((response.status_code, response.headers["Location"], main))
    assert answers[0] == answers[1]
    assert PASSWORD  # the demo password still signs in: asking changes nothing
    assert service.users.authenticate("police", PASSWORD) is not None
