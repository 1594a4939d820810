"""Benchmarks of a served web process's memory: ``reviewflow serve`` (waitress, as deployed) on the large
and on the small database, asked the same requests over HTTP; its peak resident memory (VmHWM) compared,
target 1.2x. A page that read a whole table into memory would show here even when it is fast."""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

from engine import clock
from tests.bench.common import OUT, ROOT, STAFF, START, service


def peak_rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise RuntimeError("no VmHWM")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serve(url: str, **env):
    """``reviewflow serve`` on the database at ``url`` (no worker), once it answers; yields its pid and
    port, and stops it after. Its log goes to var/bench/served.log (a pipe nobody reads would fill up and
    stall it)."""
    port = _free_port()
    log = (OUT / "served.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "web.cli", "serve", "--port", str(port), "--no-worker"],
        cwd=ROOT,
        env={**os.environ, "REVIEWFLOW_DATABASE_URL": url, **env},
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    try:
        for _ in range(600):
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                conn.request("GET", "/api/v1/openapi.json")
                conn.getresponse().read()
                break
            except OSError:
                if proc.poll() is not None:
                    raise RuntimeError((OUT / "served.log").read_text()[-2000:]) from None
                time.sleep(0.1)
        yield proc.pid, port
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def _result(name: str, peaks: dict) -> dict:
    return {
        "name": name,
        "target": 1.2,
        "ratio": peaks["large"] / peaks["small"],
        "unit": "MiB peak RSS",
        "figures": {"large": peaks["large"] / 1024, "small": peaks["small"] / 1024},
    }


# --- the task list over the API -------------------------------------------------------------------------


def bench_server_memory(store, small, large, requests: int) -> dict:
    """Peak RSS after ``requests`` task-list requests over the API (20 open tasks), large vs small."""
    peaks = {}
    for label, source in (("small", small), ("large", large)):
        url = store.working_copy(source, label)
        clock.set_now(START)
        svc = service(url)
        for _ in range(20):
            svc.instances.start("bench_reference", {"steps_done": 0}, STAFF)
        svc.users.add("bench-staff", ["Staff"])
        token = svc.users.create_token("bench-staff")
        svc.db.dispose()
        with serve(url, REVIEWFLOW_FAKE_NOW=START) as (pid, port):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            for _ in range(requests):
                conn.request("GET", "/api/v1/tasks", headers={"Authorization": f"Bearer {token}"})
                response = conn.getresponse()
                body = json.loads(response.read())
                assert response.status == 200 and len(body["tasks"]) == 20
            peaks[label] = peak_rss_kib(pid)
    return _result("server memory" + store.suffix, peaks)


# --- the managers' pages ----------------------------------------------------------------------------------


def _get(port: int, path: str, cookie: str, whole: bool) -> int:
    """One request on a new connection; the body read to its end, or only to its first 64 KiB (the
    connection then dropped, as a manager who stops a download); bytes read."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    try:
        conn.request("GET", path, headers={"Cookie": cookie})
        response = conn.getresponse()
        body = response.read() if whole else response.read(65536)
        assert response.status == 200, (path, response.status, body[:200])
        return len(body)
    finally:
        conn.close()


def bench_pages_memory(store, small, large, requests: int) -> dict:
    """Peak RSS after ``requests`` requests to each manager page (tests/bench/reports.py), on the pages'
    databases, large vs small. Each page is read to its end; the deadline CSV (every deadline of every case,
    streamed) to its end once and otherwise to its first 64 KiB, since a whole download of the large
    database takes tens of seconds."""
    from tests.bench.reports import PAGES, WEB, open_app
    from tests.bench.reports_db import TODAY

    peaks, read = {}, {}
    for label, source in (("small", small), ("large", large)):
        url = store.working_copy(source, label)
        svc, client, case = open_app(url)  # a manager signed in; the served app takes their cookie
        cookie = "; ".join(f"{c.key}={c.value}" for c in client._cookies.values())
        svc.db.dispose()
        read[label] = 0
        with serve(url, REVIEWFLOW_FAKE_NOW=TODAY, **WEB) as (pid, port):
            for name, template in PAGES:
                path = template.format(case=case)
                for n in range(requests):
                    read[label] += _get(port, path, cookie, whole=name != "deadline csv" or n == 0)
            peaks[label] = peak_rss_kib(pid)
    result = _result("server memory after pages" + store.suffix, peaks)
    result["bytes_read"] = read
    return result
