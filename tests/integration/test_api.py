"""The JSON API: authentication, the contract's paths, and an error body for every kind of bad request."""

from __future__ import annotations

import io
import json

import pytest

from tests.api_contract import contract
from tests.conftest import ROOT
from tests.integration.test_demo_process import INCIDENT
from web.app import create_app


@pytest.fixture
def api(deployed):
    app = create_app(deployed)
    client = app.test_client()
    tokens = {}
    for name, roles in (
        ("bina", ["Business Unit"]),
        ("amir", ["Contributing agency"]),
        ("mo", ["manager"]),
        ("olivia", ["process_owner"]),
    ):
        deployed.users.add(name, roles)
        tokens[name] = deployed.users.create_token(name)

    def call(method, path, who="bina", headers=None, **kwargs):
        headers = dict(headers or {})
        if who:
            headers["Authorization"] = f"Bearer {tokens[who]}"
        response = client.open(f"/api/v1{path}", method=method, headers=headers, **kwargs)
        contract().check(method, path, response)  # every answer as the OpenAPI document declares
        return response

    return call


def error(response, status, code):
    assert response.status_code == status, response.get_json()
    body = response.get_json()
    assert body["error"]["code"] == code and body["error"]["message"]
    return body["error"]


def start(api):
    r = api("POST", "/processes/engine_demo/instances", json={"data": {"regime": "WT2018"}})
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def test_authentication_is_required(api):
    error(api("GET", "/tasks", who=None), 401, "unauthorized")
    r = api("GET", "/tasks", who=None, headers={"Authorization": "Bearer nope"})
    error(r, 401, "unauthorized")


def test_openapi_lists_every_contract_path(api):
    doc = api("GET", "/openapi.json", who=None).get_json()
    for path in (
        "/processes",
        "/processes/{process_id}/instances",
        "/instances",
        "/instances/{id}",
        "/tasks",
        "/tasks/{id}",
        "/tasks/{id}/claim",
        "/tasks/{id}/unclaim",
        "/tasks/{id}/complete",
        "/instances/{id}/messages",
        "/decisions/{decision_id}/evaluate",
        "/deployments",
        "/outbox",
        "/calendar/working-days",
    ):
        assert path in doc["paths"], path


def test_a_case_through_the_api(api):
    assert [p["process_id"] for p in api("GET", "/processes").get_json()["processes"]] == sorted(
        [
            "engine_demo",
            "engine_demo_summary",
            "incident_notification",
            "rapid_review",
            "local_cspr",
            "local_cspr_review",
            "scr_decision",
            "serious_case_review",
            "serious_case_review_conduct",
            "multi_agency_review",
            "recommendation_monitoring",
        ]
    )
    case = start(api)
    [task] = api("GET", "/tasks").get_json()["tasks"]
    detail = api("GET", f"/tasks/{task['id']}").get_json()
    assert detail["form_schema"]["properties"]["date_aware"]["format"] == "date"
    authored = json.loads((ROOT / "forms" / detail["form"]).read_text())
    assert list(detail["form_schema"]["properties"]) == list(authored["properties"])  # as written
    assert api("POST", f"/tasks/{task['id']}/claim").get_json()["assignee"] == "bina"
    assert api("GET", "/tasks?mine=1").get_json()["tasks"][0]["id"] == task["id"]

    bad = error(
        api("POST", f"/tasks/{task['id']}/complete", json={"data": {**INCIDENT, "date_aware": "yesterday"}}),
        422,
        "validation_failed",
    )
    assert [d["path"] for d in bad["details"]] == ["date_aware"]
    assert api("POST", f"/tasks/{task['id']}/complete", json={"data": INCIDENT}).status_code == 200
    error(api("POST", f"/tasks/{task['id']}/complete", json={"data": INCIDENT}), 409, "conflict")

    [agency_task] = api("GET", "/tasks", who="amir").get_json()["tasks"]
    assert agency_task["due_date"] == "2026-12-30"
    error(
        api(
            "POST", f"/instances/{case['id']}/messages", who="mo", json={"name": "Panel response", "data": {}}
        ),
        409,
        "conflict",
    )
    view = api("GET", f"/instances/{case['id']}", who="mo").get_json()
    assert view["status"] == "running" and view["deadlines"][0]["key"] == "R1"
    assert [m["status"] for m in api("GET", "/outbox", who="mo").get_json()["messages"]] == ["pending"]


