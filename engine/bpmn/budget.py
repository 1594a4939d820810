"""Time and size budgets for diagram code.

Scripts, gateway conditions, timer expressions, service-task parameters and DMN cells run
inside the server's threads, each holding a database transaction. One evaluation that never
ends, or that builds a huge value, would hold its thread for ever or take the process's memory.
So each evaluation runs under a :class:`Budget`:

- time: the sandbox inserts a check into every ``while`` body, every function and lambda,
  and every step of a ``for`` loop or comprehension (:func:`tick`, :func:`guarded_iter`);
  once the time limit has passed, every further check fails, so code cannot swallow it;
- size: the operations that can build a large value from small ones (powers, repetitions,
  shifts, concatenations, ``%`` and f-string formatting, padding, joins, replacements,
  conversions to text, list growth) estimate the size of their result *before* computing it
  and refuse it above the limit; the values built in one evaluation also count towards a
  total of ``ALLOCATION_FACTOR`` times the limit, so many medium values cannot add up either.

Going over a budget raises :class:`CodeLimitExceeded`, an ordinary ``Exception``: the engine
puts only the step that ran the code in error. The limits are settings
(``REVIEWFLOW_SCRIPT_TIME_LIMIT_SECONDS``, ``REVIEWFLOW_SCRIPT_MAX_BYTES``), applied with
:func:`configure` when the service is built.
"""

from __future__ import annotations

import math
import operator
import re
import threading
from dataclasses import dataclass, replace
from itertools import chain
from time import monotonic
from typing import Any

ITEM_BYTES = 8  # a list or tuple item counts as one reference
ALLOCATION_FACTOR = 64  # all values built in one evaluation: at most 64 x the size limit
MAX_INT_BITS = 1 << 16  # numbers up to about 19,700 digits; arithmetic on them stays fast
MAX_INT_DIGITS = int(MAX_INT_BITS * math.log10(2))
MAX_POWMOD_WORK = 1 << 34  # exponent bits x modulus bits squared: about 0.1 s


class CodeLimitExceeded(RuntimeError):
    """Diagram code went over its time or size budget; only the step that ran it fails."""


class TimeLimitExceeded(CodeLimitExceeded):
    pass


class SizeLimitExceeded(CodeLimitExceeded):
    pass


