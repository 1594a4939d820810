"""axe-core on every page of the app, as the person who uses it: no serious or critical violation of
WCAG 2.2 A or AA."""

from __future__ import annotations

from tests.web.conftest import axe_violations, sign_in


def pages(service) -> list[tuple[str | None, str, str | None]]:
    """(who, path, what to do first: 'submit' an empty form), for every page."""
    manager = service.users.actor("manager")
    case = next(c for c in service.queries.list_instances(manager) if c["process_id"] == "rapid_review")
    police_task = service.tasks.for_user(service.users.actor("police"))[0]
    started = next(
        c
        for c in service.queries.list_instances(manager)
        if c["process_id"] == "incident_notification" and c["created_by"] == "referrer"
    )
    return [
        (None, "/sign-in", None),
        (None, "/sign-in", "submit"),
        (None, "/accessibility", None),
        ("police", "/", None),
        ("police", f"/tasks/{police_task['id']}", None),
        ("police", f"/tasks/{police_task['id']}", "submit"),
        ("referrer", f"/cases/started/{started['id']}", None),  # a case's confirmation
        ("bu", "/cases/new", "submit"),
        ("referrer", "/cases/new/review", None),
        ("referrer", "/cases/new/review", "submit"),
        ("bu", "/calendar", None),
        ("bu", "/no-such-page", None),
        ("bu", "/dashboard", None),  # 403 page
        ("bu", "/account/multi-factor", None),
        ("bu", "/account/e-mails", None),
        ("bu", "/account/multi-factor/set-up", None),
        ("manager", "/", None),
        ("manager", "/cases", None),
        ("manager", f"/cases/{case['id']}", None),
        ("manager", "/dashboard", None),
        ("manager", "/due-soon", None),
        ("manager", "/account/multi-factor", None),
        ("owner", "/modeller", None),
        ("owner", "/modeller/scr_decision", None),
        ("owner", "/modeller/decisions/notifiable_incident", None),
        ("admin", "/admin/recipients", None),
        ("admin", "/admin/recipients/new", "submit"),
        ("admin", "/admin/recipients/change?key=panel", None),
        ("admin", "/admin/agencies", None),
        ("admin", "/admin/agencies/new", "submit"),
        ("admin", "/admin/agencies/change?key=police", None),
        ("admin", "/admin/calendar", None),
        ("admin", "/admin/calendar", "submit"),  # the override sent empty: its errors
        ("admin", "/admin/outbox", None),
        ("admin", "/admin/outbox/message?id=1", None),
        ("admin", "/admin/people", None),
        ("admin", "/admin/people/police", None),
        ("admin", "/admin/people/invite", "submit"),
        ("manager", "/admin/calendar", None),
        ("manager", "/admin/outbox", None),
        (None, "/forgotten-password", "submit"),
        (None, "/forgotten-password/sent", None),
        (None, "/password-reset/not-a-link", None),
    ]


def test_every_page_has_no_serious_accessibility_violation(page, service):
    signed_in_as = None
    problems = {}
    for who, path, then in pages(service):
        if who != signed_in_as:
            if who is None:
                page.context.clear_cookies()
            else:
                page.context.clear_cookies()
                sign_in(page, who)
            signed_in_as = who
        page.goto(path)
        if path.startswith("/modeller/") or (path.startswith("/cases/") and path[7:].isdigit()):
            page.wait_for_selector("[data-ready='true']")
        if then == "submit":
            page.locator(
                "main form button[value='submit']:visible"
            ).first.click() if path != "/sign-in" else page.click("button:has-text('Sign in')")
            assert page.locator(".govuk-error-summary").count() == 1, path
        found = axe_violations(page)
        if found:
            problems[f"{who} {path} {then or ''}"] = found
    assert problems == {}
    # nothing the content security policy blocked, no script error (pages that answer with an error status,
    # such as a refused sign-in, a form with errors, 403 and 404, report that status and nothing else)
    assert [
        e
        for e in page.console_errors
        if not e.startswith("Failed to load resource: the server responded with a status of")
    ] == []


def test_the_pages_work_without_javascript(browser, live_server, service):
    """Everything but the diagrams: sign in, open a task, add a row, submit with an error, fix it."""
    context = browser.new_context(base_url=live_server, java_script_enabled=False)
    page = context.new_page()
    sign_in(page, "police")
    page.click("tr[data-task='return_agency_information'] a")
    rows = page.locator("#f-chronology .rf-row").count()
    page.click("#f-chronology button[value='add:chronology']")
    assert page.locator("#f-chronology .rf-row").count() == rows + 1
    page.click("button[value='submit'] >> visible=true")
    assert page.locator(".govuk-error-summary").count() == 1
    context.close()
