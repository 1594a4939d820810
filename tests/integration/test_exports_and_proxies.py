"""Exports that other programs open safely, and the right scheme and host behind a TLS proxy: every CSV
cell that a spreadsheet would run as a formula is quoted, leading white space or not; the calendar feed
escapes its text as RFC 5545 says, so no reference can add an event; HSTS and external addresses follow
X-Forwarded-* only from the number of proxies the setting trusts."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

import pytest
from sqlalchemy import update

from engine.exports import csv_text
from engine.services.feeds import to_ics
from engine.store.models import Instance
from tests.conftest import BUSINESS_UNIT, MANAGER, PROCESS_OWNER, ROOT, make_settings
from web.app import create_app

FORMULAS = [
    "=1+1",
    "+1",
    "-1",
    "@SUM(A1)",
    "\t=1",
    "\r=1",
    "\n=1",
    ' =HYPERLINK("http://evil.example")',
    "   +1",
    "\u00a0=1+1",
    "\u00a0\u00a0@x",
    "\u3000-2",
    "\u2003=1",
    "\u200b=1",
    "\ufeff=1",
    " \t=1",
]
PLAIN = ["Police", "a=b", "  spaced text", "2026-12-21", "", "Zoë"]


def _is_quoted(cell: str) -> bool:
    return cell.startswith("'")


def test_one_csv_guard_quotes_every_formula_even_after_white_space():
    text = csv_text([{"value": v} for v in FORMULAS + PLAIN], ["value"])
    cells = [row[0] for row in csv.reader(io.StringIO(text, newline=""))][1:]
    assert [c for c in cells[: len(FORMULAS)] if not _is_quoted(c)] == []
    assert cells[len(FORMULAS) :] == PLAIN


@pytest.fixture
def api(deployed):
    app = create_app(deployed)
    client = app.test_client()
    tokens = {}
    for name, roles in (("bina", ["Business Unit"]), ("mo", ["manager"])):
        deployed.users.add(name, roles)
        tokens[name] = deployed.users.create_token(name)

    def call(method, path, who="bina", **kwargs):
        return client.open(
            f"/api/v1{path}", method=method, headers={"Authorization": f"Bearer {tokens[who]}"}, **kwargs
        )

    return call


def test_the_chronology_csv_quotes_formulas_after_spaces(api):
    rows = [
        {
            "date": " =1+1",
            "agency": '\u00a0=HYPERLINK("http://evil.example","x")',
            "worker": "\u3000@SUM(A1)",
            "event": "Met the family",
        }
    ]
    r = api(
        "POST",
        "/processes/engine_demo/instances",
        json={"data": {"regime": "WT2018", "case_chronology": {"chronology": rows}}},
    )
    assert r.status_code == 201, r.get_json()
    body = api("GET", f"/instances/{r.get_json()['id']}/chronology?format=csv", who="mo").get_data(
        as_text=True
    )
    [header, row] = list(csv.reader(io.StringIO(body, newline="")))
    assert header == ["date", "agency", "worker", "event"]
    assert [_is_quoted(c) for c in row] == [True, True, True, False]


def _unfolded(ics: str) -> list[str]:
    assert "\r" not in ics.replace("\r\n", "")  # no bare CR anywhere
    assert "\n" not in ics.replace("\r\n", "")  # no bare LF anywhere
    return ics.replace("\r\n ", "").split("\r\n")[:-1]


def test_ics_text_is_escaped_as_rfc_5545_says():
    hostile = "A\rBEGIN:VEVENT\rSUMMARY:evil\r\nEND:VEVENT\nx;y,z\\w\x00\x1b\x7f\ttab"
    event = {
        "uid": "deadline-1@reviewflow",
        "key": "R1",
        "name": hostile,
        "due_date": dt.date(2027, 1, 4),
        "source": "Working Together\r2018",
        "business_key": hostile,
    }
    lines = _unfolded(to_ics([event], dt.datetime(2026, 12, 21, 9, tzinfo=dt.UTC)))
    assert lines.count("BEGIN:VEVENT") == 1 and lines.count("END:VEVENT") == 1
    assert not any(line.startswith("SUMMARY:evil") for line in lines)
    summary = next(line for line in lines if line.startswith("SUMMARY:"))
    assert summary == (
        "SUMMARY:A\\nBEGIN:VEVENT\\nSUMMARY:evil\\nEND:VEVENT\\nx\\;y\\,z\\\\w\ttab R1: "
        "A\\nBEGIN:VEVENT\\nSUMMARY:evil\\nEND:VEVENT\\nx\\;y\\,z\\\\w\ttab"
    )
    assert all(not re.search(r"[\x00-\x08\x0a-\x1f\x7f]", line) for line in lines)


def test_a_reference_with_a_carriage_return_adds_no_event_to_the_feed(deployed):
    """A reference stored before references were checked still cannot inject calendar lines."""
    from tests.integration.test_demo_process import INCIDENT

    started = deployed.instances.start("engine_demo", {"regime": "WT2018"}, BUSINESS_UNIT)
    [task] = deployed.tasks.for_user(BUSINESS_UNIT)
    deployed.instances.complete_task(task["id"], INCIDENT, BUSINESS_UNIT)  # the deadlines start counting
    with deployed.db.transaction() as session:
        session.execute(
            update(Instance)
            .where(Instance.id == started["id"])
            .values(business_key="RF-1\rEND:VEVENT\rBEGIN:VEVENT\rSUMMARY:Injected")
        )
    deployed.users.add("mo", ["manager"])
    token = deployed.feeds.create(MANAGER)
    response = create_app(deployed).test_client().get(f"/calendar/{token}.ics")
    assert response.status_code == 200
    lines = _unfolded(response.get_data(as_text=True))
    pending = [d for d in deployed.reports.deadlines(MANAGER) if d["status"] == "pending"]
    assert lines.count("BEGIN:VEVENT") == len(pending) >= 1
    assert not any(line.startswith("SUMMARY:Injected") for line in lines)


# --- behind a TLS proxy -----------------------------------------------------------------------

PASSWORD = "proxy tests password"
HOST = "reviewflow.example"
FORWARDED = {
    "X-Forwarded-Proto": "https",
    "X-Forwarded-Host": HOST,
    "X-Forwarded-For": "203.0.113.7",
    "Referer": f"https://{HOST}/sign-in",
}


def _app(database_url, hops: int):
    from engine.services import Reviewflow

    service = Reviewflow(
        make_settings(
            database_url,
            REVIEWFLOW_TRUSTED_PROXIES=str(hops),
            REVIEWFLOW_SECRET_KEY="test-only-secret-key-for-the-proxy-tests",
        )
    )
    service.deployments.deploy_paths([ROOT / "processes", ROOT / "forms"], PROCESS_OWNER)
    service.users.add("bina", ["Business Unit"], password=PASSWORD)
    return service, create_app(service)


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def _feed_address(client, headers: dict) -> str:
    token = _csrf(client.get("/sign-in", headers=headers).get_data(as_text=True))
    client.post(
        "/sign-in", data={"username": "bina", "password": PASSWORD, "csrf_token": token}, headers=headers
    )
    page = client.get("/calendar", headers=headers)
    assert page.status_code == 200, page.status_code
    made = client.post(
        "/calendar",
        data={"csrf_token": _csrf(page.get_data(as_text=True))},
        headers={**headers, "Referer": headers.get("Referer", "").replace("/sign-in", "/calendar")},
    )
    assert made.status_code == 200, made.get_data(as_text=True)[:500]
    return re.search(r'id="feed-url"[^>]*>\s*([^<\s]+)', made.get_data(as_text=True)).group(1)


def test_behind_one_trusted_proxy_the_scheme_and_host_are_the_forwarded_ones(database_url):
    service, app = _app(database_url, hops=1)
    try:
        client = app.test_client()
        response = client.get("/sign-in", headers=FORWARDED)
        assert response.headers["Strict-Transport-Security"].startswith("max-age=")
        assert _feed_address(client, FORWARDED).startswith(f"https://{HOST}/calendar/cal_")
    finally:
        service.db.dispose()


def test_without_trusted_proxies_forwarded_headers_are_ignored(database_url):
    service, app = _app(database_url, hops=0)
    try:
        client = app.test_client()
        response = client.get("/sign-in", headers=FORWARDED)
        assert "Strict-Transport-Security" not in response.headers
        assert _feed_address(client, {k: v for k, v in FORWARDED.items() if k != "Referer"}).startswith(
            "http://localhost/calendar/cal_"
        )
    finally:
        service.db.dispose()


def test_the_number_of_trusted_proxies_is_checked():
    from engine import config

    assert config.load({"REVIEWFLOW_DATABASE_URL": "sqlite://"}).trusted_proxies == 0
    assert (
        config.load(
            {"REVIEWFLOW_DATABASE_URL": "sqlite://", "REVIEWFLOW_TRUSTED_PROXIES": "2"}
        ).trusted_proxies
        == 2
    )
    with pytest.raises(config.ConfigError):
        config.load({"REVIEWFLOW_DATABASE_URL": "sqlite://", "REVIEWFLOW_TRUSTED_PROXIES": "-1"})