@dataclass(frozen=True)
class Limits:
    time_limit_seconds: float = 2.0
    max_bytes: int = 1024 * 1024

    @property
    def max_items(self) -> int:
        return max(1, self.max_bytes // ITEM_BYTES)

    @property
    def max_allocated(self) -> int:
        return self.max_bytes * ALLOCATION_FACTOR


_limits = Limits()


def configure(time_limit_seconds: float | None = None, max_bytes: int | None = None) -> Limits:
    """Set the limits for every later evaluation in this process (the service does, from its settings)."""
    global _limits
    changes = {}
    if time_limit_seconds is not None:
        if not time_limit_seconds > 0:
            raise ValueError("the time limit for diagram code must be more than 0 seconds")
        changes["time_limit_seconds"] = float(time_limit_seconds)
    if max_bytes is not None:
        if int(max_bytes) < 1024:
            raise ValueError("the size limit for diagram code must be at least 1024 bytes")
        changes["max_bytes"] = int(max_bytes)
    _limits = replace(_limits, **changes)
    return _limits


def limits() -> Limits:
    return _limits


def human_size(n: int) -> str:
    for unit, size in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= size:
            value = n / size
            return f"{value:g} {unit}" if value == int(value) else f"{value:.1f} {unit}"
    return f"{n} bytes"


def _too_large() -> SizeLimitExceeded:
    return SizeLimitExceeded(f"the result would be larger than {human_size(_limits.max_bytes)}")


def _number_too_large() -> SizeLimitExceeded:
    return SizeLimitExceeded(
        f"the result would be larger than the largest number allowed (about {MAX_INT_DIGITS:,} digits)"
    )


# --- the budget of one evaluation ------------------------------------------------------------------


class Budget:
    __slots__ = ("allocated", "deadline", "limits", "out_of_time_message")

    def __init__(self, limits: Limits):
        self.limits = limits
        self.deadline = monotonic() + limits.time_limit_seconds
        self.allocated = 0
        self.out_of_time_message: str | None = None

    def out_of_time(self):
        self.out_of_time_message = f"the time limit of {self.limits.time_limit_seconds:g} s was reached"
        raise TimeLimitExceeded(self.out_of_time_message)


class _Current(threading.local):
    """The budget of the evaluation running in this thread (each of the server's threads has its own)."""

    budget: Budget | None = None


_current = _Current()


class bounded:
    """Run diagram code under one budget. Nested uses share the outermost budget, so that a
    decision evaluated on its own has one time limit for all its cells."""

    __slots__ = ("budget", "outermost")

    def __enter__(self) -> Budget:
        outer = _current.budget
        self.outermost = outer is None
        if outer is not None:
            return outer
        self.budget = _current.budget = Budget(_limits)
        return self.budget

    def __exit__(self, exc_type, exc, tb) -> bool:
        if not self.outermost:
            return False
        _current.budget = None
        if exc_type is None and self.budget.out_of_time_message:  # the code caught the time limit and went on
            raise TimeLimitExceeded(self.budget.out_of_time_message)
        return False


def tick() -> None:
    """Fail once the current evaluation has used its time (inserted into loop and function bodies)."""
    budget = _current.budget
    if budget is not None and monotonic() > budget.deadline:
        budget.out_of_time()


def guarded_iter(ob):
    """``_getiter_``: every ``for`` loop and comprehension checks the time when it starts and then
    every ``_CHUNK`` steps (lists, tuples, ranges and text, walked in slices so that the steps in
    between cost nothing) or every step (anything else)."""
    budget = _current.budget
    if budget is None:
        return ob
    if monotonic() > budget.deadline:
        budget.out_of_time()
    t = type(ob)
    if t is list or t is tuple or t is range or t is str:
        return ob if len(ob) <= _CHUNK else chain.from_iterable(_slices(ob, budget))
    return _ticking(iter(ob), budget)


_CHUNK = 64


def _slices(seq, budget: Budget):
    deadline = budget.deadline
    start = 0
    while start < len(seq):  # read each time: a list that grows while it is walked is walked on
        if monotonic() > deadline:
            budget.out_of_time()
        part = seq[start : start + _CHUNK]
        start += len(part)
        yield part


def _ticking(iterator, budget: Budget):
    deadline = budget.deadline
    for item in iterator:
        if monotonic() > deadline:
            budget.out_of_time()
        yield item


def charge(size: int) -> None:
    """Refuse a value of ``size`` bytes above the limit, and count it towards the evaluation's total."""
    lim = _limits
    if size > lim.max_bytes:
        raise _too_large()
    budget = _current.budget
    if budget is not None:
        budget.allocated += size
        if budget.allocated > lim.max_allocated:
            raise SizeLimitExceeded(
                f"the values built would be larger than {human_size(lim.max_allocated)} in all"
            )


def _charge_items(items: int) -> None:
    if items > _limits.max_items:
        raise _too_large()
    charge(items * ITEM_BYTES)


# --- estimating sizes ---------------------------------------------------------------------------------

_TEXT = (str, bytes, bytearray)
_SEQUENCES = (list, tuple)
_CONTAINERS = (list, tuple, set, frozenset)


def estimate(value: Any, cap: int) -> int:
    """Roughly how many bytes ``value`` takes written out (as text or JSON), counting a part that is
    referred to many times each time, as writing it out would; stops counting once past ``cap``."""
    total = 0
    stack = [value]
    pop, extend = stack.pop, stack.extend
    while stack:
        v = pop()
        t = type(v)
        if t is str or t is bytes or t is bytearray:
            total += len(v) + 2
        elif t is int:
            total += v.bit_length() // 3 + 2
        elif t is float or t is bool or v is None:
            total += 8
        elif (
            t is list
            or t is tuple
            or t is set
            or t is frozenset
            or (t is not dict and isinstance(v, _CONTAINERS))
        ):
            total += 2 + ITEM_BYTES * len(v)
            if total > cap:
                return total
            extend(v)
        elif isinstance(v, dict):
            total += 2 + 2 * ITEM_BYTES * len(v)
            if total > cap:
                return total
            extend(v.keys())
            extend(v.values())
        elif isinstance(v, _TEXT):
            total += len(v) + 2
        elif isinstance(v, int):
            total += v.bit_length() // 3 + 2
        else:
            total += 32
        if total > cap:
            return total
    return total


def check_result(value: Any) -> None:
    """Refuse a result larger than the limit (the backstop after the per-operation checks)."""
    t = type(value)
    if t is bool or t is float or value is None:
        return
    if t is int:
        if value.bit_length() > MAX_INT_BITS:
            raise _number_too_large()
        return
    cap = _limits.max_bytes
    if (len(value) if t is str else estimate(value, cap)) > cap:
        raise _too_large()


def _text_size(value: Any) -> int:
    t = type(value)
    if t is str:
        return len(value)
    if t is int or t is float or t is bool or value is None:
        return 24
    return estimate(value, _limits.max_bytes)


# --- guarded operators -----------------------------------------------------------------------------


def _check_int_bits(bits: int) -> None:
    if bits > MAX_INT_BITS:
        raise _number_too_large()


def _check_repeat(a, b) -> None:
    if isinstance(b, int) and isinstance(a, _TEXT + _SEQUENCES):
        seq, n = a, b
    elif isinstance(a, int) and isinstance(b, _TEXT + _SEQUENCES):
        seq, n = b, a
    else:
        return
    if n <= 0 or not seq:
        return
    if isinstance(seq, _TEXT):
        charge(len(seq) * n)
        return
    _charge_items(len(seq) * n)
    cap = _limits.max_bytes
    if estimate(seq, cap // n + 1) * n > cap:  # what the repeated parts come to, written out
        raise _too_large()


def guarded_mul(a, b):
    ta, tb = type(a), type(b)
    if ta is int and tb is int:
        if a.bit_length() + b.bit_length() > MAX_INT_BITS:
            raise _number_too_large()
        return a * b
    if ta is float or tb is float:
        return a * b
    _check_repeat(a, b)
    return a * b


def _check_pow(a, b) -> None:
    if isinstance(a, int) and isinstance(b, int) and b > 1 and (a > 1 or a < -1):
        _check_int_bits(b if b > MAX_INT_BITS else math.ceil(b * math.log2(abs(a))))


def guarded_pow(a, b, mod=None):
    """``**`` and the builtin ``pow``: refused before computing a number that would be too large,
    or a modular power on numbers so large that it would take seconds."""
    if mod is None:
        _check_pow(a, b)
        return a**b
    if (
        isinstance(b, int)
        and isinstance(mod, int)
        and b.bit_length() * mod.bit_length() ** 2 > MAX_POWMOD_WORK
    ):
        raise SizeLimitExceeded("pow() with a modulus on numbers this large would take too long")
    return pow(a, b, mod)


def guarded_round(number, ndigits=None):
    """``round``: rounding a whole number to -n digits computes 10**n first."""
    if isinstance(number, int) and isinstance(ndigits, int) and ndigits < 0:
        _check_int_bits(math.ceil(-ndigits * math.log2(10)) if -ndigits < MAX_INT_BITS else MAX_INT_BITS + 1)
    return round(number, ndigits)


def _check_lshift(a, b) -> None:
    if isinstance(a, int) and isinstance(b, int) and a and b > 0:
        _check_int_bits(a.bit_length() + b)


def guarded_lshift(a, b):
    _check_lshift(a, b)
    return a << b


def _check_add(a, b) -> None:
    if isinstance(a, _TEXT) and isinstance(b, _TEXT):
        charge(len(a) + len(b))
    elif isinstance(a, _SEQUENCES) and isinstance(b, _SEQUENCES):
        _charge_items(len(a) + len(b))


def guarded_add(a, b):
    ta = type(a)
    if ta is int or ta is float:
        return a + b
    _check_add(a, b)
    return a + b


_PERCENT_FIELD = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d+)?)?[hlL]?.", re.S)
_SPEC_NUMBER = re.compile(r"\d+")


