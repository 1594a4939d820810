"""Run a risky call in a forked child that is killed at a deadline.

Code such as ``10**10**8`` runs inside one C call that holds the GIL, so neither a
thread with a join timeout nor a signal-based pytest timeout can stop it. A child
process can be killed; the test then fails instead of hanging the run. The child
also gets an address-space cap (3 GiB more than it holds at the fork), so code that
would eat the machine's memory fails in the child with MemoryError rather than taking
the test run (or the machine) down, and a huge result is reported by its size rather
than sent back to the test.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import pickle
import resource
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

MEMORY_CAP_BYTES = 3 * 1024**3
MAX_RESULT_BYTES = 1024 * 1024


@dataclass
class Raised:
    """What the child raised, reduced to plain data that crosses the process boundary."""

    type_name: str
    message: str
    is_exception: bool  # an ``Exception`` (not only a ``BaseException``)
    mro: list[str]


@dataclass
class Outcome:
    value: Any = None
    raised: Raised | None = None
    seconds: float = 0.0


def _address_space() -> int:
    """Bytes of address space this process holds now (Linux; 0 where that cannot be read)."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[0]) * resource.getpagesize()
    except (OSError, ValueError, IndexError):
        return 0


def _child(conn, fn, args):
    # room to grow, counted from what the forked test process already holds: a run that has grown past the
    # cap (browsers, servers, threads) would otherwise leave the child no room even to push a frame
    cap = _address_space() + MEMORY_CAP_BYTES
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    try:
        result = fn(*args)
        try:
            data = pickle.dumps(Outcome(value=result))
        except Exception as exc:
            data = pickle.dumps(Outcome(value=f"<an unpicklable {type(result).__name__}: {exc}>"))
        if len(data) > MAX_RESULT_BYTES:  # code that should have been refused built something huge
            data = pickle.dumps(Outcome(value=f"<a {type(result).__name__} of {len(data):,} bytes pickled>"))
        conn.send_bytes(data)
    except BaseException as exc:
        conn.send_bytes(
            pickle.dumps(
                Outcome(
                    raised=Raised(
                        type(exc).__name__,
                        str(exc)[:2000],
                        isinstance(exc, Exception),
                        [c.__name__ for c in type(exc).__mro__],
                    )
                )
            )
        )
    finally:
        conn.close()


def run_isolated(fn: Callable, *args, timeout: float = 15.0) -> Outcome:
    """``fn(*args)`` in a forked child; fails the test if it has not finished after ``timeout`` seconds."""
    ctx = multiprocessing.get_context("fork")
    receiver, sender = ctx.Pipe(duplex=False)
    start = time.monotonic()
    proc = ctx.Process(target=_child, args=(sender, fn, args), daemon=True)
    proc.start()
    sender.close()
    try:
        if not receiver.poll(timeout):
            pytest.fail(f"{getattr(fn, '__name__', fn)}{args!r:.200} did not finish within {timeout} s")
        try:
            outcome = pickle.loads(receiver.recv_bytes())
        except EOFError:
            pytest.fail(
                f"{getattr(fn, '__name__', fn)}{args!r:.200} died without an answer "
                f"(exit code {proc.exitcode})"
            )
        outcome.seconds = time.monotonic() - start
        return outcome
    finally:
        if proc.is_alive():
            proc.kill()
        proc.join(5)
        receiver.close()
