"""What every reader of BPMN files here shares: the namespaces, a step's extension properties, what a process
declares about its starts, and the deadline keys an expression names."""

from __future__ import annotations

import ast
from collections.abc import Iterable

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
NS = {"bpmn": BPMN_NS, "spiffworkflow": SPIFF_NS}
DEADLINE_FUNCTIONS = {"deadline", "reminder", "due_date"}  # the expressions that name a deadline key


def properties(el) -> dict[str, str]:
    """An element's ``spiffworkflow:property`` name/value pairs (a user task's form, a process's start
    roles)."""
    return {
        p.get("name"): p.get("value")
        for p in el.iterfind("bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property", NS)
    }


def start_roles(proc) -> list[str]:
    """Who may start the process directly: its ``startRoles`` property (roles separated by commas; empty:
    only by a hand-over from another process), else the lane of its start event."""
    declared = properties(proc).get("startRoles")
    if declared is not None:
        return sorted({r.strip() for r in declared.split(",") if r.strip()})
    starts = {e.get("id") for e in proc.findall("bpmn:startEvent", NS)}
    return sorted(
        {
            lane.get("name") or lane.get("id")
            for lane in proc.iter(f"{{{BPMN_NS}}}lane")
            if any((ref.text or "").strip() in starts for ref in lane.findall("bpmn:flowNodeRef", NS))
        }
    )


def start_form(proc) -> str | None:
    """The form a direct start's data must satisfy: the process's ``startForm`` property, if any."""
    return properties(proc).get("startForm") or None


def run_regimes(proc) -> tuple[str, ...]:
    """The rule sets a case of the process may run under: its ``regimes`` property (names separated by
    commas); empty: any."""
    return tuple(sorted({r.strip() for r in (properties(proc).get("regimes") or "").split(",") if r.strip()}))


def deadline_calls(text: str) -> Iterable[str]:
    """The deadline keys an expression names (``deadline(\"R6\")``, ``reminder(\"R6\", 2)``, ``due_date``)."""
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError:
        return
    for call in ast.walk(tree):
        if (
            isinstance(call, ast.Call)
            and isinstance(call.func, ast.Name)
            and call.func.id in DEADLINE_FUNCTIONS
            and call.args
            and isinstance(call.args[0], ast.Constant)
            and isinstance(call.args[0].value, str)
        ):
            yield call.args[0].value


def deadline_keys_in(node) -> Iterable[str]:
    """The deadline keys the timers inside ``node`` name."""
    for timer in node.iter(f"{{{BPMN_NS}}}timerEventDefinition"):
        for child in timer:
            yield from deadline_calls(child.text or "")


def decisions_used(proc) -> Iterable[str]:
    """The decision ids a process's business-rule tasks call."""
    for task in proc.iter(f"{{{BPMN_NS}}}businessRuleTask"):
        ref = task.find("bpmn:extensionElements/spiffworkflow:calledDecisionId", NS)
        if ref is not None and ref.text:
            yield ref.text.strip()


def hand_overs(proc) -> Iterable[tuple[str, str]]:
    """(element id, process id) of each call activity and literal ``start_process`` hand-over of ``proc``."""
    for call in proc.iter(f"{{{BPMN_NS}}}callActivity"):
        if call.get("calledElement"):
            yield call.get("id"), call.get("calledElement")
    for task in proc.iter(f"{{{BPMN_NS}}}serviceTask"):
        op = task.find(f"bpmn:extensionElements/{{{SPIFF_NS}}}serviceTaskOperator", NS)
        if op is None or op.get("id") != "start_process":
            continue
        for param in op.iter(f"{{{SPIFF_NS}}}parameter"):
            if param.get("id") == "process_id":
                try:
                    target = ast.literal_eval((param.get("value") or "").strip())
                except (ValueError, SyntaxError):
                    continue
                if isinstance(target, str):
                    yield task.get("id"), target