def _number(digits: str) -> int:
    return int(digits) if len(digits) <= 12 else _limits.max_bytes + 1


def _check_percent(fmt, args) -> None:
    """``'%5d' % x``: the format's widths and precisions plus the values written, before formatting."""
    text = fmt if isinstance(fmt, str) else fmt.decode("latin-1")
    values = tuple(args.values()) if isinstance(args, dict) else args if type(args) is tuple else (args,)
    size = len(text)
    stars = False
    for field in _PERCENT_FIELD.finditer(text):
        for number in field.group(1, 2):
            if number == "*":
                stars = True
            elif number:
                size += _number(number)
    if stars:
        size += sum(abs(v) for v in values if isinstance(v, int))
    for v in values:
        size += _text_size(v)
        if size > _limits.max_bytes:
            break
    charge(size)


def guarded_mod(a, b):
    ta = type(a)
    if ta is int or ta is float:
        return a % b
    if isinstance(a, (str, bytes)):
        _check_percent(a, b)
    return a % b


def guarded_format_value(value, conversion: int, spec: str):
    """An f-string field ``{value!conversion:spec}``: the widths in the spec and the text written are
    estimated before formatting."""
    size = _text_size(value)
    if spec:  # widths and precisions, and a date's strftime codes (at most 12 characters for 2)
        size += sum(_number(n) for n in _SPEC_NUMBER.findall(spec)) + 6 * len(spec)
    charge(size)
    if conversion == 115:
        value = str(value)
    elif conversion == 114:
        value = repr(value)
    elif conversion == 97:
        value = ascii(value)
    return format(value, spec)


