"""The Business Unit asks the agencies for information by ticking them in the partnership's list: the
agencies the referrer named are already ticked, an agency nobody can act for is flagged beside its box,
and each agency's request reaches that agency's users; the manager sees on the case page which request
nobody can see."""

from __future__ import annotations

from engine.services.actor import Actor
from tests.scenarios.driver import form
from tests.web.conftest import axe_violations, sign_in
from web.ui.choices import NOBODY


def _fits_375(page) -> bool:
    page.set_viewport_size({"width": 375, "height": 800})
    fits = page.evaluate("document.documentElement.scrollWidth") <= 375
    page.set_viewport_size({"width": 1280, "height": 900})
    return fits


def _item(page, name: str):
    """The checkbox item of agency ``name`` in the list of agencies asked for information."""
    return page.locator("fieldset:has(#f-agencies) .govuk-checkboxes__item").filter(
        has=page.get_by_label(name, exact=True)
    )


def test_agencies_are_ticked_in_the_list_with_the_referrers_preselected_and_the_unseen_flagged(page, service):
    referrer = Actor("referrer", frozenset({"Referring agency"}))
    notified = form(
        "incident_notification",
        date_aware="2026-12-18",
        notification_date=None,
        agencies=["police", "childrens_social_care"],
    )
    reference = service.instances.start("incident_notification", notified, referrer)["business_key"]
    [arrange] = [
        t
        for t in service.tasks.for_user(service.users.actor("bu"))
        if t["business_key"] == reference and t["element_id"] == "arrange_rapid_review"
    ]

    sign_in(page, "bu")
    page.goto(f"/tasks/{arrange['id']}")
    assert page.get_by_label("Police", exact=True).is_checked()
    assert page.get_by_label("Children's social care", exact=True).is_checked()
    assert not page.get_by_label("Health", exact=True).is_checked()
    assert NOBODY in _item(page, "Children's social care").inner_text()  # no demo user holds its role
    assert NOBODY not in _item(page, "Police").inner_text()
    assert axe_violations(page) == []
    assert _fits_375(page)

    fill = {"prg_meeting_date": "2027-01-05", "information_required_by": "2026-12-30"}
    for name, day in fill.items():
        year, month, date = day.split("-")
        page.fill(f"#f-{name}-day", str(int(date)))
        page.fill(f"#f-{name}-month", str(int(month)))
        page.fill(f"#f-{name}-year", year)
    page.check("#f-meeting_virtual")  # Yes
    page.get_by_label("Health", exact=True).check()
    page.locator(".govuk-button-group button:has-text('Submit')").click()
    page.wait_for_url("**/")

    sign_in(page, "health")
    assert page.locator(f"tr:has-text('{reference}')").filter(has_text="agency information").count() == 1

    [rapid] = [
        c
        for c in service.queries.list_instances(service.users.actor("manager"), process_id="rapid_review")
        if c["business_key"] == reference
    ]
    sign_in(page, "manager")
    page.goto(f"/cases/{rapid['id']}")
    flagged = page.locator("tr:has([data-unseen])")
    assert flagged.count() == 1 and "Agency: Children's social care" in flagged.inner_text()
    assert "Nobody can see this task" in flagged.inner_text()
    assert axe_violations(page) == []
