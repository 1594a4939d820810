"""The outbox from the command line (a real subprocess, a real database): listed, dead messages sent again
and a message cancelled with a reason, through the same service methods as the administration pages."""

from __future__ import annotations

from engine.services import Reviewflow
from tests.conftest import BUSINESS_UNIT, MANAGER, PROCESS_OWNER, ROOT, make_settings
from tests.integration.test_cli import run  # noqa: F401  (the fixture)
from tests.integration.test_demo_process import INCIDENT, start_demo
from tests.smtp import free_port


def test_list_requeue_and_cancel_from_the_command_line(run, sqlite_url):  # noqa: F811
    service = Reviewflow(
        make_settings(
            sqlite_url,
            REVIEWFLOW_SMTP_URL=f"smtp://127.0.0.1:{free_port()}",
            REVIEWFLOW_OUTBOX_MAX_ATTEMPTS="1",
        )
    )
    service.deployments.deploy_paths([ROOT / "processes", ROOT / "forms"], PROCESS_OWNER)
    for _ in range(2):
        case = start_demo(service)
        task = next(t for t in service.tasks.for_user(BUSINESS_UNIT) if t["instance_id"] == case["id"])
        service.instances.complete_task(task["id"], INCIDENT, BUSINESS_UNIT)
    service.outbox.deliver_due()
    dead = sorted(m["id"] for m in service.outbox.list(MANAGER, status="dead"))
    assert len(dead) == 2

    listed = run("outbox", "--status", "dead")
    assert (
        listed.returncode == 0
        and sorted(int(line.split("\t")[0]) for line in listed.stdout.splitlines()) == dead
    )
    refused = run("outbox", "cancel", str(dead[0]), "--reason", "")
    assert refused.returncode == 1 and "reason" in refused.stderr
    assert run("outbox", "cancel", str(dead[0])).returncode == 2  # --reason is required
    cancelled = run("outbox", "cancel", str(dead[0]), "--reason", "Sent by hand")
    assert cancelled.returncode == 0, cancelled.stderr
    assert run("outbox", "requeue", *map(str, dead)).returncode == 1  # one is cancelled: none is sent again
    assert run("outbox", "requeue", str(dead[1])).stdout.strip() == "1 notification(s) will be sent again"
    statuses = {m["id"]: (m["status"], m["cancelled_reason"]) for m in service.outbox.list(MANAGER)}
    assert [statuses[i] for i in dead] == [("cancelled", "Sent by hand"), ("pending", None)]
    service.db.dispose()
