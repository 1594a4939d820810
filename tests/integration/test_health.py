"""Health (issue 12): ``/healthz`` answers while the process serves, with no database and no sign-in;
``/readyz`` and ``reviewflow status`` say whether the database answers, its schema is this code's, and a
worker has beaten recently, on real time whatever the product's clock says. Workers are the real
``Worker`` loops (or ``reviewflow serve`` itself); an unreachable database is a closed port on loopback.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import urllib.error
import urllib.request

import pytest
from sqlalchemy import text, update

from engine import clock
from engine.services import Reviewflow
from engine.services.outbox import real_now
from engine.store.db import MIGRATIONS, SCHEMA_REVISION
from engine.store.models import WorkerHeartbeat
from engine.worker import Worker
from tests import mailflow
from tests.conftest import make_settings
from tests.smtp import free_port
from web import cli, health
from web.app import create_app

HEAD = "0013"


def closed_port_url() -> str:
    return f"postgresql://reviewflow@127.0.0.1:{free_port()}/reviewflow"


def run_worker_passes(service) -> Worker:
    """One pass of each loop of a real worker (no SMTP relay set: the outbox pass finds nothing to do)."""
    worker = Worker(service)
    for loop in worker.loops:
        loop.run_pass()
    return worker


def readyz(app) -> tuple[int, dict, str]:
    response = app.test_client().get("/readyz")
    return response.status_code, response.get_json(), response.headers.get("Cache-Control", "")


def status(capsys, *args: str) -> tuple[int, list[str], str]:
    code = cli.main(["status", *args])
    out, err = capsys.readouterr()
    return code, out.splitlines(), err


def age_heartbeats(service, seconds: float) -> None:
    """As if every worker last beat ``seconds`` ago on the real clock (a test cannot wait that long)."""
    with service.db.transaction() as session:
        session.execute(
            update(WorkerHeartbeat).values(last_beat=real_now(session) - dt.timedelta(seconds=seconds))
        )


# --- /healthz and /readyz ----------------------------------------------------------------------------


def test_the_schema_this_code_expects_is_the_head_of_its_migrations():
    from alembic.script import ScriptDirectory

    assert SCHEMA_REVISION == ScriptDirectory(str(MIGRATIONS)).get_current_head() == HEAD


def test_alive_needs_no_database_and_no_sign_in_ready_says_the_database_is_unreachable():
    service = Reviewflow(make_settings(closed_port_url(), REVIEWFLOW_SECRET_KEY="k" * 40), upgrade=False)
    try:
        app = create_app(service)
        client = app.test_client()
        with client.session_transaction() as cookie:  # a session cookie would make a page look it up
            cookie["sid"] = "a session the database would be asked about"
        alive = client.get("/healthz")
        assert alive.status_code == 200 and alive.get_json() == {"status": "alive"}
        assert alive.headers["Cache-Control"] == "no-store"
        ready = client.get("/readyz")
        assert ready.status_code == 503 and ready.headers["Cache-Control"] == "no-store"
        assert ready.get_json() == {
            "status": "not ready",
            "checks": {
                "database": {"ok": False, "detail": "unreachable"},
                "schema": {"ok": False, "detail": "not checked: the database is unreachable"},
                "worker": {"ok": False, "detail": "not checked: the database is unreachable"},
            },
        }
    finally:
        service.db.dispose()


def test_ready_once_a_worker_has_beaten_on_real_time_whatever_the_product_clock(service):
    app = create_app(service)
    code, body, cache = readyz(app)
    assert code == 503 and cache == "no-store"
    assert body == {
        "status": "not ready",
        "checks": {
            "database": {"ok": True},
            "schema": {"ok": True, "revision": HEAD},
            "worker": {"ok": False, "detail": "no worker has reported"},
        },
    }
    run_worker_passes(service)
    code, body, _ = readyz(app)
    assert code == 200 and body["status"] == "ready", body
    assert body["checks"]["worker"]["ok"] is True
    assert re.fullmatch(r"last beat \d s ago", body["checks"]["worker"]["detail"])
    clock.advance(days=400)  # the product's clock (fixed in tests and demos) plays no part
    assert readyz(app)[0] == 200
    clock.set_now("2020-01-01T00:00:00+00:00")
    assert readyz(app)[0] == 200


def test_a_worker_silent_for_longer_than_the_limit_is_not_ready(database_url):
    service = Reviewflow(make_settings(database_url, REVIEWFLOW_HEARTBEAT_MAX_AGE_SECONDS="60"))
    try:
        app = create_app(service)
        run_worker_passes(service)
        age_heartbeats(service, 50)
        assert readyz(app)[0] == 200
        age_heartbeats(service, 300)
        code, body, _ = readyz(app)
        assert code == 503 and body["status"] == "not ready"
        assert re.fullmatch(
            r"no beat for 30\d s \(the limit is 60 s\)", body["checks"]["worker"]["detail"]
        ), body
        run_worker_passes(service)  # the worker comes back
        assert readyz(app)[0] == 200
    finally:
        service.db.dispose()


def test_a_process_running_its_own_worker_is_ready_only_when_that_worker_beats(service):
    service.health.beat("another-host:4242:0badcafe", "timers")
    app = create_app(service)
    assert readyz(app)[0] == 200  # `serve --no-worker`: any worker will do
    worker = Worker(service)
    health.own_worker(app, worker.owner)
    code, body, _ = readyz(app)
    assert code == 503 and body["checks"]["worker"] == {
        "ok": False,
        "detail": "the worker in this process has not reported",
    }
    for loop in worker.loops:
        loop.run_pass()
    assert readyz(app)[0] == 200


def test_a_schema_behind_or_ahead_of_the_code_is_not_ready(service, capsys, monkeypatch):
    from alembic import command
    from alembic.config import Config

    from engine.store.db import MIGRATIONS

    run_worker_passes(service)
    app = create_app(service)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = service.db.engine
    command.downgrade(config, "0004")
    code, body, _ = readyz(app)
    assert code == 503 and body["checks"]["schema"] == {
        "ok": False,
        "revision": "0004",
        "expected": HEAD,
        "detail": f"the database is at 0004, behind this code's {HEAD}",
    }
    assert body["checks"]["worker"] == {"ok": False, "detail": "not checked: the schema is not current"}
    monkeypatch.setenv("REVIEWFLOW_DATABASE_URL", service.settings.database_url)
    code, lines, _ = status(capsys)
    assert code == 1 and lines[1] == f"schema: the database is at 0004, behind this code's {HEAD}"
    command.upgrade(config, "head")
    with service.db.transaction() as session:  # a newer release migrated it
        session.execute(text("UPDATE alembic_version SET version_num = '0099'"))
    code, body, _ = readyz(app)
    assert code == 503
    assert (
        body["checks"]["schema"]["detail"]
        == f"the database is at 0099, which this code does not know (it expects {HEAD})"
    )


def test_serve_is_ready_when_its_own_worker_beats_and_without_one_waits_for_a_worker(database_url):
    Reviewflow(make_settings(database_url)).db.dispose()  # the schema, as `migrate` would leave it

    def get(port: int, path: str):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as response:
                return response.status, json.load(response)
        except urllib.error.HTTPError as refused:
            return refused.code, json.load(refused)
        except OSError:
            return None, None  # not serving yet

    port = free_port()
    web = mailflow.WorkerProcess(database_url, "--port", str(port), "--no-worker", command="serve")
    try:
        assert mailflow.wait_until(lambda: get(port, "/healthz")[0] == 200, timeout=30), web.stderr
        code, body = get(port, "/readyz")
        assert code == 503 and body["checks"]["worker"]["detail"] == "no worker has reported"
    finally:
        web.stop()
    port = free_port()
    both = mailflow.WorkerProcess(database_url, "--port", str(port), "--interval", "0.5", command="serve")
    try:
        assert mailflow.wait_until(lambda: get(port, "/readyz")[0] == 200, timeout=30), both.stderr
        assert get(port, "/readyz")[1]["status"] == "ready"
    finally:
        both.stop()


# --- reviewflow status --------------------------------------------------------------------------------


def test_status_prints_one_line_per_check_and_exits_0_only_when_ready(service, capsys, monkeypatch):
    monkeypatch.setenv("REVIEWFLOW_DATABASE_URL", service.settings.database_url)
    code, lines, err = status(capsys)
    assert (code, lines, err) == (
        1,
        ["database: ok", f"schema: ok (revision {HEAD})", "worker: no worker has reported"],
        "",
    )
    run_worker_passes(service)
    code, lines, err = status(capsys)
    assert (code, lines[:2], err) == (0, ["database: ok", f"schema: ok (revision {HEAD})"], "")
    assert re.fullmatch(r"worker: ok \(last beat \d s ago\)", lines[2]) and len(lines) == 3


def test_status_on_this_host_counts_only_the_workers_running_here(service, capsys, monkeypatch):
    monkeypatch.setenv("REVIEWFLOW_DATABASE_URL", service.settings.database_url)
    service.health.beat("another-host:4242:0badcafe", "outbox")
    assert status(capsys)[0] == 0
    code, lines, _ = status(capsys, "--this-host")
    assert code == 1 and lines[2] == "worker: no worker on this host has reported"
    run_worker_passes(service)
    assert status(capsys, "--this-host")[0] == 0


def test_status_with_an_unreachable_database_says_so_in_one_line_and_exits_1(capsys, monkeypatch):
    monkeypatch.setenv("REVIEWFLOW_DATABASE_URL", closed_port_url())
    code, lines, err = status(capsys)
    assert code == 1 and lines[0] == "database: unreachable" and err == ""
    assert lines[1:] == [
        "schema: not checked: the database is unreachable",
        "worker: not checked: the database is unreachable",
    ]


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_the_probes_go_through_the_request_guard_like_every_request(service, path):
    client = create_app(service).test_client()
    assert client.get(f"{path}?probe=%00").status_code == 400
    assert client.post(path).status_code == 405  # no CSRF token asked for: nothing to post
