"""axe-core on every page of the app, as the person who uses it: no serious or critical violation of
WCAG 2.2 A or AA."""
from __future__ import annotations

import pytest

from tests.web.conftest import axe_violations, sign_in


def pages(service) -> list[tuple[str | None, str, str | None]]:
    """(who, path, what to do first: 'submit' an empty form), for every page."""
    manager = service.users.actor("manager")
    case = next(c for c in service.queries.list_instances(manager) if c["process_id"] == "rapid_review")
    police_task = service.tasks.for_user(service.users.actor("police"))[0]
    return [
        (None, "/sign-in", None), (None, "/sign-in", "submit"), (None, "/accessibility", None),
        ("police", "/", None), ("police", f"/tasks/{police_task['id']}", None),
        ("police", f"/tasks/{police_task['id']}", "submit"),
        ("bu", "/cases/new", "submit"), ("bu", "/calendar", None), ("bu", "/no-such-page", None),
        ("bu", "/dashboard", None),                                                   # 403 page
        ("manager", "/", None), ("manager", "/cases", None), ("manager", f"/cases/{case['id']}", None),
        ("manager", "/dashboard", None),
        ("owner", "/modeller", None), ("owner", "/modeller/scr_decision", None),
        ("owner", "/modeller/decisions/notifiable_incident", None),
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
        if path.startswith("/modeller/") or path.startswith("/cases/") and path[7:].isdigit():
            page.wait_for_selector("[data-ready='true']")
        if then == "submit":
            page.locator("main form button[value='submit']:visible").first.click() if path != "/sign-in" else \
                page.click("button:has-text('Sign in')")
            assert page.locator(".govuk-error-summary").count() == 1, path
        found = axe_violations(page)
        if found:
            problems[f"{who} {path} {then or ''}"] = found
    assert problems == {}
