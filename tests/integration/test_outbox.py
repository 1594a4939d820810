"""The outbox keeps retrying while the SMTP server is down and delivers once it is back, exactly once."""

from __future__ import annotations

import signal

import pytest

from engine import clock
from engine.services import Reviewflow
from engine.services.actor import SYSTEM
from engine.services.errors import BadRequest, Forbidden
from tests import mailflow
from tests.conftest import BUSINESS_UNIT, MANAGER, PROCESS_OWNER, ROOT, make_settings
from tests.integration.test_demo_process import INCIDENT, only_task, start_demo
from tests.smtp import SilentRelay, SmtpServer, free_port


def test_retries_with_backoff_then_delivers_once(database_url):
    port = free_port()
    service = Reviewflow(make_settings(database_url, REVIEWFLOW_SMTP_URL=f"smtp://127.0.0.1:{port}"))
    service.deployments.deploy_paths([ROOT / "processes", ROOT / "forms"], PROCESS_OWNER)
    start_demo(service)
    service.instances.complete_task(only_task(service, BUSINESS_UNIT)["id"], INCIDENT, BUSINESS_UNIT)

    assert service.outbox.deliver_due() == {"sent": 0, "failed": 1}  # server down
    [m] = service.outbox.list(MANAGER)
    assert (m["status"], m["attempts"]) == ("pending", 1) and "Connection" in m["last_error"]
    assert service.outbox.deliver_due() == {"sent": 0, "failed": 0}  # backing off: not due yet
    clock.advance(minutes=1, seconds=1)
    assert service.outbox.deliver_due() == {"sent": 0, "failed": 1}
    [m] = service.outbox.list(MANAGER)
    assert m["attempts"] == 2

    smtp = SmtpServer(port).start()
    try:
        clock.advance(minutes=2, seconds=1)
        assert service.outbox.deliver_due() == {"sent": 1, "failed": 0}
        clock.advance(hours=1)
        assert service.outbox.deliver_due() == {"sent": 0, "failed": 0}  # never sent twice
        assert len(smtp.messages) == 1
        [m] = service.outbox.list(MANAGER)
        assert (m["status"], m["attempts"]) == ("sent", 2)  # attempts count failures: two
        assert smtp.messages[0]["Message-ID"] == m["message_id"]
    finally:
        smtp.stop()


def test_without_smtp_url_messages_wait_in_the_outbox(deployed):
    start_demo(deployed)
    deployed.instances.complete_task(only_task(deployed, BUSINESS_UNIT)["id"], INCIDENT, BUSINESS_UNIT)
    assert deployed.outbox.deliver_due()["sent"] == 0
    assert [m["status"] for m in deployed.outbox.list(MANAGER)] == ["pending"]


def test_a_message_that_gave_up_is_kept_and_can_be_sent_again(database_url):
    port = free_port()
    service = Reviewflow(
        make_settings(
            database_url, REVIEWFLOW_SMTP_URL=f"smtp://127.0.0.1:{port}", REVIEWFLOW_OUTBOX_MAX_ATTEMPTS="2"
        )
    )
    service.deployments.deploy_paths([ROOT / "processes", ROOT / "forms"], PROCESS_OWNER)
    start_demo(service)
    service.instances.complete_task(only_task(service, BUSINESS_UNIT)["id"], INCIDENT, BUSINESS_UNIT)
    service.outbox.deliver_due()
    clock.advance(minutes=5)
    service.outbox.deliver_due()
    [m] = service.outbox.list(MANAGER)
    assert (m["status"], m["attempts"]) == ("dead", 2)
    smtp = SmtpServer(port).start()
    try:
        with pytest.raises(Forbidden):  # a manager reads the outbox; only an administrator sends again
            service.outbox.requeue(m["id"], MANAGER)
        service.outbox.requeue(m["id"], SYSTEM)
        assert service.outbox.deliver_due() == {"sent": 1, "failed": 0}
        assert len(smtp.messages) == 1
    finally:
        smtp.stop()


