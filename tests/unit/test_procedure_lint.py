"""What `reviewflow check` asks of a procedure beyond a runnable diagram (engine/bpmn/procedure_lint.py):
every rule-encoding element cites its source paragraph; a deadline key exists under every rule set the step
can run under; every decision input is supplied by a form, start data, a script, a message or a hand-over.
Read on a small procedure written here, with the product's own rule sets, and on the product's processes."""

from __future__ import annotations

import json

import pytest

from engine.bpmn import bundle
from tests.bpmn_parts import deadline_passes, end_event, flows_and_closing, opening, service_task, start_roles
from tests.conftest import ROOT
from tests.layout import with_layout

NAMESPACE = "http://reviewflow.example/test"

INTAKE = (
    opening("intake", "defs_intake", NAMESPACE)
    + start_roles("Staff")
    + """    <bpmn:laneSet id="intake_lanes"><bpmn:lane id="intake_staff" name="Staff">
      <bpmn:flowNodeRef>intake_start</bpmn:flowNodeRef><bpmn:flowNodeRef>record</bpmn:flowNodeRef>
    </bpmn:lane></bpmn:laneSet>
    <bpmn:startEvent id="intake_start"><bpmn:outgoing>i1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="record" name="Record the incident">
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="formJsonSchemaFilename" value="intake_record.json"/>
      </spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:incoming>i1</bpmn:incoming><bpmn:outgoing>i2</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:businessRuleTask id="triage" name="Triage">
      <bpmn:documentation>TRIAGE_DOC</bpmn:documentation>
      <bpmn:extensionElements><spiffworkflow:calledDecisionId>intake_triage</spiffworkflow:calledDecisionId>
      </bpmn:extensionElements>
      <bpmn:incoming>i2</bpmn:incoming><bpmn:outgoing>i3</bpmn:outgoing>
    </bpmn:businessRuleTask>
    <bpmn:exclusiveGateway id="review_gw" name="Review?" default="i5">
      <bpmn:documentation>GATEWAY_DOC</bpmn:documentation>
      <bpmn:incoming>i3</bpmn:incoming><bpmn:outgoing>i4</bpmn:outgoing><bpmn:outgoing>i5</bpmn:outgoing>
    </bpmn:exclusiveGateway>
    <bpmn:endEvent id="no_review"><bpmn:incoming>i5</bpmn:incoming></bpmn:endEvent>
    <bpmn:exclusiveGateway id="regime_gw" name="Which rules?" default="i7">
      <bpmn:incoming>i4</bpmn:incoming><bpmn:outgoing>i6</bpmn:outgoing><bpmn:outgoing>i7</bpmn:outgoing>
    </bpmn:exclusiveGateway>
"""
    + deadline_passes("wait_s1", "S1", "i6", "i8")
    + end_event("s1_done", "i8")
    + deadline_passes("wait_r1", "R1", "i7", "i9")
    + service_task(
        "hand_over",
        "Hand over",
        "i9",
        "i10",
        "start_process",
        "handed",
        process_id=("str", "'followup'"),
        carry=("list", "['regime', 'ruleset', 'date_aware']"),
    )
    + end_event("handed_over", "i10")
    + """    <bpmn:sequenceFlow id="i1" sourceRef="intake_start" targetRef="record"/>
    <bpmn:sequenceFlow id="i2" sourceRef="record" targetRef="triage"/>
    <bpmn:sequenceFlow id="i3" sourceRef="triage" targetRef="review_gw"/>
    <bpmn:sequenceFlow id="i4" sourceRef="review_gw" targetRef="regime_gw">
      <bpmn:conditionExpression>outcome == "review"</bpmn:conditionExpression></bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="i5" sourceRef="review_gw" targetRef="no_review"/>
    <bpmn:sequenceFlow id="i6" sourceRef="regime_gw" targetRef="wait_s1">
      <bpmn:conditionExpression>regime == 'WT2015'</bpmn:conditionExpression></bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="i7" sourceRef="regime_gw" targetRef="wait_r1"/>
    <bpmn:sequenceFlow id="i8" sourceRef="wait_s1" targetRef="s1_done"/>
    <bpmn:sequenceFlow id="i9" sourceRef="wait_r1" targetRef="hand_over"/>
    <bpmn:sequenceFlow id="i10" sourceRef="hand_over" targetRef="handed_over"/>
  </bpmn:process>
</bpmn:definitions>"""
)

FOLLOWUP = (
    opening("followup", "defs_followup", NAMESPACE)
    + """    <bpmn:extensionElements><spiffworkflow:properties>
      FOLLOWUP_PROPERTIES
    </spiffworkflow:properties></bpmn:extensionElements>
    <bpmn:startEvent id="followup_start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
"""
    + deadline_passes("wait_r4", "R4", "f1", "f2")
    + end_event("followup_end", "f2")
    + flows_and_closing(("f1", "followup_start", "wait_r4"), ("f2", "wait_r4", "followup_end"))
)

TRIAGE = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="intake_triage_defs" name="Triage"
    namespace="http://reviewflow.example/dmn">
  <decision id="intake_triage" name="Triage">
    <description>TABLE_DOC</description>
    <decisionTable id="intake_triage_table" hitPolicy="FIRST">
      <input id="t_in_0" label="Harmed">
        <inputExpression id="t_ie_0" typeRef="boolean"><text>harmed</text></inputExpression></input>
      <input id="t_in_1" label="Agency view">
        <inputExpression id="t_ie_1" typeRef="string"><text>INPUT_NAME</text></inputExpression></input>
      <output id="t_out_0" name="outcome" typeRef="string"/>
      <rule id="t_r1">
        <inputEntry id="t_r1_i0"><text>True</text></inputEntry>
        <inputEntry id="t_r1_i1"><text>-</text></inputEntry>
        <outputEntry id="t_r1_o0"><text>"review"</text></outputEntry>
      </rule>
      <rule id="t_r2">
        <inputEntry id="t_r2_i0"><text>-</text></inputEntry>
        <inputEntry id="t_r2_i1"><text>-</text></inputEntry>
        <outputEntry id="t_r2_o0"><text>"none"</text></outputEntry>
      </rule>
    </decisionTable>
  </decision>
