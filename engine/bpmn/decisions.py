"""Evaluate a DMN decision table on its own, outside any process.

Managers and integrations ask "is this notifiable?" without starting a case;
processes ask the same table through a business-rule task. Both run the same
SpiffWorkflow DMN engine with the same sandboxed script engine. Evaluated on its
own, a decision runs all its cells under one time and size budget, and going over
it is a :class:`DecisionError` like any other cell that cannot be evaluated.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from SpiffWorkflow.spiff.parser import SpiffBpmnParser

from engine import xmlsafe
from engine.bpmn import budget
from engine.bpmn.script_engine import ENGINE


class DecisionError(ValueError):
    """A decision could not be evaluated with these inputs (message says which cell or input)."""


@dataclass(unsafe_hash=True)
class _Table:
    """A decision's DMN under its cache key (the deployed file's content hash, else the text itself):
    equal and hashed by key and decision alone, so the cache compares no XML, and the XML is let go
    once parsed (the cache keeps this as its key)."""

    key: Any
    decision_id: str
    xml: bytes | None = field(compare=False)


@functools.lru_cache(maxsize=256)
def _parsed(table: _Table):
    xml, table.xml = table.xml, None
    parser = SpiffBpmnParser()
    root = xmlsafe.parse(xml, f"{table.decision_id}.dmn")
    parser.add_dmn_xml(root, filename=f"{table.decision_id}.dmn")
    return parser.get_engine(table.decision_id, root)


def _engine_for(decision_id: str, xml: bytes, cache_key: Any):
    return _parsed(_Table(cache_key, decision_id, xml))


def input_names(decision_id: str, xml: bytes, cache_key: Any = None) -> list[str]:
    table = _engine_for(decision_id, xml, cache_key or xml).decision_table
    return [i.expression for i in table.inputs]


def evaluate(decision_id: str, xml: bytes, inputs: Mapping[str, Any], cache_key: Any = None) -> dict:
    """The outputs of the first matching rule (or lists, for COLLECT tables); ``{}`` if none matches."""
    dmn_engine = _engine_for(decision_id, xml, cache_key or xml)
    workflow = SimpleNamespace(script_engine=ENGINE, spec=SimpleNamespace(file=f"{decision_id}.dmn"))
    workflow.top_workflow = workflow  # what SpiffWorkflow's errors read to say where they happened
    task = SimpleNamespace(
        data=copy.deepcopy(dict(inputs)),
        workflow=workflow,
        task_spec=SimpleNamespace(bpmn_id=decision_id, bpmn_name=decision_id, name=decision_id),
    )
    try:
        with budget.bounded():
            return dmn_engine.result(task)
    except Exception as exc:
        notes = " ".join(getattr(exc, "__notes__", []) or [])
        raise DecisionError(f"{decision_id}: {exc} {notes}".strip()) from None
