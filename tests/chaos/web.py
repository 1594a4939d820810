"""The ``reviewflow`` command line, a running ``reviewflow serve --no-worker``, and plain HTTP to it.

Requests are written by hand with :mod:`http.client` so that a hostile request reaches the server
exactly as sent (NUL bytes, lone surrogates, invalid JSON), and every answer is kept, 500s included.
"""

from __future__ import annotations

import http.client
import json
import re
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode


def cli(reviewflow: list[str], env: dict, *args: str, stdin: str | None = None, timeout: float = 120) -> str:
    done = subprocess.run(
        [*reviewflow, *args], env=env, input=stdin, capture_output=True, text=True, timeout=timeout
    )
    if done.returncode != 0:
        raise RuntimeError(
            f"reviewflow {' '.join(args)} failed ({done.returncode}): "
            f"{(done.stdout + done.stderr).strip()[-2000:]}"
        )
    return done.stdout


@dataclass
class Answer:
    status: int  # 0: no answer (refused, reset, timed out)
    headers: dict
    body: bytes
    error: str = ""

    def json(self):
        try:
            return json.loads(self.body)
        except ValueError:
            return None


@dataclass
class Client:
    port: int
    token: str = ""
    timeout: float = 30.0
    cookies: dict = field(default_factory=dict)

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict | None = None,
        token: bool = True,
    ) -> Answer:
        headers = dict(headers or {})
        if token and self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        try:
            conn.putrequest(method, path, skip_accept_encoding=True)
            for k, v in headers.items():
                conn.putheader(k, v)
            if body is not None:
                conn.putheader("Content-Length", str(len(body)))
            conn.endheaders(body)
            response = conn.getresponse()
            data = response.read()
            answer = Answer(response.status, {k.lower(): v for k, v in response.getheaders()}, data)
            for value in response.msg.get_all("Set-Cookie") or []:
                name, _, rest = value.partition("=")
                self.cookies[name.strip()] = rest.split(";", 1)[0]
            return answer
        except (OSError, http.client.HTTPException) as exc:
            return Answer(0, {}, b"", f"{type(exc).__name__}: {exc}")
        finally:
            conn.close()

    def api(self, method: str, path: str, payload=None, raw: bytes | None = None) -> Answer:
        body = raw if raw is not None else (json.dumps(payload).encode() if payload is not None else None)
        headers = {"Content-Type": "application/json"} if body is not None else {}
        return self.request(method, "/api/v1" + path, body, headers)

    def form(self, path: str, fields: dict | list) -> Answer:
        """POST a form the way a browser does, with the CSRF token of a page read just before."""
        page = self.request("GET", "/sign-in", token=False)
        match = re.search(rb'name="csrf_token" value="([^"]+)"', page.body)
        items = list(fields.items()) if isinstance(fields, dict) else list(fields)
        if match:
            items.insert(0, ("csrf_token", match.group(1).decode()))
        body = urlencode(items, encoding="utf-8", errors="surrogatepass").encode()
        return self.request(
            "POST", path, body, {"Content-Type": "application/x-www-form-urlencoded"}, token=False
        )


class Server:
    """``reviewflow serve --no-worker`` on a loopback port, its output in a log file."""

    def __init__(self, reviewflow: list[str], env: dict, port: int, log: Path):
        self.reviewflow, self.env, self.port, self.log = reviewflow, env, port, log
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 90) -> None:
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(
                [*self.reviewflow, "serve", "--no-worker", "--host", "127.0.0.1", "--port", str(self.port)],
                env=self.env,
                stdout=out,
                stderr=out,
                stdin=subprocess.DEVNULL,
            )
        probe = Client(self.port, timeout=2)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"reviewflow serve exited ({self.proc.returncode}); see {self.log}")
            if probe.request("GET", "/api/v1/openapi.json", token=False).status == 200:
                return
            time.sleep(0.3)
        raise RuntimeError(f"reviewflow serve did not answer within {timeout:.0f} s; see {self.log}")

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