def guarded_star(value):
    """``*value`` in a list, tuple or call: at most as many items as a list may hold."""
    if not hasattr(value, "__len__"):
        value = list(guarded_iter(value))
    _charge_items(len(value))
    return value


INPLACE_OPERATORS = {
    "+=": (_check_add, operator.iadd),
    "-=": (None, operator.isub),
    "*=": (_check_repeat, operator.imul),
    "/=": (None, operator.itruediv),
    "//=": (None, operator.ifloordiv),
    "%=": (None, operator.imod),
    "**=": (_check_pow, operator.ipow),
    "<<=": (_check_lshift, operator.ilshift),
    ">>=": (None, operator.irshift),
    "|=": (None, operator.ior),
    "&=": (None, operator.iand),
    "^=": (None, operator.ixor),
}


def guarded_inplace(op: str, x, y):
    """``_inplacevar_``: ``x op= y`` with the same checks as the plain operator."""
    entry = INPLACE_OPERATORS.get(op)
    if entry is None:
        raise CodeLimitExceeded(f"operator {op} is not allowed")
    check, fn = entry
    if op == "*=" and isinstance(x, int) and isinstance(y, int):
        _check_int_bits(x.bit_length() + y.bit_length())
    elif op == "%=" and isinstance(x, (str, bytes)):
        _check_percent(x, y)
    elif check is not None:
        check(x, y)
    return fn(x, y)


# --- guarded builtins and methods ---------------------------------------------------------------------


def guarded_repr(value) -> str:
    charge(_text_size(value))
    return repr(value)


class _GuardedTypeMeta(type):
    """Makes a stand-in for a builtin type: ``isinstance`` and attributes behave as the type's,
    while calling it first checks the size of what it would write out."""

    def __instancecheck__(cls, obj):
        return isinstance(obj, cls._wrapped)

    def __subclasscheck__(cls, sub):
        return issubclass(sub, cls._wrapped)

    def __call__(cls, *args, **kwargs):
        if len(args) == 1 and not kwargs:
            charge(_text_size(args[0]))
        return cls._wrapped(*args, **kwargs)

    def __getattr__(cls, name):
        if name in ("format", "format_map"):  # as RestrictedPython refuses them on str itself
            raise NotImplementedError("Using the format*() methods of `str` is not safe")
        return getattr(cls._wrapped, name)

    def __repr__(cls):
        return repr(cls._wrapped)


class GuardedStr(metaclass=_GuardedTypeMeta):
    """``str`` for diagram code: ``str(value)`` is refused when the text would be over the limit."""

    _wrapped = str


def guarded_sum(iterable, start=0):
    """``sum``: adding up lists or tuples is bounded like ``+``, and done in linear time (the
    builtin copies the growing list at every step)."""
    if not isinstance(start, _SEQUENCES):
        return sum(iterable, start)
    kind = type(start)
    items = list(guarded_iter(iterable))
    for item in items:
        if type(item) is not kind:
            raise TypeError(
                f'can only concatenate {kind.__name__} (not "{type(item).__name__}") to {kind.__name__}'
            )
    _charge_items(len(start) + sum(len(i) for i in items))
    out = list(start)
    for item in items:
        out.extend(item)
    return out if kind is list else tuple(out)


