"""Workflows kept open between commands, so that the next command on a case need not rebuild its workflow
from the saved state (rebuilding is most of what a step costs the engine).

A command that saved a case puts its workflow here once its transaction has committed; the next command on
that case takes it back only if the case's saved state is still, byte for byte, the state that workflow was
saved as. Anything that changed the case in between (another process, a migration, a hand-made repair)
changed its state, so the workflow is rebuilt from what is stored: the stored state always wins. A workflow
is taken out while a command holds it and comes back only after a commit, so two commands never share one
and a command that fails leaves nothing behind. Per process, the least recently used dropped beyond
:data:`KEPT`.

With a workflow, a command may keep what it knew of the case when it committed (:class:`Known`: the case's
row, its open task rows, the revisions it counted with): the next completion of one of those tasks can then
be decided without reading them first, and is kept only if the database still holds them
(engine/services/instances.py). What is known is given out once.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

KEPT = 64  # cases: a busy partnership's working set; a small case's workflow is tens of kilobytes


@dataclass(frozen=True)
class Known:
    """A case as a command left it: its row's values and those of its open tasks (by id), in their tables'
    column order, and the calendar's and the people's revisions the command counted with."""

    instance: tuple
    tasks: dict[str, tuple]
    calendar_revision: int
    people_revision: int


_kept: OrderedDict[tuple, tuple[bytes, object, Known | None]] = OrderedDict()
_known_tasks: dict[tuple, tuple] = {}  # (database, task id) -> the key of the case whose Known has the task
_lock = threading.Lock()


def take(key: tuple, state: bytes | None):
    """The workflow saved as ``state`` under ``key`` (database, case, process version), or None."""
    with _lock:
        entry = _kept.pop(key, None)
        if entry is not None:
            _forget(key, entry[2])
    if entry is None or state is None or entry[0] != state:
        return None
    return entry[1]


def keep(key: tuple, state: bytes, workflow, known: Known | None = None) -> None:
    """Keep ``workflow``, just saved as ``state`` and committed, for the next command on its case; and what
    the command ``known`` of the case then, if anything."""
    with _lock:
        old = _kept.pop(key, None)
        if old is not None:
            _forget(key, old[2])
        _kept[key] = (state, workflow, known)
        if known is not None:
            _known_tasks.update(((key[0], task_id), key) for task_id in known.tasks)
        while len(_kept) > KEPT:
            dropped, entry = _kept.popitem(last=False)
            _forget(dropped, entry[2])


def known_for_task(database: str, task_id: str) -> Known | None:
    """What the last command on the case of open task ``task_id`` knew of it, if this process keeps it;
    given once (its workflow stays, for :func:`take`)."""
    with _lock:
        key = _known_tasks.get((database, task_id))
        entry = _kept.get(key) if key is not None else None
        if entry is None or entry[2] is None:
            return None
        _forget(key, entry[2])
        _kept[key] = (entry[0], entry[1], None)
        return entry[2]


def _forget(key: tuple, known: Known | None) -> None:
    if known is not None:
        for task_id in known.tasks:
            if _known_tasks.get((key[0], task_id)) == key:
                del _known_tasks[(key[0], task_id)]


def clear() -> None:
    """Forget every workflow kept and everything known, as a process that has just started."""
    with _lock:
        _kept.clear()
        _known_tasks.clear()
