"""The outbox keeps retrying while the SMTP server is down and delivers once it is back, exactly once."""
from __future__ import annotations

from engine import clock
from engine.services import Reviewflow
from tests.conftest import BUSINESS_UNIT, MANAGER, PROCESS_OWNER, ROOT, make_settings
from tests.integration.test_demo_process import INCIDENT, only_task, start_demo
from tests.smtp import SmtpServer, free_port


def test_retries_with_backoff_then_delivers_once(database_url):
    port = free_port()
    service = Reviewflow(make_settings(database_url, REVIEWFLOW_SMTP_URL=f"smtp://127.0.0.1:{port}"))
    service.deployments.deploy_paths([ROOT / "processes", ROOT / "forms"], PROCESS_OWNER)
    start_demo(service)
    service.instances.complete_task(only_task(service, BUSINESS_UNIT)["id"], INCIDENT, BUSINESS_UNIT)

    assert service.outbox.deliver_due() == {"sent": 0, "failed": 1}       # server down
    [m] = service.outbox.list(MANAGER)
    assert (m["status"], m["attempts"]) == ("pending", 1) and "Connection" in m["last_error"]
    assert service.outbox.deliver_due() == {"sent": 0, "failed": 0}       # backing off: not due yet
    clock.advance(minutes=1, seconds=1)
    assert service.outbox.deliver_due() == {"sent": 0, "failed": 1}
    [m] = service.outbox.list(MANAGER)
    assert m["attempts"] == 2

    smtp = SmtpServer(port).start()
    try:
        clock.advance(minutes=2, seconds=1)
        assert service.outbox.deliver_due() == {"sent": 1, "failed": 0}
        clock.advance(hours=1)
        assert service.outbox.deliver_due() == {"sent": 0, "failed": 0}   # never sent twice
        assert len(smtp.messages) == 1
        [m] = service.outbox.list(MANAGER)
        assert (m["status"], m["attempts"]) == ("sent", 3)
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
    service = Reviewflow(make_settings(database_url, REVIEWFLOW_SMTP_URL=f"smtp://127.0.0.1:{port}",
                                       REVIEWFLOW_OUTBOX_MAX_ATTEMPTS="2"))
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
        service.outbox.requeue(m["id"], MANAGER)
        assert service.outbox.deliver_due() == {"sent": 1, "failed": 0}
        assert len(smtp.messages) == 1
    finally:
        smtp.stop()