def _arg(args, kwargs, index, name, default=None):
    if len(args) > index:
        return args[index]
    return kwargs.get(name, default)


def _check_join(sep, args, kwargs):
    items = list(guarded_iter(_arg(args, kwargs, 0, "iterable", ())))
    _charge_items(len(items))
    charge(len(sep) * max(len(items) - 1, 0) + sum(len(i) for i in items if isinstance(i, _TEXT)))
    return (items,), {}


def _check_replace(text, args, kwargs):
    old, new = _arg(args, kwargs, 0, "old"), _arg(args, kwargs, 1, "new")
    count = _arg(args, kwargs, 2, "count", -1)
    if isinstance(old, _TEXT) and isinstance(new, _TEXT) and isinstance(count, int):
        n = text.count(old) if old else len(text) + 1
        if count >= 0:
            n = min(n, count)
        charge(len(text) + n * max(len(new) - len(old), 0))
    return args, kwargs


def _check_width(text, args, kwargs):
    width = _arg(args, kwargs, 0, "width", 0)
    if isinstance(width, int):
        charge(max(width, len(text)))
    return args, kwargs


def _check_expandtabs(text, args, kwargs):
    tabsize = _arg(args, kwargs, 0, "tabsize", 8)
    if isinstance(tabsize, int):
        tab = "\t" if isinstance(text, str) else b"\t"
        charge(len(text) + text.count(tab) * max(tabsize, 0))
    return args, kwargs


def _check_translate(text, args, kwargs):
    table = _arg(args, kwargs, 0, "table")
    if isinstance(table, dict):
        longest = max((len(v) for v in table.values() if isinstance(v, _TEXT)), default=1)
        charge(len(text) * max(longest, 1))
    return args, kwargs


def _check_to_bytes(number, args, kwargs):
    length = _arg(args, kwargs, 0, "length", 1)
    if isinstance(length, int):
        charge(length)
    return args, kwargs


def _check_extend(items, args, kwargs):
    more = _arg(args, kwargs, 0, "iterable", ())
    if not hasattr(more, "__len__"):
        more = list(guarded_iter(more))
    _charge_items(len(items) + len(more))
    return (more,), {}


_TEXT_METHODS = {
    "join": _check_join,
    "replace": _check_replace,
    "ljust": _check_width,
    "rjust": _check_width,
    "center": _check_width,
    "zfill": _check_width,
    "expandtabs": _check_expandtabs,
    "translate": _check_translate,
}
METHOD_CHECKS = {
    **{(owner, name): check for owner in (str, bytes, bytearray) for name, check in _TEXT_METHODS.items()},
    (int, "to_bytes"): _check_to_bytes,
    (bool, "to_bytes"): _check_to_bytes,
    (list, "extend"): _check_extend,
}
CHECKED_NAMES = frozenset(name for _, name in METHOD_CHECKS)


def checked_method(ob, name: str, method):
    """The method ``ob.name`` with its size check in front, or the method itself if it needs none."""
    if isinstance(ob, type):
        owner = ob._wrapped if isinstance(ob, _GuardedTypeMeta) else ob
        check = METHOD_CHECKS.get((owner, name))
        if check is None:
            return method

        def unbound(receiver, *args, **kwargs):
            if isinstance(receiver, owner):
                args, kwargs = check(receiver, args, kwargs)
            return method(receiver, *args, **kwargs)

        return unbound
    check = METHOD_CHECKS.get((type(ob), name))
    if check is None:
        return method

    def bound(*args, **kwargs):
        args, kwargs = check(ob, args, kwargs)
        return method(*args, **kwargs)

    return bound


class ListSliceWrites:
    """``items[a:b] = more`` on a list: the list may not grow past the item limit."""

    __slots__ = ("items",)

    def __init__(self, items: list):
        self.items = items

    def __setitem__(self, key, value):
        if isinstance(key, slice):
            if not hasattr(value, "__len__"):
                value = list(guarded_iter(value))
            _charge_items(len(self.items) + len(value))
        self.items[key] = value

    def __delitem__(self, key):
        del self.items[key]
