"""Every page of the app on a small phone: at 320 and 375 px wide nothing runs off the side of the page
(WCAG 1.4.10 reflow), whoever reads it. Wide tables stack or scroll inside their own labelled box."""

from __future__ import annotations

import re

from tests.awaiting_panel import waiting_for_the_panel
from tests.web.conftest import PASSWORD, next_code, sign_in

WIDTHS = (320, 375)
# what leaves the page wider than the screen, named for the failure message
OVERFLOWING = """() => { const w = window.innerWidth; return [...document.querySelectorAll('body *')]
    .filter(e => e.getBoundingClientRect().right > w + 0.5 && e.getClientRects().length)
    .slice(-4).map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '')
                        + '.' + [...e.classList].join('.')); }"""


def pages(service) -> list[tuple[str | None, str]]:
    """(who, path) for every page a person can reach, each as the role that uses it."""
    manager = service.users.actor("manager")
    waiting = waiting_for_the_panel(service).case("rapid_review")
    cases = service.queries.list_instances(manager)
    one_of_each = {c["process_id"]: c["id"] for c in reversed(cases)}
    started = next(
        c for c in cases if c["process_id"] == "incident_notification" and c["created_by"] == "referrer"
    )
    police_task = service.tasks.for_user(service.users.actor("police"))[0]
    la_task = next(
        t
        for t in service.tasks.for_user(service.users.actor("la"))
        if t["element_id"] == "check_other_children"
    )
    chair_task = next(
        t for t in service.tasks.for_user(service.users.actor("chair")) if t["element_id"] == "chair_decides"
    )
    return [
        (None, "/sign-in"),
        (None, "/accessibility"),
        (None, "/no-such-page"),
        (None, "/forgotten-password"),
        (None, "/password-reset/not-a-link"),
        ("police", "/"),
        ("police", f"/tasks/{police_task['id']}"),
        ("police", "/calendar"),
        ("referrer", "/cases/new"),
        ("referrer", "/cases/new/review"),
        ("referrer", f"/cases/started/{started['id']}"),
        ("la", "/"),
        ("la", f"/tasks/{la_task['id']}"),
        ("chair", f"/tasks/{chair_task['id']}"),
        ("bu", "/"),
        ("bu", "/awaited"),
        ("bu", f"/cases/{waiting['id']}/awaited/panel_response"),
        ("bu", "/dashboard"),  # refused: the 403 page
        ("bu", "/account/multi-factor"),
        ("bu", "/account/e-mails"),
        ("bu", "/account/multi-factor/set-up"),
        ("manager", "/"),
        ("manager", "/cases"),
        *[("manager", f"/cases/{case_id}") for case_id in one_of_each.values()],
        ("manager", f"/cases/{waiting['id']}"),
        ("manager", "answers of a completed step"),
        ("manager", f"/tasks/{la_task['id']}"),  # a manager looks at someone's task
        ("manager", "/dashboard"),
        ("manager", "/awaited"),
        ("manager", "/account/multi-factor"),
        ("owner", "/modeller"),
        ("owner", "/modeller/rapid_review"),
        ("owner", "/modeller/scr_decision"),
        ("owner", "/modeller/decisions/scr_criteria"),
        ("admin", "/admin/recipients"),
        ("admin", "/admin/recipients/change?key=panel"),
        ("admin", "/admin/agencies"),
        ("admin", "/admin/agencies/new"),
        ("admin", "/admin/calendar"),
        ("admin", "/admin/outbox"),
        ("admin", "/admin/outbox/message?id=1"),
        ("admin", "/admin/people"),
        ("admin", "/admin/people/police"),
        ("admin", "/admin/people/invite"),
        ("manager", "/admin/calendar"),
    ]


def overflow(page, width: int) -> list[str]:
    """What runs off the side at ``width`` px: nothing when the page is no wider than the screen."""
    page.set_viewport_size({"width": width, "height": 800})
    if page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"):
        return []
    return [f"{page.evaluate('document.documentElement.scrollWidth')} px", *page.evaluate(OVERFLOWING)]


def test_no_page_scrolls_sideways_at_320_or_375_px(page, service):
    problems: dict[str, list[str]] = {}

    def measure(name: str) -> None:
        for width in WIDTHS:
            if found := overflow(page, width):
                problems[f"{name} at {width}"] = found
        page.set_viewport_size({"width": 1280, "height": 900})

    page.goto("/sign-in")  # the sign-in pages themselves, with their errors
    page.click("button:has-text('Sign in')")
    measure("/sign-in with errors")
    page.fill("#username", "manager")
    page.fill("#password", PASSWORD)
    page.click("button:has-text('Sign in')")
    page.wait_for_url("**/sign-in/code")
    measure("/sign-in/code")
    page.fill("#code", next_code(service, "manager"))
    page.click("button:has-text('Continue')")
    page.wait_for_url("**/")

    signed_in_as = "manager"
    for who, path in pages(service):
        if who != signed_in_as:
            page.context.clear_cookies()
            if who is not None:
                sign_in(page, who)
            signed_in_as = who
        if path == "answers of a completed step":
            page.locator("a[data-answers]").first.click()
            page.wait_for_url("**/tasks/*")
        else:
            page.goto(path)
        if path.startswith("/modeller/") or (path.startswith("/cases/") and path[7:].isdigit()):
            page.wait_for_selector("[data-ready='true']")
        measure(f"{who} {path}")
    assert problems == {}, "\n".join(f"{name}: {found}" for name, found in problems.items())


def test_staff_read_plain_names_not_keys(page, service):
    """The task list, the start form and the dashboard name processes by their diagrams' names and deadlines
    by their rules' names, keys second; a form's source reads as a reference to its document."""
    sign_in(page, "la")
    options = page.locator("#process option").all_inner_texts()
    assert "Serious incident notification" in options and not [o for o in options if "_" in o]
    due = page.locator("tr[data-task]", has_text="Deadline: ").first.inner_text()
    assert re.search(r"Deadline: [A-Z][a-z][^\n]* \([A-Z][A-Z0-9_]*\)", due), due
    page.locator("tr[data-task='check_other_children'] a").first.click()
    cited = page.locator(".rf-guidance #documents-cited").inner_text()  # the step's citations explained
    assert "003 is B&NES rapid review and practice review procedures (2020)" in cited
    page.context.clear_cookies()
    sign_in(page, "referrer")
    page.goto("/cases/new")
    source = page.locator("main p:has-text('Source: ')").first.inner_text()
    assert re.fullmatch(r"Source: B&NES .*, paragraphs? \d.* \(\d{3} §.*\)", source), source
    page.context.clear_cookies()
    sign_in(page, "manager")
    page.goto("/dashboard")
    assert "Scr decision" not in page.locator("main").inner_text()
    assert "Serious case review decision" in page.locator("main").inner_text()
    share = page.locator("tr[data-share='R1'] td").first.inner_text()
    assert share == "Local authority notifies the Panel (R1)"
