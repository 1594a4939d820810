"""New-task e-mails: queued in the command's own transaction to the people who hold a new task's role (an
agency's request: only that agency's people), or to the person a task is given to; never to someone
without an address, disabled or opted out; once per person per task; with only the case reference, the
step, its due date and a link, never the child's name."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text

from engine.services.actor import Actor
from engine.store.models import AuditEvent, OutboxMessage
from tests.conftest import BUSINESS_UNIT, MANAGER, PROCESS_OWNER, make_settings
from tests.integration.test_agency_requests import FORM, PROCESS
from tests.layout import with_layout

ADMIN = Actor("ada", frozenset({"admin"}))
CHILD = {"name": "Jamie Lee Example", "date_of_birth": "2015-04-02"}


def _people(service) -> None:
    service.users.add("pc", ["Agency: Police"], email="pc@police.example.org")
    service.users.add("pc2", ["Agency: Police"], email="pc2@police.example.org")
    service.users.add("pc-quiet", ["Agency: Police"], email="quiet@police.example.org")
    service.users.set_email_settings("pc-quiet", new_task_emails=False, actor="pc-quiet")
    service.users.add("pc-none", ["Agency: Police"])  # no address
    service.users.add("pc-gone", ["Agency: Police"], email="gone@police.example.org")
    service.users.set_active("pc-gone", False)
    service.users.add("hv", ["Agency: Health"], email="hv@health.example.org")
    service.users.add("bina", ["Business Unit"], email="bina@example.org")


def _start(service, agencies: list[str]) -> dict:
    service.deployments.deploy(
        {"agency_requests.bpmn": with_layout(PROCESS), "test_return.json": FORM}, PROCESS_OWNER
    )
    return service.instances.start(
        "agency_requests", {"agencies": agencies, "children": [CHILD], "reason": "Neglect"}, BUSINESS_UNIT
    )


def _audit(service, kind: str) -> list[tuple]:
    """Who did ``kind``, on which case, with what detail, in order."""
    with service.db.reading() as session:
        stmt = select(AuditEvent.actor, AuditEvent.instance_id, AuditEvent.detail).where(
            AuditEvent.kind == kind
        )
        return [tuple(row) for row in session.execute(stmt.order_by(AuditEvent.id))]


def _new_task_mail(service) -> list[dict]:
    """The new-task messages in the outbox, by recipient."""
    with service.db.reading() as session:
        rows = session.scalars(select(OutboxMessage).where(OutboxMessage.template == "new_task"))
        return sorted(
            (
                {"recipient": m.recipient, "subject": m.subject, "body": m.body, "message_id": m.message_id}
                for m in rows
            ),
            key=lambda m: m["recipient"],
        )


def test_each_agency_s_reachable_people_are_told_of_its_own_request_only(service):
    _people(service)
    started = _start(service, ["Police", "Health"])
    mail = _new_task_mail(service)
    assert [m["recipient"] for m in mail] == [
        "hv@health.example.org",
        "pc2@police.example.org",
        "pc@police.example.org",
    ]
    police = next(m for m in mail if m["recipient"] == "pc@police.example.org")
    assert police["subject"] == f"New task: Return agency information ({started['business_key']})"
    assert "Task: Return agency information" in police["body"]
    assert "Sign in to reviewflow" in police["body"]  # no base URL set: no link
    assert len({m["message_id"] for m in mail}) == 3
    for m in mail:  # nothing of the child or the case beyond its reference
        for secret in ("Jamie", "Example", "2015", "Neglect"):
            assert secret not in m["subject"] and secret not in m["body"]
    queued = _audit(service, "notification_queued")
    assert sorted(detail["recipient"] for _, _, detail in queued) == [m["recipient"] for m in mail]
    assert {(actor, case, detail["template"]) for actor, case, detail in queued} == {
        (BUSINESS_UNIT.username, started["id"], "new_task")
    }


def test_the_link_leads_to_the_task_at_the_service_s_address(database_url):
    from engine.services import Reviewflow

    service = Reviewflow(make_settings(database_url, REVIEWFLOW_BASE_URL="https://reviews.example.org/"))
    try:
        service.users.add("pc", ["Agency: Police"], email="pc@police.example.org")
        _start(service, ["Police"])
        [task] = service.tasks.for_user(Actor("pc", frozenset({"Agency: Police"})))
        [mail] = _new_task_mail(service)
        assert f"Open the task: https://reviews.example.org/tasks/{task['id']}\n" in mail["body"]
    finally:
        service.db.dispose()


def test_a_task_given_to_someone_tells_them_once(service):
    _people(service)
    service.users.add("pc3", ["Agency: Police"], email="pc3@police.example.org")
    service.users.set_email_settings("pc3", new_task_emails=False, actor="pc3")
    _start(service, ["Police"])
    [task] = service.tasks.for_user(Actor("pc", frozenset({"Agency: Police"})))
    before = len(_new_task_mail(service))
    service.users.set_email_settings("pc3", new_task_emails=True, actor="pc3")
    service.tasks.reassign(task["id"], MANAGER, "pc3")
    assert [m["recipient"] for m in _new_task_mail(service)].count("pc3@police.example.org") == 1
    service.tasks.reassign(task["id"], MANAGER, "pc")  # pc was told when it was created
    service.tasks.reassign(task["id"], MANAGER, "pc3")  # and pc3 when first given it
    assert len(_new_task_mail(service)) == before + 1


def test_claiming_a_task_or_opting_out_sends_nothing(service):
    _people(service)
    _start(service, ["Police"])
    before = len(_new_task_mail(service))
    [task] = service.tasks.for_user(Actor("pc-none", frozenset({"Agency: Police"})))
    service.tasks.claim(task["id"], Actor("pc-none", frozenset({"Agency: Police"})))
    service.tasks.reassign(task["id"], MANAGER, "pc-quiet")  # opted out
    assert len(_new_task_mail(service)) == before


def test_opting_out_is_audited_and_stops_the_e_mails(service):
    _people(service)
    result = service.users.set_email_settings("pc", new_task_emails=False, actor="pc")
    assert result == {
        "email": "pc@police.example.org",
        "new_task_emails": False,
        "changed": ["new_task_emails"],
    }
    _start(service, ["Police"])
    assert [m["recipient"] for m in _new_task_mail(service)] == ["pc2@police.example.org"]
    events = _audit(service, "email_settings_changed")
    assert events == [
        ("pc-quiet", None, {"username": "pc-quiet", "new_task_emails": False}),
        ("pc", None, {"username": "pc", "new_task_emails": False}),
    ]


def test_the_worker_delivers_it_through_a_real_smtp_server(database_url):
    import signal

    from engine.services import Reviewflow
    from tests import mailflow
    from tests.smtp import SmtpServer

    base = {"REVIEWFLOW_BASE_URL": "https://reviews.example.org"}
    service = Reviewflow(make_settings(database_url, **base))
    smtp = SmtpServer().start()
    worker = None
    try:
        service.users.add("pc", ["Agency: Police"], email="pc@police.example.org")
        started = _start(service, ["Police"])
        [queued] = _new_task_mail(service)
        worker = mailflow.WorkerProcess(
            database_url, "--interval", "0.2", REVIEWFLOW_SMTP_URL=smtp.url, **base
        )
        assert mailflow.wait_until(lambda: smtp.messages, 30), worker.stderr
        worker.signal(signal.SIGTERM)
        assert worker.wait(30) == 0, worker.stderr
        [email] = smtp.messages
        assert (email["To"], email["Subject"], email["Message-ID"]) == (
            "pc@police.example.org",
            f"New task: Return agency information ({started['business_key']})",
            queued["message_id"],
        )
        body = email.get_payload(decode=True).decode()
        assert "https://reviews.example.org/tasks/" in body and "Jamie" not in body
        assert [m["status"] for m in service.outbox.list(MANAGER)] == ["sent"]
    finally:
        if worker is not None:
            worker.stop()
        smtp.stop()
        service.db.dispose()


def test_a_step_name_wrapped_on_the_diagram_or_very_long_still_makes_one_subject_line(service):
    service.users.add("pc", ["Agency: Police"], email="pc@police.example.org")
    long_name = ("Return agency&#10;information " + "about the incident " * 16)[:250]  # the lint allows 255
    process = PROCESS.replace(b'name="Return agency information"', f'name="{long_name}"'.encode())
    form_named = b'<spiffworkflow:property name="formJsonSchemaFilename" value="test_return.json"/>'
    why = b'<spiffworkflow:property name="formTitleDiffers" value="a long name, to test the subject line"/>'
    process = process.replace(form_named, form_named + why)
    service.deployments.deploy(
        {"agency_requests.bpmn": with_layout(process), "test_return.json": FORM}, PROCESS_OWNER
    )
    service.instances.start("agency_requests", {"agencies": ["Police"]}, BUSINESS_UNIT)
    [mail] = _new_task_mail(service)
    assert mail["subject"].startswith("New task: Return agency information about the incident about")
    assert len(mail["subject"]) == 255 and "\n" not in mail["subject"]
    assert "Task: Return agency information about the incident" in mail["body"]


def _told_of_each_step(service) -> dict[str, list[str]]:
    """Who was e-mailed about each step, by the step's name."""
    told: dict[str, list[str]] = {}
    for m in _new_task_mail(service):
        step = m["subject"].removeprefix("New task: ").rsplit(" (", 1)[0]
        told.setdefault(step, []).append(m["recipient"])
    return {step: sorted(people) for step, people in told.items()}


