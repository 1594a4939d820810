"""Managers in the browser: the case list and its filters, a case's diagram with the right steps marked,
the deadline timeline, actions with a reason, the dashboard, CSV exports and the calendar feed."""

from __future__ import annotations

import csv
import io

from tests.web.conftest import axe_violations, sign_in, sign_in_client


def case_id(service, step_name: str) -> int:
    manager = service.users.actor("manager")
    [row] = [i for i in service.queries.list_instances(manager) if step_name in (i["active_steps"] or [])][:1]
    return row["id"]


def test_case_list_filters_and_the_case_page_marks_the_diagram(page, service):
    sign_in(page, "manager")
    page.click("a:has-text('Cases')")
    assert page.locator("h1").inner_text() == "Cases"
    total = page.locator("tbody tr").count()
    page.select_option("#overdue", "yes")
    page.click("button:has-text('Apply filters')")
    overdue = page.locator("tbody tr").count()
    assert 0 < overdue < total
    assert axe_violations(page) == []
    chair_case = case_id(service, "Decide whether to hold a serious case review")
    page.goto(f"/cases/{chair_case}")
    page.wait_for_selector("#case-diagram[data-ready='true']")
    active = page.locator(".djs-element.rf-active").evaluate_all("els => els.map(e => e.dataset.elementId)")
    done = page.locator(".djs-element.rf-done").evaluate_all("els => els.map(e => e.dataset.elementId)")
    assert active == ["chair_decides"]
    assert {"scr_decision_started", "request_information", "subgroup_meeting", "chair_checklist"} <= set(done)
    assert page.locator(".rf-due-badge").count() == 1
    assert (
        page.locator("[data-deadline='S2']").count() == 1
        and page.locator("[data-deadline='S8']").count() == 1
    )
    assert page.console_errors == []
    assert axe_violations(page) == []


def test_overdue_steps_are_marked_red_on_the_diagram(page, service):
    sign_in(page, "manager")
    overdue_case = case_id(service, "Notify the Secretary of State and Ofsted of the death")
    page.goto(f"/cases/{overdue_case}")
    page.wait_for_selector("#case-diagram[data-ready='true']")
    overdue = page.locator(".djs-element.rf-overdue").evaluate_all("els => els.map(e => e.dataset.elementId)")
    assert set(overdue) == {"notify_panel_and_partners", "notify_sos_ofsted"}
    assert page.locator(".rf-due-badge--overdue").count() == 2


def test_suspend_needs_a_reason_and_is_audited(page, service):
    sign_in(page, "manager")
    target = case_id(service, "Decide whether to hold a serious case review")
    page.goto(f"/cases/{target}")
    page.click("#suspend button")
    assert "Give a reason" in page.locator(".govuk-notification-banner").inner_text()
    page.fill("#reason-suspend", "Waiting for legal advice")
    page.click("#suspend button")
    assert "suspended" in page.locator(".govuk-notification-banner").inner_text()
    history = service.queries.get_instance(target, service.users.actor("manager"))["history"]
    assert any(
        h["kind"] == "suspend"
        and h["actor"] == "manager"
        and h["detail"].get("reason") == "Waiting for legal advice"
        for h in history
    )


def test_dashboard_and_exports(page, service, client):
    sign_in(page, "manager")
    page.click("a:has-text('Dashboard')")
    assert "Open cases by stage" in page.inner_text("main")
    assert page.locator("text=No deadline has been missed").count() == 0  # the overdue notifications
    page.fill("#from", "31/12/2026")
    page.click("button:has-text('Show')")
    assert "must be a date" in page.locator(".govuk-error-summary").inner_text()
    assert axe_violations(page) == []
    sign_in_client(client, "manager")
    body = client.get("/cases.csv").get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(body)))
    assert {r["process_id"] for r in rows} >= {"rapid_review", "scr_decision", "incident_notification"}
    deadlines = list(csv.DictReader(io.StringIO(client.get("/deadlines.csv").get_data(as_text=True))))
    assert {"R1", "R3", "S2", "S8", "RR_AGENCY_INFO"} <= {d["key"] for d in deadlines}


def test_calendar_feed_is_personal_and_revocable(page, service, client):
    sign_in(page, "chair")
    page.click("a:has-text('Calendar')")
    page.click("button:has-text('Make my calendar address')")
    url = page.locator("#feed-url").inner_text()
    assert axe_violations(page) == []
    path = url.split("127.0.0.1", 1)[1].split("/", 1)[1]
    ics = client.get("/" + path)
    assert ics.status_code == 200 and ics.mimetype == "text/calendar"
    text = ics.get_data(as_text=True)
    assert text.startswith("BEGIN:VCALENDAR\r\n") and text.endswith("END:VCALENDAR\r\n")
    assert "SUMMARY:RF-" in text and " S2: " in text and "DTSTART;VALUE=DATE:20270121" in text
    assert "Child" not in text  # no child's name in a calendar
    page.click("button:has-text('Turn off my calendar address')")
    assert client.get("/" + path).status_code == 404


