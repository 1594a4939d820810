"""The partnership's own service: its name in the header (REVIEWFLOW_PARTNERSHIP_NAME), none of GOV.UK's
marks (the crown, the GOV.UK wordmark, Crown copyright, the Open Government Licence), which the GOV.UK
Design System reserves for services on GOV.UK."""

from __future__ import annotations

from engine.services import Reviewflow
from tests.conftest import make_settings
from tests.web.conftest import axe_violations, sign_in

GOV_UK_MARKS = ("GOV.UK", "Crown copyright", "Open Government Licence")


def test_every_page_carries_the_partnerships_name_and_no_gov_uk_mark(page):
    page.goto("/sign-in")
    assert page.locator("header .govuk-generic-header").inner_text().strip() == "Safeguarding partnership"
    sign_in(page, "bu")
    header = page.locator("header")
    assert header.locator(".govuk-generic-header__homepage-link").inner_text().strip() == (
        "Safeguarding partnership"
    )
    assert header.locator(".govuk-service-navigation__service-name").inner_text().strip() == "Case reviews"
    assert page.locator(".govuk-header, .govuk-logo, .govuk-footer__crown, svg[role='img']").count() == 0
    text = page.locator("body").inner_text()
    assert not [mark for mark in GOV_UK_MARKS if mark in text]
    assert "run by Safeguarding partnership" in page.locator("footer").inner_text()
    icons = page.locator("link[rel~='icon']")
    assert icons.count() == 1 and "govuk" not in (icons.get_attribute("href") or "")
    assert page.locator("link[rel='manifest'], link[rel='apple-touch-icon']").count() == 0
    assert axe_violations(page) == []


def test_the_name_is_the_partnerships_setting(service):
    from web.app import create_app

    named = Reviewflow(
        make_settings(
            service.settings.database_url,
            REVIEWFLOW_PARTNERSHIP_NAME="  Sampleshire Safeguarding Children Partnership ",
            REVIEWFLOW_SECRET_KEY="test-only-secret-key-for-the-browser-tests",
        )
    )
    html = create_app(named).test_client().get("/sign-in").get_data(as_text=True)
    named.db.dispose()
    header = html.split("<header", 1)[1].split("</header>", 1)[0]
    assert "Sampleshire Safeguarding Children Partnership\n" in header
    assert "run by Sampleshire Safeguarding Children Partnership" in html
    assert not [mark for mark in GOV_UK_MARKS if mark in html]
