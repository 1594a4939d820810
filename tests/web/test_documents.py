"""Documents in the browser: a manager uploads a PDF on the case page and downloads it as an attachment that
no browser renders or sniffs; an HTML page named ``report.pdf`` is refused with the error at the file field;
an agency adds a document to its own request and sees nothing else of the case; another agency is refused
its download. The pages pass axe and fit a 375 px wide phone."""

from __future__ import annotations

import re

from sqlalchemy import select

from engine.store.models import AuditEvent
from tests.scenarios.driver import form
from tests.web.conftest import axe_violations, sign_in

PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"
LONG_NAME = "Rapid review minutes, " + "with every agency's return attached and agreed " * 3 + "(final).pdf"


def police_request(service) -> dict:
    return service.tasks.for_user(service.users.actor("police"))[0]


def upload(page, name: str, content: bytes, mime: str = "application/pdf") -> None:
    page.set_input_files("#document-upload", files=[{"name": name, "mimeType": mime, "buffer": content}])
    page.locator("#documents button:has-text('Upload')").click()
    page.wait_for_load_state()


def open_case(page, case_id: int) -> None:
    page.goto(f"/cases/{case_id}")
    page.wait_for_selector("[data-ready='true']")


def no_overflow(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= 375


def test_a_manager_uploads_a_pdf_on_the_case_page_and_downloads_it(page, service):
    case_id = police_request(service)["instance_id"]
    sign_in(page, "manager")
    open_case(page, case_id)
    assert "No document has been added to this case" in page.locator("#documents").inner_text()
    upload(page, "Minutes – rapid review.pdf", PDF, mime="text/html")  # the browser's word is not taken
    page.wait_for_selector("[data-ready='true']")
    assert f"‘Minutes – rapid review.pdf’ is uploaded (PDF document, {len(PDF)} bytes)." in page.inner_text(
        "main"
    )
    row = page.locator("#case-documents tbody tr")
    assert row.count() == 1
    assert re.sub(r"\s+", " ", row.inner_text()).startswith("Minutes – rapid review.pdf (download)")
    assert "PDF document" in row.inner_text() and "The case" in row.inner_text()
    assert axe_violations(page) == []

    link = row.locator("a")
    with page.expect_download() as downloading:
        link.click()
    download = downloading.value
    assert download.suggested_filename == "Minutes – rapid review.pdf"
    assert download.path().read_bytes() == PDF
    answer = page.request.get(link.get_attribute("href"))
    assert answer.status == 200 and answer.body() == PDF
    assert answer.headers["content-type"] == "application/pdf"
    assert answer.headers["content-disposition"] == (
        'attachment; filename="Minutes _ rapid review.pdf"; '
        "filename*=UTF-8''Minutes%20%E2%80%93%20rapid%20review.pdf"
    )
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["cache-control"] == "no-store"
    with service.db.reading() as session:
        kinds = session.scalars(
            select(AuditEvent.kind).where(AuditEvent.instance_id == case_id, AuditEvent.actor == "manager")
        ).all()
    assert kinds.count("document_uploaded") == 1 and kinds.count("document_downloaded") == 2


def test_an_html_page_named_pdf_is_refused_with_the_error_at_the_field(page, service):
    case_id = police_request(service)["instance_id"]
    sign_in(page, "manager")
    open_case(page, case_id)
    upload(page, "report.pdf", HTML)
    page.wait_for_selector("[data-ready='true']")
    summary = page.locator(".govuk-error-summary")
    expected = "‘report.pdf’ is an HTML or XML document, not a file of a type allowed"
    assert expected in summary.inner_text()
    assert expected in page.locator("#document-upload-error").inner_text()
    assert page.locator("#case-documents").count() == 0
    assert axe_violations(page) == []
    summary.locator("a").click()
    assert page.evaluate("document.activeElement.id") == "document-upload"
    page.reload()  # shown once: a refresh is a fresh page
    page.wait_for_selector("[data-ready='true']")
    assert page.locator(".govuk-error-summary").count() == 0


def test_an_agency_adds_to_its_request_and_sees_nothing_else_of_the_case(page, browser, live_server, service):
    request = police_request(service)
    manager = service.users.actor("manager")
    on_case = service.documents.upload(manager, request["instance_id"], "minutes.pdf", PDF)

    sign_in(page, "police")
    page.goto(f"/tasks/{request['id']}")
    assert "No document has been added to this step yet." in page.locator("#documents").inner_text()
    upload(page, "police chronology.csv", b"date,event\n2026-12-01,Home visit\n", mime="text/csv")
    assert page.locator("#step-documents tbody tr").count() == 1
    assert "CSV file" in page.locator("#step-documents").inner_text()
    assert page.locator("#other-documents").count() == 0 and "minutes.pdf" not in page.content()
    assert axe_violations(page) == []
    own = int(page.locator("#step-documents tbody tr").get_attribute("data-document"))
    assert page.request.get(f"/documents/{own}").status == 200
    assert page.goto(f"/documents/{on_case['id']}").status == 403
    refused = page.request.post(f"/cases/{request['instance_id']}/documents")
    assert refused.status in (400, 403)  # no CSRF token and no right to the case either way

    other = browser.new_context(base_url=live_server, viewport={"width": 1280, "height": 900}).new_page()
    sign_in(other, "health")
    assert other.goto(f"/documents/{own}").status == 403
    assert "You cannot see this page" in other.inner_text("main")
    other.context.close()

    page.context.clear_cookies()
    sign_in(page, "manager")
    open_case(page, request["instance_id"])
    rows = page.locator("#case-documents tbody tr")
    assert [r.locator("a").text_content().removesuffix(" (download)") for r in rows.all()] == [
        "minutes.pdf",
        "police chronology.csv",
    ]
    assert request["name"] in rows.nth(1).inner_text()


def test_the_documents_fit_a_phone(page, service):
    request = police_request(service)
    manager = service.users.actor("manager")
    service.documents.upload(manager, request["instance_id"], LONG_NAME, PDF)
    service.documents.upload(service.users.actor("police"), None, LONG_NAME, PDF, task_id=request["id"])
    page.set_viewport_size({"width": 375, "height": 800})
    sign_in(page, "police")
    page.goto(f"/tasks/{request['id']}")
    assert page.locator("#step-documents tbody tr").count() == 1
    assert no_overflow(page)
    page.context.clear_cookies()
    sign_in(page, "manager")
    open_case(page, request["instance_id"])
    assert page.locator("#case-documents tbody tr").count() == 2
    page.locator("#documents").scroll_into_view_if_needed()
    assert no_overflow(page)


def test_a_completed_step_shows_its_documents_read_only(page, service):
    request = police_request(service)
    police = service.users.actor("police")
    service.documents.upload(police, None, "police return.pdf", PDF, task_id=request["id"])
    answers = form(service.tasks.get(request["id"], police)["form"].removesuffix(".json"))
    service.instances.complete_task(request["id"], answers, police)
    sign_in(page, "police")
    page.goto(f"/tasks/{request['id']}")
    assert page.locator("#step-documents a").text_content() == "police return.pdf (download)"
    assert page.locator("#document-upload").count() == 0
    assert axe_violations(page) == []
