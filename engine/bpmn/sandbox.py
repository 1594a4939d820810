"""A restricted Python environment for scripts, conditions and expressions.

SpiffWorkflow evaluates every script, gateway condition, timer, service-task
parameter and DMN cell with plain ``eval``/``exec`` and full builtins. Anyone who
can deploy a diagram could then run any code on the server. Here every piece of
diagram code is compiled with RestrictedPython instead: no imports, no dunder
attributes, no file or network access, only a small set of builtins plus the
product's own functions (working days, deadlines).

The compiled code also runs under a time and a size budget (:mod:`engine.bpmn.budget`):
the policy below routes the operators that can build huge values through guarded
functions and puts a time check into every loop and function, and the environment runs
each evaluation under one budget. A script that fails leaves the task data as it found it.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from RestrictedPython import RestrictingNodeTransformer, compile_restricted, limited_builtins, safe_builtins
from RestrictedPython.Eval import default_guarded_getitem
from RestrictedPython.Guards import (
    full_write_guard,
    guarded_iter_unpack_sequence,
    guarded_unpack_sequence,
    safer_getattr,
)
from RestrictedPython.transformer import copy_locations
from SpiffWorkflow.bpmn.script_engine.python_environment import TaskDataEnvironment

from engine.bpmn import budget, static_limits
from engine.bpmn.budget import CodeLimitExceeded, SizeLimitExceeded, TimeLimitExceeded, configure  # noqa: F401


class ScriptRejected(ValueError):
    """Diagram code that the sandbox refuses to compile (imports, dunders, syntax)."""


_EXTRA_BUILTINS = {
    name: __builtins__[name] if isinstance(__builtins__, dict) else getattr(__builtins__, name)
    for name in (
        "dict",
        "set",
        "frozenset",
        "min",
        "max",
        "sum",
        "sorted",
        "any",
        "all",
        "enumerate",
        "zip",
        "map",
        "filter",
        "reversed",
        "list",
        "tuple",
    )
}
_BLOCKED = {"__build_class__", "setattr", "delattr", "id", "_getattr_"}
_SIZED_BUILTINS = {
    "str": budget.GuardedStr,
    "repr": budget.guarded_repr,
    "pow": budget.guarded_pow,
    "sum": budget.guarded_sum,
    "round": budget.guarded_round,
}

BUILTINS = {
    k: v
    for k, v in {**safe_builtins, **limited_builtins, **_EXTRA_BUILTINS, **_SIZED_BUILTINS}.items()
    if k not in _BLOCKED
}


def _inplacevar(op: str, x: Any, y: Any) -> Any:
    if op not in budget.INPLACE_OPERATORS:
        raise ScriptRejected(f"operator {op} is not allowed")
    return budget.guarded_inplace(op, x, y)


def _getattr(ob: Any, name: str, default: Any = None) -> Any:
    value = safer_getattr(ob, name, default)
    return budget.checked_method(ob, name, value) if name in budget.CHECKED_NAMES else value


def _write_slice(ob: Any) -> Any:
    """``ob[a:b] = ...``: a list may not grow past the size limit this way either."""
    return budget.ListSliceWrites(ob) if type(ob) is list else full_write_guard(ob)


GUARDS = {
    "__builtins__": BUILTINS,
    "_getattr_": _getattr,
    "_getitem_": default_guarded_getitem,
    "_getiter_": budget.guarded_iter,
    "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
    "_unpack_sequence_": guarded_unpack_sequence,
    "_write_": full_write_guard,
    "_inplacevar_": _inplacevar,
}

# The names BoundedPolicy inserts. They live with the builtins rather than the globals, because
# SpiffWorkflow copies every global into the task data before a script and takes it out after.
BUILTINS.update(
    {
        "_tick_": budget.tick,
        "_add_": budget.guarded_add,
        "_mul_": budget.guarded_mul,
        "_pow_": budget.guarded_pow,
        "_lshift_": budget.guarded_lshift,
        "_mod_": budget.guarded_mod,
        "_format_": budget.guarded_format_value,
        "_star_": budget.guarded_star,
        "_write_slice_": _write_slice,
    }
)

_GUARDED_OPERATORS = {
    ast.Add: "_add_",
    ast.Mult: "_mul_",
    ast.Pow: "_pow_",
    ast.LShift: "_lshift_",
    ast.Mod: "_mod_",
}


def _call(name: str, args: list, like: ast.AST) -> ast.Call:
    node = ast.Call(func=ast.Name(name, ast.Load()), args=args, keywords=[])
    copy_locations(node, like)
    return node


def _tick_statement(like: ast.AST) -> ast.Expr:
    node = ast.Expr(_call("_tick_", [], like))
    copy_locations(node, like)
    return node


class BoundedPolicy(RestrictingNodeTransformer):
    """RestrictedPython's policy, plus the budget: operators that can build large values call
    guarded functions, and every loop body and function starts with a time check."""

    def visit_BinOp(self, node):
        node = super().visit_BinOp(node)
        name = _GUARDED_OPERATORS.get(type(node.op))
        return _call(name, [node.left, node.right], node) if name else node

    def visit_While(self, node):
        node = super().visit_While(node)
        node.body.insert(0, _tick_statement(node))
        return node

    def visit_FunctionDef(self, node):
        node = super().visit_FunctionDef(node)
        node.body.insert(0, _tick_statement(node))
        return node

    def visit_Lambda(self, node):
        node = super().visit_Lambda(node)
        node.body = ast.BoolOp(op=ast.Or(), values=[_call("_tick_", [], node), node.body])
        copy_locations(node.body, node)
        return node

    def visit_FormattedValue(self, node):
        node = super().visit_FormattedValue(node)
        spec = node.format_spec if node.format_spec is not None else ast.Constant("")
        value = _call("_format_", [node.value, ast.Constant(node.conversion), spec], node)
        new = ast.FormattedValue(value=value, conversion=-1, format_spec=None)
        copy_locations(new, node)
        return new

    def visit_Starred(self, node):
        node = super().visit_Starred(node)
        if isinstance(node.ctx, ast.Load):
            node.value = _call("_star_", [node.value], node)
        return node

    def visit_Subscript(self, node):
        node = super().visit_Subscript(node)
        if (
            isinstance(node, ast.Subscript)
            and isinstance(node.ctx, ast.Store)
            and isinstance(node.slice, ast.Slice)
        ):
            node.value.func.id = "_write_slice_"
        return node


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
        return compile_restricted(source, filename, mode, policy=BoundedPolicy)
    except SyntaxError as exc:
        reasons = exc.args[0] if exc.args else exc.msg
        if isinstance(reasons, (tuple, list)):
            reasons = "; ".join(str(r) for r in reasons)
        raise ScriptRejected(str(reasons)) from None


def check(source: str, mode: str) -> str | None:
    """The reason ``source`` would be refused, or ``None`` when it compiles and nothing in it is
    known, before it runs, to go over the budget (a loop with no way out, a constant too large)."""
    try:
        compile_code(source, mode)
    except ScriptRejected as exc:
        return str(exc)
    return static_limits.problem(ast.parse(source, mode=mode), BUILTINS)


# --- running code -----------------------------------------------------------------------------------

_MUTABLE = (list, dict, set)


class _DataSnapshot:
    """The task data before a script ran: to size what the script set, and to put the data back
    as it was if the script fails (so an error never stores a half-built or oversized value)."""

    __slots__ = ("copies", "values")

    def __init__(self, context: dict):
        self.values = dict(context)
        self.copies = {k: v.copy() for k, v in context.items() if type(v) in _MUTABLE}

    def check_changes(self, context: dict) -> None:
        """Size what the script set or grew (each operation that built it was checked already)."""
        cap = budget.limits().max_bytes
        total = 0
        values, copies = self.values, self.copies
        for key, value in context.items():
            if value is values.get(key, _DataSnapshot) and (
                key not in copies or len(value) == len(copies[key])
            ):
                continue
            total += budget.estimate(value, cap - total)
            if total > cap:
                raise SizeLimitExceeded(f"the result would be larger than {budget.human_size(cap)}")

    def restore(self, context: dict) -> None:
        context.clear()
        context.update(self.values)
        for key, copy in self.copies.items():
            value = self.values[key]
            if type(value) is list:
                value[:] = copy
            else:
                value.clear()
                value.update(copy)


def _check_error(exc: Exception) -> None:
    """An error raised by diagram code becomes a message; refuse one whose text would be huge."""
    cap = budget.limits().max_bytes
    if budget.estimate(exc.args, cap) > cap:
        raise SizeLimitExceeded(f"the error message would be larger than {budget.human_size(cap)}") from None


class RestrictedEnvironment(TaskDataEnvironment):
    """SpiffWorkflow's task-data environment with every piece of code compiled restricted and
    run under a time and size budget."""

    def __init__(self, functions: Mapping[str, Any]):
        super().__init__({**GUARDS, **functions})

    def evaluate(self, expression, context, external_context=None):
        code = compile_code(expression.strip(), "eval")
        with budget.bounded():
            try:
                result = super().evaluate(code, context, external_context)
            except CodeLimitExceeded:
                raise
            except Exception as exc:
                _check_error(exc)
                raise
            budget.check_result(result)
        return result

    def execute(self, script, context, external_context=None):
        code = compile_code(script, "exec")
        snapshot = _DataSnapshot(context)
        try:
            with budget.bounded():
                try:
                    super().execute(code, context, external_context)
                except CodeLimitExceeded:
                    raise
                except Exception as exc:
                    _check_error(exc)
                    raise
                snapshot.check_changes(context)
        except BaseException:
            snapshot.restore(context)
            raise
        return True