def test_people_changed_between_two_steps_are_e_mailed_as_they_now_are(service):
    from tests.bench.common import OWNER, STAFF, STEP, bench_files

    service.deployments.deploy(bench_files(), OWNER)
    service.users.add("sam", ["Staff"], email="sam@example.org")
    case = service.instances.start("bench_reference", {"steps_done": 0}, STAFF)

    def next_step():
        [task] = [t for t in service.tasks.for_user(STAFF) if t["instance_id"] == case["id"]]
        service.instances.complete_task(task["id"], STEP, STAFF)

    next_step()  # step 2: as before
    service.users.add("kit", ["Staff"], email="kit@example.org")
    next_step()  # step 3: someone new
    service.users.set_active("sam", False)
    next_step()  # step 4: someone gone
    service.users.set_email_settings("kit", email="kit.new@example.org", actor="kit")
    next_step()  # step 5: a new address
    service.people.set_roles("kit", ["manager"], None, ADMIN)
    next_step()  # step 6: a role taken away
    service.people.set_roles("kit", ["Staff"], None, ADMIN)
    service.users.set_email_settings("kit", new_task_emails=False, actor="kit")
    next_step()  # step 7: opted out
    assert _told_of_each_step(service) == {
        "Review step 1": ["sam@example.org"],
        "Review step 2": ["sam@example.org"],
        "Review step 3": ["kit@example.org", "sam@example.org"],
        "Review step 4": ["kit@example.org"],
        "Review step 5": ["kit.new@example.org"],
    }


