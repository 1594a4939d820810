"""The worker (issue 8, findings 1, 3 and 4): timers and the outbox run in two supervised loops, so a hung
SMTP relay cannot hold back a due timer and a failing pass of one loop stops neither; SIGTERM finishes the
e-mail in hand, holds on to nothing else and exits 0. Each runs ``reviewflow worker`` (or ``serve``) as a
real process against a real SMTP server, or a relay that accepts and never answers, on loopback.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import sys
import time

import pytest

from engine import clock
from engine import worker as workers
from engine.services import Reviewflow
from engine.services.errors import ServiceError
from tests import mailflow
from tests.conftest import MANAGER, make_settings
from tests.smtp import SilentRelay, SmtpServer, free_port

INTERVAL = 1.0


def _status(service, iid: int) -> str:
    return service.queries.get_instance(iid, MANAGER)["status"]


def test_sigterm_finishes_the_message_in_hand_releases_the_rest_and_exits_0(database_url):
    service = Reviewflow(make_settings(database_url))
    mailflow.deploy_good_mail(service)
    mailflow.queue(service, count=5)
    smtp = SmtpServer(hold=True).start()
    worker = mailflow.WorkerProcess(database_url, "--interval", "0.2", REVIEWFLOW_SMTP_URL=smtp.url)
    try:
        assert smtp.wait_for_data(30), worker.stderr  # one e-mail is in the middle of its exchange
        worker.signal(signal.SIGTERM)
        assert worker.saw("stopping", 10), worker.stderr
        smtp.release()
        assert worker.wait(30) == 0, worker.stderr

        assert len(smtp.messages) == 1
        messages = service.outbox.list(MANAGER)
        assert sorted(m["status"] for m in messages) == ["pending"] * 4 + ["sent"]
        assert all(m["attempts"] == 0 and m["lease_owner"] is None for m in messages)
        sent = [m["message_id"] for m in messages if m["status"] == "sent"]
        assert sent == [smtp.messages[0]["Message-ID"]]
    finally:
        worker.stop()
        smtp.stop()
        service.db.dispose()


@pytest.mark.parametrize("command", ["worker", "serve"])
def test_a_hung_relay_delays_no_timer_by_more_than_one_sweep(database_url, command):
    service = Reviewflow(make_settings(database_url))
    mailflow.deploy(
        service,
        mail={"good_mail": mailflow.mail_script(mailflow.GOOD_RECIPIENT, "SR-1")},
        wait={"escalate": "escalated = True"},
    )
    mailflow.queue(service, count=3)
    relay = SilentRelay().start()
    args = ["--interval", str(INTERVAL)] + (["--port", str(free_port())] if command == "serve" else [])
    worker = mailflow.WorkerProcess(
        database_url,
        *args,
        command=command,
        REVIEWFLOW_SMTP_URL=relay.url,
        REVIEWFLOW_SMTP_TIMEOUT_SECONDS="30",
    )
    try:
        assert relay.connected.wait(30), worker.stderr  # the outbox now waits on the relay
        case = mailflow.start_waiting(service, "escalate")
        began = time.monotonic()
        assert mailflow.wait_until(lambda: _status(service, case) == "completed", timeout=15), worker.stderr
        assert time.monotonic() - began <= INTERVAL + 1.5
    finally:
        worker.stop()
        relay.stop()
        service.db.dispose()


def test_poison_cases_in_the_timer_sweep_stop_neither_the_worker_nor_its_e_mails(database_url):
    service = Reviewflow(make_settings(database_url))
    mailflow.deploy(
        service,
        mail={"good_mail": mailflow.mail_script(mailflow.GOOD_RECIPIENT, "SR-1")},
        wait={"exits": "raise SystemExit(3)"},  # ends the interpreter
        then_wait={"nests": "deep = []\nfor i in range(500):\n    deep = [deep]"},
    )  # cannot load
    for start in (lambda: mailflow.start_waiting(service, "exits"), lambda: mailflow.queue(service, "nests")):
        with contextlib.suppress(ServiceError):  # refused at the door: fine too
            start()
    clock.advance(hours=2)  # both poisons are due, swept first every pass
    mailflow.queue(service, count=2)
    smtp = SmtpServer().start()
    worker = mailflow.WorkerProcess(database_url, "--interval", "0.2", REVIEWFLOW_SMTP_URL=smtp.url)
    try:
        assert mailflow.wait_until(lambda: len(smtp.messages) == 2, timeout=20), worker.stderr
        time.sleep(1.0)  # several more passes of both loops
        assert worker.proc.poll() is None, worker.stderr
        worker.signal(signal.SIGTERM)
        assert worker.wait(30) == 0, worker.stderr
    finally:
        worker.stop()
        smtp.stop()
        service.db.dispose()


def test_a_broken_setting_fails_the_outbox_passes_not_the_timers(database_url, caplog):
    """Every failed pass is logged with its traceback (the exception's message withheld: it may quote a
    case) and the loops go on."""
    service = Reviewflow(make_settings(database_url, REVIEWFLOW_SMTP_URL="smtp://"))  # no host
    mailflow.deploy(
        service,
        mail={"good_mail": mailflow.mail_script(mailflow.GOOD_RECIPIENT, "SR-1")},
        wait={"escalate": "escalated = True"},
    )
    mailflow.queue(service)
    caplog.set_level(logging.INFO, logger="reviewflow.worker")
    worker = workers.Worker(service, interval=0.1)
    worker.start()
    try:
        assert mailflow.wait_until(
            lambda: sum(r.levelno == logging.ERROR for r in caplog.records) >= 2, timeout=10
        )
        case = mailflow.start_waiting(service, "escalate")
        assert mailflow.wait_until(lambda: _status(service, case) == "completed", timeout=10)
    finally:
        worker.shutdown()
        service.db.dispose()
    failures = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert {r.loop for r in failures} == {"outbox"}
    assert "SmtpUrlError" in failures[0].getMessage() and "deliver_due" in failures[0].getMessage()
    [m] = service.outbox.list(MANAGER)
    assert (m["status"], m["attempts"]) == ("pending", 0)  # a broken setting touches no message


def test_a_supervised_loop_survives_system_exit_and_logs_no_case_data(caplog):
    passes = []

    child = {"name": "Jane Doe"}

    def job():
        passes.append(1)
        if len(passes) <= 2:
            raise SystemExit(child["name"])
        return False

    caplog.set_level(logging.INFO, logger="reviewflow.worker")
    loop = workers.SupervisedLoop("timers", job, interval=0.01)
    loop.start()
    try:
        assert mailflow.wait_until(lambda: len(passes) >= 4, timeout=10)
    finally:
        loop.stop()
    failures = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(failures) == 2 and all(r.loop == "timers" for r in failures)
    text = failures[0].getMessage()
    assert "SystemExit" in text and "in job" in text and "Jane Doe" not in text


def test_a_worker_starting_on_a_current_schema_reads_its_revision_and_loads_no_migrations(database_url):
    """A restarted worker (a container brought back, a crash) costs its imports and one query, not the
    migration machinery: restarts under load are what stretch the window of a duplicate e-mail."""
    Reviewflow(make_settings(database_url)).db.dispose()  # the schema is made, and current
    probe = (
        "import sys\nfrom engine.services import Reviewflow\nReviewflow()\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'alembic', 'mako', 'pygments'}))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "REVIEWFLOW_DATABASE_URL": database_url},
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
