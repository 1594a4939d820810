"""Diagram and decision code cannot take the service down: a script that never ends or builds a
huge value fails only its own case, with a clear error, within its time budget; a decision that
would compute a huge number answers with an error (422 at the API), never a hang or a 500.

Each scenario runs in a forked child killed at a deadline (tests/isolated.py), with its own
service on the test's database, so that a regression fails instead of hanging the test run.
"""

from __future__ import annotations

import pytest

from engine.services import Reviewflow
from engine.services.errors import Invalid
from tests.bpmn_parts import SIZING_DMN
from tests.conftest import BUSINESS_UNIT, MANAGER, PROCESS_OWNER, make_settings
from tests.isolated import run_isolated
from tests.layout import with_layout

PROCESS = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="bounded_defs"
    targetNamespace="t">
  <bpmn:process id="{process_id}" isExecutable="true">
    <bpmn:laneSet id="ls"><bpmn:lane id="lane_bu" name="Business Unit">
      <bpmn:flowNodeRef>bs_start</bpmn:flowNodeRef><bpmn:flowNodeRef>work</bpmn:flowNodeRef>
      <bpmn:flowNodeRef>bs_end</bpmn:flowNodeRef></bpmn:lane></bpmn:laneSet>
    <bpmn:startEvent id="bs_start"><bpmn:outgoing>bs_1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:scriptTask id="work" name="Work">
      <bpmn:incoming>bs_1</bpmn:incoming><bpmn:outgoing>bs_2</bpmn:outgoing>
      <bpmn:script>{script}</bpmn:script></bpmn:scriptTask>
    <bpmn:endEvent id="bs_end"><bpmn:incoming>bs_2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="bs_1" sourceRef="bs_start" targetRef="work"/>
    <bpmn:sequenceFlow id="bs_2" sourceRef="work" targetRef="bs_end"/>
  </bpmn:process>
</bpmn:definitions>
"""

NEVER_ENDS = "n = 0\nwhile True:\n    if n &lt; 0:\n        break\n    n = n + 1"
HUGE_STRING = "count = len('1234567')\nbig = 'a' * (5 * 10 ** count)"
GOOD = "greeting = 'done ' + str(2 ** 10)"


def process(process_id: str, script: str) -> bytes:
    return with_layout(PROCESS.format(process_id=process_id, script=script).encode())


def run_case(url: str, script: str, env: dict) -> dict:
    """Deploy a one-script process, start a case, then a good case; report both as stored."""
    service = Reviewflow(make_settings(url, **env))
    service.deployments.deploy(
        {"bounded.bpmn": process("bounded", script), "good.bpmn": process("good", GOOD)}, PROCESS_OWNER
    )
    bad = service.instances.start("bounded", {}, BUSINESS_UNIT)
    good = service.instances.start("good", {}, BUSINESS_UNIT)
    stored_bad = service.queries.get_instance(bad["id"], MANAGER)
    stored_good = service.queries.get_instance(good["id"], MANAGER)
    return {
        "status": stored_bad["status"],
        "error": stored_bad["error"],
        "data": stored_bad["data"],
        "good_status": stored_good["status"],
        "good_data": stored_good["data"],
    }


def test_a_loop_that_never_ends_fails_only_its_case_within_the_time_limit(database_url):
    outcome = run_isolated(run_case, database_url, NEVER_ENDS, {}, timeout=20)
    assert outcome.raised is None, outcome.raised
    case = outcome.value
    assert case["status"] == "error"
    assert "work: script: the time limit of 2 s was reached" in case["error"], case["error"]
    assert case["good_status"] == "completed" and case["good_data"]["greeting"] == "done 1024"
    assert outcome.seconds < 10


def test_the_time_limit_is_a_setting(database_url):
    outcome = run_isolated(
        run_case, database_url, NEVER_ENDS, {"REVIEWFLOW_SCRIPT_TIME_LIMIT_SECONDS": "0.5"}, timeout=20
    )
    assert outcome.raised is None, outcome.raised
    assert "the time limit of 0.5 s was reached" in outcome.value["error"]


def test_a_huge_string_fails_its_case_and_is_not_stored(database_url):
    outcome = run_isolated(run_case, database_url, HUGE_STRING, {}, timeout=20)
    assert outcome.raised is None, outcome.raised
    case = outcome.value
    assert case["status"] == "error" and "larger than 1 MiB" in case["error"], case["error"]
    assert "big" not in case["data"]
    assert case["good_status"] == "completed"


def test_the_size_limit_is_a_setting(database_url):
    script = "count = len('12345')\nbig = 'a' * count * 100"
    outcome = run_isolated(
        run_case, database_url, script, {"REVIEWFLOW_SCRIPT_MAX_BYTES": "4096"}, timeout=20
    )
    assert outcome.raised is None, outcome.raised
    assert outcome.value["status"] == "completed" and len(outcome.value["data"]["big"]) == 500
    script = "count = len('12345')\nbig = 'a' * count * 1000"
    outcome = run_isolated(
        run_case, database_url, script, {"REVIEWFLOW_SCRIPT_MAX_BYTES": "4096"}, timeout=20
    )
    assert outcome.value["status"] == "error" and "larger than 4 KiB" in outcome.value["error"]


def test_code_that_can_never_run_is_refused_at_deploy(service):
    with pytest.raises(Invalid) as exc:
        service.deployments.deploy(
            {
                "spin.bpmn": process("spin", "while True:\n    pass"),
                "sizing.dmn": SIZING_DMN.format(output="10**10**8").encode(),
            },
            PROCESS_OWNER,
        )
    found = [(p["file"], p["element_id"], p["message"]) for p in exc.value.details]
    assert any(f == "spin.bpmn" and e == "work" and "never ends" in m for f, e, m in found), found
    assert any(f == "sizing.dmn" and "larger than" in m for f, e, m in found), found


def evaluate_decision(url: str, digits: int) -> dict:
    from web.app import create_app

    service = Reviewflow(make_settings(url))
    service.deployments.deploy(
        {"sizing.dmn": SIZING_DMN.format(output="10 ** (10 ** digits)").encode()}, PROCESS_OWNER
    )
    try:
        service.decisions.evaluate("sizing", {"digits": digits}, MANAGER)
        service_error = None
    except Invalid as exc:
        service_error = str(exc)
    service.users.add("mo", ["manager"])
    token = service.users.create_token("mo")
    client = create_app(service).test_client()
    response = client.post(
        "/api/v1/decisions/sizing/evaluate",
        json={"inputs": {"digits": digits}},
        headers={"Authorization": f"Bearer {token}"},
    )
    return {"service_error": service_error, "status": response.status_code, "body": response.get_json()}


def test_a_decision_that_would_compute_a_huge_number_answers_with_an_error(database_url):
    outcome = run_isolated(evaluate_decision, database_url, 8, timeout=20)
    assert outcome.raised is None, outcome.raised
    result = outcome.value
    assert result["service_error"] and "larger than" in result["service_error"], result
    assert result["status"] == 422 and "larger than" in result["body"]["error"]["message"], result
    assert outcome.seconds < 10


def test_a_decision_within_the_limits_still_answers(database_url):
    outcome = run_isolated(evaluate_decision, database_url, 2, timeout=20)
    assert outcome.value["service_error"] is None
    assert outcome.value["status"] == 200 and outcome.value["body"]["outputs"] == {"value": 10**100}
