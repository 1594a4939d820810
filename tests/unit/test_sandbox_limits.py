"""Diagram code runs under a time budget and a size budget.

Every risky call runs in a forked child killed at a deadline (tests/isolated.py), so a
regression fails the test instead of hanging the run or eating the machine's memory.
"""

from __future__ import annotations

import threading
import time

import pytest

from engine.bpmn import runtime, sandbox
from tests.bpmn_parts import SIZING_DMN
from tests.isolated import run_isolated


def _env():
    return sandbox.RestrictedEnvironment(runtime.FUNCTIONS)


def evaluate(expression, data=None, limits=None):
    if limits:
        sandbox.configure(**limits)
    return _env().evaluate(expression, dict(data or {}))


def execute(script, data=None, limits=None):
    if limits:
        sandbox.configure(**limits)
    context = dict(data or {})
    _env().execute(script, context)
    return {
        k: v
        for k, v in context.items()
        if isinstance(v, (int, str, list, tuple, dict, float, bool, type(None)))
    }


def assert_refused(outcome, *words, within=5.0):
    assert outcome.raised is not None, f"the code ran and gave {str(outcome.value)[:200]!r}"
    assert outcome.raised.is_exception, (
        f"{outcome.raised.type_name} is not an Exception: the engine cannot contain it"
    )
    assert "CodeLimitExceeded" in outcome.raised.mro, (outcome.raised.type_name, outcome.raised.message)
    for word in words:
        assert word in outcome.raised.message, outcome.raised.message
    assert outcome.seconds < within, f"refused only after {outcome.seconds:.1f} s"


# --- size: refused before it is computed ----------------------------------------------------------


@pytest.mark.parametrize(
    "expression",
    [
        "10**10**8",
        "pow(10, 10**8)",
        "7 ** 100000",
        "1 << 10**9",
        "'a' * (5 * 10**7)",
        "(5 * 10**7) * 'a'",
        "[0] * 10**9",
        "(0,) * 10**9",
        "[['x' * 1000] * 1000] * 1000",
        "'x'.ljust(10**9)",
        "'x'.rjust(10**9)",
        "'x'.center(10**9)",
        "'1'.zfill(10**9)",
        "'a\\tb'.expandtabs(10**9)",
        "f'{1:>1000000000}'",
        "f'{1:>{10**9}}'",
        "f'{1.5:.1000000000f}'",
        "'%1000000000d' % 1",
        "'%*d' % (10**9, 1)",
        "'%.1000000000f' % 1.0",
        "','.join(['a' * 100000] * 100)",
        "('a' * 100000).replace('a', 'a' * 100)",
        "('a' * 1000).translate({97: 'b' * 100000})",
        "(1).to_bytes(10**9, 'big')",
        "'x'.encode() * 10**9",
        "sum([[0] * 1000] * 1000, [])",
        "str([[0] * 1000] * 1000)",
        "[*([0] * 100000), *([0] * 100000)] * 100",
    ],
)
def test_big_values_are_refused_before_they_are_computed(expression):
    assert_refused(run_isolated(evaluate, expression), "larger than")


@pytest.mark.parametrize(
    "script",
    [
        "x = 'a'\nx *= 10**8",
        "x = 2\nx **= 10**8",
        "x = 1\nx <<= 10**9",
        "s = 'ab' * 1000\nfor i in range(40):\n    s = s + s",
        "s = 'ab' * 1000\nfor i in range(40):\n    s += s",
        "s = 'ab'\nfor i in range(40):\n    s = f'{s}{s}'",
        "s = 'ab'\nfor i in range(40):\n    s = '%s%s' % (s, s)",
        "s = 'ab'\nfor i in range(40):\n    s = ''.join([s, s])",
        "x = [1]\nfor i in range(40):\n    x = x + x",
        "x = [1]\nfor i in range(40):\n    x += x",
        "x = [1]\nfor i in range(40):\n    x.extend(x)",
        "x = [1]\nfor i in range(40):\n    x[len(x):] = x",
        "x = [1]\nfor i in range(40):\n    x = [*x, *x]",
        "a = [0] * 1000\nb = [a for i in range(999)]\nc = [b for i in range(999)]\ntext = str(c)",
        "a = [0] * 1000\nb = [a for i in range(999)]\nc = [b for i in range(999)]\ntext = f'{c}'",
        "a = [0] * 1000\nb = [a for i in range(999)]\nc = [b for i in range(999)]\ntext = '%s' % (c,)",
        "a = ['x' * 1000] * 1000\nkept = [a for i in range(999)]",
        "kept = []\nfor i in range(999):\n    kept.append('a' * 500000 + str(i))",
    ],
)
def test_growing_values_are_refused(script):
    assert_refused(run_isolated(execute, script), "larger than")