@pytest.mark.parametrize(
    "change",
    [
        "INSERT INTO app_user (username, display_name, active, created_at) "
        "VALUES ('new', 'New', true, '2026-01-01')",
        "UPDATE app_user SET email = 'other@example.org' WHERE username = 'sam'",
        "UPDATE app_user SET active = false WHERE username = 'sam'",
        "UPDATE app_user SET new_task_emails = false WHERE username = 'sam'",
        "INSERT INTO user_role (user_id, role) "
        "SELECT id, 'Agency: Health' FROM app_user WHERE username = 'sam'",
        "UPDATE user_role SET role = 'Agency: Health' WHERE role = 'Staff'",
        "DELETE FROM user_role WHERE role = 'Staff'",
        "DELETE FROM app_user WHERE username = 'left'",
    ],
)
def test_any_change_to_who_can_be_e_mailed_moves_the_people_s_revision_however_it_is_made(service, change):
    """A repair made by hand in the database is seen as surely as a change made on the pages."""
    service.users.add("sam", ["Staff"], email="sam@example.org")
    with service.db.transaction() as session:  # someone who has left, holding no role any more
        session.execute(
            text(
                "INSERT INTO app_user (username, display_name, active, created_at) "
                "VALUES ('left', 'Left', false, '2025-01-01')"
            )
        )
    before = _people_revision(service)
    with service.db.transaction() as session:
        session.execute(text(change))
    assert _people_revision(service) > before


def test_a_change_that_decides_nothing_about_e_mail_leaves_the_people_s_revision(service):
    service.users.add("sam", ["Staff"], email="sam@example.org")
    before = _people_revision(service)
    service.users.set_password("sam", "a long and unusual passphrase 42")
    with service.db.transaction() as session:
        session.execute(text("UPDATE app_user SET display_name = 'Sam P' WHERE username = 'sam'"))
    assert _people_revision(service) == before


def _people_revision(service) -> int:
    from engine.services.core import PEOPLE_REVISION

    with service.db.reading() as session:
        return session.scalar(PEOPLE_REVISION)
