"""Managers find and follow cases in the browser: the case list's search by reference and child's initials,
one row per case with its sub-processes folded in, the deadlines due soon across cases, the dashboard's last
12 months, and the case diagram's zoom, fit, full-width view and completed steps that open their answers."""

from __future__ import annotations

import csv
import io
import re

from tests.web.conftest import axe_violations, sign_in, sign_in_client

MANAGER = "manager"


def instances(service) -> list[dict]:
    return service.queries.list_instances(service.users.actor(MANAGER), limit=500)


def no_overflow(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= 375


def test_one_row_per_case_searched_by_reference_and_initials(page, service):
    everything = instances(service)
    tops = [i for i in everything if i["parent_instance_id"] is None]
    folded = next(i for i in tops if any(m["parent_instance_id"] == i["id"] for m in everything))
    subs = [m for m in everything if m["business_key"] == folded["business_key"] and m["id"] != folded["id"]]
    sign_in(page, MANAGER)
    page.goto("/cases")
    rows = page.locator("#case-list tbody tr")
    keys = rows.evaluate_all("rs => rs.map(r => r.dataset.case)")
    assert len(keys) == len(set(keys)) == len(tops)  # each case once, whatever its sub-processes
    row = page.locator(f"#case-list tr[data-case='{folded['business_key']}']")
    assert row.locator("[data-sub-process]").count() == len(subs)
    assert row.get_attribute("data-worst") in ("error", "overdue", "due_soon", "on_time", "closed")
    assert axe_violations(page) == []

    page.fill("#q", folded["business_key"].lower())
    page.click("button:has-text('Apply filters')")
    assert page.locator("#case-list tbody tr").evaluate_all("rs => rs.map(r => r.dataset.case)") == [
        folded["business_key"]
    ]
    page.fill("#q", folded["business_key"][:8])  # "RF-2026-": its beginning
    page.click("button:has-text('Apply filters')")
    assert page.locator("#case-list tbody tr[data-case]").count() == len(tops)

    initials = next(i["summary"]["child_initials"] for i in tops if i["summary"].get("child_initials"))
    first = initials.split()[0]
    page.fill("#q", ".".join(first) + ".")
    page.click("button:has-text('Apply filters')")
    found = page.locator("#case-list tbody tr[data-case]")
    assert found.count() >= 1
    assert all(
        first in t.split() for t in found.locator("td:first-child .govuk-body-s").all_inner_texts()[0:1]
    )
    assert "for a child with the initials " + first in page.locator("caption").inner_text()
    page.fill("#q", "QQQ")
    page.click("button:has-text('Apply filters')")
    assert "No case matches this search" in page.locator("#case-list").inner_text()
    assert axe_violations(page) == []
    page.set_viewport_size({"width": 375, "height": 800})
    page.goto("/cases")
    assert no_overflow(page)
    assert page.console_errors == []


def test_the_case_page_lists_the_other_processes_of_its_case(app, service, client):
    everything = instances(service)
    top = next(i for i in everything if any(m["parent_instance_id"] == i["id"] for m in everything))
    subs = [m for m in everything if m["business_key"] == top["business_key"] and m["id"] != top["id"]]
    sign_in_client(client, MANAGER)
    html = client.get(f"/cases/{top['id']}").get_data(as_text=True)
    table = html.split('id="sub-processes"', 1)[1].split("</table>", 1)[0]
    assert sorted(re.findall(r'href="/cases/(\d+)"', table)) == sorted(str(s["id"]) for s in subs)


def test_deadlines_due_soon_across_cases(page, service, client):
    sign_in(page, MANAGER)
    page.goto("/cases")
    page.click("a:has-text('Deadlines due soon across cases')")
    assert page.locator("h1").inner_text() == "Due soon"
    default = page.locator("#due-soon tbody tr[data-deadline]").count()
    page.fill("#days", "40")
    page.click("button:has-text('Show')")
    wider = page.locator("#due-soon tbody tr[data-deadline]")
    dues = wider.evaluate_all("rs => rs.map(r => r.dataset.due)")
    assert len(dues) >= default and len(dues) > 0 and dues == sorted(dues)
    assert all(d >= "2026-12-21" for d in dues)  # from today (the fixed clock)
    assert axe_violations(page) == []
    page.fill("#days", "many")
    page.click("button:has-text('Show')")
    assert "whole number of working days" in page.locator(".govuk-error-summary").inner_text()
    assert axe_violations(page) == []
    page.set_viewport_size({"width": 375, "height": 800})
    page.goto("/due-soon?days=40")
    assert no_overflow(page)
    sign_in_client(client, MANAGER)
    body = client.get("/due-soon.csv?days=40").get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(body)))
    assert [r["due_date"] for r in rows] == dues and {r["status"] for r in rows} == {"pending"}
    assert client.get("/due-soon.csv?days=x").status_code == 400
    assert client.get("/due-soon?after=nonsense").status_code == 400


