"""Publication refused in the browser until its safeguards are confirmed (000 §8.2-8.4): the Executive Group
deciding to publish a local review's report sees every unconfirmed safeguard at once in the error summary,
nothing is decided, and only with court orders and data protection checked, the report in plain English and
publishable without redaction, and the actions, their impact and what more written out, do the answers go
to Check your answers and on. The pages pass axe."""

from __future__ import annotations

from tests.scenarios.test_publication_gates import local_review_signed_off
from tests.web.conftest import axe_violations, sign_in


def date(page, name: str, day: str, month: str, year: str) -> None:
    page.fill(f"input[name='{name}-day']", day)
    page.fill(f"input[name='{name}-month']", month)
    page.fill(f"input[name='{name}-year']", year)


def answer(page, name: str, value: str) -> None:
    page.check(f"input[name='{name}'][value='{value}']")


def test_publication_is_refused_until_its_safeguards_are_confirmed(page, service):
    p = local_review_signed_off(service)  # the clock is on Wednesday 1 December 2027
    [task] = p.tasks("lcspr_publication_decision")
    sign_in(page, "exec")
    page.goto(f"/tasks/{task['id']}")
    assert page.locator("h1").inner_text() == "Decide on publication"
    assert "court orders" in page.locator("main").inner_text()

    answer(page, "publication_decision", "publish_full")
    date(page, "decided_on", "1", "12", "2027")
    date(page, "publication_date", "5", "1", "2028")
    answer(page, "delayed_by_other_proceedings", "false")
    answer(page, "court_orders_checked", "false")  # not yet checked
    answer(page, "publishable_without_redaction", "false")  # and the redaction not done
    page.click("main form .govuk-button-group button[value='submit']")
    summary = page.locator(".govuk-error-summary").inner_text().lower()
    for words in (
        "court orders",
        "data protection",
        "plain English",
        "welfare",
        "amending or redaction",
        "What was amended or redacted",
        "Actions already taken",
        "The impact these actions have had",
        "What more will be done",
    ):
        assert words.lower() in summary, words
    assert axe_violations(page) == []
    assert [t["element_id"] for t in p.tasks("lcspr_publication_decision")] == ["lcspr_publication_decision"]
    assert "actions_taken" not in p.case("local_cspr")["data"]

    for name in ("court_orders_checked", "data_protection_checked", "welfare_not_harmed", "plain_english"):
        answer(page, name, "true")
    answer(page, "publishable_without_redaction", "true")
    page.fill("textarea[name='actions_taken']", "Conference procedure changed.")
    page.fill("textarea[name='actions_impact']", "Every plan ended since records each agency's view.")
    page.fill("textarea[name='further_actions']", "A second audit in six months.")
    page.click("main form .govuk-button-group button[value='submit']")
    page.wait_for_url("**/check")
    assert "Conference procedure changed." in page.locator("main").inner_text()
    assert axe_violations(page) == []
    page.click("button:has-text('Accept and send')")
    page.wait_for_url(lambda url: "/check" not in url)
    assert p.tasks("lcspr_publication_decision") == []
    data = p.case("local_cspr")["data"]
    assert data["actions_taken"] == "Conference procedure changed."
    assert data["court_orders_checked"] is True
