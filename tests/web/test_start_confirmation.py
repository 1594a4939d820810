"""Starting a case answers with a redirect to its confirmation (Post/Redirect/Get): reloading the
confirmation, or going back to it, never posts the notification again and never starts a second case.
The confirmation is shown to the person who started the case and to nobody else."""

from __future__ import annotations

import re

from tests.web.conftest import axe_violations, csrf_of, sign_in, sign_in_client
from tests.web.test_staff_daily_work import answer_incident, fill_date

NOTIFICATION = "incident_notification"


def notifications(service) -> int:
    """How many notifications have been started, counted through the service layer."""
    return len(
        service.queries.list_instances(service.users.actor("manager"), process_id=NOTIFICATION, limit=500)
    )


def fill_notification(page) -> None:
    page.fill("#f-children-0-name", "Child X Example")
    fill_date(page, "children-0-date_of_birth", "2018-06-01")
    answer_incident(
        page, "Admitted to hospital with a head injury.", "Police", "Serious harm with suspected abuse."
    )


def test_reloading_the_confirmation_starts_no_second_case(page, service):
    before = notifications(service)
    sign_in(page, "referrer")
    page.goto("/cases/new")
    fill_notification(page)
    posts = []
    page.on(
        "response",
        lambda r: (
            posts.append((r.url, r.status, r.headers.get("location"))) if r.request.method == "POST" else None
        ),
    )
    page.click("button:has-text('Send the notification')")
    page.wait_for_url(re.compile(r".*/cases/started/\d+$"))
    [(url, status, location)] = posts  # 303 See Other: the reload is a GET
    assert (
        url.endswith("/cases/new") and status == 303 and re.fullmatch(r"/cases/started/\d+", location or "")
    )
    reference = page.locator(".govuk-panel__body strong").inner_text()
    assert reference.startswith("RF-")
    assert notifications(service) == before + 1
    page.reload()
    assert page.locator(".govuk-panel__body strong").inner_text() == reference
    page.go_back()
    page.go_forward()
    assert page.locator(".govuk-panel__body strong").inner_text() == reference
    assert notifications(service) == before + 1
    [case] = [
        c
        for c in service.queries.list_instances(service.users.actor("manager"), process_id=NOTIFICATION)
        if c["business_key"] == reference
    ]
    assert page.url.endswith(f"/cases/started/{case['id']}") and case["created_by"] == "referrer"
    assert posts[1:] == [] and axe_violations(page) == []


def test_a_form_with_errors_starts_nothing_and_the_confirmation_shows_only_to_its_starter(app, service):
    referrer = app.test_client()
    sign_in_client(referrer, "referrer")
    token = csrf_of(referrer.get("/cases/new").get_data(as_text=True))
    before = notifications(service)
    posted = referrer.post("/cases/new", data={"csrf_token": token, "action": "submit"})  # nothing filled in
    assert posted.status_code == 422 and notifications(service) == before  # errors: shown, no case
    [started] = [
        c
        for c in service.queries.list_instances(service.users.actor("manager"), process_id=NOTIFICATION)
        if c["created_by"] == "referrer"
    ][:1]
    confirmation = f"/cases/started/{started['id']}"
    shown = referrer.get(confirmation)
    assert shown.status_code == 200 and started["business_key"] in shown.get_data(as_text=True)
    for username in ("la", "bu", "manager", "admin", "police"):  # other starters, managers, an agency
        other = app.test_client()
        sign_in_client(other, username)
        assert other.get(confirmation).status_code == 404, username
    assert referrer.get("/cases/started/999999").status_code == 404
    assert app.test_client().get(confirmation).status_code == 302  # to sign in