</definitions>"""

FORM = {
    "type": "object",
    "additionalProperties": False,
    "required": ["harmed"],
    "properties": {
        "harmed": {"type": "boolean", "title": "Was the child harmed?"},
        "agency_view": {"type": "string", "title": "The agency's view"},
        "date_aware": {"type": "string", "format": "date", "title": "Aware on"},
    },
}

STARTED_BY_HAND_OVER = '<spiffworkflow:property name="startRoles" value=""/>'


def files(
    triage_doc="As 003 §3.1 sets out.",
    gateway_doc="A review follows the triage (003 §4.7).",
    table_doc="Which cases need a review (003 §3.1-3.2).",
    input_name="agency_view",
    followup=STARTED_BY_HAND_OVER,
    form=FORM,
) -> dict[str, bytes]:
    intake = INTAKE.replace("TRIAGE_DOC", triage_doc).replace("GATEWAY_DOC", gateway_doc)
    out = {
        "intake.bpmn": with_layout(intake.encode()),
        "followup.bpmn": with_layout(FOLLOWUP.replace("FOLLOWUP_PROPERTIES", followup).encode()),
        "decisions/intake_triage.dmn": TRIAGE.replace("TABLE_DOC", table_doc)
        .replace("INPUT_NAME", input_name)
        .encode(),
        "intake_record.json": json.dumps(form).encode(),
    }
    for ruleset in (ROOT / "processes" / "rulesets").glob("*.toml"):
        out[f"rulesets/{ruleset.name}"] = ruleset.read_bytes()
    return out


def problems(**changes) -> list[str]:
    try:
        bundle.build(files(**changes))
    except bundle.BundleInvalid as exc:
        return [str(p) for p in exc.problems]
    return []


def test_a_procedure_citing_its_sources_with_its_keys_in_place_passes():
    assert problems() == []


def test_a_choice_between_paths_without_a_source_is_refused():
    [problem] = problems(gateway_doc="A review follows the triage.")
    assert problem.startswith("intake.bpmn: review_gw: this choice between paths cites no source")


def test_a_choice_made_only_on_the_rules_in_force_needs_no_source_of_its_own():
    assert "regime_gw" not in " ".join(problems(gateway_doc=""))


def test_a_decision_table_without_a_source_is_refused_and_so_is_its_step_then():
    assert problems(table_doc="Which cases need a review.") == [
        "decisions/intake_triage.dmn: intake_triage: the decision table cites no source: "
        "say in its description which paragraph it follows (for example `000 §2.3`)"
    ]
    found = problems(table_doc="Which cases need a review.", triage_doc="Triage.")
    assert any(p.startswith("intake.bpmn: triage: the decision cites no source") for p in found)


def test_a_deadline_key_missing_under_a_rule_set_the_step_can_run_under_is_refused():
    """followup counts R4, which only Working Together 2018 and 2023 define: handed over only from the WT2018
    path it passes; started directly by anyone, a WT2015 case would reach a deadline its rules lack."""
    found = problems(followup='<spiffworkflow:property name="startRoles" value="Staff"/>')
    assert found == [
        "followup.bpmn: wait_r4: deadline key 'R4' does not exist under BOLTON_PRE2015, WT2015, which "
        "this step can run under: define it in that rule set, keep the step off that regime's path, "
        "or narrow the process's regimes property"
    ]
    assert (
        problems(
            followup='<spiffworkflow:property name="startRoles" value="Staff"/>'
            '<spiffworkflow:property name="regimes" value="WT2018, WT2023"/>'
        )
        == []
    )


def test_a_regimes_property_naming_no_rule_set_is_refused():
    found = problems(followup='<spiffworkflow:property name="regimes" value="WT2018, WT2099"/>')
    assert found == [
        "followup.bpmn: followup: regimes names WT2099, which no rule set defines (rule sets: "
        "BOLTON_PRE2015, WT2015, WT2018, WT2023)"
    ]


def test_a_decision_input_nothing_supplies_is_refused():
    assert problems(input_name="agency_opinion") == [
        "intake.bpmn: triage: decision 'intake_triage' reads 'agency_opinion', which no form, "
        "start data, script, message or hand-over of this procedure supplies"
    ]
    assert problems(input_name="field('agency_view', '')") == []  # read through field(): still supplied


@pytest.mark.parametrize(
    "condition, regime, expected",
    [
        ("regime == 'WT2015'", "WT2018", False),
        ("regime == 'WT2015'", "WT2015", True),
        ("regime in ('WT2018', 'WT2023') and harmed", "WT2015", False),
        ("regime in ('WT2018', 'WT2023') and harmed", "WT2018", None),
        ("field('ruleset', '') == 'BOLTON_PRE2015'", "WT2015", False),
        ("not regime == 'WT2015'", "WT2015", False),
        ("harmed or regime == 'WT2015'", "WT2015", True),
        ("len(x) > 2", "WT2015", None),
    ],
)
def test_conditions_are_judged_on_the_rule_set_alone_and_anything_else_is_unknown(
    condition, regime, expected
):
    from engine.bpmn.procedure_lint import truth

    assert truth(condition, {"regime": regime}) is expected


def test_the_product_s_procedures_pass():
    assert bundle.build(bundle.collect_files([ROOT / "processes", ROOT / "forms"])).processes
