"""Hostile input against the running server: each request must be refused (4xx) or served, never a 500.

The list follows issue 8's findings: NUL bytes in every kind of name and key, lone surrogates,
NaN and 1e400, JSON nested 5,000 deep, values longer than their columns, working days near the
ends of the calendar, odd path ids; and sign-in with a ``next`` that leaves the site.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import quote, urljoin, urlsplit

from tests.chaos.web import Answer, Client

PLAIN = "chaos_plain"  # the process hostile starts are aimed at: no timer, sends nothing


@dataclass(frozen=True)
class Probe:
    name: str
    method: str
    path: str
    body: bytes | None = None  # raw JSON (already encoded) for the API


def _j(value) -> bytes:
    return json.dumps(value).encode()


def _start(data_json: str) -> bytes:
    return ('{"data": ' + data_json + "}").encode()


def api_probes(instance_id: int, task_id: str) -> list[Probe]:
    nul, sur = "\u0000", "\\ud800"  # sur: a lone surrogate as it appears in JSON text
    deep_list = "[" * 5000 + "]" * 5000
    deep_dict = '{"a": ' * 5000 + "1" + "}" * 5000
    start = f"/processes/{PLAIN}/instances"
    p = [
        # NUL bytes
        Probe("start: NUL in case_reference", "POST", start, _j({"data": {"case_reference": f"RF-{nul}-1"}})),
        Probe("start: NUL in regime", "POST", start, _j({"data": {"regime": f"WT{nul}2018"}})),
        Probe("start: NUL in ruleset", "POST", start, _j({"data": {"ruleset": f"x{nul}"}})),
        Probe("start: NUL in a field", "POST", start, _j({"data": {"label": f"a{nul}b"}})),
        Probe("start: NUL in a key", "POST", start, _j({"data": {f"a{nul}": 1}})),
        Probe(
            "message: NUL in name",
            "POST",
            f"/instances/{instance_id}/messages",
            _j({"name": f"Panel{nul}", "data": {}}),
        ),
        Probe(
            "message: NUL in name (by key)",
            "POST",
            "/messages",
            _j({"name": f"x{nul}", "business_key": "RF-1"}),
        ),
        Probe(
            "message: NUL in business key",
            "POST",
            "/messages",
            _j({"name": "Panel response", "business_key": f"RF{nul}"}),
        ),
        Probe("task id: /tasks/%00", "GET", "/tasks/%00"),
        Probe("task id: NUL inside", "GET", "/tasks/abc%00def"),
        Probe("task id: claim /tasks/%00", "POST", "/tasks/%00/claim", b"{}"),
        Probe("task id: complete /tasks/%00", "POST", "/tasks/%00/complete", _j({"data": {}})),
        Probe("process id: NUL", "GET", "/processes/%00/versions"),
        Probe("process id: NUL (bpmn)", "GET", "/processes/a%00/bpmn"),
        Probe("process id: NUL (start)", "POST", "/processes/%00/instances", _j({"data": {}})),
        Probe("decision id: NUL", "POST", "/decisions/%00/evaluate", _j({"inputs": {}})),
        Probe("instance id: NUL", "GET", "/instances/%00"),
        Probe("filter: status NUL", "GET", "/instances?status=%00"),
        Probe("filter: process_id NUL", "GET", "/instances?process_id=a%00"),
        Probe("filter: outbox status NUL", "GET", "/outbox?status=%00"),
        Probe(
            "calendar: NUL in note",
            "PUT",
            "/calendar/overrides/2031-01-02",
            _j({"kind": "holiday", "note": f"a{nul}b"}),
        ),
        Probe("calendar: NUL in day", "PUT", "/calendar/overrides/%00", _j({"kind": "holiday", "note": ""})),
        Probe("working days: NUL in from", "GET", "/calendar/working-days?from=%00&days=3"),
        # lone surrogates
        Probe("start: lone surrogate in a field", "POST", start, _start('{"label": "a' + sur + 'b"}')),
        Probe(
            "start: lone surrogate in case_reference",
            "POST",
            start,
            _start('{"case_reference": "' + sur + '"}'),
        ),
        Probe("start: lone surrogate in a key", "POST", start, _start('{"' + sur + '": 1}')),
        Probe(
            "message: lone surrogate in name",
            "POST",
            "/messages",
            ('{"name": "' + sur + '", "business_key": "RF-1"}').encode(),
        ),
        Probe(
            "message: lone surrogate in business key",
            "POST",
            "/messages",
            (b'{"name": "Panel response", "business_key": "\\udfff"}'),
        ),
        Probe("task id: invalid UTF-8", "GET", "/tasks/%ED%A0%80"),
        Probe("filter: invalid UTF-8", "GET", "/instances?status=%ED%A0%80"),
        # non-finite and huge numbers
        Probe("start: NaN", "POST", start, _start('{"label": NaN}')),
        Probe("start: Infinity", "POST", start, _start('{"label": Infinity}')),
        Probe("start: -Infinity", "POST", start, _start('{"label": -Infinity}')),
        Probe("start: 1e400", "POST", start, _start('{"label": 1e400}')),
        Probe("start: 5,000-digit integer", "POST", start, _start('{"label": ' + "9" * 5000 + "}")),
        Probe("complete: NaN", "POST", f"/tasks/{task_id}/complete", b'{"data": {"answer": NaN}}'),
        Probe(
            "message: 1e400",
            "POST",
            f"/instances/{instance_id}/messages",
            b'{"name": "x", "data": {"n": 1e400}}',
        ),
        Probe(
            "decision: NaN input",
            "POST",
            "/decisions/demo_triage/evaluate",
            b'{"inputs": {"child_died": NaN}}',
        ),
        Probe("limit 1e400", "GET", "/instances?limit=1e400"),
        Probe("offset beyond 64 bits", "GET", "/instances?offset=" + "9" * 30),
        # deep nesting
        Probe("start: data nested 5,000 deep (lists)", "POST", start, _start(deep_list)),
        Probe("start: data nested 5,000 deep (objects)", "POST", start, _start(deep_dict)),
        Probe("body nested 5,000 deep", "POST", start, deep_list.encode()),
        Probe(
            "message: data nested 5,000 deep",
            "POST",
            f"/instances/{instance_id}/messages",
            ('{"name": "x", "data": ' + deep_dict + "}").encode(),
        ),
        Probe(
            "complete: data nested 5,000 deep",
            "POST",
            f"/tasks/{task_id}/complete",
            ('{"data": {"answer": ' + deep_list + "}}").encode(),
        ),
        Probe(
            "decision: inputs nested 5,000 deep",
            "POST",
            "/decisions/demo_triage/evaluate",
            ('{"inputs": ' + deep_dict + "}").encode(),
        ),
        # longer than the column
        Probe(
            "start: case_reference of 200 characters",
            "POST",
            start,
            _j({"data": {"case_reference": "R" * 200}}),
        ),
        Probe(
            "start: case_reference of 121 characters",
            "POST",
            start,
            _j({"data": {"case_reference": "R" * 121}}),
        ),
        Probe("start: regime of 200 characters", "POST", start, _j({"data": {"regime": "W" * 200}})),
        Probe("start: ruleset of 200 characters", "POST", start, _j({"data": {"ruleset": "W" * 200}})),
        Probe(
            "message: name of 300 characters",
            "POST",
            f"/instances/{instance_id}/messages",
            _j({"name": "m" * 300, "data": {}}),
        ),
        Probe(
            "message: business key of 200 characters",
            "POST",
            "/messages",
            _j({"name": "Panel response", "business_key": "K" * 200}),
        ),
        Probe("task id of 200 characters", "GET", "/tasks/" + "t" * 200),
        Probe(
            "reassign: user name of 300 characters",
            "POST",
            f"/tasks/{task_id}/reassign",
            _j({"username": "u" * 300}),
        ),
        Probe(
            "process id of 300 characters", "POST", "/processes/" + "p" * 300 + "/instances", _j({"data": {}})
        ),
        Probe(
            "calendar: note of 300 characters",
            "PUT",
            "/calendar/overrides/2031-01-03",
            _j({"kind": "holiday", "note": "n" * 300}),
        ),
        Probe(
            "suspend: reason of 100,000 characters",
            "POST",
            f"/instances/{instance_id}/suspend",
            _j({"reason": "r" * 100_000}),
        ),
        # the ends of the calendar
        Probe("working days from 9999-12-31", "GET", "/calendar/working-days?from=9999-12-31&days=10"),
        Probe(
            "working days from 9999-12-20, 30 days", "GET", "/calendar/working-days?from=9999-12-20&days=30"
        ),
        Probe(
            "working days from 0001-01-01 backwards", "GET", "/calendar/working-days?from=0001-01-01&days=-10"
        ),
        Probe("working days from 0001-01-01", "GET", "/calendar/working-days?from=0001-01-01&days=10"),
        Probe(
            "working days: a billion days", "GET", "/calendar/working-days?from=2026-01-01&days=1000000000"
        ),
        Probe("working days: 1e400 days", "GET", "/calendar/working-days?from=2026-01-01&days=1e400"),
        Probe(
            "calendar: override on 9999-12-31",
            "PUT",
            "/calendar/overrides/9999-12-31",
            _j({"kind": "holiday", "note": "end"}),
        ),
        Probe(
            "calendar: override on 0001-01-01",
            "PUT",
            "/calendar/overrides/0001-01-01",
            _j({"kind": "holiday", "note": "start"}),
        ),
        # odd bodies
        Probe("start: body is a list", "POST", start, b"[]"),
        Probe("start: body is not JSON", "POST", start, b"\x00\xff\xfe"),
        Probe("start: data is a string", "POST", start, _j({"data": "x"})),
        Probe("start: duplicate keys", "POST", start, b'{"data": {"label": "a", "label": "b"}}'),
    ]
    return p


def run_api(client: Client, probes: list[Probe]) -> list[dict]:
    out = []
    for probe in probes:
        answer = (
            client.api(probe.method, probe.path, raw=probe.body)
            if probe.body is not None
            else client.api(probe.method, probe.path)
        )
        out.append(_outcome(probe.name, probe.method, probe.path, answer))
    return out


def _outcome(name: str, method: str, path: str, answer: Answer) -> dict:
    return {
        "name": name,
        "method": method,
        "path": path[:120],
        "status": answer.status,
        "error": answer.error,
        "body": answer.body[:300].decode("utf-8", "replace"),
    }


def sign_in_probes(port: int, username: str, password: str) -> tuple[list[dict], list[dict]]:
    """Hostile sign-in forms (500s counted) and sign-ins with a ``next`` off this site (redirects checked)."""
    nul = "\u0000"
    hostile = [
        ("sign-in: NUL in user name", [("username", f"a{nul}b"), ("password", "x" * 12)]),
        ("sign-in: lone surrogate in user name", [("username", "a\ud800b"), ("password", "x" * 12)]),
        ("sign-in: user name of 10,000 characters", [("username", "u" * 10_000), ("password", "x" * 12)]),
        ("sign-in: NUL in password", [("username", username), ("password", f"x{nul}y")]),
        ("sign-in: NUL in next", [("username", "nobody-here"), ("password", "x" * 12), ("next", f"/{nul}")]),
    ]
    answers = []
    for name, fields in hostile:
        answers.append(_outcome(name, "POST", "/sign-in", Client(port).form("/sign-in", fields)))
    redirects = []
    for target in (
        "/\t/evil.example",
        "//evil.example",
        "/\\evil.example",
        "https://evil.example/",
        "/\r\n/evil.example",
        " //evil.example",
        "/%09/evil.example",
        "\t//evil.example",
    ):
        client = Client(port)
        answer = client.form("/sign-in", [("username", username), ("password", password), ("next", target)])
        location = answer.headers.get("location", "")
        redirects.append(
            {
                "next": target,
                "status": answer.status,
                "location": location,
                "off_site": off_site(location, port),
                "error": answer.error,
            }
        )
        answers.append(_outcome(f"sign-in: next={target!r}", "POST", "/sign-in", answer))
    return answers, redirects


def off_site(location: str, port: int) -> bool:
    """Whether a browser following ``Location`` would leave this site (browsers drop tabs and line breaks)."""
    if not location:
        return False
    cleaned = "".join(ch for ch in location if ch not in "\t\r\n").strip()
    target = urlsplit(urljoin(f"http://127.0.0.1:{port}/sign-in", cleaned.replace("\\", "/")))
    return target.netloc not in ("", f"127.0.0.1:{port}", "localhost", f"localhost:{port}")


def quote_path(value: str) -> str:
    return quote(value, safe="")
