"""The answers a process waits for from outside (the Panel, Ofsted), as its diagram declares them.

A message catch event (intermediate or boundary) or a receive task says who records the answer when it
arrives and the form its data must satisfy, with ``spiffworkflow:property`` entries: ``recordedBy`` (a role)
``sender`` (who sends it, as staff name them: "the National Panel") and ``formJsonSchemaFilename`` (a file in
forms/, optionally ``formUiSchemaFilename``). Read by the deploy lint
and by the service that delivers a message; pure, no database.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from engine.bpmn.bpmn_xml import BPMN_NS, NS, properties

CATCHING = ("intermediateCatchEvent", "boundaryEvent", "receiveTask")
RECORDED_BY, SENDER = "recordedBy", "sender"
FORM, UI_FORM = "formJsonSchemaFilename", "formUiSchemaFilename"


@dataclass(frozen=True)
class Awaited:
    """One answer a process waits for: the message's name and what its catching step declares."""

    message: str
    element_id: str
    title: str  # the step's name, shown as what the case waits for
    documentation: str
    recorded_by: str | None
    sender: str | None
    form: str | None
    ui_form: str | None


def _message_names(root) -> dict[str, str]:
    """Message id -> name (the name is what a sender gives and what a case waits for)."""
    definitions = root.getroottree().getroot()  # messages are declared beside the processes
    return {m.get("id"): m.get("name") or m.get("id") for m in definitions.iter(f"{{{BPMN_NS}}}message")}


def catching(root) -> Iterator[Awaited]:
    """Every step under ``root`` (a file or one process) that waits for a message, by kind of step."""
    names = _message_names(root)
    for tag in CATCHING:
        for el in root.iter(f"{{{BPMN_NS}}}{tag}"):
            definition = el.find("bpmn:messageEventDefinition", NS)
            ref = definition.get("messageRef") if definition is not None else el.get("messageRef")
            if definition is None and ref is None:
                continue
            props = properties(el)
            yield Awaited(
                message=names.get(ref, ref or ""),
                element_id=el.get("id") or "",
                title=el.get("name") or el.get("id") or "",
                documentation=(el.findtext("bpmn:documentation", "", NS) or "").strip(),
                recorded_by=(props.get(RECORDED_BY) or "").strip() or None,
                sender=(props.get(SENDER) or "").strip() or None,
                form=(props.get(FORM) or "").strip() or None,
                ui_form=(props.get(UI_FORM) or "").strip() or None,
            )


def declarations(root) -> dict[str, Awaited]:
    """Message name -> its declaration (the first step catching it; the lint makes the others agree)."""
    out: dict[str, Awaited] = {}
    for awaited in catching(root):
        out.setdefault(awaited.message, awaited)
    return out
