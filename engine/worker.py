"""The worker: timers and the outbox, each in its own supervised loop.

The two loops run in separate threads, so a hung SMTP relay cannot hold back a due timer (nor a
slow sweep an e-mail) by more than one interval. A loop is supervised: whatever a pass raises,
``SystemExit`` included, is logged with its traceback on ``reviewflow.worker`` (exception messages
withheld: they may quote case data) and the next pass runs after the interval. A pass that found
a full batch runs again at once. After every pass, failed or not, the loop records a heartbeat
(``worker_heartbeat``): the loop is running, which ``/readyz`` and ``reviewflow status`` read.

:meth:`Worker.shutdown` (``reviewflow worker`` calls it on SIGTERM) stops claiming work, lets the
outbox finish the message in hand and the sweep the case in hand, gives back anything still
held, and returns.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from engine.logsafe import kind, traceback_without_messages
from engine.services.outbox import worker_name

log = logging.getLogger("reviewflow.worker")

OUTBOX_BATCH = 50
TIMER_BATCH = 100


class SupervisedLoop:
    """Runs ``job`` every ``interval`` seconds in its own thread until stopped; ``job`` returns True
    when there is more to do at once. No exception ends the loop."""

    def __init__(
        self,
        name: str,
        job: Callable[[], bool],
        interval: float,
        stop: threading.Event | None = None,
        heartbeat: Callable[[str], None] | None = None,
    ):
        self.name, self.job, self.interval, self.heartbeat = name, job, interval, heartbeat
        self.stopping = stop or threading.Event()
        self.thread = threading.Thread(target=self._run, name=f"reviewflow-{name}", daemon=True)

    def start(self) -> SupervisedLoop:
        self.thread.start()
        return self

    def _run(self) -> None:
        while not self.stopping.is_set():
            if not self.run_pass():
                self.stopping.wait(self.interval)

    def run_pass(self) -> bool:
        try:
            more = bool(self.job())
        except BaseException as exc:
            log.error(
                "loop=%s pass failed: %s; next pass in %ss\n%s",
                self.name,
                kind(exc),
                self.interval,
                traceback_without_messages(exc),
                extra={"loop": self.name, "error_type": kind(exc)},
            )
            more = False
        self._beat()
        return more

    def _beat(self) -> None:
        if self.heartbeat is None:
            return
        try:
            self.heartbeat(self.name)
        except Exception as exc:
            log.warning(
                "loop=%s heartbeat not recorded: %s",
                self.name,
                kind(exc),
                extra={"loop": self.name, "error_type": kind(exc)},
            )

    def stop(self, timeout: float | None = None) -> None:
        self.stopping.set()
        self.thread.join(timeout)


class Worker:
    """The timer loop and the outbox loop of one process (``reviewflow worker`` or ``serve``)."""

    def __init__(self, service, interval: float = 15.0):
        self.service = service
        self.owner = worker_name()
        self.stopping = threading.Event()
        self.loops = [
            SupervisedLoop("timers", self._fire_timers, interval, self.stopping, self._beat),
            SupervisedLoop("outbox", self._deliver, interval, self.stopping, self._beat),
        ]

    def _beat(self, loop: str) -> None:
        self.service.health.beat(self.owner, loop)

    def _fire_timers(self) -> bool:
        return (
            len(self.service.instances.fire_due_timers(limit=TIMER_BATCH, stop=self.stopping)) >= TIMER_BATCH
        )

    def _deliver(self) -> bool:
        done = self.service.outbox.deliver_due(limit=OUTBOX_BATCH, owner=self.owner, stop=self.stopping)
        return done["sent"] + done["failed"] >= OUTBOX_BATCH

    def start(self) -> Worker:
        for loop in self.loops:
            loop.start()
        log.info("worker started: owner=%s loops=%s", self.owner, ",".join(loop.name for loop in self.loops))
        return self

    def shutdown(self, timeout: float | None = None) -> None:
        """Finish the work in hand, give back what is still held, and stop."""
        log.info("worker stopping: finishing the work in hand")
        self.stopping.set()
        for loop in self.loops:
            loop.thread.join(timeout)
        try:
            released = self.service.outbox.release(self.owner)
        except Exception as exc:  # the leases then lapse on their own
            log.error("worker: giving back held messages failed: %s", kind(exc))
            released = 0
        log.info("worker stopped: released=%s", released)
