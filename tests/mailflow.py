"""Small test diagrams for the outbox and worker tests: one that queues an e-mail built from values its
own script sets (so any recipient or reference can reach the outbox, as diagram code can), and one that
waits an hour on a timer and then runs a script.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import threading
import time

from engine import clock
from tests.bpmn_parts import end_event, flows_and_closing, one_hour, opening, script_task, service_task
from tests.conftest import BUSINESS_UNIT, PROCESS_OWNER, ROOT
from tests.layout import with_layout


def _two_steps(pid: str, a: str, b: str) -> str:
    """Process ``pid`` in the Business Unit's lane: start, ``a`` (id ``{pid}_a``), ``b`` (``{pid}_b``),
    end."""
    return (
        opening(pid, f"{pid}_defs")
        + f"""    <bpmn:laneSet id="{pid}_lanes"><bpmn:lane id="{pid}_bu" name="Business Unit">
      <bpmn:flowNodeRef>{pid}_start</bpmn:flowNodeRef><bpmn:flowNodeRef>{pid}_a</bpmn:flowNodeRef>
      <bpmn:flowNodeRef>{pid}_b</bpmn:flowNodeRef><bpmn:flowNodeRef>{pid}_end</bpmn:flowNodeRef>
    </bpmn:lane></bpmn:laneSet>
    <bpmn:startEvent id="{pid}_start"><bpmn:outgoing>{pid}_f1</bpmn:outgoing></bpmn:startEvent>
"""
        + a
        + b
        + end_event(f"{pid}_end", f"{pid}_f3")
        + flows_and_closing(
            (f"{pid}_f1", f"{pid}_start", f"{pid}_a"),
            (f"{pid}_f2", f"{pid}_a", f"{pid}_b"),
            (f"{pid}_f3", f"{pid}_b", f"{pid}_end"),
        )
    )


def _mail(pid: str, script: str) -> str:
    send = service_task(
        f"{pid}_b",
        "Send it",
        f"{pid}_f2",
        f"{pid}_f3",
        "send_notification",
        "sent",
        to=("str", "recipient"),
        template=("str", "'demo_panel_notice'"),
    )
    return _two_steps(pid, script_task(f"{pid}_a", "Address it", f"{pid}_f1", f"{pid}_f2", script), send)


def _wait(pid: str, script: str) -> str:
    return _two_steps(
        pid,
        one_hour(f"{pid}_a", f"{pid}_f1", f"{pid}_f2"),
        script_task(f"{pid}_b", "After the hour", f"{pid}_f2", f"{pid}_f3", script),
    )


def _then_wait(pid: str, script: str) -> str:
    return _two_steps(
        pid,
        script_task(f"{pid}_a", "Before the hour", f"{pid}_f1", f"{pid}_f2", script),
        one_hour(f"{pid}_b", f"{pid}_f2", f"{pid}_f3"),
    )


GOOD_RECIPIENT = "panel-notifications@example.org"


def mail_script(recipient: str, reference: str) -> str:
    """Diagram code setting what the e-mail is built from (escapes such as \\r\\n kept as written)."""
    return (
        f"recipient = '{recipient}'\ncase_reference = '{reference}'\n"
        "date_aware = '2026-12-21'\npriority = 'high'"
    )


def deploy(
    service,
    mail: dict[str, str] | None = None,
    wait: dict[str, str] | None = None,
    then_wait: dict[str, str] | None = None,
) -> None:
    """Deploy ``mail`` processes (id: script setting recipient and reference), ``wait`` ones (id: script run
    after the hour) and ``then_wait`` ones (id: script run at the start, then an hour's wait)."""
    files = {}
    for template, scripts in ((_mail, mail), (_wait, wait), (_then_wait, then_wait)):
        files.update(
            {
                f"{pid}.bpmn": with_layout(template(pid, script).encode())
                for pid, script in (scripts or {}).items()
            }
        )
    service.deployments.deploy(files, PROCESS_OWNER)


def deploy_good_mail(service) -> None:
    deploy(service, mail={"good_mail": mail_script(GOOD_RECIPIENT, "SR-1")})


def queue(service, process_id: str = "good_mail", count: int = 1) -> list[int]:
    """Start ``count`` cases that each queue one e-mail; returns the case ids."""
    return [service.instances.start(process_id, {}, BUSINESS_UNIT)["id"] for _ in range(count)]


def start_waiting(service, process_id: str) -> int:
    """A case whose one-hour timer is already due at the current (fixed) time."""
    now = clock.now()
    clock.set_now(now - dt.timedelta(hours=2))
    try:
        return service.instances.start(process_id, {}, BUSINESS_UNIT)["id"]
    finally:
        clock.set_now(now)


def wait_until(predicate, timeout: float, step: float = 0.05):
    """Poll a condition on real time (leases and worker passes run on it); returns its last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(step)


class WorkerProcess:
    """``reviewflow worker`` (or ``serve``) as a real child process, its stderr collected line by line."""

    def __init__(self, database_url: str, *args: str, command: str = "worker", **settings: str):
        env = {k: v for k, v in os.environ.items() if not k.startswith("REVIEWFLOW_")}
        env.update(
            {
                "REVIEWFLOW_DATABASE_URL": database_url,
                "REVIEWFLOW_FAKE_NOW": clock.now().isoformat(),
                "PYTHONUNBUFFERED": "1",
                **settings,
            }
        )
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "web.cli", command, *args],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.proc.stderr:
            self.lines.append(line)

    @property
    def stderr(self) -> str:
        return "".join(self.lines)

    def saw(self, text: str, timeout: float) -> bool:
        return bool(wait_until(lambda: text in self.stderr, timeout))

    def signal(self, sig: int) -> None:
        self.proc.send_signal(sig)

    def wait(self, timeout: float) -> int:
        rc = self.proc.wait(timeout)
        self._reader.join(timeout=5)
        return rc

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)
        self._reader.join(timeout=5)
