"""One request per agency in parallel, each visible only to that agency (roleExpression), and the
returns merged into one chronology ordered by date."""

from __future__ import annotations

import pytest

from engine.services.actor import Actor
from engine.services.errors import Forbidden
from tests.bpmn_parts import end_event, flows_and_closing, opening, start_roles
from tests.conftest import BUSINESS_UNIT, MANAGER, PROCESS_OWNER
from tests.layout import with_layout

FORM = b"""{"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": "forms/test_return.json",
 "title": "Return agency information", "type": "object", "additionalProperties": false,
 "required": ["agency", "chronology"],
 "properties": {"agency": {"title": "Agency", "type": "string", "maxLength": 100},
   "chronology": {"title": "Chronology", "type": "array", "maxItems": 50, "items": {"type": "object",
     "properties": {"date": {"title": "Date", "type": "string", "format": "date"},
                    "event": {"title": "Event", "type": "string", "maxLength": 500}}}}}}"""

PROCESS = (
    opening("agency_requests", "agency_defs")
    + start_roles("Business Unit")
    + """    <bpmn:laneSet id="ls"><bpmn:lane id="lane_agency" name="Contributing agency">
      <bpmn:flowNodeRef>ask</bpmn:flowNodeRef></bpmn:lane></bpmn:laneSet>
    <bpmn:startEvent id="ar_start"><bpmn:outgoing>ar_1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="ask" name="Return agency information">
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="formJsonSchemaFilename" value="test_return.json"/>
        <spiffworkflow:property name="roleExpression" value="'Agency: ' + agency"/>
      </spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:incoming>ar_1</bpmn:incoming><bpmn:outgoing>ar_2</bpmn:outgoing>
      <bpmn:multiInstanceLoopCharacteristics>
        <bpmn:loopDataInputRef>agencies</bpmn:loopDataInputRef>
        <bpmn:loopDataOutputRef>returns</bpmn:loopDataOutputRef>
        <bpmn:inputDataItem id="agency" name="agency"/>
        <bpmn:outputDataItem id="returned" name="returned"/>
      </bpmn:multiInstanceLoopCharacteristics>
    </bpmn:userTask>
    <bpmn:scriptTask id="collect" name="Collect">
      <bpmn:incoming>ar_2</bpmn:incoming><bpmn:outgoing>ar_3</bpmn:outgoing>
      <bpmn:script>returns_count = len(returns)</bpmn:script></bpmn:scriptTask>
    <bpmn:serviceTask id="merge" name="Merge chronologies">
      <bpmn:extensionElements>
      <spiffworkflow:serviceTaskOperator id="merge_chronologies" resultVariable="case_chronology">
        <spiffworkflow:parameters>
          <spiffworkflow:parameter id="returns" type="list" value="returns"/>
        </spiffworkflow:parameters>
      </spiffworkflow:serviceTaskOperator></bpmn:extensionElements>
      <bpmn:incoming>ar_3</bpmn:incoming><bpmn:outgoing>ar_4</bpmn:outgoing></bpmn:serviceTask>
"""
    + end_event("ar_end", "ar_4")
    + flows_and_closing(
        ("ar_1", "ar_start", "ask"),
        ("ar_2", "ask", "collect"),
        ("ar_3", "collect", "merge"),
        ("ar_4", "merge", "ar_end"),
    )
).encode()
POLICE = Actor("pc", frozenset({"Agency: Police"}))
HEALTH = Actor("hv", frozenset({"Agency: Health"}))


def test_each_agency_sees_and_returns_only_its_own_request(service):
    service.deployments.deploy(
        {"agency_requests.bpmn": with_layout(PROCESS), "test_return.json": FORM}, PROCESS_OWNER
    )
    started = service.instances.start("agency_requests", {"agencies": ["Police", "Health"]}, BUSINESS_UNIT)
    [police] = service.tasks.for_user(POLICE)
    [health] = service.tasks.for_user(HEALTH)
    assert (police["role"], health["role"]) == ("Agency: Police", "Agency: Health")
    assert service.tasks.for_user(BUSINESS_UNIT) == []
    with pytest.raises(Forbidden):
        service.instances.complete_task(police["id"], {"agency": "Police", "chronology": []}, HEALTH)
    service.instances.complete_task(
        health["id"],
        {"agency": "Health", "chronology": [{"date": "2026-10-01", "event": "Missed appointment"}]},
        HEALTH,
    )
    service.instances.complete_task(
        police["id"],
        {
            "agency": "Police",
            "chronology": [
                {"date": "2026-09-12", "event": "Domestic incident attended"},
                {"date": "2026-11-03", "event": "Welfare check"},
            ],
        },
        POLICE,
    )
    case = service.queries.get_instance(started["id"], MANAGER)
    assert case["status"] == "completed", case["error"]
    rows = case["data"]["case_chronology"]["chronology"]
    assert [(r["date"], r["agency"]) for r in rows] == [
        ("2026-09-12", "Police"),
        ("2026-10-01", "Health"),
        ("2026-11-03", "Police"),
    ]


def test_the_merged_chronology_exports_as_csv(service):
    from web.app import create_app

    service.deployments.deploy(
        {"agency_requests.bpmn": with_layout(PROCESS), "test_return.json": FORM}, PROCESS_OWNER
    )
    started = service.instances.start("agency_requests", {"agencies": ["Police"]}, BUSINESS_UNIT)
    [police] = service.tasks.for_user(POLICE)
    service.instances.complete_task(
        police["id"],
        {
            "agency": "Police",
            "chronology": [{"date": "2026-09-12", "event": '=HYPERLINK("http://example.org")'}],
        },
        POLICE,
    )
    service.users.add("mo", ["manager"])
    token = service.users.create_token("mo")
    client = create_app(service).test_client()
    r = client.get(
        f"/api/v1/instances/{started['id']}/chronology?format=csv",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert r.status_code == 200 and r.mimetype == "text/csv"
    assert r.data.decode().splitlines() == [
        "date,agency,worker,event",
        '2026-09-12,Police,,"\'=HYPERLINK(""http://example.org"")"',
    ]
