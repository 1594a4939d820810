"""The administration's Calendar and Outbox in Chromium, on the tests' fixed clock (Monday 21 December 2026).

An administrator makes the substitute Boxing Day (Monday 28 December 2026) a working day: the preview lists
the open deadlines and due dates across Christmas that move a day earlier, by case reference; nothing moves
until "Confirm"; then they have moved and the audit log says who moved what from when to when. An
administrator sends dead notifications again and cancels one with a reason. A manager reads both sections
with no button that changes anything, and is refused (403) if they post anyway. Each new page passes
axe-core and fits a 375 px screen."""

from __future__ import annotations

from sqlalchemy import select

from engine.services import Reviewflow
from engine.store.models import AuditEvent, Deadline, Instance
from tests.conftest import make_settings
from tests.smtp import free_port
from tests.web.conftest import axe_violations, sign_in


def _fits_375(page) -> bool:
    page.set_viewport_size({"width": 375, "height": 800})
    fits = page.evaluate("document.documentElement.scrollWidth") <= 375
    page.set_viewport_size({"width": 1280, "height": 900})
    return fits


def _due(service, reference: str, key: str) -> list[str]:
    with service.db.reading() as session:
        return [
            d.isoformat()
            for d in session.scalars(
                select(Deadline.due_date)
                .join(Instance, Instance.id == Deadline.instance_id)
                .where(Instance.business_key == reference, Deadline.key == key)
            )
        ]


def test_working_the_substitute_boxing_day_moves_the_deadlines_shown_before_and_audited_after(page, service):
    assert _due(service, "RF-2026-00007", "R1") == ["2026-12-30"]  # 5 working days round Christmas
    sign_in(page, "admin")
    page.get_by_role("link", name="Administration").click()
    page.locator("main").get_by_role("link", name="Calendar").click()
    boxing = page.locator("tr[data-holiday='2026-12-28']")
    assert "Boxing Day (observed)" in boxing.inner_text() and "Not a working day" in boxing.inner_text()
    assert axe_violations(page) == [] and _fits_375(page)

    page.fill("#day-day", "28")
    page.fill("#day-month", "12")
    page.fill("#day-year", "2026")
    page.get_by_label("A working day", exact=True).check()
    page.fill("#note", "The office opens on the substitute Boxing Day")
    page.get_by_role("button", name="Preview the change").click()

    assert page.locator("h1").inner_text() == "Check the change to the calendar"
    move = page.locator("tr[data-move='RF-2026-00007|R1|2026-12-30|2026-12-29']")
    assert "30 December 2026" in move.inner_text() and "29 December 2026" in move.inner_text()
    shown = page.locator("tr[data-move]").evaluate_all("rows => rows.map(r => r.dataset.move)")
    assert all(m.startswith("RF-2026-") for m in shown)
    assert "Child" not in page.inner_text("main")  # cases by reference, never by a child's name
    assert axe_violations(page) == [] and _fits_375(page)
    assert _due(service, "RF-2026-00007", "R1") == ["2026-12-30"]  # nothing moved before "Confirm"

    page.get_by_role("button", name="Confirm").click()
    assert page.url.endswith("/admin/calendar")
    assert f"{len(shown)} dates moved, as shown" in page.inner_text("main")
    assert "A working day (override)" in page.locator("tr[data-holiday='2026-12-28']").inner_text()
    assert "substitute Boxing Day" in page.locator("tr[data-override='2026-12-28']").inner_text()
    assert _due(service, "RF-2026-00007", "R1") == ["2026-12-29"]

    with service.db.reading() as session:
        [(actor, detail)] = session.execute(
            select(AuditEvent.actor, AuditEvent.detail).where(AuditEvent.kind == "calendar_changed")
        ).all()
        moved = session.execute(
            select(AuditEvent.actor, AuditEvent.detail)
            .join(Instance, Instance.id == AuditEvent.instance_id)
            .where(AuditEvent.kind == "deadline_moved", Instance.business_key == "RF-2026-00007")
        ).all()
    assert actor == "admin" and detail["after"] == {"kind": "working", "note": detail["note"]}
    audited = {f"{m['case']}|{m['key'] or m['what']}|{m['before']}|{m['after']}" for m in detail["moved"]}
    assert audited == set(shown)  # audited exactly as previewed
    assert ("admin", "R1", "2026-12-30", "2026-12-29") in {
        (a, d["key"], d["before"], d["after"]) for a, d in moved
    }


