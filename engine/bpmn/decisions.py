"""Evaluate a DMN decision table on its own, outside any process.

Managers and integrations ask "is this notifiable?" without starting a case;
processes ask the same table through a business-rule task. Both run the same
SpiffWorkflow DMN engine with the same sandboxed script engine. Evaluated on its
own, a decision runs all its cells under one time and size budget, and going over
it is a :class:`DecisionError` like any other cell that cannot be evaluated.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Mapping
from types import SimpleNamespace
from typing import Any

from SpiffWorkflow.spiff.parser import SpiffBpmnParser

from engine import xmlsafe
from engine.bpmn import budget
from engine.bpmn.script_engine import ENGINE


class DecisionError(ValueError):
    """A decision could not be evaluated with these inputs (message says which cell or input)."""


_cache: dict[tuple, Any] = {}
_lock = threading.Lock()


def _engine_for(decision_id: str, xml: bytes, cache_key: Any):
    key = (cache_key, decision_id)
    with _lock:
        if key in _cache:
            return _cache[key]
    parser = SpiffBpmnParser()
    root = xmlsafe.parse(xml, f"{decision_id}.dmn")
    parser.add_dmn_xml(root, filename=f"{decision_id}.dmn")
    dmn_engine = parser.get_engine(decision_id, root)
    with _lock:
        _cache[key] = dmn_engine
    return dmn_engine


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