def test_due_soon_pages_by_due_date(service, client, monkeypatch):
    from engine.services import reports

    monkeypatch.setattr(reports, "PAGE_SIZE", 2)
    sign_in_client(client, MANAGER)
    url, seen = "/due-soon?days=40", []
    while url:
        html = client.get(url).get_data(as_text=True)
        body = html.split("<tbody", 1)[1].split("</tbody>", 1)[0]
        seen += re.findall(r'data-due="([^"]+)"', body)
        found = re.search(r'href="([^"]+)" rel="next"', html)
        url = found.group(1).replace("&amp;", "&") if found else None
    every = client.get("/due-soon.csv?days=40").get_data(as_text=True)
    assert seen == [r["due_date"] for r in csv.DictReader(io.StringIO(every))] and len(seen) > 2


def test_the_dashboard_counts_the_last_12_months_by_default(page):
    sign_in(page, MANAGER)
    page.goto("/dashboard")
    assert page.input_value("#from") == "2025-12-22" and page.input_value("#to") == "2026-12-21"


def test_the_case_diagram_zooms_fits_widens_and_opens_a_completed_steps_answers(page, service):
    everything = instances(service)
    manager = service.users.actor(MANAGER)
    case = next(
        c
        for c in (service.queries.get_instance(i["id"], manager) for i in everything)
        if any(t["state"] == "completed" for t in c["task_history"])
    )
    done = next(t for t in case["task_history"] if t["state"] == "completed")
    sign_in(page, MANAGER)
    page.goto(f"/cases/{case['id']}")
    diagram = page.locator("#case-diagram[data-ready='true']")
    diagram.wait_for()
    fitted = float(diagram.get_attribute("data-zoom"))
    page.click("button[data-diagram-action='zoom-in']")
    assert float(diagram.get_attribute("data-zoom")) > fitted
    page.click("button[data-diagram-action='zoom-out']")
    page.click("button[data-diagram-action='zoom-out']")
    assert float(diagram.get_attribute("data-zoom")) < fitted
    page.click("button[data-diagram-action='fit']")
    assert abs(float(diagram.get_attribute("data-zoom")) - fitted) < 0.01
    narrow = diagram.bounding_box()["width"]
    page.click("button[data-diagram-action='wide']")
    assert page.get_attribute("button[data-diagram-action='wide']", "aria-pressed") == "true"
    assert diagram.bounding_box()["width"] > narrow
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert axe_violations(page) == []
    page.click("button[data-diagram-action='wide']")
    page.click("button[data-diagram-action='fit']")
    page.locator(f".djs-element.rf-has-answers[data-element-id='{done['element_id']}']").first.click()
    page.wait_for_url(f"**/tasks/{done['id']}")
    assert page.console_errors == []
    page.set_viewport_size({"width": 375, "height": 800})
    page.goto(f"/cases/{case['id']}")
    page.locator("#case-diagram[data-ready='true']").wait_for()
    page.click("button[data-diagram-action='wide']")
    assert no_overflow(page)


def test_the_dashboard_leads_to_the_deadlines_due_soon(page):
    sign_in(page, MANAGER)
    page.goto("/dashboard")
    page.click("a:has-text('Everything due soon across cases')")
    assert page.locator("h1").inner_text() == "Due soon"