def test_errors_for_unknown_ids_roles_and_bodies(api):
    start(api)
    [task] = api("GET", "/tasks").get_json()["tasks"]
    error(api("GET", "/instances/99999", who="mo"), 404, "not_found")
    error(api("GET", "/tasks/no-such-task"), 404, "not_found")
    error(api("POST", "/processes/nope/instances", json={"data": {}}), 404, "not_found")
    error(api("POST", f"/tasks/{task['id']}/complete", who="amir", json={"data": INCIDENT}), 403, "forbidden")
    error(api("POST", f"/tasks/{task['id']}/claim", who="amir"), 403, "forbidden")
    error(
        api("POST", f"/tasks/{task['id']}/complete", data="not json", content_type="application/json"),
        400,
        "bad_request",
    )
    error(
        api("POST", "/processes/engine_demo/instances", json={"data": {"regime": "WT1999"}}),
        422,
        "validation_failed",
    )
    error(api("POST", "/processes/engine_demo/instances", json={"data": {}}), 422, "validation_failed")
    error(api("GET", "/outbox"), 403, "forbidden")


def test_decisions_and_calendar(api):
    r = api(
        "POST",
        "/decisions/demo_triage/evaluate",
        json={"inputs": {"child_died": True, "seriously_harmed": False, "abuse_or_neglect": "known"}},
    )
    assert r.get_json()["outputs"] == {"notify": True, "priority": "high"}
    missing = error(
        api("POST", "/decisions/demo_triage/evaluate", json={"inputs": {"child_died": True}}),
        422,
        "validation_failed",
    )
    assert {d["path"] for d in missing["details"]} == {"seriously_harmed", "abuse_or_neglect"}
    error(api("POST", "/decisions/nope/evaluate", json={"inputs": {}}), 404, "not_found")
    assert api("GET", "/calendar/working-days?from=2026-12-24&days=1").get_json()["date"] == "2026-12-29"
    assert api("GET", "/calendar/working-days?from=2026-12-29&days=-1").get_json()["date"] == "2026-12-24"
    error(api("GET", "/calendar/working-days?from=24/12/2026&days=1"), 422, "validation_failed")


def upload(api, who: str, diagram: bytes):
    """``diagram`` sent as engine_demo.bpmn to POST /deployments by ``who``."""
    return api(
        "POST",
        "/deployments",
        who=who,
        data={"files": [(io.BytesIO(diagram), "engine_demo.bpmn")]},
        content_type="multipart/form-data",
    )


def test_deployments_over_http(api):
    demo = (ROOT / "processes" / "demo" / "engine_demo.bpmn").read_bytes()
    changed = demo.replace(b'name="Done"', b'name="Finished"')
    r = upload(api, "olivia", changed)
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["processes"] == [
        {
            "process_id": "engine_demo",
            "version": 2,
            "content_hash": r.get_json()["processes"][0]["content_hash"],
        }
    ]
    bad = changed.replace(
        b'send_notification" resultVariable="panel_notice"', b'send_fax" resultVariable="panel_notice"'
    )
    err = error(upload(api, "olivia", bad), 422, "validation_failed")
    assert err["details"][0]["element_id"] == "notify_panel"
    assert api("GET", "/deployments", who="olivia").get_json()["deployments"][0]["deployed_by"] == "olivia"
    error(api("GET", "/deployments", who="bina"), 403, "forbidden")
    error(upload(api, "bina", changed), 403, "forbidden")
    error(
        api(
            "POST",
            "/deployments",
            who="olivia",
            data={"files": [(io.BytesIO(b"<a>" + b" " * (3 * 1024 * 1024) + b"</a>"), "big.bpmn")]},
            content_type="multipart/form-data",
        ),
        413,
        "too_large",
    )


