"""A restricted Python environment for scripts, conditions and expressions.

SpiffWorkflow evaluates every script, gateway condition, timer, service-task
parameter and DMN cell with plain ``eval``/``exec`` and full builtins. Anyone who
can deploy a diagram could then run any code on the server. Here every piece of
diagram code is compiled with RestrictedPython instead: no imports, no dunder
attributes, no file or network access, only a small set of builtins plus the
product's own functions (working days, deadlines).
"""
from __future__ import annotations

import ast
import operator
from functools import lru_cache
from typing import Any, Mapping

from RestrictedPython import compile_restricted, limited_builtins, safe_builtins
from RestrictedPython.Eval import default_guarded_getitem, default_guarded_getiter
from RestrictedPython.Guards import full_write_guard, guarded_iter_unpack_sequence, guarded_unpack_sequence, safer_getattr
from SpiffWorkflow.bpmn.script_engine.python_environment import TaskDataEnvironment


class ScriptRejected(ValueError):
    """Diagram code that the sandbox refuses to compile (imports, dunders, syntax)."""


_EXTRA_BUILTINS = {
    name: __builtins__[name] if isinstance(__builtins__, dict) else getattr(__builtins__, name)
    for name in (
        "dict", "set", "frozenset", "min", "max", "sum", "sorted", "any", "all", "enumerate",
        "zip", "map", "filter", "reversed", "list", "tuple",
    )
}
_BLOCKED = {"__build_class__", "setattr", "delattr", "id", "_getattr_"}

BUILTINS = {k: v for k, v in {**safe_builtins, **limited_builtins, **_EXTRA_BUILTINS}.items() if k not in _BLOCKED}

_INPLACE = {
    "+=": operator.iadd, "-=": operator.isub, "*=": operator.imul, "/=": operator.itruediv,
    "//=": operator.ifloordiv, "%=": operator.imod, "**=": operator.ipow,
    "|=": operator.ior, "&=": operator.iand, "^=": operator.ixor,
}


def _inplacevar(op: str, x: Any, y: Any) -> Any:
    fn = _INPLACE.get(op)
    if fn is None:
        raise ScriptRejected(f"operator {op} is not allowed")
    return fn(x, y)


GUARDS = {
    "__builtins__": BUILTINS,
    "_getattr_": safer_getattr,
    "_getitem_": default_guarded_getitem,
    "_getiter_": default_guarded_getiter,
    "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
    "_unpack_sequence_": guarded_unpack_sequence,
    "_write_": full_write_guard,
    "_inplacevar_": _inplacevar,
}


@lru_cache(maxsize=4096)
def compile_code(source: str, mode: str):
    """Compile diagram code under RestrictedPython; cached, since diagrams repeat it."""
    filename = "<expression>" if mode == "eval" else "<script>"
    try:
        tree = ast.parse(source, filename, mode)
    except SyntaxError as exc:
        raise ScriptRejected(f"syntax error on line {exc.lineno}: {exc.msg}") from None
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            raise ScriptRejected(f"line {node.lineno}: imports are not allowed")
    try:
        return compile_restricted(source, filename, mode)
    except SyntaxError as exc:
        reasons = exc.args[0] if exc.args else exc.msg
        if isinstance(reasons, (tuple, list)):
            reasons = "; ".join(str(r) for r in reasons)
        raise ScriptRejected(str(reasons)) from None


def check(source: str, mode: str) -> str | None:
    """The reason ``source`` would be refused, or ``None`` when it compiles."""
    try:
        compile_code(source, mode)
    except ScriptRejected as exc:
        return str(exc)
    return None


class RestrictedEnvironment(TaskDataEnvironment):
    """SpiffWorkflow's task-data environment with every piece of code compiled restricted."""

    def __init__(self, functions: Mapping[str, Any]):
        super().__init__({**GUARDS, **functions})

    def evaluate(self, expression, context, external_context=None):
        return super().evaluate(compile_code(expression.strip(), "eval"), context, external_context)

    def execute(self, script, context, external_context=None):
        return super().execute(compile_code(script, "exec"), context, external_context)
