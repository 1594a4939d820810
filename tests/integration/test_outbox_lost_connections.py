"""An e-mail the relay took is recorded at once even when the worker's database connection was lost: a worker
that dies between the relay's 250 and that record sends the e-mail a second time, so after the 250 the worker
sends the one statement that records it, and nothing else (PostgreSQL, where a pooled connection can be
closed by the server while it waits: a restart, a failover, an administrator's pg_terminate_backend).

Each test terminates real server processes from a second connection at a chosen moment and counts the
statements the worker sent after the relay's 250."""

from __future__ import annotations

import threading
import uuid

import psycopg
import pytest
from sqlalchemy import event

from engine.services import Reviewflow
from tests.conftest import (
    BUSINESS_UNIT,
    MANAGER,
    POSTGRES_URL,
    PROCESS_OWNER,
    ROOT,
    _drop_schema,
    _postgres_schema_url,
    make_settings,
)
from tests.integration.test_demo_process import INCIDENT, only_task, start_demo
from tests.smtp import SmtpServer

pytestmark = pytest.mark.postgres
RECORD = "WITH m AS ( UPDATE outbox_message"  # the one statement that records a sent message


@pytest.fixture
def relay():
    smtp = SmtpServer(hold=True).start()
    yield smtp
    smtp.stop()


@pytest.fixture
def queued(relay):
    """A service whose outbox holds one message for ``relay``, its connections named for terminating."""
    if not POSTGRES_URL:
        pytest.skip("REVIEWFLOW_TEST_POSTGRES_URL is not set")
    schema, name = "t_" + uuid.uuid4().hex[:12], "rf_" + uuid.uuid4().hex[:12]
    url = _postgres_schema_url(POSTGRES_URL, schema) + f"&application_name={name}"
    service = Reviewflow(make_settings(url, REVIEWFLOW_SMTP_URL=relay.url))
    service.deployments.deploy_paths([ROOT / "processes", ROOT / "forms"], PROCESS_OWNER)
    start_demo(service)
    service.instances.complete_task(only_task(service, BUSINESS_UNIT)["id"], INCIDENT, BUSINESS_UNIT)
    yield service, name
    service.db.dispose()
    _drop_schema(POSTGRES_URL, schema)


def terminate(pids=None, application_name=None) -> int:
    """End the server processes ``pids``, or every one of ``application_name``; how many ended."""
    with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
        if pids is None:
            pids = [
                row[0]
                for row in admin.execute(
                    "SELECT pid FROM pg_stat_activity WHERE application_name = %s", (application_name,)
                )
            ]
        ended = [admin.execute("SELECT pg_terminate_backend(%s, 5000)", (p,)).fetchone()[0] for p in pids]
    return sum(ended)


class AfterTheRelayTookIt:
    """The statements ``service`` sends from the moment ``relay`` accepted a message (its 250 follows at once)
    until one has recorded it: the moments in which a worker's death would send it twice."""

    def __init__(self, service, relay):
        self.engine, self.relay, self.statements, self.recorded = service.db.engine, relay, [], False
        event.listen(self.engine, "before_cursor_execute", self.before)
        event.listen(self.engine, "after_cursor_execute", self.after)

    def before(self, conn, cursor, statement, parameters, context, executemany):
        if self.relay.messages and not self.recorded:
            self.statements.append(" ".join(statement.split()[:6]))

    def after(self, conn, cursor, statement, parameters, context, executemany):
        if self.relay.messages and " ".join(statement.split()[:6]) == RECORD:
            self.recorded = True

    def remove(self):
        event.remove(self.engine, "before_cursor_execute", self.before)
        event.remove(self.engine, "after_cursor_execute", self.after)


def deliver_while(service, relay, at_data) -> dict:
    """Deliver the outbox; when the relay has the message's content, before its 250, call ``at_data``."""
    result = {}
    sending = threading.Thread(target=lambda: result.update(service.outbox.deliver_due()), daemon=True)
    sending.start()
    assert relay.wait_for_data(20)
    at_data()
    relay.release()
    sending.join(30)
    assert not sending.is_alive()
    return result


def sent_once(service, relay) -> None:
    [m] = service.outbox.list(MANAGER)
    assert (m["status"], m["attempts"], m["last_error"]) == ("sent", 0, None)
    assert len(relay.messages) == 1
    history = service.queries.get_instance(m["instance_id"], MANAGER)["history"]
    assert [h["detail"]["attempts"] for h in history if h["kind"] == "notification_sent"] == [0]


def test_a_recording_connection_closed_while_pooled_is_replaced_before_the_exchange(queued, relay):
    """The connection held for the record was closed by the server while it sat in the pool: that is found
    out before the relay is sent anything, not after its 250."""
    service, _name = queued
    checkouts = []

    def closed_while_pooled(dbapi_connection, _record, _proxy):
        checkouts.append(dbapi_connection.info.backend_pid)
        if len(checkouts) == 2:  # the first is the claim's; the second the one held for the record
            assert terminate([dbapi_connection.info.backend_pid]) == 1

    event.listen(service.db.engine, "checkout", closed_while_pooled)
    after = AfterTheRelayTookIt(service, relay)
    try:
        assert deliver_while(service, relay, lambda: None) == {"sent": 1, "failed": 0}
    finally:
        after.remove()
        event.remove(service.db.engine, "checkout", closed_while_pooled)
    assert len(checkouts) >= 2
    assert after.statements == [RECORD]
    sent_once(service, relay)


def test_a_recording_connection_lost_during_the_exchange_records_at_once_on_a_fresh_one(queued, relay):
    """Every connection of the worker ends while the relay holds the message: after the 250 the record is
    tried on the held connection, then at once on a fresh one, in the same one statement; no pause, no
    transaction of several statements."""
    service, name = queued
    after = AfterTheRelayTookIt(service, relay)
    try:
        result = deliver_while(service, relay, lambda: terminate(application_name=name))
    finally:
        after.remove()
    assert result == {"sent": 1, "failed": 0}
    assert after.statements == [RECORD] * 2
    sent_once(service, relay)
