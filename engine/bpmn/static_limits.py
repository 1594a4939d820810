"""What the deploy-time check can tell about the budget of diagram code before it runs.

Every deployment and ``reviewflow check`` compile each script and expression
(:func:`engine.bpmn.sandbox.check`). Two things the budget would refuse at run time are
certain from the text alone, so they are reported when the diagram is deployed rather than
when a case reaches the step:

- a ``while`` loop on a constant true condition with no ``break``, ``return``, ``raise`` or
  ``yield`` in it never ends;
- a computation on constants only (``10**10**8``, ``'a' * (5 * 10**7)``, ``'x'.ljust(10**9)``)
  that the size budget refuses is refused whatever the case data; it is computed here with
  the same guarded operations, so it is refused before it is computed here too.
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Mapping
from typing import Any

from engine.bpmn import budget

_FOLDABLE_CALLS = frozenset({"pow", "str", "repr", "round"})
_BINARY = {
    ast.Add: budget.guarded_add,
    ast.Mult: budget.guarded_mul,
    ast.Pow: budget.guarded_pow,
    ast.LShift: budget.guarded_lshift,
    ast.Mod: budget.guarded_mod,
    ast.Sub: operator.sub,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.RShift: operator.rshift,
    ast.BitOr: operator.or_,
    ast.BitAnd: operator.and_,
    ast.BitXor: operator.xor,
}
_UNARY = {ast.USub: operator.neg, ast.UAdd: operator.pos, ast.Not: operator.not_, ast.Invert: operator.invert}
_CONSTANT_PARTS = (
    ast.Constant,
    ast.UnaryOp,
    ast.BinOp,
    ast.Tuple,
    ast.List,
    ast.Set,
    ast.JoinedStr,
    ast.FormattedValue,
    ast.Call,
    ast.Attribute,
    ast.Name,
    ast.Starred,
    ast.keyword,
    ast.expr_context,
    ast.operator,
    ast.unaryop,
)


class _NotConstant(Exception):
    pass


def problem(tree: ast.AST, builtins: Mapping[str, Any]) -> str | None:
    """``"line N: reason"`` for the first loop that never ends or constant that is too large, else
    ``None``."""
    for node in ast.walk(tree):
        if isinstance(node, ast.While) and _always_true(node.test) and not _has_way_out(node.body, False):
            return (
                f"line {node.lineno}: this loop never ends "
                f"(while {ast.unparse(node.test)} with no break, return or raise)"
            )
    try:
        with budget.bounded():
            return _size_problem(tree, builtins)
    except budget.CodeLimitExceeded as exc:
        return f"line 1: {exc}"


def _always_true(test: ast.expr) -> bool:
    return isinstance(test, ast.Constant) and bool(test.value)


def _has_way_out(statements, in_inner_loop: bool) -> bool:
    return any(_leaves(node, in_inner_loop) for node in statements)


def _leaves(node: ast.AST, in_inner_loop: bool) -> bool:
    if isinstance(node, (ast.Return, ast.Raise, ast.Yield, ast.YieldFrom, ast.Await)):
        return True
    if isinstance(node, ast.Break):
        return not in_inner_loop
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
        return False
    if isinstance(node, (ast.For, ast.AsyncFor, ast.While)):  # a break in its body ends only that loop
        return _has_way_out(node.body, True) or _has_way_out(node.orelse, in_inner_loop)
    return any(_leaves(child, in_inner_loop) for child in ast.iter_child_nodes(node))


def _may_be_constant(node: ast.expr) -> bool:
    for part in ast.walk(node):
        if not isinstance(part, _CONSTANT_PARTS):
            return False
        if isinstance(part, ast.Name) and part.id not in _FOLDABLE_CALLS:
            return False
    return True


def _size_problem(node: ast.AST, builtins: Mapping[str, Any]) -> str | None:
    if isinstance(node, ast.expr) and _may_be_constant(node):
        try:
            _fold(node, builtins)
            return None
        except _NotConstant:
            pass
        except budget.CodeLimitExceeded as exc:
            return f"line {node.lineno}: {exc}"
        except Exception:
            return None
    for child in ast.iter_child_nodes(node):
        found = _size_problem(child, builtins)
        if found:
            return found
    return None


def _fold(node: ast.AST, builtins: Mapping[str, Any]) -> Any:
    """The value of a constant expression, computed with the guarded operations."""
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.UnaryOp):
        return _UNARY[type(node.op)](_fold(node.operand, builtins))
    if isinstance(node, ast.BinOp):
        fn = _BINARY.get(type(node.op))
        if fn is None:
            raise _NotConstant
        return fn(_fold(node.left, builtins), _fold(node.right, builtins))
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        values = []
        for element in node.elts:
            if isinstance(element, ast.Starred):
                values.extend(budget.guarded_star(_fold(element.value, builtins)))
            else:
                values.append(_fold(element, builtins))
        return {ast.Tuple: tuple, ast.List: list, ast.Set: set}[type(node)](values)
    if isinstance(node, ast.JoinedStr):
        parts = []
        for value in node.values:
            if isinstance(value, ast.FormattedValue):
                spec = _fold(value.format_spec, builtins) if value.format_spec is not None else ""
                parts.append(
                    budget.guarded_format_value(_fold(value.value, builtins), value.conversion, spec)
                )
            else:
                parts.append(_fold(value, builtins))
        budget.charge(sum(len(p) for p in parts))
        return "".join(parts)
    if isinstance(node, ast.Call):
        if any(isinstance(a, ast.Starred) for a in node.args) or any(k.arg is None for k in node.keywords):
            raise _NotConstant
        args = [_fold(a, builtins) for a in node.args]
        kwargs = {k.arg: _fold(k.value, builtins) for k in node.keywords}
        if isinstance(node.func, ast.Name) and node.func.id in _FOLDABLE_CALLS:
            return builtins[node.func.id](*args, **kwargs)
        if isinstance(node.func, ast.Attribute) and node.func.attr in budget.CHECKED_NAMES:
            owner = _fold(node.func.value, builtins)
            method = getattr(owner, node.func.attr, None)
            if method is None:
                raise _NotConstant
            return budget.checked_method(owner, node.func.attr, method)(*args, **kwargs)
    raise _NotConstant