# --- issue 8: a safe outbox -------------------------------------------------------------------------------


def _bad_and_good(service) -> tuple[dict, list[int]]:
    """Cases queueing e-mails that cannot be addressed or carry a line break, then good ones after them."""
    mailflow.deploy(
        service,
        mail={
            "crlf_recipient": mailflow.mail_script(r"panel@example.org\r\nBcc: spy@evil.example", "SR-1"),
            "odd_recipient": mailflow.mail_script("panel@@example.org", "SR-2"),
            "crlf_reference": mailflow.mail_script(mailflow.GOOD_RECIPIENT, r"SR-3\r\nBcc: spy@evil.example"),
            "good_mail": mailflow.mail_script(mailflow.GOOD_RECIPIENT, "SR-4"),
        },
    )
    bad = {
        pid: mailflow.queue(service, pid)[0] for pid in ("crlf_recipient", "odd_recipient", "crlf_reference")
    }
    return bad, mailflow.queue(service, "good_mail", 3)


def _by_case(service) -> dict[int, dict]:
    return {m["instance_id"]: m for m in service.outbox.list(MANAGER)}


def test_a_message_that_cannot_be_built_is_dead_at_once_and_blocks_no_other(database_url):
    smtp = SmtpServer().start()
    service = Reviewflow(make_settings(database_url, REVIEWFLOW_SMTP_URL=smtp.url))
    try:
        bad, good = _bad_and_good(service)
        assert service.outbox.deliver_due() == {"sent": 4, "failed": 2}

        messages = _by_case(service)
        for pid in ("crlf_recipient", "odd_recipient"):
            m = messages[bad[pid]]
            assert (m["status"], m["attempts"], m["next_attempt_at"]) == ("dead", 1, None)
            assert "not a valid e-mail address" in m["last_error"]
            failed = [
                h
                for h in service.queries.get_instance(bad[pid], MANAGER)["history"]
                if h["kind"] == "notification_failed"
            ]
            assert len(failed) == 1 and "not a valid e-mail address" in failed[0]["detail"]["error"]
        for iid in [bad["crlf_reference"], *good]:
            assert (messages[iid]["status"], messages[iid]["attempts"]) == ("sent", 0)

        # the line break in the reference never became a header of its own
        assert len(smtp.messages) == 4
        assert all(e["Bcc"] is None and e["To"] == mailflow.GOOD_RECIPIENT for e in smtp.messages)
        subjects = sorted(str(e["Subject"]) for e in smtp.messages)
        assert "Serious incident notification SR-3 Bcc: spy@evil.example" in subjects

        clock.advance(hours=12)
        assert service.outbox.deliver_due() == {"sent": 0, "failed": 0}  # dead stays dead, nothing blocked
    finally:
        smtp.stop()
        service.db.dispose()


def test_attempts_count_failed_attempts_and_the_listing_filters_by_every_status(database_url):
    smtp = SmtpServer().start()
    service = Reviewflow(make_settings(database_url, REVIEWFLOW_SMTP_URL=smtp.url))
    try:
        mailflow.deploy_good_mail(service)
        mailflow.queue(service)
        assert service.outbox.deliver_due() == {"sent": 1, "failed": 0}
        [m] = service.outbox.list(MANAGER, status="sent")
        assert m["attempts"] == 0
        for status in ("pending", "sending", "dead"):
            assert service.outbox.list(MANAGER, status=status) == []
        with pytest.raises(BadRequest):
            service.outbox.list(MANAGER, status="lost\x00")
    finally:
        smtp.stop()
        service.db.dispose()


