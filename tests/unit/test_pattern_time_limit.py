"""A form's pattern is matched under a time limit counted in the processor time its thread used: a slow
pattern is stopped, but a busy machine (the thread waiting for the processor) never refuses a valid
answer. The matcher and the thread's clock are replaced by fakes: nothing sleeps or burns time."""

from __future__ import annotations

import pytest

from engine import patterns


class FakeThreadClock:
    """``time.thread_time`` that moves only when a fake match says it used the processor."""

    def __init__(self):
        self.now = 0.0

    def thread_time(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch):
    fake = FakeThreadClock()
    monkeypatch.setattr(patterns, "time", fake)
    return fake


def matcher(monkeypatch, outcomes, clock):
    """A stand-in for ``regex.search``: each call uses the processor time given, then times out or matches."""
    calls = []

    def search(pattern, text, timeout, concurrent):
        cpu, times_out = outcomes[len(calls)]
        calls.append(timeout)
        clock.now += cpu
        if times_out:
            raise TimeoutError
        return object()

    monkeypatch.setattr(patterns.regex, "search", search)
    return calls


def test_a_match_stopped_while_the_thread_waited_is_tried_again(monkeypatch, clock):
    calls = matcher(monkeypatch, [(0.001, True), (0.002, False)], clock)
    assert patterns.search("^[A-Z]{2}$", "AB", patterns.Budget()) is True
    assert len(calls) == 2


def test_a_slow_pattern_is_stopped_at_once(monkeypatch, clock):
    calls = matcher(monkeypatch, [(patterns.MATCH_SECONDS, True)], clock)
    with pytest.raises(patterns.PatternTimeout):
        patterns.search("^(a|a)*$", "a" * 40 + "!", patterns.Budget())
    assert len(calls) == 1


def test_a_match_that_never_gets_the_processor_gives_up_after_a_few_tries(monkeypatch, clock):
    calls = matcher(monkeypatch, [(0.0, True)] * (1 + patterns.RETRIES_WHEN_WAITING), clock)
    with pytest.raises(patterns.PatternTimeout):
        patterns.search("^x$", "x", patterns.Budget())
    assert len(calls) == 1 + patterns.RETRIES_WHEN_WAITING


def test_a_validation_s_budget_counts_only_the_processor_time_used(monkeypatch, clock):
    budget = patterns.Budget(seconds=0.1)
    matcher(monkeypatch, [(0.04, False), (0.04, False), (0.0, False)], clock)
    assert patterns.search("a", "a", budget) and patterns.search("a", "a", budget)
    assert budget.left() == pytest.approx(0.02)
    clock.now += 0.05  # a third slow match would exceed it
    with pytest.raises(patterns.PatternTimeout):
        patterns.search("a", "a", budget)
