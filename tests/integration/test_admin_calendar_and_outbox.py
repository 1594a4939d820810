"""The administration's calendar and outbox through the service layer (SQLite and PostgreSQL).

Calendar: a change moves the open deadlines and due dates whose count crosses its day, in the transaction
that makes it, audited with before and after; its preview is the same change rolled back, so it shows
exactly what confirming does and keeps nothing; a refused change keeps nothing either; what the change costs
grows with the cases it moves, not with the partnership's cases.

Outbox: an administrator sends dead messages again, all or none, and cancels one that waits or gave up
with a reason; a cancelled message is never sent; the pages' search filters and pages in SQL."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from engine import clock
from engine.services import Reviewflow
from engine.services.actor import Actor
from engine.services.calendar import PreviewChanged
from engine.services.errors import Conflict, Forbidden, Invalid
from engine.services.outbox import OutboxFilter
from engine.store.models import AuditEvent, CalendarOverride, Deadline, OutboxMessage, Revision
from tests.conftest import AGENCY, BUSINESS_UNIT, MANAGER, PROCESS_OWNER, ROOT, make_settings
from tests.integration.test_demo_process import INCIDENT, only_task, start_demo
from tests.roundtrips import Statements
from tests.smtp import SmtpServer, free_port

ADMIN = Actor("ada", frozenset({"admin"}))


def _agency_due(service) -> list[str]:
    return sorted(t["due_date"] for t in service.tasks.for_user(AGENCY))


def _recorded(service) -> dict:
    """Everything a calendar change could touch: the overrides, the revision, deadlines, audit rows."""
    with service.db.reading() as session:
        return {
            "overrides": session.execute(select(CalendarOverride.day, CalendarOverride.kind)).all(),
            "revision": session.scalar(select(Revision.value).where(Revision.name == "calendar")),
            "deadlines": session.execute(
                select(Deadline.id, Deadline.status, Deadline.due_date).order_by(Deadline.id)
            ).all(),
            "audit": session.scalar(select(func.count(AuditEvent.id))),
        }


@pytest.fixture
def case(deployed):
    """A case whose agency step (R1) is due 5 England working days after Monday 21 December 2026: Christmas
    Day and the substitute Boxing Day (Monday 28 December, the 26th being a Saturday) are skipped, so
    Wednesday 30 December."""
    started = start_demo(deployed)
    deployed.instances.complete_task(only_task(deployed, BUSINESS_UNIT)["id"], INCIDENT, BUSINESS_UNIT)
    assert _agency_due(deployed) == ["2026-12-30"]
    return started


def test_working_the_substitute_boxing_day_moves_the_deadline_as_previewed(deployed, case):
    before = _recorded(deployed)
    preview = deployed.calendar.preview("2026-12-28", "working", "Office open", ADMIN)
    assert _recorded(deployed) == before  # a preview keeps nothing
    assert deployed.calendar.snapshot().is_working_day(clock.today().replace(day=28)) is False
    assert preview["holiday_name"] == "Boxing Day (observed)"
    assert (preview["working_before"], preview["working_after"]) == (False, True)
    moved = {(m["kind"], m["key"] or m["what"], m["before"], m["after"]) for m in preview["moves"]}
    assert ("deadline", "R1", "2026-12-30", "2026-12-29") in moved
    assert any(m["kind"] == "task" and m["after"] == "2026-12-29" for m in preview["moves"])
    assert {m["case"] for m in preview["moves"]} == {case["business_key"]}  # by case reference

    done = deployed.calendar.change("2026-12-28", "working", "Office open", ADMIN, expected=preview["digest"])
    assert done["moves"] == preview["moves"] and done["digest"] == preview["digest"]
    assert _agency_due(deployed) == ["2026-12-29"]
    view = deployed.queries.get_instance(case["id"], MANAGER)
    assert [d["due_date"] for d in view["deadlines"] if d["key"] == "R1"] == ["2026-12-29"]
    moved_rows = [h for h in view["history"] if h["kind"] == "deadline_moved"]
    assert moved_rows and moved_rows[-1]["actor"] == "ada"
    assert {k: moved_rows[-1]["detail"][k] for k in ("key", "before", "after", "calendar_day")} == {
        "key": "R1",
        "before": "2026-12-30",
        "after": "2026-12-29",
        "calendar_day": "2026-12-28",
    }
    with deployed.db.reading() as session:
        [(actor, detail)] = session.execute(
            select(AuditEvent.actor, AuditEvent.detail).where(AuditEvent.kind == "calendar_changed")
        ).all()
    assert (actor, detail["day"], detail["before"], detail["after"]) == (
        "ada",
        "2026-12-28",
        None,
        {"kind": "working", "note": "Office open"},
    )
    r1 = next(m for m in detail["moved"] if m["key"] == "R1")
    assert (r1["case"], r1["before"], r1["after"]) == (case["business_key"], "2026-12-30", "2026-12-29")

    # removing the override moves it back, previewed the same way
    back = deployed.calendar.preview("2026-12-28", "none", "", ADMIN)
    assert ("deadline", "R1", "2026-12-29", "2026-12-30") in {
        (m["kind"], m["key"] or m["what"], m["before"], m["after"]) for m in back["moves"]
    }
    deployed.calendar.change("2026-12-28", "none", "", ADMIN, expected=back["digest"])
    assert _agency_due(deployed) == ["2026-12-30"] and deployed.calendar.overrides() == []


def test_a_confirmation_whose_moves_changed_since_the_preview_keeps_nothing(deployed, case):
    preview = deployed.calendar.preview("2026-12-29", "holiday", "Office closed", ADMIN)
    deployed.calendar.change("2026-12-28", "working", "Office open", ADMIN)  # meanwhile, another change
    before = _recorded(deployed)
    with pytest.raises(PreviewChanged) as changed:
        deployed.calendar.change("2026-12-29", "holiday", "Office closed", ADMIN, expected=preview["digest"])
    assert _recorded(deployed) == before
    assert changed.value.preview["digest"] != preview["digest"]
    assert ("R1", "2026-12-29", "2026-12-30") in {
        (m["key"], m["before"], m["after"]) for m in changed.value.preview["moves"]
    }


@pytest.mark.parametrize(
    "day, kind, note, who, refused",
    [
        ("2026-02-30", "holiday", "x", ADMIN, Invalid),  # not a date
        ("2026-12-25", "holiday", "x", ADMIN, Invalid),  # Christmas Day is not worked already
        ("2026-12-29", "working", "x", ADMIN, Invalid),  # an ordinary Tuesday is worked already
        ("2026-12-26", "working", "x", ADMIN, Invalid),  # a Saturday cannot be made a working day
        ("2026-12-29", "none", "", ADMIN, Invalid),  # no override to remove
        ("2026-12-29", "sometimes", "x", ADMIN, Invalid),
        ("2026-12-29", "holiday", "x", MANAGER, Forbidden),  # managers look, never change
    ],
)
def test_refused_changes_keep_nothing(deployed, case, day, kind, note, who, refused):
    before = _recorded(deployed)
    with pytest.raises(refused):
        deployed.calendar.preview(day, kind, note, who)
    with pytest.raises(refused):
        deployed.calendar.change(day, kind, note, who)
    assert _recorded(deployed) == before


def test_a_second_override_of_the_same_day_is_refused_by_the_pages_and_replaces_through_the_api(
    deployed, case
):
    deployed.calendar.change("2026-12-29", "holiday", "Office closed", ADMIN)
    before = _recorded(deployed)
    with pytest.raises(Invalid, match="already has an override"):
        deployed.calendar.change("2026-12-29", "holiday", "Again", ADMIN)
    assert _recorded(deployed) == before
    assert (
        deployed.calendar.set_override("2026-12-29", "holiday", "Closed all day", ADMIN)["day"]
        == "2026-12-29"
    )
    assert [o["note"] for o in deployed.calendar.overrides()] == ["Closed all day"]


def test_the_bank_holidays_of_this_year_and_next_are_listed_as_the_engine_counts_them(deployed):
    deployed.calendar.change("2027-12-28", "working", "Worked", ADMIN)
    listing = deployed.calendar.bank_holidays(MANAGER)
    assert listing["years"] == [2026, 2027]
    days = {h["day"]: h for h in listing["holidays"]}
    assert days["2026-12-28"]["name"] == "Boxing Day (observed)" and not days["2026-12-28"]["working"]
    assert days["2027-12-28"]["working"] and days["2027-03-29"]["name"] == "Easter Monday"
    with pytest.raises(Forbidden):
        deployed.calendar.bank_holidays(BUSINESS_UNIT)


def test_a_change_costs_the_same_however_many_cases_it_does_not_move(deployed):
    """A day no open deadline's count crosses opens no case: the statements are the same with one case
    and with four. Measured: a change that moves no case costs 10 statements on SQLite (its BEGIN included)
    and 9 on PostgreSQL (11 round trips), its preview one fewer; each case it moves adds 7 to 8 (the case
    locked, opened and saved with its deadlines and tasks): 3 cases 34 / 33, 4 cases 41 / 40."""

    def cost(day: str) -> int:
        with Statements(deployed.db.engine) as counted:
            deployed.calendar.change(day, "holiday", "Closed", ADMIN)
        return counted.count

    start_demo(deployed)
    one = cost("2027-06-01")
    for _ in range(3):
        start_demo(deployed)
    assert cost("2027-06-02") == one


def _dead_and_pending(database_url, port):
    service = Reviewflow(
        make_settings(
            database_url, REVIEWFLOW_SMTP_URL=f"smtp://127.0.0.1:{port}", REVIEWFLOW_OUTBOX_MAX_ATTEMPTS="1"
        )
    )
    service.deployments.deploy_paths([ROOT / "processes", ROOT / "forms"], PROCESS_OWNER)
    for _ in range(2):
        start_demo(service)
        service.instances.complete_task(only_task(service, BUSINESS_UNIT)["id"], INCIDENT, BUSINESS_UNIT)
    service.outbox.deliver_due()  # the relay is down: both give up at once
    start_demo(service)
    service.instances.complete_task(only_task(service, BUSINESS_UNIT)["id"], INCIDENT, BUSINESS_UNIT)
    return service


def test_requeue_many_and_cancel_with_a_reason_and_a_cancelled_message_is_never_sent(database_url):
    port = free_port()
    service = _dead_and_pending(database_url, port)
    try:
        by_status = {}
        for m in service.outbox.list(MANAGER):
            by_status.setdefault(m["status"], []).append(m["id"])
        assert len(by_status["dead"]) == 2 and len(by_status["pending"]) == 1
        [pending] = by_status["pending"]

        for who, refused in ((MANAGER, Forbidden), (ADMIN, Invalid)):
            with pytest.raises(refused):
                service.outbox.cancel(pending, "" if who is ADMIN else "stop", who)
        with pytest.raises(Forbidden):
            service.outbox.requeue_many(by_status["dead"], MANAGER)
        with pytest.raises(Conflict):  # one of them is not dead: none is sent again
            service.outbox.requeue_many([*by_status["dead"], pending], ADMIN)
        assert sorted(m["id"] for m in service.outbox.list(MANAGER, status="dead")) == sorted(
            by_status["dead"]
        )

        service.outbox.cancel(pending, "Sent by hand to the Panel", ADMIN)
        service.outbox.cancel(by_status["dead"][0], "Address was wrong", ADMIN)
        with pytest.raises(Conflict):
            service.outbox.cancel(pending, "again", ADMIN)
        with pytest.raises(Conflict):  # a cancelled message cannot be sent again either
            service.outbox.requeue_many([by_status["dead"][0]], ADMIN)
        assert service.outbox.requeue_many([by_status["dead"][1]], ADMIN) == 1

        smtp = SmtpServer(port).start()
        try:
            clock.advance(hours=1)
            assert service.outbox.deliver_due() == {"sent": 1, "failed": 0}
            clock.advance(days=2)
            assert service.outbox.deliver_due() == {"sent": 0, "failed": 0}
            assert len(smtp.messages) == 1  # only the one sent again; never a cancelled one
        finally:
            smtp.stop()
        shown = service.outbox.message(ADMIN, pending)
        assert (shown["status"], shown["cancelled_reason"]) == ("cancelled", "Sent by hand to the Panel")
        with service.db.reading() as session:
            cancels = session.scalars(
                select(AuditEvent.detail)
                .where(AuditEvent.kind == "notification_cancelled")
                .order_by(AuditEvent.id)
            ).all()
        assert [(c["outbox_id"], c["before"], c["after"], c["reason"]) for c in cancels] == [
            (pending, "pending", "cancelled", "Sent by hand to the Panel"),
            (by_status["dead"][0], "dead", "cancelled", "Address was wrong"),
        ]
    finally:
        service.db.dispose()


def test_the_outbox_is_searched_and_paged_in_sql_and_a_message_shows_its_headers(database_url):
    service = _dead_and_pending(database_url, free_port())
    try:
        every = service.outbox.search(MANAGER, OutboxFilter())
        assert every["count"] == 3 and every["older"] is None
        first = service.outbox.search(MANAGER, OutboxFilter(), size=2)
        assert len(first["rows"]) == 2 and first["older"] == first["rows"][-1]["id"]
        rest = service.outbox.search(MANAGER, OutboxFilter(), before=first["older"], size=2)
        assert [m["id"] for m in first["rows"] + rest["rows"]] == [m["id"] for m in every["rows"]]
        assert service.outbox.search(MANAGER, OutboxFilter(status="dead"))["count"] == 2
        recipient = every["rows"][0]["recipient"]
        assert service.outbox.search(MANAGER, OutboxFilter(recipient=recipient[2:8].upper()))["count"] == 3
        assert service.outbox.search(MANAGER, OutboxFilter(recipient="100%_"))["count"] == 0
        assert (
            service.outbox.search(MANAGER, OutboxFilter(template=every["rows"][0]["template"]))["count"] >= 1
        )
        today = clock.today()
        assert (
            service.outbox.search(MANAGER, OutboxFilter(created_from=today, created_to=today))["count"] == 3
        )
        assert service.outbox.search(MANAGER, OutboxFilter(created_to=today.replace(day=20)))["count"] == 0
        with pytest.raises(Forbidden):
            service.outbox.search(BUSINESS_UNIT, OutboxFilter())
        m = service.outbox.message(MANAGER, every["rows"][0]["id"])
        headers = dict(m["headers"])
        assert set(headers) == {"From", "To", "Subject", "Message-ID", "Date"}
        assert headers["To"] == m["recipient"] and headers["Message-ID"] == m["message_id"]
        assert headers["Date"] is None and m["body"]  # not sent yet: the date is set when it is
        with service.db.reading() as session:
            assert session.scalar(select(func.count(OutboxMessage.id))) == 3
    finally:
        service.db.dispose()
