"""SMTP servers on loopback for tests: a real one (aiosmtpd) recording every message it accepts, one
that can hold a message before answering, and a relay that accepts connections and never answers.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from email import message_from_bytes

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Recorder:
    def __init__(self):
        self.messages = []
        self.gate = threading.Event()  # cleared: hold each message before answering
        self.gate.set()
        self.data_arrived = threading.Event()
        self.hang_on_quit = False

    async def handle_DATA(self, server, session, envelope):
        self.data_arrived.set()
        while not self.gate.is_set():
            await asyncio.sleep(0.02)
        self.messages.append(message_from_bytes(envelope.original_content or envelope.content))
        return "250 OK"

    async def handle_QUIT(self, server, session, envelope):
        while self.hang_on_quit:  # a relay that takes the message, then never says goodbye
            await asyncio.sleep(0.02)
        return "221 Bye"


class SmtpServer:
    def __init__(self, port: int | None = None, hold: bool = False, hang_on_quit: bool = False):
        self.port = port or free_port()
        self.recorder = _Recorder()
        self.recorder.hang_on_quit = hang_on_quit
        if hold:
            self.recorder.gate.clear()
        self.controller = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    @property
    def messages(self):
        return self.recorder.messages

    def wait_for_data(self, timeout: float) -> bool:
        """True once a client has sent a message's content (held, if the server holds messages)."""
        return self.recorder.data_arrived.wait(timeout)

    def release(self) -> None:
        """Answer the held message (and every later one) with 250 OK."""
        self.recorder.gate.set()

    def start(self) -> SmtpServer:
        self.controller = Controller(self.recorder, hostname="127.0.0.1", port=self.port)
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller:
            self.recorder.gate.set()
            self.recorder.hang_on_quit = False
            self.controller.stop()
            self.controller = None


class SilentRelay:
    """Accepts TCP connections and never says a word: an SMTP relay that has hung. It listens on ``port``
    (0: a free one); stopping it drops every connection it holds."""

    def __init__(self, port: int = 0):
        self.listener = socket.create_server(("127.0.0.1", port), backlog=64)  # SO_REUSEADDR on POSIX
        self.port = self.listener.getsockname()[1]
        self.accepted: list[socket.socket] = []
        self.connected = threading.Event()
        self._stopped = threading.Event()
        self.listener.settimeout(0.1)
        self._thread = threading.Thread(target=self._accept, name="silent-relay", daemon=True)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def start(self) -> SilentRelay:
        self._thread.start()
        return self

    def _accept(self) -> None:
        while not self._stopped.is_set():
            try:
                conn, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.accepted.append(conn)
            self.connected.set()

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join(timeout=5)
        self.listener.close()
        for conn in self.accepted:
            with contextlib.suppress(OSError):
                conn.close()