def test_calendar_overrides_move_deadlines(api, deployed):
    deployed.users.add("ada", ["admin"])
    error(
        api("PUT", "/calendar/overrides/2026-12-29", json={"kind": "holiday", "note": "x"}), 403, "forbidden"
    )
    admin_token = deployed.users.create_token("ada")
    headers = {"Authorization": f"Bearer {admin_token}"}
    r = api(
        "PUT",
        "/calendar/overrides/2026-12-29",
        who=None,
        headers=headers,
        json={"kind": "holiday", "note": "One-off holiday"},
    )
    assert r.status_code == 200, r.get_json()
    assert api("GET", "/calendar/working-days?from=2026-12-24&days=1").get_json()["date"] == "2026-12-30"
    assert api("GET", "/calendar/overrides").get_json()["overrides"][0]["day"] == "2026-12-29"
    start(api)
    [task] = api("GET", "/tasks").get_json()["tasks"]
    api("POST", f"/tasks/{task['id']}/complete", json={"data": INCIDENT})
    [agency_task] = api("GET", "/tasks", who="amir").get_json()["tasks"]
    assert agency_task["due_date"] == "2026-12-31"  # 29 Dec no longer counts


def test_odd_values_get_clear_errors_not_server_errors(api):
    error(api("GET", "/instances/603411637915214743076864", who="mo"), 404, "not_found")
    error(api("GET", "/instances/2147483648", who="mo"), 404, "not_found")
    error(api("POST", "/instances/1/cancel", who="mo", json={"reason": [None, None]}), 400, "bad_request")
    error(api("POST", "/instances/1/messages", who="mo", json={"name": 5, "data": {}}), 400, "bad_request")
    error(
        api("POST", "/messages", who="mo", json={"name": "x", "business_key": None, "data": {}}),
        422,
        "validation_failed",
    )
    error(api("POST", "/tasks/x/reassign", who="mo", json={"username": ["a"]}), 400, "bad_request")
    error(
        api("POST", "/processes/engine_demo/instances", json={"data": {"__class__": 1}}),
        422,
        "validation_failed",
    )
    error(
        api("POST", "/processes/engine_demo/instances", json={"data": {"deadline": 1}}),
        422,
        "validation_failed",
    )
    error(
        api(
            "POST",
            "/processes/engine_demo/instances",
            json={"data": {"regime": "WT2018", "x": "y" * 300_000}},
        ),
        422,
        "validation_failed",
    )
    error(api("DELETE", "/tasks"), 405, "method_not_allowed")
    error(api("GET", "/nowhere"), 404, "not_found")
    error(
        api("POST", "/processes/engine_demo/instances", json={"data": {"regime": 2018}}),
        422,
        "validation_failed",
    )
    error(api("GET", "/instances?offset=99999999999999999999999", who="mo"), 400, "bad_request")
    error(api("GET", "/instances?limit=0", who="mo"), 400, "bad_request")


def test_the_modeller_catalogue(api):
    handlers = {h["name"]: h for h in api("GET", "/handlers", who="olivia").get_json()["handlers"]}
    assert {"send_notification", "start_process", "merge_chronologies"} <= set(handlers)
    assert [p["name"] for p in handlers["send_notification"]["parameters"]] == ["to", "template", "extra"]
    assert {"demo_incident.json", "demo_agency_return.json"} <= {
        f["name"] for f in api("GET", "/forms", who="olivia").get_json()["forms"]
    }
    keys = {(d["ruleset"], d["key"]) for d in api("GET", "/deadlines", who="olivia").get_json()["deadlines"]}
    assert ("WT2018", "R6") in keys and ("BOLTON_PRE2015", "S9") in keys
    assert (
        api("GET", "/processes/engine_demo/versions", who="olivia").get_json()["versions"][0]["version"] == 1
    )
    r = api("GET", "/processes/engine_demo/bpmn", who="olivia")
    assert r.status_code == 200 and r.data.startswith(b"<?xml") and b'id="engine_demo"' in r.data
    error(api("GET", "/processes/engine_demo/bpmn?version=9", who="olivia"), 404, "not_found")
    error(api("GET", "/handlers"), 403, "forbidden")