def parse_ics(text: str) -> list[dict]:
    """A small RFC 5545 reader: unfold continuation lines, split events into their properties."""
    lines = text.replace("\r\n ", "").split("\r\n")
    events, current = [], None
    for line in lines:
        if line == "BEGIN:VEVENT":
            current = {}
        elif line == "END:VEVENT":
            events.append(current)
            current = None
        elif current is not None and ":" in line:
            name, value = line.split(":", 1)
            current[name] = value
    return events


def test_the_calendar_feed_is_valid_icalendar_with_stable_events(service, client):
    sign_in_client(client, "manager")
    token = service.feeds.create(service.users.actor("manager"))
    first = client.get(f"/calendar/{token}.ics").get_data(as_text=True)
    second = client.get(f"/calendar/{token}.ics").get_data(as_text=True)
    assert all(len(line.encode()) <= 75 for line in first.split("\r\n"))
    events, again = parse_ics(first), parse_ics(second)
    assert events and [e["UID"] for e in events] == [
        e["UID"] for e in again
    ]  # calendars update, not duplicate
    pending = [
        d for d in service.reports.deadlines(service.users.actor("manager")) if d["status"] == "pending"
    ]
    assert len(events) == len(pending)
    for event in events:
        start, end = event["DTSTART;VALUE=DATE"], event["DTEND;VALUE=DATE"]
        assert len(start) == 8 and int(end) > int(start) and event["SUMMARY"].startswith("RF-")


def test_csv_cells_cannot_run_as_spreadsheet_formulas(service, client):
    from tests.scenarios.driver import notification

    started = service.instances.start("incident_notification", notification(), service.users.actor("bu"))
    la = service.users.actor("la")
    task = next(
        t
        for t in service.tasks.for_user(la)
        if t["instance_id"] == started["id"] and t["element_id"] == "check_other_children"
    )
    service.instances.complete_task(
        task["id"],
        {"other_children_at_risk": False, "child_protection_plan": "never", "records_secured": True},
        la,
    )
    sign_in_client(client, "manager")
    body = client.get("/cases.csv").get_data(as_text=True)
    for row in csv.reader(io.StringIO(body)):
        assert all(not cell or cell[0] not in "=+-@" for cell in row), row


def test_the_case_list_pages_newest_first_there_and_back(service, client, monkeypatch):
    import re

    from engine.services import reports

    monkeypatch.setattr(reports, "PAGE_SIZE", 2)
    everything = [  # one row per case: its first process (its sub-processes are folded into that row)
        i["id"]
        for i in service.queries.list_instances(service.users.actor("manager"))
        if i["parent_instance_id"] is None
    ]
    assert len(everything) > 2  # more than one page of two
    sign_in_client(client, "manager")

    def read(url):
        html = client.get(url).get_data(as_text=True)
        body = html.split("<tbody", 1)[1].split("</tbody>", 1)[0]
        links = dict(re.findall(r'href="([^"]+)" rel="(prev|next)"', html))
        return (
            [
                int(i)
                for i in re.findall(r'data-label="Case"><a class="govuk-link" href="/cases/(\d+)"', body)
            ],
            {v: k.replace("&amp;", "&") for k, v in links.items()},
            re.search(r'data-case-count="(\d+)"', html).group(1),
        )

    pages, url = [], "/cases?status="
    while url:
        ids, links, count = read(url)
        assert int(count) == len(everything) and len(ids) <= 2
        pages.append((url, ids, links))
        url = links.get("next")
    assert [i for _, ids, _ in pages for i in ids] == everything  # every case once, newest first
    assert "prev" not in pages[0][2] and all("prev" in links for _, _, links in pages[1:])
    assert all(
        "status=" not in links.get("next", "") for _, _, links in pages
    )  # empty filters are not carried
    back, _, _ = read(pages[-1][2]["prev"])
    assert back == pages[-2][1]
    _overdue, links, count = read("/cases?overdue=yes")
    assert 0 < int(count) < len(everything) and "prev" not in links
    assert client.get("/cases?before=not-a-case").status_code == 400


def test_deadline_csv_for_a_period_and_status(service, client):
    sign_in_client(client, "manager")
    body = client.get("/deadlines.csv?from=2026-12-01&to=2026-12-20&status=missed").get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(body)))
    assert rows and all(
        r["status"] == "missed" and "2026-12-01" <= r["due_date"] <= "2026-12-20" for r in rows
    )
    assert [r["due_date"] for r in rows] == sorted(r["due_date"] for r in rows)
    everything = list(csv.DictReader(io.StringIO(client.get("/deadlines.csv").get_data(as_text=True))))
    assert len(everything) > len(rows)
    assert client.get("/deadlines.csv?from=2026-12-20&to=2026-12-01").status_code == 400
    assert client.get("/deadlines.csv?status=late").status_code == 400
    started_later = client.get("/cases.csv?from=2026-12-22").get_data(as_text=True)
    assert started_later.strip().count("\n") == 0  # the header only