def _three_dead(service) -> list[int]:
    failing = Reviewflow(
        make_settings(
            service.settings.database_url,
            REVIEWFLOW_SMTP_URL=f"smtp://127.0.0.1:{free_port()}",
            REVIEWFLOW_OUTBOX_MAX_ATTEMPTS="1",
        )
    )
    failing.outbox.deliver_due(limit=3)
    failing.db.dispose()
    return sorted(m["id"] for m in service.outbox.list(service.users.actor("manager"), status="dead"))


def test_an_administrator_sends_dead_notifications_again_and_cancels_one_with_a_reason(page, service):
    dead = _three_dead(service)
    sign_in(page, "admin")
    page.goto("/admin")
    page.get_by_role("link", name="Outbox").click()
    page.select_option("#status", "dead")
    page.get_by_role("button", name="Apply filters").click()
    assert page.locator("tr[data-message]").count() == 3
    assert axe_violations(page) == [] and _fits_375(page)

    for message_id in dead[:2]:
        page.check(f"#ids-{message_id}")
    page.get_by_role("button", name="Send the selected notifications again").click()
    assert "2 notifications will be sent again." in page.inner_text("main")
    assert page.locator("tr[data-message]").count() == 1  # the filter is kept: one still dead

    page.locator(f"tr[data-message='{dead[2]}'] a").click()
    assert page.locator("[data-header='Message-ID']").inner_text().startswith("<")
    assert page.locator("#body").inner_text().strip()
    assert axe_violations(page) == [] and _fits_375(page)
    page.get_by_role("button", name="Cancel the notification").click()
    summary = page.locator(".govuk-error-summary")
    assert "Enter why the notification is cancelled" in summary.inner_text()
    summary.get_by_role("link").click()
    assert page.evaluate("document.activeElement.id") == "reason"
    assert axe_violations(page) == []
    page.fill("#reason", "The Panel was told by telephone")
    page.get_by_role("button", name="Cancel the notification").click()
    assert "The notification is cancelled: it will not be sent." in page.inner_text("main")
    assert "Reason: The Panel was told by telephone" in page.inner_text("#status")
    assert page.get_by_role("button", name="Cancel the notification").count() == 0

    statuses = {m["id"]: m["status"] for m in service.outbox.list(service.users.actor("manager"))}
    assert [statuses[i] for i in dead] == ["pending", "pending", "cancelled"]
    with service.db.reading() as session:
        kinds = session.execute(
            select(AuditEvent.actor, AuditEvent.kind, AuditEvent.detail).where(
                AuditEvent.kind.in_(("notification_requeued", "notification_cancelled"))
            )
        ).all()
    assert sorted((a, k, d["outbox_id"]) for a, k, d in kinds) == [
        ("admin", "notification_cancelled", dead[2]),
        ("admin", "notification_requeued", dead[0]),
        ("admin", "notification_requeued", dead[1]),
    ]


def test_a_manager_reads_the_calendar_and_the_outbox_and_cannot_change_them(page, service):
    dead = _three_dead(service)
    sign_in(page, "manager")
    page.goto("/admin")
    page.locator("main").get_by_role("link", name="Calendar").click()
    assert page.locator("#read-only").count() == 1
    assert page.locator("main form").count() == 0 and page.locator("main button").count() == 0
    assert axe_violations(page) == [] and _fits_375(page)
    page.goto("/admin")
    page.get_by_role("link", name="Outbox").click()
    assert page.locator("tr[data-message]").count() >= 3
    assert page.locator("main form[method='post']").count() == 0
    assert page.locator("input[name='ids']").count() == 0
    page.goto(f"/admin/outbox/message?id={dead[0]}")
    assert page.locator("main form[method='post']").count() == 0
    assert axe_violations(page) == [] and _fits_375(page)

    token = page.locator("input[name='csrf_token']").first.get_attribute("value")  # the sign-out form's
    for path, form in (
        ("/admin/calendar/preview", {"day": "2026-12-29", "kind": "holiday", "note": "x"}),
        ("/admin/calendar/confirm", {"day": "2026-12-29", "kind": "holiday", "note": "x", "digest": "0"}),
        ("/admin/outbox/requeue", {"ids": str(dead[0])}),
        ("/admin/outbox/cancel", {"id": str(dead[0]), "reason": "x"}),
    ):
        assert page.request.post(path, form={**form, "csrf_token": token}).status == 403, path
    assert service.calendar.overrides() == []
    still_dead = service.outbox.list(service.users.actor("manager"), status="dead")
    assert sorted(m["id"] for m in still_dead) == dead
