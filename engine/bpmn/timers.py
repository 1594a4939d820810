"""Point SpiffWorkflow's timers at reviewflow's one clock.

SpiffWorkflow 3.2 reads ``datetime.now(timezone.utc)`` inside its timer module
and offers no way to inject a clock, so timers could not be tested under a fixed
time or run in a demo at a chosen date. Its module-level ``datetime`` is replaced
once by a subclass whose ``now()`` asks :mod:`engine.clock`; everything else about
it is the real ``datetime`` (``isinstance`` checks still accept real datetimes).
"""

from __future__ import annotations

import datetime as _dt

from SpiffWorkflow.bpmn.specs.event_definitions import timer as _timer_module

from engine import clock


class _AcceptsRealDatetimes(type(_dt.datetime)):
    def __instancecheck__(cls, obj):
        return isinstance(obj, _dt.datetime)


# SpiffWorkflow fires a timer when ``target < now``; the worker picks instances whose timer is
# due at ``<= now``. Reading the clock one microsecond late makes the library agree with the
# worker, so a reminder set for 09:00 fires at 09:00:00, not at the next sweep.
_INCLUSIVE = _dt.timedelta(microseconds=1)


class ClockDatetime(_dt.datetime, metaclass=_AcceptsRealDatetimes):
    @classmethod
    def now(cls, tz=None):
        current = clock.now() + _INCLUSIVE
        return current.astimezone(tz) if tz is not None else current.astimezone().replace(tzinfo=None)

    @classmethod
    def utcnow(cls):
        return clock.now().replace(tzinfo=None)


def install() -> None:
    """Idempotent: make every SpiffWorkflow timer read :func:`engine.clock.now`."""
    if _timer_module.datetime is not ClockDatetime:
        _timer_module.datetime = ClockDatetime


install()
