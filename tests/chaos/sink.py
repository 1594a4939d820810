"""What listens on the workers' SMTP port: a recording SMTP sink, nothing at all, or a hung relay.

The workers are given one fixed ``smtp://127.0.0.1:<port>`` when they start, so the chaos run changes
what answers on that port instead: the real sink (aiosmtpd, recording every message with its
Message-ID and arrival time), nothing (connection refused: the sink is down), or a relay that accepts
the connection and never says a word (the SMTP client waits for its greeting until its timeout).

The port is served from a process of its own (:class:`SinkProcess`), as a real relay would be: in
the harness's process the sink's answers would wait on the harness's own threads (the killer, the
supervisor, the web reader), and every such wait widens the moment in which a killed worker has
handed over an e-mail without having heard that it was taken.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import threading
import time
from dataclasses import dataclass
from email.parser import BytesHeaderParser

from aiosmtpd.controller import Controller

from tests.smtp import SilentRelay, free_port


@dataclass(frozen=True)
class Received:
    """One message as the sink accepted it."""

    message_id: str
    recipients: tuple[str, ...]
    subject: str
    at: float  # time.time() when the sink answered 250
    body: str


class _Recorder:
    def __init__(self):
        self.lock = threading.Lock()
        self.received: list[Received] = []

    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content or envelope.content
        headers = BytesHeaderParser().parsebytes(raw)
        body = raw.split(b"\r\n\r\n", 1)[-1].decode("utf-8", "replace")
        with self.lock:
            self.received.append(
                Received(
                    str(headers.get("Message-ID", "")).strip(),
                    tuple(envelope.rcpt_tos),
                    str(headers.get("Subject", "")),
                    time.time(),
                    body,
                )
            )
        return "250 OK"


class SmtpPort:
    """The one port the workers send to, switched between ``up``, ``down`` and ``hung``."""

    def __init__(self, port: int | None = None):
        self.port = port or free_port()
        self.recorder = _Recorder()
        self.mode = "down"
        self.hung_connections = 0
        self.changes: list[tuple[float, str]] = []
        self._controller: Controller | None = None
        self._relay: SilentRelay | None = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    @property
    def received(self) -> list[Received]:
        with self.recorder.lock:
            return list(self.recorder.received)

    def _stop_all(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None
        if self._relay is not None:
            self.hung_connections += len(self._relay.accepted)
            self._relay.stop()
            self._relay = None

    def _switch(self, mode: str) -> None:
        self._stop_all()
        for attempt in range(50):  # the port may linger for a moment after a close
            try:
                if mode == "up":
                    self._controller = Controller(
                        self.recorder, hostname="127.0.0.1", port=self.port, ready_timeout=10
                    )
                    self._controller.start()
                elif mode == "hung":
                    self._relay = SilentRelay(self.port).start()
                break
            except (OSError, RuntimeError):
                self._controller = None
                if attempt == 49:
                    raise
                time.sleep(0.1)
        self.mode = mode
        self.changes.append((time.time(), mode))

    def up(self) -> None:
        self._switch("up")

    def down(self) -> None:
        self._switch("down")

    def hang(self) -> None:
        self._switch("hung")

    def close(self) -> None:
        self._stop_all()
        self.mode = "down"


def _serve(connection, port: int) -> None:
    """The sink process: one :class:`SmtpPort`, driven by commands from the harness."""
    smtp = SmtpPort(port)
    while True:
        command = connection.recv()
        if command == "received":
            connection.send(smtp.received)
        elif command == "hung_connections":
            connection.send(smtp.hung_connections)
        elif command in ("up", "down", "hang"):
            getattr(smtp, command)()
            connection.send(smtp.mode)
        elif command == "close":
            smtp.close()
            connection.send(smtp.hung_connections)
            return


class SinkProcess:
    """An :class:`SmtpPort` in a process of its own, with the same interface."""

    def __init__(self, port: int | None = None):
        self.port = port or free_port()
        self._connection, child = multiprocessing.Pipe()
        self._lock = threading.Lock()
        self._process = multiprocessing.get_context("spawn").Process(
            target=_serve, args=(child, self.port), name="chaos-smtp-sink", daemon=True
        )
        self._process.start()
        self.mode = "down"
        self._hung = 0

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def _ask(self, command: str, timeout: float = 60):
        with self._lock:
            self._connection.send(command)
            if not self._connection.poll(timeout):
                raise RuntimeError(f"the SMTP sink did not answer {command!r} within {timeout} s")
            return self._connection.recv()

    @property
    def received(self) -> list[Received]:
        return self._ask("received")

    @property
    def hung_connections(self) -> int:
        return self._hung if not self._process.is_alive() else self._ask("hung_connections")

    def up(self) -> None:
        self.mode = self._ask("up")

    def down(self) -> None:
        self.mode = self._ask("down")

    def hang(self) -> None:
        self.mode = self._ask("hang")

    def close(self) -> None:
        if self._process.is_alive():
            with contextlib.suppress(RuntimeError, OSError, EOFError):
                self._hung = self._ask("close", timeout=20)
            self._process.join(timeout=10)
            if self._process.is_alive():
                self._process.kill()
        self.mode = "down"