def test_a_refused_value_is_not_left_in_the_data():
    def run():
        data = {"keep": [1, 2, 3], "name": "x"}
        try:
            _env().execute("name = 'y'\nkeep.append(4)\nbig = 'a' * 1000\nbig = big * 10**6", data)
        except sandbox.CodeLimitExceeded:
            return data
        return {"not refused": True}

    assert run_isolated(run).value == {"keep": [1, 2, 3], "name": "x"}


def test_ordinary_code_keeps_working_within_the_budgets():
    data = {"rows": [3, 1, 2], "names": ["Ann", "Bo"], "n": 7, "text": "abc"}
    results = execute(
        "a = 'a' * 1000\nb = [0] * 1000\nc = 2 ** 100 * 3\nd = 10 ** 20 << 3\n"
        "e = f'{n:>5}|{text!r}|{1.5:.2f}'\nf = '%05d %s' % (n, text)\ng = ', '.join(names)\n"
        "h = text.replace('b', 'B').ljust(6, '.').center(8)\ni = rows + [4]\nj = (1, 2) * 2\n"
        "k = [r * 2 for r in rows if r > 1]\nm = sum(range(10))\nn += 1\nt = [*rows, *rows]\n"
        "u = str(rows)\nv = '1'.zfill(3)\nw = pow(2, 10)\nrows.extend([9])\nx = 2.5 ** 2\n"
        "y = {'a': 1}\ny['b'] = 2\nz = list(range(5))\nz[1:3] = [7, 7, 7]\n",
        data,
    )
    assert results["a"] == "a" * 1000 and results["b"] == [0] * 1000
    assert (results["c"], results["d"]) == (2**100 * 3, 10**20 << 3)
    assert results["e"] == "    7|'abc'|1.50" and results["f"] == "00007 abc" and results["g"] == "Ann, Bo"
    assert results["h"] == " aBc... " and results["i"] == [3, 1, 2, 4] and results["j"] == (1, 2, 1, 2)
    assert results["k"] == [6, 4] and results["m"] == 45 and results["n"] == 8
    assert results["t"] == [3, 1, 2, 3, 1, 2] and results["u"] == "[3, 1, 2]" and results["v"] == "001"
    assert results["w"] == 1024 and results["rows"] == [3, 1, 2, 9] and results["x"] == 6.25
    assert results["y"] == {"a": 1, "b": 2} and results["z"] == [0, 7, 7, 7, 3, 4]


def test_loops_walk_long_and_growing_sequences_as_python_does():
    results = execute(
        "long = list(range(150))\nseen = [x for x in long]\ntext = ''.join(c for c in 'ab' * 100)\n"
        "q = list(range(100))\nfor x in q:\n    if len(q) < 300:\n        q.append(x + 1000)\n"
        "pairs = [(i, j) for i in range(70) for j in range(3) if i == 69]\n"
        "total = 0\nfor k in range(999):\n    total += k\n"
    )
    assert results["seen"] == list(range(150)) and results["text"] == "ab" * 100
    assert results["q"] == list(range(100)) + [x + 1000 for x in range(100)] + [x + 2000 for x in range(100)]
    assert results["pairs"] == [(69, 0), (69, 1), (69, 2)] and results["total"] == sum(range(999))


def test_the_size_limit_is_configurable():
    def run():
        ok = evaluate("'a' * 2000", limits={"max_bytes": 4096})
        try:
            evaluate("'a' * 5000")
        except sandbox.CodeLimitExceeded as exc:
            return len(ok), str(exc)
        return len(ok), "not refused"

    size, message = run_isolated(run).value
    assert size == 2000 and "larger than 4 KiB" in message


def test_the_limits_are_settings_checked_at_startup():
    from engine import config

    settings = config.load(
        {"REVIEWFLOW_SCRIPT_TIME_LIMIT_SECONDS": "0.5", "REVIEWFLOW_SCRIPT_MAX_BYTES": "4096"}
    )
    assert (settings.script_time_limit_seconds, settings.script_max_bytes) == (0.5, 4096)
    defaults = config.load({})
    assert (defaults.script_time_limit_seconds, defaults.script_max_bytes) == (2.0, 1024 * 1024)
    for bad in (
        {"REVIEWFLOW_SCRIPT_TIME_LIMIT_SECONDS": "0"},
        {"REVIEWFLOW_SCRIPT_TIME_LIMIT_SECONDS": "nan"},
        {"REVIEWFLOW_SCRIPT_MAX_BYTES": "10"},
    ):
        with pytest.raises(config.ConfigError, match="REVIEWFLOW_SCRIPT"):
            config.load(bad)


# --- time: loops and recursion stop at the budget --------------------------------------------------


