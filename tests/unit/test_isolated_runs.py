"""The harness that runs risky sandbox code in a forked child: its memory cap is room to grow, counted from
what the test process already holds, so a test run that has grown (browsers, servers, threads) does not
starve the child. A child pushing Python frames at a hard address-space limit fails with CPython 3.11's
``SystemError: error return without exception set``, not with the limit the test is about."""

from __future__ import annotations

import mmap

from engine.bpmn import runtime, sandbox
from tests.isolated import MEMORY_CAP_BYTES, run_isolated


def _recurse_to_the_time_limit() -> str:
    sandbox.configure(time_limit_seconds=0.3)
    try:
        sandbox.RestrictedEnvironment(runtime.FUNCTIONS).execute(
            "def f(n):\n    return 0 if n == 0 else f(n - 1) + f(n - 1)\nx = f(80)", {}
        )
    except sandbox.TimeLimitExceeded:
        return "stopped at the time limit"
    return "ran to the end"


def _deep(n: int) -> str:
    return _recurse_to_the_time_limit() if n == 0 else _deep(n - 1)


def test_a_child_of_a_large_test_process_still_has_its_room():
    reserved = mmap.mmap(
        -1, MEMORY_CAP_BYTES, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS, prot=mmap.PROT_READ
    )
    try:
        outcome = run_isolated(_deep, 400, timeout=10)
    finally:
        reserved.close()
    assert outcome.raised is None, outcome.raised
    assert outcome.value == "stopped at the time limit"