def test_a_killed_worker_repeats_at_most_the_message_in_flight_and_its_lease_is_reclaimed(database_url):
    """A worker killed during an SMTP exchange holds only that message; once its lease runs out (on real
    time, the product's clock fixed and even set back a day) another worker sends it, same Message-ID."""
    service = Reviewflow(make_settings(database_url))
    mailflow.deploy_good_mail(service)
    cases = mailflow.queue(service, count=5)
    relay = SilentRelay().start()
    worker = mailflow.WorkerProcess(
        database_url,
        "--interval",
        "0.2",
        REVIEWFLOW_SMTP_URL=relay.url,
        REVIEWFLOW_SMTP_TIMEOUT_SECONDS="60",
        REVIEWFLOW_OUTBOX_LEASE_SECONDS="2",
    )
    smtp = SmtpServer().start()
    try:
        assert relay.connected.wait(30), worker.stderr
        worker.signal(signal.SIGKILL)
        worker.wait(10)

        in_flight = service.outbox.list(MANAGER, status="sending")
        assert len(in_flight) == 1 and in_flight[0]["lease_owner"]
        survivor = Reviewflow(
            make_settings(database_url, REVIEWFLOW_SMTP_URL=smtp.url, REVIEWFLOW_OUTBOX_LEASE_SECONDS="2")
        )
        assert survivor.outbox.deliver_due() == {"sent": 4, "failed": 0}  # nothing else was held

        clock.advance(days=-1)
        reclaimed = mailflow.wait_until(lambda: survivor.outbox.deliver_due()["sent"], timeout=20, step=0.2)
        assert reclaimed == 1

        rows = _by_case(service)
        assert sorted(rows) == sorted(cases) and {m["status"] for m in rows.values()} == {"sent"}
        again = rows[in_flight[0]["instance_id"]]
        assert again["attempts"] == 1 and again["message_id"] == in_flight[0]["message_id"]
        received = sorted(e["Message-ID"] for e in smtp.messages)
        assert received == sorted(m["message_id"] for m in rows.values())  # each once, none twice
        assert all(m["attempts"] == 0 for iid, m in rows.items() if iid != again["instance_id"])
        survivor.db.dispose()
    finally:
        worker.stop()
        relay.stop()
        smtp.stop()
        service.db.dispose()


def test_a_message_the_relay_accepted_is_recorded_before_the_goodbye(database_url):
    """The duplicate window closes when the relay says 250, not after QUIT: while a relay that took the
    message has not yet answered QUIT, the message already stands as sent, once, with no failed attempt (issue
    8, finding 3: a worker killed then cannot send it again)."""
    import threading
    import time

    smtp = SmtpServer(hang_on_quit=True).start()
    try:
        service = Reviewflow(
            make_settings(database_url, REVIEWFLOW_SMTP_URL=smtp.url, REVIEWFLOW_SMTP_TIMEOUT_SECONDS="20")
        )
        service.deployments.deploy_paths([ROOT / "processes", ROOT / "forms"], PROCESS_OWNER)
        start_demo(service)
        service.instances.complete_task(only_task(service, BUSINESS_UNIT)["id"], INCIDENT, BUSINESS_UNIT)
        sending = threading.Thread(target=service.outbox.deliver_due, daemon=True)
        sending.start()
        assert smtp.wait_for_data(10)
        deadline = time.monotonic() + 10
        while service.outbox.list(MANAGER)[0]["status"] != "sent" and time.monotonic() < deadline:
            time.sleep(0.05)
        assert sending.is_alive()  # still waiting for the goodbye
        [m] = service.outbox.list(MANAGER)
        assert (m["status"], m["attempts"], m["last_error"]) == ("sent", 0, None)
        history = service.queries.get_instance(m["instance_id"], MANAGER)["history"]
        assert [
            (h["detail"]["recipient"], h["detail"]["attempts"])
            for h in history
            if h["kind"] == "notification_sent"
        ] == [(m["recipient"], 0)]  # audited in the same step
        smtp.recorder.hang_on_quit = False
        sending.join(10)
        assert len(smtp.messages) == 1
    finally:
        smtp.stop()
