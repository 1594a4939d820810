"""Answers from outside recorded in the browser (003 §8.5): a rapid review waits for the Panel's answer; the
case page says what it waits for, from whom and since when; the Business Unit records the answer with the day
it arrived on a GOV.UK form and the case moves on. A role that does not record it is refused; a repeated
submission records nothing twice. Every page passes axe and fits a 375 px phone."""

from __future__ import annotations

import re

from tests.awaiting_panel import waiting_for_the_panel
from tests.web.conftest import axe_violations, csrf_of, sign_in, sign_in_client

PANEL = "the Child Safeguarding Practice Review Panel"


def fits_a_phone(page) -> bool:
    page.set_viewport_size({"width": 375, "height": 800})
    fits = page.evaluate("document.documentElement.scrollWidth") <= 375
    page.set_viewport_size({"width": 1280, "height": 900})
    return fits


def test_the_case_page_shows_what_the_case_waits_for_from_whom_and_since_when(app, service):
    rapid = waiting_for_the_panel(service).case("rapid_review")
    client = app.test_client()
    sign_in_client(client, "manager")
    html = client.get(f"/cases/{rapid['id']}").get_data(as_text=True)
    waiting = html.split('id="waiting-for"', 1)[1].split("</dl>", 1)[0]
    assert "Panel&#39;s answer received" in waiting
    assert f"From {PANEL}, waiting since" in waiting and "21 December 2026 09:00" in waiting
    assert "Recorded by the Business Unit." in waiting
    assert f'href="/cases/{rapid["id"]}/awaited/panel_response"' in waiting  # a manager may record it too
    assert "Now at" in html and "Waiting for: Panel&#39;s answer received" in html


def test_the_business_unit_records_the_panels_answer_and_the_case_moves_on(page, service):
    p = waiting_for_the_panel(service)
    rapid = p.case("rapid_review")
    sign_in(page, "manager")  # a manager reads on the case page what it waits for, on a phone too
    page.goto(f"/cases/{rapid['id']}")
    assert "Panel's answer received" in page.locator("#waiting-for").inner_text()
    assert fits_a_phone(page)
    page.click("button:has-text('Sign out')")
    page.wait_for_url("**/sign-in")
    sign_in(page, "bu")
    page.click(".govuk-service-navigation a:has-text('Answers to record')")
    row = page.locator(f"#awaited-answers tr[data-case='{rapid['business_key']}']")
    assert "Panel's answer received" in row.inner_text() and "The Child Safeguarding" in row.inner_text()
    assert "21 December 2026 09:00" in row.inner_text()
    assert axe_violations(page) == []
    assert fits_a_phone(page)

    row.locator("a:has-text('Record')").click()
    assert page.locator("h1").inner_text() == "Record the Panel's answer to the rapid review"
    assert "003 §8.5" in page.locator(".rf-guidance").inner_text()
    # nothing chosen and a day still to come: every error at once, each naming its field
    page.fill("input[name='received_date-day']", "4")
    page.fill("input[name='received_date-month']", "1")
    page.fill("input[name='received_date-year']", "2027")
    page.click("button:has-text('Record the answer')")
    summary = page.locator(".govuk-error-summary").inner_text()
    assert "Select what the Panel said" in summary
    assert "Date the answer arrived must be today (21 December 2026) or earlier" in summary
    assert axe_violations(page) == []
    assert fits_a_phone(page)
    assert p.case("rapid_review")["status"] == "running"

    page.get_by_label("No national review").check()
    page.fill("input[name='received_date-day']", "21")
    page.fill("input[name='received_date-month']", "12")
    page.fill("input[name='received_date-year']", "2026")
    page.fill("textarea[name='detail']", "The Panel agrees the learning is local.")
    page.click("button:has-text('Record the answer')")
    page.wait_for_url("**/awaited")
    assert "Recorded for case" in page.locator(".govuk-notification-banner").inner_text()
    assert page.locator(f"#awaited-answers tr[data-case='{rapid['business_key']}']").count() == 0
    done = p.case("rapid_review")
    assert done["status"] == "completed"
    assert done["data"]["panel_response"] == {
        "outcome": "no_national_review",
        "received_date": "2026-12-21",
        "detail": "The Panel agrees the learning is local.",
    }
    assert [h["actor"] for h in done["history"] if h["kind"] == "message_received"] == ["bu"]


def test_a_repeated_submission_records_nothing_twice(app, service):
    p = waiting_for_the_panel(service)
    rapid = p.case("rapid_review")
    client = app.test_client()
    sign_in_client(client, "bu")
    path = f"/cases/{rapid['id']}/awaited/panel_response"
    html = client.get(path).get_data(as_text=True)
    once = re.search(r'name="form_token" value="([^"]+)"', html).group(1)
    answer = {"csrf_token": csrf_of(html), "form_token": once, "outcome": "no_national_review"}
    assert client.post(path, data=answer).status_code == 303
    for again in (answer, {**answer, "form_token": "a-page-opened-in-another-tab"}):  # a refresh, a tab
        refused = client.post(path, data=again)
        assert refused.status_code == 409  # the case no longer waits: nothing delivered
        assert "it was recorded once and the case has moved on" in refused.get_data(as_text=True)
    history = p.case("rapid_review")["history"]
    assert [h["kind"] for h in history].count("message_received") == 1
    assert client.get(path).status_code == 404  # an old link: nothing is awaited


def test_a_role_that_does_not_record_the_answer_is_refused(app, service):
    rapid = waiting_for_the_panel(service).case("rapid_review")
    path = f"/cases/{rapid['id']}/awaited/panel_response"
    for who in ("prg", "police", "owner"):
        client = app.test_client()
        sign_in_client(client, who)
        assert client.get(path).status_code == 403, who
        token = csrf_of(client.get("/calendar").get_data(as_text=True))
        refused = client.post(path, data={"csrf_token": token, "outcome": "no_national_review"})
        assert refused.status_code == 403, who
    assert service.outside.waiting_for(rapid["id"], service.users.actor("manager"))


def test_the_answer_comes_with_the_letter_it_came_in_and_a_disguised_file_records_nothing(app, service):
    import io

    p = waiting_for_the_panel(service)
    rapid = p.case("rapid_review")
    manager = service.users.actor("manager")
    client = app.test_client()
    sign_in_client(client, "bu")
    path = f"/cases/{rapid['id']}/awaited/panel_response"

    def send(name: str, content: bytes):
        html = client.get(path).get_data(as_text=True)
        answer = {"csrf_token": csrf_of(html), "outcome": "no_national_review", "detail": "Local learning."}
        return client.post(path, data={**answer, "attachment": (io.BytesIO(content), name)})

    disguised = send("panel-letter.pdf", b"MZ\x90\x00" + b"\x00" * 200)  # a program named as a PDF
    assert disguised.status_code == 422
    page = disguised.get_data(as_text=True)
    assert 'href="#f-attachment"' in page and "panel-letter.pdf" in page
    assert p.case("rapid_review")["status"] == "running"  # nothing recorded, nothing kept
    assert service.documents.for_case(rapid["id"], manager) == []

    kept = send("panel-letter.pdf", b"%PDF-1.7\n%%EOF\n")
    assert kept.status_code == 303
    assert p.case("rapid_review")["status"] == "completed"
    [letter] = service.documents.for_case(rapid["id"], manager)
    assert (letter["name"], letter["uploaded_by"], letter["element_id"]) == (
        "panel-letter.pdf",
        "bu",
        "panel_answer",  # the step that waited for it
    )
