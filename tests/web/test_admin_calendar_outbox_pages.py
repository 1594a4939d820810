"""The administration's Calendar and Outbox pages, read as HTML: what an administrator and a manager see,
and every refusal (a date that is not real, a day that already has an override, a missing note or reason,
a form without its security token, a manager's change) answered plainly and changing nothing."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from engine.services import Reviewflow
from engine.store.models import AuditEvent, CalendarOverride, Deadline, OutboxMessage
from tests.conftest import make_settings
from tests.smtp import free_port
from tests.web.conftest import csrf_of, sign_in_client

CHILDREN = ("Child A Example", "Child B Example", "Child C Example", "Child D Example", "Child E Example")


def _client(app, who: str):
    client = app.test_client()
    sign_in_client(client, who)
    return client


def _state(service) -> tuple:
    """What a refused change must leave as it was."""
    with service.db.reading() as session:
        return (
            session.execute(select(CalendarOverride.day, CalendarOverride.kind, CalendarOverride.note)).all(),
            session.execute(
                select(Deadline.id, Deadline.due_date, Deadline.status).order_by(Deadline.id)
            ).all(),
            session.execute(select(OutboxMessage.id, OutboxMessage.status).order_by(OutboxMessage.id)).all(),
            session.scalar(select(func.count(AuditEvent.id))),
        )


def _main(html: str) -> str:
    return html[html.index("<main") : html.index("</main>")]


def _summary(html: str) -> str:
    found = re.search(r'<div class="govuk-error-summary".*?</ul>', html, re.S)
    return re.sub(r"<[^>]+>", " ", found.group(0)) if found else ""


def _add(client, token: str, day=("29", "12", "2026"), kind="holiday", note="Office closed", path="preview"):
    return client.post(
        f"/admin/calendar/{path}",
        data={
            "csrf_token": token,
            "day-day": day[0],
            "day-month": day[1],
            "day-year": day[2],
            "kind": kind,
            "note": note,
        },
    )


def test_the_calendar_page_lists_the_bank_holidays_and_a_manager_cannot_change_it(app, service):
    manager = _client(app, "manager")
    html = _main(manager.get("/admin/calendar").get_data(as_text=True))
    assert 'data-holiday="2026-12-28"' in html and "Boxing Day (observed)" in html
    assert 'id="holidays-2026"' in html and 'id="holidays-2027"' in html
    assert 'id="read-only"' in html
    assert 'id="add-override"' not in html and ">Remove<" not in html and 'name="csrf_token"' not in html
    token = csrf_of(manager.get("/account/e-mails").get_data(as_text=True))
    before = _state(service)
    assert _add(manager, token).status_code == 403
    assert manager.post("/admin/calendar/confirm", data={"csrf_token": token}).status_code == 403
    assert _state(service) == before


def test_the_preview_names_cases_by_reference_and_confirming_keeps_what_it_showed(app, service):
    admin = _client(app, "admin")
    page = admin.get("/admin/calendar").get_data(as_text=True)
    assert 'id="add-override"' in page and 'id="read-only"' not in page
    token = csrf_of(page)
    before = _state(service)
    preview = _add(admin, token)
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200 and _state(service) == before  # nothing kept yet
    moves = re.findall(r'data-move="([^"]+)"', html)
    assert "RF-2026-00007|R1|2026-12-30|2026-12-31" in moves
    assert not [name for name in CHILDREN if name in html]
    digest = re.search(r'name="digest" value="([0-9a-f]{64})"', html).group(1)
    done = admin.post(
        "/admin/calendar/confirm",
        data={
            "csrf_token": token,
            "day": "2026-12-29",
            "kind": "holiday",
            "note": "Office closed",
            "digest": digest,
        },
    )
    assert done.status_code == 303 and done.headers["Location"] == "/admin/calendar"
    listed = admin.get("/admin/calendar").get_data(as_text=True)
    assert f"{len(moves)} dates moved, as shown" in listed and 'data-override="2026-12-29"' in listed
    assert 'value="none"' in listed and ">Remove<" in listed  # removing it is previewed the same way


@pytest.mark.parametrize(
    "form, status, said",
    [
        ({"day": ("31", "2", "2026")}, 422, "The date must be a real date"),
        ({"day": ("", "", "")}, 422, "Enter the date"),
        ({"day": ("25", "12", "2026")}, 422, "25 December 2026 is already not a working day (Christmas Day)"),
        ({"day": ("29", "12", "2026"), "kind": "working"}, 422, "29 December 2026 is already a working day"),
        ({"kind": ""}, 422, "Select whether the day is a working day or not"),
        ({"note": ""}, 422, "Enter a note saying why"),
    ],
)
def test_a_refused_change_says_why_and_changes_nothing(app, service, form, status, said):
    admin = _client(app, "admin")
    token = csrf_of(admin.get("/admin/calendar").get_data(as_text=True))
    before = _state(service)
    response = _add(admin, token, **form)
    assert response.status_code == status
    assert said in _summary(response.get_data(as_text=True))
    assert _state(service) == before


def test_a_duplicate_override_a_confirmation_without_a_preview_and_a_missing_token_change_nothing(
    app, service
):
    admin = _client(app, "admin")
    token = csrf_of(admin.get("/admin/calendar").get_data(as_text=True))
    service.calendar.change("2026-12-29", "holiday", "Office closed", service.users.actor("admin"))
    before = _state(service)
    duplicate = _add(admin, token, note="Again")
    assert duplicate.status_code == 422
    assert "29 December 2026 already has an override: remove it first" in _summary(
        duplicate.get_data(as_text=True)
    )
    unpreviewed = _add(admin, token, day=("30", "12", "2026"), path="confirm")
    assert unpreviewed.status_code == 422 and "Preview the change" in _summary(
        unpreviewed.get_data(as_text=True)
    )
    no_token = admin.post(
        "/admin/calendar/preview", data={"day": "2026-12-30", "kind": "holiday", "note": "x"}
    )
    assert no_token.status_code == 400
    no_token = admin.post(
        "/admin/calendar/confirm", data={"day": "2026-12-30", "kind": "holiday", "note": "x"}
    )
    assert no_token.status_code == 400
    assert _state(service) == before


@pytest.fixture
def dead(service):
    """The three oldest notifications gave up: the relay refused them and one attempt was allowed."""
    failing = Reviewflow(
        make_settings(
            service.settings.database_url,
            REVIEWFLOW_SMTP_URL=f"smtp://127.0.0.1:{free_port()}",
            REVIEWFLOW_OUTBOX_MAX_ATTEMPTS="1",
        )
    )
    assert failing.outbox.deliver_due(limit=3) == {"sent": 0, "failed": 3}
    failing.db.dispose()
    return sorted(m["id"] for m in service.outbox.list(service.users.actor("manager"), status="dead"))


def test_the_outbox_lists_filters_and_shows_a_message_as_sent(app, service, dead):
    manager = _client(app, "manager")
    html = manager.get("/admin/outbox?status=dead").get_data(as_text=True)
    assert sorted(int(i) for i in re.findall(r'data-message="(\d+)"', html)) == dead
    assert 'data-count="3"' in html and "Gave up" in html and "ConnectionRefusedError" in html
    assert 'name="ids"' not in html and 'id="read-only"' in html  # a manager looks, no boxes to tick
    wrong = manager.get("/admin/outbox?from=yesterday")
    assert wrong.status_code == 422 and "must be a date" in _summary(wrong.get_data(as_text=True))
    message = manager.get(f"/admin/outbox/message?id={dead[0]}").get_data(as_text=True)
    for header in ("From", "To", "Subject", "Message-ID", "Date"):
        assert f'data-header="{header}"' in message
    assert 'id="body"' in message and 'id="cancel-form"' not in message and "Send it again" not in message
    assert not [name for name in CHILDREN if name in message]


def test_requeue_and_cancel_refusals_change_nothing_and_a_manager_is_refused(app, service, dead):
    admin, manager = _client(app, "admin"), _client(app, "manager")
    page = admin.get("/admin/outbox").get_data(as_text=True)
    token = csrf_of(page)
    assert len(re.findall(r'name="ids"', page)) == 3  # a box for each dead message, none for the others
    before = _state(service)
    assert admin.post("/admin/outbox/requeue", data={"csrf_token": token}).status_code == 303
    assert "Select the notifications to send again" in admin.get("/admin/outbox").get_data(as_text=True)
    no_reason = admin.post("/admin/outbox/cancel", data={"csrf_token": token, "id": dead[0], "reason": " "})
    assert no_reason.status_code == 422
    assert "Enter why the notification is cancelled" in _summary(no_reason.get_data(as_text=True))
    assert admin.post("/admin/outbox/cancel", data={"id": dead[0], "reason": "x"}).status_code == 400
    assert admin.post("/admin/outbox/requeue", data={"ids": dead}).status_code == 400
    manager_token = csrf_of(manager.get("/account/e-mails").get_data(as_text=True))
    assert (
        manager.post("/admin/outbox/requeue", data={"csrf_token": manager_token, "ids": dead}).status_code
        == 403
    )
    cancel = {"csrf_token": manager_token, "id": dead[0], "reason": "x"}
    assert manager.post("/admin/outbox/cancel", data=cancel).status_code == 403
    assert _state(service) == before

    sent_again = admin.post("/admin/outbox/requeue", data={"csrf_token": token, "ids": dead[:2]})
    assert sent_again.status_code == 303
    cancelled = admin.post(
        "/admin/outbox/cancel", data={"csrf_token": token, "id": dead[2], "reason": "Sent by hand"}
    )
    assert cancelled.headers["Location"] == f"/admin/outbox/message?id={dead[2]}"
    shown = admin.get(cancelled.headers["Location"]).get_data(as_text=True)
    assert "Cancelled" in shown and "Reason: Sent by hand" in shown and 'id="cancel-form"' not in shown
    statuses = {m["id"]: m["status"] for m in service.outbox.list(service.users.actor("manager"))}
    assert [statuses[i] for i in dead] == ["pending", "pending", "cancelled"]