@pytest.mark.parametrize(
    "script",
    [
        "while True:\n    pass",
        "n = 0\nwhile n >= 0:\n    n = n + 1",
        "while True:\n    try:\n        while True:\n            pass\n    except Exception:\n        pass",
        "try:\n    while True:\n        pass\nexcept Exception:\n    caught = True",
        "def f(n):\n    return 0 if n == 0 else f(n - 1) + f(n - 1)\nx = f(80)",
        "f = lambda n: 0 if n == 0 else f(n - 1) + f(n - 1)\nx = f(80)",
        "def g():\n    while True:\n        yield 1\nx = sum(g())",
        "for a in range(999):\n    for b in range(999):\n        for c in range(999):\n            x = a",
        "x = [a for a in range(999) for b in range(999) for c in range(999) if a < 0]",
    ],
)
def test_code_that_runs_too_long_stops_at_the_time_limit(script):
    outcome = run_isolated(execute, script, None, {"time_limit_seconds": 0.5}, timeout=10)
    assert_refused(outcome, "time limit of 0.5 s", within=4)
    assert outcome.seconds > 0.4


def test_the_default_time_limit_is_two_seconds():
    outcome = run_isolated(execute, "while True:\n    pass", timeout=12)
    assert_refused(outcome, "time limit of 2 s", within=6)


def test_an_expression_is_bounded_in_time_too():
    outcome = run_isolated(
        evaluate,
        "[a for a in range(999) for b in range(999) for c in range(999) if a < 0]",
        None,
        {"time_limit_seconds": 0.5},
        timeout=10,
    )
    assert_refused(outcome, "time limit of 0.5 s", within=4)


def test_deep_recursion_fails_cleanly():
    outcome = run_isolated(execute, "def f(n):\n    return f(n + 1)\nx = f(0)")
    assert outcome.raised is not None and outcome.raised.is_exception
    assert outcome.raised.type_name == "RecursionError"


def test_each_thread_has_its_own_budget():
    """One evaluation spinning in one of the server's threads neither stops nor slows the budget of
    another."""

    def run():
        sandbox.configure(time_limit_seconds=1.0)
        spin_error = []

        def spin():
            try:
                _env().execute("while True:\n    pass", {})
            except sandbox.CodeLimitExceeded as exc:
                spin_error.append(str(exc))

        spinner = threading.Thread(target=spin)
        spinner.start()
        done, start = 0, time.monotonic()
        while spinner.is_alive() and time.monotonic() - start < 5:
            assert _env().evaluate("sum(r * 2 for r in rows)", {"rows": list(range(100))}) == 9900
            done += 1
        spinner.join(5)
        after = _env().evaluate("sum(r for r in range(10))", {})
        return done, spin_error, after

    done, spin_error, after = run_isolated(run).value
    assert done > 10 and after == 45
    assert spin_error and "time limit of 1 s" in spin_error[0]


# --- deploy time: what can be known statically is reported before anything runs ---------------------


@pytest.mark.parametrize(
    "code,mode,words",
    [
        ("10**10**8", "eval", "larger than"),
        ("'a' * (5 * 10**7)", "eval", "larger than"),
        ("x + 10**10**8", "eval", "larger than"),
        ("total = sum(rows) * (1 << 10**9)", "exec", "larger than"),
        ("while True:\n    pass", "exec", "never ends"),
        ("while 1:\n    n = n + 1\n    for i in rows:\n        break", "exec", "never ends"),
    ],
)
def test_the_deploy_check_reports_what_is_known_statically(code, mode, words):
    outcome = run_isolated(sandbox.check, code, mode)
    assert outcome.raised is None and outcome.value and words in outcome.value, outcome
    assert outcome.value.startswith("line ")


@pytest.mark.parametrize(
    "code,mode",
    [
        ("10 ** n", "eval"),
        ("2 ** 64 * 3", "eval"),
        ("x * 3", "eval"),
        ("'ab' * 100", "eval"),
        ("while True:\n    if done:\n        break", "exec"),
        ("def gen():\n    while True:\n        yield 1", "exec"),
        ("while True:\n    n = next_step(n)\n    if n > 3:\n        raise ValueError('x')", "exec"),
    ],
)
def test_the_deploy_check_passes_code_that_may_be_fine(code, mode):
    assert run_isolated(sandbox.check, code, mode).value is None


# --- decisions evaluated on their own --------------------------------------------------------------


def test_a_decision_with_a_huge_output_is_a_decision_error():
    from engine.bpmn import decisions

    def run():
        xml = SIZING_DMN.format(output="10 ** (10 ** digits)").encode()
        try:
            decisions.evaluate("sizing", xml, {"digits": 8})
        except decisions.DecisionError as exc:
            return str(exc)
        return "no error"

    outcome = run_isolated(run)
    assert outcome.raised is None and "larger than" in outcome.value, outcome
    assert outcome.seconds < 5


def test_a_decision_stops_at_the_time_limit():
    from engine.bpmn import decisions

    def run():
        sandbox.configure(time_limit_seconds=0.5)
        xml = SIZING_DMN.format(
            output="[a for a in range(999) for b in range(999) for c in range(999) if a &lt; 0]"
        ).encode()
        try:
            decisions.evaluate("sizing", xml, {"digits": 1})
        except decisions.DecisionError as exc:
            return str(exc)
        return "no error"

    outcome = run_isolated(run, timeout=10)
    assert outcome.raised is None and "time limit of 0.5 s" in outcome.value, outcome
