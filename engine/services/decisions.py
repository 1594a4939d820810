"""Evaluating a deployed DMN decision directly (``POST /decisions/{id}/evaluate``)."""

from __future__ import annotations

from sqlalchemy import select

from engine.bpmn import decisions
from engine.services import forms
from engine.services.actor import Actor
from engine.services.core import Core
from engine.services.errors import Invalid, NotFound
from engine.store.models import DecisionVersion


def _names(expression: str) -> set[str]:
    """The data fields an input expression needs (``max(a or 0, b)`` reads a and b); a field read through
    ``field('x')`` is optional (unknown when absent), and engine functions are not fields."""
    import ast
    import builtins

    from engine.bpmn.runtime import FUNCTIONS

    try:
        tree = ast.parse(expression, mode="eval")
    except SyntaxError:
        return set()
    return {
        n.id
        for n in ast.walk(tree)
        if isinstance(n, ast.Name) and not hasattr(builtins, n.id) and n.id not in FUNCTIONS
    }


class Decisions:
    def __init__(self, core: Core):
        self.core = core

    def evaluate(self, decision_id: str, inputs: dict, actor: Actor) -> dict:
        problems = forms.check_keys(inputs)
        if problems:
            raise Invalid("inputs must be an object of named values", problems)
        with self.core.db.reading() as session:
            row = session.scalars(
                select(DecisionVersion)
                .where(DecisionVersion.decision_id == decision_id)
                .order_by(DecisionVersion.version.desc())
                .limit(1)
            ).first()
            if row is None:
                raise NotFound(f"no decision '{decision_id}' is deployed")
            needed = decisions.input_names(decision_id, row.dmn, cache_key=row.content_hash)
            missing = sorted({n for expr in needed for n in _names(expr)} - set(inputs))
            if missing:
                raise Invalid(
                    "some inputs are missing", [{"path": n, "message": "required"} for n in missing]
                )
            try:
                outputs = decisions.evaluate(decision_id, row.dmn, inputs, cache_key=row.content_hash)
            except decisions.DecisionError as exc:
                raise Invalid(str(exc), [{"path": "inputs", "message": str(exc)}]) from None
            return {"decision_id": decision_id, "version": row.version, "outputs": outputs}
