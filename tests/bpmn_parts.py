"""The pieces the tests' small hand-written BPMN diagrams are made of, each written once: the definitions'
opening, a start permission, a timer, a script or service task, sequence flows and the closing tags.
Each returns text to place inside a process, indented as the diagrams are. Also one small decision."""

from __future__ import annotations


def opening(process_id: str, defs_id: str, namespace: str = "t") -> str:
    """The XML declaration, the definitions element with its namespaces and the executable process."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="{defs_id}"
    targetNamespace="{namespace}">
  <bpmn:process id="{process_id}" isExecutable="true">
"""


def start_roles(roles: str) -> str:
    """Who may start the process (``roles``: comma-separated)."""
    return f"""    <bpmn:extensionElements><spiffworkflow:properties>
      <spiffworkflow:property name="startRoles" value="{roles}"/>
    </spiffworkflow:properties></bpmn:extensionElements>
"""


def arrows(incoming: str, outgoing: str) -> str:
    return f"<bpmn:incoming>{incoming}</bpmn:incoming><bpmn:outgoing>{outgoing}</bpmn:outgoing>"


def timer(node_id: str, name: str, incoming: str, outgoing: str, when: str) -> str:
    """An intermediate timer; ``when``: its definition (``<bpmn:timeDuration>PT1H</bpmn:timeDuration>``)."""
    return f"""    <bpmn:intermediateCatchEvent id="{node_id}" name="{name}">
      {arrows(incoming, outgoing)}
      <bpmn:timerEventDefinition id="{node_id}_timer">
        {when}</bpmn:timerEventDefinition>
    </bpmn:intermediateCatchEvent>
"""


def one_hour(node_id: str, incoming: str, outgoing: str) -> str:
    return timer(node_id, "One hour", incoming, outgoing, "<bpmn:timeDuration>PT1H</bpmn:timeDuration>")


def deadline_passes(node_id: str, key: str, incoming: str, outgoing: str) -> str:
    """A timer firing when the deadline ``key`` falls due."""
    return timer(
        node_id, f"{key} passes", incoming, outgoing, f'<bpmn:timeDate>deadline("{key}")</bpmn:timeDate>'
    )


def script_task(node_id: str, name: str, incoming: str, outgoing: str, script: str) -> str:
    return f"""    <bpmn:scriptTask id="{node_id}" name="{name}">
      {arrows(incoming, outgoing)}
      <bpmn:script>{script}</bpmn:script>
    </bpmn:scriptTask>
"""


def service_task(
    node_id: str, name: str, incoming: str, outgoing: str, operator: str, result: str, **parameters: tuple
) -> str:
    """A task calling handler ``operator`` into ``result``; ``parameters``: name -> (type, expression)."""
    listed = "".join(
        f'          <spiffworkflow:parameter id="{key}" type="{kind}" value="{value}"/>\n'
        for key, (kind, value) in parameters.items()
    )
    return f"""    <bpmn:serviceTask id="{node_id}" name="{name}">
      <bpmn:extensionElements><spiffworkflow:serviceTaskOperator id="{operator}" resultVariable="{result}">
        <spiffworkflow:parameters>
{listed}        </spiffworkflow:parameters>
      </spiffworkflow:serviceTaskOperator></bpmn:extensionElements>
      {arrows(incoming, outgoing)}
    </bpmn:serviceTask>
"""


def end_event(node_id: str, incoming: str) -> str:
    return f'    <bpmn:endEvent id="{node_id}"><bpmn:incoming>{incoming}</bpmn:incoming></bpmn:endEvent>\n'


def flows_and_closing(*flows: tuple[str, str, str]) -> str:
    """The sequence flows (id, source, target) without conditions, then the closing tags."""
    lines = "".join(
        f'    <bpmn:sequenceFlow id="{flow}" sourceRef="{source}" targetRef="{target}"/>\n'
        for flow, source, target in flows
    )
    return lines + "  </bpmn:process>\n</bpmn:definitions>\n"


# A one-rule decision "sizing" whose output is the expression ``{output}`` (of the integer input digits)
SIZING_DMN = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="sizing_defs" name="Sizing"
    namespace="t">
  <decision id="sizing" name="Sizing">
    <decisionTable id="sizing_table" hitPolicy="FIRST">
      <input id="sizing_in_0" label="Digits">
        <inputExpression id="sizing_ie_0" typeRef="integer"><text>digits</text></inputExpression></input>
      <output id="sizing_out_0" name="value" typeRef="integer"/>
      <rule id="sizing_r1">
        <inputEntry id="sizing_r1_i0"><text>-</text></inputEntry>
        <outputEntry id="sizing_r1_o0"><text>{output}</text></outputEntry>
      </rule>
    </decisionTable>
  </decision>
</definitions>
"""
